"""The JSON API (django-ninja); its OpenAPI schema is at /api/openapi.json."""
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from saferhub.config.api import api

api_patterns, api_app_name, api_namespace = api.urls
# The API's operations answer a request without a session with 401 JSON through their own
# authentication, so LoginRequiredMiddleware must not redirect them to the sign-in page. The
# schema and the docs page stay behind sign-in like every other page.
for pattern in api_patterns:
    if pattern.name not in {"openapi-json", "openapi-view", "api-root"}:
        login_not_required(pattern.callback)

urlpatterns = [path("", (api_patterns, api_app_name, api_namespace))]
