from django.urls import path

from saferhub.partners import views

app_name = "partners"
urlpatterns = [
    path("", views.organisation_list, name="organisation_list"),
    path("bodies/<slug:slug>/", views.body_detail, name="body_detail"),
]
