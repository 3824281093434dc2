"""The JSON API for performance data: indicators, services, figures, and data returns, which a
provider's own system can fill in, submit and check through the same services and permission rules
as the web pages."""
import re
from typing import Optional

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Prefetch, Q, QuerySet
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from saferhub.commissioning.models import FundingAllocation, Service
from saferhub.performance import access, selectors, services
from saferhub.performance.dashboards import quarter_from_param
from saferhub.performance.models import (
    ComputedIndicator, DataElement, DataReturn, DataValue, Frequency, PeriodType, ReturnStatus,
)
from saferhub.performance.periods import FinancialQuarter, month_label
from saferhub.performance.return_display import readable_side
from saferhub.performance.returns_file import template_rows
from saferhub.performance.schemas import (
    FiguresIn, IndicatorOut, IndicatorsOut, MessageOut, ReturnDetailOut,
    ReturnFilters, ReturnOut, ServiceOut, SubmitIn, SubmitRefusedOut, ValidationErrorOut, ValueFilters, ValueOut,
    ViolationOut,
)
from saferhub.performance.validation import ValueSet, Violation
from saferhub.strategy.models import StrategyItem

indicators_router = Router(tags=["Indicators"])
values_router = Router(tags=["Figures"])
services_router = Router(tags=["Services"])
returns_router = Router(tags=["Data returns"])

# A return's URL names its quarter as 2023-24-q3; 2023/24-Q3 (its slashes encoded or not) works too.
RETURN = "/{service}/{path:quarter}"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
LOCKED = {
    ReturnStatus.SUBMITTED: "The return has been submitted: ask a strategy manager to reopen it if the figures need changing.",
    ReturnStatus.APPROVED: "The return is approved and locked: its figures can no longer be changed.",
}


def _items() -> QuerySet[StrategyItem]:
    return StrategyItem.objects.select_related("strategy").order_by("strategy__order", "strategy__slug", "path")


def _named_services() -> QuerySet[Service]:
    return Service.objects.only("pk", "slug", "name").order_by("name", "pk")


def _elements() -> QuerySet[DataElement]:
    return DataElement.objects.select_related("breakdown", "owner").prefetch_related(
        "breakdown__options", Prefetch("services", queryset=_named_services()), Prefetch("strategy_items", queryset=_items()),
    ).order_by("order", "name", "pk")


def _indicators() -> QuerySet[ComputedIndicator]:
    return ComputedIndicator.objects.prefetch_related(
        Prefetch("services", queryset=_named_services()), Prefetch("strategy_items", queryset=_items()),
    ).order_by("name", "pk")


def _services() -> QuerySet[Service]:
    return Service.objects.select_related("provider").prefetch_related(
        "commissioners",
        Prefetch("allocations", queryset=FundingAllocation.objects.select_related("stream__funder")
                 .order_by("-financial_year", "stream__name", "pk")),
        Prefetch("data_elements", queryset=DataElement.objects.only("pk", "slug", "order", "name").order_by("order", "name")),
        Prefetch("strategy_items", queryset=_items()),
    ).order_by("name", "pk")


def _service(slug: str) -> Service:
    service = Service.objects.select_related("provider").filter(slug=slug).first()
    if service is None:
        raise HttpError(404, f"There is no service '{slug}'")
    return service


def _quarter(text: str) -> FinancialQuarter:
    quarter = quarter_from_param(text)
    if quarter is None:
        raise HttpError(404, f"'{text}' is not a financial quarter: write it like 2023-24-q3 or 2023/24-Q3")
    return quarter


# --- Indicators ----------------------------------------------------------------------------------

@indicators_router.get("/", response=IndicatorsOut, summary="Every data element and computed indicator")
def indicator_list(request):
    return {"data_elements": list(_elements()), "computed_indicators": list(_indicators())}


@indicators_router.get("/{slug}/", response=IndicatorOut, summary="One data element or computed indicator")
def indicator_detail(request, slug: str):
    element = _elements().filter(slug=slug).first()
    if element is not None:
        return element
    indicator = _indicators().filter(slug=slug).first()
    if indicator is not None:
        return indicator
    raise HttpError(404, f"There is no indicator '{slug}'")


# --- Services ------------------------------------------------------------------------------------

@services_router.get("/", response=list[ServiceOut], summary="Commissioned services with their funding")
def service_list(request):
    return _services()


@services_router.get("/{slug}/", response=ServiceOut, summary="One service")
def service_detail(request, slug: str):
    service = _services().filter(slug=slug).first()
    if service is None:
        raise HttpError(404, f"There is no service '{slug}'")
    return service


# --- Figures -------------------------------------------------------------------------------------

def _visible_values(user, status: str) -> QuerySet[DataValue]:
    """Figures of approved returns (and those loaded without a return); with status "any", also
    the figures of unapproved returns of the services the user may fill in returns for."""
    shown = Q(data_return__isnull=True) | Q(data_return__status=ReturnStatus.APPROVED)
    if status == "any":
        editable = [s.pk for s in Service.objects.only("pk", "provider_id") if access.can_edit_return(user, s)]
        shown |= Q(service__in=editable)
    return DataValue.objects.filter(shown)


@values_router.get(
    "/", response=list[ValueOut], summary="Reported figures",
    description="Figures in a stable order: by element, service, period type (months, then quarters), period "
                "start and breakdown option. Only the figures of approved returns unless status=any, which adds "
                "the draft and submitted figures of the services whose returns you may fill in.",
)
@paginate(PageNumberPagination, page_size=100, max_page_size=1000)
def value_list(request, filters: Query[ValueFilters]):
    values = _visible_values(request.auth, filters.status)
    if filters.element is not None:
        values = values.filter(data_element__slug=filters.element)
    if filters.service is not None:
        values = values.filter(service__slug=filters.service)
    if filters.from_ is not None:
        values = values.filter(period_start__gte=filters.from_)
    if filters.to is not None:
        values = values.filter(period_start__lte=filters.to)
    if filters.period_type is not None:
        values = values.filter(period_type=filters.period_type)
    if filters.option is not None:
        values = values.filter(option__code=filters.option)
    if filters.total is not None:
        values = values.filter(option__isnull=filters.total)
    return values.order_by(
        "data_element__order", "data_element__slug", "service__slug", "period_type", "period_start",
        F("option__order").asc(nulls_first=True), "option__code", "pk",
    ).values(
        "period_type", "period_start", "value", element=F("data_element__slug"), service_slug=F("service__slug"),
        option_code=F("option__code"), return_status=F("data_return__status"),
    )


# --- Data returns --------------------------------------------------------------------------------

def _return_for(service: Service, quarter: FinancialQuarter) -> DataReturn:
    """The service's return for the quarter; an unsaved one, with no status, when not started."""
    found = (DataReturn.objects.select_related("service__provider", "submitted_by__organisation", "approved_by__organisation")
             .filter(service=service, quarter_start=quarter.start).first())
    return found or DataReturn(service=service, quarter_start=quarter.start, status=None, warning_comments={})


def _figures(service: Service, values: ValueSet) -> list[dict]:
    """The return's figures in the order of its template, each element's months before its quarter."""
    rank = {(row.element.slug, row.option_code or None): n for n, row in enumerate(template_rows(service))}
    keys = sorted(values.values, key=lambda k: (rank.get((k.element, k.option), len(rank)), k.element, k.option or "",
                                                k.period_type != PeriodType.MONTH, k.period_start))
    return [{"element": k.element, "option": k.option, "value": values.values[k],
             "month": f"{k.period_start:%Y-%m}" if k.period_type == PeriodType.MONTH else None} for k in keys]


def _detail(service: Service, quarter: FinancialQuarter) -> DataReturn:
    """The return with its figures and how many errors and warnings they raise, for ReturnDetailOut."""
    data_return = _return_for(service, quarter)
    if data_return.pk is None:
        data_return.figures, data_return.validation = [], {"errors": 0, "warnings": 0}
        return data_return
    violations = selectors.return_violations(data_return)
    errors = sum(1 for v in violations if v.is_error)
    data_return.figures = _figures(service, selectors.return_values(data_return))
    data_return.validation = {"errors": errors, "warnings": len(violations) - errors}
    return data_return


@returns_router.get("/", response=list[ReturnOut], summary="Data returns",
                    description="Newest quarter first, then by service name.")
@paginate(PageNumberPagination, page_size=50, max_page_size=500)
def return_list(request, filters: Query[ReturnFilters]):
    returns = DataReturn.objects.select_related(
        "service__provider", "submitted_by__organisation", "approved_by__organisation",
    ).order_by("-quarter_start", "service__name", "pk")
    if filters.service is not None:
        returns = returns.filter(service__slug=filters.service)
    if filters.quarter:
        returns = returns.filter(quarter_start=quarter_from_param(filters.quarter).start)
    if filters.status is not None:
        returns = returns.filter(status=filters.status)
    return returns


@returns_router.get(RETURN + "/", response=ReturnDetailOut, summary="One return with its figures",
                    description="A return not yet started answers with status null and no figures.")
def return_detail(request, service: str, quarter: str):
    return _detail(_service(service), _quarter(quarter))


def _values_from(entries, service: Service, quarter: FinancialQuarter) -> tuple[ValueSet, list[dict]]:
    """The figures sent, checked against the service's data elements and the quarter; every problem
    names the entry (by its index in `values`) and the field at fault."""
    elements = selectors.elements_by_slug()
    reported = set(service.data_elements.values_list("slug", flat=True))
    months = {f"{m:%Y-%m}": m for m in quarter.months}
    values, problems, seen = ValueSet(quarter), [], {}

    def problem(index: int, field: Optional[str], message: str) -> None:
        problems.append({"loc": ["body", "payload", "values", index, *([field] if field else [])],
                         "msg": message, "type": "value_error"})

    for index, entry in enumerate(entries):
        element = elements.get(entry.element)
        if element is None:
            problem(index, "element", f"There is no data element '{entry.element}'")
            continue
        if entry.element not in reported:
            problem(index, "element", f"{service.name} does not report '{element.name}' ({entry.element})")
            continue
        codes = [o.code for o in element.breakdown.options.all()] if element.breakdown_id else []
        if entry.option is not None and not codes:
            problem(index, "option", f"'{element.name}' has no breakdown: send its total with option null")
            continue
        if entry.option is not None and entry.option not in codes:
            problem(index, "option", f"'{element.name}' has no breakdown option '{entry.option}'; its options are "
                                     f"{', '.join(codes)}")
            continue
        month = None
        if entry.month is not None:
            match = MONTH.match(entry.month.strip())
            if not match or not 1 <= int(match.group(2)) <= 12:
                problem(index, "month", f"'{entry.month}' is not a month: write it like {quarter.start:%Y-%m}")
                continue
            if element.frequency != Frequency.MONTHLY:
                problem(index, "month", f"'{element.name}' is reported for the quarter only: send month null")
                continue
            if entry.option is not None:
                problem(index, "month", f"'{element.name}' by {element.breakdown.name.lower()} is reported for the "
                                        "quarter only: send month null")
                continue
            month = months.get(entry.month.strip())
            if month is None:
                problem(index, "month", f"{entry.month} is not in {quarter.label}: its months are "
                                        f"{', '.join(sorted(months))}")
                continue
        if entry.value < 0:
            problem(index, "value", f"{entry.value:g} is negative; figures cannot be below zero")
            continue
        key = (entry.element, entry.option, month)
        if key in seen:
            when = month_label(month) if month else quarter.label
            problem(index, None, f"This figure ({element.name}{', ' + entry.option if entry.option else ''}, {when}) "
                                 f"was already given in entry {seen[key]}")
            continue
        seen[key] = index
        values.set(entry.element, entry.value, option=entry.option, month=month)
    return values, problems


@returns_router.put(
    RETURN + "/figures",
    response={200: ReturnDetailOut, 403: MessageOut, 404: MessageOut, 409: MessageOut, 422: ValidationErrorOut},
    summary="Replace a return's figures",
    description="Saves the figures as the return's draft (starting the return if need be), replacing every figure "
                "held. month is YYYY-MM for a monthly element's month and null for the quarter's figure; option is a "
                "breakdown option's code, or null for the total. A submitted or approved return cannot be changed "
                "(409). The answer counts the errors and warnings the figures raise: see .../validation.",
)
def return_figures_replace(request, service: str, quarter: str, payload: FiguresIn):
    service_, quarter_ = _service(service), _quarter(quarter)
    if not access.can_edit_return(request.auth, service_):
        return Status(403, {"detail": "You can fill in returns only for your organisation's services."})
    current = _return_for(service_, quarter_)
    if current.status in LOCKED:
        return Status(409, {"detail": LOCKED[current.status]})
    values, problems = _values_from(payload.values, service_, quarter_)
    if problems:
        return Status(422, {"detail": problems})
    try:
        # A return is only started if its figures are saved.
        with transaction.atomic():
            data_return = services.data_return_open(user=request.auth, service=service_, quarter=quarter_)
            services.data_return_save_values(user=request.auth, data_return=data_return, values=values)
    except PermissionDenied as error:
        return Status(403, {"detail": str(error)})
    except ValidationError as error:
        current = _return_for(service_, quarter_)
        if current.status in LOCKED:
            return Status(409, {"detail": LOCKED[current.status]})
        return Status(422, {"detail": [{"loc": ["body", "payload", "values"], "msg": message, "type": "value_error"}
                                       for message in error.messages]})
    return Status(200, _detail(service_, quarter_))


def _violation_out(violation: Violation, elements: dict, comments: dict) -> dict:
    rule = violation.rule
    return {
        "rule": rule.slug, "rule_name": rule.name, "importance": rule.importance, "message": violation.message,
        "left_label": readable_side(violation.left_label, elements), "left_value": violation.left_value,
        "right_label": readable_side(violation.right_label, elements), "right_value": violation.right_value,
        "comment": comments.get(rule.slug) if not violation.is_error else None,
    }


@returns_router.get(RETURN + "/validation", response=list[ViolationOut], summary="A return's validation results",
                    description="Every rule the return's figures break: errors block submission, each warning needs "
                                "a comment. Empty when the figures pass or the return has not been started.")
def return_validation(request, service: str, quarter: str):
    data_return = _return_for(_service(service), _quarter(quarter))
    if data_return.pk is None:
        return []
    elements = selectors.elements_by_slug()
    violations = selectors.return_violations(data_return, elements=elements)
    return [_violation_out(v, elements, data_return.warning_comments or {}) for v in violations]


@returns_router.post(
    RETURN + "/submit",
    response={200: ReturnDetailOut, 403: MessageOut, 404: MessageOut, 409: MessageOut, 422: SubmitRefusedOut},
    summary="Submit a return for approval",
    description="Errors block submission (422 listing them); each warning needs a comment, sent in comments under "
                "the rule's slug (422 naming the rules still to explain). Only a draft can be submitted (409).",
)
def return_submit(request, service: str, quarter: str, payload: Optional[SubmitIn] = None):
    service_, quarter_ = _service(service), _quarter(quarter)
    if not access.can_edit_return(request.auth, service_):
        return Status(403, {"detail": "You can submit returns only for your organisation's services."})
    data_return = _return_for(service_, quarter_)
    if data_return.pk is None:
        return Status(422, {"detail": [{"loc": ["body", "payload"], "msg": "Enter the return's figures before submitting it",
                                        "type": "value_error"}], "violations": []})
    if data_return.status in LOCKED:
        return Status(409, {"detail": LOCKED[data_return.status]})
    comments = payload.comments if payload else {}
    try:
        services.data_return_submit(user=request.auth, data_return=data_return, comments=comments)
    except PermissionDenied as error:
        return Status(403, {"detail": str(error)})
    except ValidationError as error:
        return _submit_refused(service_, quarter_, error, comments)
    return Status(200, _detail(service_, quarter_))


def _submit_refused(service: Service, quarter: FinancialQuarter, error: ValidationError, comments: dict):
    """The service's refusal, with the violations behind it spelled out."""
    data_return = _return_for(service, quarter)
    if data_return.status in LOCKED:
        return Status(409, {"detail": LOCKED[data_return.status]})
    elements = selectors.elements_by_slug()
    violations = selectors.return_violations(data_return, elements=elements)
    if hasattr(error, "error_dict"):
        # Warnings without a comment, keyed comment-<rule slug>.
        slugs = {key.removeprefix("comment-"): messages[0] for key, messages in error.message_dict.items()}
        shown = [v for v in violations if not v.is_error and v.rule.slug in slugs]
        detail = [{"loc": ["body", "payload", "comments", slug], "msg": message, "type": "value_error"}
                  for slug, message in slugs.items()]
    else:
        shown = [v for v in violations if v.is_error]
        # The service words one message per error, in the order validation finds them.
        if shown and len(shown) == len(error.messages):
            detail = [{"loc": ["validation", v.rule.slug], "msg": message, "type": "validation_rule"}
                      for v, message in zip(shown, error.messages)]
        else:
            detail = [{"loc": ["body", "payload"], "msg": message, "type": "value_error"} for message in error.messages]
    return Status(422, {"detail": detail, "violations": [_violation_out(v, elements, comments) for v in shown]})


@returns_router.post(
    RETURN + "/approve",
    response={200: ReturnDetailOut, 403: MessageOut, 404: MessageOut, 409: MessageOut},
    summary="Approve a submitted return (strategy managers)",
    description="Approving locks the return; its figures then appear in /api/values/, the dashboards and the reports.",
)
def return_approve(request, service: str, quarter: str):
    service_, quarter_ = _service(service), _quarter(quarter)
    if not access.can_approve_return(request.auth):
        return Status(403, {"detail": "Only strategy managers can approve returns."})
    data_return = _return_for(service_, quarter_)
    if data_return.pk is None:
        raise HttpError(404, f"There is no return for {service_.name}, {quarter_.label}, to approve")
    try:
        services.data_return_approve(user=request.auth, data_return=data_return)
    except PermissionDenied as error:
        return Status(403, {"detail": str(error)})
    except ValidationError as error:
        return Status(409, {"detail": " ".join(error.messages)})
    return Status(200, _detail(service_, quarter_))

