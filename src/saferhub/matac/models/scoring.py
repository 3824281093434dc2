"""MATAC scoring records: versioned scoring schemes, imported police extracts, scoring runs and
the ranked perpetrators of each run (police nominal ids encrypted, found by a keyed digest)."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from saferhub.core.encryption import EncryptedTextField, blind_index

__all__ = ["ScoringScheme", "ExtractFormat", "IncidentExtract", "RunSource", "ScoringRun", "ScoredPerpetrator", "perpetrator_digest"]


def perpetrator_digest(perpetrator_id: str) -> str:
    """Keyed digest of a police nominal id, exact as given (ids are case and punctuation sensitive)."""
    return blind_index("matac-perpetrator", perpetrator_id.strip())


class ScoringScheme(models.Model):
    """One version of a named scoring scheme. Never edited: a change is a new version."""

    name = models.SlugField(max_length=60)
    version = models.PositiveIntegerField()
    parameters = models.JSONField(help_text="Scheme.to_dict(): every RFGV parameter")
    digest = models.CharField(max_length=64, help_text="sha256 of the canonical parameters")
    is_default = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True, help_text="Why this version was made")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["name", "-version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="matac_scheme_name_version")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def scheme(self):
        from saferhub.matac.scheme import Scheme

        return Scheme.from_dict(self.parameters)

    def get_absolute_url(self) -> str:
        return reverse("matac:scheme_detail", args=[self.pk])


class ExtractFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


class IncidentExtract(models.Model):
    """One police extract loaded into the incident store (or refused as a whole)."""

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    file_format = models.CharField(max_length=10, choices=ExtractFormat.choices)
    rows_read = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_added = models.PositiveIntegerField(default=0, help_text="Accepted rows not already in the store")
    rows_already_loaded = models.PositiveIntegerField(default=0)
    ignored_columns = models.JSONField(default=list, blank=True)
    rejects_path = models.CharField(max_length=500, blank=True)
    store_hash = models.CharField(max_length=64, help_text="The store's content hash after this import")
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%d %b %Y})" if self.imported_at else self.file_name

    def get_absolute_url(self) -> str:
        return reverse("matac:extract_detail", args=[self.pk])


class RunSource(models.TextChoices):
    STORE = "store", "Incident store"
    FILE = "file", "Extract file scored directly"


class ScoringRun(models.Model):
    """One ranked list: what was scored, with which scheme version and on which day."""

    scheme = models.ForeignKey(ScoringScheme, on_delete=models.PROTECT, related_name="runs")
    reference_date = models.DateField()
    engine = models.CharField(max_length=10, default="duckdb")
    source = models.CharField(max_length=10, choices=RunSource.choices, default=RunSource.STORE)
    source_name = models.CharField(max_length=255, blank=True, help_text="The file name when a file was scored directly")
    input_hash = models.CharField(max_length=64)
    top = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: every eligible perpetrator kept")
    eligible_count = models.PositiveIntegerField(default=0)
    listed_count = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.reference_label

    @property
    def reference_label(self) -> str:
        return f"MATAC run {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("matac:run_detail", args=[self.pk])


class ScoredPerpetrator(models.Model):
    """One row of a run's ranked list (every ScoreRow field)."""

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="rows")
    rank = models.PositiveIntegerField()
    perpetrator_id = EncryptedTextField()
    perpetrator_digest = models.CharField(max_length=64, db_index=True)
    r = models.PositiveSmallIntegerField()
    f = models.PositiveSmallIntegerField()
    g = models.PositiveSmallIntegerField()
    v = models.PositiveSmallIntegerField()
    score = models.PositiveIntegerField()
    incident_count = models.PositiveIntegerField()
    distinct_victims = models.PositiveIntegerField()
    gravity_sum = models.PositiveIntegerField()
    last_incident_date = models.DateField()
    age_at_last_incident = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["run", "rank"]
        constraints = [models.UniqueConstraint(fields=["run", "rank"], name="matac_scored_run_rank")]

    def __str__(self) -> str:
        return f"rank {self.rank} of run {self.run_id}"

    def score_row(self):
        from saferhub.matac.engines import ScoreRow

        return ScoreRow(rank=self.rank, perpetrator_id=self.perpetrator_id, r=self.r, f=self.f, g=self.g, v=self.v,
                        score=self.score, incident_count=self.incident_count, distinct_victims=self.distinct_victims,
                        gravity_sum=self.gravity_sum, last_incident_date=self.last_incident_date,
                        age_at_last_incident=self.age_at_last_incident)
