"""Reads of performance data."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from saferhub.commissioning.models import Service
from saferhub.performance.models import DataElement, DataReturn, DataValue, ReturnStatus, ValidationRule
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.validation import ValueKey, ValueSet, Violation, validate_values


def elements_by_slug() -> dict[str, DataElement]:
    return {e.slug: e for e in DataElement.objects.select_related("breakdown").prefetch_related("breakdown__options")}


def active_rules() -> list[ValidationRule]:
    return list(ValidationRule.objects.filter(active=True).prefetch_related("services"))


def return_values(data_return: DataReturn) -> ValueSet:
    """The figures held for a return's service and quarter."""
    quarter = FinancialQuarter.from_date(data_return.quarter_start)
    rows = DataValue.objects.filter(data_return=data_return).values_list(
        "data_element__slug", "option__code", "period_type", "period_start", "value")
    return ValueSet(quarter, {ValueKey(slug, code, ptype, start): value for slug, code, ptype, start, value in rows})


def return_violations(data_return: DataReturn, *, rules=None, elements=None) -> list[Violation]:
    return validate_values(
        service=data_return.service, values=return_values(data_return),
        rules=rules if rules is not None else active_rules(),
        elements=elements if elements is not None else elements_by_slug(),
    )


def period_violations(quarter: FinancialQuarter) -> list[tuple[DataReturn, list[Violation]]]:
    """Every return of the quarter with its violations, services in name order."""
    rules, elements = active_rules(), elements_by_slug()
    returns = DataReturn.objects.filter(quarter_start=quarter.start).select_related("service").order_by("service__name")
    return [(r, return_violations(r, rules=rules, elements=elements)) for r in returns]


# --- The returns pages ---------------------------------------------------------------------------

@dataclass
class ReturnOverviewRow:
    """One service's return for a quarter as the returns list shows it."""

    service: Service
    data_return: DataReturn | None
    errors: int
    warnings: int
    own: bool  # the service is provided by the signed-in user's organisation

    @property
    def status(self) -> str:
        return self.data_return.status if self.data_return else ""


def return_get(service: Service, quarter: FinancialQuarter) -> DataReturn | None:
    return (DataReturn.objects.select_related("service__provider", "submitted_by", "approved_by")
            .filter(service=service, quarter_start=quarter.start).first())


def return_overview(*, user, quarter: FinancialQuarter) -> list[ReturnOverviewRow]:
    """Every service that reports figures (and was running in the quarter, or has a return for it),
    with its return's status and how many errors and warnings its figures raise. The user's own
    organisation's services come first."""
    returns = {r.service_id: (r, v) for r, v in period_violations(quarter)}
    running = (Q(start_date__isnull=True) | Q(start_date__lte=quarter.end)) & (Q(end_date__isnull=True) | Q(end_date__gte=quarter.start))
    services = (Service.objects.filter((Q(data_elements__isnull=False) & running) | Q(pk__in=returns))
                .select_related("provider").distinct())
    rows = []
    for service in services:
        data_return, violations = returns.get(service.pk, (None, []))
        errors = sum(1 for v in violations if v.is_error)
        rows.append(ReturnOverviewRow(service, data_return, errors, len(violations) - errors,
                                      own=bool(user.organisation_id) and service.provider_id == user.organisation_id))
    return sorted(rows, key=lambda row: (not row.own, row.service.name.lower()))


def returns_awaiting_approval() -> list[DataReturn]:
    return list(DataReturn.objects.filter(status=ReturnStatus.SUBMITTED)
                .select_related("service__provider", "submitted_by").order_by("quarter_start", "service__name"))


def return_quarter_choices(today: dt.date, *, recent: int = 8) -> list[FinancialQuarter]:
    """The quarters the returns list offers, newest first: the `recent` quarters that have ended
    and every quarter with a return."""
    quarter = FinancialQuarter.from_date(today).previous()
    choices = set()
    for _ in range(recent):
        choices.add(quarter)
        quarter = quarter.previous()
    starts = DataReturn.objects.order_by().values_list("quarter_start", flat=True).distinct()
    choices |= {FinancialQuarter.from_date(start) for start in starts}
    return sorted(choices, reverse=True)
