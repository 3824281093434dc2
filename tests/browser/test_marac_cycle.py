"""A whole MARAC cycle in a real browser, each member of staff signed in (with their authenticator
code) in a browser context of their own: an IDVA's referral through the form, the coordinator's
queue, scheduling, the agenda in the order of DOMAIN.md §3, attendees signing the confidentiality
statement and entering their agencies' research, the minutes, the action plan, outcomes, and the
next meeting's agenda carrying the incomplete actions in their two minute categories. Every page
visited is checked by axe-core (WCAG 2 A/AA) and no page may log a console error (the CSP included)."""
import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from saferhub.accounts.testing import totp_device
from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.marac.checklist_services import checklist_current, checklist_questions
from saferhub.marac.models import (
    ActionStatus, AgencyResearch, AgendaItem, AgendaSection, Attendance, MaracAction, MaracArea, MaracMeeting,
    MaracReferral, MeetingStatus, ReferralStatus,
)
from saferhub.partners.models import OrganisationType, PersonalDataScope, Role
from tests.browser.conftest import axe_check, enter_two_factor_code

AGENDA_ORDER = [
    "1. Introductions and confidentiality statement",
    "2. Incomplete actions from the last meeting",
    "3. New cases involving children",
    "4. Adult-only cases",
    "5. Cases 12 months since their last MARAC",
    "6. Any other business",
]


@pytest.fixture
def staff_browser(browser, live_server):
    """Open a browser context for one member of staff and sign them in through the sign-in page and
    the authenticator code, as they would. Any console error in any context fails the test."""
    contexts, errors = [], []

    def open_as(username: str):
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda msg: errors.append(f"{username}: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"{username}: {exc}"))
        page.goto("/sign-in/")
        axe_check(page)
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill("correct-horse-battery")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_load_state()
        assert "/account/two-factor/verify/" in page.url, f"{username} was not asked for an authenticator code"
        axe_check(page)
        enter_two_factor_code(page, username)
        assert "/account/two-factor/verify/" not in page.url, f"{username}'s authenticator code was refused"
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not errors, "Browser console errors:\n" + "\n".join(errors)


def _fill_date(page, prefix: str, day: dt.date) -> None:
    for part, value in (("day", day.day), ("month", day.month), ("year", day.year)):
        page.fill(f"#{prefix}-{part}", str(value))


def _visit(page, path: str) -> None:
    page.goto(path)
    axe_check(page)


def _agenda_headings(page) -> list[str]:
    return [text.strip() for text in page.locator("main h3.govuk-heading-s").all_inner_texts()]


@pytest.mark.django_db(transaction=True)
def test_a_whole_marac_cycle_from_referral_to_an_overdue_action_on_the_next_agenda(staff_browser, live_server):
    today = timezone.localdate()
    police = OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", short_name="NYP",
                                 type=OrganisationType.POLICE)
    idas = OrganisationFactory(slug="idas", name="IDAS", short_name="IDAS", type=OrganisationType.PROVIDER)
    council = OrganisationFactory(slug="city-of-york-council", name="City of York Council", short_name="CYC",
                                  type=OrganisationType.LOCAL_AUTHORITY)
    staff = dict(role=Role.CONTRIBUTOR, personal_data_scope=PersonalDataScope.PARTIES)
    idva = UserFactory(username="idva", organisation=idas, first_name="Jo", last_name="Adviser",
                       email="idva@example.org", **staff)
    coordinator = UserFactory(username="coordinator", organisation=police, first_name="Sam", last_name="Coordinator",
                              email="coordinator@example.org", **staff)
    social_worker = UserFactory(username="social.worker", organisation=council, first_name="Alex", last_name="Carer",
                                email="social.worker@example.org", **staff)
    for user in (idva, coordinator, social_worker):
        totp_device(user)
    # The area as an administrator sets it up in the admin. Its weekly meetings start at midnight so
    # that today's meeting has already begun and may be minuted as held while the test runs.
    area = MaracArea.objects.create(slug="york", name="York MARAC", coordinating_organisation=police,
                                    first_meeting_date=today, meeting_time=dt.time(0, 0),
                                    default_venue="Partnership meeting room")
    area.coordinators.add(coordinator)
    main_questions, stalking_questions = checklist_questions(checklist_current())

    # 1. The IDVA refers through the form: victim, perpetrator, a child with age and school, 15 yes
    # answers (over the threshold of 14) with the stalking question among them, and safe contact.
    referrer = staff_browser("idva")
    _visit(referrer, "/marac/")
    referrer.get_by_role("link", name="Make a referral").click()
    expect(referrer.get_by_role("heading", name="Make a MARAC referral")).to_be_visible()
    expect(referrer.locator("#stalking-screen")).to_be_hidden()
    axe_check(referrer)
    referrer.get_by_label("MARAC area").select_option(label="York MARAC")
    referrer.fill("#victim-first_name", "Marigold")
    referrer.fill("#victim-last_name", "Thistlewood")
    _fill_date(referrer, "victim-date_of_birth", dt.date(1991, 5, 14))
    referrer.fill("#perpetrator-0-first_name", "Corvin")
    referrer.fill("#perpetrator-0-last_name", "Ashgrove")
    _fill_date(referrer, "perpetrator-0-date_of_birth", dt.date(1988, 11, 2))
    referrer.fill("#child-0-first_name", "Wren")
    referrer.fill("#child-0-last_name", "Thistlewood")
    referrer.fill("#child-0-age", "7")
    referrer.fill("#child-0-school", "Brambleside Primary School")
    _fill_date(referrer, "assessed_on", today)
    for question in main_questions:
        # Radios' ids: the first (yes) takes the group's name, then -2 (no) and -3 (not known).
        referrer.check(f"#answer-{question.key}" if question.number <= 15 else f"#answer-{question.key}-2")
    assert any(q.triggers_stalking_screen and q.number <= 15 for q in main_questions)
    expect(referrer.locator("#stalking-screen")).to_be_visible()
    for question in stalking_questions:
        referrer.check(f"#answer-{question.key}" if question.number <= 4 else f"#answer-{question.key}-3")
    referrer.fill("#comment-stalking", "Turns up outside the workplace most days")
    referrer.fill("#incidents_in_window", "2")
    referrer.get_by_role("radio", name="Yes, it is safe to call").check()
    referrer.get_by_label("Safe contact details").fill("Work mobile, weekdays 9 to 11; text first")
    axe_check(referrer)
    referrer.get_by_role("button", name="Send referral").click()

    expect(referrer.locator(".govuk-notification-banner")).to_contain_text("sent to York MARAC")
    referral = MaracReferral.objects.select_related("case").get()
    reference = referral.case.reference
    expect(referrer.get_by_role("heading", name=f"MARAC referral {reference}")).to_be_visible()
    criteria = referrer.get_by_role("table", name="Referral criteria")
    expect(criteria.get_by_role("row", name="Visible high risk")).to_contain_text(
        "15 yes answers on the risk checklist meets this area's threshold of 14")
    expect(criteria.get_by_role("row", name="Potential escalation")).to_contain_text("is below this area's threshold")
    expect(referrer.get_by_role("table", name="Stalking screen answers")).to_be_visible()
    children = referrer.get_by_role("table", name="Children in the household")
    expect(children).to_contain_text("Brambleside Primary School")
    expect(children.get_by_role("cell", name="7", exact=True)).to_be_visible()
    expect(referrer.get_by_text("Work mobile, weekdays 9 to 11; text first")).to_be_visible()
    axe_check(referrer)
    assert referral.score == 15 and referral.safe_to_call and referral.status == ReferralStatus.SUBMITTED

    # 2. The coordinator finds it in the queue and accepts it.
    coord = staff_browser("coordinator")
    _visit(coord, "/marac/")
    coord.get_by_role("link", name="Coordinator's queue").click()
    expect(coord.get_by_role("heading", name="Coordinator's queue")).to_be_visible()
    axe_check(coord)
    coord.get_by_role("link", name=reference).click()
    expect(coord.get_by_role("heading", name=f"MARAC referral {reference}")).to_be_visible()
    axe_check(coord)
    coord.get_by_role("button", name="Accept for the next meeting").click()
    expect(coord.locator(".govuk-notification-banner")).to_contain_text("accepted")
    axe_check(coord)

    # 3. The coordinator schedules this week's and next week's meetings, builds and publishes the agenda.
    _visit(coord, "/marac/meetings/")
    coord.get_by_role("link", name="Schedule meetings").click()
    expect(coord.get_by_role("heading", name="Schedule meetings")).to_be_visible()
    axe_check(coord)
    coord.get_by_label("MARAC area").select_option(label="York MARAC")
    _fill_date(coord, "until", today + dt.timedelta(days=7))
    coord.get_by_role("button", name="Schedule meetings").click()
    expect(coord.locator(".govuk-notification-banner")).to_contain_text("2 meetings added to the schedule")
    axe_check(coord)
    first, second = MaracMeeting.objects.filter(area=area).order_by("starts_at")
    assert timezone.localtime(first.starts_at).date() == today
    assert timezone.localtime(second.starts_at).date() == today + dt.timedelta(days=7)

    coord.locator(f'a[href="/marac/meetings/{first.pk}/"]').click()
    expect(coord.get_by_text("The agenda has not been built yet.")).to_be_visible()
    axe_check(coord)
    coord.get_by_role("button", name="Build the agenda").click()
    expect(coord.locator(".govuk-notification-banner")).to_contain_text("Agenda built")
    assert _agenda_headings(coord) == AGENDA_ORDER
    expect(coord.get_by_role("table", name="New cases involving children").get_by_role("link", name=reference)).to_be_visible()
    expect(coord.get_by_role("table", name="Adult-only cases")).to_have_count(0)
    axe_check(coord)
    assert AgendaItem.objects.get(meeting=first, referral=referral).section == AgendaSection.CHILDREN

    coord.get_by_role("link", name="Attendance", exact=True).click()
    expect(coord.get_by_role("heading", name="Attendance")).to_be_visible()
    axe_check(coord)
    for attendee, role in (("Jo Adviser (IDAS)", "IDVA"), ("Alex Carer (City of York Council)", "Children's social care")):
        coord.get_by_label("Attendee").select_option(label=attendee)
        coord.get_by_label("Role at the meeting (optional)").fill(role)
        coord.get_by_role("button", name="Add attendee").click()
        expect(coord.locator(".govuk-notification-banner")).to_contain_text("added to the meeting")
        axe_check(coord)
    expect(coord.get_by_role("table", name="Attendees").get_by_role("cell", name="Not signed")).to_have_count(2)
    coord.get_by_role("link", name="Back to the meeting").click()
    coord.get_by_role("button", name="Publish the agenda").click()
    expect(coord.locator(".govuk-notification-banner")).to_contain_text("Agenda published")
    axe_check(coord)
    circulated = [m for m in mail.outbox if "MARAC agenda" in m.subject]
    assert sorted(address for m in circulated for address in m.to) == ["idva@example.org", "social.worker@example.org"]
    assert not any("Marigold" in m.body or "Thistlewood" in m.body for m in mail.outbox)

    # 4. Each attendee is sent to the confidentiality statement before any case, signs it and enters
    # their agency's research. The IDVA goes first.
    meeting_case = f"/marac/meetings/{first.pk}/cases/{referral.pk}/"
    referrer.goto(meeting_case)
    expect(referrer.get_by_role("heading", name="Confidentiality statement")).to_be_visible()
    expect(referrer.get_by_text("Sign the confidentiality statement before you see the cases")).to_be_visible()
    axe_check(referrer)
    referrer.get_by_label("I agree to the confidentiality statement").check()
    referrer.get_by_role("button", name="I agree").click()
    expect(referrer.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    expect(referrer.get_by_text("New cases involving children")).to_be_visible()
    axe_check(referrer)
    idas_research = "Known to the outreach service since March; two safety plans reviewed."
    referrer.get_by_label("What your agency found in its records").fill(idas_research)
    referrer.get_by_role("button", name="Save your agency's research").click()
    expect(referrer.locator("p.saferhub-pre-line", has_text=idas_research)).to_be_visible()
    axe_check(referrer)

    # The council's social worker has not signed: the case page sends them to the statement and
    # shows none of the IDVA's research; the case itself is not theirs to see outside the meeting.
    social = staff_browser("social.worker")
    social.goto(meeting_case)
    expect(social.get_by_role("heading", name="Confidentiality statement")).to_be_visible()
    expect(social.get_by_text(idas_research)).to_have_count(0)
    axe_check(social)
    # Asked with the social worker's session outside the page, so the expected 404 is not a console error.
    response = social.context.request.get(f"/marac/referrals/{referral.pk}/")
    assert response.status == 404 and "Thistlewood" not in response.text()
    social.get_by_role("button", name="I agree").click()
    expect(social.locator(".govuk-error-summary")).to_be_visible()
    axe_check(social)
    social.get_by_label("I agree to the confidentiality statement").check()
    social.get_by_role("button", name="I agree").click()
    expect(social.get_by_role("heading", name=f"Case {reference}")).to_be_visible()
    expect(social.locator("p.saferhub-pre-line", has_text=idas_research)).to_be_visible()
    expect(social.get_by_role("table", name="Children in the household")).to_contain_text("Brambleside Primary School")
    axe_check(social)
    council_research = "Child known to early help; no current child protection plan."
    social.get_by_label("What your agency found in its records").fill(council_research)
    social.get_by_role("button", name="Save your agency's research").click()
    expect(social.locator("p.saferhub-pre-line", has_text=council_research)).to_be_visible()
    axe_check(social)
    referrer.reload()
    expect(referrer.locator("p.saferhub-pre-line", has_text=council_research)).to_be_visible()
    axe_check(referrer)
    assert AgencyResearch.objects.filter(meeting=first, referral=referral).count() == 2
    assert Attendance.objects.filter(meeting=first, confidentiality_signed_at__isnull=True).count() == 0

    # The meeting is held: the coordinator minutes it and marks it held.
    _visit(coord, f"/marac/meetings/{first.pk}/")
    expect(coord.get_by_role("cell", name="Not signed")).to_have_count(0)
    coord.get_by_role("link", name="Minutes", exact=True).click()
    expect(coord.get_by_role("heading", name="Minutes of the meeting on")).to_be_visible()
    axe_check(coord)
    coord.get_by_label("Chair").fill("Detective Inspector, North Yorkshire Police")
    coord.get_by_label(f"Note on case {reference}").fill("Risk remains high; safety planning and a children's assessment agreed.")
    coord.get_by_label("General minutes").fill("One new case heard.")
    coord.get_by_label("Mark the meeting as held (its agenda can then no longer be rebuilt)").check()
    coord.get_by_role("button", name="Save the minutes").click()
    expect(coord.locator(".govuk-notification-banner")).to_contain_text("Minutes saved and the meeting marked as held")
    attendance_minuted = coord.get_by_role("table", name="Attendees and whether they signed the confidentiality statement")
    expect(attendance_minuted.get_by_role("cell", name="Y", exact=True)).to_have_count(2)
    expect(coord.locator("p.saferhub-pre-line", has_text="Risk remains high; safety planning")).to_be_visible()
    axe_check(coord)
    first.refresh_from_db()
    assert first.status == MeetingStatus.HELD

    # 5. The action plan agreed at the meeting: two actions for the council, one for IDAS.
    _visit(coord, f"/marac/referrals/{referral.pk}/actions/")
    expect(coord.get_by_role("heading", name=f"Action plan for case {reference}")).to_be_visible()
    planned = [
        ("City of York Council", None, "Hold a children's social care strategy discussion", 3),
        ("City of York Council", None, "Arrange a school safety plan for the child", 5),
        ("IDAS", "Jo Adviser, IDAS", "Offer a sanctuary scheme assessment", 14),
    ]
    for agency, person, description, days in planned:
        coord.get_by_role("link", name="Add an action").click()
        expect(coord.get_by_role("heading", name="Add an action")).to_be_visible()
        coord.get_by_label("Agency responsible").select_option(label=agency)
        if person:
            coord.get_by_label("Person responsible (optional)").select_option(label=person)
        coord.get_by_label("What will the agency do?").fill(description)
        deadline = today + dt.timedelta(days=days)
        coord.get_by_label("Day").fill(str(deadline.day))
        coord.get_by_label("Month").fill(str(deadline.month))
        coord.get_by_label("Year").fill(str(deadline.year))
        coord.get_by_label("Agreed at the meeting (optional)").select_option(value=str(first.pk))
        axe_check(coord)
        coord.get_by_role("button", name="Add action").click()
        expect(coord.locator(".govuk-notification-banner")).to_contain_text(f"Action added for {agency}")
        expect(coord.get_by_role("cell", name=description)).to_be_visible()
        axe_check(coord)
    strategy, school_plan, sanctuary = MaracAction.objects.order_by("pk")
    assert all(a.meeting_id == first.pk for a in (strategy, school_plan, sanctuary))

    # The council completes one action and finds the other no longer possible; IDAS leaves its own open.
    _visit(social, "/marac/actions/")
    expect(social.get_by_role("link", name=f"Update the action on {reference}")).to_have_count(2)
    for action, status, outcome in (
            (strategy, "Completed", "Strategy discussion held; assessment under way"),
            (school_plan, "Not possible due to change in circumstances", "The child has moved to a school outside the area")):
        _visit(social, f"/marac/actions/{action.pk}/update/")
        expect(social.get_by_role("heading", name="Update an action")).to_be_visible()
        social.get_by_role("radio", name=status).check()
        social.get_by_label("Outcome, or the reason it was not done").fill(outcome)
        social.get_by_role("button", name="Save").click()
        expect(social.get_by_text(outcome)).to_be_visible()
        axe_check(social)
    for action in (strategy, school_plan, sanctuary):
        action.refresh_from_db()
    assert (strategy.status, school_plan.status, sanctuary.status) == (
        ActionStatus.DONE, ActionStatus.NOT_POSSIBLE, ActionStatus.OPEN)

    # 6. The next meeting's agenda: the action not possible in its category; the IDAS action, due
    # after the next meeting, is not on it yet.
    _visit(coord, "/marac/meetings/")
    coord.locator(f'a[href="/marac/meetings/{second.pk}/"]').click()
    coord.get_by_role("button", name="Build the agenda").click()
    expect(coord.locator(".govuk-notification-banner")).to_contain_text("Agenda built")
    assert _agenda_headings(coord) == AGENDA_ORDER
    not_possible = coord.get_by_role("table", name="Not possible due to change in circumstances")
    not_undertaken = coord.get_by_role("table", name="Agency has not undertaken")
    expect(not_possible.get_by_role("cell", name="Arrange a school safety plan for the child")).to_be_visible()
    expect(not_possible).to_contain_text("City of York Council")
    expect(not_undertaken.get_by_role("cell", name="None", exact=True)).to_be_visible()
    expect(coord.get_by_text("Offer a sanctuary scheme assessment")).to_have_count(0)
    expect(coord.get_by_text("Hold a children's social care strategy discussion")).to_have_count(0)
    axe_check(coord)

    # Time passes: the IDAS action's deadline goes by with the action still open. A deadline is set
    # when an action is agreed and the app refuses one in the past (nor may it be edited later), and
    # a test cannot wait two weeks, so the deadline is moved into the past in the database.
    MaracAction.objects.filter(pk=sanctuary.pk).update(deadline=today - dt.timedelta(days=1))
    coord.get_by_role("button", name="Rebuild the agenda").click()
    expect(coord.locator(".govuk-notification-banner")).to_contain_text("Agenda built")
    overdue_row = not_undertaken.get_by_role("row").filter(has_text="Offer a sanctuary scheme assessment")
    expect(overdue_row).to_contain_text("IDAS")
    expect(overdue_row).to_contain_text(reference)
    expect(overdue_row.get_by_text("Overdue")).to_be_visible()
    expect(not_possible.get_by_role("cell", name="Arrange a school safety plan for the child")).to_be_visible()
    expect(coord.get_by_text("Hold a children's social care strategy discussion")).to_have_count(0)
    axe_check(coord)
    items = AgendaItem.objects.filter(meeting=second, section=AgendaSection.INCOMPLETE_ACTIONS)
    assert {(i.action_id, i.category) for i in items} == {
        (school_plan.pk, ActionStatus.NOT_POSSIBLE), (sanctuary.pk, ActionStatus.NOT_UNDERTAKEN)}

    # The IDVA sees the overdue action on their agency's list.
    _visit(referrer, "/marac/actions/")
    expect(referrer.get_by_text("1 is overdue")).to_be_visible()
