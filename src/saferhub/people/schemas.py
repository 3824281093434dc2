"""The shapes the JSON API reads and writes people and cases in (django-ninja schemas)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from ninja import Field, Schema

from saferhub.people.vocabulary import characteristic_label


class PersonSearchIn(Schema):
    """Sent in the request body, so that names and dates of birth stay out of addresses and logs."""

    first_name: str = ""
    last_name: str = ""
    date_of_birth: Optional[dt.date] = None
    identifier_kind: str = Field("", description="police_nominal, nhs_number or pupil_number")
    identifier: str = ""


class CaseRoleOut(Schema):
    case_id: int
    reference: str
    kind: str
    role: str


class PersonOut(Schema):
    id: int
    reference: str
    first_name: str
    last_name: str
    date_of_birth: Optional[dt.date]
    url: str
    roles: list[CaseRoleOut] = Field(default_factory=list, description="Roles in cases you may see")

    @staticmethod
    def resolve_url(person) -> str:
        return person.get_absolute_url()


class AliasOut(Schema):
    first_name: str
    last_name: str


class AddressOut(Schema):
    lines: list[str]
    postcode: str = ""


class IdentifierOut(Schema):
    kind: str
    value: str


class PersonDetailOut(PersonOut):
    aliases: list[AliasOut]
    gender: str
    ethnicity: str
    disability: str
    sexuality: str
    addresses: list[AddressOut]
    identifiers: list[IdentifierOut]

    @staticmethod
    def resolve_gender(person) -> str:
        return characteristic_label("gender", person.gender)

    @staticmethod
    def resolve_ethnicity(person) -> str:
        return characteristic_label("ethnicity", person.ethnicity)

    @staticmethod
    def resolve_disability(person) -> str:
        return characteristic_label("disability", person.disability)

    @staticmethod
    def resolve_sexuality(person) -> str:
        return characteristic_label("sexuality", person.sexuality)

    @staticmethod
    def resolve_identifiers(person) -> list[dict]:
        return [{"kind": i.kind, "value": i.value} for i in person.identifiers.order_by("kind")]


class OrganisationRef(Schema):
    slug: str
    name: str


class CaseOut(Schema):
    id: int
    reference: str
    kind: str
    status: str
    owner: OrganisationRef
    opened_at: dt.datetime
    closed_at: Optional[dt.datetime]
    url: str

    @staticmethod
    def resolve_url(case) -> str:
        return case.get_absolute_url()


class CaseListOut(Schema):
    count: int
    page: int
    pages: int
    results: list[CaseOut]


class PartyOut(Schema):
    organisation: OrganisationRef
    reason: str
    since: dt.datetime


class ParticipantOut(Schema):
    person_id: int
    reference: str
    first_name: str
    last_name: str
    role: str


class DisclosureOut(Schema):
    from_organisation: OrganisationRef
    to_organisation: OrganisationRef
    person_id: Optional[int]
    lawful_basis: str
    agreement: Optional[str]
    purpose: str
    at: dt.datetime


class CaseDetailOut(CaseOut):
    """Built from a case with its `parts` (people.selectors.case_parts) attached."""

    summary: str
    parties: list[PartyOut]
    participants: list[ParticipantOut]
    disclosures: list[DisclosureOut]

    @staticmethod
    def resolve_parties(case) -> list:
        return case.parts.parties

    @staticmethod
    def resolve_participants(case) -> list[dict]:
        return [{"person_id": p.person_id, "reference": p.person.reference, "first_name": p.person.first_name,
                 "last_name": p.person.last_name, "role": p.role} for p in case.parts.participants]

    @staticmethod
    def resolve_disclosures(case) -> list[dict]:
        return [{"from_organisation": d.from_organisation, "to_organisation": d.to_organisation, "person_id": d.person_id,
                 "lawful_basis": d.lawful_basis, "agreement": d.agreement.name if d.agreement else None,
                 "purpose": d.purpose, "at": d.at} for d in case.parts.disclosures]


class MessageOut(Schema):
    detail: str
