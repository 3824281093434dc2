"""Organisations and governance bodies."""
from django.shortcuts import get_object_or_404, render

from saferhub.partners.models import GovernanceBody, Organisation


def organisation_list(request):
    return render(request, "partners/organisation_list.html", {
        "organisations": Organisation.objects.all(),
        "bodies": GovernanceBody.objects.select_related("reports_to", "chair_organisation").prefetch_related("members"),
        "page_title": "Partners and governance",
    })


def body_detail(request, slug):
    body = get_object_or_404(GovernanceBody.objects.select_related("reports_to", "chair_organisation"), slug=slug)
    return render(request, "partners/body_detail.html", {"body": body, "page_title": body.name})
