"""Deployment checks (`saferhub check --deploy`): production must have its keys configured."""
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def field_keys_configured(app_configs, **kwargs):
    if not getattr(settings, "SAFERHUB_REQUIRE_CONFIGURED_KEYS", False):
        return []
    from saferhub.core.encryption import blind_index_key, field_keys

    try:
        field_keys()
        blind_index_key()
    except (ImproperlyConfigured, OSError) as problem:
        return [Error(str(problem), id="saferhub.E001",
                      hint="`saferhub keys generate` prints a new key")]
    return []

