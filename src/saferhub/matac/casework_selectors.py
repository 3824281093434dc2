"""Reads of MATAC casework for the pages: nominations, meetings with what they must decide and
review, and one subject's case. Each reads through `restrict` and writes one audit event when it
shows personal data."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.matac.casework_services import panel_member_organisation_ids
from saferhub.matac.models import (
    Adoption, MatacAction, MatacMeeting, MatacPanel, MatacScore, Nomination, NominationDecision, NominationStatus, Review,
    ScoreStage,
)
from saferhub.people import access

PENDING = (NominationStatus.AWAITING, NominationStatus.DEFERRED)


def panels_for(user) -> list[MatacPanel]:
    """The panels the user's organisation sits on (all of them for an all-cases scope)."""
    from saferhub.partners.models import PersonalDataScope

    panels = MatacPanel.objects.filter(active=True).prefetch_related("members")
    if not user.sees_personal_data:
        return []
    if user.personal_data_scope == PersonalDataScope.ALL:
        return list(panels)
    return [p for p in panels if user.organisation_id in panel_member_organisation_ids(p)]


def panel_get(*, user, panel_id: int) -> MatacPanel:
    panel = next((p for p in panels_for(user) if p.pk == panel_id), None)
    if panel is None:
        raise Http404("No such MATAC")
    return panel


def _nominations(user, action: str = access.VIEW):
    return (Nomination.objects.restrict(user, action)
            .select_related("case", "panel", "person", "referring_organisation", "meeting", "adoption__lead_agency",
                            "adoption__exit")
            .prefetch_related(Prefetch("scores", queryset=MatacScore.objects.order_by("reference_date", "pk"))))


@transaction.atomic
def nomination_list(*, user, status: str = "", panel: MatacPanel | None = None) -> list[Nomination]:
    nominations = _nominations(user)
    if status:
        nominations = nominations.filter(status=status)
    if panel is not None:
        nominations = nominations.filter(panel=panel)
    rows = list(nominations.order_by("-nominated_at", "-pk")[:500])
    audit_event(user=user, action=AuditAction.LIST, record_type="matac_nomination", purpose="MATAC nominations",
                detail={"status": status, "count": len(rows)})
    return rows


def meeting_list(*, user, panel: MatacPanel) -> list[MatacMeeting]:
    return list(MatacMeeting.objects.filter(panel=panel).order_by("date"))


@dataclass
class MeetingPage:
    meeting: MatacMeeting
    to_decide: list[Nomination]
    decided: list[NominationDecision]
    cohort: list[Adoption]
    previous: MatacMeeting | None = None
    following: MatacMeeting | None = None


@transaction.atomic
def meeting_view(*, user, meeting_id: int) -> MeetingPage:
    """A meeting with the nominations it has to decide (listed for it, or still pending from
    earlier), the decisions it made, and the adopted cohort to review (not yet exited)."""
    meeting = MatacMeeting.objects.select_related("panel").filter(pk=meeting_id).first()
    if meeting is None or meeting.panel not in panels_for(user):
        raise Http404("No such meeting")
    to_decide = list(_nominations(user).filter(panel=meeting.panel, status__in=PENDING)
                     .order_by("rank", "nominated_at", "pk"))
    decided = list(NominationDecision.objects.restrict(user).filter(meeting=meeting)
                   .select_related("nomination__case", "nomination__person").order_by("decided_at", "pk"))
    cohort = list(Adoption.objects.restrict(user).filter(nomination__panel=meeting.panel, adopted_on__lte=meeting.date,
                                                         exit__isnull=True)
                  .select_related("nomination__case", "nomination__person", "lead_agency")
                  .prefetch_related(Prefetch("reviews", queryset=Review.objects.order_by("-reviewed_on", "-pk")))
                  .order_by("adopted_on", "pk"))
    meetings = MatacMeeting.objects.filter(panel=meeting.panel)
    audit_event(user=user, action=AuditAction.LIST, record_type="matac_meeting", record_id=meeting.pk,
                record_label=str(meeting.date), purpose="MATAC meeting",
                detail={"to_decide": [n.pk for n in to_decide], "cohort": [a.pk for a in cohort]})
    return MeetingPage(meeting, to_decide, decided, cohort,
                       previous=meetings.filter(date__lt=meeting.date).order_by("-date").first(),
                       following=meetings.filter(date__gt=meeting.date).order_by("date").first())


@dataclass
class CasePage:
    nomination: Nomination
    scores: dict[str, MatacScore]
    decisions: list[NominationDecision]
    adoption: Adoption | None
    actions: list[MatacAction] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    can_change: bool = False

    @property
    def exit(self):
        return getattr(self.adoption, "exit", None) if self.adoption else None

    @property
    def score_rows(self) -> list[tuple[str, MatacScore | None]]:
        return [(stage.label, self.scores.get(stage.value)) for stage in ScoreStage]

    @property
    def rescore_due(self) -> dt.date | None:
        from saferhub.matac.outcomes import anniversary

        return anniversary(self.adoption.adopted_on) if self.adoption else None


def nomination_get(*, user, nomination_id: int, action: str = access.VIEW) -> Nomination:
    nomination = _nominations(user, action).filter(pk=nomination_id).first()
    if nomination is None:
        raise Http404("No such nomination")
    return nomination


@transaction.atomic
def case_view(*, user, nomination_id: int) -> CasePage:
    """One subject's MATAC case: scores at each stage, decisions, action plan, reviews and exit."""
    nomination = nomination_get(user=user, nomination_id=nomination_id)
    adoption = Adoption.objects.filter(nomination=nomination).select_related("lead_agency", "exit").first()
    page = CasePage(
        nomination=nomination,
        scores={s.stage: s for s in nomination.scores.all()},
        decisions=list(nomination.decisions.select_related("meeting", "decided_by").order_by("decided_at", "pk")),
        adoption=adoption,
        can_change=Nomination.objects.restrict(user, access.CHANGE).filter(pk=nomination.pk).exists()
        and nomination.case.status == "open",
    )
    if adoption is not None:
        page.actions = list(adoption.actions.select_related("agency", "owner").order_by("deadline", "pk"))
        page.reviews = list(adoption.reviews.select_related("meeting", "by").order_by("reviewed_on", "pk"))
    audit_event(user=user, action=AuditAction.VIEW, record_type="matac_nomination", record_id=nomination.pk,
                record_label=nomination.case.reference, purpose="MATAC case")
    return page


def action_get(*, user, action_id: int) -> MatacAction:
    action = (MatacAction.objects.restrict(user, access.CHANGE).select_related("adoption__nomination__case", "agency", "owner")
              .filter(pk=action_id).first())
    if action is None:
        raise Http404("No such action")
    return action


def overdue_actions(*, user, today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    return MatacAction.objects.restrict(user).filter(status="open", deadline__lt=today, adoption__exit__isnull=True).count()
