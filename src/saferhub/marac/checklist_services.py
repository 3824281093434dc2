"""Risk checklists as versioned data: reading a checklist file, loading it as a new current version
(licensed wording included), and finding the version a new referral is written against."""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import change_record
from saferhub.marac.models import ChecklistQuestion, ChecklistSection, RiskChecklist
from saferhub.partners.models import Role

DEFAULT_CHECKLIST = Path(__file__).resolve().parent / "data" / "checklist.yaml"
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
MAX_FILE_BYTES = 512 * 1024


def _source(file) -> tuple[str, str]:
    """The text and the name of a path, an uploaded file or any binary or text file object."""
    if isinstance(file, (str, Path)):
        path = Path(file)
        try:
            return path.read_text(encoding="utf-8"), path.name
        except FileNotFoundError:
            raise ValidationError({"file": f"{path}: no such file"}) from None
        except (OSError, UnicodeDecodeError) as error:
            raise ValidationError({"file": f"{path.name}: cannot be read as UTF-8 text ({error})"}) from None
    name = Path(getattr(file, "name", "") or "checklist file").name
    content: bytes | str = file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError({"file": f"{name}: the file must be smaller than 512 KB"})
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError({"file": f"{name}: the file must be UTF-8 text"}) from None
    return content, name


def _questions(rows, section: str, where: str, problems: list[str]) -> list[dict]:
    if not isinstance(rows, list):
        problems.append(f"{where}: must be a list of questions")
        return []
    result, numbers = [], set()
    for index, row in enumerate(rows):
        here = f"{where}[{index}]"
        if not isinstance(row, dict):
            problems.append(f"{here}: must be a mapping with number, key and topic")
            continue
        unknown = set(row) - {"number", "key", "topic", "wording", "triggers_stalking_screen"}
        if unknown:
            problems.append(f"{here}: unknown field {', '.join(sorted(map(str, unknown)))}")
        number, key = row.get("number"), str(row.get("key") or "").strip()
        topic, wording = str(row.get("topic") or "").strip(), str(row.get("wording") or "").strip()
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 200:
            problems.append(f"{here}: number must be a whole number from 1 to 200")
        elif number in numbers:
            problems.append(f"{here}: number {number} is used twice in {where}")
        else:
            numbers.add(number)
        if not KEY.match(key):
            problems.append(f"{here}: key must be lower-case letters, digits and hyphens (up to 60)")
        if not topic:
            problems.append(f"{here}: enter a topic")
        elif len(topic) > 200:
            problems.append(f"{here}: the topic must be 200 characters or fewer")
        if len(wording) > 2000:
            problems.append(f"{here}: the wording must be 2,000 characters or fewer")
        triggers = row.get("triggers_stalking_screen", False)
        if not isinstance(triggers, bool):
            problems.append(f"{here}: triggers_stalking_screen must be true or false")
        elif triggers and section != ChecklistSection.MAIN:
            problems.append(f"{here}: only a question of the main checklist can open the stalking screen")
        result.append({"section": section, "number": number, "key": key, "topic": topic, "wording": wording,
                       "triggers_stalking_screen": triggers is True})
    return result


def checklist_parse(text: str, name: str) -> dict:
    """A checklist file as {name, licence_note, questions}; every problem names the file and where."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValidationError({"file": f"{name}: not valid YAML{where}"}) from None
    if not isinstance(document, dict):
        raise ValidationError({"file": f"{name}: must be a mapping with name and questions"})
    problems = []
    unknown = set(document) - {"name", "licence_note", "questions", "stalking_screen"}
    if unknown:
        problems.append(f"unknown field {', '.join(sorted(map(str, unknown)))}")
    title = str(document.get("name") or "").strip()
    if not title or len(title) > 120:
        problems.append("name: enter the checklist's name (up to 120 characters)")
    licence = str(document.get("licence_note") or "").strip()
    if len(licence) > 300:
        problems.append("licence_note: must be 300 characters or fewer")
    main = _questions(document.get("questions"), ChecklistSection.MAIN, "questions", problems)
    stalking = _questions(document.get("stalking_screen") or [], ChecklistSection.STALKING, "stalking_screen", problems)
    if not main and "questions" in document:
        problems.append("questions: the checklist needs at least one question")
    if "questions" not in document:
        problems.append("questions: missing")
    keys = [q["key"] for q in main + stalking if q["key"]]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"key '{key}' is used by more than one question")
    triggers = [q for q in main if q["triggers_stalking_screen"]]
    if stalking and len(triggers) != 1:
        problems.append("questions: exactly one question must have triggers_stalking_screen: true to open the stalking screen")
    if triggers and not stalking:
        problems.append("stalking_screen: a question opens the stalking screen, so the file needs its questions")
    if problems:
        raise ValidationError({"file": [f"{name}: {problem}" for problem in problems]})
    return {"name": title, "licence_note": licence, "questions": main + stalking}


@transaction.atomic
def checklist_load(*, user, file) -> RiskChecklist:
    """Load a checklist file as the next version of its name, which becomes current. Referrals
    already made keep the version they were made with. Administrators only; `user` None is the
    operator at the command line."""
    if user is not None and not user.has_role(Role.ADMINISTRATOR):
        raise PermissionDenied("Only an administrator can load a risk checklist.")
    text, name = _source(file)
    parsed = checklist_parse(text, name)
    latest = RiskChecklist.objects.filter(name=parsed["name"]).aggregate(latest=Max("version"))["latest"] or 0
    RiskChecklist.objects.filter(is_current=True).update(is_current=False)
    checklist = RiskChecklist.objects.create(name=parsed["name"], version=latest + 1, is_current=True,
                                             licence_note=parsed["licence_note"])
    ChecklistQuestion.objects.bulk_create([ChecklistQuestion(checklist=checklist, **q) for q in parsed["questions"]])
    change_record(actor=user, instance=checklist, action=ChangeAction.CREATE, after={
        "name": checklist.name, "version": checklist.version, "licence_note": checklist.licence_note,
        "questions": len(parsed["questions"]), "file": name})
    return checklist


def checklist_current() -> RiskChecklist:
    """The version new referrals are written against. Before anyone has loaded one, the neutral
    checklist Saferhub ships is installed, so a referral can always be made."""
    checklist = RiskChecklist.objects.filter(is_current=True).first()
    if checklist is None:
        checklist = checklist_load(user=None, file=DEFAULT_CHECKLIST)
    return checklist


def checklist_questions(checklist: RiskChecklist) -> tuple[list[ChecklistQuestion], list[ChecklistQuestion]]:
    """The main checklist and the stalking screen, each in order."""
    questions = list(checklist.questions.order_by("number"))
    return ([q for q in questions if q.section == ChecklistSection.MAIN],
            [q for q in questions if q.section == ChecklistSection.STALKING])


def checklist_list() -> list[RiskChecklist]:
    from django.db.models import Count

    return list(RiskChecklist.objects.annotate(question_count=Count("questions")).order_by("-is_current", "name", "-version"))
