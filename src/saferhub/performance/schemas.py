"""The shapes the JSON API reads and writes performance data in: indicators, services, figures,
data returns and their validation results (django-ninja schemas)."""
import datetime as dt
from typing import Literal, Optional, Union

from ninja import Field, Schema
from django.urls import reverse
from pydantic import field_validator

from saferhub.performance.dashboards import quarter_from_param
from saferhub.performance.models import Frequency, Importance, PeriodType, Polarity, ReturnStatus, Unit
from saferhub.performance.periods import FinancialQuarter
from saferhub.strategy.schemas import OrganisationRef


class StrategyItemRef(Schema):
    id: int
    strategy: str = Field(description="The strategy's slug")
    code: str
    title: str
    url: str = Field(description="The item's page on the web")

    @staticmethod
    def resolve_strategy(item) -> str:
        return item.strategy.slug

    @staticmethod
    def resolve_url(item) -> str:
        return item.get_absolute_url()


class ServiceRef(Schema):
    slug: str
    name: str


class OptionOut(Schema):
    code: str
    label: str


class BreakdownOut(Schema):
    slug: str
    name: str
    options: list[OptionOut] = Field(description="In the order returns list them")

    @staticmethod
    def resolve_options(breakdown) -> list:
        return list(breakdown.options.all())


class DataElementOut(Schema):
    kind: Literal["data_element"] = "data_element"
    slug: str
    name: str
    definition: str
    unit: Unit
    polarity: Polarity
    frequency: Frequency = Field(description="monthly: reported month by month (and for the quarter) in each quarterly return")
    breakdown: Optional[BreakdownOut] = Field(description="How the figure is split, with the option codes returns use")
    owner: Optional[OrganisationRef]
    services: list[ServiceRef] = Field(description="The services that report it")
    strategy_items: list[StrategyItemRef] = Field(description="The strategy items it measures")

    @staticmethod
    def resolve_services(element) -> list:
        return list(element.services.all())

    @staticmethod
    def resolve_strategy_items(element) -> list:
        return list(element.strategy_items.all())


class ComputedIndicatorOut(Schema):
    kind: Literal["computed_indicator"] = "computed_indicator"
    slug: str
    name: str
    definition: str
    numerator: str = Field(description="An expression over data elements: #{slug}, #{slug.option}, #{slug.*}")
    denominator: str
    multiplier: float
    unit: Unit
    polarity: Polarity
    elements: list[str] = Field(description="The slugs of the data elements it is computed from")
    services: list[ServiceRef]
    strategy_items: list[StrategyItemRef]

    @staticmethod
    def resolve_elements(indicator) -> list[str]:
        from saferhub.performance.analysis import indicator_elements

        return sorted(indicator_elements(indicator))

    @staticmethod
    def resolve_services(indicator) -> list:
        return list(indicator.services.all())

    @staticmethod
    def resolve_strategy_items(indicator) -> list:
        return list(indicator.strategy_items.all())


class IndicatorsOut(Schema):
    data_elements: list[DataElementOut]
    computed_indicators: list[ComputedIndicatorOut]


IndicatorOut = Union[DataElementOut, ComputedIndicatorOut]


class FundingOut(Schema):
    stream: str = Field(description="The funding stream's name")
    stream_slug: str
    funder: Optional[OrganisationRef]
    financial_year: str
    amount: Optional[float] = Field(description="In pounds; null when not recorded")
    note: str

    @staticmethod
    def resolve_stream(allocation) -> str:
        return allocation.stream.name

    @staticmethod
    def resolve_stream_slug(allocation) -> str:
        return allocation.stream.slug

    @staticmethod
    def resolve_funder(allocation):
        return allocation.stream.funder

    @staticmethod
    def resolve_amount(allocation) -> Optional[float]:
        return float(allocation.amount) if allocation.amount is not None else None

    @staticmethod
    def resolve_note(allocation) -> str:
        return allocation.period_note


class ServiceOut(Schema):
    slug: str
    name: str
    kind: str
    description: str
    expected_outcomes: str
    provider: OrganisationRef
    commissioners: list[OrganisationRef]
    start_date: Optional[dt.date]
    end_date: Optional[dt.date]
    annual_value: Optional[float]
    funding: list[FundingOut] = Field(description="Funding allocations, latest financial year first")
    data_elements: list[str] = Field(description="The slugs of the data elements it reports")
    strategy_items: list[StrategyItemRef]
    url: str = Field(description="The service's figures on the web")

    @staticmethod
    def resolve_commissioners(service) -> list:
        return list(service.commissioners.all())

    @staticmethod
    def resolve_annual_value(service) -> Optional[float]:
        return float(service.annual_value) if service.annual_value is not None else None

    @staticmethod
    def resolve_funding(service) -> list:
        return list(service.allocations.all())

    @staticmethod
    def resolve_data_elements(service) -> list[str]:
        return [e.slug for e in service.data_elements.all()]

    @staticmethod
    def resolve_strategy_items(service) -> list:
        return list(service.strategy_items.all())

    @staticmethod
    def resolve_url(service) -> str:
        return service.get_absolute_url()


class ValueOut(Schema):
    """Read from a row of DataValue.objects.values(...) with the keys the API names."""

    element: str = Field(description="The data element's slug")
    service: str = Field(description="The service's slug")
    period_type: PeriodType = Field(description="M: a month; Q: a financial quarter")
    period_start: dt.date = Field(description="The first day of the month or quarter")
    option: Optional[str] = Field(description="The breakdown option's code; null for the total")
    value: float
    return_status: Optional[ReturnStatus] = Field(description="The status of the return holding the figure; null when loaded without one")

    @staticmethod
    def resolve_service(row) -> str:
        return row["service_slug"]

    @staticmethod
    def resolve_option(row) -> Optional[str]:
        return row["option_code"]


class QuarterOut(Schema):
    key: str = Field(description="2023/24-Q3")
    slug: str = Field(description="2023-24-q3, the form used in URLs")
    label: str = Field(description="Q3 2023/24")
    start: dt.date
    end: dt.date


class PersonRef(Schema):
    name: str
    organisation: Optional[str] = Field(description="The organisation's slug")


def _person(user) -> Optional[dict]:
    if user is None:
        return None
    return {"name": user.display_name, "organisation": user.organisation.slug if user.organisation_id else None}


class ReturnOut(Schema):
    """Read from a DataReturn; an unsaved one stands for a return not yet started."""

    service: ServiceRef
    provider: OrganisationRef
    quarter: QuarterOut
    status: Optional[ReturnStatus] = Field(description="null when the return has not been started")
    submitted_at: Optional[dt.datetime]
    submitted_by: Optional[PersonRef]
    approved_at: Optional[dt.datetime]
    approved_by: Optional[PersonRef]
    warning_comments: dict[str, str] = Field(description="Explanations of warnings, by rule slug")
    url: str = Field(description="The return's page on the web")

    @staticmethod
    def resolve_provider(data_return):
        return data_return.service.provider

    @staticmethod
    def resolve_quarter(data_return) -> dict:
        quarter = FinancialQuarter.from_date(data_return.quarter_start)
        return {"key": quarter.key, "slug": quarter.slug, "label": quarter.label, "start": quarter.start, "end": quarter.end}

    @staticmethod
    def resolve_status(data_return) -> Optional[str]:
        return data_return.status if data_return.pk else None

    @staticmethod
    def resolve_submitted_by(data_return) -> Optional[dict]:
        return _person(data_return.submitted_by)

    @staticmethod
    def resolve_approved_by(data_return) -> Optional[dict]:
        return _person(data_return.approved_by)

    @staticmethod
    def resolve_warning_comments(data_return) -> dict:
        return data_return.warning_comments or {}

    @staticmethod
    def resolve_url(data_return) -> str:
        quarter = FinancialQuarter.from_date(data_return.quarter_start)
        return reverse("returns:return_detail", args=[data_return.service.slug, quarter.slug])


class FigureOut(Schema):
    element: str
    option: Optional[str] = Field(description="A breakdown option's code; null for the total")
    month: Optional[str] = Field(description="YYYY-MM for a month's figure; null for the quarter's")
    value: float


class ValidationCounts(Schema):
    errors: int = Field(description="Rule violations that block submission")
    warnings: int = Field(description="Rule violations that need a comment when submitting")


class ReturnDetailOut(ReturnOut):
    """Read from a DataReturn given `figures` and `validation` by the API."""

    figures: list[FigureOut] = Field(description="In the order of the return template, each element's months before its quarter")
    validation: ValidationCounts


class FigureIn(Schema):
    element: str = Field(description="A data element's slug")
    option: Optional[str] = Field(None, description="A breakdown option's code; null or absent for the total")
    month: Optional[str] = Field(None, description="YYYY-MM for a monthly element's month; null or absent for the quarter's figure")
    # Strict: a figure sent as text ("867") or true is a mistake in the sending system, not a number.
    value: float = Field(strict=True, allow_inf_nan=False)


class FiguresIn(Schema):
    values: list[FigureIn] = Field(description="Every figure of the return: they replace the figures held")


class SubmitIn(Schema):
    comments: dict[str, str] = Field(default_factory=dict, description="An explanation for each warning, by rule slug")


class ViolationOut(Schema):
    rule: str = Field(description="The validation rule's slug")
    rule_name: str
    importance: Importance
    message: str
    left_label: str
    left_value: Optional[float]
    right_label: str
    right_value: Optional[float]
    comment: Optional[str] = Field(description="The provider's explanation of a warning, once given")


class FieldError(Schema):
    loc: list[Union[str, int]]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldError]


class SubmitRefusedOut(ValidationErrorOut):
    violations: list[ViolationOut] = Field(description="The errors that block submission, or the warnings still to explain")


class MessageOut(Schema):
    detail: str


class ValueFilters(Schema):
    element: Optional[str] = Field(None, description="A data element's slug")
    service: Optional[str] = Field(None, description="A service's slug")
    from_: Optional[dt.date] = Field(None, alias="from", description="Periods starting on or after this day")
    to: Optional[dt.date] = Field(None, description="Periods starting on or before this day")
    period_type: Optional[PeriodType] = Field(None, description="M for months, Q for quarters")
    option: Optional[str] = Field(None, description="A breakdown option's code")
    total: Optional[bool] = Field(None, description="true: totals only; false: breakdown options only")
    status: Literal["approved", "any"] = Field(
        "approved", description="approved: figures of approved returns only. any: also the draft and submitted figures "
                                "of the services whose returns you may fill in")


class ReturnFilters(Schema):
    service: Optional[str] = Field(None, description="A service's slug")
    quarter: Optional[str] = Field(None, description="A financial quarter: 2023/24-Q3 or 2023-24-q3")
    status: Optional[ReturnStatus] = None

    @field_validator("quarter")
    @classmethod
    def _quarter(cls, value: Optional[str]) -> Optional[str]:
        if value and quarter_from_param(value) is None:
            raise ValueError(f"'{value}' is not a financial quarter: write it like 2023/24-Q3")
        return value
