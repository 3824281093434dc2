"""Drafting and publishing Progress Updates: who may, what is recorded, and that publishing freezes."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import history_for
from saferhub.partners.models import Role
from saferhub.publishing import selectors, services
from saferhub.publishing.tests.text import docx_text, html_text
from saferhub.strategy.models import ProgressUpdate, ReportStatus


@pytest.fixture
def draft(tracker, manager):
    return services.report_create_or_update(
        user=manager, strategy=tracker.strategy, period=tracker.june, background="Our June opening."
    )


@pytest.mark.django_db
def test_manager_creates_then_revises_one_draft_per_period(tracker, manager, draft):
    assert draft.status == ReportStatus.DRAFT
    assert draft.title == "Test Partnership Strategy – Progress Update – June 2023"
    again = services.report_create_or_update(
        user=manager, strategy=tracker.strategy, period=tracker.june, background="  Revised opening.\r\n"
    )
    assert again.pk == draft.pk and again.background == "Revised opening."
    history = list(history_for(draft))
    assert [r.action for r in history] == [ChangeAction.UPDATE, ChangeAction.CREATE]
    assert history[0].before["background"] == "Our June opening."
    assert history[0].after["background"] == "Revised opening."
    assert history[0].actor == manager


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR])
def test_only_managers_draft_and_publish(tracker, make_user, draft, role):
    user = make_user(role)
    with pytest.raises(PermissionDenied):
        services.report_create_or_update(user=user, strategy=tracker.strategy, period=tracker.june, background="")
    with pytest.raises(PermissionDenied):
        services.report_publish(user=user, report=draft)
    draft.refresh_from_db()
    assert draft.status == ReportStatus.DRAFT


@pytest.mark.django_db
def test_publishing_stores_all_three_files_and_records_who(tracker, manager, draft):
    report = services.report_publish(user=manager, report=draft)
    assert report.is_published and report.published_by == manager and report.published_at
    assert "Our June opening." in report.frozen_html
    assert bytes(report.frozen_pdf).startswith(b"%PDF-")
    assert bytes(report.frozen_docx).startswith(b"PK")
    record = history_for(report).first()
    assert record.action == ChangeAction.PUBLISH
    assert record.before["status"] == "draft" and record.after["status"] == "published"


@pytest.mark.django_db
def test_a_published_update_is_frozen(tracker, manager, draft):
    report = services.report_publish(user=manager, report=draft)
    # Later tracker edits...
    update = ProgressUpdate.objects.get(action=tracker.actions["board"], period=tracker.june)
    update.actions_taken = "Rewritten after publication."
    update.save()
    tracker.strategy.background = "New strategy background."
    tracker.strategy.save()
    # ...change neither the files served nor the text shown.
    report.refresh_from_db()
    for fmt in ("html", "docx"):
        data = selectors.report_file(report, fmt)
        text = html_text(data.decode()) if fmt == "html" else docx_text(data)
        assert "Board established." in text and "Rewritten after publication." not in text
    assert selectors.report_file(report, "pdf") == bytes(report.frozen_pdf)


@pytest.mark.django_db
def test_a_published_update_cannot_be_edited_or_republished(tracker, manager, draft):
    report = services.report_publish(user=manager, report=draft)
    with pytest.raises(ValidationError, match="was published on .* and is frozen: it cannot be changed"):
        services.report_create_or_update(user=manager, strategy=tracker.strategy, period=tracker.june, background="x")
    with pytest.raises(ValidationError, match="cannot be published again"):
        services.report_publish(user=manager, report=report)
    # A stale copy still saying "draft" is caught under the lock.
    stale = selectors.report_get(report.pk)
    stale.status = ReportStatus.DRAFT
    with pytest.raises(ValidationError, match="cannot be published again"):
        services.report_publish(user=manager, report=stale)
    assert history_for(report).filter(action=ChangeAction.PUBLISH).count() == 1


@pytest.mark.django_db
def test_drafts_render_live(tracker, draft):
    before = html_text(selectors.report_file(draft, "html").decode())
    assert "Board established." in before
    update = ProgressUpdate.objects.get(action=tracker.actions["board"], period=tracker.june)
    update.actions_taken = "Board established and met."
    update.save()
    after = html_text(selectors.report_file(draft, "html").decode())
    assert "Board established and met." in after


@pytest.mark.django_db
def test_missing_updates_lists_open_actions_without_progress(tracker):
    missing = selectors.actions_without_update(strategy=tracker.strategy, period=tracker.june)
    assert [a.title for a in missing] == ["Idle"]
    assert [o.short_name for o in missing[0].lead_organisations.all()] == ["NYP"]
