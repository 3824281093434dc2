"""Pages of the people register and cases. Thin: each parses the request, calls people.services or
people.selectors (which check need-to-know access and write the audit trail) and renders. A record
the user may not see raises Http404 there, so it looks exactly like one that does not exist."""
from __future__ import annotations

import csv
import io
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from saferhub.partners.models import Organisation
from saferhub.people import access, selectors, services
from saferhub.people.forms import (
    AuditExportForm, BreakGlassForm, BreakGlassReviewForm, CaseCloseForm, CaseOpenForm, DisclosureForm, ParticipantPickForm,
    PartyAddForm, PersonForm, PersonSearchForm,
)
from saferhub.people.models import CaseStatus, Person
from saferhub.people.vocabulary import characteristic_label

BREAK_GLASS_WARNING = "You opened this case by break-glass; your organisation's data protection lead will be told"


def _require_personal_data(request) -> None:
    if not request.user.sees_personal_data:
        raise PermissionDenied("Your account has no access to personal data.")


def _title(text: str, form=None, failed: bool = False) -> str:
    return ("Error: " if failed or (form is not None and form.is_bound and form.errors) else "") + text


def _home_crumb() -> dict:
    return {"text": "People and cases", "href": reverse("people:home")}


def _cases_crumbs(case=None) -> list[dict]:
    crumbs = [_home_crumb(), {"text": "Cases", "href": reverse("people:case_list")}]
    if case is not None:
        crumbs.append({"text": case.reference, "href": case.get_absolute_url()})
    return crumbs


def _person_crumbs(person=None) -> list[dict]:
    crumbs = [_home_crumb()]
    if person is not None:
        crumbs.append({"text": person.reference, "href": person.get_absolute_url()})
    return crumbs


def _page_numbers(current: int, last: int) -> list[int | None]:
    shown = sorted({1, last, current - 1, current, current + 1} & set(range(1, last + 1)))
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def _pagination(page, base: str) -> dict | None:
    if page.paginator.num_pages <= 1:
        return None
    joiner = "&" if "?" in base else "?"
    items = [{"number": n, "href": f"{base}{joiner}page={n}", "current": n == page.number} if n else {"ellipsis": True}
             for n in _page_numbers(page.number, page.paginator.num_pages)]
    return {
        "previous": {"href": f"{base}{joiner}page={page.previous_page_number()}"} if page.has_previous() else None,
        "next": {"href": f"{base}{joiner}page={page.next_page_number()}"} if page.has_next() else None,
        "items": items,
    }


# Home and finding people -------------------------------------------------------------------------

def home(request):
    _require_personal_data(request)
    user = request.user
    return render(request, "people/home.html", {
        "may_record": selectors.may_record(user),
        "may_break_glass": selectors.may_break_glass(user),
        "is_data_protection_lead": selectors.is_data_protection_lead(user),
        "page_title": "People and cases",
    })


@require_http_methods(["GET", "POST"])
def person_search(request):
    """Search by POST, so that names and dates of birth stay out of addresses and server logs."""
    _require_personal_data(request)
    results, roles = None, {}
    if request.method == "POST":
        form = PersonSearchForm(request.POST)
        if form.is_valid():
            try:
                results = services.person_search(user=request.user, **form.search_values())
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                roles = selectors.roles_by_person(user=request.user, people=results)
    else:
        form = PersonSearchForm()
    return render(request, "people/search.html", {
        "form": form, "results": results, "roles": roles, "may_record": selectors.may_record(request.user),
        "breadcrumbs": [_home_crumb()], "page_title": _title("Find a person", form),
    })


def person_list(request):
    _require_personal_data(request)
    page = selectors.person_list(user=request.user, page=request.GET.get("page"))
    return render(request, "people/person_list.html", {
        "page": page, "pagination": _pagination(page, reverse("people:person_list")),
        "breadcrumbs": [_home_crumb()], "page_title": "People",
    })


@require_http_methods(["GET", "POST"])
def person_register(request):
    _require_personal_data(request)
    if not selectors.may_record(request.user):
        raise PermissionDenied("Your account cannot add people to the register.")
    case_id = request.GET.get("case") if (request.GET.get("case") or "").isdigit() else None
    if request.method == "POST":
        form = PersonForm(request.POST)
        if not form.adding and form.is_valid():
            try:
                person = services.person_register(
                    user=request.user, purpose=form.purpose_text(),
                    identifiers=form.identifier_values(include_empty=False), **form.person_values())
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"{person.reference} added to the register")
                if case_id:
                    return redirect(reverse("people:participant_add", args=[case_id]) + f"?person={person.pk}")
                return redirect(person.get_absolute_url())
    else:
        form = PersonForm()
    return render(request, "people/person_form.html", {
        "form": form, "person": None, "heading": "Register a person", "button": "Register person",
        "cancel_url": reverse("people:person_search"), "breadcrumbs": [_home_crumb()],
        "page_title": _title("Register a person", form),
    })


def person_detail(request, pk: int):
    person = services.person_view(user=request.user, person_id=pk)
    user = request.user
    return render(request, "people/person_detail.html", {
        "person": person,
        "identifiers": list(person.identifiers.order_by("kind")),
        "participations": selectors.person_cases(user=user, person=person),
        "characteristics": _characteristics(person),
        "may_change": selectors.may_change(user=user, person=person) and not person.anonymised_at,
        "may_audit": selectors.may_see_audit_of(user=user, person=person),
        "may_export": selectors.may_export_subject_access(user=user, person=person),
        "breadcrumbs": [_home_crumb()], "page_title": f"Person {person.reference}",
    })


def _characteristics(person: Person) -> list[tuple[str, str]]:
    return [(label, characteristic_label(name, getattr(person, name))) for name, label in
            (("gender", "Gender"), ("ethnicity", "Ethnicity"), ("disability", "Disability"), ("sexuality", "Sexuality"))]


@require_http_methods(["GET", "POST"])
def person_edit(request, pk: int):
    person = services.person_get_for_change(user=request.user, person_id=pk)
    if request.method == "POST":
        form = PersonForm(request.POST, person=person)
        if not form.adding and form.is_valid():
            try:
                services.person_update(user=request.user, person_id=person.pk, purpose=form.purpose_text(),
                                       identifiers=form.identifier_values(include_empty=True), **form.person_values())
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"{person.reference} updated")
                return redirect(person.get_absolute_url())
    else:
        # Showing the record in a form is a read of it, so it is audited like the person's page.
        person = services.person_view(user=request.user, person_id=pk, purpose="Opened to edit")
        form = PersonForm(person=person, identifiers={i.kind: i.value for i in person.identifiers.all()})
    return render(request, "people/person_form.html", {
        "form": form, "person": person, "heading": f"Edit {person.reference}", "button": "Save changes",
        "cancel_url": person.get_absolute_url(), "breadcrumbs": _person_crumbs(person),
        "page_title": _title(f"Edit person {person.reference}", form),
    })


def person_audit(request, pk: int):
    trail = selectors.record_audit_trail(user=request.user, record_type="person", record_id=pk, page=request.GET.get("page"))
    return _audit_trail_page(request, trail, _person_crumbs(trail.record), reverse("people:person_audit", args=[pk]))


def person_subject_access(request, pk: int):
    export = selectors.subject_access_export(user=request.user, person_id=pk, file_format="html")
    person = Person(pk=pk)
    return render(request, "people/subject_access.html", {
        "export": export, "person_id": pk, "breadcrumbs": _person_crumbs(person),
        "page_title": f"Subject access export for {export['person']['reference']}",
    })


def person_subject_access_json(request, pk: int):
    export = selectors.subject_access_export(user=request.user, person_id=pk, file_format="json")
    response = HttpResponse(json.dumps(export, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="subject-access-{export["person"]["reference"]}.json"'
    response["Cache-Control"] = "no-store"
    return response


# Cases -------------------------------------------------------------------------------------------

def case_list(request):
    _require_personal_data(request)
    status = request.GET.get("status") if request.GET.get("status") in CaseStatus.values else ""
    page = selectors.case_list(user=request.user, status=status, page=request.GET.get("page"))
    base = reverse("people:case_list") + (f"?status={status}" if status else "")
    return render(request, "people/case_list.html", {
        "page": page, "status": status, "statuses": CaseStatus.choices, "pagination": _pagination(page, base),
        "may_record": selectors.may_record(request.user), "may_break_glass": selectors.may_break_glass(request.user),
        "breadcrumbs": [_home_crumb()], "page_title": "Cases",
    })


@require_http_methods(["GET", "POST"])
def case_open(request):
    _require_personal_data(request)
    if not selectors.may_record(request.user):
        raise PermissionDenied("Your account cannot open cases.")
    if request.method == "POST":
        form = CaseOpenForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_open(
                    user=request.user, kind=data["kind"], summary=data["summary"].strip(), purpose=data["purpose"].strip(),
                    reference=data["reference"] or services.case_reference_next(kind=data["kind"]))
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"Case {case.reference} opened")
                return redirect(case.get_absolute_url())
    else:
        form = CaseOpenForm()
    return render(request, "people/case_form.html", {
        "form": form, "breadcrumbs": _cases_crumbs(), "page_title": _title("Open a case", form),
    })


def case_detail(request, pk: int):
    grant = selectors.case_break_glass_grant(user=request.user, case_id=pk)
    case = services.case_view(user=request.user, case_id=pk, purpose="Opened by break-glass" if grant else "")
    user = request.user
    may_change = selectors.may_change(user=user, case=case)
    return render(request, "people/case_detail.html", {
        "case": case, "parts": selectors.case_parts(case=case), "break_glass": grant,
        "break_glass_warning": BREAK_GLASS_WARNING,
        "may_change": may_change and case.status == CaseStatus.OPEN,
        "may_disclose": may_change,
        "may_audit": selectors.may_see_audit_of(user=user, case=case),
        "breadcrumbs": _cases_crumbs(), "page_title": f"Case {case.reference}",
    })


# The person's events are shown to every organisation holding the person, so they must not name
# this case: another organisation may not be party to it.
PARTICIPANT_PURPOSE = "Adding the person to a case"


@require_http_methods(["GET", "POST"])
def participant_add(request, pk: int):
    """Find a person (the search is audited), then pick them and their role. A person just
    registered for the case arrives already chosen."""
    case = services.case_get(user=request.user, case_id=pk, action=access.CHANGE)
    data = request.POST if request.method == "POST" else None
    chosen_id = (request.POST.get("chosen") or request.GET.get("person") or "")
    people, search = None, PersonSearchForm(data) if data is not None and not chosen_id else PersonSearchForm()
    if chosen_id.isdigit():
        people = [services.person_view(user=request.user, person_id=int(chosen_id), purpose=PARTICIPANT_PURPOSE)]
    elif data is not None and search.is_valid():
        try:
            people = services.person_search(user=request.user, purpose=PARTICIPANT_PURPOSE, **search.search_values())
        except ValidationError as error:
            search.add_service_errors(error)
    pick = ParticipantPickForm(data if data is not None and request.POST.get("step") == "add" else None, people=people or [])
    if pick.is_bound and pick.is_valid():
        try:
            services.case_participant_add(user=request.user, case_id=case.pk, person_id=int(pick.cleaned_data["person"]),
                                          role=pick.cleaned_data["role"], purpose=pick.cleaned_data["purpose"].strip())
        except ValidationError as error:
            pick.add_service_errors(error)
        else:
            messages.success(request, "Person added to the case")
            return redirect(case.get_absolute_url())
    errors = (search.error_summary() if search.is_bound and search.errors else []) + (pick.error_summary() if pick.is_bound and pick.errors else [])
    return render(request, "people/participant_add.html", {
        "case": case, "search": search, "pick": pick, "people": people, "chosen": chosen_id if chosen_id.isdigit() else "",
        "errors": errors, "may_record": selectors.may_record(request.user),
        "breadcrumbs": _cases_crumbs(case), "page_title": _title(f"Add a person to {case.reference}", failed=bool(errors)),
    })


@require_http_methods(["GET", "POST"])
def party_add(request, pk: int):
    case = services.case_get(user=request.user, case_id=pk, action=access.CHANGE)
    options = {"organisations": selectors.organisations_for_party(case=case), "agreements": selectors.sharing_agreements()}
    if request.method == "POST":
        form = PartyAddForm(request.POST, **options)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.case_party_add(user=request.user, case_id=case.pk, organisation=data["organisation"],
                                        reason=data["purpose"].strip(), lawful_basis=data["lawful_basis"],
                                        agreement=data["agreement"])
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"{data['organisation'].name} is now party to the case")
                return redirect(case.get_absolute_url())
    else:
        form = PartyAddForm(**options)
    return render(request, "people/party_add.html", {
        "case": case, "form": form, "breadcrumbs": _cases_crumbs(case),
        "page_title": _title(f"Add an organisation to {case.reference}", form),
    })


@require_http_methods(["GET", "POST"])
def disclosure_add(request, pk: int):
    case = services.case_get(user=request.user, case_id=pk, action=access.CHANGE)
    if request.method == "GET":
        # The form names the people in the case, so opening it is a read of the case.
        services.case_view(user=request.user, case_id=case.pk, purpose="Recording a disclosure")
    options = {
        "organisations": Organisation.objects.filter(active=True).exclude(pk=request.user.organisation_id).order_by("name"),
        "agreements": selectors.sharing_agreements(),
        "participants": selectors.case_parts(case=case).participants,
    }
    if request.method == "POST":
        form = DisclosureForm(request.POST, **options)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.case_disclosure_record(
                    user=request.user, case_id=case.pk, to_organisation=data["to_organisation"],
                    lawful_basis=data["lawful_basis"], purpose=data["purpose"], agreement=data["agreement"],
                    person_id=int(data["person"]) if data.get("person") else None)
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"Disclosure to {data['to_organisation'].name} recorded")
                return redirect(case.get_absolute_url())
    else:
        form = DisclosureForm(**options)
    return render(request, "people/disclosure_form.html", {
        "case": case, "form": form, "breadcrumbs": _cases_crumbs(case),
        "page_title": _title(f"Record a disclosure from {case.reference}", form),
    })


@require_http_methods(["GET", "POST"])
def case_close(request, pk: int):
    case = services.case_get(user=request.user, case_id=pk, action=access.CHANGE)
    if case.status == CaseStatus.CLOSED:
        messages.info(request, f"Case {case.reference} is already closed")
        return redirect(case.get_absolute_url())
    form = CaseCloseForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        services.case_close(user=request.user, case_id=case.pk, purpose=form.cleaned_data["purpose"].strip())
        messages.success(request, f"Case {case.reference} closed")
        return redirect(case.get_absolute_url())
    return render(request, "people/case_close.html", {
        "case": case, "form": form, "breadcrumbs": _cases_crumbs(case), "page_title": _title(f"Close case {case.reference}", form),
    })


def case_audit(request, pk: int):
    trail = selectors.record_audit_trail(user=request.user, record_type="case", record_id=pk, page=request.GET.get("page"))
    return _audit_trail_page(request, trail, _cases_crumbs(trail.record), reverse("people:case_audit", args=[pk]))


def _audit_trail_page(request, trail, breadcrumbs, base: str):
    return render(request, "people/audit_trail.html", {
        "trail": trail, "page": trail.page, "pagination": _pagination(trail.page, base),
        "label": trail.record.reference, "breadcrumbs": breadcrumbs,
        "page_title": f"Who has seen {trail.record.reference}",
    })


# Break-glass and data protection oversight ------------------------------------------------------

@require_http_methods(["GET", "POST"])
def break_glass(request):
    if not selectors.may_break_glass(request.user):
        raise PermissionDenied("Your account has no access to personal data.")
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            case, grant = services.break_glass_open_by_reference(
                user=request.user, reference=form.cleaned_data["reference"], reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            if grant is None:
                messages.info(request, "You can already see this case, so break-glass was not needed")
            return redirect(case.get_absolute_url())
    return render(request, "people/break_glass.html", {
        "form": form, "hours": services.BREAK_GLASS_HOURS, "breadcrumbs": [_home_crumb()],
        "page_title": _title("Open a case by break-glass", form),
    })


def break_glass_report(request):
    unreviewed = request.GET.get("show") == "unreviewed"
    grants = selectors.break_glass_report(user=request.user, unreviewed_only=unreviewed)
    return render(request, "people/break_glass_report.html", {
        "grants": grants, "unreviewed": unreviewed, "now": timezone.now(), "breadcrumbs": [_home_crumb()],
        "page_title": "Break-glass report",
    })


@require_http_methods(["GET", "POST"])
def break_glass_review(request, pk: int):
    grant = selectors.break_glass_grant_for_review(user=request.user, grant_id=pk)
    form = BreakGlassReviewForm(request.POST if request.method == "POST" else None,
                                initial={"note": grant.review_note})
    if form.is_bound and form.is_valid():
        try:
            services.break_glass_review(user=request.user, grant_id=grant.pk, note=form.cleaned_data["note"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Review of break-glass access to {grant.case.reference} recorded")
            return redirect("people:break_glass_report")
    return render(request, "people/break_glass_review.html", {
        "grant": grant, "form": form,
        "breadcrumbs": [_home_crumb(), {"text": "Break-glass report", "href": reverse("people:break_glass_report")}],
        "page_title": _title(f"Review break-glass access to {grant.case.reference}", form),
    })


CSV_COLUMNS = ["sequence", "at", "actor", "organisation", "role", "action", "record_type", "record_id", "record_label",
               "fields", "purpose", "ip_address", "request_id", "hash"]


def _csv_safe(value) -> str:
    """Text a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_export(request):
    if not selectors.is_data_protection_lead(request.user):
        raise Http404("No such page")
    form = AuditExportForm(request.GET if "start-day" in request.GET else None)
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        events = selectors.audit_export(user=request.user, start=start, end=end)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for event in events:
            writer.writerow([_csv_safe(v) for v in (
                event.sequence, timezone.localtime(event.at).isoformat(), event.actor_name, event.organisation, event.role,
                event.action, event.record_type, event.record_id, event.record_label, ";".join(event.fields or []),
                event.purpose, event.ip_address or "", event.request_id, event.hash)])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{start.isoformat()}-to-{end.isoformat()}.csv"'
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "people/audit_export.html", {
        "form": form, "breadcrumbs": [_home_crumb()], "page_title": _title("Export the audit trail", form),
    })
