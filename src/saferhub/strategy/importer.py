"""Importing strategy files: check every file completely, then write all of them in one
transaction, updating strategies already loaded in place (see docs/strategy-file-format.md)."""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import change_record, snapshot
from saferhub.core.importing import ImportFailed, ImportProblem
from saferhub.partners.models import GovernanceBody, Organisation
from saferhub.strategy import access
from saferhub.strategy.file_formats import StrategySpec, Where, strategy_file_read, tracker_template_write
from saferhub.strategy.models import Action, ProgressUpdate, ReportingPeriod, Strategy, StrategyItem
from saferhub.strategy.services import MAX_SIBLINGS, reporting_period_get_or_create

__all__ = ["ImportFailed", "ImportProblem", "StrategyImportResult", "strategy_files_check", "strategy_import",
           "tracker_template_write"]

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
STRATEGY_SNAPSHOT_FIELDS = [
    "title", "short_title", "summary", "background", "level_names", "owner", "governance_body", "start_date",
    "end_date",
]
ACTION_VALUE_FIELDS = [
    "item_id", "order", "reference", "title", "description", "governance_body_id", "start_date", "due_date",
    "timescale", "status", "rag", "outcome_measures",
]
PROGRESS_VALUE_FIELDS = ["actions_taken", "next_steps", "status", "rag", "organisation_id"]
# Rows per INSERT/UPDATE statement and ids per IN (...) list: within every database's limits.
BATCH = 500


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


@dataclass
class StrategyImportResult:
    file: str
    slug: str
    title: str
    created: bool = False
    items: int = 0
    items_created: int = 0
    items_removed: int = 0
    actions: int = 0
    actions_created: int = 0
    actions_updated: int = 0
    actions_removed: int = 0
    progress: int = 0
    progress_created: int = 0
    progress_updated: int = 0

    def __str__(self) -> str:
        verb = "created" if self.created else "updated"
        text = (
            f"{self.file}: {verb} {self.slug} ({self.title}): {self.items} items, {self.actions} actions "
            f"({self.actions_created} new, {self.actions_updated} changed"
        )
        if self.actions_removed or self.items_removed:
            text += f", {self.actions_removed} actions and {self.items_removed} items removed"
        return text + f"), {self.progress} progress updates ({self.progress_created} new, {self.progress_updated} changed)"

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in {"file", "slug", "title"}}


@dataclass
class _Known:
    """What references in the files may point at."""

    organisations: dict[str, int]
    bodies: dict[str, int]
    periods: dict[str, tuple]

    @classmethod
    def load(cls) -> _Known:
        return cls(
            organisations=dict(Organisation.objects.values_list("slug", "pk")),
            bodies=dict(GovernanceBody.objects.values_list("slug", "pk")),
            periods={label: (start, end) for label, start, end in ReportingPeriod.objects.values_list("label", "start", "end")},
        )


# Checking -----------------------------------------------------------------------------------------


def strategy_files_check(paths: Sequence[str | Path]) -> list[StrategySpec]:
    """Read and check every file; raise ImportFailed with every problem in every file."""
    known = _Known.load()
    problems: list[ImportProblem] = []
    specs: list[StrategySpec] = []
    for path in paths:
        spec, read_problems = strategy_file_read(path)
        problems.extend(read_problems)
        if spec is not None:
            problems.extend(_spec_check(spec, known))
            specs.append(spec)
    problems.extend(_across_files_check(specs))
    if problems:
        # A value that could not be read is also missing when checked: say so once.
        unique = {(p.file, p.sheet, str(p.row), p.field): p for p in reversed(problems)}
        raise ImportFailed([p for p in problems if unique[(p.file, p.sheet, str(p.row), p.field)] is p])
    return specs


def _spec_check(spec: StrategySpec, known: _Known) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    values = spec.values

    def need(name: str, message: str) -> None:
        if not values.get(name):
            problems.append(spec.where_of(name).problem(name, message))

    need("slug", "Enter the strategy's slug (lower-case-with-hyphens)")
    need("title", "Enter the strategy's title")
    need("level_names", "Enter the names of the levels of the strategy, top first")
    slug = values.get("slug") or ""
    if slug and (not SLUG_PATTERN.match(slug) or len(slug) > _max_length(Strategy, "slug")):
        problems.append(spec.where_of("slug").problem("slug", f"'{slug}' is not a slug: use lower-case letters, digits and hyphens"))
    for name, limit in (("title", _max_length(Strategy, "title")), ("short_title", _max_length(Strategy, "short_title"))):
        if len(values.get(name) or "") > limit:
            problems.append(spec.where_of(name).problem(name, f"Must be {limit} characters or fewer"))
    if values.get("owner") and values["owner"] not in known.organisations:
        problems.append(spec.where_of("owner").problem("owner", f"Unknown organisation '{values['owner']}'"))
    if values.get("governance_body") and values["governance_body"] not in known.bodies:
        problems.append(spec.where_of("governance_body").problem("governance_body", f"Unknown governance body '{values['governance_body']}'"))
    if values.get("start_date") and values.get("end_date") and values["end_date"] < values["start_date"]:
        problems.append(spec.where_of("end_date").problem("end_date", "The end date is before the start date"))

    declared: dict[str, Where] = {}
    for period in spec.periods:
        where = period.where
        if not period.label:
            problems.append(where.problem("label", "Enter the period's label, e.g. June 2023"))
        elif len(period.label) > _max_length(ReportingPeriod, "label"):
            problems.append(where.problem("label", f"Must be {_max_length(ReportingPeriod, 'label')} characters or fewer"))
        elif period.label in declared and not spec.file.lower().endswith(".xlsx"):
            problems.append(where.problem("label", f"Period '{period.label}' is declared twice (also at {declared[period.label].row})"))
        start_name, end_name = ("period_start", "period_end") if where.sheet else ("start", "end")
        if period.start is None:
            problems.append(where.problem(start_name, f"Enter the date period '{period.label}' starts"))
        if period.end is None:
            problems.append(where.problem(end_name, f"Enter the date period '{period.label}' ends"))
        if period.start and period.end:
            if period.end < period.start:
                problems.append(where.problem(end_name, f"Period '{period.label}' ends before it starts"))
            stored = known.periods.get(period.label)
            if stored and stored != (period.start, period.end):
                problems.append(where.problem(start_name, (
                    f"A reporting period called '{period.label}' already exists from {stored[0]:%Y-%m-%d} "
                    f"to {stored[1]:%Y-%m-%d}; use those dates or another label")))
        if period.label:
            declared.setdefault(period.label, where)

    levels = len(values.get("level_names") or [])
    codes: dict[str, Where] = {}
    siblings: dict[int | None, int] = {}
    for item in spec.items:
        where = item.where
        if not item.title:
            problems.append(where.problem("title", "Enter the item's title"))
        if item.code:
            if len(item.code) > _max_length(StrategyItem, "code"):
                problems.append(where.problem("code", f"Must be {_max_length(StrategyItem, 'code')} characters or fewer"))
            elif item.code in codes:
                problems.append(where.problem("code", f"Code '{item.code}' is used twice (also at {_row_text(codes[item.code])})"))
            codes.setdefault(item.code, where)
        if len(item.short_title) > _max_length(StrategyItem, "short_title"):
            problems.append(where.problem("short_title", f"Must be {_max_length(StrategyItem, 'short_title')} characters or fewer"))
        if levels and item.depth >= levels:
            problems.append(where.problem("parent_code" if where.sheet else "items", (
                f"This item is at level {item.depth + 1} but level_names names only {levels} levels")))
        if len(item.path) > _max_length(StrategyItem, "path"):
            problems.append(where.problem("parent_code" if where.sheet else "items", "The tree is nested too deeply"))
        siblings[item.parent] = siblings.get(item.parent, 0) + 1
        if siblings[item.parent] == MAX_SIBLINGS + 1:
            problems.append(where.problem("title", f"An item can have at most {MAX_SIBLINGS} items directly under it"))

    references: dict[str, Where] = {}
    for action in spec.actions:
        where = action.where
        if not action.reference:
            problems.append(where.problem("reference", "Enter the action's reference, unique in the strategy"))
        elif len(action.reference) > _max_length(Action, "reference"):
            problems.append(where.problem("reference", f"Must be {_max_length(Action, 'reference')} characters or fewer"))
        elif action.reference in references:
            problems.append(where.problem("reference", f"Reference '{action.reference}' is used twice (also at {_row_text(references[action.reference])})"))
        if action.reference:
            references.setdefault(action.reference, where)
        if not action.title:
            problems.append(where.problem("title", "Enter the action's title"))
        elif len(action.title) > _max_length(Action, "title"):
            problems.append(where.problem("title", f"Must be {_max_length(Action, 'title')} characters or fewer (it has {len(action.title)}); put the full wording in description"))
        if not action.lead:
            problems.append(where.problem("lead", "Enter at least one lead organisation"))
        for name, slugs, keys in (("lead", action.lead, action.lead_keys), ("support", action.support, action.support_keys)):
            unknown = [(s, key) for s, key in zip(slugs, keys) if s not in known.organisations]
            if unknown and where.sheet:  # one cell: one problem naming them all
                listed = ", ".join(f"'{s}'" for s, _key in unknown)
                problems.append(where.problem(name, f"Unknown organisation{'s' if len(unknown) > 1 else ''} {listed}"))
            else:
                for slug_value, key in unknown:
                    problems.append(where.problem(name, f"Unknown organisation '{slug_value}'", key=key))
        if action.governance_body and action.governance_body not in known.bodies:
            problems.append(where.problem("governance_body", f"Unknown governance body '{action.governance_body}'"))
        if action.start_date and action.due_date and action.due_date < action.start_date:
            problems.append(where.problem("due_date", "The due date is before the start date"))
        if len(action.timescale) > _max_length(Action, "timescale"):
            problems.append(where.problem("timescale", f"Must be {_max_length(Action, 'timescale')} characters or fewer"))

    seen_updates: dict[tuple[int, str], Where] = {}
    for update in spec.progress:
        where = update.where
        if not update.period:
            problems.append(where.problem("period", "Enter the reporting period"))
        elif update.period not in declared:
            hint = "give period_start and period_end on one of its rows" if where.sheet else "add it to periods"
            problems.append(where.problem("period", f"Period '{update.period}' is not declared; {hint}"))
        if update.action >= 0 and update.period:
            key = (update.action, update.period)
            if key in seen_updates:
                problems.append(where.problem("period", f"Progress for '{update.period}' is given twice for this action (also at {_row_text(seen_updates[key])})"))
            seen_updates.setdefault(key, where)
        if not update.actions_taken and not update.next_steps:
            problems.append(where.problem("actions_taken", "Enter the actions taken in the period, or the next steps"))
        if update.organisation and update.organisation not in known.organisations:
            problems.append(where.problem("organisation", f"Unknown organisation '{update.organisation}'"))
    return problems


def _row_text(where: Where) -> str:
    return f"row {where.row}" if where.sheet else str(where.row)


def _across_files_check(specs: list[StrategySpec]) -> list[ImportProblem]:
    problems = []
    slugs: dict[str, str] = {}
    periods: dict[str, tuple] = {}
    for spec in specs:
        slug = spec.values.get("slug")
        if slug and slug in slugs:
            problems.append(spec.where_of("slug").problem("slug", f"Strategy '{slug}' is also in {slugs[slug]}"))
        elif slug:
            slugs[slug] = spec.file
        for period in spec.periods:
            dates = (period.start, period.end, spec.file)
            other = periods.setdefault(period.label, dates)
            if other[:2] != dates[:2] and other[2] != spec.file:
                name = "period_start" if period.where.sheet else "start"
                problems.append(period.where.problem(name, f"Period '{period.label}' has other dates in {other[2]}"))
    return problems


# Writing ------------------------------------------------------------------------------------------


def strategy_import(*, paths: Sequence[str | Path], user=None) -> list[StrategyImportResult]:
    """Import strategy files all-or-nothing. Raises ImportFailed (nothing written) when any file
    has any problem. `user` is None for the command line."""
    if user is not None and not access.can_manage_strategies(user):
        raise PermissionDenied("Only strategy managers can import strategies.")
    specs = strategy_files_check(paths)
    with transaction.atomic():
        known = _Known.load()
        return [_strategy_write(spec, known, user) for spec in specs]


def _chunks(values: Sequence, size: int = BATCH) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _rows_insert(model: type[models.Model], rows: list[dict]) -> None:
    """Insert plain rows (all with the same keys, given as field attnames) with multi-row INSERT
    statements. bulk_create builds and compiles an object per row, which dominated importing tens
    of thousands of actions; dates and times still go through each field's own preparation."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    prepared = [
        field.get_db_prep_save if isinstance(field, (models.DateField, models.DateTimeField)) else None
        for field in fields
    ]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    one_row = f"({', '.join(['%s'] * len(fields))})"
    # The backend's own limit on parameters per statement decides the batch size, as for bulk_create.
    size = max(1, min(connection.ops.bulk_batch_size(fields, rows), 2 * BATCH))
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, size):
            params = []
            for row in chunk:
                params.extend(prepare(row[name], connection) if prepare else row[name]
                              for name, prepare in zip(names, prepared))
            cursor.execute(head + ", ".join([one_row] * len(chunk)), params)


def _strategy_write(spec: StrategySpec, known: _Known, user) -> StrategyImportResult:
    values = spec.values
    strategy = Strategy.objects.select_for_update().filter(slug=values["slug"]).first()
    result = StrategyImportResult(file=Path(spec.file).name, slug=values["slug"], title=values["title"],
                                  created=strategy is None)
    before = snapshot(strategy, STRATEGY_SNAPSHOT_FIELDS) if strategy else {}
    if strategy is None:
        next_order = (Strategy.objects.aggregate(last=Max("order"))["last"] or 0) + 1
        strategy = Strategy(slug=values["slug"], order=next_order)
    strategy.title, strategy.short_title = values["title"], values["short_title"]
    strategy.summary, strategy.background = values["summary"], values["background"]
    strategy.level_names = values["level_names"]
    strategy.start_date, strategy.end_date = values["start_date"], values["end_date"]
    strategy.owner_id = known.organisations.get(values.get("owner"))
    strategy.governance_body_id = known.bodies.get(values.get("governance_body"))
    strategy.save()

    item_ids, unmatched_item_ids = _items_write(spec, strategy, result)
    action_ids = _actions_write(spec, strategy, item_ids, known, result)
    # Only now, with the actions the file keeps moved to their new items, can old items go.
    for chunk in _chunks(sorted(unmatched_item_ids)):
        StrategyItem.objects.filter(pk__in=chunk).delete()
    result.items_removed = len(unmatched_item_ids)
    _progress_write(spec, action_ids, known, user, result)

    after = snapshot(strategy, STRATEGY_SNAPSHOT_FIELDS)
    change_record(actor=user, instance=strategy, action=ChangeAction.IMPORT, before=before,
                  after={**after, "file": result.file, "import": result.as_dict()})
    return result


def _items_write(spec: StrategySpec, strategy: Strategy, result: StrategyImportResult) -> tuple[list[int], list[int]]:
    """Create and update items so the tree is the file's. Returns each spec item's id and the ids
    of stored items the file no longer has, for removal once their actions have moved."""
    existing = list(StrategyItem.objects.filter(strategy=strategy))
    by_code = {item.code: item for item in existing if item.code}
    by_path = {item.path: item for item in existing}
    file_codes = {item.code for item in spec.items if item.code}

    matched: list[StrategyItem | None] = []
    claimed: set[int] = set()
    for item in spec.items:
        found = by_code.get(item.code) if item.code else None
        if found is None and not item.code:
            candidate = by_path.get(item.path)
            if candidate is not None and candidate.pk not in claimed and candidate.code not in file_codes:
                found = candidate
        if found is not None:
            claimed.add(found.pk)
        matched.append(found)
    unmatched = [item for item in existing if item.pk not in claimed]

    # Paths and codes are unique in a strategy: if any item takes a path or code another now holds,
    # first move every existing item out of the way.
    clash = any(
        (by_path.get(item.path) not in (None, found)) or (item.code and by_code.get(item.code) not in (None, found))
        for item, found in zip(spec.items, matched)
    )
    if clash:
        for chunk in _chunks(existing):
            for stored in chunk:
                stored.path, stored.code = f"~{stored.pk}", ""
            StrategyItem.objects.bulk_update(chunk, ["path", "code"])

    ids: list[int] = [0] * len(spec.items)
    fields = ["parent_id", "depth", "path", "code", "title", "short_title", "description", "order"]
    for depth in range(max((item.depth for item in spec.items), default=-1) + 1):
        to_create, to_update = [], []
        created_for = []
        for index, item in enumerate(spec.items):
            if item.depth != depth:
                continue
            wanted = {
                "parent_id": ids[item.parent] if item.parent is not None else None, "depth": item.depth,
                "path": item.path, "code": item.code, "title": item.title, "short_title": item.short_title,
                "description": item.description, "order": item.order,
            }
            stored = matched[index]
            if stored is None:
                to_create.append(StrategyItem(strategy=strategy, **wanted))
                created_for.append(index)
                continue
            ids[index] = stored.pk
            if clash or any(getattr(stored, name) != value for name, value in wanted.items()):
                for name, value in wanted.items():
                    setattr(stored, name, value)
                to_update.append(stored)
        StrategyItem.objects.bulk_create(to_create, batch_size=BATCH)
        for index, created in zip(created_for, to_create):
            ids[index] = created.pk
        if to_update:
            StrategyItem.objects.bulk_update(to_update, [f.removesuffix("_id") for f in fields], batch_size=BATCH)
        result.items_created += len(to_create)
    result.items = len(spec.items)
    return ids, [item.pk for item in unmatched]


def _actions_write(spec: StrategySpec, strategy: Strategy, item_ids: list[int], known: _Known,
                   result: StrategyImportResult) -> list[int]:
    """Create, update and remove actions by reference; return each spec action's id."""
    stored_rows = list(Action.objects.filter(item__strategy=strategy).values("id", *ACTION_VALUE_FIELDS))
    stored = {row["reference"]: row for row in stored_rows if row["reference"]}
    lead_model = Action.lead_organisations.through
    support_model = Action.supporting_organisations.through
    stored_leads: dict[int, set[int]] = {}
    for action_id, org_id in lead_model.objects.filter(action__item__strategy=strategy).values_list("action_id", "organisation_id"):
        stored_leads.setdefault(action_id, set()).add(org_id)
    stored_support: dict[int, set[int]] = {}
    for action_id, org_id in support_model.objects.filter(action__item__strategy=strategy).values_list("action_id", "organisation_id"):
        stored_support.setdefault(action_id, set()).add(org_id)

    now = timezone.now()
    ids: list[int] = [0] * len(spec.actions)
    to_create: list[dict] = []
    created_for: list[int] = []
    to_update: list[Action] = []
    relink: list[int] = []  # indexes whose leads or supporters change
    for index, action in enumerate(spec.actions):
        wanted = {
            "item_id": item_ids[action.item], "order": action.order, "reference": action.reference,
            "title": action.title, "description": action.description,
            "governance_body_id": known.bodies.get(action.governance_body), "start_date": action.start_date,
            "due_date": action.due_date, "timescale": action.timescale, "status": action.status,
            "rag": action.rag, "outcome_measures": action.outcome_measures,
        }
        row = stored.pop(action.reference, None)
        if row is None:
            to_create.append({**wanted, "created_at": now, "updated_at": now})
            created_for.append(index)
            relink.append(index)
            continue
        ids[index] = row["id"]
        if any(row[name] != value for name, value in wanted.items()):
            to_update.append(Action(id=row["id"], updated_at=now, **wanted))
        leads = {known.organisations[s] for s in action.lead}
        support = {known.organisations[s] for s in action.support}
        if stored_leads.get(row["id"], set()) != leads or stored_support.get(row["id"], set()) != support:
            relink.append(index)

    # Whatever the file no longer has goes, including actions added without a reference, unless
    # progress has been recorded against it: that work would be lost, so the import is refused.
    kept = set(ids)
    removed = [row["id"] for row in stored_rows if row["id"] not in kept]
    with_progress = []
    for chunk in _chunks(removed):
        with_progress += Action.objects.filter(pk__in=chunk, progress_updates__isnull=False).distinct().values_list("reference", "title")
    if with_progress:
        raise ImportFailed([
            ImportProblem(Path(spec.file).name, "-", "actions",
                          f"'{reference or title}' has progress recorded in Saferhub but is not in this file; add it to "
                          f"the file (or close it in Saferhub and keep it in the file) so its progress is not lost")
            for reference, title in with_progress
        ])
    for chunk in _chunks(removed):
        Action.objects.filter(pk__in=chunk).delete()
    _rows_insert(Action, to_create)
    if created_for:
        # References are unique in the strategy, so they find the new rows' ids.
        new_ids = dict(Action.objects.filter(item__strategy=strategy).values_list("reference", "id"))
        for index in created_for:
            ids[index] = new_ids[spec.actions[index].reference]
    if to_update:
        Action.objects.bulk_update(
            to_update, [f.removesuffix("_id") for f in ACTION_VALUE_FIELDS] + ["updated_at"], batch_size=BATCH)

    changed_ids = [ids[index] for index in relink]
    for chunk in _chunks(changed_ids):
        lead_model.objects.filter(action_id__in=chunk).delete()
        support_model.objects.filter(action_id__in=chunk).delete()
    lead_rows, support_rows = [], []
    for index in relink:
        action = spec.actions[index]
        lead_rows += [{"action_id": ids[index], "organisation_id": known.organisations[s]} for s in dict.fromkeys(action.lead)]
        support_rows += [{"action_id": ids[index], "organisation_id": known.organisations[s]} for s in dict.fromkeys(action.support)]
    _rows_insert(lead_model, lead_rows)
    _rows_insert(support_model, support_rows)

    result.actions = len(spec.actions)
    result.actions_created = len(to_create)
    created = set(created_for)
    result.actions_updated = len({a.id for a in to_update} | {ids[i] for i in relink if i not in created})
    result.actions_removed = len(removed)
    return ids


def _progress_write(spec: StrategySpec, action_ids: list[int], known: _Known, user,
                    result: StrategyImportResult) -> None:
    """Create or revise the progress the file gives. Progress recorded for other periods (in the
    application, say) is kept."""
    periods = {}
    for period in spec.periods:
        if period.label not in periods:
            periods[period.label] = reporting_period_get_or_create(
                label=period.label, start=period.start, end=period.end, kind=period.kind, user=user).pk
    if not spec.progress:
        return
    stored = _progress_stored(sorted({action_ids[u.action] for u in spec.progress}), list(periods.values()))
    now = timezone.now()
    to_create, to_update = [], []
    for update in spec.progress:
        action = spec.actions[update.action]
        wanted = {
            "actions_taken": update.actions_taken, "next_steps": update.next_steps,
            "status": update.status or action.status, "rag": update.rag,
            "organisation_id": known.organisations.get(update.organisation or (action.lead[0] if action.lead else None)),
        }
        key = (action_ids[update.action], periods[update.period])
        row = stored.get(key)
        if row is None:
            to_create.append({"action_id": key[0], "period_id": key[1], "recorded_by_id": user.pk if user else None,
                              "recorded_at": now, **wanted})
        elif any(row[name] != value for name, value in wanted.items()):
            to_update.append(ProgressUpdate(id=row["id"], recorded_by=user, recorded_at=now, **wanted))
    _rows_insert(ProgressUpdate, to_create)
    if to_update:
        ProgressUpdate.objects.bulk_update(
            to_update, ["actions_taken", "next_steps", "status", "rag", "organisation", "recorded_by", "recorded_at"],
            batch_size=BATCH)
    result.progress = len(spec.progress)
    result.progress_created = len(to_create)
    result.progress_updated = len(to_update)


def _progress_stored(action_ids: list[int], period_ids: list[int]) -> dict:
    stored = {}
    for chunk in _chunks(action_ids):
        for row in ProgressUpdate.objects.filter(action_id__in=chunk, period_id__in=period_ids).values(
                "id", "action_id", "period_id", *PROGRESS_VALUE_FIELDS):
            stored[(row["action_id"], row["period_id"])] = row
    return stored
