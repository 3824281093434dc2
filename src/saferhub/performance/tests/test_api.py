"""The performance API as a provider's own system and a strategy manager use it: indicators,
services and figures for every role; filling in, checking, submitting and approving a return under
the web's permission rules; 401, 403, 404, 409 and 422 answers; CSRF on writes; bounded queries;
and the OpenAPI schema."""
import pytest
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.test.utils import CaptureQueriesContext

from saferhub.audit.models import ChangeRecord
from saferhub.commissioning.models import FundingAllocation, FundingStream, Service
from saferhub.core.factories import OrganisationFactory, StrategyFactory, StrategyItemFactory
from saferhub.partners.models import Role
from saferhub.performance.models import (
    ComputedIndicator, DataElement, DataReturn, DataValue, PeriodType, ReturnStatus,
)
from saferhub.performance.periods import FinancialQuarter

ROLES = ["viewer", "contributor", "provider", "manager", "administrator"]
Q3 = FinancialQuarter.parse("2023/24-Q3")
RETURN = "/api/returns/hub/2023-24-q3"


def good_figures(*, female=1430, male=197, enquiries=(867, 887, 737)) -> dict:
    """Figures that pass every rule of the `hub` framework unless changed."""
    values = [{"element": "enquiries", "month": f"2023-{10 + n}", "value": v} for n, v in enumerate(enquiries)]
    values += [
        {"element": "enquiries", "value": sum(enquiries)},
        {"element": "individuals", "option": None, "month": None, "value": 1627},
        {"element": "individuals", "option": "female", "value": female},
        {"element": "individuals", "option": "male", "value": male},
    ]
    return {"values": values}


@pytest.fixture
def provider(make_user, other_organisation):
    """A contributor at IDAS, which provides the Hub."""
    return make_user(Role.CONTRIBUTOR, org=other_organisation, username="idas.worker")


@pytest.fixture
def signed_in(client, request, hub):
    def sign_in(role: str) -> Client:
        client.force_login(request.getfixturevalue(role))
        return client

    return sign_in


def put_figures(client, body, route=RETURN, **extra):
    return client.put(f"{route}/figures", body, content_type="application/json", **extra)


def post(client, route, body=None, **extra):
    return client.post(route, body if body is not None else {}, content_type="application/json", **extra)


def approved_return(service, quarter, figures: dict[tuple, float]) -> DataReturn:
    """An approved return holding `figures`: (element slug, option code, month or None) -> value."""
    data_return = DataReturn.objects.create(service=service, quarter_start=quarter.start, status=ReturnStatus.APPROVED)
    for (slug, code, month), value in figures.items():
        element = DataElement.objects.get(slug=slug)
        DataValue.objects.create(
            data_element=element, service=service, data_return=data_return, value=value,
            period_type=PeriodType.MONTH if month else PeriodType.QUARTER, period_start=month or quarter.start,
            option=element.breakdown.options.get(code=code) if code else None,
        )
    return data_return


# --- Signing in and reading ---------------------------------------------------------------------

READ_ROUTES = ["/api/indicators/", "/api/indicators/enquiries/", "/api/values/", "/api/services/", "/api/services/hub/",
               "/api/returns/", RETURN + "/", RETURN + "/validation"]


@pytest.mark.django_db
def test_without_a_session_every_route_answers_401_json_not_a_redirect(client, hub):
    for route in READ_ROUTES:
        response = client.get(route)
        assert response.status_code == 401, route
        assert response.json() == {"detail": "Unauthorized"}
    assert put_figures(client, good_figures()).status_code == 401
    for action in ("submit", "approve"):
        assert post(client, f"{RETURN}/{action}").status_code == 401
    assert not DataReturn.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_every_route(signed_in, role):
    client = signed_in(role)
    for route in READ_ROUTES:
        response = client.get(route)
        assert response.status_code == 200, (route, response.content)
        assert response["Content-Type"].startswith("application/json")


# --- Indicators ---------------------------------------------------------------------------------

@pytest.fixture
def linked(hub, organisation):
    """The Hub's elements linked to a strategy item, owned by NYP, and a computed indicator."""
    strategy = StrategyFactory(slug="vawg", title="Joint VAWG Strategy")
    item = StrategyItemFactory(strategy=strategy, code="Objective 5", title="Support victims")
    individuals = DataElement.objects.get(slug="individuals")
    individuals.owner = organisation
    individuals.definition = "Distinct people the enquiries were about."
    individuals.save()
    individuals.strategy_items.add(item)
    indicator = ComputedIndicator.objects.create(slug="enquiries-per-individual", name="Enquiries per individual",
                                                 numerator="#{enquiries}", denominator="#{individuals}")
    indicator.services.add(hub)
    indicator.strategy_items.add(item)
    return item


@pytest.mark.django_db
def test_indicator_list_gives_elements_with_breakdowns_and_computed_indicators(signed_in, linked):
    body = signed_in("viewer").get("/api/indicators/").json()
    assert [e["slug"] for e in body["data_elements"]] == ["enquiries", "individuals"]
    enquiries, individuals = body["data_elements"]
    assert (enquiries["kind"], enquiries["frequency"], enquiries["unit"], enquiries["breakdown"]) == (
        "data_element", "monthly", "count", None)
    assert individuals["breakdown"] == {"slug": "gender", "name": "Gender", "options": [
        {"code": "female", "label": "Female"}, {"code": "male", "label": "Male"}, {"code": "missing", "label": "Missing"}]}
    assert individuals["owner"]["slug"] == "north-yorkshire-police"
    assert individuals["definition"] == "Distinct people the enquiries were about."
    assert individuals["services"] == [{"slug": "hub", "name": "The Hub"}]
    assert individuals["strategy_items"] == [{"id": linked.pk, "strategy": "vawg", "code": "Objective 5",
                                              "title": "Support victims", "url": f"/strategies/vawg/items/{linked.pk}/"}]
    [indicator] = body["computed_indicators"]
    assert indicator["kind"] == "computed_indicator"
    assert (indicator["numerator"], indicator["denominator"], indicator["multiplier"]) == ("#{enquiries}", "#{individuals}", 1)
    assert indicator["elements"] == ["enquiries", "individuals"]
    assert indicator["services"] == [{"slug": "hub", "name": "The Hub"}]
    assert indicator["strategy_items"][0]["code"] == "Objective 5"


@pytest.mark.django_db
def test_indicator_detail_finds_an_element_or_a_computed_indicator(signed_in, linked):
    client = signed_in("viewer")
    element = client.get("/api/indicators/individuals/").json()
    assert (element["kind"], element["name"], element["polarity"]) == ("data_element", "Individuals", "neutral")
    assert element == next(e for e in client.get("/api/indicators/").json()["data_elements"] if e["slug"] == "individuals")
    indicator = client.get("/api/indicators/enquiries-per-individual/").json()
    assert (indicator["kind"], indicator["name"]) == ("computed_indicator", "Enquiries per individual")
    response = client.get("/api/indicators/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no indicator 'no-such-thing'"}


@pytest.mark.django_db
def test_indicator_and_service_lists_take_the_same_queries_however_many(signed_in, linked, other_organisation):
    client = signed_in("viewer")

    def queries(route) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(route).status_code == 200
        return len(captured)

    before = {route: queries(route) for route in ("/api/indicators/", "/api/services/")}
    stream = FundingStream.objects.create(slug="stream", name="Stream", funder=other_organisation)
    strategy = StrategyFactory()
    for n in range(12):
        service = Service.objects.create(slug=f"service-{n}", name=f"Service {n}", provider=other_organisation)
        service.commissioners.add(OrganisationFactory())
        service.strategy_items.add(StrategyItemFactory(strategy=strategy))
        FundingAllocation.objects.create(stream=stream, service=service, financial_year="2023/24", amount=1000)
        element = DataElement.objects.create(slug=f"element-{n}", name=f"Element {n}", owner=other_organisation,
                                             breakdown=DataElement.objects.get(slug="individuals").breakdown)
        element.services.add(service)
        element.strategy_items.add(StrategyItemFactory(strategy=strategy))
        indicator = ComputedIndicator.objects.create(slug=f"indicator-{n}", name=f"Indicator {n}", numerator=f"#{{element-{n}}}")
        indicator.services.add(service)
    assert {route: queries(route) for route in before} == before


# --- Services -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_services_with_provider_commissioners_and_funding(signed_in, hub, organisation, linked):
    stream = FundingStream.objects.create(slug="safer-streets", name="Safer Streets Fund", funder=organisation)
    FundingAllocation.objects.create(stream=stream, service=hub, financial_year="2022/23", amount=1000)
    FundingAllocation.objects.create(stream=stream, service=hub, financial_year="2023/24", amount="42240.50",
                                     period_note="until March 2024")
    hub.commissioners.add(organisation)
    hub.strategy_items.add(linked)
    client = signed_in("viewer")
    [service] = client.get("/api/services/").json()
    assert (service["slug"], service["name"], service["kind"]) == ("hub", "The Hub", "commissioned")
    assert service["provider"]["slug"] == "idas"
    assert [c["slug"] for c in service["commissioners"]] == ["north-yorkshire-police"]
    assert [(f["financial_year"], f["amount"], f["note"]) for f in service["funding"]] == [
        ("2023/24", 42240.5, "until March 2024"), ("2022/23", 1000.0, "")]
    assert service["funding"][0]["stream"] == "Safer Streets Fund"
    assert service["funding"][0]["funder"]["slug"] == "north-yorkshire-police"
    assert service["data_elements"] == ["enquiries", "individuals"]
    assert [i["code"] for i in service["strategy_items"]] == ["Objective 5"]
    assert service["url"] == "/performance/services/hub/"
    assert client.get("/api/services/hub/").json() == service
    assert client.get("/api/services/nope/").json() == {"detail": "There is no service 'nope'"}


# --- Figures ------------------------------------------------------------------------------------

@pytest.fixture
def held(hub):
    """Approved figures for Q2 and Q3, and a draft for Q4 2023/24."""
    q2, q4 = Q3.previous(), Q3.next()
    approved_return(hub, q2, {("individuals", None, None): 900})
    approved_return(hub, Q3, {("enquiries", None, Q3.months[0]): 867, ("enquiries", None, None): 2491,
                              ("individuals", None, None): 1627, ("individuals", "female", None): 1430,
                              ("individuals", "male", None): 197})
    draft = approved_return(hub, q4, {("individuals", None, None): 1700})
    draft.status = ReturnStatus.DRAFT
    draft.save()
    return hub


def values_of(response) -> list[tuple]:
    assert response.status_code == 200, response.content
    return [(v["element"], v["period_type"], v["period_start"], v["option"], v["value"]) for v in response.json()["items"]]


@pytest.mark.django_db
def test_values_are_approved_figures_in_a_stable_order(signed_in, held):
    body = signed_in("viewer").get("/api/values/").json()
    assert body["count"] == 6
    first = body["items"][0]
    assert first == {"element": "enquiries", "service": "hub", "period_type": "M", "period_start": "2023-10-01",
                     "option": None, "value": 867.0, "return_status": "approved"}
    assert values_of(signed_in("viewer").get("/api/values/")) == [
        ("enquiries", "M", "2023-10-01", None, 867), ("enquiries", "Q", "2023-10-01", None, 2491),
        ("individuals", "Q", "2023-07-01", None, 900),
        ("individuals", "Q", "2023-10-01", None, 1627), ("individuals", "Q", "2023-10-01", "female", 1430),
        ("individuals", "Q", "2023-10-01", "male", 197),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("query, expected", [
    ("element=individuals&total=true", [("individuals", "Q", "2023-07-01", None, 900), ("individuals", "Q", "2023-10-01", None, 1627)]),
    ("element=individuals&total=false", [("individuals", "Q", "2023-10-01", "female", 1430), ("individuals", "Q", "2023-10-01", "male", 197)]),
    ("option=male", [("individuals", "Q", "2023-10-01", "male", 197)]),
    ("period_type=M", [("enquiries", "M", "2023-10-01", None, 867)]),
    ("from=2023-07-01&to=2023-09-30", [("individuals", "Q", "2023-07-01", None, 900)]),
    ("service=hub&element=enquiries&period_type=Q", [("enquiries", "Q", "2023-10-01", None, 2491)]),
    ("service=no-such-service", []),
    ("element=no-such-element", []),
])
def test_value_filters(signed_in, held, query, expected):
    assert values_of(signed_in("viewer").get(f"/api/values/?{query}")) == expected


@pytest.mark.django_db
def test_bad_value_filters_are_422_naming_the_parameter(signed_in, held):
    client = signed_in("viewer")
    for query, name in [("period_type=X", "period_type"), ("from=October", "from"), ("status=draft", "status")]:
        response = client.get(f"/api/values/?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"][0]["loc"][-1] == name


DRAFT = ("individuals", "Q", "2024-01-01", None, 1700)


@pytest.mark.django_db
@pytest.mark.parametrize("role, sees_draft", [("viewer", False), ("contributor", False), ("provider", True),
                                              ("manager", True), ("administrator", True)])
def test_drafts_only_for_those_who_may_fill_in_the_return_and_only_when_asked(signed_in, held, role, sees_draft):
    client = signed_in(role)
    assert DRAFT not in values_of(client.get("/api/values/?element=individuals"))
    with_drafts = client.get("/api/values/?element=individuals&status=any").json()["items"]
    drafts = [v for v in with_drafts if v["return_status"] == "draft"]
    assert [(v["period_start"], v["value"]) for v in drafts] == ([("2024-01-01", 1700.0)] if sees_draft else [])


@pytest.mark.django_db
def test_value_pages_cover_every_figure_once_and_queries_do_not_grow(signed_in, hub):
    element = DataElement.objects.get(slug="enquiries")
    quarter = FinancialQuarter(2015, 1)
    data_return = DataReturn.objects.create(service=hub, quarter_start=quarter.start, status=ReturnStatus.APPROVED)
    for n in range(25):
        month = quarter.start.replace(year=2015 + n // 12, month=n % 12 + 1)
        DataValue.objects.create(data_element=element, service=hub, period_type=PeriodType.MONTH, period_start=month,
                                 value=n, data_return=data_return)
    client = signed_in("viewer")
    seen, queries = [], []
    for page in (1, 2, 3):
        with CaptureQueriesContext(connection) as captured:
            body = client.get(f"/api/values/?page_size=10&page={page}").json()
        seen += [(v["period_start"], v["value"]) for v in body["items"]]
        queries.append(len(captured))
    assert len(seen) == len(set(seen)) == 25
    assert [start for start, _ in seen] == sorted(start for start, _ in seen)
    assert queries[0] == queries[1] == queries[2]


# --- A return: reading it -----------------------------------------------------------------------

@pytest.mark.django_db
def test_a_return_not_yet_started(signed_in):
    body = signed_in("viewer").get(RETURN + "/").json()
    assert body["status"] is None
    assert body["service"] == {"slug": "hub", "name": "The Hub"}
    assert body["provider"]["slug"] == "idas"
    assert body["quarter"] == {"key": "2023/24-Q3", "slug": "2023-24-q3", "label": "Q3 2023/24",
                               "start": "2023-10-01", "end": "2023-12-31"}
    assert (body["figures"], body["validation"]) == ([], {"errors": 0, "warnings": 0})
    assert body["url"] == "/returns/hub/2023-24-q3/"
    assert signed_in("viewer").get(RETURN + "/validation").json() == []


@pytest.mark.django_db
def test_the_quarter_reads_as_a_slug_or_a_key(signed_in, held):
    client = signed_in("viewer")
    by_slug = client.get(RETURN + "/").json()
    assert client.get("/api/returns/hub/2023/24-Q3/").json() == by_slug
    assert client.get("/api/returns/hub/2023%2F24-Q3/").json() == by_slug
    assert by_slug["status"] == "approved"
    # The template's order: each element's months before its quarter, the total before the options.
    assert by_slug["figures"] == [
        {"element": "enquiries", "option": None, "month": "2023-10", "value": 867.0},
        {"element": "enquiries", "option": None, "month": None, "value": 2491.0},
        {"element": "individuals", "option": None, "month": None, "value": 1627.0},
        {"element": "individuals", "option": "female", "month": None, "value": 1430.0},
        {"element": "individuals", "option": "male", "month": None, "value": 197.0},
    ]


@pytest.mark.django_db
def test_return_list_and_its_filters(signed_in, held):
    client = signed_in("viewer")

    def listed(query=""):
        response = client.get(f"/api/returns/?{query}")
        assert response.status_code == 200, response.content
        return [(r["service"]["slug"], r["quarter"]["key"], r["status"]) for r in response.json()["items"]]

    assert listed() == [("hub", "2023/24-Q4", "draft"), ("hub", "2023/24-Q3", "approved"), ("hub", "2023/24-Q2", "approved")]
    assert listed("quarter=2023/24-Q3") == listed("quarter=2023-24-q3") == [("hub", "2023/24-Q3", "approved")]
    assert listed("status=draft") == [("hub", "2023/24-Q4", "draft")]
    assert listed("service=nope") == []
    response = client.get("/api/returns/?quarter=autumn")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "quarter"


@pytest.mark.django_db
def test_unknown_service_or_quarter_is_404(signed_in):
    client = signed_in("manager")
    for route in ["/api/returns/nope/2023-24-q3/", "/api/returns/nope/2023-24-q3/validation"]:
        response = client.get(route)
        assert response.status_code == 404
        assert response.json() == {"detail": "There is no service 'nope'"}
    assert put_figures(client, good_figures(), route="/api/returns/nope/2023-24-q3").status_code == 404
    assert post(client, "/api/returns/nope/2023-24-q3/submit").status_code == 404
    assert post(client, "/api/returns/nope/2023-24-q3/approve").status_code == 404
    response = client.get("/api/returns/hub/2023-25-q3/")
    assert response.status_code == 404
    assert "is not a financial quarter" in response.json()["detail"]
    response = post(client, RETURN + "/approve")
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no return for The Hub, Q3 2023/24, to approve"
    assert not DataReturn.objects.exists()


# --- Filling in a return ------------------------------------------------------------------------

PUT_MATRIX = {"viewer": 403, "contributor": 403, "provider": 200, "manager": 200, "administrator": 200}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_who_may_fill_in_a_return(signed_in, role):
    response = put_figures(signed_in(role), good_figures())
    assert response.status_code == PUT_MATRIX[role], response.content
    if response.status_code == 403:
        assert response.json() == {"detail": "You can fill in returns only for your organisation's services."}
        assert not DataReturn.objects.exists()
    else:
        body = response.json()
        assert body["status"] == "draft"
        assert body["validation"] == {"errors": 0, "warnings": 0}
        assert len(body["figures"]) == 7
        assert DataReturn.objects.get().values.count() == 7


@pytest.mark.django_db
def test_figures_replace_those_held_and_write_the_history(signed_in, provider):
    client = signed_in("provider")
    assert put_figures(client, good_figures()).status_code == 200
    response = put_figures(client, {"values": [{"element": "individuals", "value": 12}]})
    assert response.status_code == 200
    assert response.json()["figures"] == [{"element": "individuals", "option": None, "month": None, "value": 12.0}]
    data_return = DataReturn.objects.get()
    assert list(data_return.values.values_list("value", flat=True)) == [12.0]
    records = ChangeRecord.objects.filter(object_id=str(data_return.pk), actor=provider)
    assert records.count() == 3  # started, figures saved, figures replaced


@pytest.mark.django_db
@pytest.mark.parametrize("entry, field, message", [
    ({"element": "offences", "value": 3}, "element", "There is no data element 'offences'"),
    ({"element": "enquiries", "option": "female", "value": 3}, "option",
     "'Enquiries' has no breakdown: send its total with option null"),
    ({"element": "individuals", "option": "unknown", "value": 3}, "option",
     "'Individuals' has no breakdown option 'unknown'; its options are female, male, missing"),
    ({"element": "individuals", "value": -3}, "value", "-3 is negative; figures cannot be below zero"),
    ({"element": "enquiries", "month": "2024-01", "value": 3}, "month",
     "2024-01 is not in Q3 2023/24: its months are 2023-10, 2023-11, 2023-12"),
    ({"element": "enquiries", "month": "October", "value": 3}, "month", "'October' is not a month: write it like 2023-10"),
    ({"element": "enquiries", "month": "2023-13", "value": 3}, "month", "'2023-13' is not a month: write it like 2023-10"),
    ({"element": "individuals", "month": "2023-10", "value": 3}, "month",
     "'Individuals' is reported for the quarter only: send month null"),
    ({"element": "enquiries", "value": 2491}, None, "This figure (Enquiries, Q3 2023/24) was already given in entry 3"),
])
def test_a_bad_entry_is_422_naming_its_index_and_field(signed_in, entry, field, message):
    body = good_figures()
    body["values"].insert(5, entry)
    response = put_figures(signed_in("provider"), body)
    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payload", "values", 5, *([field] if field else [])]
    assert error["msg"] == message
    assert not DataReturn.objects.exists()


@pytest.mark.django_db
def test_every_bad_entry_is_named_at_once(signed_in):
    body = {"values": [{"element": "offences", "value": 1}, {"element": "individuals", "value": 4},
                       {"element": "individuals", "option": "male", "value": -1}]}
    response = put_figures(signed_in("provider"), body)
    assert [e["loc"][3:] for e in response.json()["detail"]] == [[0, "element"], [2, "value"]]


@pytest.mark.django_db
def test_an_element_the_service_does_not_report_is_refused(signed_in, hub, other_organisation):
    other = Service.objects.create(slug="helpline", name="Helpline", provider=other_organisation)
    DataElement.objects.create(slug="calls", name="Calls").services.add(other)
    response = put_figures(signed_in("provider"), {"values": [{"element": "calls", "value": 1}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "The Hub does not report 'Calls' (calls)"


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["867", True, None, "lots", [1]])
def test_a_value_that_is_not_a_number_is_422(signed_in, value):
    body = good_figures()
    body["values"][2]["value"] = value
    response = put_figures(signed_in("provider"), body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "values", 2, "value"]
    assert not DataReturn.objects.exists()


@pytest.mark.django_db
def test_a_body_without_values_is_422(signed_in):
    response = put_figures(signed_in("provider"), {"figures": []})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "values"


@pytest.mark.django_db
@pytest.mark.parametrize("status, message", [
    (ReturnStatus.SUBMITTED, "The return has been submitted: ask a strategy manager to reopen it if the figures need changing."),
    (ReturnStatus.APPROVED, "The return is approved and locked: its figures can no longer be changed."),
])
def test_a_submitted_or_approved_return_cannot_be_changed(signed_in, hub, status, message):
    approved_return(hub, Q3, {("individuals", None, None): 5})
    DataReturn.objects.update(status=status)
    for role in ("provider", "manager"):
        response = put_figures(signed_in(role), good_figures())
        assert response.status_code == 409
        assert response.json() == {"detail": message}
    assert list(DataValue.objects.values_list("value", flat=True)) == [5.0]


# --- Validation, submitting, approving ----------------------------------------------------------

@pytest.mark.django_db
def test_validation_names_each_rule_broken_with_both_sides(signed_in):
    client = signed_in("provider")
    response = put_figures(client, good_figures(male=196, enquiries=(1500, 1500, 1500)))
    assert response.json()["validation"] == {"errors": 1, "warnings": 1}
    errors = client.get(RETURN + "/validation").json()
    assert errors == [
        {"rule": "many-repeat-enquiries", "rule_name": "Repeat enquiries", "importance": "warning",
         "message": "Over two enquiries per individual", "left_label": "Enquiries", "left_value": 4500.0,
         "right_label": "Individuals * 2", "right_value": 3254.0, "comment": None},
        {"rule": "totals", "rule_name": "Breakdowns add up", "importance": "error", "message": "Breakdown differs",
         "left_label": "Individuals by gender (Q3 2023/24)", "left_value": 1626.0,
         "right_label": "Individuals total (Q3 2023/24)", "right_value": 1627.0, "comment": None},
    ]


@pytest.mark.django_db
def test_submit_refuses_errors_and_unexplained_warnings(signed_in):
    client = signed_in("provider")
    assert post(client, RETURN + "/submit").json()["detail"][0]["msg"] == "Enter the return's figures before submitting it"
    put_figures(client, good_figures(male=196, enquiries=(1500, 1500, 1500)))

    response = post(client, RETURN + "/submit", {"comments": {"many-repeat-enquiries": "A busy quarter"}})
    assert response.status_code == 422
    body = response.json()
    assert [e["loc"] for e in body["detail"]] == [["validation", "totals"]]
    assert body["detail"][0]["msg"].startswith("Breakdowns add up: Breakdown differs")
    assert [v["rule"] for v in body["violations"]] == ["totals"]

    put_figures(client, good_figures(enquiries=(1500, 1500, 1500)))
    response = post(client, RETURN + "/submit", {"comments": {"many-repeat-enquiries": "  "}})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == [{"loc": ["body", "payload", "comments", "many-repeat-enquiries"],
                               "msg": "Explain the warning: Repeat enquiries", "type": "value_error"}]
    assert [(v["rule"], v["importance"]) for v in body["violations"]] == [("many-repeat-enquiries", "warning")]
    assert DataReturn.objects.get().status == ReturnStatus.DRAFT

    response = post(client, RETURN + "/submit", {"comments": {"many-repeat-enquiries": "A busy quarter"}})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "submitted"
    assert body["warning_comments"] == {"many-repeat-enquiries": "A busy quarter"}
    assert body["submitted_by"] == {"name": DataReturn.objects.get().submitted_by.display_name, "organisation": "idas"}
    assert client.get(RETURN + "/validation").json()[0]["comment"] == "A busy quarter"
    response = post(client, RETURN + "/submit")
    assert response.status_code == 409


SUBMIT_MATRIX = {"viewer": 403, "contributor": 403, "provider": 200, "manager": 200, "administrator": 200}
APPROVE_MATRIX = {"viewer": 403, "contributor": 403, "provider": 403, "manager": 200, "administrator": 200}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_who_may_submit_and_approve(signed_in, hub, role, manager):
    data_return = approved_return(hub, Q3, {("individuals", None, None): 5})
    DataReturn.objects.update(status=ReturnStatus.DRAFT)
    client = signed_in(role)
    assert post(client, RETURN + "/submit").status_code == SUBMIT_MATRIX[role]
    if SUBMIT_MATRIX[role] == 403:
        DataReturn.objects.update(status=ReturnStatus.SUBMITTED)
    response = post(client, RETURN + "/approve")
    assert response.status_code == APPROVE_MATRIX[role]
    data_return.refresh_from_db()
    if response.status_code == 403:
        assert response.json() == {"detail": "Only strategy managers can approve returns."}
        assert data_return.status == ReturnStatus.SUBMITTED
    else:
        assert response.json()["status"] == data_return.status == ReturnStatus.APPROVED
        assert response.json()["approved_by"]["name"] == data_return.approved_by.display_name


@pytest.mark.django_db
def test_only_a_submitted_return_is_approved(signed_in, hub):
    approved_return(hub, Q3, {("individuals", None, None): 5})
    DataReturn.objects.update(status=ReturnStatus.DRAFT)
    response = post(signed_in("manager"), RETURN + "/approve")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only a submitted return can be approved; this one is draft"}


@pytest.mark.django_db
def test_a_provider_system_fills_in_checks_submits_and_sees_its_figures_approved(signed_in, provider, manager):
    client = signed_in("provider")
    # The system sends figures whose gender breakdown falls one short of the total.
    response = put_figures(client, good_figures(male=196))
    assert response.status_code == 200
    assert response.json()["validation"] == {"errors": 1, "warnings": 0}
    [violation] = client.get(RETURN + "/validation").json()
    assert (violation["rule"], violation["left_value"], violation["right_value"]) == ("totals", 1626, 1627)
    assert post(client, RETURN + "/submit").status_code == 422
    # Fixed and sent again, it submits.
    assert put_figures(client, good_figures()).json()["validation"] == {"errors": 0, "warnings": 0}
    assert client.get(RETURN + "/validation").json() == []
    assert post(client, RETURN + "/submit").json()["status"] == "submitted"
    # Not yet approved, so not among the figures others read.
    assert client.get("/api/values/?service=hub").json()["count"] == 0
    assert post(client, RETURN + "/approve").status_code == 403

    client.force_login(manager)
    assert [r["status"] for r in client.get("/api/returns/?status=submitted").json()["items"]] == ["submitted"]
    assert post(client, RETURN + "/approve").json()["status"] == "approved"

    client.force_login(provider)
    assert put_figures(client, good_figures()).status_code == 409
    values = {(v["element"], v["period_type"], v["period_start"], v["option"]): v["value"]
              for v in client.get("/api/values/?service=hub").json()["items"]}
    assert values == {
        ("enquiries", "M", "2023-10-01", None): 867, ("enquiries", "M", "2023-11-01", None): 887,
        ("enquiries", "M", "2023-12-01", None): 737, ("enquiries", "Q", "2023-10-01", None): 2491,
        ("individuals", "Q", "2023-10-01", None): 1627, ("individuals", "Q", "2023-10-01", "female"): 1430,
        ("individuals", "Q", "2023-10-01", "male"): 197,
    }


@pytest.mark.django_db
def test_reading_a_return_takes_the_same_queries_however_many_figures(signed_in, hub):
    client = signed_in("viewer")
    approved_return(hub, Q3, {("individuals", None, None): 5})

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(RETURN + "/").status_code == 200
            assert client.get(RETURN + "/validation").status_code == 200
        return len(captured)

    few = queries()
    DataReturn.objects.all().delete()
    approved_return(hub, Q3, {("enquiries", None, m): 10 for m in (*Q3.months, None)}
                    | {("individuals", code, None): 3 for code in (None, "female", "male", "missing")})
    assert queries() == few


# --- CSRF, and the schema -----------------------------------------------------------------------

@pytest.mark.django_db
def test_a_session_write_without_the_csrf_token_is_refused(hub, provider):
    client = Client(enforce_csrf_checks=True)
    client.force_login(provider)
    response = put_figures(client, good_figures())
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert post(client, RETURN + "/submit").status_code == 403
    assert not DataReturn.objects.exists()
    assert client.get(RETURN + "/").status_code == 200
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    assert put_figures(client, good_figures(), headers={"X-CSRFToken": token}).status_code == 200
    assert post(client, RETURN + "/submit", headers={"X-CSRFToken": token}).status_code == 200


@pytest.mark.django_db
def test_openapi_schema_lists_the_performance_routes(signed_in):
    schema = signed_in("viewer").get("/api/openapi.json").json()
    assert set(schema["paths"]) >= {
        "/api/indicators/", "/api/indicators/{slug}/", "/api/values/", "/api/services/", "/api/services/{slug}/",
        "/api/returns/", "/api/returns/{service}/{quarter}/", "/api/returns/{service}/{quarter}/figures",
        "/api/returns/{service}/{quarter}/submit", "/api/returns/{service}/{quarter}/approve",
        "/api/returns/{service}/{quarter}/validation",
    }
    assert set(schema["paths"]["/api/returns/{service}/{quarter}/figures"]) == {"put"}
    assert set(schema["paths"]["/api/returns/{service}/{quarter}/figures"]["put"]["responses"]) >= {"200", "403", "409", "422"}
    listed = {p["name"] for p in schema["paths"]["/api/values/"]["get"]["parameters"]}
    assert listed >= {"element", "service", "from", "to", "period_type", "option", "status", "page", "page_size"}
