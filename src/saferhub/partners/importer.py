"""Reading and checking the partnership data file (organisations and governance bodies) before
anything is written; `partners.services.partnership_import` writes what this returns."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from saferhub.core.importing import ImportFailed, ImportProblem
from saferhub.partners.models import GovernanceBody, GovernanceBodyKind, Organisation, OrganisationType

PARTNERSHIP_FILE = Path(__file__).resolve().parent / "data" / "partnership.yaml"

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ORGANISATION_KEYS = {"slug", "name", "short_name", "type", "aliases", "website", "active"}
BODY_KEYS = {
    "slug", "name", "kind", "purpose", "reports_to", "chair_organisation", "chair_title", "members",
    "meeting_frequency", "established",
}


@dataclass
class OrganisationRecord:
    slug: str
    name: str
    short_name: str
    type: str
    aliases: list[str]
    website: str
    active: bool


@dataclass
class BodyRecord:
    slug: str
    name: str
    kind: str
    purpose: str
    reports_to: str
    chair_organisation: str
    chair_title: str
    members: list[str]
    meeting_frequency: str
    established: str


@dataclass
class PartnershipData:
    file: str
    organisations: list[OrganisationRecord] = field(default_factory=list)
    bodies: list[BodyRecord] = field(default_factory=list)


class _Reader:
    """Collects every problem in one file instead of stopping at the first."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[ImportProblem] = []

    def problem(self, path: str, field_name: str, message: str) -> None:
        self.problems.append(ImportProblem(self.file, path, field_name, message))

    def text(self, entry: dict, key: str, path: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = entry.get(key)
        if value is None:
            value = ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.problem(f"{path}.{key}", key, "Enter text")
            return ""
        value = value.strip()
        if required and not value:
            self.problem(f"{path}.{key}", key, f"Enter the {key.replace('_', ' ')}")
        elif max_length and len(value) > max_length:
            self.problem(f"{path}.{key}", key, f"Must be {max_length} characters or fewer (it has {len(value)})")
        return value

    def slug_list(self, entry: dict, key: str, path: str) -> list[str]:
        value = entry.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(f"{path}.{key}", key, "Enter a list of slugs")
            return []
        return [v.strip() for v in value if v.strip()]

    def unknown_keys(self, entry: dict, allowed: set[str], path: str) -> None:
        for key in entry:
            if key not in allowed:
                self.problem(f"{path}.{key}", str(key), f"Unknown field; expected one of {', '.join(sorted(allowed))}")


def partnership_file_parse(path: str | Path = PARTNERSHIP_FILE) -> PartnershipData:
    """Read and check a partnership file against itself and the database. Raises ImportFailed
    listing every problem."""
    path = Path(path)
    reader = _Reader(str(path))
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as error:
        raise ImportFailed([ImportProblem(str(path), "-", "file", f"Cannot read the file: {error.strerror or error}")])
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        row = f"line {mark.line + 1}" if mark else "-"
        raise ImportFailed([ImportProblem(str(path), row, "file", f"Not valid YAML: {getattr(error, 'problem', error)}")])
    if not isinstance(document, dict):
        raise ImportFailed([ImportProblem(str(path), "-", "file", "Expected a mapping with 'organisations' and 'bodies'")])
    reader.unknown_keys(document, {"organisations", "bodies"}, "")

    data = PartnershipData(file=str(path))
    _organisations_read(reader, document.get("organisations") or [], data)
    _bodies_read(reader, document.get("bodies") or [], data)
    _references_check(reader, data)
    if reader.problems:
        raise ImportFailed(reader.problems)
    return data


def _identity_read(reader: _Reader, entry: dict, path: str, seen_slugs: dict[str, str], seen_names: dict[str, str],
                   choice_field: str, choices) -> tuple[str, str, str]:
    """The slug, name and type (or kind) every organisation and body has: checked, and unique."""
    slug = reader.text(entry, "slug", path, required=True, max_length=80)
    if slug and not SLUG_PATTERN.match(slug):
        reader.problem(f"{path}.slug", "slug", f"'{slug}' is not lower-case-with-hyphens")
    elif slug in seen_slugs:
        reader.problem(f"{path}.slug", "slug", f"'{slug}' is already used at {seen_slugs[slug]}")
    name = reader.text(entry, "name", path, required=True, max_length=200)
    if name and name in seen_names:
        reader.problem(f"{path}.name", "name", f"'{name}' is already used at {seen_names[name]}")
    choice = reader.text(entry, choice_field, path, required=True)
    if choice and choice not in choices.values:
        reader.problem(f"{path}.{choice_field}", choice_field, f"'{choice}' is not one of {', '.join(choices.values)}")
    return slug, name, choice


def _organisations_read(reader: _Reader, entries: Any, data: PartnershipData) -> None:
    if not isinstance(entries, list):
        reader.problem("organisations", "organisations", "Enter a list of organisations")
        return
    seen_slugs: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for index, entry in enumerate(entries):
        path = f"organisations[{index}]"
        if not isinstance(entry, dict):
            reader.problem(path, "organisation", "Expected a mapping of fields")
            continue
        reader.unknown_keys(entry, ORGANISATION_KEYS, path)
        slug, name, org_type = _identity_read(reader, entry, path, seen_slugs, seen_names, "type", OrganisationType)
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            reader.problem(f"{path}.aliases", "aliases", "Enter a list of names")
            aliases = []
        active = entry.get("active", True)
        if not isinstance(active, bool):
            reader.problem(f"{path}.active", "active", "Enter true or false")
            active = True
        website = reader.text(entry, "website", path, max_length=200)
        if website and not website.startswith(("https://", "http://")):
            reader.problem(f"{path}.website", "website", "Enter a full web address starting https://")
        seen_slugs.setdefault(slug, path)
        seen_names.setdefault(name, path)
        data.organisations.append(OrganisationRecord(
            slug=slug, name=name, short_name=reader.text(entry, "short_name", path, max_length=60),
            type=org_type, aliases=[a.strip() for a in aliases if a.strip()], website=website, active=active,
        ))


def _bodies_read(reader: _Reader, entries: Any, data: PartnershipData) -> None:
    if not isinstance(entries, list):
        reader.problem("bodies", "bodies", "Enter a list of governance bodies")
        return
    seen_slugs: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    for index, entry in enumerate(entries):
        path = f"bodies[{index}]"
        if not isinstance(entry, dict):
            reader.problem(path, "body", "Expected a mapping of fields")
            continue
        reader.unknown_keys(entry, BODY_KEYS, path)
        slug, name, kind = _identity_read(reader, entry, path, seen_slugs, seen_names, "kind", GovernanceBodyKind)
        seen_slugs.setdefault(slug, path)
        seen_names.setdefault(name, path)
        data.bodies.append(BodyRecord(
            slug=slug, name=name, kind=kind,
            purpose=reader.text(entry, "purpose", path),
            reports_to=reader.text(entry, "reports_to", path),
            chair_organisation=reader.text(entry, "chair_organisation", path),
            chair_title=reader.text(entry, "chair_title", path, max_length=200),
            members=reader.slug_list(entry, "members", path),
            meeting_frequency=reader.text(entry, "meeting_frequency", path, max_length=60),
            established=reader.text(entry, "established", path, max_length=60),
        ))


def _references_check(reader: _Reader, data: PartnershipData) -> None:
    """Slugs may refer to records in the file (in any order) or already in the database; names
    must not clash with a different record already stored."""
    file_orgs = {o.slug for o in data.organisations}
    file_bodies = {b.slug for b in data.bodies}
    known_orgs = file_orgs | set(Organisation.objects.values_list("slug", flat=True))
    known_bodies = file_bodies | set(GovernanceBody.objects.values_list("slug", flat=True))

    stored_org_names = dict(Organisation.objects.values_list("name", "slug"))
    for index, org in enumerate(data.organisations):
        owner = stored_org_names.get(org.name)
        if owner and owner != org.slug and owner not in file_orgs:
            reader.problem(f"organisations[{index}].name", "name", f"'{org.name}' is already the name of organisation '{owner}'")
    stored_body_names = dict(GovernanceBody.objects.values_list("name", "slug"))
    for index, body in enumerate(data.bodies):
        path = f"bodies[{index}]"
        owner = stored_body_names.get(body.name)
        if owner and owner != body.slug and owner not in file_bodies:
            reader.problem(f"{path}.name", "name", f"'{body.name}' is already the name of governance body '{owner}'")
        if body.reports_to and body.reports_to not in known_bodies:
            reader.problem(f"{path}.reports_to", "reports_to", f"Unknown governance body '{body.reports_to}'")
        if body.reports_to and body.reports_to == body.slug:
            reader.problem(f"{path}.reports_to", "reports_to", "A body cannot report to itself")
        if body.chair_organisation and body.chair_organisation not in known_orgs:
            reader.problem(f"{path}.chair_organisation", "chair_organisation", f"Unknown organisation '{body.chair_organisation}'")
        for position, member in enumerate(body.members):
            if member not in known_orgs:
                reader.problem(f"{path}.members[{position}]", "members", f"Unknown organisation '{member}'")

    # A reporting line must end at the top; follow each through the file and the database.
    stored_lines = {
        slug: parent or ""
        for slug, parent in GovernanceBody.objects.values_list("slug", "reports_to__slug")
    }
    lines = {**stored_lines, **{b.slug: b.reports_to for b in data.bodies}}
    for index, body in enumerate(data.bodies):
        seen, current = set(), body.reports_to
        while current and current != body.slug and current not in seen:
            seen.add(current)
            current = lines.get(current, "")
        if current == body.slug and body.reports_to != body.slug:
            reader.problem(f"bodies[{index}].reports_to", "reports_to", "Reporting lines go round in a circle")
