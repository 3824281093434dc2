"""Reading strategies: the list, a strategy's tree, one item, the action tracker and its exports."""
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from saferhub.performance import access as performance_access
from saferhub.performance.selectors import strategy_figures
from saferhub.strategy import access, exports, selectors
from saferhub.strategy.filters import RAG_CHOICES, SORT_COLUMNS, action_filters_from_query
from saferhub.strategy.models import DUE_SOON_DAYS, ActionStatus

PAGE_SIZE = 50


def strategy_list(request):
    return render(request, "strategy/strategy_list.html", {
        "strategies": selectors.strategy_list(user=request.user),
        "page_title": "Strategies",
    })


def _report_href(report) -> str:
    # Progress Update pages are built separately; link to the report itself once that page exists.
    try:
        return reverse("publishing:report_detail", args=[report.pk])
    except NoReverseMatch:
        return reverse("publishing:report_list")


def strategy_detail(request, slug):
    context = selectors.strategy_detail(user=request.user, slug=slug)
    context["report_links"] = [(report, _report_href(report)) for report in context["reports"]]
    context["can_manage"] = access.can_manage_strategies(request.user)
    context["page_title"] = context["strategy"].title
    if performance_access.can_view_performance(request.user):
        context["figures"] = strategy_figures(strategy=context["strategy"])
    return render(request, "strategy/strategy_detail.html", context)


def item_detail(request, slug, pk):
    context = selectors.item_detail(user=request.user, slug=slug, pk=pk)
    context["can_manage"] = access.can_manage_strategies(request.user)
    if performance_access.can_view_performance(request.user):
        context["figures"] = strategy_figures(strategy=context["strategy"], item=context["item"])
    return render(request, "strategy/item_detail.html", context)


def _page_numbers(current: int, last: int) -> list[int | None]:
    """The page links GOV.UK pagination shows: first, last and the current page's neighbours,
    with None where pages are left out."""
    shown = sorted({1, last, current - 1, current, current + 1} & set(range(1, last + 1)))
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def _tracker(request, *, mine: bool):
    filters = action_filters_from_query(request.GET, mine=mine)
    no_organisation = mine and not request.user.organisation_id
    actions = selectors.action_list(user=request.user, filters=filters)
    page = Paginator(actions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = filters.querystring()
    export_query = urlencode(filters.query_items() + ([("mine", "1")] if mine else []))
    return render(request, "strategy/action_list.html", {
        "mine": mine,
        "no_organisation": no_organisation,
        "filters": filters,
        "choices": selectors.action_filter_choices(filters=filters),
        "statuses": ActionStatus.choices,
        "rag_choices": RAG_CHOICES,
        "sort_columns": SORT_COLUMNS,
        "due_soon_days": DUE_SOON_DAYS,
        "page": page,
        "page_numbers": _page_numbers(page.number, page.paginator.num_pages),
        "query": query,
        "export_query": export_query,
        "today": filters.today,
        "page_title": "Your organisation's actions" if mine else "Action tracker",
    })


def action_list(request):
    return _tracker(request, mine=False)


def my_actions(request):
    return _tracker(request, mine=True)


def action_export(request, fmt):
    if fmt not in {"csv", "xlsx"}:
        raise Http404("Actions export as csv or xlsx")
    filters = action_filters_from_query(request.GET)
    records = selectors.action_export_records(user=request.user, filters=filters)
    rows = exports.action_rows(records, mine=filters.mine, today=filters.today)
    name = f"{'my-organisation-' if filters.mine else ''}actions-{filters.today.isoformat()}"
    if fmt == "csv":
        response = StreamingHttpResponse(exports.csv_lines(rows, mine=filters.mine), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    return FileResponse(
        exports.xlsx_file(rows, mine=filters.mine),
        as_attachment=True,
        filename=f"{name}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
