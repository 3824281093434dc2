"""The four MARAC referral criteria with each area's thresholds, at their boundaries, and their
explanations (numbers only)."""
import pytest
from django.core.exceptions import ValidationError

from saferhub.marac import criteria
from saferhub.marac.models import Criterion, MaracReferral
from saferhub.marac.referral_services import referral_submit
from saferhub.marac.tests.referral_fixtures import *  # noqa: F401,F403
from saferhub.marac.tests.referral_fixtures import VICTIM_NAME, referral_input

pytestmark = pytest.mark.django_db


def _met(results) -> dict:
    return {r.criterion: r.met for r in results}


def _evaluate(area, *, score=0, incidents=0, chosen=False, reasons="", is_repeat=False):
    return criteria.criteria_evaluate(area=area, score=score, incidents=incidents, judgement_chosen=chosen,
                                      judgement_reasons=reasons, is_repeat=is_repeat)


@pytest.mark.parametrize("score, met", [(13, False), (14, True), (24, True)])
def test_visible_high_risk_at_the_default_threshold_of_14(area, score, met):
    results = _evaluate(area, score=score)
    assert _met(results)[Criterion.VISIBLE_HIGH_RISK] is met
    reason = results[0].reason
    assert f"{score} yes answers" in reason and "threshold of 14" in reason


@pytest.mark.parametrize("score, met", [(14, False), (16, False), (17, True)])
def test_visible_high_risk_for_an_area_that_uses_17(area, score, met):
    area.high_risk_threshold = 17
    assert _met(_evaluate(area, score=score))[Criterion.VISIBLE_HIGH_RISK] is met


@pytest.mark.parametrize("incidents, met", [(2, False), (3, True), (9, True)])
def test_potential_escalation_at_3_incidents_in_12_months(area, incidents, met):
    results = _evaluate(area, incidents=incidents)
    assert _met(results)[Criterion.POTENTIAL_ESCALATION] is met
    assert "in the last 365 days" in results[2].reason and "threshold of 3 in 365 days" in results[2].reason


def test_potential_escalation_in_an_area_counting_over_6_months(area):
    area.escalation_window_days = 183
    results = _evaluate(area, incidents=3)
    assert results[2].met and "183 days" in results[2].reason


def test_professional_judgement_counts_only_with_reasons(area):
    assert _met(_evaluate(area, chosen=True, reasons="Escalating coercive control"))[Criterion.PROFESSIONAL_JUDGEMENT]
    assert not _met(_evaluate(area, chosen=True, reasons="   "))[Criterion.PROFESSIONAL_JUDGEMENT]
    assert not _met(_evaluate(area, chosen=False, reasons="Reasons without choosing"))[Criterion.PROFESSIONAL_JUDGEMENT]


def test_repeat_follows_the_repeat_flag(area):
    assert _met(_evaluate(area, is_repeat=True))[Criterion.REPEAT]
    assert not _met(_evaluate(area, is_repeat=False))[Criterion.REPEAT]


def test_explanations_hold_numbers_never_personal_values(area):
    results = _evaluate(area, score=15, incidents=4, chosen=True, reasons="Ottilie told me a secret", is_repeat=True)
    assert [r.criterion for r in results] == [Criterion.VISIBLE_HIGH_RISK, Criterion.PROFESSIONAL_JUDGEMENT,
                                             Criterion.POTENTIAL_ESCALATION, Criterion.REPEAT]
    assert all(r.met for r in results)
    assert not any("Ottilie" in r.reason or "secret" in r.reason for r in results)


# Through the referral service ------------------------------------------------------------------

def test_a_referral_with_13_yes_and_2_incidents_is_refused_and_nothing_is_kept(area, referrer):
    with pytest.raises(ValidationError) as error:
        referral_submit(user=referrer, area=area, referral=referral_input(yes=13, incidents=2))
    assert "meets none of the MARAC criteria" in error.value.message_dict["criteria"][0]
    assert "14 or more yes answers" in error.value.message_dict["criteria"][0]
    assert MaracReferral.objects.count() == 0


def test_14_yes_is_eligible_as_visible_high_risk(area, referrer):
    referral = referral_submit(user=referrer, area=area, referral=referral_input(yes=14))
    assert referral.score == 14 and referral.criteria_met == [Criterion.VISIBLE_HIGH_RISK]
    assert referral.criteria_explained[0] == {"criterion": "visible_high_risk", "met": True,
                                              "reason": "14 yes answers on the risk checklist meets this area's threshold of 14"}


def test_16_yes_is_refused_where_the_area_uses_17(area, referrer):
    area.high_risk_threshold = 17
    area.save()
    with pytest.raises(ValidationError):
        referral_submit(user=referrer, area=area, referral=referral_input(yes=16))
    assert referral_submit(user=referrer, area=area, referral=referral_input(yes=17)).criteria_met == ["visible_high_risk"]


def test_3_incidents_alone_is_eligible(area, referrer):
    referral = referral_submit(user=referrer, area=area, referral=referral_input(yes=2, incidents=3))
    assert referral.criteria_met == [Criterion.POTENTIAL_ESCALATION]


def test_professional_judgement_alone_is_eligible(area, referrer):
    referral = referral_submit(user=referrer, area=area, referral=referral_input(
        yes=0, judgement=True, reasons="Recent threats reported to the GP"))
    assert referral.criteria_met == [Criterion.PROFESSIONAL_JUDGEMENT]
    assert referral.professional_judgement_reasons == "Recent threats reported to the GP"


def test_professional_judgement_without_reasons_is_an_error_on_the_reasons(area, referrer):
    with pytest.raises(ValidationError) as error:
        referral_submit(user=referrer, area=area, referral=referral_input(yes=0, judgement=True, reasons=" "))
    assert error.value.message_dict["professional_judgement_reasons"] == [
        "Give your reasons for referring on professional judgement"]


def test_professional_judgement_never_downgrades(area, referrer):
    """A referrer who does not choose professional judgement and writes that they think the risk is
    lower still has an eligible referral: 15 yes answers stand."""
    referral = referral_submit(user=referrer, area=area, referral=referral_input(
        yes=15, incidents=4, judgement=False, reasons="In my judgement the risk is not high"))
    assert set(referral.criteria_met) == {Criterion.VISIBLE_HIGH_RISK, Criterion.POTENTIAL_ESCALATION}
    judgement = next(c for c in referral.criteria_explained if c["criterion"] == "professional_judgement")
    assert judgement["met"] is False and "never lower" in judgement["reason"]


def test_a_repeat_found_by_repeat_detection_is_eligible_alone(area, referrer, monkeypatch):
    earlier = referral_submit(user=referrer, area=area, referral=referral_input(yes=14))
    calls = []

    def finder(*, referral):
        calls.append(referral.pk)
        MaracReferral.objects.filter(pk=referral.pk).update(is_repeat=True, repeat_of=earlier)

    monkeypatch.setattr(criteria, "repeat_finder", lambda: finder)
    referral = referral_submit(user=referrer, area=area, referral=referral_input(yes=1))
    assert calls == [referral.pk]
    assert referral.is_repeat and referral.repeat_of == earlier and referral.criteria_met == [Criterion.REPEAT]


def test_without_repeat_detection_the_repeat_criterion_is_not_met(area, referrer, monkeypatch):
    monkeypatch.setattr(criteria, "repeat_finder", lambda: None)
    referral = referral_submit(user=referrer, area=area, referral=referral_input(yes=14))
    repeat = next(c for c in referral.criteria_explained if c["criterion"] == "repeat")
    assert repeat["met"] is False and "365 days" in repeat["reason"]


def test_the_repeat_finder_is_looked_up_by_its_documented_name():
    finder = criteria.repeat_finder()
    try:
        import saferhub.marac.repeats as repeats
    except ModuleNotFoundError:
        assert finder is None
    else:
        assert finder is getattr(repeats, "repeats_find", None)


def test_explanations_stored_on_a_referral_name_nobody(area, referrer):
    referral = referral_submit(user=referrer, area=area, referral=referral_input(
        yes=14, judgement=True, reasons="Concern raised by her sister"))
    text = str(referral.criteria_explained)
    assert VICTIM_NAME[0] not in text and "sister" not in text


def test_a_second_referral_of_the_same_victim_and_perpetrator_is_a_repeat_through_repeat_detection(area, referrer):
    first = referral_submit(user=referrer, area=area, referral=referral_input(yes=14))
    second = referral_submit(user=referrer, area=area, referral=referral_input(yes=3))
    assert not first.is_repeat
    assert second.is_repeat and second.repeat_of == first and second.criteria_met == [Criterion.REPEAT]
