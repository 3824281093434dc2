"""MATAC casework routes (see matac/urls.py): nominations, a subject's case, meetings, outcomes."""
from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from saferhub.matac import casework_views as views


def path(route: str, view, name: str):
    return django_path(route, never_cache(view), name=name)


urlpatterns: list = [
    path("nominations/", views.nomination_list, name="nomination_list"),
    path("nominations/new/ranked/", views.nomination_new_ranked, name="nomination_new_ranked"),
    path("nominations/new/referral/", views.nomination_new_referral, name="nomination_new_referral"),
    path("nominations/<int:pk>/", views.case_detail, name="case_detail"),
    path("nominations/<int:pk>/decide/", views.nomination_decide, name="nomination_decide"),
    path("nominations/<int:pk>/actions/add/", views.action_add, name="action_add"),
    path("nominations/<int:pk>/reviews/add/", views.review_add, name="review_add"),
    path("nominations/<int:pk>/exit/", views.exit_add, name="exit_add"),
    path("nominations/<int:pk>/rescore/", views.rescore, name="rescore"),
    path("actions/<int:pk>/", views.action_edit, name="action_edit"),
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("outcomes/", views.outcomes_page, name="outcomes"),
    path("outcomes/published/", views.outcomes_published, name="outcomes_published"),
]
