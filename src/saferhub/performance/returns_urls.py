from django.urls import path

from saferhub.performance import views_returns

app_name = "returns"
urlpatterns = [
    path("", views_returns.return_list, name="return_list"),
]
