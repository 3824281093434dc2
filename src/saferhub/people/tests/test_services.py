"""The services and selectors the pages stand on (break-glass by reference, its email and review,
disclosures under an agreement, references, lists), the synthetic generator and its audit chain."""
import datetime as dt
import io
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404

from saferhub.audit.models import AuditEvent
from saferhub.audit.trail import chain_verify
from saferhub.core.factories import OrganisationFactory
from saferhub.partners.models import PersonalDataScope, User
from saferhub.partners.services import partnership_import
from saferhub.people import selectors, services
from saferhub.people.demo import PEOPLE_LOGINS, demo_people_generate, demo_people_users
from saferhub.people.models import BreakGlassAccess, Case, CaseParticipant, Disclosure, Person, PersonIdentifier
from saferhub.people.synthetic import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, SURNAMES, nhs_number
from saferhub.people.vocabulary import nhs_number_valid, postcode_normalise

pytestmark = pytest.mark.django_db
REASON = "Urgent call from the victim's school about their safety"


# Break-glass -----------------------------------------------------------------------------------

def test_break_glass_by_reference_grants_access_flags_it_and_tells_the_lead_after_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case, grant = services.break_glass_open_by_reference(user=world["caseworker"], reference=" marac-t-0002 ", reason=REASON)
    assert case == world["idas_case"] and grant.case == case
    assert len(mail.outbox) == 0 and len(callbacks) == 1  # nothing is sent unless the grant commits
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [["dp_lead@example.org"]]
    assert services.case_view(user=world["caseworker"], case_id=case.pk) == case


def test_break_glass_by_reference_errors_and_scope(world):
    with pytest.raises(ValidationError) as error:
        services.break_glass_open_by_reference(user=world["caseworker"], reference="NOPE", reason="short")
    assert error.value.message_dict == {"reference": ["No case has that reference"],
                                        "reason": ["Explain in at least 20 characters why you need to open this record"]}
    with pytest.raises(PermissionDenied):
        services.break_glass_open_by_reference(user=world["no_scope"], reference="MARAC-T-0002", reason=REASON)
    case, grant = services.break_glass_open_by_reference(user=world["caseworker"], reference="MARAC-T-0001", reason=REASON)
    assert grant is None and case == world["nyp_case"] and not BreakGlassAccess.objects.exists()


def test_break_glass_email_goes_only_to_active_leads_of_the_users_organisation(world, make_user, organisation):
    from saferhub.partners.models import Role

    make_user(Role.VIEWER, username="former_lead", is_data_protection_lead=True, is_active=False, email="former@example.org")
    make_user(Role.VIEWER, username="second_lead", is_data_protection_lead=True, email="second@example.org")
    grant = services.break_glass_open(user=world["caseworker"], case_id=world["idas_case"].pk, reason=REASON)
    assert services.break_glass_notify(grant_id=grant.pk) == 2
    assert sorted(mail.outbox[0].to) == ["dp_lead@example.org", "second@example.org"]
    lonely = services.break_glass_open(user=world["idas_worker"], case_id=world["nyp_case"].pk, reason=REASON)
    User.objects.filter(username="idas_dp_lead").update(email="")
    assert services.break_glass_notify(grant_id=lonely.pk) == 0


def test_a_break_glass_review_is_for_the_users_own_data_protection_lead(world):
    grant = services.break_glass_open(user=world["caseworker"], case_id=world["idas_case"].pk, reason=REASON)
    for outsider in ("idas_dp_lead", "coordinator", "caseworker"):
        with pytest.raises(Http404):
            services.break_glass_review(user=world[outsider], grant_id=grant.pk, note="Looks fine")
    with pytest.raises(ValidationError):
        services.break_glass_review(user=world["dp_lead"], grant_id=grant.pk, note="  ")
    reviewed = services.break_glass_review(user=world["dp_lead"], grant_id=grant.pk, note="Justified")
    assert reviewed.reviewed_by == world["dp_lead"] and reviewed.reviewed_at
    event = AuditEvent.objects.latest("sequence")
    assert (event.action, event.record_type, event.record_label) == ("update", "break_glass", "MARAC-T-0002")
    assert [g.pk for g in selectors.break_glass_report(user=world["dp_lead"])] == [grant.pk]
    assert selectors.break_glass_report(user=world["dp_lead"], unreviewed_only=True) == []


# Disclosures and references --------------------------------------------------------------------

def test_a_disclosure_under_an_agreement_needs_both_organisations_to_be_parties_to_it(world):
    health = OrganisationFactory(slug="icb", name="Health board", type="health")
    case = world["nyp_case"]
    with pytest.raises(ValidationError) as error:
        services.case_disclosure_record(user=world["caseworker"], case_id=case.pk, to_organisation=health,
                                        lawful_basis="safeguarding", purpose="Health visiting", agreement=world["agreement"])
    assert "Both organisations must be parties" in str(error.value)
    world["agreement"].parties.add(health)
    disclosure = services.case_disclosure_record(user=world["caseworker"], case_id=case.pk, to_organisation=health,
                                                 lawful_basis="safeguarding", purpose="Health visiting",
                                                 agreement=world["agreement"], person_id=world["child"].pk)
    assert disclosure.person == world["child"] and disclosure.from_organisation == world["caseworker"].organisation
    with pytest.raises(ValidationError):
        services.case_disclosure_record(user=world["caseworker"], case_id=case.pk, to_organisation=health,
                                        lawful_basis="safeguarding", purpose="x", person_id=world["hidden"].pk)
    with pytest.raises(Http404):
        services.case_disclosure_record(user=world["nyp_viewer"], case_id=case.pk, to_organisation=health,
                                        lawful_basis="safeguarding", purpose="x")


def test_case_reference_next_counts_on_from_the_references_taken(world):
    year = dt.date.today().year
    assert services.case_reference_next(kind="marac") == f"MARAC-{year}-0001"
    services.case_open(user=world["caseworker"], kind="marac", reference=f"MARAC-{year}-0001", purpose="Referral")
    services.case_open(user=world["caseworker"], kind="marac", reference=f"MARAC-{year}-0003", purpose="Referral")
    assert services.case_reference_next(kind="marac") == f"MARAC-{year}-0004"
    assert services.case_reference_next(kind="encompass", year=2030) == "ENC-2030-0001"


# Lists and who has seen ------------------------------------------------------------------------

def test_lists_are_restricted_paginated_and_audited_with_counts(world, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    page = selectors.person_list(user=world["caseworker"], page=2)
    assert [p.pk for p in page] == [world["perpetrator"].pk] and page.paginator.count == 3
    event = AuditEvent.objects.latest("sequence")
    assert event.detail == {"count": 3, "page": 2, "results": [world["perpetrator"].pk]}
    cases = selectors.case_list(user=world["coordinator"], status="open")
    assert {c.reference for c in cases} == {"MARAC-T-0001", "MARAC-T-0002"}
    assert list(selectors.case_list(user=world["no_scope"])) == []


def test_person_events_take_in_searches_lists_and_their_cases(world):
    victim = world["victim"]
    services.person_search(user=world["coordinator"], identifier_kind="police_nominal", identifier="NOM-123")
    services.person_search(user=world["coordinator"], identifier_kind="police_nominal", identifier="NOM-999")
    selectors.person_list(user=world["idas_worker"])
    services.case_view(user=world["coordinator"], case_id=world["nyp_case"].pk)
    services.case_view(user=world["coordinator"], case_id=world["idas_case"].pk)
    events = list(selectors.person_events(victim))
    kinds = [(e.action, e.record_type) for e in events]
    assert kinds.count(("search", "person")) == 1
    assert ("list", "person") not in kinds  # IDAS's list did not include her
    assert [e.record_label for e in events if e.action == "view" and e.record_type == "case"] == ["MARAC-T-0001"]
    assert any(e.action == "update" and e.record_type == "case" for e in events)  # added to the case


def test_audit_trail_and_export_are_only_for_data_protection_leads(world):
    with pytest.raises(Http404):
        selectors.record_audit_trail(user=world["coordinator"], record_type="case", record_id=world["nyp_case"].pk)
    with pytest.raises(Http404):
        selectors.record_audit_trail(user=world["dp_lead"], record_type="case", record_id=world["idas_case"].pk)
    with pytest.raises(Http404):
        selectors.audit_export(user=world["caseworker"], start=dt.date.today(), end=dt.date.today())
    trail = selectors.record_audit_trail(user=world["idas_dp_lead"], record_type="person", record_id=world["hidden"].pk)
    assert trail.page.paginator.count >= 2


# Synthetic data --------------------------------------------------------------------------------

def test_synthetic_identifiers_are_valid_and_in_the_test_ranges():
    import random

    rng = random.Random(1)
    numbers = [nhs_number(rng) for _ in range(50)]
    assert all(n.startswith("999") and nhs_number_valid(n) for n in numbers)
    assert nhs_number_valid("999 000 0018") and not nhs_number_valid("999 000 0019")
    assert postcode_normalise("yo109zz") == "YO10 9ZZ" and postcode_normalise("not one") == ""


@pytest.fixture
def partnership(db):
    partnership_import()


def _signature() -> list[tuple]:
    rows = CaseParticipant.objects.select_related("case", "person").order_by("case__reference", "role", "person__pk")
    return [(r.case.reference, r.role, r.person.first_name, r.person.last_name, r.person.date_of_birth) for r in rows]


def test_the_generator_makes_synthetic_cases_through_the_services_and_the_chain_verifies(partnership):
    lines = demo_people_generate(cases=12, seed=7)
    assert "12 synthetic cases" in lines[-1]
    cases = Case.objects.filter(reference__contains="-DEMO-")
    assert cases.count() == 12 and cases.filter(kind="marac").count() >= 6
    assert all(c.party_links.count() >= 2 for c in cases)
    names = set(FEMALE_FIRST_NAMES + MALE_FIRST_NAMES)
    today = dt.date.today()
    for person in Person.objects.all():
        assert person.first_name in names and person.last_name in SURNAMES
        roles = set(person.participations.values_list("role", flat=True))
        age = (today - person.date_of_birth).days / 365.25
        assert (0 <= age < 18) if roles == {"child"} else (18 <= age < 72)
    assert all(i.value.startswith(("999 ", "DEMO-", "X")) for i in PersonIdentifier.objects.all())
    assert Disclosure.objects.filter(agreement__isnull=False).count() >= cases.count()
    assert AuditEvent.objects.filter(action="create", record_type="person").count() == Person.objects.count()
    checked, problem = chain_verify()
    assert problem is None and checked == AuditEvent.objects.count()
    # Search works on what it made: its blind indexes are the application's own.
    victim = CaseParticipant.objects.filter(role="victim").select_related("person").first().person
    coordinator = User.objects.get(username="marac.coordinator")
    assert victim in services.person_search(user=coordinator, first_name=victim.first_name, last_name=victim.last_name,
                                            date_of_birth=victim.date_of_birth)


def test_the_generator_is_deterministic_and_adds_nothing_twice(partnership):
    demo_people_generate(cases=5, seed=11)
    first = _signature()
    assert demo_people_generate(cases=5, seed=11)[-1].startswith("People register: 0 synthetic cases")
    assert _signature() == first
    Case.objects.all().delete()  # participants go with their cases; the people stay
    Person.objects.all().delete()
    demo_people_generate(cases=5, seed=11)
    assert _signature() == first
    Case.objects.all().delete()
    Person.objects.all().delete()
    demo_people_generate(cases=5, seed=12)
    assert _signature() != first


def test_demo_users_have_the_scopes_the_demo_needs(partnership):
    demo_people_users()
    users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in PEOPLE_LOGINS])}
    assert users["marac.coordinator"].personal_data_scope == PersonalDataScope.ALL
    assert users["idva"].organisation.slug == "idas" and users["idva"].personal_data_scope == PersonalDataScope.PARTIES
    assert users["dp.lead"].is_data_protection_lead and users["dp.lead"].role == "viewer"
    assert all(u.check_password("saferhub-demo-2026") for u in users.values())
    assert all(u.totpdevice_set.filter(confirmed=True).exists() for u in users.values())


def test_the_demo_command_makes_cases_and_checks_the_chain(partnership):
    out = io.StringIO()
    call_command("demo", "people", "--cases", "3", "--seed", "5", stdout=out)
    assert "3 synthetic cases" in out.getvalue() and re.search(r"Audit chain verified: \d+ events", out.getvalue())
    out = io.StringIO()
    call_command("people", "demo", "--cases", "3", "--seed", "5", stdout=out)
    assert "0 synthetic cases" in out.getvalue()
