"""Pages of MARAC meetings: the list by area, scheduling and emergency meetings, a meeting with its
agenda and attendance, the confidentiality statement, a case as the meeting sees it with agency
research, the minutes and their exports, and the iCalendar feed. Thin: services and selectors check
who may do what and write the audit trail."""
from __future__ import annotations

import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from saferhub.core.formatting import date_uk
from saferhub.marac import ical, meeting_selectors as selectors, meeting_services as services
from saferhub.marac.agenda import agenda_build as build_agenda
from saferhub.marac.meeting_forms import (
    AgendaItemForm, AttendeeForm, EmergencyForm, MinutesForm, ResearchForm, ScheduleForm, StatementForm,
)
from saferhub.marac.models import MaracMeeting, MaracReferral, MeetingStatus
from saferhub.people import access


def _title(text: str, form=None) -> str:
    return ("Error: " if form is not None and form.is_bound and form.errors else "") + text


def _require_personal_data(request) -> None:
    if not request.user.sees_personal_data:
        raise PermissionDenied("Your account has no access to personal data.")


def _crumbs(meeting: MaracMeeting | None = None) -> list[dict]:
    crumbs = [{"text": "MARAC", "href": reverse("marac:home")},
              {"text": "MARAC meetings", "href": reverse("marac:meeting_list")}]
    if meeting is not None:
        crumbs.append({"text": _meeting_name(meeting), "href": reverse("marac:meeting_detail", args=[meeting.pk])})
    return crumbs


def _meeting_name(meeting: MaracMeeting) -> str:
    return f"{meeting.area.name} {date_uk(meeting.starts_at)}"


def _gated(view):
    """Send an attendee who has not signed the confidentiality statement to it, instead of the page."""
    @wraps(view)
    def wrapper(request, pk: int, *args, **kwargs):
        try:
            return view(request, pk, *args, **kwargs)
        except selectors.ConfidentialityNotSigned:
            messages.info(request, "Sign the confidentiality statement before you see the cases of this meeting")
            return redirect(reverse("marac:meeting_statement", args=[pk]) + "?next=" + request.path)
    return wrapper


# The list, scheduling and emergency meetings ---------------------------------------------------

def meeting_list(request):
    _require_personal_data(request)
    past = request.GET.get("when") == "past"
    areas, chosen, meetings = selectors.meeting_list(user=request.user, area_slug=request.GET.get("area", ""), past=past)
    return render(request, "marac/meeting_list.html", {
        "areas": areas, "chosen": chosen, "meetings": meetings, "past": past,
        "coordinated": selectors.areas_coordinated(request.user),
        "page_title": "MARAC meetings",
    })


@require_http_methods(["GET", "POST"])
def meeting_schedule(request):
    _require_personal_data(request)
    areas = selectors.areas_coordinated(request.user)
    if not areas:
        raise PermissionDenied("Only MARAC coordinators can schedule meetings.")
    form = ScheduleForm(request.POST if request.method == "POST" else None, areas=areas)
    if form.is_bound and form.is_valid():
        try:
            added = services.meetings_schedule(user=request.user, area=form.chosen_area(), until=form.cleaned_data["until"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"{len(added)} meeting{'s' if len(added) != 1 else ''} added to the schedule"
                             if added else "Every meeting up to that date was already scheduled")
            return redirect(reverse("marac:meeting_list") + f"?area={form.chosen_area().slug}")
    return render(request, "marac/meeting_schedule.html", {
        "form": form, "breadcrumbs": _crumbs(), "page_title": _title("Schedule meetings", form),
    })


@require_http_methods(["GET", "POST"])
def meeting_emergency(request):
    _require_personal_data(request)
    if not selectors.areas_coordinated(request.user):
        raise PermissionDenied("Only MARAC coordinators can call an emergency meeting.")
    form = EmergencyForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        referral = (MaracReferral.objects.restrict(request.user, access.VIEW)
                    .filter(area__coordinators=request.user, case__reference__iexact=form.cleaned_data["reference"].strip())
                    .first())
        if referral is None:
            form.add_error("reference", "No referral to a MARAC you coordinate has that case reference")
        else:
            try:
                meeting = services.meeting_emergency_create(
                    user=request.user, referral_id=referral.pk, starts_at=form.starts_at(),
                    venue=form.cleaned_data["venue"], reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form.add_service_errors(error, {"referral": "reference", "starts_at": "date"})
            else:
                messages.success(request, "Emergency meeting called")
                return redirect("marac:meeting_detail", meeting.pk)
    return render(request, "marac/meeting_emergency.html", {
        "form": form, "breadcrumbs": _crumbs(), "page_title": _title("Call an emergency meeting", form),
    })


# A meeting ------------------------------------------------------------------------------------------

@_gated
def meeting_detail(request, pk: int):
    meeting, standing, sections = selectors.meeting_agenda(user=request.user, meeting_id=pk)
    return render(request, "marac/meeting_detail.html", {
        "meeting": meeting, "standing": standing, "sections": sections,
        "attendance": selectors.attendance_list(meeting=meeting),
        "research_done": selectors.research_by_organisation(meeting=meeting) if standing.signed else {},
        "may_manage": standing.coordinator and meeting.status == MeetingStatus.PLANNED,
        "breadcrumbs": _crumbs(), "page_title": f"{_meeting_name(meeting)} MARAC",
    })


@require_POST
def meeting_agenda_build(request, pk: int):
    meeting, standing = selectors.meeting_get(user=request.user, meeting_id=pk)
    if not standing.coordinator:
        raise Http404("No such MARAC meeting")
    try:
        build_agenda(user=request.user, meeting=meeting)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Agenda built")
    return redirect("marac:meeting_detail", pk)


@require_POST
def meeting_agenda_publish(request, pk: int):
    try:
        services.agenda_publish(user=request.user, meeting_id=pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Agenda published: the attending agencies have been emailed")
    return redirect("marac:meeting_detail", pk)


@require_POST
def meeting_cancel(request, pk: int):
    try:
        services.meeting_cancel(user=request.user, meeting_id=pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Meeting cancelled: its cases wait for the next meeting")
    return redirect("marac:meeting_detail", pk)


@_gated
@require_http_methods(["GET", "POST"])
def meeting_agenda_add(request, pk: int):
    meeting, standing = selectors.meeting_get(user=request.user, meeting_id=pk)
    if not standing.coordinator:
        raise Http404("No such MARAC meeting")
    form = AgendaItemForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.agenda_item_add(user=request.user, meeting_id=meeting.pk, section=int(form.cleaned_data["kind"]),
                                     reference=form.cleaned_data["reference"], note=form.cleaned_data["note"])
        except ValidationError as error:
            form.add_service_errors(error, {"section": "kind"})
        else:
            messages.success(request, "Added to the agenda")
            return redirect("marac:meeting_detail", pk)
    return render(request, "marac/meeting_agenda_add.html", {
        "meeting": meeting, "form": form, "breadcrumbs": _crumbs(meeting),
        "page_title": _title("Add to the agenda", form),
    })


@require_http_methods(["GET", "POST"])
def meeting_attendance(request, pk: int):
    meeting, standing = selectors.meeting_get(user=request.user, meeting_id=pk)
    if not standing.coordinator:
        raise Http404("No such MARAC meeting")
    form = AttendeeForm(request.POST if request.method == "POST" else None,
                        users=selectors.attendee_choices(meeting=meeting))
    if form.is_bound and form.is_valid():
        try:
            services.attendance_add(user=request.user, meeting_id=meeting.pk, attendee=form.chosen(),
                                    role=form.cleaned_data["role"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"{form.chosen().display_name} added to the meeting")
            return redirect("marac:meeting_attendance", pk)
    return render(request, "marac/meeting_attendance.html", {
        "meeting": meeting, "form": form, "attendance": selectors.attendance_list(meeting=meeting),
        "may_manage": meeting.status == MeetingStatus.PLANNED,
        "breadcrumbs": _crumbs(meeting), "page_title": _title("Attendance", form),
    })


@require_POST
def meeting_attendance_remove(request, pk: int, attendance_pk: int):
    meeting, standing = selectors.meeting_get(user=request.user, meeting_id=pk)
    if not standing.coordinator or not meeting.attendance.filter(pk=attendance_pk).exists():
        raise Http404("No such attendance")
    try:
        services.attendance_remove(user=request.user, attendance_id=attendance_pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Attendee removed")
    return redirect("marac:meeting_attendance", pk)


@require_http_methods(["GET", "POST"])
def meeting_statement(request, pk: int):
    meeting, standing = selectors.meeting_get(user=request.user, meeting_id=pk)
    if standing.attendance is None:
        raise Http404("No such MARAC meeting")
    target = request.GET.get("next", "")
    if not target.startswith(f"/marac/meetings/{pk}/"):
        target = reverse("marac:meeting_detail", args=[pk])
    if standing.signed:
        return render(request, "marac/meeting_statement.html", {
            "meeting": meeting, "standing": standing, "statement": services.CONFIDENTIALITY_STATEMENT, "form": None,
            "next": target, "breadcrumbs": _crumbs(), "page_title": "Confidentiality statement",
        })
    form = StatementForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.confidentiality_sign(user=request.user, meeting_id=pk, agree=form.cleaned_data["agree"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "You have signed the confidentiality statement")
            return redirect(target)
    return render(request, "marac/meeting_statement.html", {
        "meeting": meeting, "standing": standing, "statement": services.CONFIDENTIALITY_STATEMENT, "form": form,
        "next": target, "breadcrumbs": _crumbs(), "page_title": _title("Confidentiality statement", form),
    })


@_gated
@require_http_methods(["GET", "POST"])
def meeting_case(request, pk: int, referral_pk: int):
    form = None
    if request.method == "POST":
        form = ResearchForm(request.POST)
        if form.is_valid():
            try:
                services.research_save(user=request.user, meeting_id=pk, referral_id=referral_pk,
                                       text=form.cleaned_data["text"])
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Your agency's research is saved")
                return redirect("marac:meeting_case", pk, referral_pk)
    view = selectors.meeting_case(user=request.user, meeting_id=pk, referral_id=referral_pk)
    may_research = view.standing.signed and view.meeting.status == MeetingStatus.PLANNED
    if form is None and may_research:
        form = ResearchForm(initial={"text": view.own_research.text if view.own_research else ""})
    elif not may_research:
        form = None
    return render(request, "marac/meeting_case.html", {
        "view": view, "meeting": view.meeting, "referral": view.referral, "form": form,
        "breadcrumbs": _crumbs(view.meeting),
        "page_title": _title(f"Case {view.referral.case.reference} at the MARAC", form),
    })


# Minutes --------------------------------------------------------------------------------------------

@_gated
@require_http_methods(["GET", "POST"])
def meeting_minutes(request, pk: int):
    minutes, standing = selectors.meeting_minutes(user=request.user, meeting_id=pk)
    meeting = minutes.meeting
    form = None
    if standing.coordinator and meeting.status != MeetingStatus.CANCELLED:
        initial = {"chair": meeting.chair, "venue": meeting.venue, "minutes": meeting.minutes,
                   "apologies": [str(i) for i in meeting.apologies],
                   "information_sent": [str(i) for i in meeting.information_sent],
                   "left_after_children": [str(a.pk) for a in minutes.attendance if a.left_after_children_cases]}
        form = MinutesForm(request.POST if request.method == "POST" else None, initial=initial,
                           organisations=selectors.organisations_for_minutes(), cases=minutes.cases,
                           attendance=minutes.attendance)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                services.minutes_save(user=request.user, meeting_id=pk, chair=data["chair"], venue=data["venue"],
                                      minutes=data["minutes"], apologies=form.ids("apologies"),
                                      information_sent=form.ids("information_sent"), case_notes=form.case_notes(),
                                      mark_held=data["mark_held"], left_after_children=form.ids("left_after_children"))
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Minutes saved" + (" and the meeting marked as held" if data["mark_held"] else ""))
                return redirect("marac:meeting_minutes", pk)
    elif request.method == "POST":
        raise PermissionDenied("Only the area's coordinators can write the minutes.")
    return render(request, "marac/meeting_minutes.html", {
        "minutes": minutes, "meeting": meeting, "form": form, "breadcrumbs": _crumbs(meeting),
        "page_title": _title(f"Minutes of the {_meeting_name(meeting)} MARAC", form),
    })


@_gated
def meeting_minutes_print(request, pk: int):
    minutes, _ = selectors.meeting_minutes(user=request.user, meeting_id=pk, export=True)
    return render(request, "marac/meeting_minutes_print.html", {
        "minutes": minutes, "meeting": minutes.meeting,
        "page_title": f"Minutes of the {_meeting_name(minutes.meeting)} MARAC",
    })


@_gated
def meeting_minutes_docx(request, pk: int):
    from saferhub.marac.meeting_export import minutes_docx

    minutes, _ = selectors.meeting_minutes(user=request.user, meeting_id=pk, export=True)
    buffer = io.BytesIO()
    minutes_docx(minutes).save(buffer)
    response = HttpResponse(buffer.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    day = timezone.localtime(minutes.meeting.starts_at).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="marac-minutes-{minutes.meeting.area.slug}-{day}.docx"'
    response["Cache-Control"] = "no-store"
    return response


# The calendar ---------------------------------------------------------------------------------------

def _calendar_response(user) -> HttpResponse:
    body = ical.calendar(selectors.calendar_meetings(user=user), now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="marac-meetings.ics"'
    response["Cache-Control"] = "no-store"
    return response


def meetings_ics(request):
    return _calendar_response(request.user)


@login_not_required
def meetings_ics_token(request, token: str):
    user = selectors.calendar_user(token=token)
    if user is None:
        raise Http404("No such calendar")
    return _calendar_response(user)


@require_http_methods(["GET", "POST"])
def meeting_calendar(request):
    """The secret calendar address: make one (shown once) or revoke it."""
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.calendar_token_revoke(user=request.user)
            messages.success(request, "Your calendar address no longer works")
            return redirect("marac:meeting_calendar")
        token = services.calendar_token_create(user=request.user)
    address = request.build_absolute_uri(reverse("marac:meetings_ics_token", args=[token])) if token else ""
    return render(request, "marac/meeting_calendar.html", {
        "address": address, "active": selectors.calendar_token_active(user=request.user),
        "feed": reverse("marac:meetings_ics"), "breadcrumbs": _crumbs(), "page_title": "Meetings in your calendar",
    })
