"""Sessions that end after inactivity or a working day, and the second factor before any page."""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone

from saferhub.accounts.services import has_confirmed_device, second_factor_required, second_factor_verified

STARTED_SESSION_KEY = "saferhub_session_started"
LAST_SEEN_SESSION_KEY = "saferhub_session_last_seen"
# Saving the session on every request would be a database write per page; a minute's precision is enough.
LAST_SEEN_PRECISION_SECONDS = 60
API_PREFIX = "/api/"
# Views an unverified user may still reach: signing out and the second-factor pages themselves.
SECOND_FACTOR_EXEMPT = {"logout", "accounts:two_factor_setup", "accounts:two_factor_verify", "accounts:backup_codes"}


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    # htmx swaps a redirected response into part of the page; it follows HX-Redirect instead.
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _next(request: HttpRequest) -> str:
    return request.get_full_path() if request.method in ("GET", "HEAD") else ""


def session_clock_start(sender, request, user, **kwargs) -> None:
    """Connected to `user_logged_in`: the session's clocks start when it is signed in to (so the
    first page after signing in does not have to write the session)."""
    if request is not None and hasattr(request, "session"):
        now = timezone.now().timestamp()
        request.session[STARTED_SESSION_KEY] = now
        request.session[LAST_SEEN_SESSION_KEY] = now


class SessionIdleMiddleware:
    """Signs a user out after SAFERHUB_SESSION_IDLE_MINUTES without a request, or
    SAFERHUB_SESSION_MAX_HOURS after signing in, whichever comes first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.user.is_authenticated:
            expired = self._check(request)
            if expired:
                logout(request)
                if request.path_info.startswith(API_PREFIX):
                    # The API answers an anonymous request itself (401 JSON).
                    return self.get_response(request)
                messages.info(request, expired)
                login_url = reverse(settings.LOGIN_URL)
                next_url = _next(request) if request.path_info != login_url else ""
                return _redirect(request, redirect_to_login(next_url)["Location"] if next_url else login_url)
        return self.get_response(request)

    @staticmethod
    def _check(request: HttpRequest) -> str | None:
        now = timezone.now().timestamp()
        session = request.session
        idle_minutes = settings.SAFERHUB_SESSION_IDLE_MINUTES
        max_hours = settings.SAFERHUB_SESSION_MAX_HOURS
        started = session.setdefault(STARTED_SESSION_KEY, now)
        last_seen = session.get(LAST_SEEN_SESSION_KEY)
        if last_seen is not None and now - last_seen > idle_minutes * 60:
            return f"You were signed out after {idle_minutes} minutes without activity"
        if now - started > max_hours * 3600:
            return f"You were signed out because you signed in more than {max_hours} hours ago"
        if last_seen is None or now - last_seen >= LAST_SEEN_PRECISION_SECONDS:
            session[LAST_SEEN_SESSION_KEY] = now
        return None


class SecondFactorMiddleware:
    """Staff who can see personal data (and anyone in the Django admin) must have entered a code
    from their authenticator app, or a backup code, in this session before any page. Those without
    an app are sent to set one up; API requests get 403 JSON rather than a redirect."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def admin_prefix(self) -> str:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        return self._admin_prefix

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        path = request.path_info
        # Only admin staff can use the admin; anyone else is refused there without being asked for a code.
        in_admin = request.user.is_staff and path.startswith(self.admin_prefix())
        if not (in_admin or second_factor_required(request)):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in SECOND_FACTOR_EXEMPT:
            return None
        if second_factor_verified(request):
            return None
        if path.startswith(API_PREFIX):
            return JsonResponse({"detail": "Enter a code from your authenticator app in Saferhub first: "
                                           "your account can see personal data."}, status=403)
        if not in_admin and not getattr(view_func, "login_required", True):
            # Pages anyone may see, such as the accessibility statement.
            return None
        name = "accounts:two_factor_verify" if has_confirmed_device(request.user) else "accounts:two_factor_setup"
        url = reverse(name)
        if _next(request):
            url += "?" + urlencode({"next": _next(request)})
        return _redirect(request, url)
