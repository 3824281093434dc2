"""Performance dashboards: the overview, a service, a strategy's figures and year on year, with each
table downloadable as CSV or Excel, each chart served as an SVG image, and the quarterly reports the
task worker prepares."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst, slugify
from django.views.decorators.http import require_POST

from saferhub.performance import access, dashboards, exports, report_files
from saferhub.performance.models import ReportFile, ReportFileStatus, ReportVersion
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.report import REPORT_FORMATS


def _viewer(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not access.can_view_performance(request.user):
            raise PermissionDenied("You cannot see performance figures.")
        return view(request, *args, **kwargs)

    return wrapper


def _query(request, *names) -> str:
    kept = [(n, request.GET[n]) for n in names if request.GET.get(n)]
    return "?" + urlencode(kept) if kept else ""


def _links(request, name: str, args: list, *query_names, quarter=None) -> dict:
    """Link makers for a page's chart images and table downloads, keeping its query (quarter, …).
    With `quarter`, the page's quarter is always named, so an image need not work it out again."""
    query = _query(request, *query_names)
    if quarter is not None:
        kept = [(n, request.GET[n]) for n in query_names if n != "quarter" and request.GET.get(n)]
        query = "?" + urlencode([("quarter", quarter.slug), *kept])

    def chart_url(key: str) -> str:
        return reverse(f"performance:{name}_chart", args=[*args, key]) + query

    def export_url(key: str, fmt: str) -> str:
        return reverse(f"performance:{name}_table", args=[*args, key, fmt]) + query

    return {"chart_url": chart_url, "export_url": export_url}


def _years(request) -> int:
    try:
        return int(request.GET.get("years") or dashboards.YEARS_DEFAULT)
    except ValueError:
        return dashboards.YEARS_DEFAULT


# Each page's builder from the request (and the URL's slug), shared by the page, its downloads and
# its chart images, so a download or an image always matches the page it was linked from.
def _overview_page(request):
    return dashboards.overview()


def _service_page(request, slug):
    return dashboards.service_dashboard(slug=slug, quarter=dashboards.quarter_from_param(request.GET.get("quarter")))


def _service_element_page(request, slug, element):
    return dashboards.service_element_page(slug=slug, element_slug=element,
                                           quarter=dashboards.quarter_from_param(request.GET.get("quarter")))


def _service_element_charts(request, slug, element):
    return dashboards.service_element_blocks(slug=slug, element_slug=element,
                                             quarter=dashboards.quarter_from_param(request.GET.get("quarter")))


def _item(request) -> int | None:
    item = request.GET.get("item")
    return int(item) if item and item.isdigit() else None


def _strategy_page(request, slug):
    return dashboards.strategy_dashboard(slug=slug, item_pk=_item(request),
                                         quarter=dashboards.quarter_from_param(request.GET.get("quarter")))


def _strategy_charts(request, slug, chart):
    return dashboards.strategy_chart_blocks(slug=slug, item_pk=_item(request), key=chart,
                                            quarter=dashboards.quarter_from_param(request.GET.get("quarter")))


def _year_on_year_page(request):
    return dashboards.year_on_year_page(
        element_slug=request.GET.get("element"), quarter=dashboards.quarter_from_param(request.GET.get("quarter")),
        years=_years(request), service_slug=request.GET.get("service"))


@_viewer
def performance_home(request):
    page = _overview_page(request)
    return render(request, "performance/dashboard_home.html", {
        "page": page, "page_title": "Performance", **_links(request, "home", []),
    })


def _figure_links(slug: str, quarter) -> Callable[[str], str]:
    """The link to each figure's page from a service's page, keeping its quarter. Reversed once
    and filled in: reversing for each of 200 figures cost the page more than reading them."""
    marker = "figure-slug"
    before, _, after = reverse("performance:service_element", args=[slug, marker]).rpartition(marker)
    query = "?" + urlencode([("quarter", quarter.slug)])
    return lambda element_slug: f"{before}{element_slug}{after}{query}"


@_viewer
def service_dashboard(request, slug):
    page = _service_page(request, slug)
    return render(request, "performance/dashboard_service.html", {
        "page": page, "page_title": f"{page.service.name} – performance", "figure_url": _figure_links(slug, page.quarter),
        "breadcrumbs": [{"text": "Performance", "href": reverse("performance:home")}],
        **_links(request, "service", [slug], "quarter"),
    })


@_viewer
def service_element(request, slug, element):
    page = _service_element_page(request, slug, element)
    return render(request, "performance/dashboard_service_element.html", {
        "page": page, "page_title": f"{page.element.name} – {page.service.name}",
        "breadcrumbs": [{"text": "Performance", "href": reverse("performance:home")},
                        {"text": page.service.name, "href": reverse("performance:service_dashboard", args=[slug])
                         + _query(request, "quarter")}],
        **_links(request, "service_element", [slug, element], "quarter", quarter=page.quarter),
    })


@_viewer
def strategy_dashboard(request, slug):
    page = _strategy_page(request, slug)
    return render(request, "performance/dashboard_strategy.html", {
        "page": page, "page_title": f"Figures – {page.strategy.title}",
        "breadcrumbs": [{"text": "Performance", "href": reverse("performance:home")},
                        {"text": page.strategy.short_title or page.strategy.title, "href": page.strategy.get_absolute_url()}],
        **_links(request, "strategy", [slug], "quarter", "item", quarter=page.quarter),
    })


@_viewer
def year_on_year(request):
    page = _year_on_year_page(request)
    return render(request, "performance/dashboard_year_on_year.html", {
        "page": page, "page_title": "Year on year",
        "year_choices": list(range(2, dashboards.YEARS_MAX + 1)),
        "breadcrumbs": [{"text": "Performance", "href": reverse("performance:home")}],
        **_links(request, "year_on_year", [], "element", "quarter", "years", "service"),
    })


def _table_view(builder):
    @_viewer
    def view(request, table, fmt, **kwargs):
        if fmt not in exports.FORMATS:
            raise Http404("No such format")
        found = builder(request, **kwargs).table(table)
        response = HttpResponse(exports.table_export(found, fmt), content_type=exports.FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="{slugify(found.caption)[:120] or found.key}.{fmt}"'
        return response

    return view


def _chart_view(builder, *, with_key: bool = False):
    """An SVG chart image; `with_key` passes the chart's key to the builder, which may then read
    only what that chart needs."""
    @_viewer
    def view(request, chart, **kwargs):
        found = builder(request, **kwargs, **({"chart": chart} if with_key else {})).chart(chart)
        etag = f'"{found.digest}"'
        if request.headers.get("If-None-Match") == etag:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(found.svg(), content_type="image/svg+xml; charset=utf-8")
        # The figures behind a chart change when a return is approved: check each time, reuse if unchanged.
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response

    return view


home_table, home_chart = _table_view(_overview_page), _chart_view(_overview_page)
service_table, service_chart = _table_view(_service_page), _chart_view(_service_page)
service_element_table = _table_view(_service_element_page)
service_element_chart = _chart_view(_service_element_charts)
strategy_table, strategy_chart = _table_view(_strategy_page), _chart_view(_strategy_charts, with_key=True)
year_on_year_table, year_on_year_chart = _table_view(_year_on_year_page), _chart_view(_year_on_year_page)


def _report_choice(quarter: str, version: str, fmt: str) -> FinancialQuarter:
    try:
        chosen = FinancialQuarter.from_slug(quarter)
    except ValueError:
        raise Http404("No such quarter") from None
    if version not in ReportVersion.values or fmt not in REPORT_FORMATS:
        raise Http404("No such report")
    return chosen


def _report_list_page(request, *, missing: str = "", status: int = 200):
    quarters = report_files.report_file_list(quarters=dashboards.approved_quarters())
    return render(request, "performance/report_list.html", {
        "quarters": quarters, "missing": missing,
        "waiting": sum(entry.in_progress and not entry.stalled for group in quarters for entry in group.entries),
        "can_request": report_files.report_file_can_request(request.user),
        "page_title": "Quarterly performance reports",
        "breadcrumbs": [{"text": "Performance", "href": reverse("performance:home")}],
    }, status=status)


@_viewer
def report_list(request):
    return _report_list_page(request)


@_viewer
@require_POST
def report_prepare(request, quarter, version, fmt):
    chosen = _report_choice(quarter, version, fmt)
    described = report_files.report_file_describe(quarter=chosen, version=version, fmt=fmt)
    try:
        report_file, queued = report_files.report_file_request(user=request.user, quarter=chosen, version=version, fmt=fmt)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if queued:
            messages.success(request, f"Preparing {described}. It takes from a few seconds to several minutes: "
                                      "refresh the page to see when it is ready.")
        elif report_file.status == ReportFileStatus.READY:
            messages.info(request, f"{capfirst(described)} is already prepared and up to date.")
        else:
            messages.info(request, f"{capfirst(described)} is already being prepared.")
    return redirect(reverse("performance:report_list") + f"#quarter-{chosen.slug}")


@_viewer
def report_download(request, quarter, version, fmt):
    """The file the task worker prepared; never rendered here (a PDF can take minutes)."""
    chosen = _report_choice(quarter, version, fmt)
    try:
        report_file = report_files.report_file_ready(quarter=chosen, version=version, fmt=fmt)
    except ReportFile.DoesNotExist:
        described = report_files.report_file_describe(quarter=chosen, version=version, fmt=fmt)
        return _report_list_page(request, status=404, missing=f"No file of {described} has been prepared yet. "
                                                              "Prepare it below, then download it when it is ready.")
    response = HttpResponse(bytes(report_file.content), content_type=REPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{report_file.filename}"'
    return response
