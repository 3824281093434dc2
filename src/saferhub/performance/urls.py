from django.urls import path

from saferhub.performance import views_dashboards

app_name = "performance"
urlpatterns = [
    path("", views_dashboards.performance_home, name="home"),
]
