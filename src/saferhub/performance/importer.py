"""Loading a performance framework (breakdowns, services, funding, data elements, indicators,
targets, validation rules) and historical returns from YAML files. All-or-nothing: every problem
is reported with file, path and field, and nothing is written when there is one."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone

from saferhub.commissioning.models import FundingAllocation, FundingStream, Service, ServiceKind
from saferhub.core.importing import ImportFailed, ImportProblem, date_parse
from saferhub.partners.models import Organisation
from saferhub.performance.expressions import Expression, ExpressionError
from saferhub.performance.models import (
    Breakdown, BreakdownOption, ComputedIndicator, DataElement, DataReturn, DataValue, Frequency, Importance,
    MissingValueStrategy, Operator, PeriodType, Polarity, ReturnStatus, RuleKind, Target, Unit, ValidationRule,
)
from saferhub.performance.periods import FinancialQuarter
from saferhub.strategy.models import StrategyItem

DATA_DIR = Path(__file__).resolve().parent / "data"


class _Checker:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[ImportProblem] = []

    def add(self, path: str, field: str, message: str) -> None:
        self.problems.append(ImportProblem(self.file, path, field, message))

    def need(self, record: dict, path: str, *fields: str) -> bool:
        ok = True
        for name in fields:
            if record.get(name) in (None, ""):
                self.add(path, name, "is required")
                ok = False
        return ok

    def choice(self, record: dict, path: str, field: str, choices, default):
        value = record.get(field, default)
        if value not in choices.values:
            self.add(path, field, f"'{value}' is not one of {', '.join(choices.values)}")
            return default
        return value

    def date(self, record: dict, path: str, field: str):
        try:
            return date_parse(record.get(field))
        except ValueError as exc:
            self.add(path, field, str(exc))
            return None


def _read(path: Path, checker: _Checker) -> dict:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        checker.add("-", "-", f"cannot be read: {exc}")
        return {}
    if not isinstance(content, dict):
        checker.add("-", "-", "must be a mapping at the top level")
        return {}
    return content


def _items(refs, path, field, checker) -> list[StrategyItem]:
    found = []
    for n, ref in enumerate(refs or []):
        item = StrategyItem.objects.filter(strategy__slug=ref.get("strategy"), code=ref.get("code")).first()
        if item is None:
            checker.add(f"{path}.{field}[{n}]", field, f"no item '{ref.get('code')}' in strategy '{ref.get('strategy')}'")
        else:
            found.append(item)
    return found


def framework_load(path: Path | str = DATA_DIR / "framework.yaml") -> dict[str, int]:
    path = Path(path)
    checker = _Checker(str(path))
    doc = _read(path, checker)
    orgs = {o.slug: o for o in Organisation.objects.all()}

    def org(value, where, field):
        if value not in orgs:
            checker.add(where, field, f"unknown organisation '{value}'")
            return None
        return orgs[value]

    # Validate everything first.
    breakdowns = {}
    for n, b in enumerate(doc.get("breakdowns", [])):
        where = f"breakdowns[{n}]"
        if checker.need(b, where, "slug", "name"):
            codes = [o.get("code") for o in b.get("options", [])]
            if len(set(codes)) != len(codes) or not all(codes):
                checker.add(where, "options", "every option needs a code, and codes must differ")
            breakdowns[b["slug"]] = codes
    streams = {s.get("slug") for s in doc.get("funding_streams", [])}
    for n, s in enumerate(doc.get("funding_streams", [])):
        checker.need(s, f"funding_streams[{n}]", "slug", "name")
        if s.get("funder"):
            org(s["funder"], f"funding_streams[{n}]", "funder")

    service_rows = []
    for section, kind in (("services", ServiceKind.COMMISSIONED), ("interventions", ServiceKind.GRANT_FUNDED),
                          ("programmes", ServiceKind.PARTNER_PROGRAMME)):
        for n, s in enumerate(doc.get(section, [])):
            where = f"{section}[{n}]"
            if not checker.need(s, where, "slug", "name", "provider"):
                continue
            org(s["provider"], where, "provider")
            for c in s.get("commissioners", []):
                org(c, where, "commissioners")
            for f in s.get("funding", []):
                if f.get("stream") not in streams:
                    checker.add(where, "funding", f"unknown funding stream '{f.get('stream')}'")
            item_refs = s.get("strategy_items") or ([{"strategy": "serious-violence-duty-response-strategy", "code": s["item"]}] if s.get("item") else [])
            service_rows.append((where, kind, s, _items(item_refs, where, "strategy_items", checker)))
    service_slugs = {s["slug"] for _, _, s, _ in service_rows}

    element_rows = []
    for n, e in enumerate(doc.get("data_elements", [])):
        where = f"data_elements[{n}]"
        if not checker.need(e, where, "slug", "name"):
            continue
        if e.get("breakdown") and e["breakdown"] not in breakdowns:
            checker.add(where, "breakdown", f"unknown breakdown '{e['breakdown']}'")
        for s in e.get("services", []):
            if s not in service_slugs:
                checker.add(where, "services", f"unknown service '{s}'")
        if e.get("owner"):
            org(e["owner"], where, "owner")
        checker.choice(e, where, "unit", Unit, Unit.COUNT)
        checker.choice(e, where, "frequency", Frequency, Frequency.QUARTERLY)
        checker.choice(e, where, "polarity", Polarity, Polarity.NEUTRAL)
        element_rows.append((where, e, _items(e.get("strategy_items"), where, "strategy_items", checker)))
    element_options = {e["slug"]: breakdowns.get(e.get("breakdown"), []) for _, e, _ in element_rows}

    def check_expression(text, where, field):
        try:
            expr = Expression.parse(str(text))
        except ExpressionError as exc:
            checker.add(where, field, str(exc))
            return
        for ref in expr.references:
            if ref.element not in element_options:
                checker.add(where, field, f"unknown data element '{ref.element}'")
            elif ref.option not in (None, "*") and ref.option not in element_options[ref.element]:
                checker.add(where, field, f"'{ref.element}' has no option '{ref.option}'")

    for n, c in enumerate(doc.get("computed_indicators", [])):
        where = f"computed_indicators[{n}]"
        if checker.need(c, where, "slug", "name", "numerator"):
            check_expression(c["numerator"], where, "numerator")
            check_expression(c.get("denominator", "1"), where, "denominator")
    for n, t in enumerate(doc.get("targets", [])):
        where = f"targets[{n}]"
        checker.need(t, where, "element", "value", "due")
        if t.get("element") not in element_options:
            checker.add(where, "element", f"unknown data element '{t.get('element')}'")
        checker.date(t, where, "due")
    for where, _, s, _ in service_rows:
        target = s.get("target")
        if target and target.get("element") not in element_options:
            checker.add(where, "target", f"unknown data element '{target.get('element')}'")
    for n, r in enumerate(doc.get("validation_rules", [])):
        where = f"validation_rules[{n}]"
        if not checker.need(r, where, "slug", "name", "message"):
            continue
        kind = checker.choice(r, where, "kind", RuleKind, RuleKind.EXPRESSION)
        checker.choice(r, where, "importance", Importance, Importance.ERROR)
        checker.choice(r, where, "operator", Operator, Operator.EQUAL)
        checker.choice(r, where, "left_missing", MissingValueStrategy, MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING)
        checker.choice(r, where, "right_missing", MissingValueStrategy, MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING)
        if kind == RuleKind.EXPRESSION:
            if checker.need(r, where, "left_side", "right_side"):
                check_expression(r["left_side"], where, "left_side")
                check_expression(r["right_side"], where, "right_side")
    if checker.problems:
        raise ImportFailed(checker.problems)

    with transaction.atomic():
        for b in doc.get("breakdowns", []):
            breakdown, _ = Breakdown.objects.update_or_create(slug=b["slug"], defaults={"name": b["name"]})
            for order, o in enumerate(b.get("options", []), start=1):
                BreakdownOption.objects.update_or_create(
                    breakdown=breakdown, code=o["code"], defaults={"label": o.get("label", o["code"]), "order": order})
        stream_objs = {}
        for s in doc.get("funding_streams", []):
            stream_objs[s["slug"]], _ = FundingStream.objects.update_or_create(slug=s["slug"], defaults={
                "name": s["name"], "funder": orgs.get(s.get("funder")), "national": bool(s.get("national")),
                "description": s.get("description", "")})
        services = {}
        for _, kind, s, items in service_rows:
            service, _ = Service.objects.update_or_create(slug=s["slug"], defaults={
                "name": s["name"], "kind": kind, "provider": orgs[s["provider"]],
                "description": s.get("description", ""), "expected_outcomes": s.get("expected_outcomes", ""),
                "start_date": date_parse(s.get("start_date")), "end_date": date_parse(s.get("end_date")),
                "annual_value": Decimal(str(s["annual_value"])) if s.get("annual_value") is not None else None})
            service.commissioners.set([orgs[c] for c in s.get("commissioners", [])])
            service.strategy_items.set(items)
            for f in s.get("funding", []):
                FundingAllocation.objects.update_or_create(
                    stream=stream_objs[f["stream"]], service=service, financial_year=f["financial_year"],
                    defaults={"amount": Decimal(str(f.get("amount", 0))), "period_note": f.get("period_note", "")})
            services[s["slug"]] = service
        elements = {}
        for order, (_, e, items) in enumerate(element_rows, start=1):
            element, _ = DataElement.objects.update_or_create(slug=e["slug"], defaults={
                "name": e["name"], "definition": e.get("definition", ""), "unit": e.get("unit", Unit.COUNT),
                "frequency": e.get("frequency", Frequency.QUARTERLY), "polarity": e.get("polarity", Polarity.NEUTRAL),
                "breakdown": Breakdown.objects.get(slug=e["breakdown"]) if e.get("breakdown") else None,
                "owner": orgs.get(e.get("owner")), "order": order})
            element.services.set([services[s] for s in e.get("services", [])])
            element.strategy_items.set(items)
            elements[e["slug"]] = element
        for c in doc.get("computed_indicators", []):
            indicator, _ = ComputedIndicator.objects.update_or_create(slug=c["slug"], defaults={
                "name": c["name"], "definition": c.get("definition", ""), "numerator": c["numerator"],
                "denominator": str(c.get("denominator", "1")), "multiplier": float(c.get("multiplier", 1)),
                "unit": c.get("unit", Unit.COUNT), "polarity": c.get("polarity", Polarity.NEUTRAL)})
            indicator.services.set([services[s] for s in c.get("services", []) if s in services])
        targets = list(doc.get("targets", []))
        targets += [dict(s["target"], service=s["slug"]) for _, _, s, _ in service_rows if s.get("target")]
        for t in targets:
            service = services.get(t.get("service"))
            if service is not None:
                elements[t["element"]].services.add(service)
            Target.objects.update_or_create(
                data_element=elements[t["element"]], service=service, due=date_parse(t["due"]),
                defaults={"value": float(t["value"]), "note": t.get("note", "")})
        for r in doc.get("validation_rules", []):
            ValidationRule.objects.update_or_create(slug=r["slug"], defaults={
                "name": r["name"], "kind": r.get("kind", RuleKind.EXPRESSION),
                "left_side": str(r.get("left_side", "")), "operator": r.get("operator", Operator.EQUAL),
                "right_side": str(r.get("right_side", "")),
                "left_missing": r.get("left_missing", MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING),
                "right_missing": r.get("right_missing", MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING),
                "importance": r.get("importance", Importance.ERROR), "message": r["message"]})
    return {"services": len(services), "data_elements": len(elements), "validation_rules": len(doc.get("validation_rules", []))}


def _number(value, where, field, checker) -> float | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        checker.add(where, field, f"'{value}' is not a number")
        return None
    if number < 0:
        checker.add(where, field, f"{value} is negative; figures cannot be below zero")
        return None
    return float(number)


def returns_load(path: Path | str = DATA_DIR / "returns.yaml", *, replace_existing: bool = True) -> int:
    """Historical returns, written as reported (discrepancies included) and locked as approved.
    With replace_existing False, a service's return already held for a quarter is left alone."""
    path = Path(path)
    checker = _Checker(str(path))
    doc = _read(path, checker)
    services = {s.slug: s for s in Service.objects.all()}
    elements = {e.slug: e for e in DataElement.objects.select_related("breakdown").prefetch_related("breakdown__options")}
    planned = []
    for n, r in enumerate(doc.get("returns", [])):
        where = f"returns[{n}]"
        if not checker.need(r, where, "service", "quarter", "values"):
            continue
        service = services.get(r["service"])
        if service is None:
            checker.add(where, "service", f"unknown service '{r['service']}'")
        try:
            quarter = FinancialQuarter.parse(str(r["quarter"]))
        except ValueError as exc:
            checker.add(where, "quarter", str(exc))
            continue
        rows = []
        for slug, spec in (r.get("values") or {}).items():
            at = f"{where}.values.{slug}"
            element = elements.get(slug)
            if element is None:
                checker.add(at, slug, "unknown data element")
                continue
            codes = {o.code: o for o in element.breakdown.options.all()} if element.breakdown_id else {}
            if "total" in spec:
                value = _number(spec["total"], at, "total", checker)
                rows.append((element, PeriodType.QUARTER, quarter.start, None, value))
            months = spec.get("months")
            if months is not None:
                if element.frequency != Frequency.MONTHLY:
                    checker.add(at, "months", f"'{slug}' is reported quarterly, not by month")
                elif len(months) != 3:
                    checker.add(at, "months", f"give the 3 months of {quarter.label}, not {len(months)}")
                else:
                    for month, v in zip(quarter.months, months):
                        rows.append((element, PeriodType.MONTH, month, None, _number(v, at, "months", checker)))
            for code, v in (spec.get("options") or {}).items():
                if code not in codes:
                    checker.add(at, "options", f"'{slug}' has no option '{code}'")
                    continue
                rows.append((element, PeriodType.QUARTER, quarter.start, codes[code], _number(v, at, code, checker)))
        planned.append((service, quarter, r.get("status", ReturnStatus.APPROVED), rows))
    if checker.problems:
        raise ImportFailed(checker.problems)
    now = timezone.now()
    if not replace_existing:
        held = set(DataReturn.objects.values_list("service_id", "quarter_start"))
        planned = [p for p in planned if (p[0].pk, p[1].start) not in held]
    with transaction.atomic():
        for service, quarter, status, rows in planned:
            data_return, _ = DataReturn.objects.update_or_create(
                service=service, quarter_start=quarter.start,
                defaults={"status": status, "submitted_at": now, "approved_at": now if status == ReturnStatus.APPROVED else None})
            data_return.values.all().delete()
            DataValue.objects.bulk_create([
                DataValue(data_element=element, service=service, period_type=ptype, period_start=start,
                          option=option, value=value, data_return=data_return)
                for element, ptype, start, option, value in rows
            ])
    return len(planned)
