"""MARAC routes of referrals (see marac/urls.py): the MARAC home page, referrals, the coordinator's
queue and the risk checklist versions."""
from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from saferhub.marac import referral_views as views


def path(route: str, view, name: str):
    return django_path(route, never_cache(view), name=name)


urlpatterns: list = [
    path("", views.home, name="home"),
    path("referrals/", views.referral_list, name="referral_list"),
    path("referrals/new/", views.referral_new, name="referral_new"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/accept/", views.referral_accept, name="referral_accept"),
    path("referrals/<int:pk>/decline/", views.referral_decline, name="referral_decline"),
    path("referrals/<int:pk>/audit/", views.referral_audit, name="referral_audit"),
    path("queue/", views.queue, name="queue"),
    path("checklists/", views.checklist_versions, name="checklist_list"),
    path("checklists/load/", views.checklist_upload, name="checklist_load"),
]
