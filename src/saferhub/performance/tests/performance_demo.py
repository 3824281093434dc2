"""The demonstration data with its performance framework and the returns of seed 002 (Q3 2023/24
and the quarters it compares with), for tests that check the published numbers end to end."""
import io

import pytest
from django.core.management import call_command

from saferhub.commissioning.models import Service


def performance_demo_load() -> None:
    """`demo load`, then the performance framework and returns if the demo did not load them."""
    try:
        call_command("demo", "load", stdout=io.StringIO())
    except Exception as exc:  # noqa: BLE001 - without the demo these tests have nothing to check
        pytest.skip(f"The demo data cannot be loaded: {exc}")
    if not Service.objects.filter(slug="idas-community-based-support").exists():
        from saferhub.performance.importer import framework_load, returns_load

        framework_load()
        returns_load()
