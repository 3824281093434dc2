"""Account pages: the second factor (set up, verify, backup codes), changing a password, the account summary."""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticToken

from saferhub.accounts import services
from saferhub.accounts.forms import CodeForm, PasswordChangeForm, SetupCodeForm


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return ""


def _with_next(request: HttpRequest, name: str) -> HttpResponseRedirect:
    url = reverse(name)
    return HttpResponseRedirect(url + "?" + urlencode({"next": _next_url(request)}) if _next_url(request) else url)


def _continue(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(_next_url(request) or reverse(settings.LOGIN_REDIRECT_URL))


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest):
    if services.second_factor_verified(request):
        return _continue(request)
    if not services.has_confirmed_device(request.user):
        return _with_next(request, "accounts:two_factor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.second_factor_verify(request=request, user=request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            return _continue(request)
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest):
    # Replacing an authenticator app needs the old one (or a backup code) first, or a stolen
    # password would be enough to set up an attacker's app.
    if services.has_confirmed_device(request.user) and not services.second_factor_verified(request):
        return _with_next(request, "accounts:two_factor_verify")
    device = services.totp_device_pending(user=request.user)
    form = SetupCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_device_confirm(request=request, user=request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            request.session[services.BACKUP_CODES_SESSION_KEY] = codes
            return _with_next(request, "accounts:backup_codes")
    return render(request, "accounts/two_factor_setup.html", {
        "form": form, "next": _next_url(request), "secret": services.totp_secret(device),
        "config_url": device.config_url, "required": request.user.sees_personal_data,
        "replacing": services.has_confirmed_device(request.user),
    })


@require_http_methods(["GET", "POST"])
def backup_codes(request: HttpRequest):
    """Shows newly issued backup codes once; a verified user may replace them with new ones."""
    if request.method == "POST":
        if not services.second_factor_verified(request):
            raise PermissionDenied("Enter a code from your authenticator app before making new backup codes")
        request.session[services.BACKUP_CODES_SESSION_KEY] = services.backup_codes_issue(user=request.user)
        return redirect("accounts:backup_codes")
    codes = request.session.pop(services.BACKUP_CODES_SESSION_KEY, None)
    return render(request, "accounts/backup_codes.html", {
        "codes": [services.format_backup_code(code) for code in codes or []],
        "next": _next_url(request) or reverse(settings.LOGIN_REDIRECT_URL),
        "remaining": StaticToken.objects.filter(device__user=request.user).count(),
        "verified": services.second_factor_verified(request),
    })


def account(request: HttpRequest):
    user = request.user
    return render(request, "accounts/account.html", {
        "has_app": services.has_confirmed_device(user),
        "required": user.sees_personal_data,
        "backup_codes_left": StaticToken.objects.filter(device__user=user).count(),
        "verified": services.second_factor_verified(request),
        "idle_minutes": settings.SAFERHUB_SESSION_IDLE_MINUTES,
    })


@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest):
    form = PasswordChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.password_change(user=request.user, new_password=form.cleaned_data["new_password"])
        # Keeps this session signed in; every other session of this user ends.
        update_session_auth_hash(request, request.user)
        messages.success(request, "Your password has been changed")
        return redirect("accounts:account")
    return render(request, "accounts/password_change.html", {"form": form})


@login_not_required
def admin_login(request: HttpRequest):
    """The Django admin signs in through Saferhub's own sign-in page, with its throttling and second factor."""
    if request.user.is_authenticated:
        # Signed in but not admin staff: sending them to sign in again would loop.
        raise PermissionDenied("Your account cannot use the Django admin")
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
