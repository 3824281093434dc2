"""Progress Update pages: the list per strategy, drafting, the preview or published page,
publishing, downloads, and the public page the partnership links to."""
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from saferhub.publishing import selectors, services
from saferhub.publishing.forms import ReportForm
from saferhub.publishing.renderers import FORMATS, document_fragment_html, fragment_from_standalone
from saferhub.strategy import access
from saferhub.strategy.models import Strategy


def _require_viewer(request):
    if not access.can_view_strategies(request.user):
        raise PermissionDenied


def _require_manager(request):
    if not access.can_manage_strategies(request.user):
        raise PermissionDenied("Only strategy managers can prepare and publish Progress Updates.")


def _download_response(report, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("Progress Updates download as html, pdf or docx")
    response = HttpResponse(selectors.report_file(report, fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, selectors.report_filename(report, fmt))
    return response


DOWNLOAD_TEXT = {
    "pdf": "PDF (tagged for screen readers, A4)",
    "docx": "Word document (DOCX)",
    "html": "Web page (HTML, readable offline)",
}


def _download_links(report, *, public: bool) -> list[dict]:
    links = []
    for fmt, text in DOWNLOAD_TEXT.items():
        if public:
            href = reverse("publishing:public_download",
                           args=[report.strategy.slug, selectors.period_slug(report.period), fmt])
        else:
            href = reverse("publishing:report_download", args=[report.pk, fmt])
        links.append({"href": href, "filename": selectors.report_filename(report, fmt), "text": text})
    return links


def _public_url(report) -> str:
    return reverse("publishing:public_report", args=[report.strategy.slug, selectors.period_slug(report.period)])


def report_list(request):
    _require_viewer(request)
    return render(request, "publishing/report_list.html", {
        "strategies": selectors.strategies_with_reports(),
        "can_manage": access.can_manage_strategies(request.user),
        "page_title": "Progress Updates",
    })


@require_http_methods(["GET", "POST"])
def report_create(request):
    _require_manager(request)
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            try:
                report = services.report_create_or_update(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error("period", error.messages[0])
            else:
                messages.success(request, f"Draft saved: {report.title}")
                return redirect("publishing:report_detail", report.pk)
    else:
        strategy = Strategy.objects.filter(slug=request.GET.get("strategy", "")).first()
        initial = {}
        if strategy:
            period = selectors.period_to_report(strategy)
            initial = {"strategy": strategy.pk, "period": period.pk if period else None, "background": strategy.background}
        form = ReportForm(initial=initial)
    return render(request, "publishing/report_form.html", {
        "form": form,
        "report": None,
        "page_title": "Create a Progress Update",
    })


@require_http_methods(["GET", "POST"])
def report_edit(request, pk: int):
    _require_manager(request)
    report = selectors.report_get(pk)
    if report.is_published:
        messages.error(request, "This Progress Update is published and frozen: it cannot be changed.")
        return redirect("publishing:report_detail", report.pk)
    data = None
    if request.method == "POST":
        data = {"strategy": report.strategy_id, "period": report.period_id, "background": request.POST.get("background", "")}
    form = ReportForm(data, initial={
        "strategy": report.strategy_id, "period": report.period_id,
        "background": report.background or report.strategy.background,
    })
    if data is not None and form.is_valid():
        try:
            services.report_create_or_update(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error("background", error.messages[0])
        else:
            messages.success(request, "Background saved")
            return redirect("publishing:report_detail", report.pk)
    return render(request, "publishing/report_form.html", {
        "form": form,
        "report": report,
        "page_title": f"Edit the background – {report.title}",
    })


def report_detail(request, pk: int):
    _require_viewer(request)
    report = selectors.report_get(pk)
    context = {
        "report": report,
        "can_manage": access.can_manage_strategies(request.user),
        "public_url": _public_url(report) if report.is_published else "",
        "download_links": _download_links(report, public=False),
        "page_title": report.title,
        "breadcrumbs": [{"text": "Progress Updates", "href": reverse("publishing:report_list")}],
    }
    if report.is_published:
        context["document_html"] = fragment_from_standalone(report.frozen_html)
        context["title"] = report.title
    else:
        document = selectors.report_document(report)
        context["document_html"] = document_fragment_html(document)
        context["title"] = document.title
        context["missing"] = selectors.actions_without_update(strategy=report.strategy, period=report.period)
    return render(request, "publishing/report_detail.html", context)


@require_http_methods(["GET", "POST"])
def report_publish(request, pk: int):
    _require_manager(request)
    report = selectors.report_get(pk)
    if request.method == "POST":
        try:
            report = services.report_publish(user=request.user, report=report)
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, f"Published: {report.title}")
        return redirect("publishing:report_detail", report.pk)
    if report.is_published:
        messages.error(request, "This Progress Update is already published and cannot be published again.")
        return redirect("publishing:report_detail", report.pk)
    return render(request, "publishing/report_publish.html", {
        "report": report,
        "public_url": request.build_absolute_uri(_public_url(report)),
        "page_title": f"Publish – {report.title}",
        "breadcrumbs": [
            {"text": "Progress Updates", "href": reverse("publishing:report_list")},
            {"text": report.title, "href": reverse("publishing:report_detail", args=[report.pk])},
        ],
    })


def report_download(request, pk: int, fmt: str):
    _require_viewer(request)
    return _download_response(selectors.report_get(pk), fmt)


@login_not_required
def public_report(request, strategy_slug: str, period_slug: str):
    report = selectors.published_report_get(strategy_slug=strategy_slug, period_slug_value=period_slug)
    return render(request, "publishing/public_report.html", {
        "report": report,
        "document_html": fragment_from_standalone(report.frozen_html),
        "download_links": _download_links(report, public=True),
        "page_title": report.title,
    })


@login_not_required
def public_download(request, strategy_slug: str, period_slug: str, fmt: str):
    report = selectors.published_report_get(strategy_slug=strategy_slug, period_slug_value=period_slug)
    return _download_response(report, fmt)
