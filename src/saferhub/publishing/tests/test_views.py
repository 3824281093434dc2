"""Progress Update pages: who sees and does what, downloads, and the public page."""
import re

import pytest

from saferhub.partners.models import Role
from saferhub.publishing import services
from saferhub.publishing.tests.text import html_text
from saferhub.strategy.models import ProgressReport, ProgressUpdate

PASSWORD = "correct-horse-battery"


@pytest.fixture
def draft(tracker, manager):
    return services.report_create_or_update(user=manager, strategy=tracker.strategy, period=tracker.june, background="")


@pytest.fixture
def published(tracker, manager, draft):
    return services.report_publish(user=manager, report=draft)


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def page_text(response) -> str:
    return html_text(response.content.decode())


@pytest.mark.django_db
def test_pages_need_sign_in_but_the_public_page_does_not(client, published):
    assert client.get("/reports/").status_code == 302
    assert client.get(f"/reports/{published.pk}/").status_code == 302
    assert client.get(f"/reports/{published.pk}/download.pdf").status_code == 302
    response = client.get("/reports/published/test-strategy/june-2023/")
    assert response.status_code == 200
    assert "Objective 1: Listen to everyone" in page_text(response)


@pytest.mark.django_db
def test_drafts_have_no_public_page(client, draft):
    assert client.get("/reports/published/test-strategy/june-2023/").status_code == 404
    assert client.get("/reports/published/test-strategy/june-2023/download.pdf").status_code == 404


@pytest.mark.django_db
def test_list_shows_each_strategys_updates_with_status(client, viewer, draft, tracker, manager):
    services.report_create_or_update(user=manager, strategy=tracker.strategy, period=tracker.december, background="")
    services.report_publish(user=manager, report=ProgressReport.objects.get(period=tracker.december))
    text = page_text(signed_in(client, viewer).get("/reports/"))
    assert "Test Partnership Strategy" in text
    assert "Test Partnership Strategy – Progress Update – June 2023 June 2023 Draft Not yet" in text
    assert re.search(r"Progress Update – December 2022 December 2022 Published \d+ \w+ \d{4}", text)
    assert "Create a Progress Update" not in text  # viewers cannot


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR])
def test_viewers_and_contributors_read_and_download_drafts(client, make_user, draft, role):
    client = signed_in(client, make_user(role))
    response = client.get(f"/reports/{draft.pk}/")
    assert response.status_code == 200
    text = page_text(response)
    assert "Draft" in text and "Research was completed, including:" in text
    assert "Publish this update" not in text
    for fmt, kind in [("pdf", "application/pdf"), ("docx", "wordprocessingml"), ("html", "text/html")]:
        download = client.get(f"/reports/{draft.pk}/download.{fmt}")
        assert download.status_code == 200 and kind in download["Content-Type"]
        assert download["Content-Disposition"] == (
            f'attachment; filename="test-strategy-progress-update-june-2023.{fmt}"'
        )
    assert client.get(f"/reports/{draft.pk}/download.txt").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR])
def test_only_managers_create_edit_and_publish(client, make_user, draft, tracker, role):
    client = signed_in(client, make_user(role))
    assert client.get("/reports/new/").status_code == 403
    assert client.post("/reports/new/", {"strategy": tracker.strategy.pk, "period": tracker.december.pk}).status_code == 403
    assert client.get(f"/reports/{draft.pk}/edit/").status_code == 403
    assert client.get(f"/reports/{draft.pk}/publish/").status_code == 403
    assert client.post(f"/reports/{draft.pk}/publish/").status_code == 403
    draft.refresh_from_db()
    assert not draft.is_published
    assert not ProgressReport.objects.filter(period=tracker.december).exists()


@pytest.mark.django_db
def test_create_form_prefills_the_strategys_background(client, manager, tracker):
    client = signed_in(client, manager)
    response = client.get("/reports/new/?strategy=test-strategy")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The strategy was launched in June 2022." in html
    assert re.search(rf'<option value="{tracker.strategy.pk}"\s+selected>', html)
    # The newest period with progress and no update yet is offered first.
    assert re.search(rf'<option value="{tracker.june.pk}"\s+selected>', html)
    services.report_create_or_update(user=manager, strategy=tracker.strategy, period=tracker.june, background="")
    html = client.get("/reports/new/?strategy=test-strategy").content.decode()
    assert re.search(rf'<option value="{tracker.december.pk}"\s+selected>', html)


@pytest.mark.django_db
def test_create_form_explains_what_is_missing(client, manager):
    response = signed_in(client, manager).post("/reports/new/", {"background": "x"})
    text = page_text(response)
    assert response.status_code == 200
    assert "There is a problem" in text and "Select a strategy" in text and "Select a reporting period" in text


@pytest.mark.django_db
def test_manager_creates_previews_and_publishes(client, manager, tracker):
    client = signed_in(client, manager)
    response = client.post("/reports/new/", {
        "strategy": tracker.strategy.pk, "period": tracker.june.pk, "background": "Opening words.",
    })
    report = ProgressReport.objects.get(strategy=tracker.strategy, period=tracker.june)
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    preview = page_text(client.get(f"/reports/{report.pk}/"))
    assert "Opening words." in preview and "Publish this update" in preview
    assert "1 open action has no progress recorded for June 2023" in preview

    confirm = page_text(client.get(f"/reports/{report.pk}/publish/"))
    assert "Once published, the update is frozen" in confirm
    assert "/reports/published/test-strategy/june-2023/" in confirm

    response = client.post(f"/reports/{report.pk}/publish/")
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.is_published
    page = page_text(client.get(f"/reports/{report.pk}/"))
    assert "Published: Test Partnership Strategy – Progress Update – June 2023" in page
    assert "Publish this update" not in page and "Edit the background" not in page


@pytest.mark.django_db
def test_manager_edits_a_drafts_background(client, manager, draft):
    client = signed_in(client, manager)
    form = client.get(f"/reports/{draft.pk}/edit/")
    assert "The strategy was launched in June 2022." in form.content.decode()
    response = client.post(f"/reports/{draft.pk}/edit/", {"background": "A new opening."})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.background == "A new opening."


@pytest.mark.django_db
def test_published_pages_show_the_frozen_update(client, manager, viewer, published, tracker):
    ProgressUpdate.objects.filter(action=tracker.actions["board"], period=tracker.june).update(
        actions_taken="Changed after publishing."
    )
    staff = page_text(signed_in(client, viewer).get(f"/reports/{published.pk}/"))
    assert "Board established." in staff and "Changed after publishing." not in staff
    client.logout()
    public = page_text(client.get("/reports/published/test-strategy/june-2023/"))
    assert "Board established." in public and "Changed after publishing." not in public
    # A second publish or an edit is refused with a reason.
    client = signed_in(client, manager)
    response = client.post(f"/reports/{published.pk}/publish/", follow=True)
    assert "cannot be published again" in page_text(response)
    response = client.get(f"/reports/{published.pk}/edit/", follow=True)
    assert "published and frozen" in page_text(response)


@pytest.mark.django_db
def test_public_downloads_are_the_frozen_files(client, published):
    for fmt in ("pdf", "docx", "html"):
        response = client.get(f"/reports/published/test-strategy/june-2023/download.{fmt}")
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'attachment; filename="test-strategy-progress-update-june-2023.{fmt}"'
        frozen = {"pdf": published.frozen_pdf, "docx": published.frozen_docx,
                  "html": published.frozen_html.encode()}[fmt]
        assert response.content == bytes(frozen)


@pytest.mark.django_db
def test_pages_are_accessible_in_structure(client, viewer, draft):
    html = signed_in(client, viewer).get(f"/reports/{draft.pk}/").content.decode()
    main = html[html.index('<main'):html.index("</main>")]
    levels = [int(n) for n in re.findall(r"<h([1-6])", main)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "ids are unique"
    assert 'lang="en-GB"' in html
    assert " style=" not in html, "CSP allows no inline styles"
