"""Repeat detection (DOMAIN.md §3 rule 4): the same victim and perpetrator within the area's window
of the last referral of the pair; near matches from blocking indexes for the coordinator to
confirm or reject; nobody decrypted outside the block."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from saferhub.audit.models import AuditEvent
from saferhub.core import encryption
from saferhub.marac import repeats
from saferhub.marac.models import MatchDecision, RepeatMatch
from saferhub.marac.repeat_services import repeat_match_confirm, repeat_match_reject
from saferhub.marac.tests import builders
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.blocking import soundex
from saferhub.people.models import IndexKind, PersonIndex

pytestmark = pytest.mark.django_db

FIRST = dt.date(2025, 1, 10)


@pytest.fixture
def staff(make_user, organisation, other_organisation):
    return {
        "referrer": make_user(Role.CONTRIBUTOR, org=organisation, username="referrer", personal_data_scope=PersonalDataScope.PARTIES),
        "coordinator": make_user(Role.CONTRIBUTOR, org=other_organisation, username="coordinator",
                                 personal_data_scope=PersonalDataScope.PARTIES),
        "idas_viewer": make_user(Role.VIEWER, org=other_organisation, username="idas_viewer",
                                 personal_data_scope=PersonalDataScope.PARTIES),
    }


@pytest.fixture
def world(staff, other_organisation):
    referrer = staff["referrer"]
    area = builders.area(organisation=other_organisation, coordinators=[staff["coordinator"]])
    victim = builders.person(referrer, "Adaline", "Testperson", dt.date(1990, 5, 1))
    perpetrator = builders.person(referrer, "Carl", "Offenderson", dt.date(1987, 1, 20))
    first = builders.referral(user=referrer, marac_area=area, victim=victim, perpetrators=[perpetrator], referred_on=FIRST)
    return {"area": area, "victim": victim, "perpetrator": perpetrator, "first": first, **staff}


def _again(world, days: int, victim=None, perpetrator=None):
    return builders.referral(user=world["referrer"], marac_area=world["area"], victim=victim or world["victim"],
                             perpetrators=[perpetrator or world["perpetrator"]], referred_on=FIRST + dt.timedelta(days=days))


# The rule -------------------------------------------------------------------------------------

@pytest.mark.parametrize("days, repeat", [(364, True), (365, True), (366, False)])
def test_a_referral_of_the_same_pair_is_a_repeat_within_365_days_of_the_last(world, days, repeat):
    later = _again(world, days)
    matches = repeats.repeats_find(referral=later)
    later.refresh_from_db()
    assert len(matches) == 1 and matches[0].exact and matches[0].decision == MatchDecision.CONFIRMED
    assert matches[0].days_apart == days and matches[0].within_window is repeat
    assert later.is_repeat is repeat
    assert later.repeat_of_id == (world["first"].pk if repeat else None)
    assert ("repeat" in later.criteria_met) is repeat
    if repeat:
        [explained] = [e for e in later.criteria_explained if e["criterion"] == "repeat"]
        assert world["first"].case.reference in explained["reason"] and "Adaline" not in explained["reason"]


def test_the_window_runs_from_the_last_referral_of_the_pair_not_the_first(world):
    second = _again(world, 300)
    repeats.repeats_find(referral=second)
    third = _again(world, 600)  # 600 days after the first, 300 after the second
    matches = repeats.repeats_find(referral=third)
    third.refresh_from_db()
    assert third.is_repeat and third.repeat_of_id == second.pk
    history = [m for m in matches if not m.within_window]
    assert [m.earlier_id for m in history] == [world["first"].pk]


def test_outside_the_window_the_earlier_referral_is_previous_marac_history(world):
    later = _again(world, 500)
    [match] = repeats.repeats_find(referral=later)
    later.refresh_from_db()
    assert not later.is_repeat and match.decision == MatchDecision.CONFIRMED and not match.within_window
    assert match.earlier_id == world["first"].pk


def test_the_same_victim_with_a_different_perpetrator_is_not_a_repeat(world):
    someone_else = builders.person(world["referrer"], "Dorian", "Elsewhere", dt.date(1980, 3, 3))
    later = _again(world, 30, perpetrator=someone_else)
    assert repeats.repeats_find(referral=later) == []
    later.refresh_from_db()
    assert not later.is_repeat and "repeat" not in later.criteria_met


def test_a_perpetrator_recorded_as_the_victim_earlier_is_not_matched_across_roles(world):
    later = _again(world, 30, victim=world["perpetrator"], perpetrator=world["victim"])
    assert repeats.repeats_find(referral=later) == []


def test_another_areas_referrals_are_not_searched(world, organisation, other_organisation):
    york = builders.area(organisation=other_organisation, slug="york", name="York")
    later = builders.referral(user=world["referrer"], marac_area=york, victim=world["victim"],
                              perpetrators=[world["perpetrator"]], referred_on=FIRST + dt.timedelta(days=10))
    assert repeats.repeats_find(referral=later) == []


def test_a_declined_earlier_referral_was_never_a_marac_case(world):
    world["first"].status = "declined"
    world["first"].save()
    assert repeats.repeats_find(referral=_again(world, 30)) == []


def test_exact_match_on_name_and_date_of_birth_of_a_second_register_entry(world):
    """Another agency registered the same people again: the blind index finds them exactly."""
    victim = builders.person(world["referrer"], "ADALINÉ", "TESTPERSON", dt.date(1990, 5, 1))
    perpetrator = builders.person(world["referrer"], "Offenderson", "Carl", dt.date(1987, 1, 20))  # names swapped
    later = _again(world, 40, victim=victim, perpetrator=perpetrator)
    [match] = repeats.repeats_find(referral=later)
    later.refresh_from_db()
    assert match.exact and later.is_repeat and later.repeat_of_id == world["first"].pk
    assert "Victim: name and date of birth match exactly" in match.reasons


def test_exact_match_on_an_identifier(world):
    victim = builders.person(world["referrer"], "Ada", "Married-Name", dt.date(1990, 5, 1), identifiers={"police_nominal": "NOM-77"})
    world["victim"].identifiers.create(kind="police_nominal", value="NOM-77")
    from saferhub.people.services import _indexes_rebuild

    _indexes_rebuild(world["victim"], {"police_nominal": "NOM-77"})
    [match] = repeats.repeats_find(referral=_again(world, 40, victim=victim))
    assert match.exact and "Victim: Police nominal id matches exactly" in match.reasons


# Near matches ---------------------------------------------------------------------------------

def test_a_typo_in_the_surname_is_a_near_match_for_the_coordinator(world):
    victim = builders.person(world["referrer"], "Adaline", "Testpersen", dt.date(1990, 5, 1))
    later = _again(world, 60, victim=victim)
    [match] = repeats.repeats_find(referral=later)
    later.refresh_from_db()
    assert not match.exact and match.decision == MatchDecision.PENDING and match.within_window
    assert not later.is_repeat
    assert any(r.startswith("Victim: last name similar (Jaro–Winkler") for r in match.reasons)
    assert "Perpetrator: the same person on the register" in match.reasons
    assert not any("Testpers" in r or "1990" in r for r in match.reasons)


def test_day_and_month_of_birth_swapped_is_a_near_match(world):
    victim = builders.person(world["referrer"], "Adaline", "Testperson", dt.date(1990, 1, 5))
    [match] = repeats.repeats_find(referral=_again(world, 60, victim=victim))
    assert not match.exact and "Victim: date of birth has day and month transposed" in match.reasons


def test_the_transposed_date_alone_finds_the_block(world):
    """Different surname spelling and a transposed date: only the swapped-date block reaches her."""
    victim = builders.person(world["referrer"], "Adaline", "Tastperson", dt.date(1990, 1, 5))
    found = repeats.candidates_for(person=victim, role="victim", referral=_again(world, 60, victim=victim))
    assert world["victim"].pk in found.block


def test_someone_merely_sharing_a_birthday_is_not_a_match(world):
    stranger = builders.person(world["referrer"], "Zelda", "Quimby", dt.date(1990, 5, 1))
    assert repeats.repeats_find(referral=_again(world, 60, victim=stranger)) == []


def test_only_people_in_the_block_are_decrypted(world, monkeypatch):
    """Fifty unrelated earlier referrals: finding the repeat decrypts the new referral's two people
    and the block's candidates, never the rest of the register."""
    referrer = world["referrer"]
    for n in range(50):
        victim = builders.person(referrer, f"Victim{n}", f"Unrelated{n}", dt.date(1960 + n % 30, 1 + n % 12, 1 + n % 27))
        perpetrator = builders.person(referrer, f"Perp{n}", f"Other{n}", dt.date(1950 + n % 30, 1 + n % 12, 2 + n % 26))
        builders.referral(user=referrer, marac_area=world["area"], victim=victim, perpetrators=[perpetrator],
                          referred_on=FIRST + dt.timedelta(days=n % 20))
    typo = builders.person(referrer, "Adaline", "Testpersen", dt.date(1990, 5, 1))
    later = _again(world, 60, victim=typo)
    calls = []
    real = encryption.decrypt
    monkeypatch.setattr(encryption, "decrypt", lambda value: calls.append(1) or real(value))
    found = repeats.candidates_for(person=typo, role="victim", referral=later)
    assert calls == [] and found.block == {world["victim"].pk}
    matches = repeats.repeats_find(referral=later)
    assert [m.earlier_id for m in matches] == [world["first"].pk]
    event = AuditEvent.objects.filter(record_type="marac_referral", record_id=str(later.pk)).latest("sequence")
    assert event.detail["compared"] == [world["victim"].pk]
    # The new referral's victim and perpetrator and the one candidate, a few fields each; not 100 people.
    fields = len(encryption.encrypted_fields(type(typo)))
    assert len(calls) <= 3 * (fields + 2)


def test_a_block_too_common_to_tell_anyone_apart_is_skipped(world, monkeypatch):
    monkeypatch.setattr(repeats, "MAX_BLOCK", 0)
    typo = builders.person(world["referrer"], "Adaline", "Testpersen", dt.date(1990, 5, 1))
    found = repeats.candidates_for(person=typo, role="victim", referral=_again(world, 60, victim=typo))
    assert found.block == set() and found.blocks_skipped


def test_running_it_twice_adds_nothing_and_keeps_decisions(world):
    victim = builders.person(world["referrer"], "Adaline", "Testpersen", dt.date(1990, 5, 1))
    later = _again(world, 60, victim=victim)
    [match] = repeats.repeats_find(referral=later)
    repeat_match_reject(user=world["coordinator"], match_id=match.pk, reason="A different woman")
    repeats.repeats_find(referral=later)
    assert RepeatMatch.objects.get().decision == MatchDecision.REJECTED


# Confirming and rejecting -----------------------------------------------------------------------

@pytest.fixture
def near(world):
    victim = builders.person(world["referrer"], "Adaline", "Testpersen", dt.date(1990, 5, 1))
    later = _again(world, 60, victim=victim)
    [match] = repeats.repeats_find(referral=later)
    return {**world, "later": later, "match": match, "typo": victim}


def test_the_coordinator_confirms_a_near_match_and_the_referral_becomes_a_repeat(near):
    match = repeat_match_confirm(user=near["coordinator"], match_id=near["match"].pk, reason="Same woman, surname misspelt")
    near["later"].refresh_from_db()
    assert match.decision == MatchDecision.CONFIRMED and match.decided_by == near["coordinator"]
    assert near["later"].is_repeat and near["later"].repeat_of_id == near["first"].pk
    assert "repeat" in near["later"].criteria_met
    # Linked, not merged: both register entries stay.
    assert near["typo"].pk != near["victim"].pk and type(near["typo"]).objects.filter(pk=near["typo"].pk).exists()
    event = AuditEvent.objects.filter(record_type="marac_referral", record_id=str(near["later"].pk)).latest("sequence")
    assert event.action == "update" and "Same woman" not in str(event.detail) + event.purpose


def test_the_coordinator_rejects_a_near_match(near):
    match = repeat_match_reject(user=near["coordinator"], match_id=near["match"].pk, reason="Different date of birth confirmed")
    near["later"].refresh_from_db()
    assert match.decision == MatchDecision.REJECTED and match.decision_reason == "Different date of birth confirmed"
    assert not near["later"].is_repeat


def test_a_decision_needs_a_reason_and_is_made_once(near):
    with pytest.raises(ValidationError):
        repeat_match_reject(user=near["coordinator"], match_id=near["match"].pk, reason="  ")
    repeat_match_reject(user=near["coordinator"], match_id=near["match"].pk, reason="Not her")
    with pytest.raises(ValidationError):
        repeat_match_confirm(user=near["coordinator"], match_id=near["match"].pk, reason="Changed my mind")


def test_only_the_areas_coordinators_decide(near, make_user, other_organisation):
    colleague = make_user(Role.CONTRIBUTOR, org=other_organisation, username="idas_colleague",
                          personal_data_scope=PersonalDataScope.PARTIES)
    assert repeat_match_reject(user=colleague, match_id=near["match"].pk, reason="Not her").decided_by == colleague


def test_the_referrer_and_a_viewer_of_the_coordinating_organisation_do_not_decide(near):
    for someone in (near["referrer"], near["idas_viewer"]):
        with pytest.raises(Http404):
            repeat_match_confirm(user=someone, match_id=near["match"].pk, reason="Same woman")


def test_a_confirmed_near_match_outside_the_window_is_history_not_a_repeat(world):
    victim = builders.person(world["referrer"], "Adaline", "Testpersen", dt.date(1990, 5, 1))
    later = _again(world, 400, victim=victim)
    [match] = repeats.repeats_find(referral=later)
    repeat_match_confirm(user=world["coordinator"], match_id=match.pk, reason="Same woman")
    later.refresh_from_db()
    assert not later.is_repeat and later.repeat_of_id is None


# The blocking keys --------------------------------------------------------------------------------

def test_soundex_and_jaro_winkler():
    assert soundex("Robert") == soundex("Rupert") == "R163"
    assert soundex("Ashcraft") == "A261" and soundex("Tymczak") == "T522" and soundex("Pfister") == "P236"
    assert repeats.jaro_winkler("martha", "marhta") == pytest.approx(0.961, abs=0.001)
    assert repeats.jaro_winkler("dixon", "dicksonx") == pytest.approx(0.813, abs=0.001)
    assert repeats.jaro_winkler("abc", "xyz") == 0.0


def test_every_person_gets_blocking_indexes(world):
    kinds = set(PersonIndex.objects.filter(person=world["victim"]).values_list("kind", flat=True))
    assert {IndexKind.NAME_DOB, IndexKind.DOB, IndexKind.SURNAME_SOUND_YEAR, IndexKind.NAME_SOUND} <= kinds


def test_no_one_without_a_date_of_birth_breaks_the_blocks(world):
    nobody = builders.person(world["referrer"], "Nameless", "Person", None)
    kinds = set(PersonIndex.objects.filter(person=nobody).values_list("kind", flat=True))
    assert IndexKind.DOB not in kinds and IndexKind.NAME_SOUND in kinds
    assert repeats.repeats_find(referral=_again(world, 10, victim=nobody)) == []


def test_denied_users_cannot_decide(near, make_user, organisation):
    viewer = make_user(Role.VIEWER, org=organisation, username="viewer_x", personal_data_scope=PersonalDataScope.ALL)
    with pytest.raises((Http404, PermissionDenied)):
        repeat_match_confirm(user=viewer, match_id=near["match"].pk, reason="Same")


# Pages ------------------------------------------------------------------------------------------

@pytest.fixture
def signed_in(client):
    from saferhub.accounts.testing import otp_login

    def sign(user):
        client.logout()
        otp_login(client, user)
        return client

    return sign


def test_the_coordinator_lists_reviews_and_confirms_a_match_on_the_page(near, signed_in):
    client = signed_in(near["coordinator"])
    listing = client.get("/marac/repeats/")
    assert listing.status_code == 200 and listing["Cache-Control"].startswith("max-age=0")
    text = listing.content.decode()
    assert near["later"].case.reference in text and near["first"].case.reference in text and "Testpers" not in text
    page = client.get(f"/marac/repeats/{near['match'].pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and "Testpersen" in text and "Testperson" in text and "does not merge" in text
    refused = client.post(f"/marac/repeats/{near['match'].pk}/", {"decision": "confirm", "reason": ""})
    assert refused.status_code == 200 and "Say why you confirm or reject the match" in refused.content.decode()
    done = client.post(f"/marac/repeats/{near['match'].pk}/", {"decision": "confirm", "reason": "Checked with the referrer"})
    assert done.status_code == 302
    near["later"].refresh_from_db()
    assert near["later"].is_repeat and near["later"].repeat_of_id == near["first"].pk
    history = client.get(f"/marac/referrals/{near['later'].pk}/history/").content.decode()
    assert "Repeat of" in history and near["first"].case.reference in history
    assert client.get("/marac/repeats/?decision=confirmed").content.decode().count(near["later"].case.reference) >= 1


def test_someone_else_gets_not_found_and_no_names(near, signed_in, make_user, organisation):
    probation = make_user(Role.CONTRIBUTOR, org=organisation, username="nyp_other", personal_data_scope=PersonalDataScope.PARTIES)
    client = signed_in(probation)
    assert client.get(f"/marac/repeats/{near['match'].pk}/").status_code == 404
    assert client.post(f"/marac/repeats/{near['match'].pk}/", {"decision": "confirm", "reason": "x"}).status_code == 404
    listing = client.get("/marac/repeats/")
    assert listing.status_code == 200 and near["later"].case.reference not in listing.content.decode()


# Through referral_submit --------------------------------------------------------------------------

@pytest.fixture
def submitted(make_user, organisation, other_organisation):
    from saferhub.marac.referral_services import PersonInput, referral_submit
    from saferhub.marac.tests.referral_fixtures import referral_input

    referrer = make_user(Role.CONTRIBUTOR, org=organisation, username="submitter", personal_data_scope=PersonalDataScope.PARTIES)
    coordinator = make_user(Role.CONTRIBUTOR, org=other_organisation, username="submit_coordinator",
                            personal_data_scope=PersonalDataScope.PARTIES)
    area = builders.area(organisation=other_organisation, slug="submit-area", name="Submit area")
    first = referral_submit(user=referrer, area=area, referral=referral_input(yes=14))
    return {"referrer": referrer, "coordinator": coordinator, "area": area, "first": first, "submit": referral_submit,
            "input": referral_input, "person": PersonInput}


def test_a_repeat_reaches_the_marac_on_the_repeat_criterion(submitted):
    second = submitted["submit"](user=submitted["referrer"], area=submitted["area"], referral=submitted["input"](yes=2))
    second.refresh_from_db()
    assert second.is_repeat and second.repeat_of_id == submitted["first"].pk and second.criteria_met == ["repeat"]
    assert RepeatMatch.objects.get(referral=second).exact


def test_a_misspelt_victim_is_a_near_match_and_the_referral_stands_on_its_own_criteria(submitted):
    victim = submitted["person"](first_name="Ottilie", last_name="Fernsbey", date_of_birth=dt.date(1990, 4, 2), gender="female")
    third = submitted["submit"](user=submitted["referrer"], area=submitted["area"], referral=submitted["input"](yes=14, victim=victim))
    third.refresh_from_db()
    match = RepeatMatch.objects.get(referral=third)
    assert not third.is_repeat and not match.exact and match.decision == MatchDecision.PENDING
    repeat_match_confirm(user=submitted["coordinator"], match_id=match.pk, reason="Same woman")
    third.refresh_from_db()
    assert third.is_repeat and set(third.criteria_met) == {"visible_high_risk", "repeat"}
    [explained] = [e for e in third.criteria_explained if e["criterion"] == "repeat"]
    assert explained["met"] and submitted["first"].case.reference in explained["reason"]


def test_the_earlier_referrals_people_are_shown_only_if_its_case_is_shared(near):
    from saferhub.marac.repeat_services import repeat_match_review
    from saferhub.people.models import CaseParty

    review = repeat_match_review(user=near["coordinator"], match_id=near["match"].pk)
    assert review.earlier.visible and [p.pk for p in review.earlier.victims] == [near["victim"].pk]
    CaseParty.objects.filter(case=near["first"].case, organisation=near["coordinator"].organisation).delete()
    review = repeat_match_review(user=near["coordinator"], match_id=near["match"].pk)
    assert not review.earlier.visible and review.earlier.victims == [] and review.new.victims == [near["typo"]]
