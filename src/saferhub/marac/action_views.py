"""Pages of MARAC action plans: a case's plan, adding an action, recording its outcome, and the
actions assigned to the user's agency. Thin: the services and selectors check access (a case out of
scope answers 404) and write the audit trail."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from saferhub.marac import action_selectors as selectors
from saferhub.marac import action_services as services
from saferhub.marac.action_forms import ActionAddForm, ActionStatusForm
from saferhub.marac.models import ActionStatus, MaracReferral
from saferhub.people import access


def _require_personal_data(request) -> None:
    if not request.user.sees_personal_data:
        raise PermissionDenied("Your account has no access to personal data.")


def _title(text: str, form=None) -> str:
    return ("Error: " if form is not None and form.is_bound and form.errors else "") + text


def _crumbs(referral=None) -> list[dict]:
    crumbs = [{"text": "My agency's MARAC actions", "href": reverse("marac:my_actions")}]
    if referral is not None:
        crumbs.append({"text": f"Action plan, {referral.case.reference}", "href": reverse("marac:action_plan", args=[referral.pk])})
    return crumbs


def action_plan(request, referral_pk: int):
    _require_personal_data(request)
    referral, actions = selectors.action_plan(user=request.user, referral_id=referral_pk)
    today = timezone.localdate()
    rows = [{"action": a, "overdue": selectors.is_overdue(a, today),
             "may_update": services.action_may_update(request.user, a)} for a in actions]
    may_add = MaracReferral.objects.restrict(request.user, access.CHANGE).filter(pk=referral.pk).exists()
    return render(request, "marac/action_plan.html", {
        "referral": referral, "rows": rows, "may_add": may_add, "today": today,
        "breadcrumbs": [{"text": "My agency's MARAC actions", "href": reverse("marac:my_actions")}],
        "page_title": f"Action plan, {referral.case.reference}",
    })


@require_http_methods(["GET", "POST"])
def action_add(request, referral_pk: int):
    _require_personal_data(request)
    referral = (MaracReferral.objects.restrict(request.user, access.CHANGE).select_related("case", "area")
                .filter(pk=referral_pk).first())
    if referral is None:
        raise Http404("No such MARAC referral")
    form = ActionAddForm(request.POST if request.method == "POST" else None, area=referral.area)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            action = services.action_add(user=request.user, referral_id=referral.pk, organisation=data["organisation"],
                                         assignee=data["assignee"], description=data["description"],
                                         deadline=data["deadline"], meeting=data["meeting"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Action added for {action.organisation.name}")
            return redirect("marac:action_plan", referral.pk)
    return render(request, "marac/action_add.html", {
        "referral": referral, "form": form, "breadcrumbs": _crumbs(referral),
        "page_title": _title(f"Add an action, {referral.case.reference}", form),
    })


@require_http_methods(["GET", "POST"])
def action_update(request, pk: int):
    _require_personal_data(request)
    action = selectors.action_view(user=request.user, action_id=pk)
    if not services.action_may_update(request.user, action):
        raise PermissionDenied("Only the agency the action is assigned to, or the MARAC coordinator, can update it.")
    initial = {"status": action.status, "outcome": action.outcome}
    form = ActionStatusForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_update_status(user=request.user, action_id=action.pk, status=form.cleaned_data["status"],
                                          outcome=form.cleaned_data["outcome"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Action on {action.referral.case.reference} updated")
            return redirect("marac:action_plan", action.referral_id)
    return render(request, "marac/action_update.html", {
        "action": action, "form": form, "overdue": selectors.is_overdue(action, timezone.localdate()),
        "breadcrumbs": _crumbs(action.referral),
        "page_title": _title(f"Update an action, {action.referral.case.reference}", form),
    })


def my_actions(request):
    _require_personal_data(request)
    today = timezone.localdate()
    overdue_only = request.GET.get("overdue") == "1"
    status = request.GET.get("status", "open")
    status = status if status in ActionStatus.values or status == "all" else "open"
    actions = selectors.actions_for_my_agency(user=request.user, as_of=today, overdue_only=overdue_only,
                                              status="" if status == "all" or overdue_only else status)
    rows = [{"action": a, "overdue": selectors.is_overdue(a, today),
             "may_update": services.action_may_update(request.user, a)} for a in actions]
    return render(request, "marac/action_list.html", {
        "rows": rows, "status": status, "overdue_only": overdue_only, "statuses": ActionStatus.choices,
        "overdue_count": sum(1 for r in rows if r["overdue"]), "today": today,
        "page_title": "My agency's MARAC actions",
    })
