"""Risk checklists as versioned data: the shipped neutral checklist (24 questions, the stalking
question opening an 11-question screen), loading licensed wording as a new current version while
earlier referrals keep theirs, bad files refused naming where, the command line, and the areas."""
import datetime as dt
import io

import pytest
import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from saferhub.audit.models import ChangeRecord
from saferhub.core.factories import OrganisationFactory
from saferhub.marac.area_services import AREAS_FILE, areas_load, marac_reference_load
from saferhub.marac.checklist_services import DEFAULT_CHECKLIST, checklist_current, checklist_load, checklist_questions
from saferhub.marac.models import MaracArea, RiskChecklist
from saferhub.marac.referral_services import referral_submit
from saferhub.marac.tests.referral_fixtures import *  # noqa: F401,F403
from saferhub.marac.tests.referral_fixtures import referral_input

pytestmark = pytest.mark.django_db
TOPICS_OF_DOMAIN = 24


def _file(text: str, name: str = "checklist.yaml") -> io.BytesIO:
    handle = io.BytesIO(text.encode())
    handle.name = name
    return handle


def _shipped() -> dict:
    return yaml.safe_load(DEFAULT_CHECKLIST.read_text())


def _load_errors(text: str, name: str = "bad.yaml") -> list[str]:
    with pytest.raises(ValidationError) as error:
        checklist_load(user=None, file=_file(text, name))
    return error.value.messages


def test_the_shipped_checklist_has_the_24_topics_and_the_11_question_stalking_screen():
    checklist = checklist_current()
    main, screen = checklist_questions(checklist)
    assert [q.number for q in main] == list(range(1, TOPICS_OF_DOMAIN + 1))
    assert [q.number for q in screen] == list(range(1, 12))
    assert [q.key for q in main if q.triggers_stalking_screen] == ["stalking"] and main[7].key == "stalking"
    assert not any(q.wording for q in main + screen), "only neutral topic labels are shipped"
    assert checklist.version == 1 and checklist.is_current


def test_the_checklist_is_installed_once_however_often_it_is_asked_for():
    assert checklist_current() == checklist_current()
    assert RiskChecklist.objects.count() == 1


def test_loading_makes_a_new_current_version_and_earlier_referrals_keep_theirs(area, referrer, administrator):
    earlier = referral_submit(user=referrer, area=area, referral=referral_input())
    shipped = _shipped()
    shipped["licence_note"] = "Licensed wording, licence 2026-01"
    shipped["questions"][13]["wording"] = "Licensed question fourteen"
    loaded = checklist_load(user=administrator, file=_file(yaml.safe_dump(shipped), "licensed.yaml"))
    assert loaded.version == 2 and loaded.is_current and checklist_current() == loaded
    assert RiskChecklist.objects.get(version=1).is_current is False
    assert loaded.questions.get(key="threats-to-kill").wording == "Licensed question fourteen"
    earlier.refresh_from_db()
    assert earlier.checklist.version == 1 and earlier.answers.first().question.checklist.version == 1
    later = referral_submit(user=referrer, area=area, referral=referral_input(victim_dob=dt.date(1985, 4, 2)))
    assert later.checklist == loaded and later.answers.first().question.checklist == loaded
    record = ChangeRecord.objects.filter(object_id=str(loaded.pk), action="create").get()
    assert record.after["version"] == 2 and record.after["file"] == "licensed.yaml"


def test_only_an_administrator_loads_a_checklist(contributor, manager):
    for user in (contributor, manager):
        with pytest.raises(PermissionDenied):
            checklist_load(user=user, file=DEFAULT_CHECKLIST)


@pytest.mark.parametrize("edit, problem", [
    (lambda d: d["questions"][2].pop("topic"), "bad.yaml: questions[2]: enter a topic"),
    (lambda d: d["questions"][3].update(number=2), "bad.yaml: questions[3]: number 2 is used twice in questions"),
    (lambda d: d["questions"][4].update(key="Bad Key"), "bad.yaml: questions[4]: key must be lower-case letters, digits and hyphens (up to 60)"),
    (lambda d: d["stalking_screen"][0].update(key="stalking"), "bad.yaml: key 'stalking' is used by more than one question"),
    (lambda d: d["questions"][7].update(triggers_stalking_screen=False),
     "bad.yaml: questions: exactly one question must have triggers_stalking_screen: true to open the stalking screen"),
    (lambda d: d["stalking_screen"][1].update(triggers_stalking_screen=True),
     "bad.yaml: stalking_screen[1]: only a question of the main checklist can open the stalking screen"),
    (lambda d: d.pop("questions"), "bad.yaml: questions: missing"),
    (lambda d: d.update(colour="blue"), "bad.yaml: unknown field colour"),
    (lambda d: d["questions"][0].update(number="one"), "bad.yaml: questions[0]: number must be a whole number from 1 to 200"),
])
def test_a_bad_checklist_is_refused_naming_the_file_and_the_question(edit, problem):
    document = _shipped()
    edit(document)
    assert problem in _load_errors(yaml.safe_dump(document))
    assert RiskChecklist.objects.count() == 0


def test_unreadable_files_are_refused_clearly(tmp_path):
    assert _load_errors("name: [unclosed", "broken.yaml") == ["broken.yaml: not valid YAML at line 1"]
    assert _load_errors("- a list", "list.yaml") == ["list.yaml: must be a mapping with name and questions"]
    with pytest.raises(ValidationError, match="no such file"):
        checklist_load(user=None, file=tmp_path / "absent.yaml")
    binary = io.BytesIO(b"\xff\xfe\x00")
    binary.name = "binary.yaml"
    with pytest.raises(ValidationError, match="UTF-8"):
        checklist_load(user=None, file=binary)


def test_the_command_loads_and_lists_versions(tmp_path):
    shipped = _shipped()
    shipped["licence_note"] = "Licensed"
    path = tmp_path / "licensed.yaml"
    path.write_text(yaml.safe_dump(shipped))
    out = io.StringIO()
    call_command("marac", "checklist", "load", str(DEFAULT_CHECKLIST), stdout=out)
    call_command("marac", "checklist", "load", str(path), stdout=out)
    assert "Loaded Domestic abuse risk checklist v2 with 35 questions; it is now current" in out.getvalue()
    listing = io.StringIO()
    call_command("marac", "checklist", "list", stdout=listing)
    assert listing.getvalue().splitlines() == ["Domestic abuse risk checklist\t2\t35\tcurrent", "Domestic abuse risk checklist\t1\t35"]


def test_the_command_prints_each_problem_and_fails(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: X\nquestions:\n  - {number: 1, key: a}\n  - {number: 1, key: b, topic: B}\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 problems; nothing was loaded"):
        call_command("marac", "checklist", "load", str(path), stderr=err)
    assert err.getvalue().splitlines() == ["bad.yaml: questions[0]: enter a topic", "bad.yaml: questions[1]: number 1 is used twice in questions"]


# Areas --------------------------------------------------------------------------------------------

def test_the_reference_load_makes_both_areas_coordinated_by_the_police_and_a_checklist():
    OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", type="police")
    lines = marac_reference_load()
    areas = {a.slug: a for a in MaracArea.objects.select_related("coordinating_organisation")}
    assert set(areas) == {"north-yorkshire", "york"}
    assert {a.coordinating_organisation.slug for a in areas.values()} == {"north-yorkshire-police"}
    assert all(a.meeting_interval_days == 7 and a.high_risk_threshold == 14 and a.escalation_incidents == 3 for a in areas.values())
    assert areas["north-yorkshire"].adult_female_population > areas["york"].adult_female_population > 0
    assert str(areas["york"].meeting_time) == "10:00:00" and areas["york"].first_meeting_date.isoweekday() == 4
    assert lines[0] == "MARAC areas loaded: North Yorkshire MARAC, York MARAC" and RiskChecklist.objects.filter(is_current=True).exists()
    marac_reference_load()
    assert MaracArea.objects.count() == 2 and RiskChecklist.objects.count() == 1


def test_an_area_file_naming_an_unknown_organisation_is_refused_with_the_row(tmp_path):
    path = tmp_path / "areas.yaml"
    path.write_text(AREAS_FILE.read_text())
    with pytest.raises(ValidationError) as error:
        areas_load(path)
    assert "areas.yaml: areas[0]: coordinating_organisation 'north-yorkshire-police' is not an organisation of the partnership (load partners first)" in error.value.messages
    assert MaracArea.objects.count() == 0


def test_an_area_threshold_of_zero_is_refused(tmp_path):
    OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", type="police")
    path = tmp_path / "areas.yaml"
    path.write_text(AREAS_FILE.read_text().replace("high_risk_threshold: 14", "high_risk_threshold: 0", 1))
    with pytest.raises(ValidationError) as error:
        areas_load(path)
    assert error.value.messages == ["areas.yaml: areas[0]: high_risk_threshold must be a whole number from 1 to 100"]
