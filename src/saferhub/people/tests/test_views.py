"""The people and case pages: who gets what on every page (out of scope answers exactly like a
missing record, and names a user may not see never appear), the forms and their errors, the audit
events each page writes, break-glass, the data protection lead's pages and the subject access export."""
import csv
import datetime as dt
import html
import io
import json

import pytest
from django.core import mail
from django.db import connection

from saferhub.audit.models import AuditEvent
from saferhub.audit.trail import chain_verify
from saferhub.people.models import BreakGlassAccess, Case, CaseParticipant, Disclosure, Person
from saferhub.people.tests.conftest import IDAS_NAMES, NYP_NAMES, without_tokens

pytestmark = pytest.mark.django_db
MISSING = 999999


def text(response) -> str:
    return html.unescape(response.content.decode())


# The permission matrix ---------------------------------------------------------------------------

CASE_PAGES = {
    # page: what the user needs for the case
    "/people/cases/{id}/": "view",
    "/people/cases/{id}/people/add/": "change",
    "/people/cases/{id}/organisations/add/": "change",
    "/people/cases/{id}/disclosures/add/": "change",
    "/people/cases/{id}/close/": "change",
    "/people/cases/{id}/audit/": "dp",
}
PERSON_PAGES = {
    "/people/persons/{id}/": "view",
    "/people/persons/{id}/edit/": "change",
    "/people/persons/{id}/audit/": "dp",
    "/people/persons/{id}/subject-access/": "sar",
    "/people/persons/{id}/subject-access.json": "sar",
}
# What each member of staff may do with NYP's case (and its people) and IDAS's case.
ACCESS = {
    "caseworker": {"nyp": {"view", "change", "sar"}, "idas": set()},
    "nyp_viewer": {"nyp": {"view"}, "idas": set()},
    "coordinator": {"nyp": {"view", "change", "sar"}, "idas": {"view", "change", "sar"}},
    "no_scope": {"nyp": set(), "idas": set()},
    "dp_lead": {"nyp": {"view", "dp", "sar"}, "idas": set()},
    "idas_worker": {"nyp": set(), "idas": {"view", "change", "sar"}},
    "idas_dp_lead": {"nyp": set(), "idas": {"dp", "sar"}},
}


@pytest.mark.parametrize("username", list(ACCESS))
def test_every_record_page_answers_by_scope_and_out_of_scope_is_exactly_a_missing_record(world, sign_in, username):
    client = sign_in(world[username])
    records = {"nyp": (world["nyp_case"], world["victim"]), "idas": (world["idas_case"], world["hidden"])}
    for side, (case, person) in records.items():
        allowed = ACCESS[username][side]
        unseen = IDAS_NAMES if side == "nyp" else NYP_NAMES
        for pages, record_id in ((CASE_PAGES, case.pk), (PERSON_PAGES, person.pk)):
            for pattern, need in pages.items():
                response = client.get(pattern.format(id=record_id))
                expected = 200 if need in allowed else 404
                assert response.status_code == expected, (username, pattern, side)
                missing = client.get(pattern.format(id=MISSING))
                assert missing.status_code == 404
                if expected == 404:
                    assert without_tokens(response.content.decode()) == without_tokens(missing.content.decode()), pattern
                body = text(response)
                if not ACCESS[username]["idas" if side == "nyp" else "nyp"]:
                    assert not any(name in body for name in unseen), (username, pattern)


@pytest.mark.parametrize("username", list(ACCESS))
def test_lists_show_only_what_the_user_may_see(world, sign_in, username):
    client = sign_in(world[username])
    for url in ("/people/", "/people/persons/", "/people/cases/", "/people/search/"):
        response = client.get(url)
        if username == "no_scope":
            assert response.status_code == 403
            continue
        assert response.status_code == 200
        body = text(response)
        sees_nyp = "view" in ACCESS[username]["nyp"]
        sees_idas = "view" in ACCESS[username]["idas"]
        if url in ("/people/persons/", "/people/cases/"):
            assert ("MARAC-T-0001" in body or "Adaline" in body) == sees_nyp, url
            assert ("MARAC-T-0002" in body or "Zebedee" in body) == sees_idas, url
        if not sees_idas:
            assert not any(name in body for name in IDAS_NAMES)
        if not sees_nyp:
            assert not any(name in body for name in NYP_NAMES)


def test_pages_with_personal_data_are_never_cached(world, sign_in):
    client = sign_in(world["caseworker"])
    for url in (f"/people/persons/{world['victim'].pk}/", "/people/cases/", f"/people/persons/{world['victim'].pk}/subject-access.json"):
        assert "no-store" in client.get(url)["Cache-Control"]


def test_the_navigation_offers_people_and_cases_only_to_staff_who_see_personal_data(world, sign_in, viewer):
    assert "People and cases" in text(sign_in(world["caseworker"]).get("/people/cases/"))
    assert "People and cases" not in text(sign_in(world["no_scope"]).get("/strategies/"))
    assert "People and cases" not in text(sign_in(viewer).get("/strategies/"))
    assert "People and cases" in text(sign_in(world["idas_dp_lead"]).get("/people/"))


# Searching -------------------------------------------------------------------------------------

def _search(client, **values):
    return client.post("/people/search/", values)


def test_search_by_name_and_date_of_birth_lists_the_person_with_their_roles(world, sign_in):
    client = sign_in(world["caseworker"])
    response = _search(client, first_name="adaline", last_name="TESTPERSON", **{
        "date_of_birth-day": "1", "date_of_birth-month": "5", "date_of_birth-year": "1990"})
    body = text(response)
    assert response.status_code == 200
    assert "1 person found" in body and world["victim"].reference in body and "1 May 1990" in body
    assert "Victim in" in body and "MARAC-T-0001" in body


def test_search_by_identifier_and_nothing_outside_scope(world, sign_in):
    client = sign_in(world["caseworker"])
    assert world["victim"].reference in text(_search(client, identifier_kind="police_nominal", identifier="nom 123"))
    # IDAS's person is not found, and nothing about them comes back.
    body = text(_search(client, identifier_kind="police_nominal", identifier="NOM-999"))
    assert "No one found" in body and world["hidden"].reference not in body and "1985" not in body


def test_search_is_by_post_so_names_stay_out_of_addresses(world, sign_in):
    client = sign_in(world["caseworker"])
    response = client.get("/people/search/?first_name=Adaline&last_name=Testperson")
    assert response.status_code == 200 and "1 person found" not in text(response)
    assert not AuditEvent.objects.filter(action="search").exists()


@pytest.mark.parametrize("values, errors", [
    ({}, ["Enter a first name, last name and date of birth, or an identifier"]),
    ({"first_name": "Adaline"}, ["Enter a last name", "Enter a date of birth"]),
    ({"first_name": "A", "last_name": "B", "date_of_birth-day": "31", "date_of_birth-month": "2", "date_of_birth-year": "1990"},
     ["Enter a real date of birth"]),
    ({"identifier": "NOM-1"}, ["Select the kind of identifier"]),
    ({"identifier_kind": "nhs_number"}, ["Enter the identifier"]),
])
def test_search_form_errors(world, sign_in, values, errors):
    response = _search(sign_in(world["caseworker"]), **values)
    body = text(response)
    assert "There is a problem" in body and "<title>Error: " in body
    for message in errors:
        assert body.count(message) == 2  # in the summary and beside the field


# Registering and editing -----------------------------------------------------------------------

REGISTER = {
    "first_name": "Delphine", "last_name": "Exampleton",
    "date_of_birth-day": "14", "date_of_birth-month": "7", "date_of_birth-year": "1993",
    "gender": "female", "ethnicity": "white_irish", "disability": "no", "sexuality": "",
    "alias_count": "2", "alias-0-first_name": "Del", "alias-0-last_name": "Sampleford", "alias-1-first_name": "",
    "alias-1-last_name": "",
    "address_count": "1", "address-0-line1": "12 Mill Lane", "address-0-line2": "", "address-0-town": "York",
    "address-0-postcode": "yo10 9zz",
    "police_nominal": "NOM-777", "nhs_number": "999 000 0018", "pupil_number": "",
    "lawful_basis": "safeguarding", "purpose": "MARAC referral", "save": "1",
}


def test_registering_a_person_encrypts_them_indexes_them_and_audits_it(world, sign_in):
    client = sign_in(world["caseworker"])
    response = client.post("/people/persons/new/", REGISTER)
    person = Person.objects.get(pk=Person.objects.order_by("-pk").values_list("pk", flat=True)[0])
    assert response.status_code == 302 and response["Location"] == f"/people/persons/{person.pk}/"
    assert (person.full_name, person.date_of_birth, person.gender) == ("Delphine Exampleton", dt.date(1993, 7, 14), "female")
    assert person.aliases == [{"first_name": "Del", "last_name": "Sampleford"}]
    assert person.addresses == [{"lines": ["12 Mill Lane", "York"], "postcode": "YO10 9ZZ"}]
    with connection.cursor() as cursor:
        cursor.execute("SELECT first_name, last_name, aliases, addresses, gender, date_of_birth_text FROM people_person WHERE id = %s", [person.pk])
        row = cursor.fetchone()
        cursor.execute("SELECT value FROM people_personidentifier WHERE person_id = %s", [person.pk])
        row += tuple(v for (v,) in cursor.fetchall())
    assert all(value.startswith("fernet:") for value in row)
    assert not any(word in "".join(row) for word in ("Delphine", "Exampleton", "Sampleford", "Mill Lane", "NOM-777", "1993"))
    event = AuditEvent.objects.filter(action="create", record_type="person", record_id=str(person.pk)).get()
    assert event.purpose == "Safeguarding or vital interests: MARAC referral"
    assert "first_name" in event.fields and "identifier:police_nominal" in event.fields
    # The alias finds them, and so does the page.
    body = text(_search(client, first_name="Del", last_name="Sampleford", **{
        "date_of_birth-day": "14", "date_of_birth-month": "7", "date_of_birth-year": "1993"}))
    assert person.reference in body
    page = text(client.get(person.get_absolute_url()))
    assert "Del Sampleford" in page and "12 Mill Lane, York, YO10 9ZZ" in page and "White: Irish" in page and "999 000 0018" in page


def test_add_another_alias_or_address_keeps_what_was_typed_and_saves_nothing(world, sign_in):
    client = sign_in(world["caseworker"])
    count = Person.objects.count()
    adding = {name: value for name, value in REGISTER.items() if name != "save"}
    response = client.post("/people/persons/new/", {**adding, "add_address": "1"})
    body = text(response)
    assert Person.objects.count() == count
    assert 'name="address-1-line1"' in body and 'value="Delphine"' in body and "There is a problem" not in body


@pytest.mark.parametrize("changes, field, message", [
    ({"first_name": ""}, "first_name", "Enter the person's first name"),
    ({"lawful_basis": ""}, "lawful_basis", "Select the lawful basis for recording this information"),
    ({"purpose": ""}, "purpose", "Enter why you are recording this information"),
    ({"nhs_number": "123"}, "nhs_number", "Enter a real NHS number"),
    ({"pupil_number": "12"}, "pupil_number", "Enter a real unique pupil number"),
    ({"alias-1-first_name": "Solo"}, "alias-1-last_name", "Enter the last name of alias 2"),
    ({"address-0-postcode": "NOT A CODE"}, "address-0-postcode", "Enter a real postcode for address 1"),
    ({"address-0-line1": ""}, "address-0-line1", "Enter the first line of address 1"),
    ({"date_of_birth-year": "2999"}, "date_of_birth-day", "The date of birth must be in the past"),
    ({"date_of_birth-month": ""}, "date_of_birth-month", "The date of birth must include a month"),
])
def test_register_form_errors_link_to_their_field(world, sign_in, changes, field, message):
    client = sign_in(world["caseworker"])
    count = Person.objects.count()
    body = text(client.post("/people/persons/new/", {**REGISTER, **changes}))
    assert Person.objects.count() == count
    assert "There is a problem" in body and message in body and f'href="#{field}"' in body and f'id="{field}"' in body


def test_only_contributors_with_a_scope_may_register(world, sign_in):
    assert sign_in(world["nyp_viewer"]).get("/people/persons/new/").status_code == 403
    assert sign_in(world["dp_lead"]).post("/people/persons/new/", REGISTER).status_code == 403


def test_editing_a_person_shows_their_record_audits_the_read_and_records_changed_fields(world, sign_in):
    client = sign_in(world["caseworker"])
    victim = world["victim"]
    page = text(client.get(f"/people/persons/{victim.pk}/edit/"))
    assert 'value="Adaline"' in page and 'value="NOM-123"' in page
    assert AuditEvent.objects.filter(action="view", record_id=str(victim.pk), purpose="Opened to edit").exists()
    response = client.post(f"/people/persons/{victim.pk}/edit/", {
        "first_name": "Adaline", "last_name": "Testperson", "date_of_birth-day": "1", "date_of_birth-month": "5",
        "date_of_birth-year": "1990", "alias_count": "1", "address_count": "1", "police_nominal": "",
        "nhs_number": "999 000 0018", "pupil_number": "", "ethnicity": "asian_indian", "lawful_basis": "safeguarding",
        "purpose": "Update after MARAC",
    })
    assert response.status_code == 302
    victim = Person.objects.get(pk=victim.pk)
    assert victim.ethnicity == "asian_indian" and not victim.identifiers.filter(kind="police_nominal").exists()
    event = AuditEvent.objects.filter(action="update", record_type="person").latest("sequence")
    assert set(event.fields) == {"ethnicity", "identifier:police_nominal"}


# Cases -----------------------------------------------------------------------------------------

def test_opening_a_case_gives_it_the_next_reference_when_none_is_typed(world, sign_in):
    client = sign_in(world["caseworker"])
    response = client.post("/people/cases/new/", {"kind": "marac", "reference": "", "summary": "Secret summary", "purpose": "Referral"})
    case = Case.objects.get(kind="marac", reference__startswith="MARAC-20")
    assert response["Location"] == f"/people/cases/{case.pk}/"
    assert case.owner == world["caseworker"].organisation and case.summary == "Secret summary"
    with connection.cursor() as cursor:
        cursor.execute("SELECT summary FROM people_case WHERE id = %s", [case.pk])
        assert cursor.fetchone()[0].startswith("fernet:")
    body = text(client.post("/people/cases/new/", {"kind": "marac", "reference": case.reference, "purpose": "Again"}))
    assert f"A case with the reference {case.reference} already exists" in body
    body = text(client.post("/people/cases/new/", {"reference": "bad ref!", "purpose": ""}))
    for message in ("Select the kind of case", "The reference must be 3 to 40", "Enter why you are opening this case"):
        assert message in body


def test_case_page_lists_people_parties_and_disclosures(world, sign_in):
    from saferhub.people import services

    services.case_party_add(user=world["caseworker"], case_id=world["nyp_case"].pk, organisation=world["idas_worker"].organisation,
                            reason="Attends the MARAC", lawful_basis="safeguarding", agreement=world["agreement"])
    body = text(sign_in(world["caseworker"]).get(f"/people/cases/{world['nyp_case'].pk}/"))
    for expected in ("Case MARAC-T-0001", "Adaline Testperson", "Victim", "Child", "Perpetrator", "Referral after a DASH",
                     "IDAS", "Attends the MARAC", "Safeguarding or vital interests", "MARAC protocol", "Close this case"):
        assert expected in body
    assert f'href="/people/persons/{world["victim"].pk}/"' in body


def test_adding_a_participant_searches_then_picks(world, sign_in):
    client = sign_in(world["caseworker"])
    case = world["nyp_case"]
    other = Person.objects.create(first_name="Eli", last_name="Newcombe", created_by_organisation=world["caseworker"].organisation)
    from saferhub.people.services import _indexes_rebuild
    other.date_of_birth = dt.date(2000, 1, 2)
    other.save()
    _indexes_rebuild(other, {})
    search = {"first_name": "Eli", "last_name": "Newcombe", "date_of_birth-day": "2", "date_of_birth-month": "1",
              "date_of_birth-year": "2000"}
    found = text(client.post(f"/people/cases/{case.pk}/people/add/", {**search, "step": "search"}))
    assert "Eli Newcombe" in found and "Their role in the case" in found
    missing_role = text(client.post(f"/people/cases/{case.pk}/people/add/", {**search, "step": "add", "person": other.pk, "purpose": "x"}))
    assert "Select the person's role in the case" in missing_role
    response = client.post(f"/people/cases/{case.pk}/people/add/", {**search, "step": "add", "person": other.pk, "role": "other",
                                                                 "purpose": "Household member"})
    assert response.status_code == 302
    assert CaseParticipant.objects.filter(case=case, person=other, role="other").exists()
    assert AuditEvent.objects.filter(action="search", purpose="Adding the person to a case").exists()


def test_registering_from_a_case_returns_with_the_person_chosen(world, sign_in):
    client = sign_in(world["caseworker"])
    case = world["nyp_case"]
    response = client.post(f"/people/persons/new/?case={case.pk}", REGISTER)
    person = Person.objects.order_by("-pk").first()
    assert response["Location"] == f"/people/cases/{case.pk}/people/add/?person={person.pk}"
    page = text(client.get(response["Location"]))
    assert "Delphine Exampleton" in page and f'name="chosen" value="{person.pk}"' in page
    client.post(f"/people/cases/{case.pk}/people/add/", {"chosen": person.pk, "step": "add", "person": person.pk,
                                                      "role": "victim", "purpose": "Referral"})
    assert CaseParticipant.objects.filter(case=case, person=person, role="victim").exists()
    # Someone the user may not see cannot be chosen this way.
    assert client.get(f"/people/cases/{case.pk}/people/add/?person={world['hidden'].pk}").status_code == 404


def test_adding_an_organisation_is_a_disclosure_with_its_lawful_basis(world, sign_in):
    client = sign_in(world["caseworker"])
    case, idas = world["nyp_case"], world["idas_worker"].organisation
    body = text(client.post(f"/people/cases/{case.pk}/organisations/add/", {"organisation": idas.pk}))
    assert "Select the lawful basis for sharing" in body and "Enter why the organisation needs to be party" in body
    body = text(client.post(f"/people/cases/{case.pk}/organisations/add/", {
        "organisation": idas.pk, "lawful_basis": "consent", "agreement": world["agreement"].pk, "purpose": "Attends the MARAC"}))
    assert "does not cover sharing on the basis of consent" in body
    response = client.post(f"/people/cases/{case.pk}/organisations/add/", {
        "organisation": idas.pk, "lawful_basis": "safeguarding", "agreement": world["agreement"].pk, "purpose": "Attends the MARAC"})
    assert response.status_code == 302
    disclosure = Disclosure.objects.get(case=case)
    assert (disclosure.to_organisation, disclosure.lawful_basis, disclosure.agreement) == (idas, "safeguarding", world["agreement"])
    # IDAS staff now see the case and its people.
    assert sign_in(world["idas_worker"]).get(f"/people/cases/{case.pk}/").status_code == 200


def test_recording_a_disclosure_about_one_person(world, sign_in, make_user):
    from saferhub.core.factories import OrganisationFactory

    gp = OrganisationFactory(slug="gp", name="A GP practice", type="health")
    client = sign_in(world["caseworker"])
    case = world["nyp_case"]
    form = text(client.get(f"/people/cases/{case.pk}/disclosures/add/"))
    assert "Adaline Testperson" in form and "The whole case" in form
    assert AuditEvent.objects.filter(action="view", record_type="case", purpose="Recording a disclosure").exists()
    body = text(client.post(f"/people/cases/{case.pk}/disclosures/add/", {
        "to_organisation": gp.pk, "person": world["victim"].pk, "lawful_basis": "safeguarding",
        "agreement": world["agreement"].pk, "purpose": "Safety plan"}))
    assert "Both organisations must be parties to the MARAC protocol" in body
    response = client.post(f"/people/cases/{case.pk}/disclosures/add/", {
        "to_organisation": gp.pk, "person": world["victim"].pk, "lawful_basis": "safeguarding", "purpose": "Safety plan"})
    assert response.status_code == 302
    assert Disclosure.objects.get(case=case).person == world["victim"]
    body = text(client.post(f"/people/cases/{case.pk}/disclosures/add/", {
        "to_organisation": gp.pk, "person": world["hidden"].pk, "lawful_basis": "safeguarding", "purpose": "x"}))
    assert "Select a person in this case" in body


def test_closing_a_case(world, sign_in):
    client = sign_in(world["caseworker"])
    case = world["nyp_case"]
    assert "Enter why the case is being closed" in text(client.post(f"/people/cases/{case.pk}/close/", {"purpose": ""}))
    assert client.post(f"/people/cases/{case.pk}/close/", {"purpose": "Risk reduced"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "closed" and case.closed_at
    body = text(client.get(f"/people/cases/{case.pk}/"))
    assert "Closed" in body and "Close this case" not in body and "Add a person to the case" not in body


# Audit events ----------------------------------------------------------------------------------

def test_every_page_read_writes_an_audit_event_without_personal_values(world, sign_in):
    client = sign_in(world["caseworker"])
    victim, case = world["victim"], world["nyp_case"]
    before = AuditEvent.objects.count()
    client.get(f"/people/persons/{victim.pk}/")
    client.get("/people/persons/")
    client.get("/people/cases/?status=open")
    client.get(f"/people/cases/{case.pk}/")
    _search(client, first_name="Adaline", last_name="Testperson", **{
        "date_of_birth-day": "1", "date_of_birth-month": "5", "date_of_birth-year": "1990"})
    client.get(f"/people/persons/{victim.pk}/subject-access.json")
    events = list(AuditEvent.objects.filter(sequence__gt=before).order_by("sequence"))
    assert [(e.action, e.record_type) for e in events] == [
        ("view", "person"), ("list", "person"), ("list", "case"), ("view", "case"), ("search", "person"), ("export", "person")]
    assert events[1].detail["count"] == 3 and victim.pk in events[1].detail["results"]
    assert events[2].detail == {"count": 1, "page": 1, "status": "open", "results": [case.pk]}
    assert all(e.actor == world["caseworker"] and e.organisation == "North Yorkshire Police" for e in events)
    assert all(e.request_id for e in events)
    dump = json.dumps(list(AuditEvent.objects.values()), default=str)
    for value in ("Adaline", "Testperson", "Offenderson", "NOM-123", "999 000 0018", "1990-05-01", "DASH"):
        assert value not in dump
    assert chain_verify()[1] is None


def test_a_page_that_fails_writes_no_event(world, sign_in):
    client = sign_in(world["caseworker"])
    before = AuditEvent.objects.count()
    client.get(f"/people/persons/{world['hidden'].pk}/")
    client.get(f"/people/cases/{world['idas_case'].pk}/")
    assert AuditEvent.objects.count() == before


# Break-glass -----------------------------------------------------------------------------------

REASON = "Victim's school called: urgent safeguarding concern"


def test_break_glass_opens_an_out_of_scope_case_with_a_warning_and_emails_the_dp_lead(world, sign_in, django_capture_on_commit_callbacks):
    client = sign_in(world["caseworker"])
    case = world["idas_case"]
    assert client.get(f"/people/cases/{case.pk}/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/people/break-glass/", {"reference": "marac-t-0002", "reason": REASON})
    assert response.status_code == 302 and response["Location"] == f"/people/cases/{case.pk}/"
    body = text(client.get(response["Location"]))
    assert "You opened this case by break-glass; your organisation's data protection lead will be told" in body
    assert "Zebedee Quincefield" in body
    assert client.get(f"/people/persons/{world['hidden'].pk}/").status_code == 200
    grant = BreakGlassAccess.objects.get(user=world["caseworker"], case=case)
    assert grant.reason == REASON
    assert AuditEvent.objects.filter(action="break_glass", record_id=str(case.pk), actor=world["caseworker"]).exists()
    assert AuditEvent.objects.filter(action="view", record_type="case", record_id=str(case.pk), purpose="Opened by break-glass").exists()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dp_lead@example.org"]
    assert "MARAC-T-0002" in message.subject and "caseworker" in message.body and "MARAC-T-0002" in message.body
    for secret in ("Zebedee", "Quincefield", "school", REASON):
        assert secret not in message.subject + message.body


def test_break_glass_form_errors(world, sign_in):
    client = sign_in(world["caseworker"])
    body = text(client.post("/people/break-glass/", {"reference": "", "reason": "too short"}))
    assert "Enter the case reference" in body and "Explain in at least 20 characters" in body
    body = text(client.post("/people/break-glass/", {"reference": "NO-SUCH-CASE", "reason": REASON}))
    assert "No case has that reference" in body
    assert not BreakGlassAccess.objects.exists()


def test_break_glass_is_not_needed_for_a_case_in_scope_and_not_offered_without_scope(world, sign_in):
    client = sign_in(world["caseworker"])
    response = client.post("/people/break-glass/", {"reference": "MARAC-T-0001", "reason": REASON})
    assert response["Location"] == f"/people/cases/{world['nyp_case'].pk}/"
    assert not BreakGlassAccess.objects.exists()
    assert "break-glass was not needed" in text(client.get(response["Location"]))
    assert sign_in(world["no_scope"]).post("/people/break-glass/", {"reference": "MARAC-T-0002", "reason": REASON}).status_code == 403


# The data protection lead's pages --------------------------------------------------------------

def test_who_has_seen_a_case_lists_every_event_and_is_itself_audited(world, sign_in):
    case = world["nyp_case"]
    sign_in(world["coordinator"]).get(f"/people/cases/{case.pk}/")
    client = sign_in(world["dp_lead"])
    body = text(client.get(f"/people/cases/{case.pk}/audit/"))
    assert "Who has seen this record" in body and "Viewed" in body and "Created" in body
    assert "Test User" in body or "coordinator" in body
    assert "North Yorkshire Police" in body
    event = AuditEvent.objects.latest("sequence")
    assert (event.action, event.record_type, event.record_id, event.actor) == ("view", "audit", f"case:{case.pk}", world["dp_lead"])


def test_who_has_seen_a_person_includes_searches_that_found_them_and_views_of_their_cases(world, sign_in):
    victim = world["victim"]
    client = sign_in(world["coordinator"])
    _search(client, identifier_kind="police_nominal", identifier="NOM-123")
    _search(client, identifier_kind="police_nominal", identifier="NOM-999")
    client.get(f"/people/cases/{world['nyp_case'].pk}/")
    client = sign_in(world["dp_lead"])
    client.get(f"/people/persons/{victim.pk}/audit/")
    body = text(client.get(f"/people/persons/{victim.pk}/audit/"))
    # Not the search that found only someone else, nor the lead's own look at this page.
    assert body.count("<td class=\"govuk-table__cell\">Searched</td>") == 1
    assert "Viewed" in body and "MARAC-T-0001" in body and "Created" in body and "Audit trail of" not in body


def test_audit_export_is_a_csv_of_the_organisations_records_and_staff(world, sign_in):
    sign_in(world["idas_worker"]).get(f"/people/cases/{world['idas_case'].pk}/")
    client = sign_in(world["dp_lead"])
    today = dt.date.today()
    body = text(client.get("/people/audit/export/", {"start-day": "1", "start-month": "1", "start-year": "2030",
                                                     "end-day": "1", "end-month": "1", "end-year": "2029"}))
    assert "The end date must be the same as or after the start date" in body
    response = client.get("/people/audit/export/", {
        "start-day": today.day, "start-month": today.month, "start-year": today.year,
        "end-day": today.day, "end-month": today.month, "end-year": today.year})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and {r["record_label"] for r in rows if r["record_type"] == "case"} == {"MARAC-T-0001"}
    assert all(r["organisation"] == "North Yorkshire Police" or r["record_id"] in {str(world["nyp_case"].pk)} | {
        str(p.pk) for p in (world["victim"], world["child"], world["perpetrator"])} for r in rows)
    event = AuditEvent.objects.latest("sequence")
    assert (event.action, event.record_type, event.detail["count"]) == ("export", "audit", len(rows))


def test_break_glass_report_lists_own_staff_grants_and_takes_a_review(world, sign_in):
    from saferhub.people import services

    grant = services.break_glass_open(user=world["caseworker"], case_id=world["idas_case"].pk, reason=REASON)
    services.break_glass_open(user=world["idas_worker"], case_id=world["nyp_case"].pk, reason="IDAS's own reason for opening")
    client = sign_in(world["dp_lead"])
    body = text(client.get("/people/break-glass/report/"))
    assert REASON in body and "MARAC-T-0002" in body and "Not reviewed" in body
    assert "IDAS's own reason" not in body
    assert "Enter a note on your review" in text(client.post(f"/people/break-glass/{grant.pk}/review/", {"note": ""}))
    assert client.post(f"/people/break-glass/{grant.pk}/review/", {"note": "Justified: school call logged"}).status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == world["dp_lead"] and grant.review_note == "Justified: school call logged"
    assert REASON not in text(client.get("/people/break-glass/report/?show=unreviewed"))
    # Another organisation's lead, and staff who are not leads, get nothing.
    assert sign_in(world["idas_dp_lead"]).get(f"/people/break-glass/{grant.pk}/review/").status_code == 404
    for username in ("caseworker", "coordinator"):
        client = sign_in(world[username])
        assert client.get("/people/break-glass/report/").status_code == 404
        assert client.get("/people/audit/export/").status_code == 404


# Subject access --------------------------------------------------------------------------------

def test_subject_access_export_holds_everything_on_the_person_within_what_the_organisation_holds(world, sign_in):
    from saferhub.people import services

    victim = world["victim"]
    services.case_participant_add(user=world["coordinator"], case_id=world["idas_case"].pk, person_id=victim.pk,
                                  role="other", purpose="Also in IDAS's case")
    services.disclosure_record(user=world["caseworker"], case=world["nyp_case"], to_organisation=world["idas_worker"].organisation,
                               lawful_basis="safeguarding", purpose="Safety planning", person=victim)
    client = sign_in(world["caseworker"])
    response = client.get(f"/people/persons/{victim.pk}/subject-access.json")
    assert response["Content-Disposition"] == f'attachment; filename="subject-access-{victim.reference}.json"'
    export = response.json()
    assert export["person"]["first_name"] == "Adaline" and export["person"]["date_of_birth"] == "1990-05-01"
    assert {i["kind"]: i["value"] for i in export["identifiers"]} == {"NHS number": "999 000 0018", "Police nominal id": "NOM-123"}
    assert [(c["reference"], c["roles"]) for c in export["cases"]] == [("MARAC-T-0001", ["Victim"])]
    assert [d["purpose"] for d in export["disclosures"]] == ["Safety planning"]
    assert any(e["action"] == "Created" for e in export["audit_events"])
    assert all("Test User" not in json.dumps(e) for e in export["audit_events"])
    event = AuditEvent.objects.latest("sequence")
    assert (event.action, event.record_id, event.purpose) == ("export", str(victim.pk), "Subject access request")
    page = text(client.get(f"/people/persons/{victim.pk}/subject-access/"))
    assert "Everything held about" in page and "NOM-123" in page and "Safety planning" in page and "MARAC-T-0002" not in page
    # A data protection lead of an organisation holding the person may export it too.
    assert sign_in(world["dp_lead"]).get(f"/people/persons/{victim.pk}/subject-access.json").json()["person"]["last_name"] == "Testperson"
