"""Agenda building: the DOMAIN.md §3 order, children's cases first, incomplete actions in the two
minute categories, each referral on exactly one meeting, rebuilding, reviews, and a query count
that does not grow with the area's history."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saferhub.audit.models import AuditEvent
from saferhub.marac.agenda import agenda_build
from saferhub.marac.meeting_services import agenda_item_add
from saferhub.marac.models import (
    ActionStatus, AgendaItem, AgendaSection, MaracReferral, MatchDecision, MeetingStatus, ReferralStatus, RepeatMatch,
)
from saferhub.marac.tests.factories import action_make, history_make, meeting_make, referral_make
from saferhub.marac.tests.meeting_world import mworld  # noqa: F401

pytestmark = pytest.mark.django_db


def sections(meeting):
    return [(i.section, i.referral_id, i.action_id, i.category) for i in AgendaItem.objects.filter(meeting=meeting).order_by("position")]


def test_agenda_follows_the_domain_order_with_children_first(mworld):
    w = mworld
    adult = referral_make(area=w["area"], user=w["coordinator"], children=0, referred_at=timezone.now() - dt.timedelta(days=4))
    child = referral_make(area=w["area"], user=w["coordinator"], children=2, referred_at=timezone.now() - dt.timedelta(days=2))
    flagged = referral_make(area=w["area"], with_people=False, has_children=True)
    items = agenda_build(user=w["coordinator"], meeting=w["meeting"])
    order = [i.section for i in items]
    assert order == sorted(order)
    assert order[0] == AgendaSection.INTRODUCTIONS and order[-1] == AgendaSection.OTHER_BUSINESS
    by_referral = {i.referral_id: i.section for i in items if i.referral_id}
    assert by_referral == {child.pk: AgendaSection.CHILDREN, flagged.pk: AgendaSection.CHILDREN, adult.pk: AgendaSection.ADULTS}
    positions = {i.referral_id: i.position for i in items if i.referral_id}
    assert positions[child.pk] < positions[adult.pk] and positions[flagged.pk] < positions[adult.pk]
    assert [i.position for i in items] == list(range(1, len(items) + 1))
    assert set(MaracReferral.objects.filter(meeting=w["meeting"]).values_list("pk", flat=True)) == {adult.pk, child.pk, flagged.pk}


def test_only_accepted_referrals_not_yet_heard_join_the_agenda(mworld):
    w = mworld
    waiting = referral_make(area=w["area"], with_people=False)
    submitted = referral_make(area=w["area"], with_people=False, status=ReferralStatus.SUBMITTED)
    declined = referral_make(area=w["area"], with_people=False, status=ReferralStatus.DECLINED)
    held = meeting_make(area=w["area"], status=MeetingStatus.HELD, starts_at=timezone.now() - dt.timedelta(days=7))
    heard = referral_make(area=w["area"], with_people=False, meeting=held)
    from saferhub.marac.tests.factories import area_make
    elsewhere = referral_make(area=area_make(organisation=w["nyp"]), with_people=False)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    on_agenda = {r for _, r, _, _ in sections(w["meeting"]) if r}
    assert on_agenda == {waiting.pk}
    for other in (submitted, declined, heard, elsewhere):
        assert other.pk not in on_agenda


def test_incomplete_actions_in_the_two_minute_categories_and_overdue_shown(mworld):
    w = mworld
    last = meeting_make(area=w["area"], status=MeetingStatus.HELD, starts_at=timezone.now() - dt.timedelta(days=7))
    old = referral_make(area=w["area"], with_people=False, meeting=last)
    today = timezone.localdate()
    overdue = action_make(referral=old, organisation=w["idas"], deadline=today - dt.timedelta(days=1))
    on_track = action_make(referral=old, organisation=w["idas"], deadline=today + dt.timedelta(days=30))
    not_possible = action_make(referral=old, organisation=w["csc"], deadline=today, status=ActionStatus.NOT_POSSIBLE)
    not_undertaken = action_make(referral=old, organisation=w["housing"], deadline=today, status=ActionStatus.NOT_UNDERTAKEN)
    before_last = action_make(referral=old, organisation=w["csc"], deadline=today - dt.timedelta(days=40),
                              status=ActionStatus.NOT_POSSIBLE, completed_at=last.starts_at - dt.timedelta(days=3))
    done = action_make(referral=old, organisation=w["csc"], deadline=today - dt.timedelta(days=3), status=ActionStatus.DONE)
    items = agenda_build(user=w["coordinator"], meeting=w["meeting"])
    listed = {i.action_id: (i.category, i.note) for i in items if i.action_id}
    assert listed == {
        overdue.pk: (ActionStatus.NOT_UNDERTAKEN, "Overdue"),
        not_possible.pk: (ActionStatus.NOT_POSSIBLE, ""),
        not_undertaken.pk: (ActionStatus.NOT_UNDERTAKEN, ""),
    }
    for absent in (on_track, before_last, done):
        assert absent.pk not in listed
    assert all(i.section == AgendaSection.INCOMPLETE_ACTIONS for i in items if i.action_id)
    # "Not possible" is listed before "not undertaken", as the minutes take them.
    positions = [i.category for i in items if i.action_id]
    assert positions == sorted(positions, key=lambda c: c != ActionStatus.NOT_POSSIBLE)


def test_each_referral_goes_onto_exactly_one_meeting_and_the_earlier_meeting_comes_first(mworld):
    w = mworld
    later = meeting_make(area=w["area"], starts_at=w["meeting"].starts_at + dt.timedelta(days=7))
    first = referral_make(area=w["area"], with_people=False)
    with pytest.raises(ValidationError, match="first"):
        agenda_build(user=w["coordinator"], meeting=later)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    w["meeting"].status, w["meeting"].held_at = MeetingStatus.HELD, timezone.now()
    w["meeting"].save()
    second = referral_make(area=w["area"], with_people=False)
    agenda_build(user=w["coordinator"], meeting=later)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.meeting == w["meeting"] and second.meeting == later
    assert AgendaItem.objects.filter(referral=first).count() == 1
    assert AgendaItem.objects.filter(referral=second).count() == 1


def test_rebuild_adds_referrals_accepted_since_keeps_hand_added_items_and_drops_declined(mworld):
    w = mworld
    first = referral_make(area=w["area"], with_people=False)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    aob = agenda_item_add(user=w["coordinator"], meeting_id=w["meeting"].pk, section=AgendaSection.OTHER_BUSINESS,
                          note="Venue for next month")
    late = referral_make(area=w["area"], with_people=False, has_children=True)
    MaracReferral.objects.filter(pk=first.pk).update(status=ReferralStatus.DECLINED)
    items = agenda_build(user=w["coordinator"], meeting=w["meeting"])
    referral_ids = [i.referral_id for i in items if i.referral_id]
    assert referral_ids == [late.pk]
    assert aob.pk in [i.pk for i in items]
    assert [i.section for i in items] == sorted(i.section for i in items)
    first.refresh_from_db()
    assert first.meeting is None
    # Rebuilding again changes nothing.
    again = agenda_build(user=w["coordinator"], meeting=w["meeting"])
    assert [(i.section, i.referral_id, i.note) for i in again] == [(i.section, i.referral_id, i.note) for i in items]


def test_a_held_meeting_cannot_be_rebuilt_and_only_coordinators_build(mworld):
    w = mworld
    with pytest.raises(PermissionDenied):
        agenda_build(user=w["idas_worker"], meeting=w["meeting"])
    w["meeting"].status = MeetingStatus.HELD
    w["meeting"].save()
    with pytest.raises(ValidationError, match="held"):
        agenda_build(user=w["coordinator"], meeting=w["meeting"])


def test_cases_twelve_months_since_their_last_marac_are_reviewed_in_their_own_section(mworld):
    w = mworld
    long_ago = meeting_make(area=w["area"], status=MeetingStatus.HELD, starts_at=timezone.now() - dt.timedelta(days=400))
    recent = meeting_make(area=w["area"], status=MeetingStatus.HELD, starts_at=timezone.now() - dt.timedelta(days=60))
    earlier = referral_make(area=w["area"], with_people=False, meeting=long_ago)
    anniversary = referral_make(area=w["area"], with_people=False, repeat_of=earlier, has_children=True)
    repeat_recent = referral_make(area=w["area"], with_people=False,
                                  repeat_of=referral_make(area=w["area"], with_people=False, meeting=recent))
    confirmed_earlier = referral_make(area=w["area"], with_people=False, meeting=long_ago)
    matched = referral_make(area=w["area"], with_people=False)
    RepeatMatch.objects.create(referral=matched, earlier=confirmed_earlier, decision=MatchDecision.CONFIRMED)
    reviewed = referral_make(area=w["area"], with_people=False, meeting=recent)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    agenda_item_add(user=w["coordinator"], meeting_id=w["meeting"].pk, section=AgendaSection.ANNIVERSARY,
                    reference=reviewed.case.reference)
    items = agenda_build(user=w["coordinator"], meeting=w["meeting"])
    section = {i.referral_id: i.section for i in items if i.referral_id}
    assert section[anniversary.pk] == AgendaSection.ANNIVERSARY
    assert section[matched.pk] == AgendaSection.ANNIVERSARY
    assert section[reviewed.pk] == AgendaSection.ANNIVERSARY
    assert section[repeat_recent.pk] == AgendaSection.ADULTS
    reviewed.refresh_from_db()
    assert reviewed.meeting == recent  # a review does not move where the case was heard


def test_a_review_must_name_a_heard_case_of_the_area(mworld):
    w = mworld
    waiting = referral_make(area=w["area"], with_people=False)
    with pytest.raises(ValidationError, match="not been heard"):
        agenda_item_add(user=w["coordinator"], meeting_id=w["meeting"].pk, section=AgendaSection.ANNIVERSARY,
                        reference=waiting.case.reference)
    with pytest.raises(ValidationError, match="reference"):
        agenda_item_add(user=w["coordinator"], meeting_id=w["meeting"].pk, section=AgendaSection.ANNIVERSARY,
                        reference="MARAC-NO-SUCH")


def test_building_writes_an_audit_event_naming_no_one(mworld):
    w = mworld
    referral = referral_make(area=w["area"], user=w["coordinator"], children=1)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    event = AuditEvent.objects.filter(record_type="marac_meeting", record_id=str(w["meeting"].pk)).latest("sequence")
    assert event.action == "update" and event.detail["referrals"] == [referral.pk]
    victim = referral.case.participants.get(role="victim").person
    assert victim.first_name not in str(event.detail) + event.record_label + event.purpose


def _build_queries(w, meeting):
    with CaptureQueriesContext(connection) as queries:
        agenda_build(user=w["coordinator"], meeting=meeting)
    return len(queries)


def _wave(w, last):
    """Four cases waiting (two with children) and two incomplete actions from `last`."""
    old = referral_make(area=w["area"], with_people=False, meeting=last)
    action_make(referral=old, organisation=w["idas"], deadline=timezone.localdate() - dt.timedelta(days=2))
    action_make(referral=old, organisation=w["csc"], deadline=timezone.localdate(), status=ActionStatus.NOT_POSSIBLE,
                completed_at=last.starts_at + dt.timedelta(hours=1))
    for n in range(4):
        referral_make(area=w["area"], with_people=False, has_children=bool(n % 2))


def test_agenda_building_does_not_grow_with_history(mworld):
    """The same waiting cases and actions, with 200 more heard cases (and their completed actions) in
    the area's history: building and rebuilding cost the same number of queries."""
    w = mworld
    start = w["meeting"].starts_at
    # A declined referral with people: the audit trail has begun, as in any working system.
    referral_make(area=w["area"], user=w["coordinator"], status=ReferralStatus.DECLINED)
    history_make(area=w["area"], count=16, start=start - dt.timedelta(days=30))
    last = meeting_make(area=w["area"], status=MeetingStatus.HELD, starts_at=start - dt.timedelta(days=7))
    _wave(w, last)
    first_build = _build_queries(w, w["meeting"])
    rebuild = _build_queries(w, w["meeting"])

    history_make(area=w["area"], count=200, start=start - dt.timedelta(days=400))
    assert MaracReferral.objects.filter(area=w["area"]).count() > 216
    assert _build_queries(w, w["meeting"]) == rebuild
    w["meeting"].status, w["meeting"].held_at = MeetingStatus.HELD, timezone.now()
    w["meeting"].save()
    following = meeting_make(area=w["area"], starts_at=start + dt.timedelta(days=7))
    _wave(w, w["meeting"])
    assert _build_queries(w, following) == first_build
    assert AgendaItem.objects.filter(meeting=following, referral__isnull=False).count() == 4
    # The first wave's overdue action is still open, so it is listed again with the new two.
    assert AgendaItem.objects.filter(meeting=following, action__isnull=False).count() == 3
