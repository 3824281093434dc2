"""Performance dashboards (being built)."""
from django.http import HttpResponse


def performance_home(request):
    return HttpResponse("")
