"""The shapes the JSON API reads and writes MARAC referrals in (django-ninja schemas)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from ninja import Field, Schema


class PersonIn(Schema):
    first_name: str = ""
    last_name: str = ""
    date_of_birth: Optional[dt.date] = None
    gender: str = Field("", description="A code of people.vocabulary, e.g. female, male, non_binary")


class VictimIn(PersonIn):
    ethnicity: str = Field("", description="A 2021 census code of people.vocabulary, e.g. white_british")
    disability: str = Field("", description="yes_a_lot, yes_a_little, no or prefer_not")
    sexuality: str = Field("", description="heterosexual, gay_lesbian, bisexual, another or prefer_not")


class ChildIn(Schema):
    first_name: str = ""
    last_name: str = ""
    date_of_birth: Optional[dt.date] = None
    age: Optional[int] = Field(None, description="0 to 17; worked out from date_of_birth when left out")
    school: str = ""
    school_organisation: Optional[str] = Field(None, description="The slug of the school, where it is a partner organisation")


class AnswerIn(Schema):
    answer: str = Field(..., description="yes, no or not_known")
    comment: str = ""


class ReferralIn(Schema):
    """A referral, sent in the request body. `answers` maps each question's key (see the checklist
    pages) to its answer; the stalking screen's keys are needed when the stalking question is yes."""

    area: str = Field(..., description="The slug of the MARAC area")
    referring_organisation: Optional[str] = Field(
        None, description="Your organisation's slug (optional): a referral is always made for your own organisation")
    victim: VictimIn
    perpetrators: list[PersonIn]
    children: list[ChildIn] = Field(default_factory=list)
    answers: dict[str, AnswerIn]
    assessed_on: Optional[dt.date] = Field(None, description="When the risk checklist was completed")
    incidents_in_window: Optional[int] = Field(None, description="Domestic abuse incidents known to any agency in the area's window")
    professional_judgement: bool = False
    professional_judgement_reasons: str = ""
    safe_contact_details: str = ""
    safe_to_call: bool = False


class OrganisationRef(Schema):
    slug: str
    name: str


class AreaRef(Schema):
    slug: str
    name: str


class CriterionOut(Schema):
    criterion: str
    met: bool
    reason: str


class ReferralOut(Schema):
    id: int
    reference: str
    area: AreaRef
    referring_organisation: OrganisationRef
    status: str
    referred_at: dt.datetime
    checklist_version: int
    score: int
    criteria_met: list[str]
    criteria: list[CriterionOut]
    is_repeat: bool
    has_children: bool
    url: str

    @staticmethod
    def resolve_reference(referral) -> str:
        return referral.case.reference

    @staticmethod
    def resolve_checklist_version(referral) -> int:
        return referral.checklist.version

    @staticmethod
    def resolve_criteria(referral) -> list[dict]:
        return referral.criteria_explained

    @staticmethod
    def resolve_url(referral) -> str:
        from django.urls import reverse

        return reverse("marac:referral_detail", args=[referral.pk])


class ReferralListOut(Schema):
    count: int
    page: int
    pages: int
    results: list[ReferralOut]


class PersonOut(Schema):
    person_id: int
    reference: str
    first_name: str
    last_name: str
    date_of_birth: Optional[dt.date]


class ChildOut(PersonOut):
    age_at_referral: int
    school: str


class AnswerOut(Schema):
    question: str
    section: str
    number: int
    answer: str
    comment: str


def _person_out(participant) -> dict:
    person = participant.person
    return {"person_id": person.pk, "reference": person.reference, "first_name": person.first_name,
            "last_name": person.last_name, "date_of_birth": person.date_of_birth}


class ReferralDetailOut(ReferralOut):
    """Built from a referral with its `parts` (marac.referral_selectors.referral_parts) attached."""

    assessed_on: Optional[dt.date]
    incidents_in_window: int
    professional_judgement: bool
    professional_judgement_reasons: str
    safe_contact_details: str
    safe_to_call: bool
    decision_reason: str
    victim: Optional[PersonOut]
    perpetrators: list[PersonOut]
    children: list[ChildOut]
    answers: list[AnswerOut]

    @staticmethod
    def resolve_victim(referral) -> dict | None:
        victims = referral.parts.victims
        return _person_out(victims[0]) if victims else None

    @staticmethod
    def resolve_perpetrators(referral) -> list[dict]:
        return [_person_out(p) for p in referral.parts.perpetrators]

    @staticmethod
    def resolve_children(referral) -> list[dict]:
        return [{**_person_out(c), "age_at_referral": c.age_at_referral,
                 "school": c.school_organisation.name if c.school_organisation else c.school} for c in referral.parts.children]

    @staticmethod
    def resolve_answers(referral) -> list[dict]:
        return [{"question": a.question.key, "section": a.question.section, "number": a.question.number,
                 "answer": a.answer, "comment": a.comment} for a in referral.parts.main_answers + referral.parts.stalking_answers]


class ReferralReceiptOut(Schema):
    """What a partner's system gets back for a referral made with a MARAC submission token: the
    referral's reference, status and criteria, nothing about any person. Whether the victim was
    referred before is the coordinator's to see, so the repeat criterion only says it was flagged."""

    id: int
    reference: str
    status: str
    referred_at: dt.datetime
    criteria_met: list[str]
    criteria: list[CriterionOut]


class MessageOut(Schema):
    detail: str
