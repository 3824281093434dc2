"""MARAC routes linking referrals (see marac/urls.py): repeat matches for the coordinator, a
referral's MARAC history, and transfers to another area."""
from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from saferhub.marac import repeat_views as views


def path(route: str, view, name: str):
    return django_path(route, never_cache(view), name=name)


urlpatterns: list = [
    path("repeats/", views.repeat_list, name="repeat_list"),
    path("repeats/<int:id>/", views.repeat_review, name="repeat_review"),
    path("referrals/<int:pk>/history/", views.referral_history, name="referral_history"),
    path("referrals/<int:pk>/transfer/", views.referral_transfer, name="referral_transfer"),
    path("transfers/<int:id>/", views.transfer_detail, name="transfer_detail"),
]
