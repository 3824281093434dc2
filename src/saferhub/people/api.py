"""The JSON API for the people register and cases, under the same need-to-know rules as the web:
every answer comes from people.services or people.selectors, which restrict what the user may see
and write the audit trail. A record outside the user's scope answers 404 exactly like a missing one."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from ninja import Query, Router, Schema, Status

from saferhub.people import selectors, services
from saferhub.people.models import CaseStatus
from saferhub.people.schemas import (
    CaseDetailOut, CaseListOut, MessageOut, PersonDetailOut, PersonOut, PersonSearchIn,
)

router = Router(tags=["People and cases"])
NO_ACCESS = {"detail": "Your account has no access to personal data."}


def _errors(error: ValidationError) -> list[dict]:
    if hasattr(error, "error_dict"):
        return [{"loc": ["body", "payload", field], "msg": message, "type": "value_error"}
                for field, messages in error.message_dict.items() for message in messages]
    return [{"loc": ["body", "payload"], "msg": message, "type": "value_error"} for message in error.messages]


def _roles(rows) -> list[dict]:
    return [{"case_id": r.case_id, "reference": r.case.reference, "kind": r.case.kind, "role": r.role} for r in rows]


@router.post("/persons/search/", response={200: list[PersonOut], 403: MessageOut, 422: dict},
             summary="Find people by name and date of birth, or by an identifier",
             description="Exact matches within the cases you may see. The search is audited (as keyed hashes, never the names).")
def person_search(request, payload: PersonSearchIn):
    if not request.auth.sees_personal_data:
        return Status(403, NO_ACCESS)
    try:
        people = services.person_search(user=request.auth, **payload.dict())
    except ValidationError as error:
        return Status(422, {"detail": _errors(error)})
    roles = selectors.roles_by_person(user=request.auth, people=people)
    for person in people:
        person.roles = _roles(roles.get(person.pk, []))
    return people


@router.get("/persons/{int:person_id}/", response=PersonDetailOut, summary="One person's record")
def person_detail(request, person_id: int):
    person = services.person_view(user=request.auth, person_id=person_id)
    person.roles = _roles(selectors.person_cases(user=request.auth, person=person))
    return person


class CaseFilters(Schema):
    status: CaseStatus | None = None
    page: int = 1


@router.get("/cases/", response={200: CaseListOut, 403: MessageOut}, summary="The cases you may see, newest first")
def case_list(request, filters: Query[CaseFilters]):
    if not request.auth.sees_personal_data:
        return Status(403, NO_ACCESS)
    page = selectors.case_list(user=request.auth, status=filters.status.value if filters.status else "", page=filters.page)
    return {"count": page.paginator.count, "page": page.number, "pages": page.paginator.num_pages, "results": list(page)}


@router.get("/cases/{int:case_id}/", response=CaseDetailOut, summary="One case with its parties, people and disclosures")
def case_detail(request, case_id: int):
    grant = selectors.case_break_glass_grant(user=request.auth, case_id=case_id)
    case = services.case_view(user=request.auth, case_id=case_id, purpose="Opened by break-glass" if grant else "")
    case.parts = selectors.case_parts(case=case)
    return case
