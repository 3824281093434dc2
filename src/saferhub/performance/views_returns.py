"""Data return pages (being built)."""
from django.http import HttpResponse


def return_list(request):
    return HttpResponse("")
