"""Reads of performance data."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Q
from django.urls import reverse

from saferhub.commissioning.models import Service
from saferhub.performance.analysis import Figures, approved_values, quarter_starts
from saferhub.performance.dashboards import ServiceRow, _service_rows, unit_of
from saferhub.performance.models import DataElement, DataReturn, DataValue, ReturnStatus, ValidationRule
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.tables import figure_text
from saferhub.performance.validation import ValueKey, ValueSet, Violation, validate_values
from saferhub.strategy.models import Strategy, StrategyItem


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


# --- A strategy's figures, for the strategy and item pages ---------------------------------------

@dataclass
class LinkedElement:
    """A data element linked to a strategy's items, with its latest approved figure summed over
    every service reporting it."""

    element: DataElement
    items: list[StrategyItem]  # the items it is linked to, in tree order
    quarter: FinancialQuarter | None
    value: float | None
    breakdown_only: bool = False  # the latest quarter has figures by breakdown option but no total

    @property
    def value_text(self) -> str:
        return figure_text(self.value, unit_of(self.element))


@dataclass
class LinkedService:
    """A service linked to a strategy's items, with its latest return and headline figure."""

    service: Service
    items: list[StrategyItem]
    row: ServiceRow


@dataclass
class StrategyFigures:
    strategy: Strategy
    item: StrategyItem | None
    elements: list[LinkedElement]
    services: list[LinkedService]

    def __bool__(self) -> bool:
        return bool(self.elements or self.services)

    @property
    def url(self) -> str:
        """The full figures page for the strategy, or for the item and the items below it."""
        url = reverse("performance:strategy_dashboard", args=[self.strategy.slug])
        return f"{url}?item={self.item.pk}" if self.item is not None else url


def _latest_element_figures(elements: list[DataElement]) -> dict[int, tuple[FinancialQuarter | None, float | None, bool]]:
    """Each element's latest approved quarter with a figure, in two queries however many elements:
    the latest period each reported, then the figures of those quarters and the ones before (a
    quarter whose months are not all in yet falls back to the one before)."""
    latest_rows = (approved_values().filter(data_element__in=elements).order_by()
                   .values("data_element_id").annotate(latest=Max("period_start")).values_list("data_element_id", "latest"))
    candidates = {}
    for element_id, start in latest_rows:
        quarter = FinancialQuarter.from_date(start)
        candidates[element_id] = [quarter, quarter.previous()]
    if not candidates:
        return {}
    figures = Figures.load(elements=[e for e in elements if e.pk in candidates],
                           starts=quarter_starts({q for qs in candidates.values() for q in qs}))
    found = {}
    for element in elements:
        for quarter in candidates.get(element.pk, []):
            value = figures.quarter_value(element.slug, quarter)
            if value is not None or figures.options(element.slug, quarter):
                found[element.pk] = (quarter, value, value is None)
                break
    return found


def strategy_figures(*, strategy, item=None) -> StrategyFigures:
    """The data elements and services linked to a strategy's items (or to `item` and the items
    below it), each with its latest approved figure, in a fixed number of queries."""
    below = Q(strategyitem__strategy=strategy)
    if item is not None:
        below &= Q(strategyitem__path=item.path) | Q(strategyitem__path__startswith=item.path + ".")
    order = ("strategyitem__path", "pk")
    element_links = list(DataElement.strategy_items.through.objects.filter(below)
                         .select_related("dataelement", "strategyitem__strategy").order_by(*order))
    service_links = list(Service.strategy_items.through.objects.filter(below)
                         .select_related("strategyitem__strategy").order_by(*order))

    elements: dict[int, DataElement] = {}
    element_items: dict[int, list[StrategyItem]] = {}
    for link in element_links:
        elements.setdefault(link.dataelement_id, link.dataelement)
        element_items.setdefault(link.dataelement_id, []).append(link.strategyitem)
    latest = _latest_element_figures(list(elements.values())) if elements else {}
    linked_elements = [
        LinkedElement(element, element_items[pk], *latest.get(pk, (None, None, False)))
        for pk, element in sorted(elements.items(), key=lambda kv: (kv[1].order, kv[1].name.lower(), kv[0]))
    ]

    service_items: dict[int, list[StrategyItem]] = {}
    for link in service_links:
        service_items.setdefault(link.service_id, []).append(link.strategyitem)
    rows = _service_rows(Service.objects.filter(pk__in=list(service_items))) if service_items else {}
    linked_services = [LinkedService(row.service, service_items[pk], row)
                       for pk, row in sorted(rows.items(), key=lambda kv: (kv[1].service.name.lower(), kv[0]))]
    return StrategyFigures(strategy, item, linked_elements, linked_services)
