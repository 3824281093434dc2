"""The synthetic MARAC generator: what it makes matches what the services make (cases, parties,
people with their blind indexes, answers and criteria), in the shares DOMAIN.md §3 gives, the same
for the same seed; and the demo data loads MARAC once, keeping what was changed since."""
import datetime as dt

import pytest
from django.utils import timezone

from saferhub.core.encryption import name_dob_index
from saferhub.core.factories import OrganisationFactory
from saferhub.marac import criteria
from saferhub.marac.models import (
    ActionStatus, AgendaItem, AgendaSection, Attendance, ChecklistAnswer, MaracAction, MaracMeeting, MaracReferral,
    MeetingStatus, ReferralChild, ReferralStatus, RepeatMatch,
)
from saferhub.marac.synthetic import marac_generate
from saferhub.marac.tests.factories import area_make
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.blocking import blocking_keys
from saferhub.people.models import Case, CaseParticipant, CaseParty, Disclosure, IndexKind, Person, PersonIndex

pytestmark = pytest.mark.django_db


@pytest.fixture
def partnership(organisation, other_organisation, make_user):
    council = OrganisationFactory(slug="north-yorkshire-council", name="North Yorkshire Council", type="local_authority")
    health = OrganisationFactory(slug="health", name="Test Health Trust", type="health")
    probation = OrganisationFactory(slug="probation", name="Probation", type="probation")
    coordinator = make_user(Role.CONTRIBUTOR, org=organisation, username="coord", personal_data_scope=PersonalDataScope.ALL,
                            email="coord@example.org")
    idva = make_user(Role.CONTRIBUTOR, org=other_organisation, username="idva1", personal_data_scope=PersonalDataScope.PARTIES,
                     email="idva1@example.org")
    area = area_make(organisation=organisation, coordinators=[coordinator], first_meeting_date=dt.date(2020, 1, 2),
                     adult_female_population=300000)
    return {"area": area, "coordinator": coordinator, "idva": idva, "council": council, "health": health,
            "probation": probation}


def test_generates_cases_as_the_services_make_them(partnership):
    result = marac_generate(cases=60, seed=7)
    referrals = list(MaracReferral.objects.select_related("case", "area"))
    assert result.cases == len(referrals) == 60
    assert Case.objects.count() == 60
    area = partnership["area"]
    for referral in referrals[:20]:
        case = referral.case
        assert case.kind == "marac" and case.reference.startswith("MARAC-")
        assert case.owner_id == referral.referring_organisation_id
        parties = set(CaseParty.objects.filter(case=case).values_list("organisation_id", flat=True))
        assert {referral.referring_organisation_id, area.coordinating_organisation_id} <= parties
        # Every party but the owner came with a recorded disclosure on the basis of safeguarding.
        disclosed = set(Disclosure.objects.filter(case=case, lawful_basis="safeguarding").values_list("to_organisation_id", flat=True))
        assert parties - {case.owner_id} == disclosed
        roles = list(CaseParticipant.objects.filter(case=case).values_list("role", flat=True))
        assert roles.count("victim") == 1 and roles.count("perpetrator") >= 1
        assert roles.count("child") == referral.children.count() and referral.has_children == (roles.count("child") > 0)
        # Answers: every main question, the stalking screen only when the stalking question is yes.
        answers = list(ChecklistAnswer.objects.filter(referral=referral).select_related("question"))
        main = [a for a in answers if a.question.section == "main"]
        assert len(main) == 24
        assert referral.score == sum(a.answer == "yes" for a in main)
        stalking_yes = any(a.answer == "yes" and a.question.triggers_stalking_screen for a in main)
        assert len(answers) == 24 + (11 if stalking_yes else 0)
        # Criteria explained as criteria_evaluate explains them, and at least one met.
        expected = criteria.criteria_evaluate(area=area, score=referral.score, incidents=referral.incidents_in_window,
                                              judgement_chosen=referral.professional_judgement,
                                              judgement_reasons=referral.professional_judgement_reasons,
                                              is_repeat=referral.is_repeat)
        assert referral.criteria_explained == [r.as_dict() for r in expected]
        assert referral.criteria_met == criteria.criteria_met(expected) != []
    # People: encrypted at rest, with the name + date of birth index and the blocking keys.
    person = Person.objects.first()
    digests = set(PersonIndex.objects.filter(person=person).values_list("kind", "digest"))
    assert (IndexKind.NAME_DOB, name_dob_index(person.first_name, person.last_name, person.date_of_birth)) in digests
    assert set(blocking_keys(person.first_name, person.last_name, person.date_of_birth)) <= digests
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT first_name FROM people_person WHERE id = %s", [person.pk])
        assert cursor.fetchone()[0].startswith("fernet:")
    assert ReferralChild.objects.filter(age_at_referral__gt=17).count() == 0


def test_meetings_actions_and_the_waiting_referrals(partnership):
    result = marac_generate(cases=60, seed=7)
    today = timezone.localdate()
    held = MaracMeeting.objects.filter(status=MeetingStatus.HELD)
    assert held.count() >= 70 and all(m.starts_at.weekday() == dt.date(2020, 1, 2).weekday() for m in held[:10])
    upcoming = MaracMeeting.objects.filter(status=MeetingStatus.PLANNED)
    assert upcoming.count() == 1 and upcoming.get().starts_at.date() >= today
    assert Attendance.objects.filter(meeting=upcoming.get()).exists()
    heard = MaracReferral.objects.filter(meeting__status=MeetingStatus.HELD)
    assert heard.exists() and all(r.referred_at < r.meeting.starts_at for r in heard)
    assert MaracReferral.objects.filter(status=ReferralStatus.ACCEPTED, meeting__isnull=True).count() == result.waiting > 0
    assert MaracReferral.objects.filter(status=ReferralStatus.SUBMITTED).count() == result.submitted
    # Held meetings have minutes and agendas in the order of DOMAIN.md §3.
    meeting = heard.first().meeting
    assert "cases heard" in meeting.minutes
    sections = list(AgendaItem.objects.filter(meeting=meeting).order_by("position").values_list("section", flat=True))
    assert sections == sorted(sections) and sections[0] == AgendaSection.INTRODUCTIONS
    # Actions: some overdue, some in each of the two minute categories, old ones finished.
    actions = MaracAction.objects.all()
    assert actions.count() == result.actions > 100
    overdue = actions.filter(status=ActionStatus.OPEN, deadline__lt=today).count()
    assert overdue == result.overdue > 0
    assert actions.filter(status=ActionStatus.NOT_POSSIBLE).exists() and actions.filter(status=ActionStatus.NOT_UNDERTAKEN).exists()
    assert not actions.filter(status=ActionStatus.OPEN, deadline__lt=today - dt.timedelta(days=30)).exists()
    assert all(a.completed_at is not None for a in actions.exclude(status=ActionStatus.OPEN)[:50])


def test_shares_are_near_the_national_figures(partnership):
    result = marac_generate(cases=600, seed=11, weeks=156)
    assert result.cases == 600
    assert 0.2 <= result.repeats / 600 <= 0.4
    assert 0.27 <= result.non_police / 600 <= 0.43
    assert 0.5 <= result.with_children / 600 <= 0.7
    repeats = MaracReferral.objects.filter(is_repeat=True).select_related("repeat_of")
    assert repeats.count() == result.repeats
    for referral in repeats[:30]:
        assert referral.repeat_of.referred_at < referral.referred_at
        assert (referral.referred_at - referral.repeat_of.referred_at).days <= referral.area.repeat_window_days
        assert "repeat" in referral.criteria_met
        assert RepeatMatch.objects.filter(referral=referral, earlier=referral.repeat_of, within_window=True, exact=True).exists()
        # The same victim and perpetrator: the same register record, or one with the same name and birth date.
        def name_dob(case, role):
            return {name_dob_index(p.first_name, p.last_name, p.date_of_birth)
                    for p in Person.objects.filter(participations__case=case, participations__role=role)}
        assert name_dob(referral.case, "victim") == name_dob(referral.repeat_of.case, "victim")
    # Every criterion is in the mix.
    assert set(result.criteria) == {c.value for c in criteria.Criterion}


def test_same_seed_same_data(partnership):
    marac_generate(cases=30, seed=5)
    first = [(r.case.reference, r.score, r.is_repeat, r.referring_organisation_id) for r in
             MaracReferral.objects.select_related("case").order_by("case__reference")]
    names = sorted(p.full_name for p in Person.objects.all())
    MaracReferral.objects.all().delete()
    Case.objects.all().delete()
    Person.objects.all().delete()
    marac_generate(cases=30, seed=5)
    again = [(r.case.reference, r.score, r.is_repeat, r.referring_organisation_id) for r in
             MaracReferral.objects.select_related("case").order_by("case__reference")]
    assert [row[1:] for row in again] == [row[1:] for row in first]
    assert sorted(p.full_name for p in Person.objects.all()) == names


def test_bad_numbers_and_missing_areas_are_refused(db):
    with pytest.raises(ValueError, match="0 or more"):
        marac_generate(cases=-1)
    with pytest.raises(ValueError, match="MARAC area"):
        marac_generate(cases=5)


@pytest.fixture
def demo_partnership(db):
    from saferhub.partners.services import partnership_import
    from saferhub.people.demo import demo_people_users

    partnership_import()
    demo_people_users()


def test_demo_load_once_then_keeps_what_is_there(demo_partnership):
    from saferhub.marac.demo import demo_marac_load
    from saferhub.marac.models import MaracArea
    from saferhub.partners.models import User

    lines = demo_marac_load(cases=40)
    coordinator = User.objects.get(username="marac.coordinator")
    area = MaracArea.objects.get(slug="north-yorkshire")
    assert coordinator in area.coordinators.all()
    assert MaracReferral.objects.count() == 40
    assert any("agenda" in line for line in lines)
    upcoming = MaracMeeting.objects.filter(area=area, status=MeetingStatus.PLANNED).get()
    assert upcoming.agenda_built_at is not None
    items = AgendaItem.objects.filter(meeting=upcoming)
    assert items.filter(action__isnull=False).exists(), "overdue and incomplete actions are on the next agenda"
    assert items.filter(referral__isnull=False).exists()
    # Changed in the app since: kept; nothing added a second time.
    referral = MaracReferral.objects.order_by("pk").first()
    referral.safe_to_call = not referral.safe_to_call
    referral.save(update_fields=["safe_to_call"])
    MaracArea.objects.filter(pk=area.pk).update(high_risk_threshold=17)
    counts = (Case.objects.count(), Person.objects.count(), MaracAction.objects.count(), MaracMeeting.objects.count())
    again = demo_marac_load(cases=40)
    assert any("kept" in line for line in again)
    assert (Case.objects.count(), Person.objects.count(), MaracAction.objects.count(), MaracMeeting.objects.count()) == counts
    assert MaracReferral.objects.get(pk=referral.pk).safe_to_call == referral.safe_to_call
    assert MaracArea.objects.get(pk=area.pk).high_risk_threshold == 17


def test_demo_marac_command(demo_partnership):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("demo", "marac", "--cases", "25", "--seed", "3", stdout=out)
    assert "25 synthetic referrals" in out.getvalue()
    assert MaracReferral.objects.count() == 25
    call_command("demo", "marac", "--cases", "5", stdout=out)
    assert MaracReferral.objects.count() == 30
    with pytest.raises(CommandError):
        call_command("demo", "marac", "--cases", "-3", stdout=out)
