"""`saferhub report progress`: writing an update to a file from the command line."""
import io

import docx
import pytest
from django.core.management import CommandError, call_command

from saferhub.publishing import services
from saferhub.publishing.tests.text import docx_text, html_text
from saferhub.strategy.models import ProgressUpdate


def run(*args) -> str:
    out = io.StringIO()
    call_command("report", "progress", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("fmt,magic", [("html", b"<!DOCTYPE html>"), ("pdf", b"%PDF-"), ("docx", b"PK")])
def test_writes_each_format_live_when_nothing_is_published(tracker, tmp_path, fmt, magic):
    target = tmp_path / f"update.{fmt}"
    message = run("--strategy", "test-strategy", "--period", "June 2023", "--format", fmt, "--output", str(target))
    assert target.read_bytes().startswith(magic)
    assert f"Wrote {target}" in message and "as it stands now" in message


@pytest.mark.django_db
def test_period_may_be_given_in_any_case_or_as_a_slug(tracker, tmp_path):
    for label in ("june 2023", "june-2023"):
        target = tmp_path / f"{label}.html"
        run("--strategy", "test-strategy", "--period", label, "--format", "html", "--output", str(target))
        assert "Board established." in html_text(target.read_text())


@pytest.mark.django_db
def test_writes_the_frozen_version_of_a_published_update(tracker, manager, tmp_path):
    draft = services.report_create_or_update(user=manager, strategy=tracker.strategy, period=tracker.june, background="")
    services.report_publish(user=manager, report=draft)
    ProgressUpdate.objects.filter(action=tracker.actions["board"]).update(actions_taken="Edited later.")
    target = tmp_path / "out.docx"
    message = run("--strategy", "test-strategy", "--period", "June 2023", "--format", "docx", "--output", str(target))
    assert "published version" in message
    text = docx_text(target.read_bytes())
    assert "Board established." in text and "Edited later." not in text
    assert docx.Document(str(target)).core_properties.title.endswith("June 2023")


@pytest.mark.django_db
def test_default_file_name_follows_the_download_name(tracker, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run("--strategy", "test-strategy", "--period", "June 2023", "--format", "html")
    assert (tmp_path / "test-strategy-progress-update-june-2023.html").exists()


@pytest.mark.django_db
def test_unknown_strategy_lists_the_slugs(tracker):
    with pytest.raises(CommandError, match=r"Unknown strategy 'nope'\. Strategies: test-strategy") as error:
        run("--strategy", "nope", "--period", "June 2023")
    assert error.value.returncode == 1


@pytest.mark.django_db
def test_unknown_period_lists_that_strategys_labels(tracker):
    with pytest.raises(CommandError, match=r"Unknown period 'May 2021' for test-strategy\. "
                                           r"Periods: June 2023, December 2022") as error:
        run("--strategy", "test-strategy", "--period", "May 2021")
    assert error.value.returncode == 1


@pytest.mark.django_db
def test_console_exit_code_is_1_on_error(tracker, capsys, monkeypatch):
    from django.db import connections

    from saferhub.publishing.management.commands.report import Command

    # run_from_argv closes the database connections when it ends; the test's transaction needs its own.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["saferhub", "report", "progress", "--strategy", "nope", "--period", "x"])
    assert exit_info.value.code == 1
    assert "Unknown strategy 'nope'" in capsys.readouterr().err
