"""Pages linking MARAC referrals: the coordinator's repeat matches to confirm or reject, a referral's
MARAC history, and transferring a case to another area with the history the receiving area reads.
Thin: each parses the request, calls marac.repeat_services or marac.transfers (which check access
and write the audit trail) and renders. A record outside the user's scope answers 404."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from saferhub.marac import repeat_services, transfers
from saferhub.marac.models import MatchDecision
from saferhub.strategy.forms import GovukForm

REASON_MAX = repeat_services.REASON_MAX
DECISIONS = [("confirm", "Yes, the same victim and perpetrator"), ("reject", "No, different people")]


def _require_personal_data(request) -> None:
    if not request.user.sees_personal_data:
        raise PermissionDenied("Your account has no access to personal data.")


def _title(text: str, form=None) -> str:
    return ("Error: " if form is not None and form.is_bound and form.errors else "") + text


def _crumbs(*more: dict) -> list[dict]:
    return [{"text": "MARAC", "href": reverse("marac:home")}, *more]


def _repeats_crumb() -> dict:
    return {"text": "Repeat matches", "href": reverse("marac:repeat_list")}


class DecisionForm(GovukForm):
    decision = forms.ChoiceField(choices=DECISIONS, error_messages={
        "required": "Select whether the earlier referral is for the same victim and perpetrator",
        "invalid_choice": "Select whether the earlier referral is for the same victim and perpetrator"})
    reason = forms.CharField(max_length=REASON_MAX, widget=forms.Textarea, error_messages={
        "required": "Say why you confirm or reject the match",
        "max_length": f"The reason must be {REASON_MAX:,} characters or fewer",
        "null_characters_not_allowed": "The reason must not include null characters"})


class TransferForm(GovukForm):
    to_area = forms.ChoiceField(choices=[], error_messages={
        "required": "Select the MARAC area the case is moving to", "invalid_choice": "Select the MARAC area the case is moving to"})
    reason = forms.CharField(max_length=transfers.REASON_MAX, widget=forms.Textarea, error_messages={
        "required": "Say why the case is being transferred",
        "max_length": f"The reason must be {transfers.REASON_MAX:,} characters or fewer",
        "null_characters_not_allowed": "The reason must not include null characters"})

    def __init__(self, *args, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.areas = {str(a.pk): a for a in areas}
        self.fields["to_area"].choices = [("", "Choose an area")] + [(str(a.pk), a.name) for a in areas]

    def select_items(self) -> list[dict]:
        chosen = self.value("to_area")
        return [{"value": value, "text": text, "selected": value == chosen} for value, text in self.fields["to_area"].choices]


# Repeat matches ---------------------------------------------------------------------------------

def repeat_list(request):
    _require_personal_data(request)
    decision = request.GET.get("decision") or MatchDecision.PENDING
    matches = repeat_services.repeat_match_list(user=request.user, decision=decision)
    tabs = [{"value": value, "text": label, "href": f"{reverse('marac:repeat_list')}?decision={value}", "current": value == decision}
            for value, label in MatchDecision.choices]
    return render(request, "marac/repeat_list.html", {
        "matches": matches, "decision": MatchDecision(decision), "tabs": tabs,
        "breadcrumbs": _crumbs(), "page_title": f"Repeat matches: {MatchDecision(decision).label.lower()}",
    })


@require_http_methods(["GET", "POST"])
def repeat_review(request, id: int):
    _require_personal_data(request)
    review = repeat_services.repeat_match_review(user=request.user, match_id=id)
    form = DecisionForm(request.POST if request.method == "POST" else None)
    if form.is_bound and not review.may_decide:
        raise PermissionDenied("This match has been decided, or you cannot decide it.")
    if form.is_bound and form.is_valid():
        decide = repeat_services.repeat_match_confirm if form.cleaned_data["decision"] == "confirm" else repeat_services.repeat_match_reject
        try:
            match = decide(user=request.user, match_id=id, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Match {match.get_decision_display().lower()}: {review.match.referral.case.reference} "
                                      f"and {review.match.earlier.case.reference}")
            return redirect(reverse("marac:repeat_list"))
    reference = review.match.referral.case.reference
    return render(request, "marac/repeat_review.html", {
        "review": review, "match": review.match, "form": form, "decisions": DECISIONS,
        "breadcrumbs": _crumbs(_repeats_crumb()), "page_title": _title(f"Repeat match for {reference}", form),
    })


def referral_history(request, pk: int):
    _require_personal_data(request)
    history = repeat_services.referral_history(user=request.user, referral_id=pk)
    reference = history.referral.case.reference
    return render(request, "marac/repeat_history.html", {
        "history": history, "referral": history.referral,
        "breadcrumbs": _crumbs({"text": reference, "href": reverse("marac:referral_detail", args=[pk])}),
        "page_title": f"MARAC history of {reference}",
    })


# Transfers --------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def referral_transfer(request, pk: int):
    _require_personal_data(request)
    referral = transfers.referral_for_transfer(user=request.user, referral_id=pk)
    areas = transfers.transfer_areas(referral=referral)
    form = TransferForm(request.POST if request.method == "POST" else None, areas=areas)
    if form.is_bound and form.is_valid():
        try:
            transfer = transfers.referral_transfer(user=request.user, referral_id=pk, to_area=form.areas[form.cleaned_data["to_area"]],
                                                   reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"{referral.case.reference} transferred to {transfer.to_area.name} as "
                                      f"{transfer.to_referral.case.reference}")
            return redirect(reverse("marac:transfer_detail", args=[transfer.pk]))
    reference = referral.case.reference
    return render(request, "marac/transfer_form.html", {
        "referral": referral, "form": form, "areas": areas,
        "breadcrumbs": _crumbs({"text": reference, "href": reverse("marac:referral_detail", args=[pk])}),
        "page_title": _title(f"Transfer {reference} to another area", form),
    })


def transfer_detail(request, id: int):
    _require_personal_data(request)
    history = transfers.transfer_history(user=request.user, transfer_id=id)
    return render(request, "marac/transfer_detail.html", {
        "history": history, "transfer": history.transfer,
        "breadcrumbs": _crumbs(), "page_title": f"Transfer of {history.old.case.reference} to {history.transfer.to_area.name}",
    })
