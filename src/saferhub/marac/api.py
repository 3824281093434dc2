"""The JSON API for MARAC referrals, under the same rules as the web: a referral is checked field by
field by the service the form uses (errors name the field), and a referral outside the user's scope
answers 404 exactly like a missing one. Every answer comes from marac.referral_services or
marac.referral_selectors, which write the audit trail."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from ninja import Query, Router, Schema, Status
from ninja.security import django_auth

from saferhub.accounts.tokens import api_token_auth, marac_submit_auth
from saferhub.marac import referral_selectors as selectors
from saferhub.marac import referral_services as services
from saferhub.marac.checklist_services import checklist_current
from saferhub.marac.models import Criterion
from saferhub.marac.schemas import MessageOut, ReferralDetailOut, ReferralIn, ReferralListOut, ReferralReceiptOut
from saferhub.partners.models import Organisation

router = Router(tags=["MARAC referrals"])
NO_ACCESS = {"detail": "Your account cannot make MARAC referrals."}
NO_PERSONAL_DATA = {"detail": "Your account has no access to personal data."}


def _loc(key: str) -> list:
    return ["body", "payload", *[int(part) if part.isdigit() else part for part in key.split(".")]]


def _errors(error: ValidationError) -> list[dict]:
    if hasattr(error, "error_dict"):
        return [{"loc": _loc(key), "msg": message, "type": "value_error"}
                for key, messages in error.message_dict.items() for message in messages]
    return [{"loc": ["body", "payload"], "msg": message, "type": "value_error"} for message in error.messages]


def _referral_input(payload: ReferralIn, user) -> tuple[services.ReferralInput, dict[str, str]]:
    """The payload as the service's input, and the organisations it names that do not exist."""
    errors = {}
    if payload.referring_organisation is not None:
        named = Organisation.objects.filter(slug=payload.referring_organisation).first()
        if named is None:
            errors["referring_organisation"] = f"No organisation has the slug '{payload.referring_organisation}'"
        elif named.pk != user.organisation_id:
            errors["referring_organisation"] = "You can only refer for your own organisation"
    children = []
    for index, child in enumerate(payload.children):
        school = None
        if child.school_organisation:
            school = Organisation.objects.filter(slug=child.school_organisation).first()
            if school is None:
                errors[f"children.{index}.school_organisation"] = f"No organisation has the slug '{child.school_organisation}'"
        children.append(services.ChildInput(
            first_name=child.first_name, last_name=child.last_name, date_of_birth=child.date_of_birth, age=child.age,
            school=child.school, school_organisation=school))
    referral = services.ReferralInput(
        victim=services.PersonInput(**payload.victim.dict()),
        perpetrators=[services.PersonInput(**p.dict()) for p in payload.perpetrators],
        children=children,
        answers={key: (a.answer, a.comment) for key, a in payload.answers.items()},
        assessed_on=payload.assessed_on, incidents_in_window=payload.incidents_in_window,
        professional_judgement=payload.professional_judgement,
        professional_judgement_reasons=payload.professional_judgement_reasons,
        safe_contact_details=payload.safe_contact_details, safe_to_call=payload.safe_to_call)
    return referral, errors


REPEAT_FLAGGED = "Flagged for the coordinator"
REPEAT_NOT_FLAGGED = "Not flagged; the coordinator checks for earlier referrals"


def _receipt(referral) -> JsonResponse:
    """The answer to a referral made with a MARAC submission token: its reference, status and
    criteria. The repeat criterion's own reason names the earlier referral, which is not the
    submitting system's to know, so it is replaced."""
    criteria = [c if c["criterion"] != Criterion.REPEAT else
                {**c, "reason": REPEAT_FLAGGED if c["met"] else REPEAT_NOT_FLAGGED} for c in referral.criteria_explained]
    receipt = ReferralReceiptOut(id=referral.pk, reference=referral.case.reference, status=referral.status,
                                 referred_at=referral.referred_at, criteria_met=referral.criteria_met, criteria=criteria)
    return JsonResponse(receipt.model_dump(mode="json"), status=201)


# A MARAC submission token (accounts.tokens) works here and nowhere else in the API.
@router.post("/referrals/", auth=[marac_submit_auth, api_token_auth, django_auth],
             response={201: ReferralDetailOut, 403: MessageOut, 422: dict},
             summary="Refer a victim to a MARAC",
             description="For your own organisation. Checked as on the web: every problem is returned with the field it "
                         "concerns in `loc`, and nothing is saved unless everything is right. A partner's system "
                         "sending `Authorization: Bearer` with a MARAC submission token gets back only the referral's "
                         "`id`, `reference`, `status`, `referred_at`, `criteria_met` and `criteria`, never the people.")
def referral_create(request, payload: ReferralIn):
    user = request.auth
    token = getattr(request, "api_token", None)
    if not services.may_refer(user):
        return Status(403, NO_ACCESS)
    area = services.area_get(slug=payload.area)
    referral_input, errors = _referral_input(payload, user)
    if area is None:
        errors["area"] = f"No MARAC area takes referrals with the slug '{payload.area}'"
    if errors:
        # Everything else wrong with it too, so one answer lists every problem.
        errors = services.referral_input_check(area=area, checklist=checklist_current(), referral=referral_input) | errors
        return Status(422, {"detail": _errors(ValidationError(errors))})
    try:
        referral = services.referral_submit(user=user, area=area, referral=referral_input, api_token=token)
    except ValidationError as error:
        return Status(422, {"detail": _errors(error)})
    if token is not None:
        return _receipt(referral)
    referral.parts = selectors.referral_parts(referral=referral)
    return Status(201, referral)


class ListFilters(Schema):
    page: int = 1


@router.get("/referrals/", response={200: ReferralListOut, 403: MessageOut},
            summary="Your organisation's MARAC referrals, newest first")
def referral_list(request, filters: Query[ListFilters]):
    if not request.auth.sees_personal_data:
        return Status(403, NO_PERSONAL_DATA)
    page = selectors.referral_list(user=request.auth, page=filters.page)
    return {"count": page.paginator.count, "page": page.number, "pages": page.paginator.num_pages, "results": list(page)}


@router.get("/referrals/{int:referral_id}/", response=ReferralDetailOut, summary="One MARAC referral")
def referral_detail(request, referral_id: int):
    referral = selectors.referral_view(user=request.auth, referral_id=referral_id)
    referral.parts = selectors.referral_parts(referral=referral)
    return referral
