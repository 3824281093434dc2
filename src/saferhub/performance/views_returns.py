"""Data return pages: the returns of a quarter, one return with its figures, validation results and
history, entering figures on the web, downloading and uploading the template, submitting,
approving and reopening."""
from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST

from saferhub.commissioning.models import Service
from saferhub.performance import access, selectors, services
from saferhub.performance.forms import ReopenForm, ReturnFiguresForm, ReturnUploadForm
from saferhub.performance.models import ReturnStatus
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.return_display import figure_rows, history_entries, violation_view
from saferhub.performance.returns_file import template_csv, template_xlsx
from saferhub.performance.validation import ValueSet

TEMPLATE_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
LOCKED = {
    ReturnStatus.SUBMITTED: "This return has been submitted: ask a strategy manager to reopen it if the figures need changing.",
    ReturnStatus.APPROVED: "This return is approved and locked: its figures can no longer be changed.",
}


def _require_viewer(request) -> None:
    if not access.can_view_performance(request.user):
        raise PermissionDenied


def _require_editor(request, service: Service) -> None:
    if not access.can_edit_return(request.user, service):
        raise PermissionDenied("You can fill in returns only for your organisation's services.")


def _require_approver(request) -> None:
    if not access.can_approve_return(request.user):
        raise PermissionDenied("Only strategy managers can approve or reopen returns.")


def _service_and_quarter(service_slug: str, quarter_slug: str) -> tuple[Service, FinancialQuarter]:
    service = get_object_or_404(Service.objects.select_related("provider"), slug=service_slug)
    try:
        quarter = FinancialQuarter.from_slug(quarter_slug)
    except ValueError:
        raise Http404("No such financial quarter") from None
    return service, quarter


def _return_url(service: Service, quarter: FinancialQuarter) -> str:
    return reverse("returns:return_detail", args=[service.slug, quarter.slug])


def _breadcrumbs(service: Service, quarter: FinancialQuarter, *, here: bool = True) -> list[dict]:
    crumbs = [{"text": "Data returns", "href": reverse("returns:return_list") + f"?quarter={quarter.slug}"}]
    if not here:
        crumbs.append({"text": f"{service.name}: {quarter.label}", "href": _return_url(service, quarter)})
    return crumbs


def return_list(request):
    _require_viewer(request)
    today = timezone.localdate()
    choices = selectors.return_quarter_choices(today)
    wanted = request.GET.get("quarter", "")
    if wanted:
        try:
            quarter = FinancialQuarter.from_slug(wanted)
        except ValueError:
            raise Http404("No such financial quarter") from None
    else:
        quarter = FinancialQuarter.from_date(today).previous()
    if quarter not in choices:
        choices = sorted([*choices, quarter], reverse=True)
    rows = selectors.return_overview(user=request.user, quarter=quarter)
    can_approve = access.can_approve_return(request.user)
    counts = Counter(row.status or "not_started" for row in rows)
    return render(request, "returns/return_list.html", {
        "quarter": quarter,
        "quarter_items": [{"value": q.slug, "text": q.label} for q in choices],
        "own_rows": [row for row in rows if row.own],
        "other_rows": [row for row in rows if not row.own],
        "editable_ids": {row.service.pk for row in rows if access.can_edit_return(request.user, row.service)},
        "can_approve": can_approve,
        "awaiting": selectors.returns_awaiting_approval() if can_approve else [],
        "counts": counts,
        "page_title": f"Data returns: {quarter.label}",
    })


def _return_page(request, service: Service, quarter: FinancialQuarter, *, upload_form=None, reopen_form=None,
                 submit_error: ValidationError | None = None, action_errors: list[str] | None = None,
                 comments: dict[str, str] | None = None):
    """The return page, also re-shown (with an error summary) when an upload, a submission or a
    manager's decision fails."""
    user = request.user
    data_return = selectors.return_get(service, quarter)
    elements = selectors.elements_by_slug()
    values = selectors.return_values(data_return) if data_return else ValueSet(quarter)
    violations = selectors.return_violations(data_return, elements=elements) if data_return else []
    status = data_return.status if data_return else ""
    can_edit = access.can_edit_return(user, service)
    editable = can_edit and status in ("", ReturnStatus.DRAFT)
    # One comment explains every violation of a warning rule, so warnings are grouped by rule.
    warnings: dict[str, dict] = {}
    for v in violations:
        if not v.is_error:
            warnings.setdefault(v.rule.slug, {"rule": v.rule, "violations": []})["violations"].append(violation_view(v, elements))

    error_list, comment_errors = [], {}
    if upload_form is not None and upload_form.errors:
        error_list += upload_form.error_summary()
    if reopen_form is not None and reopen_form.errors:
        error_list += reopen_form.error_summary()
    for message in action_errors or []:
        error_list.append({"text": message, "href": "#return-status"})
    if submit_error is not None:
        if hasattr(submit_error, "error_dict"):
            comment_errors = {key: messages_[0] for key, messages_ in submit_error.message_dict.items()}
            error_list += [{"text": text, "href": f"#{key}"} for key, text in comment_errors.items()]
        else:
            href = "#validation-errors" if any(v.is_error for v in violations) else "#submit"
            error_list += [{"text": text, "href": href} for text in submit_error.messages]

    return render(request, "returns/return_detail.html", {
        "service": service,
        "quarter": quarter,
        "data_return": data_return,
        "status": status,
        "rows": figure_rows(service, quarter, values, elements),
        "has_values": bool(values.values),
        "errors": [violation_view(v, elements) for v in violations if v.is_error],
        "warnings": list(warnings.values()),
        "warning_count": sum(len(group["violations"]) for group in warnings.values()),
        "comments": comments if comments is not None else (data_return.warning_comments if data_return else {}),
        "comment_errors": comment_errors,
        "history": history_entries(data_return, elements) if data_return else [],
        "can_edit": can_edit,
        "editable": editable,
        "can_submit": editable and bool(values.values),
        "can_decide": access.can_approve_return(user) and status == ReturnStatus.SUBMITTED,
        "locked_message": LOCKED.get(status, ""),
        "upload_form": upload_form or ReturnUploadForm(),
        "reopen_form": reopen_form or ReopenForm(),
        "error_list": error_list,
        "submit_blocked_by_errors": submit_error is not None and not hasattr(submit_error, "error_dict"),
        "breadcrumbs": _breadcrumbs(service, quarter),
        "page_title": ("Error: " if error_list else "") + f"{service.name}: {quarter.label} return",
    })


def return_detail(request, service_slug: str, quarter_slug: str):
    _require_viewer(request)
    service, quarter = _service_and_quarter(service_slug, quarter_slug)
    return _return_page(request, service, quarter)


@require_http_methods(["GET", "POST"])
def return_figures(request, service_slug: str, quarter_slug: str):
    service, quarter = _service_and_quarter(service_slug, quarter_slug)
    _require_editor(request, service)
    data_return = selectors.return_get(service, quarter)
    if data_return and data_return.status in LOCKED:
        messages.info(request, LOCKED[data_return.status])
        return redirect(_return_url(service, quarter))
    values = selectors.return_values(data_return) if data_return else ValueSet(quarter)
    rows = figure_rows(service, quarter, values, selectors.elements_by_slug())
    form = ReturnFiguresForm(request.POST if request.method == "POST" else None, rows=rows, quarter=quarter)
    if request.method == "POST" and form.is_valid():
        try:
            # A return is only started if its figures are saved.
            with transaction.atomic():
                data_return = services.data_return_open(user=request.user, service=service, quarter=quarter)
                services.data_return_save_values(user=request.user, data_return=data_return, values=form.values())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "Figures saved as a draft. Check the validation results before you submit the return.")
            return redirect(_return_url(service, quarter))
    return render(request, "returns/return_figures.html", {
        "service": service,
        "quarter": quarter,
        "rows": rows,
        "form": form,
        "breadcrumbs": _breadcrumbs(service, quarter, here=False),
        "page_title": ("Error: " if form.errors else "") + f"Enter figures: {service.name}, {quarter.label}",
    })


@require_POST
def return_upload(request, service_slug: str, quarter_slug: str):
    service, quarter = _service_and_quarter(service_slug, quarter_slug)
    _require_editor(request, service)
    form = ReturnUploadForm(request.POST, request.FILES, service=service, quarter=quarter)
    if form.is_valid():
        try:
            with transaction.atomic():
                data_return = services.data_return_open(user=request.user, service=service, quarter=quarter)
                services.data_return_save_values(user=request.user, data_return=data_return, values=form.cleaned_data["values"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            count = len(form.cleaned_data["values"].values)
            messages.success(request, f"{form.cleaned_data['file'].name} uploaded: {count} figure{'s' if count != 1 else ''} "
                             "saved as a draft. Check the validation results before you submit the return.")
            return redirect(_return_url(service, quarter))
    return _return_page(request, service, quarter, upload_form=form)


@require_POST
def return_submit(request, service_slug: str, quarter_slug: str):
    service, quarter = _service_and_quarter(service_slug, quarter_slug)
    _require_editor(request, service)
    comments = {key.removeprefix("comment-"): value for key, value in request.POST.items() if key.startswith("comment-")}
    data_return = selectors.return_get(service, quarter)
    try:
        if data_return is None:
            raise ValidationError("Enter the return's figures before submitting it")
        services.data_return_submit(user=request.user, data_return=data_return, comments=comments)
    except ValidationError as error:
        return _return_page(request, service, quarter, submit_error=error, comments=comments)
    messages.success(request, f"Return submitted: {service.name}, {quarter.label}. A strategy manager will review it.")
    return redirect(_return_url(service, quarter))


@require_POST
def return_approve(request, service_slug: str, quarter_slug: str):
    service, quarter = _service_and_quarter(service_slug, quarter_slug)
    _require_approver(request)
    data_return = selectors.return_get(service, quarter)
    if data_return is None:
        raise Http404("There is no return to approve")
    try:
        services.data_return_approve(user=request.user, data_return=data_return)
    except ValidationError as error:
        return _return_page(request, service, quarter, action_errors=error.messages)
    messages.success(request, f"Return approved: {service.name}, {quarter.label}. Its figures are now locked.")
    return redirect(_return_url(service, quarter))


@require_POST
def return_reopen(request, service_slug: str, quarter_slug: str):
    service, quarter = _service_and_quarter(service_slug, quarter_slug)
    _require_approver(request)
    data_return = selectors.return_get(service, quarter)
    if data_return is None:
        raise Http404("There is no return to reopen")
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.data_return_reopen(user=request.user, data_return=data_return, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Return reopened: {service.provider.name} can now change the figures for {quarter.label}.")
            return redirect(_return_url(service, quarter))
    return _return_page(request, service, quarter, reopen_form=form)


def return_template(request, service_slug: str, quarter_slug: str, fmt: str):
    service, quarter = _service_and_quarter(service_slug, quarter_slug)
    if fmt not in TEMPLATE_TYPES:
        raise Http404("Templates download as xlsx or csv")
    _require_editor(request, service)
    if fmt == "xlsx":
        content = template_xlsx(service, quarter)
    else:
        # The byte-order mark makes Excel read the file as UTF-8.
        content = template_csv(service, quarter).encode("utf-8-sig")
    response = HttpResponse(content, content_type=TEMPLATE_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, template_filename(service, quarter, fmt))
    return response


def template_filename(service: Service, quarter: FinancialQuarter, fmt: str) -> str:
    return f"{service.slug}-{quarter.slug}-return.{fmt}"
