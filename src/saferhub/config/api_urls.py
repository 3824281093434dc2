"""The JSON API (django-ninja); its OpenAPI schema is at /api/openapi.json."""
from django.urls import path

from saferhub.config.api import api

urlpatterns = [path("", api.urls)]
