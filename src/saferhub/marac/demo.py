"""MARAC in the demonstration: the areas and the risk checklist, the demo MARAC coordinator, and a
modest synthetic MARAC (marac/synthetic.py) with the next meeting's agenda built. Loading it again
adds nothing: synthetic referrals are only made while there are none, so whatever was done in the
application since is kept."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from saferhub.marac.models import MaracArea, MaracMeeting, MaracReferral, MeetingKind, MeetingStatus
from saferhub.marac.synthetic import DEFAULT_SEED, DEFAULT_WEEKS, marac_generate
from saferhub.partners.models import User

DEMO_CASES = 60
DEMO_COORDINATOR = "marac.coordinator"
DEMO_AREA = "north-yorkshire"


def _reference() -> list[str]:
    """The areas and the checklist the first time; afterwards the areas stay as coordinators and
    administrators have set them in the application (`make run` loads the demo on every start)."""
    from saferhub.marac.area_services import marac_reference_load
    from saferhub.marac.checklist_services import checklist_current

    areas = list(MaracArea.objects.order_by("name").values_list("name", flat=True))
    if not areas:
        return marac_reference_load()
    return [f"MARAC areas kept as they are: {', '.join(areas)}", f"Risk checklist current: {checklist_current()}"]


def _coordinator() -> tuple[User | None, list[str]]:
    """The demo coordinator (made by the people register's demo sign-ins) coordinates North Yorkshire MARAC."""
    user = User.objects.filter(username=DEMO_COORDINATOR).first()
    area = MaracArea.objects.filter(slug=DEMO_AREA).first()
    if user is None or area is None:
        return None, []
    area.coordinators.add(user)
    return user, [f"{user.username} coordinates {area.name}"]


def _agendas(user: User | None) -> list[str]:
    """Build the agenda of each area's next meeting that the demo coordinator coordinates."""
    from saferhub.marac.agenda import agenda_build

    if user is None:
        return []
    lines = []
    for area in MaracArea.objects.filter(coordinators=user, active=True).order_by("pk"):
        meeting = (MaracMeeting.objects.filter(area=area, kind=MeetingKind.REGULAR, status=MeetingStatus.PLANNED,
                                               starts_at__gte=timezone.now()).order_by("starts_at").first())
        if meeting is not None and meeting.agenda_built_at is None:
            items = agenda_build(user=user, meeting=meeting)
            lines.append(f"{area.name}: agenda of {timezone.localtime(meeting.starts_at):%d %B %Y} built ({len(items)} items)")
    return lines


@transaction.atomic
def demo_marac_load(*, cases: int = DEMO_CASES) -> list[str]:
    """What `saferhub demo load` does for MARAC. Needs the partnership and the demo sign-ins."""
    lines = _reference()
    user, said = _coordinator()
    lines += said
    if MaracReferral.objects.exists():
        lines.append("MARAC: referrals already there, kept as they are (no synthetic ones added)")
        return lines
    result = marac_generate(cases=cases, seed=DEFAULT_SEED, weeks=DEFAULT_WEEKS)
    lines += result.lines()
    lines += _agendas(user)
    return lines


@transaction.atomic
def demo_marac_generate(*, cases: int, seed: int = DEFAULT_SEED, weeks: int = DEFAULT_WEEKS) -> list[str]:
    """`saferhub demo marac`: the reference data, then `cases` more synthetic referrals whatever is
    there already (for demonstrations and benchmarks)."""
    lines = _reference()
    user, said = _coordinator()
    lines += said
    result = marac_generate(cases=cases, seed=seed, weeks=weeks)
    return lines + result.lines() + _agendas(user)
