"""Progress Update pages (being built)."""
from django.http import HttpResponse


def report_list(request):
    return HttpResponse("")
