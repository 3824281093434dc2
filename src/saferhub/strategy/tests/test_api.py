"""The JSON API: every route for every role, the tracker's filters and pagination, recording
progress under the web's permission rules, CSRF on session writes, and the OpenAPI schema."""
import datetime as dt
import re

import pytest
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saferhub.audit.models import ChangeRecord
from saferhub.core.factories import (
    ActionFactory,
    GovernanceBodyFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    StrategyFactory,
    StrategyItemFactory,
)
from saferhub.strategy.models import ActionStatus, ProgressUpdate, Rag

ROLES = ["viewer", "contributor", "manager", "administrator"]
TODAY = timezone.localdate()


@pytest.fixture
def vawg(organisation, other_organisation):
    """A strategy three levels deep, with actions NYP leads, supports or has no part in."""
    strategy = StrategyFactory(
        slug="vawg", title="Joint VAWG Strategy", owner=organisation, background="Why the strategy exists.",
        governance_body=GovernanceBodyFactory(slug="vawg-board", name="VAWG Strategic Governance Board"),
    )
    objective = StrategyItemFactory(strategy=strategy, order=1, code="Objective 1", title="Listen to all women and girls")
    outcome = StrategyItemFactory(strategy=strategy, parent=objective, order=1, code="Outcome 1.1", title="Engage")
    aim = StrategyItemFactory(strategy=strategy, parent=outcome, order=1, code="Aim 1.1.1", title="Consult")
    second = StrategyItemFactory(strategy=strategy, order=2, code="Objective 2", title="Prevent")
    actions = {
        "led": ActionFactory(item=aim, reference="V-1", leads=[organisation], status=ActionStatus.ON_TRACK,
                             rag=Rag.AMBER, due_date=TODAY - dt.timedelta(days=3)),
        "supported": ActionFactory(item=outcome, reference="V-2", leads=[other_organisation], supporters=[organisation],
                                   status=ActionStatus.AT_RISK, rag=Rag.RED, due_date=TODAY + dt.timedelta(days=30)),
        "others": ActionFactory(item=second, reference="V-3", leads=[other_organisation], status=ActionStatus.COMPLETE,
                                rag=Rag.GREEN, due_date=TODAY - dt.timedelta(days=90)),
        "undated": ActionFactory(item=objective, reference="V-4", leads=[other_organisation],
                                 status=ActionStatus.NOT_STARTED),
    }
    return {"strategy": strategy, "objective": objective, "outcome": outcome, "aim": aim, "second": second, **actions}


@pytest.fixture
def period(db):
    return ReportingPeriodFactory(label="June 2023", start=dt.date(2023, 1, 1), end=dt.date(2023, 6, 30))


@pytest.fixture
def signed_in(client, request):
    def sign_in(role: str) -> Client:
        client.force_login(request.getfixturevalue(role))
        return client

    return sign_in


def _progress(period_label="June 2023", **changes):
    body = {"period": period_label, "actions_taken": "Ran two consultation events.", "next_steps": "Publish the findings.",
            "status": "on_track", "rag": "green"}
    body.update(changes)
    return body


def _post(client, action, body, **extra):
    return client.post(f"/api/actions/{action.pk}/progress-updates/", body, content_type="application/json", **extra)


def _routes(data) -> list[str]:
    action = data["led"]
    return [
        "/api/strategies/",
        "/api/strategies/vawg/",
        "/api/strategies/vawg/items/",
        "/api/actions/",
        f"/api/actions/{action.pk}/",
        f"/api/actions/{action.pk}/progress-updates/",
    ]


# Signing in


@pytest.mark.django_db
def test_without_a_session_every_route_answers_401_json_not_a_redirect(client, vawg, period):
    for route in _routes(vawg):
        response = client.get(route)
        assert response.status_code == 401, route
        assert response.json() == {"detail": "Unauthorized"}
    response = _post(client, vawg["led"], _progress())
    assert response.status_code == 401
    assert not ProgressUpdate.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_every_route(signed_in, role, vawg):
    client = signed_in(role)
    for route in _routes(vawg):
        response = client.get(route)
        assert response.status_code == 200, route
        assert response["Content-Type"].startswith("application/json")


# Strategies and their items


@pytest.mark.django_db
def test_strategy_list(signed_in, vawg):
    StrategyFactory(slug="serious-violence", title="Serious Violence Strategy")
    body = signed_in("viewer").get("/api/strategies/").json()
    assert [s["slug"] for s in body] == ["vawg", "serious-violence"]  # strategy order, then title
    vawg_out = body[0]
    assert vawg_out["title"] == "Joint VAWG Strategy"
    assert vawg_out["owner"]["slug"] == "north-yorkshire-police"
    assert vawg_out["governance_body"] == {"slug": "vawg-board", "name": "VAWG Strategic Governance Board"}
    assert vawg_out["level_names"] == ["Objective", "Outcome", "Aim"]
    assert vawg_out["url"] == "/strategies/vawg/"


@pytest.mark.django_db
def test_strategy_detail_nests_the_item_tree(signed_in, vawg):
    body = signed_in("viewer").get("/api/strategies/vawg/").json()
    assert body["background"] == "Why the strategy exists."
    assert [i["code"] for i in body["items"]] == ["Objective 1", "Objective 2"]
    objective = body["items"][0]
    outcome = objective["children"][0]
    aim = outcome["children"][0]
    assert (objective["level_name"], outcome["level_name"], aim["level_name"]) == ("Objective", "Outcome", "Aim")
    assert (outcome["code"], aim["code"], aim["depth"]) == ("Outcome 1.1", "Aim 1.1.1", 2)
    assert aim["parent_id"] == outcome["id"] and aim["children"] == []
    assert body["items"][1]["children"] == []


@pytest.mark.django_db
def test_item_list_is_flat_in_tree_order(signed_in, vawg):
    body = signed_in("viewer").get("/api/strategies/vawg/items/").json()
    assert [i["code"] for i in body] == ["Objective 1", "Outcome 1.1", "Aim 1.1.1", "Objective 2"]
    assert [i["level_name"] for i in body] == ["Objective", "Outcome", "Aim", "Objective"]
    assert body[2]["parent_id"] == vawg["outcome"].pk


@pytest.mark.django_db
def test_unknown_strategy_is_404(signed_in, vawg):
    client = signed_in("viewer")
    for route in ["/api/strategies/no-such-strategy/", "/api/strategies/no-such-strategy/items/"]:
        response = client.get(route)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}


# Actions: filters, pagination, queries


def _references(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [a["reference"] for a in response.json()["items"]]


@pytest.mark.django_db
def test_action_list_in_tree_order_with_its_details(signed_in, vawg):
    body = signed_in("viewer").get("/api/actions/").json()
    assert body["count"] == 4
    # Tree order: Objective 1 (V-4), Outcome 1.1 (V-2), Aim 1.1.1 (V-1), Objective 2 (V-3).
    assert [a["reference"] for a in body["items"]] == ["V-4", "V-2", "V-1", "V-3"]
    supported = body["items"][1]
    assert supported["strategy"] == "vawg"
    assert supported["item"] == {"id": vawg["outcome"].pk, "code": "Outcome 1.1", "title": "Engage"}
    assert [o["slug"] for o in supported["lead_organisations"]] == ["idas"]
    assert [o["slug"] for o in supported["supporting_organisations"]] == ["north-yorkshire-police"]
    assert (supported["status"], supported["rag"], supported["overdue"]) == ("at_risk", "red", False)
    assert supported["url"] == f"/strategies/actions/{vawg['supported'].pk}/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, expected",
    [
        ("strategy=vawg", ["V-4", "V-2", "V-1", "V-3"]),
        ("strategy=serious-violence", ["SV-1"]),
        ("strategy=no-such-strategy", []),
        ("lead=north-yorkshire-police", ["V-1", "SV-1"]),
        ("lead=idas", ["V-4", "V-2", "V-3"]),
        ("status=complete", ["V-3"]),
        ("rag=red", ["V-2"]),
        ("overdue=true", ["V-1"]),
        ("overdue=false", ["V-4", "V-2", "V-3", "SV-1"]),
        ("lead=idas&overdue=false&rag=green", ["V-3"]),
    ],
)
def test_action_filters(signed_in, vawg, organisation, query, expected):
    ActionFactory(item=StrategyItemFactory(strategy=StrategyFactory(slug="serious-violence", order=5)),
                  reference="SV-1", leads=[organisation])
    assert _references(signed_in("viewer").get(f"/api/actions/?{query}")) == expected


@pytest.mark.django_db
def test_item_filter_takes_in_the_items_below(signed_in, vawg):
    client = signed_in("viewer")
    assert _references(client.get(f"/api/actions/?item={vawg['objective'].pk}")) == ["V-4", "V-2", "V-1"]
    assert _references(client.get(f"/api/actions/?item={vawg['outcome'].pk}")) == ["V-2", "V-1"]
    assert _references(client.get(f"/api/actions/?item={vawg['aim'].pk}")) == ["V-1"]
    assert _references(client.get("/api/actions/?item=999999")) == []


@pytest.mark.django_db
def test_an_unknown_filter_value_is_422_naming_the_parameter(signed_in, vawg):
    response = signed_in("viewer").get("/api/actions/?status=finished")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "status"


@pytest.mark.django_db
def test_pages_cover_every_action_once_in_a_stable_order(signed_in, vawg):
    # Same item, same order: only the id tells these apart, so it must break the tie.
    for n in range(7):
        ActionFactory(item=vawg["second"], reference=f"T-{n}", order=0)
    client = signed_in("viewer")
    pages = [client.get(f"/api/actions/?page_size=3&page={page}").json() for page in (1, 2, 3, 4)]
    assert all(page["count"] == 11 for page in pages)
    assert [len(page["items"]) for page in pages] == [3, 3, 3, 2]
    seen = [a["id"] for page in pages for a in page["items"]]
    assert len(seen) == len(set(seen)) == 11
    again = [a["id"] for page in (1, 2, 3, 4) for a in client.get(f"/api/actions/?page_size=3&page={page}").json()["items"]]
    assert again == seen


@pytest.mark.django_db
def test_page_size_is_capped(signed_in, vawg):
    response = signed_in("viewer").get("/api/actions/?page_size=100000")
    assert response.status_code == 200
    assert response.json()["count"] == 4


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_page(signed_in, vawg, organisation, other_organisation, period):
    client = signed_in("viewer")

    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/actions/?page_size={page_size}").status_code == 200
        return len(captured)

    small = queries(2)
    for n in range(30):
        action = ActionFactory(item=vawg["aim"], leads=[organisation, other_organisation], supporters=[other_organisation],
                               governance_body=GovernanceBodyFactory())
        ProgressUpdate.objects.create(action=action, period=period, actions_taken="Done", status=ActionStatus.ON_TRACK)
    assert queries(34) == small
    with CaptureQueriesContext(connection) as one_update:
        client.get(f"/api/actions/{action.pk}/")
    ProgressUpdate.objects.create(action=action, period=ReportingPeriodFactory(label="December 2023", start=dt.date(2023, 7, 1),
                                  end=dt.date(2023, 12, 31)), actions_taken="More", status=ActionStatus.ON_TRACK)
    with CaptureQueriesContext(connection) as two_updates:
        assert len(client.get(f"/api/actions/{action.pk}/").json()["progress_updates"]) == 2
    assert len(two_updates) == len(one_update)


# One action and its progress


@pytest.mark.django_db
def test_action_detail_with_its_progress_updates(signed_in, vawg, period, contributor):
    action = vawg["led"]
    ProgressUpdate.objects.create(action=action, period=period, actions_taken="Consulted", next_steps="Report",
                                  status=ActionStatus.ON_TRACK, rag=Rag.GREEN, organisation=contributor.organisation,
                                  recorded_by=contributor)
    client = signed_in("viewer")
    body = client.get(f"/api/actions/{action.pk}/").json()
    assert body["reference"] == "V-1" and body["overdue"] is True
    [update] = body["progress_updates"]
    assert update["period"] == {"label": "June 2023", "start": "2023-01-01", "end": "2023-06-30", "kind": "custom"}
    assert (update["actions_taken"], update["next_steps"], update["rag"]) == ("Consulted", "Report", "green")
    assert update["organisation"]["slug"] == "north-yorkshire-police"
    assert update["recorded_by"] == contributor.display_name
    assert client.get(f"/api/actions/{action.pk}/progress-updates/").json() == body["progress_updates"]


@pytest.mark.django_db
def test_unknown_action_is_404(signed_in, vawg, period):
    client = signed_in("manager")
    for route in ["/api/actions/999999/", "/api/actions/999999/progress-updates/"]:
        assert client.get(route).status_code == 404
    response = client.post("/api/actions/999999/progress-updates/", _progress(), content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


# Recording progress: the web's permission rules


RECORD_MATRIX = {
    # role: (action NYP leads, action NYP supports, action NYP has no part in)
    "viewer": (403, 403, 403),
    "contributor": (201, 201, 403),
    "manager": (201, 201, 201),
    "administrator": (201, 201, 201),
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_who_may_record_progress(signed_in, role, vawg, period):
    client = signed_in(role)
    for key, expected in zip(["led", "supported", "others"], RECORD_MATRIX[role]):
        action = vawg[key]
        response = _post(client, action, _progress(status="off_track", rag="red"))
        assert response.status_code == expected, (role, key, response.content)
        recorded = ProgressUpdate.objects.filter(action=action, period=period)
        action.refresh_from_db()
        if expected == 403:
            assert "detail" in response.json()
            assert not recorded.exists()
            assert action.status != ActionStatus.OFF_TRACK
        else:
            assert (action.status, action.rag) == ("off_track", "red")
            assert recorded.get().recorded_by.username == role


@pytest.mark.django_db
def test_recording_moves_the_action_and_writes_the_history(signed_in, vawg, period, contributor):
    client = signed_in("contributor")
    action = vawg["supported"]
    response = _post(client, action, _progress(status="complete", rag="green"))
    assert response.status_code == 201
    body = response.json()
    assert body["action_id"] == action.pk
    assert body["period"]["label"] == "June 2023"
    assert body["organisation"]["slug"] == "north-yorkshire-police"
    assert body["recorded_by"] == contributor.display_name
    action.refresh_from_db()
    assert (action.status, action.rag) == ("complete", "green")
    assert ChangeRecord.objects.filter(object_id=str(body["id"]), actor=contributor).exists()

    # Recording again in the same period revises the update.
    response = _post(client, action, _progress(actions_taken="Revised wording", status="complete", rag="green"))
    assert response.status_code == 200
    assert response.json()["id"] == body["id"]
    assert ProgressUpdate.objects.get(action=action, period=period).actions_taken == "Revised wording"


@pytest.mark.django_db
def test_validation_errors_are_422_with_field_messages(signed_in, vawg, period):
    client = signed_in("manager")
    action = vawg["led"]

    def error_fields(body):
        response = _post(client, action, body)
        assert response.status_code == 422, response.content
        return {e["loc"][-1]: e["msg"] for e in response.json()["detail"]}

    assert error_fields(_progress(actions_taken="  ", next_steps="")) == {
        "actions_taken": "Enter the actions taken in the period, or the next steps"
    }
    assert error_fields(_progress(period_label="June 2031")) == {
        "period": "There is no reporting period labelled 'June 2031'"
    }
    assert "status" in error_fields(_progress(status="finished"))
    assert "rag" in error_fields(_progress(rag="purple"))
    missing = _progress()
    del missing["status"]
    assert "status" in error_fields(missing)
    assert not ProgressUpdate.objects.exists()


@pytest.mark.django_db
def test_a_viewer_learns_nothing_about_periods(signed_in, vawg, period):
    response = _post(signed_in("viewer"), vawg["led"], _progress(period_label="No such period"))
    assert response.status_code == 403


# CSRF: a session is a cookie, so a write must prove it comes from our own pages.


@pytest.mark.django_db
def test_a_session_write_without_the_csrf_token_is_refused(vawg, period, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = _post(client, vawg["led"], _progress())
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not ProgressUpdate.objects.exists()
    # Reading needs no token.
    assert client.get("/api/actions/").status_code == 200


@pytest.mark.django_db
def test_a_session_write_with_the_csrf_token_is_accepted(vawg, period, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    response = _post(client, vawg["led"], _progress(), headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert ProgressUpdate.objects.filter(action=vawg["led"]).exists()


# The schema and the docs


@pytest.mark.django_db
def test_openapi_schema_lists_every_route(signed_in):
    response = signed_in("viewer").get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) >= {
        "/api/strategies/",
        "/api/strategies/{slug}/",
        "/api/strategies/{slug}/items/",
        "/api/actions/",
        "/api/actions/{action_id}/",
        "/api/actions/{action_id}/progress-updates/",
    }
    assert set(schema["paths"]["/api/actions/{action_id}/progress-updates/"]) == {"get", "post"}
    listed = {p["name"] for p in schema["paths"]["/api/actions/"]["get"]["parameters"]}
    assert listed >= {"strategy", "item", "lead", "status", "rag", "overdue", "page", "page_size"}


@pytest.mark.django_db
def test_schema_and_docs_need_sign_in(client):
    for route in ["/api/openapi.json", "/api/docs"]:
        response = client.get(route)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")


@pytest.mark.django_db
def test_docs_page_serves_swagger_ui_from_this_server(signed_in):
    client = signed_in("viewer")
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'<(?:link|script)[^>]*(?:href|src)="([^"]+)"', html)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    for source in sources:
        assert source.startswith("/assets/"), source
    # No inline script runs on the page: the one <script> without src is JSON data.
    for attrs, _ in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        assert "src=" in attrs or 'type="application/json"' in attrs


@pytest.mark.django_db
def test_an_organisation_with_no_part_sees_the_same_data(signed_in, vawg, make_user):
    """Strategy data holds no personal data: someone from an organisation with no actions reads
    exactly what a member of a leading organisation reads."""
    outsider = make_user(org=OrganisationFactory(slug="survive", name="Survive"), username="outsider")
    client = signed_in("viewer")
    as_viewer = client.get("/api/actions/").json()
    client.force_login(outsider)
    assert client.get("/api/actions/").json() == as_viewer
