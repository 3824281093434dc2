"""MATAC scoring pages: what an analyst can do end to end, and 404/403 for everyone else."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from saferhub.accounts.testing import otp_login
from saferhub.audit.models import AuditEvent
from saferhub.matac import scoring_services as services
from saferhub.matac.models import IncidentExtract, ScoringRun, ScoringScheme
from saferhub.matac.tests.scoring_fixtures import REF, matac_store, row, write_csv  # noqa: F401
from saferhub.partners.models import PersonalDataScope, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(make_user):
    return make_user(Role.CONTRIBUTOR, username="analyst", personal_data_scope=PersonalDataScope.PARTIES)


@pytest.fixture
def rows():
    return [row("I1", 100, perp="NOM-A", victim="VIC-1", category="abh"),
            row("I2", 50, perp="NOM-A", victim="VIC-2", category="gbh"),
            row("I3", 40, perp="NOM-B", victim="VIC-3", category="harassment"),
            row("I4", 30, perp="NOM-B", victim="VIC-4", category="stalking"),
            row("I5", 30, perp="NOM-B", victim="VIC-4", category="arson")]


@pytest.fixture
def loaded(analyst, rows, tmp_path, matac_store):
    services.extract_import(user=analyst, path=write_csv(tmp_path / "x.csv", rows))
    return services.scoring_run_create(user=analyst, reference_date=REF, top=20)


def date_fields(name, date):
    return {f"{name}-day": str(date.day), f"{name}-month": str(date.month), f"{name}-year": str(date.year)}


def test_upload_an_extract_and_download_its_rejects(client, analyst, rows, tmp_path, matac_store):
    otp_login(client, analyst)
    assert client.get(reverse("matac:extract_import")).status_code == 200
    content = write_csv(tmp_path / "upload.csv", rows).read_bytes()
    response = client.post(reverse("matac:extract_import"),
                           {"extract": SimpleUploadedFile("nyp.csv", content, content_type="text/csv")})
    extract = IncidentExtract.objects.get()
    assert response.status_code == 302 and response["Location"] == extract.get_absolute_url()
    assert (extract.rows_read, extract.rows_accepted, extract.rows_rejected) == (5, 4, 1)
    page = client.get(extract.get_absolute_url()).content.decode()
    assert "nyp.csv" in page and "Download the rejects file" in page
    rejects = client.get(reverse("matac:extract_rejects", args=[extract.pk]))
    body = b"".join(rejects.streaming_content).decode()
    assert rejects.status_code == 200 and "5,I5,offence_category is not a known category" in body


def test_upload_errors_are_shown_on_the_form(client, analyst, tmp_path, matac_store):
    otp_login(client, analyst)
    response = client.post(reverse("matac:extract_import"), {})
    assert response.status_code == 200 and "Select a police extract file" in response.content.decode()
    bad = SimpleUploadedFile("nyp.csv", b"incident_id,incident_date\nI1,2025-01-01\n", content_type="text/csv")
    page = client.post(reverse("matac:extract_import"), {"extract": bad}).content.decode()
    assert "required column(s) missing: perpetrator_id" in page and "Error: Import a police extract" in page
    assert not IncidentExtract.objects.exists()


def test_run_scoring_and_read_the_ranked_list(client, analyst, rows, tmp_path, matac_store):
    services.extract_import(user=analyst, path=write_csv(tmp_path / "x.csv", rows))
    otp_login(client, analyst)
    assert client.get(reverse("matac:run_create")).status_code == 200
    scheme = ScoringScheme.objects.get(is_default=True)
    response = client.post(reverse("matac:run_create"), {**date_fields("reference_date", REF), "top": "20",
                                                         "scheme": str(scheme.pk), "engine": "duckdb"})
    run = ScoringRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    page = client.get(run.get_absolute_url()).content.decode()
    assert page.index("NOM-A") < page.index("NOM-B")
    assert AuditEvent.objects.filter(record_type="matac_run", action="list").count() == 1
    csv_text = client.get(reverse("matac:run_download", args=[run.pk])).content.decode()
    assert csv_text.splitlines()[0].startswith("rank,perpetrator_id,R,F,G,V,score")
    assert csv_text.splitlines()[1].startswith("1,NOM-A,")


def test_run_form_errors(client, analyst, matac_store):
    otp_login(client, analyst)
    page = client.post(reverse("matac:run_create"), {"top": "0", "engine": "excel"}).content.decode()
    assert "Enter the reference date" in page and "How many to list must be 1 or more" in page
    assert "Select DuckDB or Spark" in page and not ScoringRun.objects.exists()


def test_a_ranked_persons_score_explained(client, analyst, loaded):
    otp_login(client, analyst)
    page = client.get(reverse("matac:run_person", args=[loaded.pk, 1])).content.decode()
    assert "NOM-A" in page and "Score <strong>14</strong>" in page and "gravity sum &gt; 15 → 3" in page
    assert "Grievous bodily harm" in page
    assert client.get(reverse("matac:run_person", args=[loaded.pk, 9])).status_code == 404


def test_find_a_persons_score_by_post(client, analyst, loaded):
    otp_login(client, analyst)
    assert client.get(reverse("matac:person_score")).status_code == 200
    scheme = ScoringScheme.objects.get(is_default=True)
    page = client.post(reverse("matac:person_score"), {"perpetrator_id": "NOM-B", "scheme": str(scheme.pk),
                                                      **date_fields("reference_date", REF)}).content.decode()
    assert "Score <strong>" in page and "rank 2" in page
    page = client.post(reverse("matac:person_score"), {"perpetrator_id": "NOM-Z", "scheme": str(scheme.pk),
                                                      **date_fields("reference_date", REF)}).content.decode()
    assert "No incident in the window for this id" in page


def test_schemes_pages_and_a_new_version(client, make_user, analyst, loaded):
    admin = make_user(Role.ADMINISTRATOR, username="matac_admin", personal_data_scope=PersonalDataScope.PARTIES)
    scheme = ScoringScheme.objects.get(is_default=True)
    otp_login(client, analyst)
    assert "default v1" in client.get(reverse("matac:scheme_list")).content.decode()
    detail = client.get(scheme.get_absolute_url()).content.decode()
    assert "Make a new version" not in detail and "Non-fatal strangulation" in detail
    assert client.get(reverse("matac:scheme_version_new", args=[scheme.pk])).status_code == 403
    client.logout()
    otp_login(client, admin)
    assert client.get(reverse("matac:scheme_version_new", args=[scheme.pk])).status_code == 200
    bad = client.post(reverse("matac:scheme_version_new", args=[scheme.pk]), {"parameters": "{", "note": "x"})
    assert "not valid JSON" in bad.content.decode()
    bad = client.post(reverse("matac:scheme_version_new", args=[scheme.pk]),
                      {"parameters": '{"victims_cap": 0}', "note": "x"})
    assert "victims_cap must be at least 1" in bad.content.decode()
    response = client.post(reverse("matac:scheme_version_new", args=[scheme.pk]),
                           {"parameters": '{"victims_cap": 3}', "note": "Cap at 3", "make_default": "on"})
    new = ScoringScheme.objects.get(version=2)
    assert response.status_code == 302 and new.is_default and new.scheme.victims_cap == 3
    assert "Cap at 3" in client.get(scheme.get_absolute_url()).content.decode()


def test_home_lists_runs_and_extracts(client, analyst, loaded):
    otp_login(client, analyst)
    page = client.get(reverse("matac:home")).content.decode()
    assert "MATAC run" in page and "x.csv" in page and "Import a police extract" in page


@pytest.mark.parametrize("who", ["no_scope", "provider"])
def test_everyone_outside_matac_gets_404(client, make_user, other_organisation, loaded, who):
    if who == "no_scope":
        user = make_user(Role.ADMINISTRATOR, username="no_scope")
    else:
        user = make_user(Role.CONTRIBUTOR, org=other_organisation, username="provider",
                         personal_data_scope=PersonalDataScope.ALL)
    otp_login(client, user)
    scheme = ScoringScheme.objects.get(is_default=True)
    extract = IncidentExtract.objects.get()
    for url in [reverse("matac:home"), reverse("matac:extract_import"), extract.get_absolute_url(),
                reverse("matac:extract_rejects", args=[extract.pk]), reverse("matac:run_create"),
                loaded.get_absolute_url(), reverse("matac:run_download", args=[loaded.pk]),
                reverse("matac:run_person", args=[loaded.pk, 1]), reverse("matac:person_score"),
                reverse("matac:scheme_list"), scheme.get_absolute_url(),
                reverse("matac:scheme_version_new", args=[scheme.pk])]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"NOM-A" not in response.content


def test_a_viewer_may_read_but_not_import_or_score(client, make_user, loaded):
    viewer = make_user(Role.VIEWER, username="police_viewer", personal_data_scope=PersonalDataScope.PARTIES)
    otp_login(client, viewer)
    assert client.get(loaded.get_absolute_url()).status_code == 200
    assert client.get(reverse("matac:extract_import")).status_code == 403
    assert client.post(reverse("matac:run_create"), {}).status_code == 403
    assert "Import a police extract" not in client.get(reverse("matac:home")).content.decode()


def test_the_nav_shows_matac_only_to_those_who_may_see_it(client, make_user, analyst):
    otp_login(client, analyst)
    assert 'href="/matac/"' in client.get(reverse("matac:person_score")).content.decode()
    client.logout()
    otp_login(client, make_user(Role.ADMINISTRATOR, username="no_scope"))
    assert 'href="/matac/"' not in client.get(reverse("home")).content.decode()


def test_check_a_run_can_be_reproduced(client, analyst, loaded, rows, tmp_path):
    otp_login(client, analyst)
    url = reverse("matac:run_reproduce", args=[loaded.pk])
    assert client.get(url).status_code == 405
    page = client.post(url, follow=True).content.decode()
    assert "Reproduced: the store is unchanged and scoring it again gives the same list" in page
    services.extract_import(user=analyst, path=write_csv(tmp_path / "more.csv", [row("I9", 1, perp="NOM-B", victim="VIC-9")]))
    page = client.post(url, follow=True).content.decode()
    assert "Not reproduced: the incident store has changed since this run" in page
