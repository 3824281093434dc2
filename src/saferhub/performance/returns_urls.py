"""Data return pages, mounted at /returns/."""
from django.urls import path

from saferhub.performance import views_returns

app_name = "returns"
_RETURN = "<slug:service_slug>/<slug:quarter_slug>/"
urlpatterns = [
    path("", views_returns.return_list, name="return_list"),
    path(_RETURN, views_returns.return_detail, name="return_detail"),
    path(_RETURN + "figures/", views_returns.return_figures, name="return_figures"),
    path(_RETURN + "upload/", views_returns.return_upload, name="return_upload"),
    path(_RETURN + "submit/", views_returns.return_submit, name="return_submit"),
    path(_RETURN + "approve/", views_returns.return_approve, name="return_approve"),
    path(_RETURN + "reopen/", views_returns.return_reopen, name="return_reopen"),
    path(_RETURN + "template.<slug:fmt>", views_returns.return_template, name="return_template"),
]
