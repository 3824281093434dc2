"""The four MARAC referral criteria (DOMAIN.md §3), evaluated with the area's own thresholds and
explained in numbers: visible high risk, potential escalation, professional judgement and repeat.

Explanations hold counts and thresholds only, never anything said about a person, so they can be
shown on queues and agendas and kept in the referral as they were when it was made."""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from saferhub.marac.models import Criterion, MaracArea

# Repeat detection belongs to marac.repeats (another part of MARAC). The referral service calls the
# function named here when that module is installed; until then a referral's repeat flag is only
# what has been set on it.
REPEAT_FINDER_MODULE = "saferhub.marac.repeats"
REPEAT_FINDER_FUNCTION = "repeats_find"


@dataclass(frozen=True)
class CriterionResult:
    criterion: str
    met: bool
    reason: str

    def as_dict(self) -> dict:
        return {"criterion": self.criterion, "met": self.met, "reason": self.reason}


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def visible_high_risk(*, area: MaracArea, score: int) -> CriterionResult:
    met = score >= area.high_risk_threshold
    comparison = "meets" if met else "is below"
    return CriterionResult(Criterion.VISIBLE_HIGH_RISK, met,
                           f"{_plural(score, 'yes answer')} on the risk checklist {comparison} this area's threshold of "
                           f"{area.high_risk_threshold}")


def potential_escalation(*, area: MaracArea, incidents: int) -> CriterionResult:
    met = incidents >= area.escalation_incidents
    comparison = "meets" if met else "is below"
    return CriterionResult(Criterion.POTENTIAL_ESCALATION, met,
                           f"{_plural(incidents, 'incident')} known to any agency in the last "
                           f"{_plural(area.escalation_window_days, 'day')} {comparison} this area's threshold of "
                           f"{area.escalation_incidents} in {area.escalation_window_days} days")


def professional_judgement(*, chosen: bool, reasons: str) -> CriterionResult:
    if chosen and (reasons or "").strip():
        return CriterionResult(Criterion.PROFESSIONAL_JUDGEMENT, True,
                               "The referrer refers on professional judgement and recorded their reasons")
    if chosen:
        return CriterionResult(Criterion.PROFESSIONAL_JUDGEMENT, False,
                               "Professional judgement was chosen without reasons, so it cannot count")
    return CriterionResult(Criterion.PROFESSIONAL_JUDGEMENT, False,
                           "Not used; professional judgement can only add a referral, never lower one")


def repeat(*, area: MaracArea, is_repeat: bool) -> CriterionResult:
    if is_repeat:
        return CriterionResult(Criterion.REPEAT, True,
                               f"A repeat: an earlier MARAC referral for the same victim and perpetrator within "
                               f"{area.repeat_window_days} days")
    return CriterionResult(Criterion.REPEAT, False,
                           f"No earlier MARAC referral found for the same victim and perpetrator within "
                           f"{area.repeat_window_days} days")


def criteria_evaluate(*, area: MaracArea, score: int, incidents: int, judgement_chosen: bool, judgement_reasons: str,
                      is_repeat: bool) -> list[CriterionResult]:
    """All four criteria in the order DOMAIN.md §3 lists them. A referral is eligible if any one is
    met; professional judgement only ever adds, so a referral meeting another criterion stays
    eligible whatever the referrer's judgement says."""
    return [
        visible_high_risk(area=area, score=score),
        professional_judgement(chosen=judgement_chosen, reasons=judgement_reasons),
        potential_escalation(area=area, incidents=incidents),
        repeat(area=area, is_repeat=is_repeat),
    ]


def criteria_met(results: list[CriterionResult]) -> list[str]:
    return [str(result.criterion) for result in results if result.met]


def criteria_refusal(area: MaracArea) -> str:
    """Why a referral meeting no criterion cannot go to the MARAC, in the area's numbers."""
    return (f"This referral meets none of the MARAC criteria for {area.name}: it needs {area.high_risk_threshold} or more "
            f"yes answers, {area.escalation_incidents} or more incidents in {area.escalation_window_days} days, a repeat "
            f"within {area.repeat_window_days} days of the last referral, or professional judgement with reasons")


def repeat_finder():
    """The repeat detection function of marac.repeats, or None while that module is not installed."""
    try:
        module = importlib.import_module(REPEAT_FINDER_MODULE)
    except ModuleNotFoundError as error:
        if error.name != REPEAT_FINDER_MODULE:
            raise
        return None
    return getattr(module, REPEAT_FINDER_FUNCTION, None)
