"""Pages of MATAC casework. Thin: each parses the request, calls matac.casework_services,
casework_selectors or outcomes (which check access and write the audit trail) and renders. Anyone
not on a MATAC, and any record outside the user's scope, gets 404 as for a missing record."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from saferhub.matac import casework_selectors as selectors
from saferhub.matac import casework_services as services
from saferhub.matac import outcomes
from saferhub.matac.casework_forms import (
    ActionForm, ActionUpdateForm, CohortForm, DecisionForm, ExitForm, RankedNominationForm, ReferralNominationForm,
    ReviewForm, ScheduleForm,
)
from saferhub.matac.models import Adoption, MatacMeeting, MeetingStatus, NominationStatus, ScoringRun
from saferhub.partners.models import User


def _panels(request):
    if not request.user.sees_personal_data:
        raise Http404("Not found")
    panels = selectors.panels_for(request.user)
    if not panels:
        raise Http404("Not found")
    return panels


def _panel(request):
    panels = _panels(request)
    chosen = request.GET.get("panel", "")
    return next((p for p in panels if str(p.pk) == chosen), panels[0]), panels


def _title(text: str, form=None) -> str:
    return ("Error: " if form is not None and form.is_bound and form.errors else "") + text


def _crumbs(*extra) -> list[dict]:
    crumbs = []
    try:
        crumbs.append({"text": "MATAC", "href": reverse("matac:home")})
    except NoReverseMatch:
        pass
    crumbs.append({"text": "Nominations", "href": reverse("matac:nomination_list")})
    return crumbs + [{"text": t, "href": h} for t, h in extra]


def _case_crumbs(nomination) -> list[dict]:
    return _crumbs((nomination.case.reference, reverse("matac:case_detail", args=[nomination.pk])))


def _meeting_options(panel, *, held_only: bool = False) -> list[tuple[str, str]]:
    meetings = MatacMeeting.objects.filter(panel=panel).exclude(status=MeetingStatus.CANCELLED)
    if held_only:
        meetings = meetings.filter(date__lte=timezone.localdate()).order_by("-date")
    else:
        meetings = meetings.filter(date__gte=timezone.localdate() - dt.timedelta(days=panel.interval_days)).order_by("date")
    return [(str(m.pk), f"{m.date:%-d %B %Y}") for m in meetings[:30]]


def _agency_options(panel) -> list[tuple[str, str]]:
    return [(str(o.pk), o.name) for o in services.panel_members(panel)]


def _owner_options(panel) -> list[tuple[str, str]]:
    members = services.panel_member_organisation_ids(panel)
    users = User.objects.filter(organisation_id__in=members, is_active=True).select_related("organisation").order_by(
        "organisation__name", "last_name", "first_name", "username")
    return [(str(u.pk), f"{u.display_name} ({u.organisation.label})") for u in users]


def _int(value) -> int | None:
    return int(value) if value not in (None, "") and str(value).isdigit() else None


# Nominations ------------------------------------------------------------------------------------

def nomination_list(request):
    panel, panels = _panel(request)
    status = request.GET.get("status", "")
    if status not in NominationStatus.values:
        status = ""
    rows = selectors.nomination_list(user=request.user, status=status, panel=panel)
    return render(request, "matac/casework_nomination_list.html", {
        "panel": panel, "panels": panels, "nominations": rows, "status": status, "statuses": NominationStatus.choices,
        "overdue": selectors.overdue_actions(user=request.user),
        "breadcrumbs": _crumbs()[:-1], "page_title": "MATAC nominations",
    })


def _nominee_values(form) -> dict:
    data = form.cleaned_data
    return {"first_name": data.get("first_name") or "", "last_name": data.get("last_name") or "",
            "date_of_birth": data.get("date_of_birth"), "meeting_id": _int(data.get("meeting"))}


@require_http_methods(["GET", "POST"])
def nomination_new_ranked(request):
    panel, _ = _panel(request)
    runs = [(str(r.pk), f"{r.reference_label}: {r.reference_date:%-d %B %Y}, {r.scheme.label}")
            for r in ScoringRun.objects.select_related("scheme").order_by("-created_at", "-pk")[:20]]
    options = {"run": runs, "meeting": _meeting_options(panel)}
    if request.method == "POST":
        form = RankedNominationForm(request.POST, options=options)
        if form.is_valid():
            try:
                nomination = services.nomination_from_run(
                    user=request.user, panel_id=panel.pk, run_id=int(form.cleaned_data["run"]),
                    rank=form.cleaned_data["rank"], **_nominee_values(form))
            except ValidationError as error:
                form.add_service_errors(error, {"perpetrator_id": "rank"})
            else:
                messages.success(request, f"Nominated: case {nomination.case.reference}")
                return redirect("matac:case_detail", nomination.pk)
    else:
        form = RankedNominationForm(initial={"run": request.GET.get("run", ""), "rank": request.GET.get("rank", "")},
                                    options=options)
    return render(request, "matac/casework_nomination_form.html", {
        "form": form, "panel": panel, "source": "ranked", "breadcrumbs": _crumbs(),
        "page_title": _title("Nominate from a ranked list", form),
    })


@require_http_methods(["GET", "POST"])
def nomination_new_referral(request):
    panel, _ = _panel(request)
    options = {"meeting": _meeting_options(panel)}
    if request.method == "POST":
        form = ReferralNominationForm(request.POST, options=options)
        if form.is_valid():
            try:
                nomination = services.nomination_from_referral(
                    user=request.user, panel_id=panel.pk, perpetrator_id=form.cleaned_data["perpetrator_id"],
                    reasons=form.cleaned_data["reasons"], reference_date=form.cleaned_data.get("reference_date"),
                    **_nominee_values(form))
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"Referral recorded: case {nomination.case.reference}")
                return redirect("matac:case_detail", nomination.pk)
    else:
        form = ReferralNominationForm(options=options)
    return render(request, "matac/casework_nomination_form.html", {
        "form": form, "panel": panel, "source": "referral", "breadcrumbs": _crumbs(),
        "page_title": _title("Refer a perpetrator to MATAC", form),
    })


def case_detail(request, pk: int):
    _panels(request)
    page = selectors.case_view(user=request.user, nomination_id=pk)
    try:
        explain_url = reverse("matac:person_score", args=[page.nomination.pk])
    except NoReverseMatch:
        explain_url = ""
    return render(request, "matac/casework_case.html", {
        "page": page, "nomination": page.nomination, "explain_url": explain_url, "today": timezone.localdate(),
        "breadcrumbs": _crumbs(), "page_title": f"MATAC case {page.nomination.case.reference}",
    })


@require_http_methods(["GET", "POST"])
def nomination_decide(request, pk: int):
    _panels(request)
    nomination = selectors.nomination_get(user=request.user, nomination_id=pk, action="change")
    if nomination.status not in selectors.PENDING:
        raise Http404("Nothing to decide")
    options = {"meeting": _meeting_options(nomination.panel, held_only=True), "lead_agency": _agency_options(nomination.panel)}
    if request.method == "POST":
        form = DecisionForm(request.POST, options=options)
        if form.is_valid():
            try:
                services.nomination_decide(
                    user=request.user, nomination_id=nomination.pk, meeting_id=int(form.cleaned_data["meeting"]),
                    decision=form.cleaned_data["decision"], reason=form.cleaned_data.get("reason") or "",
                    lead_agency_id=_int(form.cleaned_data.get("lead_agency")))
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Decision recorded")
                return redirect("matac:case_detail", nomination.pk)
    else:
        form = DecisionForm(initial={"meeting": str(nomination.meeting_id or "")}, options=options)
    return render(request, "matac/casework_decide.html", {
        "form": form, "nomination": nomination, "breadcrumbs": _case_crumbs(nomination),
        "page_title": _title(f"Decision on {nomination.case.reference}", form),
    })


# The action plan, reviews, exit and re-score ----------------------------------------------------

def _adoption(request, pk: int) -> Adoption:
    _panels(request)
    nomination = selectors.nomination_get(user=request.user, nomination_id=pk, action="change")
    adoption = Adoption.objects.filter(nomination=nomination).select_related("nomination__case", "nomination__panel").first()
    if adoption is None:
        raise Http404("Not adopted")
    return adoption


@require_http_methods(["GET", "POST"])
def action_add(request, pk: int):
    adoption = _adoption(request, pk)
    panel = adoption.nomination.panel
    options = {"agency": _agency_options(panel), "owner": _owner_options(panel)}
    if request.method == "POST":
        form = ActionForm(request.POST, options=options)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.action_add(user=request.user, adoption_id=adoption.pk, intervention=data["intervention"],
                                    pathway=data["pathway"], agency_id=_int(data["agency"]), description=data["description"],
                                    deadline=data["deadline"], owner_id=_int(data.get("owner")))
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Action added to the plan")
                return redirect("matac:case_detail", pk)
    else:
        form = ActionForm(initial={"agency": str(adoption.lead_agency_id)}, options=options)
    return render(request, "matac/casework_action_form.html", {
        "form": form, "nomination": adoption.nomination, "action": None, "breadcrumbs": _case_crumbs(adoption.nomination),
        "page_title": _title("Add an action", form),
    })


@require_http_methods(["GET", "POST"])
def action_edit(request, pk: int):
    _panels(request)
    action = selectors.action_get(user=request.user, action_id=pk)
    nomination = action.adoption.nomination
    if request.method == "POST":
        form = ActionUpdateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.action_update(user=request.user, action_id=action.pk, status=data["status"],
                                       outcome=data.get("outcome") or "", deadline=data["deadline"])
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Action updated")
                return redirect("matac:case_detail", nomination.pk)
    else:
        form = ActionUpdateForm(initial={"status": action.status, "outcome": action.outcome, "deadline": action.deadline})
    return render(request, "matac/casework_action_form.html", {
        "form": form, "nomination": nomination, "action": action, "breadcrumbs": _case_crumbs(nomination),
        "page_title": _title("Update an action", form),
    })


@require_http_methods(["GET", "POST"])
def review_add(request, pk: int):
    adoption = _adoption(request, pk)
    options = {"meeting": _meeting_options(adoption.nomination.panel, held_only=True)}
    if request.method == "POST":
        form = ReviewForm(request.POST, options=options)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.review_record(user=request.user, adoption_id=adoption.pk, reviewed_on=data["reviewed_on"],
                                       notes=data["notes"], risk_view=data["risk_view"], meeting_id=_int(data.get("meeting")))
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Review recorded")
                return redirect("matac:case_detail", pk)
    else:
        form = ReviewForm(initial={"reviewed_on": timezone.localdate()}, options=options)
    return render(request, "matac/casework_review_form.html", {
        "form": form, "nomination": adoption.nomination, "breadcrumbs": _case_crumbs(adoption.nomination),
        "page_title": _title("Record a review", form),
    })


@require_http_methods(["GET", "POST"])
def exit_add(request, pk: int):
    adoption = _adoption(request, pk)
    if request.method == "POST":
        form = ExitForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.exit_record(user=request.user, adoption_id=adoption.pk, exited_on=data["exited_on"],
                                     reason=data["reason"], other_reason=data.get("other_reason") or "")
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Exit recorded; the case is closed")
                return redirect("matac:case_detail", pk)
    else:
        form = ExitForm(initial={"exited_on": timezone.localdate()})
    return render(request, "matac/casework_exit_form.html", {
        "form": form, "nomination": adoption.nomination, "breadcrumbs": _case_crumbs(adoption.nomination),
        "page_title": _title("Record an exit", form),
    })


@require_POST
def rescore(request, pk: int):
    adoption = _adoption(request, pk)
    try:
        outcomes.adoption_rescore(user=request.user, adoption_id=adoption.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Re-scored at 12 months")
    return redirect("matac:case_detail", pk)


# Meetings ---------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def meeting_list(request):
    panel, panels = _panel(request)
    form = ScheduleForm(request.POST or None, initial={"count": 6})
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_schedule(user=request.user, panel_id=panel.pk, count=form.cleaned_data["count"])
        except (ValidationError, Http404) as error:
            form.add_error("count", "Your account cannot schedule this MATAC's meetings"
                           if not isinstance(error, ValidationError) else " ".join(error.messages))
        else:
            messages.success(request, "Meetings scheduled")
            return redirect(reverse("matac:meeting_list") + f"?panel={panel.pk}")
    meetings = selectors.meeting_list(user=request.user, panel=panel)
    today = timezone.localdate()
    return render(request, "matac/casework_meeting_list.html", {
        "form": form, "panel": panel, "panels": panels,
        "upcoming": [m for m in meetings if m.date >= today], "past": [m for m in meetings if m.date < today][::-1][:12],
        "breadcrumbs": _crumbs()[:-1], "page_title": _title("MATAC meetings", form),
    })


def meeting_detail(request, pk: int):
    _panels(request)
    page = selectors.meeting_view(user=request.user, meeting_id=pk)
    return render(request, "matac/casework_meeting.html", {
        "page": page, "meeting": page.meeting, "today": timezone.localdate(),
        "breadcrumbs": _crumbs()[:-1] + [{"text": "Meetings", "href": reverse("matac:meeting_list")}],
        "page_title": f"MATAC meeting {page.meeting.date:%-d %B %Y}",
    })


# Outcomes ---------------------------------------------------------------------------------------

def _cohort(request, panel=None):
    today = timezone.localdate()
    default = {"start-day": "1", "start-month": "4", "start-year": str(today.year - 3), "end-day": str(today.day),
               "end-month": str(today.month), "end-year": str(today.year - 1)}
    form = CohortForm(request.GET if "start-year" in request.GET else default)
    report = published = None
    if form.is_valid():
        report = outcomes.cohort_report(start=form.cleaned_data["start"], end=form.cleaned_data["end"], as_of=today,
                                        panel=panel)
        published = outcomes.cohort_publish(report)
    return form, report, published


def outcomes_page(request):
    panel, _ = _panel(request)
    form, report, published = _cohort(request, panel)
    service_url = ""
    from saferhub.commissioning.models import Service

    service = Service.objects.filter(slug__startswith="matac-").order_by("slug").first()
    if service is not None:
        service_url = service.get_absolute_url()
    return render(request, "matac/casework_outcomes.html", {
        "form": form, "report": report, "published": published, "service_url": service_url, "members_view": True,
        "query": request.GET.urlencode(),
        "breadcrumbs": _crumbs()[:-1], "page_title": _title("MATAC outcomes", form),
    })


def outcomes_published(request):
    """The cohort figures as they may be shown outside the MATAC's members: small counts withheld."""
    form, _, published = _cohort(request)
    return render(request, "matac/casework_outcomes.html", {
        "form": form, "report": None, "published": published, "service_url": "", "members_view": False,
        "page_title": _title("MATAC outcomes (published)", form),
    })
