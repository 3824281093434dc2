from django.urls import path

from saferhub.publishing import views

app_name = "publishing"
urlpatterns = [path("", views.report_list, name="report_list")]
