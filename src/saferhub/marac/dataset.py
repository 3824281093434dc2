"""MARAC data: the quarterly dataset of one MARAC area beside the national figures, its CSV and XLSX
exports, and publishing it to the performance framework so the dashboards chart it.

Definitions (after SafeLives' MARAC data; DOMAIN.md §3):
- cases discussed: referrals of the area heard at one of its meetings held in the financial quarter
  (MaracReferral.meeting, the meeting's status "held", its start in the quarter), repeats included;
- cases per 10,000 adult women: cases ÷ the area's adult (16+) female population × 10,000. The
  national figure is over 12 months, so the quarter's is also shown annualised (× 4) beside it;
- repeat rate: cases flagged as repeats ÷ cases;
- referred by non-police agencies: the referring organisation's type is not police;
- Black, Asian or racially minoritised: the victim's recorded ethnicity is in a Mixed, Asian, Black
  or Other ethnic group (ONS 2021 categories; White minorities are not counted, as nationally);
- LGBT+: recorded sexuality gay or lesbian, bisexual or another orientation, or gender non-binary
  or another identity; disabled: day-to-day activities limited a lot or a little; male: gender male;
- aged 16–17: the victim's age on the day of referral, from their date of birth;
- children: the children listed in the households of the cases.
Shares are of all cases; a victim with nothing recorded (or who preferred not to say) counts in
none of them, and the page says how many such there were.

Only that quarter's rows are read, through indexed queries (meetings by area, status and start;
referrals by meeting; children and participants by referral and case), and only that quarter's
victims are decrypted. Only the aggregate counts cross into the performance framework."""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.marac.models import MaracArea, MaracReferral, MeetingStatus, ReferralChild
from saferhub.marac.repeat_services import areas_coordinated_by
from saferhub.partners.models import OrganisationType, Role
from saferhub.people.models import CaseParticipant, ParticipantRole, Person

NATIONAL_FILE = Path(__file__).parent / "data" / "national.yaml"
NATIONAL_KEYS = ["cases_per_10k", "repeat_rate", "non_police", "minoritised", "lgbt", "disabled", "male", "aged_16_17"]
MINORITISED_GROUPS = ("mixed_", "asian_", "black_", "other_")
LGBT_SEXUALITIES = {"gay_lesbian", "bisexual", "another"}
LGBT_GENDERS = {"non_binary", "another"}
DISABLED = {"yes_a_lot", "yes_a_little"}
NOT_STATED = {"", "prefer_not"}
MONITORING_FIELDS = ["gender", "ethnicity", "disability", "sexuality", "date_of_birth_text"]
NOT_RECORDED_KEYS = ["ethnicity", "sexuality", "disability", "gender", "date_of_birth"]


# National figures ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class National:
    source: str
    period: str
    maracs: int
    cases: int
    children: int
    recommended_cases_per_10k: float
    figures: dict


def national_load(path: Path = NATIONAL_FILE) -> National:
    """The national figures, checked: a missing or non-numeric figure names the file and the key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ImproperlyConfigured(f"{path.name}: cannot be read as YAML ({error})") from error
    if not isinstance(data, dict):
        raise ImproperlyConfigured(f"{path.name}: expected a mapping of source, period and figures")
    for key in ("source", "period"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ImproperlyConfigured(f"{path.name}: '{key}' must be text")
    for key in ("maracs", "cases", "children", "recommended_cases_per_10k"):
        if not isinstance(data.get(key), (int, float)) or isinstance(data.get(key), bool):
            raise ImproperlyConfigured(f"{path.name}: '{key}' must be a number")
    figures = data.get("figures")
    if not isinstance(figures, dict):
        raise ImproperlyConfigured(f"{path.name}: 'figures' must be a mapping")
    for key in NATIONAL_KEYS:
        value = figures.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ImproperlyConfigured(f"{path.name}: figures.{key} must be a number")
    return National(source=data["source"], period=data["period"], maracs=data["maracs"], cases=data["cases"],
                    children=data["children"], recommended_cases_per_10k=data["recommended_cases_per_10k"],
                    figures={key: float(figures[key]) for key in NATIONAL_KEYS})


@lru_cache(maxsize=1)
def national() -> National:
    return national_load()


# The dataset --------------------------------------------------------------------------------------

@dataclass
class Measure:
    key: str
    label: str
    count: int | None  # the numerator, where the measure is a share or rate of a count
    value: float | None  # the area's figure: a percentage, a rate, or the count itself
    unit: str  # "count", "percent" or "rate"
    national: float | None
    note: str = ""

    @property
    def value_text(self) -> str:
        if self.value is None:
            return self.note or "No cases"
        if self.unit == "percent":
            return f"{self.value:.1f}%"
        if self.unit == "rate":
            return f"{self.value:.1f}"
        return f"{self.value:,.0f}"

    @property
    def national_text(self) -> str:
        if self.national is None:
            return "Not published"
        if self.unit == "percent":
            return f"{self.national:g}%"
        return f"{self.national:,g}"


@dataclass
class Dataset:
    area: MaracArea
    quarter: object  # performance.periods.FinancialQuarter
    cases: int
    repeats: int
    non_police: int
    minoritised: int
    lgbt: int
    disabled: int
    male: int
    aged_16_17: int
    children: int
    not_recorded: dict[str, int]
    population: int

    @property
    def per_10k(self) -> float | None:
        return self.cases / self.population * 10000 if self.population else None

    def _share(self, count: int) -> float | None:
        return count / self.cases * 100 if self.cases else None

    def measures(self) -> list[Measure]:
        figures = national().figures
        no_population = "Population not set"
        per_10k = self.per_10k
        share = [
            ("repeat_rate", "Repeat rate", self.repeats),
            ("non_police", "Referred by non-police agencies", self.non_police),
            ("minoritised", "Black, Asian or racially minoritised victims", self.minoritised),
            ("lgbt", "LGBT+ victims", self.lgbt),
            ("disabled", "Disabled victims", self.disabled),
            ("male", "Male victims", self.male),
            ("aged_16_17", "Victims aged 16–17", self.aged_16_17),
        ]
        rows = [
            Measure("cases", "Cases discussed (including repeats)", self.cases, float(self.cases), "count", None),
            Measure("cases_per_10k_quarter", "Cases per 10,000 adult women, this quarter", self.cases,
                    per_10k, "rate", None, "" if per_10k is not None else no_population),
            Measure("cases_per_10k", "Cases per 10,000 adult women, annualised (quarter × 4)", self.cases,
                    per_10k * 4 if per_10k is not None else None, "rate", figures["cases_per_10k"],
                    "" if per_10k is not None else no_population),
        ]
        rows += [Measure(key, label, count, self._share(count), "percent", figures[key]) for key, label, count in share]
        rows.append(Measure("children", "Children in the households", self.children, float(self.children), "count", None))
        return rows


def quarter_bounds(quarter) -> tuple[dt.datetime, dt.datetime]:
    """The quarter as [start, end) moments in local time."""
    zone = timezone.get_current_timezone()
    return (dt.datetime.combine(quarter.start, dt.time.min, tzinfo=zone),
            dt.datetime.combine(quarter.next().start, dt.time.min, tzinfo=zone))


def cases_heard(*, area: MaracArea, quarter):
    """The referrals of the area heard at its meetings held in the quarter (an indexed range)."""
    start, end = quarter_bounds(quarter)
    return MaracReferral.objects.filter(meeting__area=area, meeting__status=MeetingStatus.HELD,
                                        meeting__starts_at__gte=start, meeting__starts_at__lt=end)


def _age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def dataset_compute(*, area: MaracArea, quarter) -> Dataset:
    """The figures of one area and quarter. Reads that quarter's referrals, their children and
    victims only; decrypts those victims and no one else."""
    heard = cases_heard(area=area, quarter=quarter)
    rows = list(heard.order_by("pk").values_list("pk", "case_id", "is_repeat", "referring_organisation__type", "referred_at"))
    if not rows:
        return Dataset(area=area, quarter=quarter, cases=0, repeats=0, non_police=0, minoritised=0, lgbt=0, disabled=0,
                       male=0, aged_16_17=0, children=0, not_recorded=dict.fromkeys(NOT_RECORDED_KEYS, 0),
                       population=area.adult_female_population)
    # Subqueries rather than lists of ids, so a busy quarter does not hit a database's parameter limit.
    children = ReferralChild.objects.filter(referral__in=heard).count()
    victims = CaseParticipant.objects.filter(case__marac_referral__in=heard, role=ParticipantRole.VICTIM)
    # The first victim listed in each case (a MARAC case has one).
    victim_of: dict[int, int] = {}
    for case_id, person_id in victims.order_by("pk").values_list("case_id", "person_id"):
        victim_of.setdefault(case_id, person_id)
    # Only the monitoring fields and the date of birth are read and decrypted: never names or addresses.
    people = {p.pk: p for p in Person.objects.only(*MONITORING_FIELDS).filter(pk__in=victims.values("person_id"))}
    counts = {"minoritised": 0, "lgbt": 0, "disabled": 0, "male": 0, "aged_16_17": 0}
    not_recorded = dict.fromkeys(NOT_RECORDED_KEYS, 0)
    for _, case_id, _, _, referred_at in rows:
        person = people.get(victim_of.get(case_id))
        if person is None:
            for key in not_recorded:
                not_recorded[key] += 1
            continue
        counts["minoritised"] += person.ethnicity.startswith(MINORITISED_GROUPS)
        counts["lgbt"] += person.sexuality in LGBT_SEXUALITIES or person.gender in LGBT_GENDERS
        counts["disabled"] += person.disability in DISABLED
        counts["male"] += person.gender == "male"
        for key in ("ethnicity", "sexuality", "disability", "gender"):
            not_recorded[key] += getattr(person, key) in NOT_STATED
        born = person.date_of_birth
        if born is None:
            not_recorded["date_of_birth"] += 1
        else:
            counts["aged_16_17"] += _age_on(born, timezone.localtime(referred_at).date()) in (16, 17)
    return Dataset(
        area=area, quarter=quarter, cases=len(rows), repeats=sum(1 for row in rows if row[2]),
        non_police=sum(1 for row in rows if row[3] != OrganisationType.POLICE), children=children,
        not_recorded=not_recorded, population=area.adult_female_population, **counts)


# Who may see it -----------------------------------------------------------------------------------

def areas_for(user) -> list[MaracArea]:
    """The areas whose MARAC data the user may see: every area for strategy managers and
    administrators (the partnership's performance leads), the areas they coordinate for others."""
    if not (user.is_authenticated and user.is_active):
        return []
    areas = MaracArea.objects.select_related("coordinating_organisation").order_by("name")
    if user.has_role(Role.STRATEGY_MANAGER):
        return list(areas)
    return list(areas.filter(pk__in=areas_coordinated_by(user)))


def may_publish(user) -> bool:
    from saferhub.performance.access import can_approve_return

    return can_approve_return(user)


def _area_for(user, area: MaracArea | None) -> MaracArea:
    if area is None or area.pk not in {a.pk for a in areas_for(user)}:
        raise Http404("No such MARAC area")
    return area


@transaction.atomic
def marac_dataset(*, user, area: MaracArea | None, quarter) -> Dataset:
    """The dataset for the page, audited: it is computed from personal data, though it shows none."""
    area = _area_for(user, area)
    dataset = dataset_compute(area=area, quarter=quarter)
    audit_event(user=user, action=AuditAction.LIST, record_type="marac_dataset", record_id=area.pk,
                record_label=f"MARAC data {area.name} {quarter.label}", purpose="MARAC data",
                detail={"quarter": quarter.key, "cases": dataset.cases})
    return dataset


# Exports ------------------------------------------------------------------------------------------

def _table(dataset: Dataset) -> tuple[list[str], list[list]]:
    header = ["Measure", "Count", f"{dataset.area.name} {dataset.quarter.label}", f"National ({national().period})", "Note"]
    body = []
    for m in dataset.measures():
        body.append([m.label, m.count, None if m.value is None else round(m.value, 2), m.national, m.note])
    return header, body


def _preamble(dataset: Dataset) -> list[list]:
    n = national()
    return [
        ["MARAC data", dataset.area.name],
        ["Quarter", f"{dataset.quarter.label} ({dataset.quarter.start:%d %B %Y} to {dataset.quarter.end:%d %B %Y})"],
        ["Adult (16+) female population", dataset.population or "Population not set"],
        ["National figures", f"{n.source}, {n.period}"],
        ["Victims with ethnicity not recorded", dataset.not_recorded["ethnicity"]],
        ["Victims with date of birth not recorded", dataset.not_recorded["date_of_birth"]],
    ]


@transaction.atomic
def marac_dataset_export(*, user, area: MaracArea | None, quarter, file_format: str) -> tuple[bytes, str, str]:
    """The dataset as CSV or XLSX: (content, content type, file name)."""
    if file_format not in ("csv", "xlsx"):
        raise Http404("No such format")
    area = _area_for(user, area)
    dataset = dataset_compute(area=area, quarter=quarter)
    header, body = _table(dataset)
    name = f"marac-data-{area.slug}-{quarter.slug}.{file_format}"
    if file_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerows(_preamble(dataset))
        writer.writerow([])
        writer.writerow(header)
        writer.writerows([["" if cell is None else cell for cell in row] for row in body])
        content, content_type = out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8"
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        sheet = book.active
        sheet.title = "MARAC data"
        for row in _preamble(dataset):
            sheet.append(row)
        sheet.append([])
        sheet.append(header)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in body:
            sheet.append(row)
        sheet.column_dimensions["A"].width = 55
        for column in "BCDE":
            sheet.column_dimensions[column].width = 22
        out = io.BytesIO()
        book.save(out)
        content = out.getvalue()
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit_event(user=user, action=AuditAction.EXPORT, record_type="marac_dataset", record_id=area.pk,
                record_label=f"MARAC data {area.name} {quarter.label}", purpose="MARAC data export",
                detail={"quarter": quarter.key, "format": file_format, "cases": dataset.cases})
    return content, content_type, name


# Publishing to the performance framework -----------------------------------------------------------

# (slug, name, definition, Dataset attribute)
ELEMENTS = [
    ("marac-cases", "MARAC cases discussed", "Referrals heard at a MARAC meeting held in the quarter, repeats included", "cases"),
    ("marac-repeat-cases", "MARAC repeat cases", "Cases discussed that were repeats (DOMAIN.md §3 rule 4)", "repeats"),
    ("marac-non-police-referrals", "MARAC cases referred by non-police agencies",
     "Cases discussed whose referring organisation is not the police", "non_police"),
    ("marac-minoritised-victims", "MARAC victims who are Black, Asian or racially minoritised",
     "Cases whose victim's recorded ethnicity is Mixed, Asian, Black or Other", "minoritised"),
    ("marac-lgbt-victims", "MARAC victims who are LGBT+", "Cases whose victim is recorded as LGBT+", "lgbt"),
    ("marac-disabled-victims", "MARAC victims who are disabled", "Cases whose victim is recorded as disabled", "disabled"),
    ("marac-male-victims", "MARAC victims who are male", "Cases whose victim's recorded gender is male", "male"),
    ("marac-victims-16-17", "MARAC victims aged 16–17", "Cases whose victim was 16 or 17 when referred", "aged_16_17"),
    ("marac-children", "Children in MARAC households", "Children listed in the households of the cases discussed", "children"),
    ("marac-adult-female-population", "Adult female population of the MARAC area",
     "The area's adult (16+) female population, the denominator of cases per 10,000", "population"),
]
# (slug, name, numerator element, denominator element, multiplier, unit)
INDICATORS = [
    ("marac-cases-per-10k", "MARAC cases per 10,000 adult women (quarter)", "marac-cases", "marac-adult-female-population", 10000, "count"),
    ("marac-repeat-rate", "MARAC repeat rate", "marac-repeat-cases", "marac-cases", 100, "percent"),
    ("marac-non-police-share", "MARAC cases referred by non-police agencies (%)", "marac-non-police-referrals", "marac-cases", 100, "percent"),
    ("marac-minoritised-share", "MARAC victims Black, Asian or racially minoritised (%)", "marac-minoritised-victims", "marac-cases", 100, "percent"),
    ("marac-lgbt-share", "MARAC victims LGBT+ (%)", "marac-lgbt-victims", "marac-cases", 100, "percent"),
    ("marac-disabled-share", "MARAC victims disabled (%)", "marac-disabled-victims", "marac-cases", 100, "percent"),
    ("marac-male-share", "MARAC victims male (%)", "marac-male-victims", "marac-cases", 100, "percent"),
    ("marac-16-17-share", "MARAC victims aged 16–17 (%)", "marac-victims-16-17", "marac-cases", 100, "percent"),
]


def service_slug(area: MaracArea) -> str:
    return f"marac-{area.slug}"[:80]


def _framework_ensure(*, user, area: MaracArea):
    """The area's MARAC service in the performance framework with its data elements and computed
    indicators, made the first time the area's data is published."""
    from saferhub.audit.models import ChangeAction
    from saferhub.audit.services import change_record
    from saferhub.commissioning.models import Service, ServiceKind
    from saferhub.performance.models import ComputedIndicator, DataElement, Polarity, Unit

    service, created = Service.objects.get_or_create(slug=service_slug(area), defaults={
        "name": f"MARAC: {area.name}"[:200], "kind": ServiceKind.PARTNER_PROGRAMME,
        "provider": area.coordinating_organisation,
        "description": f"The {area.name} MARAC's quarterly MARAC data, published from Saferhub's MARAC records."})
    if created:
        change_record(actor=user, instance=service, action=ChangeAction.CREATE,
                      after={"slug": service.slug, "name": service.name, "provider": area.coordinating_organisation.name})
    for order, (slug, name, definition, _) in enumerate(ELEMENTS, start=900):
        element, made = DataElement.objects.get_or_create(slug=slug, defaults={
            "name": name, "definition": definition, "unit": Unit.COUNT, "order": order})
        if made:
            change_record(actor=user, instance=element, action=ChangeAction.CREATE, after={"slug": slug, "name": name})
        element.services.add(service)
    for slug, name, numerator, denominator, multiplier, unit in INDICATORS:
        indicator, made = ComputedIndicator.objects.get_or_create(slug=slug, defaults={
            "name": name, "numerator": "#{" + numerator + "}", "denominator": "#{" + denominator + "}",
            "multiplier": multiplier, "unit": unit, "polarity": Polarity.NEUTRAL,
            "definition": "Computed from the MARAC data elements each quarter"})
        if made:
            change_record(actor=user, instance=indicator, action=ChangeAction.CREATE, after={"slug": slug, "name": name})
        indicator.services.add(service)
    return service


@transaction.atomic
def marac_dataset_publish(*, user, area: MaracArea | None, quarter):
    """Publish the area's quarterly counts as an approved data return of its MARAC service, through
    the performance framework's own services (open, save, submit, approve), so the dashboards chart
    them and the computed indicators give the rates. Only counts cross; no one is named. A quarter
    not yet over cannot be published, and an approved return stays locked as every return does."""
    from saferhub.performance import services as performance_services
    from saferhub.performance.models import DataReturn, ReturnStatus
    from saferhub.performance.validation import ValueSet

    if not may_publish(user):
        raise PermissionDenied("Only strategy managers can publish MARAC data to the performance framework.")
    area = _area_for(user, area)
    if quarter.end >= timezone.localdate():
        raise ValidationError({"quarter": f"{quarter.label} has not ended yet: publish it after {quarter.end:%d %B %Y}"})
    service = _framework_ensure(user=user, area=area)
    existing = DataReturn.objects.filter(service=service, quarter_start=quarter.start).first()
    if existing is not None and existing.status == ReturnStatus.APPROVED:
        raise ValidationError(f"The MARAC data for {area.name}, {quarter.label}, is already published and approved; "
                              "an approved return is locked")
    if existing is not None and existing.status == ReturnStatus.SUBMITTED:
        performance_services.data_return_reopen(user=user, data_return=existing, reason="Published again from MARAC data")
    dataset = dataset_compute(area=area, quarter=quarter)
    values = ValueSet(quarter)
    for slug, _, _, attribute in ELEMENTS:
        figure = getattr(dataset, attribute)
        if attribute == "population" and not figure:
            continue
        values.set(slug, figure)
    data_return = performance_services.data_return_open(user=user, service=service, quarter=quarter)
    performance_services.data_return_save_values(user=user, data_return=data_return, values=values)
    performance_services.data_return_submit(user=user, data_return=data_return)
    data_return = performance_services.data_return_approve(user=user, data_return=data_return)
    audit_event(user=user, action=AuditAction.EXPORT, record_type="marac_dataset", record_id=area.pk,
                record_label=f"MARAC data {area.name} {quarter.label}", purpose="MARAC data published to performance",
                detail={"quarter": quarter.key, "service": service.slug, "return": data_return.pk, "cases": dataset.cases})
    return data_return
