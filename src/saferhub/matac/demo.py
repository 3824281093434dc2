"""A small synthetic MATAC for the demonstration: two sign-ins, a panel meeting every 4 weeks for
three years, a generated police extract imported into the incident store, ranked lists at past
meetings and today, nominations (from the lists and by partner referral), decisions, adoptions
more than 12 months ago with their re-scores, action plans, reviews and exits, and the outcome
figures on the performance dashboards. Everything goes through the services, so every record has
its audit events. Every person and id is invented. Loading it again adds nothing."""
from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import timezone

from saferhub.matac import casework_services as services
from saferhub.matac import outcomes
from saferhub.matac.models import (
    Decision, ExitReason, Intervention, MatacMeeting, MatacPanel, Pathway, RiskView, ScoringRun,
)
from saferhub.partners.models import GovernanceBody, GovernanceBodyKind, Organisation, PersonalDataScope, Role, User

SEED = 2026
INCIDENTS = 20_000
POLICE, IDAS, PROBATION = "north-yorkshire-police", "idas", "probation-service"
MEMBERS = [IDAS, PROBATION, "north-yorkshire-council", "city-of-york-council", "humber-and-north-yorkshire-icb"]
PANEL_SLUG = "north-yorkshire-and-york"
# Synthetic staff: the names are invented and belong to no one in the partnership.
LOGINS = [
    ("matac.coordinator", POLICE, "Morgan", "Ashdown", "MATAC Coordinator"),
    ("matac.partner", IDAS, "Riley", "Thwaite", "Domestic Abuse Perpetrator Lead"),
]
# Past ranked lists (months before today) and what their meeting decided for ranks 1-4.
PAST_LISTS = [(30, ["adopt", "adopt", "not_adopt", "adopt"]), (20, ["adopt", "defer", "adopt", "adopt"]),
              (14, ["adopt", "adopt", "adopt", "not_adopt"])]
ACTIONS = [
    (Intervention.SUPPORT, Pathway.SUBSTANCE_MISUSE, PROBATION, "Referral to the drug and alcohol service; attendance checked fortnightly"),
    (Intervention.PREVENTION, Pathway.RELATIONSHIPS, IDAS, "Behaviour change programme place offered"),
    (Intervention.DIVERSION, Pathway.EDUCATION_TRAINING_EMPLOYMENT, "north-yorkshire-council", "Employment support referral"),
    (Intervention.DISRUPTION, Pathway.ATTITUDES, POLICE, "Domestic violence disclosure scheme applications reviewed for new partners"),
    (Intervention.ENFORCEMENT, Pathway.ATTITUDES, POLICE, "Outstanding warrant executed; bail conditions monitored"),
    (Intervention.SUPPORT, Pathway.ACCOMMODATION, "city-of-york-council", "Housing options appointment to end sofa-surfing"),
    (Intervention.SUPPORT, Pathway.MENTAL_HEALTH, "humber-and-north-yorkshire-icb", "GP review and talking therapies referral"),
    (Intervention.SUPPORT, Pathway.FINANCE, IDAS, "Debt advice referral"),
]
REVIEW_NOTES = ["Engaging with the plan; no new incidents reported by partners.",
                "Missed two appointments; partners to share information before the next meeting.",
                "New relationship disclosed; disclosure scheme application considered.",
                "Positive progress on accommodation and employment."]


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, 28))


def _logins(organisations: dict[str, Organisation]) -> dict[str, User]:
    from saferhub.accounts.demo import demo_totp
    from saferhub.people.demo import DEMO_PASSWORD

    users = {}
    for username, org, first, last, title in LOGINS:
        user, created = User.objects.update_or_create(username=username, defaults={
            "role": Role.CONTRIBUTOR, "organisation": organisations[org], "first_name": first, "last_name": last,
            "job_title": title, "email": f"{username}@example.org", "is_active": True,
            "personal_data_scope": PersonalDataScope.PARTIES})
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        demo_totp(user)
        users[org] = user
    return users


def _panel(organisations: dict[str, Organisation], today: dt.date) -> MatacPanel:
    members = [organisations[s] for s in MEMBERS if s in organisations]
    # The scoring pages admit police staff and members of the MATAC governance body.
    body, _ = GovernanceBody.objects.get_or_create(slug="matac", defaults={
        "name": "MATAC (Multi-Agency Tasking and Coordination)", "kind": GovernanceBodyKind.PANEL,
        "meeting_frequency": "every 4 weeks", "chair_organisation": organisations[POLICE],
        "chair_title": "Detective Chief Inspector, Safeguarding"})
    body.members.add(organisations[POLICE], *members)
    first = today - dt.timedelta(days=28 * 42)
    panel, _ = MatacPanel.objects.get_or_create(slug=PANEL_SLUG, defaults={
        "name": "North Yorkshire and York", "police": organisations[POLICE], "first_meeting_date": first,
        "default_venue": "Police headquarters, Northallerton (and online)", "chair_role": "Detective Chief Inspector, Safeguarding"})
    panel.members.add(*members)
    return panel


def _meeting_after(panel: MatacPanel, day: dt.date) -> MatacMeeting:
    return MatacMeeting.objects.filter(panel=panel, date__gte=day).order_by("date").first()


def _nominee_names(rng: random.Random, today: dt.date) -> dict:
    from saferhub.people.synthetic import synthetic_person

    person = synthetic_person(rng, sex="male" if rng.random() < 0.85 else "female", youngest=20, oldest=60, today=today)
    return {"first_name": person.first_name, "last_name": person.last_name, "date_of_birth": person.date_of_birth}


def matac_demo_load(*, seed: int = SEED, incidents: int = INCIDENTS) -> list[str]:
    """Build the synthetic MATAC (needs the partnership loaded); return lines saying what was made."""
    from saferhub.matac.scoring_services import extract_import, scoring_run_create
    from saferhub.matac.synthetic import ExtractSpec, extract_write

    slugs = [POLICE, *MEMBERS]
    organisations = {o.slug: o for o in Organisation.objects.filter(slug__in=slugs)}
    missing = [s for s in (POLICE, IDAS, PROBATION) if s not in organisations]
    if missing:
        raise ValueError(f"Load the partnership first (saferhub partners import): missing {', '.join(missing)}")
    today = timezone.localdate()
    users = _logins(organisations)
    coordinator, partner = users[POLICE], users[IDAS]
    panel = _panel(organisations, today)
    lines = [f"MATAC sign-ins: {', '.join(u for u, *_ in LOGINS)} (the people register's demo password and 2FA key)"]
    if panel.nominations.exists():
        return lines + ["MATAC: the synthetic panel is already loaded"]

    while True:
        start = (MatacMeeting.objects.filter(panel=panel).order_by("-date").values_list("date", flat=True).first()
                 or panel.first_meeting_date - dt.timedelta(days=1)) + dt.timedelta(days=1)
        if start > today + dt.timedelta(days=84):
            break
        services.meeting_schedule(user=coordinator, panel_id=panel.pk, count=26, start=start)

    with tempfile.TemporaryDirectory(prefix="matac-demo-") as directory:
        path = Path(directory) / "synthetic-extract.csv"
        extract_write(ExtractSpec(incidents=incidents, seed=seed, end_date=today, years=4.0), path)
        extract = extract_import(user=coordinator, path=path, file_name="synthetic-extract.csv")
    lines.append(f"MATAC incident store: {extract.rows_added:,} synthetic incident rows added")

    rng = random.Random(f"matac-demo:{seed}")
    agencies = {o.slug: o for o in organisations.values()}
    nominated = adopted = 0
    for months, decisions in PAST_LISTS:
        meeting = _meeting_after(panel, _add_months(today, -months))
        run = scoring_run_create(user=coordinator, reference_date=meeting.date - dt.timedelta(days=7), top=20)
        for rank, decision in enumerate(decisions, start=1):
            try:
                nomination = services.nomination_from_run(user=coordinator, panel_id=panel.pk, run_id=run.pk, rank=rank,
                                                          meeting_id=meeting.pk, **_nominee_names(rng, today))
            except ValidationError as error:  # already open from an earlier list: this list skips them
                if "perpetrator_id" not in getattr(error, "message_dict", {}):
                    raise
                continue
            nominated += 1
            _decide(coordinator, nomination, meeting, decision, rng, agencies, panel, today)
            adopted += decision == "adopt"
    # Two partner referrals at the last past list's meeting: one who scores, one who does not.
    meeting = _meeting_after(panel, _add_months(today, -14))
    run = ScoringRun.objects.filter(reference_date__lte=meeting.date).order_by("-reference_date").first()
    listed = list(run.rows.order_by("-rank").values_list("perpetrator_id", flat=True)[:1])
    for perpetrator_id, reasons in ((listed[0] if listed else "SYN-P-UNLISTED", "Known to our perpetrator programme: "
                                     "new partner since leaving the programme."),
                                    ("SYN-NOT-IN-DATA-001", "Disclosed abuse of two former partners to our worker; "
                                     "not known to police as far as we know.")):
        nomination = services.nomination_from_referral(
            user=partner, panel_id=panel.pk, perpetrator_id=perpetrator_id, reasons=reasons,
            reference_date=meeting.date - dt.timedelta(days=3), meeting_id=meeting.pk, **_nominee_names(rng, today))
        nominated += 1
        _decide(coordinator, nomination, meeting, "adopt" if nomination.scores.first().eligible else "defer", rng, agencies,
                panel, today)
    # Today's list: the top three wait for the next meeting.
    upcoming = _meeting_after(panel, today + dt.timedelta(days=1))
    run = scoring_run_create(user=coordinator, reference_date=today, top=20)
    for rank in range(1, 6):
        try:
            services.nomination_from_run(user=coordinator, panel_id=panel.pk, run_id=run.pk, rank=rank, meeting_id=upcoming.pk,
                                         **_nominee_names(rng, today))
            nominated += 1
        except ValidationError as error:
            if "perpetrator_id" not in getattr(error, "message_dict", {}):
                raise
    scores, returns = outcomes.outcomes_run(as_of=today, user=None)
    lines.append(f"MATAC casework: {nominated} nominations, {adopted} adopted from ranked lists, "
                 f"{len(scores)} re-scored at 12 months, {returns} quarterly returns of outcome figures")
    return lines


def _decide(user, nomination, meeting, decision, rng, agencies, panel, today) -> None:
    if decision == "defer":
        services.nomination_decide(user=user, nomination_id=nomination.pk, meeting_id=meeting.pk, decision=Decision.DEFER,
                                   reason="More information needed from partners")
        return
    if decision == "not_adopt":
        services.nomination_decide(user=user, nomination_id=nomination.pk, meeting_id=meeting.pk,
                                   decision=Decision.NOT_ADOPT, reason="Already managed under MAPPA")
        return
    lead = agencies[rng.choice([POLICE, PROBATION, IDAS])]
    services.nomination_decide(user=user, nomination_id=nomination.pk, meeting_id=meeting.pk, decision=Decision.ADOPT,
                               lead_agency_id=lead.pk)
    adoption = nomination.adoption
    for intervention, pathway, agency, text in rng.sample(ACTIONS, 3):
        if agency not in agencies:
            continue
        action = services.action_add(user=user, adoption_id=adoption.pk, intervention=intervention, pathway=pathway,
                                     agency_id=agencies[agency].pk, description=text,
                                     deadline=meeting.date + dt.timedelta(days=rng.choice([28, 56, 84])))
        if action.deadline < today and rng.random() < 0.8:
            services.action_update(user=user, action_id=action.pk, status="done" if rng.random() < 0.75 else "not_possible",
                                   outcome="Completed as planned" if rng.random() < 0.7 else "Person moved; referral closed")
    exit_on = None
    if (today - meeting.date).days > 300 and rng.random() < 0.6:
        exit_on = min(today, meeting.date + dt.timedelta(days=rng.choice([180, 240, 300])))
    # Reviewed at every third meeting while on the scheme.
    reviews = MatacMeeting.objects.filter(panel=panel, date__gt=meeting.date, date__lte=exit_on or today).order_by("date")
    for review_meeting in list(reviews)[::3][:5]:
        services.review_record(user=user, adoption_id=adoption.pk, reviewed_on=review_meeting.date, meeting_id=review_meeting.pk,
                               notes=rng.choice(REVIEW_NOTES),
                               risk_view=rng.choice([RiskView.LOWER, RiskView.LOWER, RiskView.UNCHANGED, RiskView.HIGHER]))
    if exit_on is not None:
        reason = rng.choice([ExitReason.RISK_REDUCED, ExitReason.RISK_REDUCED, ExitReason.IN_CUSTODY, ExitReason.MOVED_AWAY,
                             ExitReason.DISENGAGED, ExitReason.OTHER])
        services.exit_record(user=user, adoption_id=adoption.pk, exited_on=exit_on, reason=reason,
                             other_reason="Managed by the integrated offender management team instead"
                             if reason == ExitReason.OTHER else "")
