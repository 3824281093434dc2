"""Commissioned services, the funding streams that pay for them and grant-funded interventions."""
from django.db import models
from django.urls import reverse

from saferhub.partners.models import Organisation
from saferhub.strategy.models import StrategyItem


class FundingStream(models.Model):
    """A source of money: Safer Streets Fund, Serious Violence Duty grant, PCC Community Fund, …"""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200, unique=True)
    funder = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="funding_streams")
    national = models.BooleanField(default=False, help_text="Funding from national government rather than local budgets")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceKind(models.TextChoices):
    COMMISSIONED = "commissioned", "Commissioned service"
    GRANT_FUNDED = "grant_funded", "Grant-funded intervention"
    PARTNER_PROGRAMME = "partner_programme", "Partner's own programme"


class Service(models.Model):
    """A service the partnership pays a provider to deliver, and that reports figures to it."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ServiceKind.choices, default=ServiceKind.COMMISSIONED)
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="services_provided")
    commissioners = models.ManyToManyField(Organisation, related_name="services_commissioned", blank=True)
    description = models.TextField(blank=True)
    expected_outcomes = models.TextField(blank=True, help_text="How it will help: the outcomes it is funded for")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    annual_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    strategy_items = models.ManyToManyField(StrategyItem, related_name="services", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("performance:service_dashboard", args=[self.slug])


class FundingAllocation(models.Model):
    stream = models.ForeignKey(FundingStream, on_delete=models.PROTECT, related_name="allocations")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="allocations")
    financial_year = models.CharField(max_length=7, help_text="e.g. 2023/24")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    period_note = models.CharField(max_length=200, blank=True, help_text="e.g. until March 2024")

    class Meta:
        ordering = ["-financial_year", "stream__name"]

    def __str__(self) -> str:
        return f"{self.stream} → {self.service} ({self.financial_year})"
