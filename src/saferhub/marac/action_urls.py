"""MARAC routes of one part (see marac/urls.py): action plans."""
from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from saferhub.marac import action_views as views


def path(route: str, view, name: str):
    return django_path(route, never_cache(view), name=name)


urlpatterns: list = [
    path("actions/", views.my_actions, name="my_actions"),
    path("actions/<int:pk>/update/", views.action_update, name="action_update"),
    path("referrals/<int:referral_pk>/actions/", views.action_plan, name="action_plan"),
    path("referrals/<int:referral_pk>/actions/add/", views.action_add, name="action_add"),
]
