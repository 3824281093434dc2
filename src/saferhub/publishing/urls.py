"""Progress Update addresses: staff pages under /reports/, and the public pages of published
updates under /reports/published/ for the partnership to link to."""
from django.urls import path

from saferhub.publishing import views

app_name = "publishing"
urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("new/", views.report_create, name="report_create"),
    path("<int:pk>/", views.report_detail, name="report_detail"),
    path("<int:pk>/edit/", views.report_edit, name="report_edit"),
    path("<int:pk>/publish/", views.report_publish, name="report_publish"),
    path("<int:pk>/download.<str:fmt>", views.report_download, name="report_download"),
    # Public: published updates only, for the partnership's websites to link to.
    path("published/<slug:strategy_slug>/<slug:period_slug>/", views.public_report, name="public_report"),
    path("published/<slug:strategy_slug>/<slug:period_slug>/download.<str:fmt>", views.public_download,
         name="public_download"),
]
