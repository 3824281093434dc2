"""Transferring a MARAC case to another area with its history: the old referral marked transferred,
a new referral in the receiving area with the same people, the receiving coordinating organisation
made a party under safeguarding, the history readable by the receiving coordinator and no one else."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from saferhub.audit.models import AuditEvent
from saferhub.core.factories import OrganisationFactory
from saferhub.marac import transfers
from saferhub.marac.models import (
    AgencyResearch, ChecklistAnswer, ChecklistQuestion, MaracAction, MaracReferral, ReferralStatus, ReferralTransfer,
)
from saferhub.marac.tests import builders
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.models import Case, CaseParty, Disclosure, LawfulBasis

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user, organisation, other_organisation):
    council = OrganisationFactory(type="local_authority", name="City council", slug="city-council")
    probation = OrganisationFactory(type="probation", name="Probation", slug="probation")
    staff = {
        "referrer": make_user(Role.CONTRIBUTOR, org=organisation, username="referrer", personal_data_scope=PersonalDataScope.PARTIES),
        "ny_coordinator": make_user(Role.CONTRIBUTOR, org=other_organisation, username="ny_coordinator",
                                    personal_data_scope=PersonalDataScope.PARTIES),
        "york_coordinator": make_user(Role.CONTRIBUTOR, org=council, username="york_coordinator",
                                      personal_data_scope=PersonalDataScope.PARTIES),
        "third_agency": make_user(Role.CONTRIBUTOR, org=probation, username="third_agency",
                                  personal_data_scope=PersonalDataScope.PARTIES),
    }
    north = builders.area(organisation=other_organisation, coordinators=[staff["ny_coordinator"]])
    york = builders.area(organisation=council, slug="york", name="York", coordinators=[staff["york_coordinator"]])
    referrer = staff["referrer"]
    victim = builders.person(referrer, "Adaline", "Testperson", dt.date(1990, 5, 1))
    perpetrator = builders.person(referrer, "Carl", "Offenderson", dt.date(1987, 1, 20))
    child = builders.person(referrer, "Bea", "Testperson", dt.date(2016, 9, 12))
    old = builders.referral(user=referrer, marac_area=north, victim=victim, perpetrators=[perpetrator],
                            referred_on=dt.date(2025, 3, 1), children=[(child, 8)], score=15, criteria_met=["visible_high_risk"],
                            safe_contact_details="Synthetic safe number", safe_to_call=True, status=ReferralStatus.ACCEPTED)
    question = ChecklistQuestion.objects.create(checklist=old.checklist, number=1, key="current-injury", topic="Current injury")
    ChecklistAnswer.objects.create(referral=old, question=question, answer="yes", comment="Synthetic comment")
    meeting = builders.meeting(marac_area=north, on=dt.date(2025, 3, 6), referrals=[old])
    action = MaracAction.objects.create(referral=old, meeting=meeting, organisation=organisation,
                                        description="Synthetic action: fit a door alarm", deadline=dt.date(2025, 4, 1))
    research = AgencyResearch.objects.create(meeting=meeting, referral=old, organisation=organisation,
                                             text="Synthetic research: two call-outs")
    return {"north": north, "york": york, "old": old, "victim": victim, "perpetrator": perpetrator, "child": child,
            "meeting": meeting, "action": action, "research": research, "council": council, **staff}


def _transfer(world, **overrides):
    values = {"user": world["ny_coordinator"], "referral_id": world["old"].pk, "to_area": world["york"],
              "reason": "The victim has moved to York"} | overrides
    return transfers.referral_transfer(**values)


def test_a_transfer_makes_a_linked_referral_in_the_receiving_area(world):
    transfer = _transfer(world)
    old, new = MaracReferral.objects.get(pk=world["old"].pk), transfer.to_referral
    assert old.status == ReferralStatus.TRANSFERRED
    assert new.area == world["york"] and new.status == ReferralStatus.SUBMITTED and new.case_id != old.case_id
    assert (transfer.from_area, transfer.to_area, transfer.reason) == (world["north"], world["york"], "The victim has moved to York")
    # The same people from the register, linked not copied; the referral's content carried over.
    people = set(new.case.participants.values_list("person_id", "role"))
    assert people == set(old.case.participants.values_list("person_id", "role"))
    assert (new.score, new.criteria_met, new.safe_contact_details, new.safe_to_call) == (15, ["visible_high_risk"], "Synthetic safe number", True)
    assert new.referring_organisation == old.referring_organisation
    assert [(a.answer, a.comment) for a in new.answers.all()] == [("yes", "Synthetic comment")]
    assert [(c.person_id, c.age_at_referral) for c in new.children.all()] == [(world["child"].pk, 8)]
    assert new.case.owner == world["council"]


def test_the_receiving_coordinating_organisation_is_made_a_party_on_the_basis_of_safeguarding(world):
    transfer = _transfer(world)
    for case_id in (world["old"].case_id, transfer.to_referral.case_id):
        assert CaseParty.objects.filter(case_id=case_id, organisation=world["council"]).exists()
        disclosure = Disclosure.objects.get(case_id=case_id, to_organisation=world["council"])
        assert disclosure.lawful_basis == LawfulBasis.SAFEGUARDING
    event = AuditEvent.objects.filter(record_type="marac_referral", record_id=str(world["old"].pk)).latest("sequence")
    assert event.action == "disclose" and event.detail["to_area"] == "york"
    assert "moved to York" not in str(event.detail) + event.purpose


def test_the_receiving_coordinator_sees_the_history_and_a_third_agency_does_not(world):
    york = world["york_coordinator"]
    assert not MaracReferral.objects.restrict(york).filter(pk=world["old"].pk).exists()
    transfer = _transfer(world)
    history = transfers.transfer_history(user=york, transfer_id=transfer.pk)
    assert history.meetings == [world["meeting"]]
    assert [a.description for a in history.actions] == ["Synthetic action: fit a door alarm"]
    assert [r.text for r in history.research] == ["Synthetic research: two call-outs"]
    assert history.new_visible
    assert MaracAction.objects.restrict(york).filter(pk=world["action"].pk).exists()
    # The sending coordinator reads it too; an agency party to neither case does not.
    assert transfers.transfer_history(user=world["ny_coordinator"], transfer_id=transfer.pk).old == world["old"]
    with pytest.raises(Http404):
        transfers.transfer_history(user=world["third_agency"], transfer_id=transfer.pk)
    with pytest.raises(Http404):
        transfers.transfer_history(user=york, transfer_id=transfer.pk + 1000)


def test_only_the_sending_areas_coordinator_transfers(world):
    for someone in (world["referrer"], world["york_coordinator"], world["third_agency"]):
        with pytest.raises(Http404):
            _transfer(world, user=someone)


@pytest.mark.parametrize("overrides, field", [
    ({"reason": "  "}, "reason"),
    ({"to_area": None}, "to_area"),
    ({"to_area": "same"}, "to_area"),
])
def test_bad_input_is_refused_and_nothing_is_half_saved(world, overrides, field):
    if overrides.get("to_area") == "same":
        overrides = {"to_area": world["north"]}
    cases, parties = Case.objects.count(), CaseParty.objects.count()
    with pytest.raises(ValidationError) as error:
        _transfer(world, **overrides)
    assert field in error.value.message_dict
    assert (Case.objects.count(), CaseParty.objects.count(), ReferralTransfer.objects.count()) == (cases, parties, 0)
    assert MaracReferral.objects.get(pk=world["old"].pk).status == ReferralStatus.ACCEPTED


def test_a_referral_is_transferred_once(world):
    _transfer(world)
    with pytest.raises(ValidationError, match="transferred"):
        _transfer(world)


def test_an_inactive_area_cannot_receive(world):
    world["york"].active = False
    world["york"].save()
    assert transfers.transfer_areas(referral=world["old"]) == []
    with pytest.raises(ValidationError):
        _transfer(world)


# Pages ------------------------------------------------------------------------------------------

@pytest.fixture
def signed_in(client):
    from saferhub.accounts.testing import otp_login

    def sign(user):
        client.logout()
        otp_login(client, user)
        return client

    return sign


def test_transferring_on_the_page_and_reading_the_history(world, signed_in):
    client = signed_in(world["ny_coordinator"])
    form = client.get(f"/marac/referrals/{world['old'].pk}/transfer/")
    assert form.status_code == 200 and "York" in form.content.decode()
    refused = client.post(f"/marac/referrals/{world['old'].pk}/transfer/", {"to_area": str(world["york"].pk), "reason": ""})
    assert refused.status_code == 200 and "Say why the case is being transferred" in refused.content.decode()
    done = client.post(f"/marac/referrals/{world['old'].pk}/transfer/", {"to_area": str(world["york"].pk), "reason": "Moved to York"})
    transfer = ReferralTransfer.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/marac/transfers/{transfer.pk}/"
    client = signed_in(world["york_coordinator"])
    page = client.get(f"/marac/transfers/{transfer.pk}/").content.decode()
    assert "Synthetic action: fit a door alarm" in page and "Synthetic research: two call-outs" in page
    history = client.get(f"/marac/referrals/{transfer.to_referral_id}/history/").content.decode()
    assert f"Transferred from {world['north'].name}" in history and world["old"].case.reference in history
    client = signed_in(world["third_agency"])
    assert client.get(f"/marac/transfers/{transfer.pk}/").status_code == 404
    assert client.get(f"/marac/referrals/{world['old'].pk}/transfer/").status_code == 404
