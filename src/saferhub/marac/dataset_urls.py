"""MARAC routes of MARAC data (see marac/urls.py): the quarterly dataset, its exports and publishing
it to the performance framework."""
from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from saferhub.marac import dataset_views as views


def path(route: str, view, name: str):
    return django_path(route, never_cache(view), name=name)


urlpatterns: list = [
    path("data/", views.dataset, name="dataset"),
    path("data/export.<str:fmt>", views.dataset_export, name="dataset_export"),
    path("data/publish/", views.dataset_publish, name="dataset_publish"),
]
