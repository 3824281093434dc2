"""MARAC routes of one part (see marac/urls.py)."""
from django.urls import path as django_path
from django.views.decorators.cache import never_cache


def path(route: str, view, name: str):
    return django_path(route, never_cache(view), name=name)


urlpatterns: list = []
