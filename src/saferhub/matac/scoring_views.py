"""MATAC scoring pages: home, extract import, scoring runs and their ranked lists, one person's
score explained, and scoring schemes. Thin: access and audit live in matac.scoring_services and
matac.access; anyone who may not see MATAC gets 404 on every page."""
from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from saferhub.matac import access
from saferhub.matac import scoring_services as services
from saferhub.matac.management.commands.matac import CSV_HEADER
from saferhub.matac.models import IncidentExtract, RunSource, ScoringRun, ScoringScheme
from saferhub.matac.scheme import CATEGORY_LABELS
from saferhub.matac.scoring_forms import ExtractUploadForm, PersonScoreForm, RunForm, SchemeVersionForm

LIST_DEFAULT = 20


def _see(request) -> None:
    if not access.may_see(request.user):
        raise Http404("Not found")


def _title(text: str, form=None) -> str:
    return ("Error: " if form is not None and form.is_bound and form.errors else "") + text


def _crumbs(*extra) -> list[dict]:
    return [{"text": "MATAC", "href": reverse("matac:home")}, *extra]


def home(request):
    _see(request)
    return render(request, "matac/scoring_home.html", {
        "store": services.store_summary(),
        "extracts": IncidentExtract.objects.select_related("imported_by")[:5],
        "runs": ScoringRun.objects.select_related("scheme", "created_by")[:10],
        "may_score": access.may_score(request.user),
        "page_title": "MATAC: serial perpetrator identification",
    })


@require_http_methods(["GET", "POST"])
def extract_import(request):
    _see(request)
    access.require_score(request.user)
    form = ExtractUploadForm(request.POST, request.FILES) if request.method == "POST" else ExtractUploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["extract"]
        directory = Path(tempfile.mkdtemp(prefix="matac-upload-"))
        try:
            # DuckDB reads a path; the upload is copied to a private file kept only for the import.
            target = directory / ("extract" + Path(upload.name).suffix.lower())
            with open(target, "wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            extract = services.extract_import(user=request.user, path=target, file_name=Path(upload.name).name)
        except ValidationError as error:
            for message in error.messages:
                form.add_error("extract", message)
        else:
            messages.success(request, f"{extract.file_name} imported: {extract.rows_accepted:,} rows accepted, "
                                      f"{extract.rows_rejected:,} rejected")
            return redirect(extract.get_absolute_url())
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return render(request, "matac/scoring_import.html", {
        "form": form, "breadcrumbs": _crumbs(), "page_title": _title("Import a police extract", form)})


def extract_detail(request, pk: int):
    _see(request)
    extract = get_object_or_404(IncidentExtract, pk=pk)
    return render(request, "matac/scoring_extract.html", {
        "extract": extract, "has_rejects": bool(extract.rejects_path) and Path(extract.rejects_path).exists(),
        "breadcrumbs": _crumbs(), "page_title": f"Extract {extract.file_name}"})


def extract_rejects(request, pk: int):
    _see(request)
    extract = get_object_or_404(IncidentExtract, pk=pk)
    if not extract.rejects_path or not Path(extract.rejects_path).exists():
        raise Http404("Not found")
    return FileResponse(open(extract.rejects_path, "rb"), as_attachment=True,
                        filename=f"matac-extract-{extract.pk}-rejects.csv", content_type="text/csv")


@require_http_methods(["GET", "POST"])
def run_create(request):
    _see(request)
    access.require_score(request.user)
    default = services.scheme_default()
    if request.method == "POST":
        form = RunForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = services.scoring_run_create(
                    user=request.user, reference_date=data["reference_date"], top=data["top"],
                    scheme=get_object_or_404(ScoringScheme, pk=int(data["scheme"])), engine=data["engine"])
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                return redirect(run.get_absolute_url())
    else:
        form = RunForm(initial={"reference_date": timezone.localdate(), "top": LIST_DEFAULT,
                                "scheme": str(default.pk), "engine": "duckdb"})
    return render(request, "matac/scoring_run_form.html", {
        "form": form, "breadcrumbs": _crumbs(), "page_title": _title("Run scoring", form)})


def run_detail(request, pk: int):
    _see(request)
    run = get_object_or_404(ScoringRun.objects.select_related("scheme", "created_by"), pk=pk)
    show_all = request.GET.get("show") == "all"
    rows = services.run_rows(user=request.user, run=run, limit=None if show_all else LIST_DEFAULT)
    return render(request, "matac/scoring_run.html", {
        "run": run, "rows": rows, "show_all": show_all, "list_default": LIST_DEFAULT,
        "may_score": access.may_score(request.user),
        "breadcrumbs": _crumbs(), "page_title": f"Ranked list: {run.reference_label}"})


@require_http_methods(["POST"])
def run_reproduce(request, pk: int):
    """Score a kept run again and say on its page whether the same list came out."""
    _see(request)
    access.require_score(request.user)
    run = get_object_or_404(ScoringRun.objects.select_related("scheme"), pk=pk)
    try:
        result = services.scoring_run_reproduce(user=request.user, run=run)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if result.reproduced:
            messages.success(request, "Reproduced: the store is unchanged and scoring it again gives the same list")
        else:
            problems = [text for ok, text in ((result.same_input, "the incident store has changed since this run"),
                                              (result.same_list, "scoring it again gives a different list")) if not ok]
            messages.warning(request, "Not reproduced: " + "; ".join(problems))
    return redirect(run.get_absolute_url())


def run_download(request, pk: int):
    _see(request)
    run = get_object_or_404(ScoringRun, pk=pk)
    rows = services.run_export(user=request.user, run=run)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([row.rank, row.perpetrator_id, row.r, row.f, row.g, row.v, row.score, row.incident_count,
                         row.distinct_victims, row.gravity_sum, row.last_incident_date.isoformat(), row.age_at_last_incident])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="matac-run-{run.pk}.csv"'
    return response


def _explanation_page(request, explanation, perpetrator_id: str, back: dict | None, form=None):
    return render(request, "matac/scoring_person.html", {
        "explanation": explanation, "perpetrator_id": perpetrator_id, "form": form,
        "categories": CATEGORY_LABELS, "breadcrumbs": _crumbs(*([back] if back else [])),
        "page_title": "Score explained"})


def run_person(request, pk: int, rank: int):
    """A ranked person's score explained at their run's reference date and scheme version."""
    _see(request)
    run = get_object_or_404(ScoringRun.objects.select_related("scheme"), pk=pk)
    row = get_object_or_404(run.rows, rank=rank)
    if run.source != RunSource.STORE:
        raise Http404("Not found")  # a file scored directly is not kept, so its incidents cannot be shown
    explanation = services.perpetrator_explain(user=request.user, perpetrator_id=row.perpetrator_id,
                                               reference_date=run.reference_date, scheme=run.scheme)
    return _explanation_page(request, explanation, row.perpetrator_id,
                             {"text": run.reference_label, "href": run.get_absolute_url()})


@require_http_methods(["GET", "POST"])
def person_score(request):
    """Find one person's score by police nominal id (a POST, so the id stays out of addresses)."""
    _see(request)
    default = services.scheme_default()
    if request.method == "POST":
        form = PersonScoreForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                explanation = services.perpetrator_explain(
                    user=request.user, perpetrator_id=data["perpetrator_id"], reference_date=data["reference_date"],
                    scheme=get_object_or_404(ScoringScheme, pk=int(data["scheme"])))
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                return _explanation_page(request, explanation, data["perpetrator_id"], None, form=form)
    else:
        form = PersonScoreForm(initial={"reference_date": timezone.localdate(), "scheme": str(default.pk)})
    return render(request, "matac/scoring_person_form.html", {
        "form": form, "breadcrumbs": _crumbs(), "page_title": _title("Find a person's score", form)})


def scheme_list(request):
    _see(request)
    services.scheme_default()
    return render(request, "matac/scoring_schemes.html", {
        "schemes": ScoringScheme.objects.select_related("created_by").order_by("name", "-version"),
        "breadcrumbs": _crumbs(), "page_title": "Scoring schemes"})


def scheme_detail(request, pk: int):
    _see(request)
    scheme = get_object_or_404(ScoringScheme.objects.select_related("created_by"), pk=pk)
    return render(request, "matac/scoring_scheme.html", {
        "record": scheme, "scheme": scheme.scheme, "categories": CATEGORY_LABELS,
        "history": ScoringScheme.objects.filter(name=scheme.name).select_related("created_by").order_by("-version"),
        "may_manage": access.may_manage_schemes(request.user),
        "breadcrumbs": _crumbs({"text": "Scoring schemes", "href": reverse("matac:scheme_list")}),
        "page_title": f"Scoring scheme {scheme.label}"})


@require_http_methods(["GET", "POST"])
def scheme_version_new(request, pk: int):
    _see(request)
    access.require_manage_schemes(request.user)
    base = get_object_or_404(ScoringScheme, pk=pk)
    if request.method == "POST":
        form = SchemeVersionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = services.scheme_version_create(user=request.user, name=base.name, parameters=data["parameters"],
                                                        note=data["note"], make_default=data["make_default"])
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("parameters", message)
            else:
                messages.success(request, f"Scheme {record.label} made")
                return redirect(record.get_absolute_url())
    else:
        form = SchemeVersionForm(initial={"parameters": json.dumps(base.parameters, indent=2, sort_keys=True)})
    return render(request, "matac/scoring_scheme_form.html", {
        "form": form, "base": base,
        "breadcrumbs": _crumbs({"text": "Scoring schemes", "href": reverse("matac:scheme_list")},
                               {"text": base.label, "href": base.get_absolute_url()}),
        "page_title": _title(f"New version of {base.name}", form)})
