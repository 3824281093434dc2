"""Pages of the people register and cases, mounted at /people/. None may be kept by a browser or a
proxy cache: they hold personal data."""
from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from saferhub.people import views

app_name = "people"


def path(route: str, view, name: str):
    return django_path(route, never_cache(view), name=name)


urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.person_search, name="person_search"),
    path("persons/", views.person_list, name="person_list"),
    path("persons/new/", views.person_register, name="person_register"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("persons/<int:pk>/audit/", views.person_audit, name="person_audit"),
    path("persons/<int:pk>/subject-access/", views.person_subject_access, name="person_subject_access"),
    path("persons/<int:pk>/subject-access.json", views.person_subject_access_json, name="person_subject_access_json"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_open, name="case_open"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/people/add/", views.participant_add, name="participant_add"),
    path("cases/<int:pk>/organisations/add/", views.party_add, name="party_add"),
    path("cases/<int:pk>/disclosures/add/", views.disclosure_add, name="disclosure_add"),
    path("cases/<int:pk>/close/", views.case_close, name="case_close"),
    path("cases/<int:pk>/audit/", views.case_audit, name="case_audit"),
    path("break-glass/", views.break_glass, name="break_glass"),
    path("break-glass/report/", views.break_glass_report, name="break_glass_report"),
    path("break-glass/<int:pk>/review/", views.break_glass_review, name="break_glass_review"),
    path("audit/export/", views.audit_export, name="audit_export"),
]
