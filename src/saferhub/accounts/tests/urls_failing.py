"""A page that fails, to see what a visitor is shown when something goes wrong."""
from django.contrib.auth.decorators import login_not_required
from django.urls import path


@login_not_required
def failing(request):
    raise RuntimeError("secret-internal-detail")


urlpatterns = [path("fails/", failing)]
