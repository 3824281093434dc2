"""MARAC data: the quarterly dataset of an area on hand-built data (each share and the rate per
10,000), its exports, who may see it, and publishing it to the performance framework."""
import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from saferhub.audit.models import AuditEvent
from saferhub.core import encryption
from saferhub.core.factories import OrganisationFactory
from saferhub.marac import dataset as marac_dataset
from saferhub.marac.models import MeetingStatus
from saferhub.marac.tests import builders
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.performance.periods import FinancialQuarter

pytestmark = pytest.mark.django_db

Q1 = FinancialQuarter(2025, 1)  # April to June 2025
ON = dt.date(2025, 4, 20)
ADULT = dt.date(1985, 6, 15)


@pytest.fixture
def staff(make_user, organisation, other_organisation):
    return {
        "referrer": make_user(Role.CONTRIBUTOR, org=organisation, username="referrer", personal_data_scope=PersonalDataScope.PARTIES),
        "coordinator": make_user(Role.CONTRIBUTOR, org=other_organisation, username="coordinator",
                                 personal_data_scope=PersonalDataScope.PARTIES),
        "manager": make_user(Role.STRATEGY_MANAGER, org=organisation, username="perf_manager"),
        "stranger": make_user(Role.CONTRIBUTOR, org=OrganisationFactory(type="probation"), username="stranger",
                              personal_data_scope=PersonalDataScope.PARTIES),
    }


def _victim(user, n, **values):
    values = {"date_of_birth": ADULT, "gender": "female", "ethnicity": "white_british", "sexuality": "heterosexual",
              "disability": "no"} | values
    return builders.person(user, f"Victim{n}", f"Synthetic{n}", values.pop("date_of_birth"), **values)


def _perp(user, n):
    return builders.person(user, f"Perp{n}", f"Synthetic{n}", dt.date(1980, 1, n))


@pytest.fixture
def world(staff, organisation, other_organisation):
    """Five cases heard in Q1 2025/26 in North Yorkshire, and others that must not count."""
    referrer = staff["referrer"]
    council = OrganisationFactory(type="local_authority", name="A council", slug="a-council")
    area = builders.area(organisation=other_organisation, coordinators=[staff["coordinator"]], adult_female_population=20000)
    york = builders.area(organisation=council, slug="york", name="York", adult_female_population=90000)

    def refer(n, on=ON, marac_area=area, org=None, children=(), **victim):
        return builders.referral(user=referrer, marac_area=marac_area, victim=_victim(referrer, n, **victim),
                                 perpetrators=[_perp(referrer, n)], referred_on=on, referring_organisation=org,
                                 children=children)

    kids = [(builders.person(referrer, "Child", f"Synthetic{i}", dt.date(2015, 1, 1 + i)), 10) for i in range(2)]
    heard = [
        refer(1),
        refer(2, org=other_organisation, children=kids, gender="male", ethnicity="asian_indian", sexuality="gay_lesbian",
              disability="yes_a_lot"),
        refer(3, org=council, ethnicity="black_african", sexuality="bisexual", date_of_birth=dt.date(2007, 9, 1)),
        refer(4, gender="prefer_not", ethnicity="prefer_not", sexuality="prefer_not", disability="prefer_not",
              date_of_birth=dt.date(2009, 4, 1)),
    ]
    heard[1].is_repeat = True
    heard[1].save(update_fields=["is_repeat"])
    builders.meeting(marac_area=area, on=dt.date(2025, 5, 1), referrals=heard)
    last_evening = refer(5, ethnicity="white_other")
    late = builders.meeting(marac_area=area, on=dt.date(2025, 6, 30), referrals=[last_evening])
    late.starts_at = late.starts_at.replace(hour=23, minute=30)
    late.save()
    # Not counted: a meeting planned but not held, one held in the next quarter, one the quarter
    # before, and another area's meeting.
    builders.meeting(marac_area=area, on=dt.date(2025, 6, 5), status=MeetingStatus.PLANNED, referrals=[refer(6)])
    builders.meeting(marac_area=area, on=dt.date(2025, 7, 1), referrals=[refer(7, on=dt.date(2025, 6, 25))])
    builders.meeting(marac_area=area, on=dt.date(2025, 3, 27), referrals=[refer(8, on=dt.date(2025, 3, 1))])
    builders.meeting(marac_area=york, on=dt.date(2025, 5, 1), referrals=[refer(9, marac_area=york)])
    refer(10)  # referred in the quarter but not yet heard
    return {"area": area, "york": york, "heard": heard + [last_evening], **staff}


def test_the_quarters_figures(world):
    data = marac_dataset.dataset_compute(area=world["area"], quarter=Q1)
    assert data.cases == 5 and data.repeats == 1 and data.non_police == 2
    assert (data.minoritised, data.lgbt, data.disabled, data.male, data.aged_16_17, data.children) == (2, 2, 1, 1, 2, 2)
    assert data.not_recorded["ethnicity"] == 1 and data.not_recorded["date_of_birth"] == 0
    measures = {m.key: m for m in data.measures()}
    assert measures["cases"].value == 5
    assert measures["cases_per_10k_quarter"].value == pytest.approx(2.5)
    assert measures["cases_per_10k"].value == pytest.approx(10.0) and measures["cases_per_10k"].national == 47
    assert measures["repeat_rate"].value == pytest.approx(20.0) and measures["repeat_rate"].national == 31
    assert measures["non_police"].value == pytest.approx(40.0) and measures["non_police"].national == 36.1
    assert measures["minoritised"].value == pytest.approx(40.0) and measures["minoritised"].national == 14.1
    assert measures["lgbt"].value == pytest.approx(40.0) and measures["lgbt"].national == 1.6
    assert measures["disabled"].value == pytest.approx(20.0) and measures["disabled"].national == 10.1
    assert measures["male"].value == pytest.approx(20.0) and measures["male"].national == 6.4
    assert measures["aged_16_17"].value == pytest.approx(40.0) and measures["aged_16_17"].national == 1.3
    assert measures["children"].value == 2
    assert measures["repeat_rate"].value_text == "20.0%" and measures["cases_per_10k"].value_text == "10.0"


def test_population_not_set_is_said_not_divided_by(world):
    world["area"].adult_female_population = 0
    world["area"].save()
    measures = {m.key: m for m in marac_dataset.dataset_compute(area=world["area"], quarter=Q1).measures()}
    assert measures["cases_per_10k"].value is None and measures["cases_per_10k"].value_text == "Population not set"


def test_a_quarter_without_cases_has_no_shares(world):
    data = marac_dataset.dataset_compute(area=world["area"], quarter=FinancialQuarter(2024, 1))
    assert data.cases == 0 and {m.key: m for m in data.measures()}["repeat_rate"].value_text == "No cases"


def test_only_that_quarters_victims_monitoring_fields_are_decrypted_in_a_fixed_number_of_queries(world, monkeypatch):
    from saferhub.people.models import Person

    fields = len(marac_dataset.MONITORING_FIELDS)
    assert fields < len(encryption.encrypted_fields(Person))
    calls = []
    real = encryption.decrypt
    monkeypatch.setattr(encryption, "decrypt", lambda value: calls.append(1) or real(value))
    with CaptureQueriesContext(connection) as queries:
        data = marac_dataset.dataset_compute(area=world["area"], quarter=Q1)
    assert data.cases == 5 and len(calls) <= 5 * fields
    assert len(queries) <= 4
    # The referrals are read by the meeting's area, status and start: the quarter's range only.
    assert "starts_at" in queries[0]["sql"] and "status" in queries[0]["sql"]


def test_the_national_figures_are_data_with_their_source(tmp_path):
    national = marac_dataset.national()
    assert national.period == "12 months to 30 Sep 2024" and national.cases == 119985 and national.maracs == 276
    broken = tmp_path / "national.yaml"
    broken.write_text("source: x\nperiod: y\nmaracs: 1\ncases: 1\nchildren: 1\nrecommended_cases_per_10k: 40\n"
                      "figures:\n  cases_per_10k: forty\n")
    with pytest.raises(ImproperlyConfigured, match="national.yaml: figures.cases_per_10k must be a number"):
        marac_dataset.national_load(broken)


# Who sees it ------------------------------------------------------------------------------------

def test_coordinators_see_their_area_managers_every_area_others_none(world):
    assert [a.pk for a in marac_dataset.areas_for(world["coordinator"])] == [world["area"].pk]
    assert {a.pk for a in marac_dataset.areas_for(world["manager"])} == {world["area"].pk, world["york"].pk}
    assert marac_dataset.areas_for(world["stranger"]) == [] and marac_dataset.areas_for(world["referrer"]) == []
    with pytest.raises(Http404):
        marac_dataset.marac_dataset(user=world["coordinator"], area=world["york"], quarter=Q1)
    data = marac_dataset.marac_dataset(user=world["coordinator"], area=world["area"], quarter=Q1)
    event = AuditEvent.objects.filter(record_type="marac_dataset").latest("sequence")
    assert data.cases == 5 and event.detail == {"quarter": "2025/26-Q1", "cases": 5}


# Exports ----------------------------------------------------------------------------------------

def test_csv_export(world):
    content, content_type, name = marac_dataset.marac_dataset_export(user=world["manager"], area=world["area"], quarter=Q1,
                                                                     file_format="csv")
    assert content_type.startswith("text/csv") and name == "marac-data-north-yorkshire-2025-26-q1.csv"
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert ["National figures", "SafeLives national MARAC data, 12 months to 30 Sep 2024"] in rows
    table = {row[0]: row for row in rows if len(row) == 5}
    assert table["Repeat rate"] == ["Repeat rate", "1", "20.0", "31.0", ""]
    assert table["Cases per 10,000 adult women, annualised (quarter × 4)"][2:4] == ["10.0", "47.0"]
    assert table["Victims aged 16–17"][1:4] == ["2", "40.0", "1.3"]
    assert "Victim1" not in content.decode("utf-8-sig")
    assert AuditEvent.objects.filter(record_type="marac_dataset", action="export").exists()


def test_xlsx_export(world):
    content, content_type, name = marac_dataset.marac_dataset_export(user=world["manager"], area=world["area"], quarter=Q1,
                                                                     file_format="xlsx")
    assert name.endswith(".xlsx") and "spreadsheetml" in content_type
    sheet = load_workbook(io.BytesIO(content)).active
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["Cases discussed (including repeats)"][1:3] == (5, 5)
    assert rows["Male victims"][1:4] == (1, 20.0, 6.4)
    assert rows["Adult (16+) female population"][1] == 20000


def test_an_unknown_format_is_not_found(world):
    with pytest.raises(Http404):
        marac_dataset.marac_dataset_export(user=world["manager"], area=world["area"], quarter=Q1, file_format="pdf")


# Publishing to the performance framework ---------------------------------------------------------

def test_publishing_writes_an_approved_return_the_dashboards_chart(world):
    from saferhub.performance import dashboards
    from saferhub.performance.models import DataReturn, ReturnStatus

    data_return = marac_dataset.marac_dataset_publish(user=world["manager"], area=world["area"], quarter=Q1)
    assert data_return.status == ReturnStatus.APPROVED and data_return.quarter_start == dt.date(2025, 4, 1)
    values = {v.data_element.slug: v.value for v in data_return.values.select_related("data_element")}
    assert values == {"marac-cases": 5, "marac-repeat-cases": 1, "marac-non-police-referrals": 2, "marac-minoritised-victims": 2,
                      "marac-lgbt-victims": 2, "marac-disabled-victims": 1, "marac-male-victims": 1, "marac-victims-16-17": 2,
                      "marac-children": 2, "marac-adult-female-population": 20000}
    page = dashboards.service_dashboard(slug="marac-north-yorkshire", quarter=Q1)
    assert page.service.provider == world["area"].coordinating_organisation
    assert page.data_return == data_return
    indicators = {row[0]: row[1] for row in page.indicators.rows}
    assert indicators["MARAC repeat rate"] is not None and "20" in str(indicators["MARAC repeat rate"])
    assert "2.5" in str(indicators["MARAC cases per 10,000 adult women (quarter)"])
    from saferhub.performance.analysis import Figures, computed_value
    from saferhub.performance.models import ComputedIndicator

    figures = Figures.load(services=[page.service], starts=[Q1.start])
    share = computed_value(ComputedIndicator.objects.get(slug="marac-non-police-share"), quarter=Q1, figures=figures)
    assert share == pytest.approx(40.0)
    with pytest.raises(ValidationError, match="already published and approved"):
        marac_dataset.marac_dataset_publish(user=world["manager"], area=world["area"], quarter=Q1)
    assert DataReturn.objects.filter(service__slug="marac-north-yorkshire").count() == 1


def test_publishing_needs_a_strategy_manager_and_a_finished_quarter(world):
    with pytest.raises(PermissionDenied):
        marac_dataset.marac_dataset_publish(user=world["coordinator"], area=world["area"], quarter=Q1)
    from django.utils import timezone

    current = FinancialQuarter.from_date(timezone.localdate())
    with pytest.raises(ValidationError, match="has not ended yet"):
        marac_dataset.marac_dataset_publish(user=world["manager"], area=world["area"], quarter=current)


# Pages ------------------------------------------------------------------------------------------

def test_the_page_downloads_and_publishing(world, client):
    client.force_login(world["manager"])
    address = "/marac/data/?area=north-yorkshire&quarter=2025-26-q1"
    page = client.get(address)
    text = page.content.decode()
    assert page.status_code == 200 and "North Yorkshire, Q1 2025/26" in text and "12 months to 30 Sep 2024" in text
    assert "20.0%" in text and "Victim1" not in text
    download = client.get("/marac/data/export.csv?area=north-yorkshire&quarter=2025-26-q1")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert client.get("/marac/data/export.xlsx?area=north-yorkshire&quarter=2025-26-q1").status_code == 200
    assert client.get("/marac/data/?area=north-yorkshire&quarter=not-a-quarter").status_code == 404
    assert client.get("/marac/data/?area=nowhere").status_code == 404
    published = client.post("/marac/data/publish/", {"area": "north-yorkshire", "quarter": "2025-26-q1"})
    assert published.status_code == 302 and published["Location"] == address
    assert "the dashboard of MARAC: North Yorkshire" in client.get(address).content.decode()
    again = client.post("/marac/data/publish/", {"area": "north-yorkshire", "quarter": "2025-26-q1"}, follow=True)
    assert "already published and approved" in again.content.decode()


def test_the_page_is_for_coordinators_and_managers_only(world, client):
    from saferhub.accounts.testing import otp_login

    otp_login(client, world["stranger"])
    assert client.get("/marac/data/").status_code == 403
    client.logout()
    otp_login(client, world["coordinator"])
    assert client.get("/marac/data/?area=york").status_code == 404
    assert client.post("/marac/data/publish/", {"area": "north-yorkshire", "quarter": "2025-26-q1"}).status_code == 403
