"""MATAC routes of one part (see matac/urls.py): scoring."""
from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from saferhub.matac import scoring_views as views


def path(route: str, view, name: str):
    return django_path(route, never_cache(view), name=name)


urlpatterns: list = [
    path("", views.home, name="home"),
    path("extracts/import/", views.extract_import, name="extract_import"),
    path("extracts/<int:pk>/", views.extract_detail, name="extract_detail"),
    path("extracts/<int:pk>/rejects.csv", views.extract_rejects, name="extract_rejects"),
    path("runs/new/", views.run_create, name="run_create"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/download.csv", views.run_download, name="run_download"),
    path("runs/<int:pk>/reproduce/", views.run_reproduce, name="run_reproduce"),
    path("runs/<int:pk>/ranks/<int:rank>/", views.run_person, name="run_person"),
    path("score/", views.person_score, name="person_score"),
    path("schemes/", views.scheme_list, name="scheme_list"),
    path("schemes/<int:pk>/", views.scheme_detail, name="scheme_detail"),
    path("schemes/<int:pk>/new-version/", views.scheme_version_new, name="scheme_version_new"),
]
