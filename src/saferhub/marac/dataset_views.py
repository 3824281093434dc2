"""Pages of MARAC data: the quarterly dataset of an area beside the national figures, its CSV and
XLSX downloads, and publishing it to the performance framework. Thin: marac.dataset checks who may
see which area and writes the audit trail."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from saferhub.marac import dataset as marac_dataset
from saferhub.performance.periods import FinancialQuarter

RECENT_QUARTERS = 8


def quarter_choices() -> list[FinancialQuarter]:
    """The current quarter and the eight before it, newest first."""
    quarter = FinancialQuarter.from_date(timezone.localdate())
    choices = []
    for _ in range(RECENT_QUARTERS + 1):
        choices.append(quarter)
        quarter = quarter.previous()
    return choices


def _areas(request) -> list:
    areas = marac_dataset.areas_for(request.user)
    if not areas:
        raise PermissionDenied("MARAC data is for the areas' coordinators and the partnership's performance leads.")
    return areas


def _chosen(params, areas: list):
    """The area and quarter asked for (by slug), or the first area and the last quarter ended."""
    slug = params.get("area")
    area = next((a for a in areas if a.slug == slug), None) if slug else areas[0]
    if area is None:
        raise Http404("No such MARAC area")
    text = params.get("quarter")
    if text:
        try:
            quarter = FinancialQuarter.from_slug(text)
        except ValueError as error:
            raise Http404("No such quarter") from error
    else:
        quarter = FinancialQuarter.from_date(timezone.localdate()).previous()
    return area, quarter


def _page_address(area, quarter) -> str:
    return f"{reverse('marac:dataset')}?{urlencode({'area': area.slug, 'quarter': quarter.slug})}"


def dataset(request):
    areas = _areas(request)
    area, quarter = _chosen(request.GET, areas)
    data = marac_dataset.marac_dataset(user=request.user, area=area, quarter=quarter)
    query = urlencode({"area": area.slug, "quarter": quarter.slug})
    quarters = quarter_choices()
    if quarter not in quarters:
        quarters.append(quarter)
    service_slug = marac_dataset.service_slug(area)
    from saferhub.commissioning.models import Service

    return render(request, "marac/dataset.html", {
        "data": data, "measures": data.measures(), "national": marac_dataset.national(), "area": area, "quarter": quarter,
        "area_items": [{"value": a.slug, "text": a.name, "selected": a.pk == area.pk} for a in areas],
        "quarter_items": [{"value": q.slug, "text": q.label, "selected": q == quarter} for q in quarters],
        "csv_href": f"{reverse('marac:dataset_export', args=['csv'])}?{query}",
        "xlsx_href": f"{reverse('marac:dataset_export', args=['xlsx'])}?{query}",
        "may_publish": marac_dataset.may_publish(request.user) and quarter.end < timezone.localdate(),
        "dashboard_href": reverse("performance:service_dashboard", args=[service_slug])
        if Service.objects.filter(slug=service_slug).exists() else None,
        "breadcrumbs": [{"text": "MARAC", "href": reverse("marac:home")}],
        "page_title": f"MARAC data: {area.name}, {quarter.label}",
    })


def dataset_export(request, fmt: str):
    areas = _areas(request)
    area, quarter = _chosen(request.GET, areas)
    content, content_type, name = marac_dataset.marac_dataset_export(user=request.user, area=area, quarter=quarter, file_format=fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def dataset_publish(request):
    areas = _areas(request)
    if not request.POST.get("area") or not request.POST.get("quarter"):
        raise Http404("Say which area and quarter to publish")
    area, quarter = _chosen(request.POST, areas)
    try:
        data_return = marac_dataset.marac_dataset_publish(user=request.user, area=area, quarter=quarter)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"MARAC data for {area.name}, {quarter.label}, published to the performance framework "
                                  f"as an approved return of {data_return.service.name}")
    return redirect(_page_address(area, quarter))
