"""Pages of MARAC referrals: the MARAC home page, making a referral, a referral's page, the referring
organisation's list, the coordinator's queue with accept and decline, and the risk checklist
versions. Thin: each parses the request, calls a service or selector (which check access and write
the audit trail) and renders."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from saferhub.marac import referral_selectors as selectors
from saferhub.marac import referral_services as services
from saferhub.marac.checklist_services import checklist_current, checklist_list, checklist_load, checklist_questions
from saferhub.marac.models import MaracArea, ReferralStatus
from saferhub.marac.referral_forms import ChecklistLoadForm, DeclineForm, ReferralForm
from saferhub.partners.models import Role
from saferhub.people.vocabulary import characteristic_label


def _require_personal_data(request) -> None:
    if not request.user.sees_personal_data:
        raise PermissionDenied("Your account has no access to personal data.")


def _title(text: str, form=None) -> str:
    return ("Error: " if form is not None and form.is_bound and form.errors else "") + text


def _home_crumb() -> dict:
    return {"text": "MARAC", "href": reverse("marac:home")}


def _url_or_none(name: str) -> str | None:
    """Pages other parts of MARAC provide, linked once they exist."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def home(request):
    _require_personal_data(request)
    user = request.user
    links = [
        ("Make a referral", reverse("marac:referral_new") if services.may_refer(user) else None,
         "Refer a victim at high risk to a MARAC, with the risk checklist."),
        ("Your organisation's referrals", reverse("marac:referral_list"), "Referrals your organisation has made and what became of them."),
        ("Coordinator's queue", reverse("marac:queue") if selectors.areas_coordinated(user) else None,
         "Referrals to the areas you coordinate, waiting for a decision."),
        ("Meetings", _url_or_none("marac:meeting_list"), "MARAC meetings, their agendas and minutes."),
        ("Your agency's MARAC actions", reverse("marac:my_actions"), "Actions assigned to your agency, overdue ones flagged, and their outcomes."),
        ("MARAC data", _url_or_none("marac:dataset"), "The quarterly MARAC dataset beside the national figures."),
        ("Risk checklists", reverse("marac:checklist_list"), "The versions of the risk checklist referrals are made with."),
    ]
    return render(request, "marac/home.html", {
        "links": [{"text": t, "href": h, "hint": d} for t, h, d in links if h],
        "page_title": "MARAC",
    })


@require_http_methods(["GET", "POST"])
def referral_new(request):
    _require_personal_data(request)
    if not services.may_refer(request.user):
        raise PermissionDenied("Your account cannot make MARAC referrals.")
    checklist = checklist_current()
    areas = list(MaracArea.objects.filter(active=True).select_related("coordinating_organisation").order_by("name"))
    form = ReferralForm(request.POST if request.method == "POST" else None, checklist=checklist, areas=areas)
    if form.is_bound and not form.adding and form.is_valid():
        try:
            referral = services.referral_submit(user=request.user, area=form.area, referral=form.referral)
        except ValidationError as error:
            form.add_referral_errors(error)
        else:
            messages.success(request, f"Referral {referral.case.reference} sent to {referral.area.name}")
            return redirect("marac:referral_detail", referral.pk)
    return render(request, "marac/referral_form.html", {
        "form": form, "checklist": checklist, "areas": areas, "incidents_hint": _incidents_hint(areas),
        "breadcrumbs": [_home_crumb()], "page_title": _title("Make a MARAC referral", form),
    })


def _incidents_hint(areas: list[MaracArea]) -> str:
    """Over how many days to count incidents: each area counts over its own window."""
    windows = sorted({a.escalation_window_days for a in areas})
    if len(windows) == 1:
        period = f"in the last {windows[0]} days"
    elif windows:
        period = "in the last " + "; ".join(f"{a.escalation_window_days} days for {a.name}" for a in areas)
    else:
        period = "in the last 12 months"
    return (f"Incidents known to any agency, not only police call-outs, {period}. Enter 0 if there were none.")


def referral_detail(request, pk: int):
    referral = selectors.referral_view(user=request.user, referral_id=pk)
    parts = selectors.referral_parts(referral=referral)
    return render(request, "marac/referral_detail.html", {
        "referral": referral, "parts": parts, "characteristics": _characteristics(parts),
        "may_decide": selectors.may_decide(user=request.user, referral=referral),
        "may_audit": selectors.may_see_audit(user=request.user, referral=referral),
        "repeat_of_visible": selectors.repeat_of_visible(user=request.user, referral=referral),
        "breadcrumbs": [_home_crumb(), {"text": "Referrals", "href": reverse("marac:referral_list")}],
        "page_title": f"MARAC referral {referral.case.reference}",
    })


def _characteristics(parts) -> list[tuple[str, str]]:
    if not parts.victims:
        return []
    victim = parts.victims[0].person
    return [(label, characteristic_label(name, getattr(victim, name))) for name, label in
            (("gender", "Gender"), ("ethnicity", "Ethnicity"), ("disability", "Disability"), ("sexuality", "Sexual orientation"))]


def referral_list(request):
    _require_personal_data(request)
    page = selectors.referral_list(user=request.user, page=request.GET.get("page"))
    return render(request, "marac/referral_list.html", {
        "page": page, "may_refer": services.may_refer(request.user),
        "breadcrumbs": [_home_crumb()], "page_title": "Your organisation's MARAC referrals",
    })


def referral_audit(request, pk: int):
    from saferhub.people.views import _pagination

    trail = selectors.referral_audit_trail(user=request.user, referral_id=pk, page=request.GET.get("page"))
    base = reverse("marac:referral_audit", args=[pk])
    return render(request, "people/audit_trail.html", {
        "trail": trail, "page": trail.page, "pagination": _pagination(trail.page, base), "label": trail.record.reference,
        "breadcrumbs": [_home_crumb(), {"text": trail.record.reference, "href": reverse("marac:referral_detail", args=[pk])}],
        "page_title": f"Who has seen referral {trail.record.reference}",
    })


QUEUE_STATUSES = [ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED, ReferralStatus.DECLINED]


def queue(request):
    _require_personal_data(request)
    areas = selectors.areas_coordinated(request.user)
    if not areas:
        raise PermissionDenied("You do not coordinate a MARAC area.")
    status = request.GET.get("status") if request.GET.get("status") in QUEUE_STATUSES else ReferralStatus.SUBMITTED
    area = next((a for a in areas if a.slug == request.GET.get("area")), None)
    page = selectors.referral_queue(user=request.user, status=status, area=area, page=request.GET.get("page"))
    return render(request, "marac/queue.html", {
        "page": page, "areas": areas, "area": area, "status": status, "status_label": ReferralStatus(status).label,
        "statuses": [(s.value, s.label) for s in QUEUE_STATUSES],
        "breadcrumbs": [_home_crumb()], "page_title": "Coordinator's queue",
    })


@require_POST
def referral_accept(request, pk: int):
    try:
        referral = services.referral_accept(user=request.user, referral_id=pk)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
        return redirect("marac:referral_detail", pk)
    messages.success(request, f"Referral {referral.case.reference} accepted: it will go on the next {referral.area.name} agenda")
    return redirect("marac:queue")


@require_http_methods(["GET", "POST"])
def referral_decline(request, pk: int):
    referral = selectors.referral_view(user=request.user, referral_id=pk, purpose="Deciding on the referral")
    if not selectors.may_decide(user=request.user, referral=referral):
        if referral.status != ReferralStatus.SUBMITTED:
            messages.info(request, f"This referral has already been {referral.get_status_display().lower()}")
            return redirect("marac:referral_detail", pk)
        raise PermissionDenied("Only the area's coordinators can decline a referral.")
    form = DeclineForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.referral_decline(user=request.user, referral_id=pk, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Referral {referral.case.reference} declined and its case closed")
            return redirect("marac:queue")
    return render(request, "marac/referral_decline.html", {
        "referral": referral, "form": form,
        "breadcrumbs": [_home_crumb(), {"text": referral.case.reference, "href": reverse("marac:referral_detail", args=[pk])}],
        "page_title": _title(f"Decline referral {referral.case.reference}", form),
    })


# Risk checklists ----------------------------------------------------------------------------------

def checklist_versions(request):
    current = checklist_current()
    main, stalking = checklist_questions(current)
    return render(request, "marac/checklist_list.html", {
        "checklists": checklist_list(), "current": current, "main": main, "stalking": stalking,
        "may_load": request.user.has_role(Role.ADMINISTRATOR),
        "breadcrumbs": [_home_crumb()] if request.user.sees_personal_data else [],
        "page_title": "Risk checklists",
    })


@require_http_methods(["GET", "POST"])
def checklist_upload(request):
    if not request.user.has_role(Role.ADMINISTRATOR):
        raise PermissionDenied("Only an administrator can load a risk checklist.")
    form = ChecklistLoadForm(request.POST, request.FILES) if request.method == "POST" else ChecklistLoadForm()
    if form.is_bound and form.is_valid():
        try:
            checklist = checklist_load(user=request.user, file=form.cleaned_data["file"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"{checklist} loaded: new referrals use it from now on")
            return redirect("marac:checklist_list")
    return render(request, "marac/checklist_load.html", {
        "form": form, "breadcrumbs": [{"text": "Risk checklists", "href": reverse("marac:checklist_list")}],
        "page_title": _title("Load a risk checklist", form),
    })
