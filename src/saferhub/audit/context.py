"""Who is acting, from where, in which request: set by middleware, read by the audit trail."""
from __future__ import annotations

import contextvars
import ipaddress
import uuid
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    request_id: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("saferhub_request", default=RequestContext())


def current() -> RequestContext:
    return _current.get()


def client_address(request) -> str | None:
    """The address the request came from: behind a proxy (SAFERHUB_BEHIND_PROXY), the last one it
    added to X-Forwarded-For, since the proxy's own address is the same for everyone."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR")
    if getattr(settings, "SAFERHUB_BEHIND_PROXY", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            try:
                address = str(ipaddress.ip_address(forwarded[-1]))
            except ValueError:
                pass
    return address


class RequestContextMiddleware:
    """Gives each request an id (or keeps the X-Request-ID a proxy set) and records its address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = (request.headers.get("X-Request-ID") or "")[:64] or uuid.uuid4().hex
        token = _current.set(RequestContext(ip_address=client_address(request), request_id=request_id))
        request.request_id = request_id
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response
