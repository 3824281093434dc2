"""Demonstration data for the people register: three sign-ins with access to personal data, two
information sharing agreements, and synthetic cases (mostly MARAC) with invented victims, children
and perpetrators. Everything is made through people.services, so every record has its audit events
and the audit chain verifies afterwards. Loading it again adds nothing already there."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from saferhub.accounts.demo import demo_totp, demo_totp_line
from saferhub.partners.models import Organisation, PersonalDataScope, Role, User
from saferhub.people import services
from saferhub.people.models import (
    Case, CaseKind, CaseStatus, InformationSharingAgreement, LawfulBasis, ParticipantRole,
)
from saferhub.people.synthetic import pupil_number, synthetic_person

DEMO_PASSWORD = "saferhub-demo-2026"
DEMO_SEED = 2026
PURPOSE = "Synthetic demonstration data"


@dataclass(frozen=True)
class PeopleLogin:
    username: str
    role: str
    organisation: str  # slug
    first_name: str
    last_name: str
    job_title: str
    scope: str
    data_protection_lead: bool = False


# Synthetic staff: the names are invented and belong to no one in the partnership.
PEOPLE_LOGINS = [
    PeopleLogin("marac.coordinator", Role.CONTRIBUTOR, "north-yorkshire-police", "Rowan", "Featherstone",
                "MARAC Coordinator", PersonalDataScope.ALL),
    PeopleLogin("idva", Role.CONTRIBUTOR, "idas", "Jamie", "Holtby", "Independent Domestic Violence Adviser",
                PersonalDataScope.PARTIES),
    PeopleLogin("dp.lead", Role.VIEWER, "north-yorkshire-police", "Avery", "Lockwood", "Data Protection Officer",
                PersonalDataScope.PARTIES, data_protection_lead=True),
]

POLICE, IDAS = "north-yorkshire-police", "idas"
NORTH_YORKSHIRE_COUNCIL, YORK_COUNCIL = "north-yorkshire-council", "city-of-york-council"
HEALTH, PROBATION, FIRE = "humber-and-north-yorkshire-icb", "probation-service", "north-yorkshire-fire-and-rescue"
NEEDED = [POLICE, IDAS, NORTH_YORKSHIRE_COUNCIL, YORK_COUNCIL, HEALTH, PROBATION]

AGREEMENTS = [
    {
        "name": "North Yorkshire and York MARAC information sharing protocol", "reference": "ISP-MARAC-DEMO",
        "parties": [POLICE, IDAS, NORTH_YORKSHIRE_COUNCIL, YORK_COUNCIL, HEALTH, PROBATION, FIRE],
        "lawful_bases": [LawfulBasis.SAFEGUARDING, LawfulBasis.LAW_ENFORCEMENT, LawfulBasis.PUBLIC_TASK,
                         LawfulBasis.LEGAL_OBLIGATION],
    },
    {
        "name": "Operation Encompass information sharing agreement", "reference": "ISA-ENC-DEMO",
        "parties": [POLICE, NORTH_YORKSHIRE_COUNCIL, YORK_COUNCIL],
        "lawful_bases": [LawfulBasis.SAFEGUARDING, LawfulBasis.PUBLIC_TASK],
    },
]

SUMMARIES = {
    CaseKind.MARAC: [
        "High-risk domestic abuse referral after a DASH risk assessment scoring {score}. Safety planning under way.",
        "Repeat referral: a further incident within twelve months. DASH score {score}.",
        "Referral by professional judgement: escalating controlling behaviour and threats. DASH score {score}.",
    ],
    CaseKind.MATAC: ["Serial perpetrator identified by the recency, frequency and gravity tool; multi-agency tasking agreed."],
    CaseKind.ENCOMPASS: ["Police attended a domestic abuse incident; the children's schools notified before the next school day."],
}


def demo_people_users() -> list[str]:
    """Create or refresh the three sign-ins; return a line saying so. Needs the partnership loaded."""
    organisations = {o.slug: o for o in Organisation.objects.filter(slug__in={d.organisation for d in PEOPLE_LOGINS})}
    made = 0
    for login in PEOPLE_LOGINS:
        user, created = User.objects.update_or_create(username=login.username, defaults={
            "role": login.role, "organisation": organisations[login.organisation],
            "first_name": login.first_name, "last_name": login.last_name, "job_title": login.job_title,
            "email": f"{login.username}@example.org", "is_active": True,
            "personal_data_scope": login.scope, "is_data_protection_lead": login.data_protection_lead,
        })
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        # Everyone here sees personal data, so signing in asks for a code: the demo's published one.
        demo_totp(user)
        made += created
    return [f"People register sign-ins: {len(PEOPLE_LOGINS)} ({made} new): "
            + ", ".join(login.username for login in PEOPLE_LOGINS) + f" (password {DEMO_PASSWORD})",
            demo_totp_line()]


def _agreements(organisations: dict[str, Organisation]) -> dict[str, InformationSharingAgreement]:
    made = {}
    for spec in AGREEMENTS:
        agreement, _ = InformationSharingAgreement.objects.get_or_create(name=spec["name"], defaults={
            "reference": spec["reference"], "lawful_bases": [str(b) for b in spec["lawful_bases"]],
            "start": dt.date(2024, 4, 1)})
        agreement.parties.add(*[organisations[s] for s in spec["parties"] if s in organisations])
        made[spec["reference"]] = agreement
    return made


def _kind(rng: random.Random) -> str:
    roll = rng.random()
    return CaseKind.MARAC if roll < 0.75 else CaseKind.ENCOMPASS if roll < 0.9 else CaseKind.MATAC


PREFIX = {CaseKind.MARAC: "MARAC", CaseKind.MATAC: "MATAC", CaseKind.ENCOMPASS: "ENC"}


def _case_people(rng: random.Random, kind: str, today: dt.date) -> list[tuple]:
    """(synthetic person, role) for one case: a victim, usually a perpetrator, often children."""
    victim_sex = "female" if rng.random() < 0.85 else "male"
    victim = synthetic_person(rng, sex=victim_sex, youngest=18, oldest=68, today=today,
                              identifiers=tuple(k for k, p in (("police_nominal", 0.5), ("nhs_number", 0.6)) if rng.random() < p))
    perpetrator = synthetic_person(rng, sex="male" if victim_sex == "female" and rng.random() < 0.9 else "female",
                                   youngest=18, oldest=70, today=today,
                                   identifiers=("police_nominal",) + (("nhs_number",) if rng.random() < 0.3 else ()))
    people = [(victim, ParticipantRole.VICTIM), (perpetrator, ParticipantRole.PERPETRATOR)]
    if kind == CaseKind.MATAC:
        second = synthetic_person(rng, sex="female", youngest=18, oldest=60, today=today, identifiers=("police_nominal",))
        people.append((second, ParticipantRole.VICTIM))
    children = rng.choice([0, 0, 1, 1, 2, 3]) if kind != CaseKind.ENCOMPASS else rng.choice([1, 1, 2, 3])
    family_name = victim.last_name if rng.random() < 0.6 else perpetrator.last_name
    for _ in range(children):
        child = synthetic_person(rng, sex=rng.choice(["female", "male"]), youngest=0, oldest=17, today=today,
                                 last_name=family_name, identifiers=("nhs_number",))
        if (today - child.date_of_birth).days > 4 * 366:  # of school age
            child.identifiers["pupil_number"] = pupil_number(rng)
        child.addresses = list(victim.addresses)
        people.append((child, ParticipantRole.CHILD))
    return people


def _council(person) -> str:
    towns = [line for address in person.addresses for line in address.get("lines", [])]
    return YORK_COUNCIL if "York" in towns else NORTH_YORKSHIRE_COUNCIL


@transaction.atomic
def demo_people_generate(*, cases: int = 24, seed: int = DEMO_SEED) -> list[str]:
    """Make `cases` synthetic cases, the same ones for the same seed (and day: ages are counted from
    today). A case whose reference is already there is left alone."""
    organisations = {o.slug: o for o in Organisation.objects.filter(slug__in=NEEDED + [FIRE])}
    missing = [slug for slug in NEEDED if slug not in organisations]
    if missing:
        raise ValueError(f"Load the partnership first (saferhub partners import): missing {', '.join(missing)}")
    lines = demo_people_users()
    agreements = _agreements(organisations)
    coordinator, idva = User.objects.get(username="marac.coordinator"), User.objects.get(username="idva")
    today = timezone.localdate()
    made = people_made = 0
    for number in range(1, cases + 1):
        # One generator per case, so each case is the same whatever was there before it.
        rng = random.Random(f"{seed}:{number}")
        kind = _kind(rng)
        reference = f"{PREFIX[kind]}-DEMO-{number:04d}"
        owner = idva if kind == CaseKind.MARAC and rng.random() < 0.3 else coordinator
        summary = rng.choice(SUMMARIES[kind]).format(score=rng.randrange(14, 24))
        people = _case_people(rng, kind, today)
        closing = rng.random() < 0.2
        sharing = rng.random()
        if Case.objects.filter(reference=reference).exists():
            continue
        case = services.case_open(user=owner, kind=kind, reference=reference, summary=summary, purpose=PURPOSE)
        for synthetic, role in people:
            person = services.person_register(user=owner, purpose=PURPOSE, identifiers=synthetic.identifiers, **synthetic.values())
            services.case_participant_add(user=owner, case_id=case.pk, person_id=person.pk, role=role, purpose=PURPOSE)
            people_made += 1
        agreement = agreements["ISA-ENC-DEMO" if kind == CaseKind.ENCOMPASS else "ISP-MARAC-DEMO"]
        parties = [_council(people[0][0])]
        if kind == CaseKind.MARAC:
            parties.insert(0, IDAS if owner == coordinator else POLICE)
            parties += [HEALTH] if sharing < 0.5 else []
            parties += [PROBATION] if sharing < 0.3 else []
        elif kind == CaseKind.MATAC:
            parties += [IDAS, PROBATION]
        for slug in parties:
            basis = LawfulBasis.LAW_ENFORCEMENT if slug == POLICE else LawfulBasis.SAFEGUARDING
            services.case_party_add(user=owner, case_id=case.pk, organisation=organisations[slug], lawful_basis=basis,
                                    agreement=agreement, reason="Attends the MARAC" if kind == CaseKind.MARAC else "Safeguarding partner")
        if kind == CaseKind.MARAC and sharing > 0.7:
            victim = case.participants.filter(role=ParticipantRole.VICTIM).first()
            services.case_disclosure_record(user=owner, case_id=case.pk, to_organisation=organisations[HEALTH],
                                            lawful_basis=LawfulBasis.SAFEGUARDING, agreement=agreement,
                                            person_id=victim.person_id, purpose="Safety plan shared with the victim's GP practice")
        if closing:
            services.case_close(user=owner, case_id=case.pk, purpose="Actions complete (synthetic)")
        made += 1
    open_count = Case.objects.filter(reference__contains="-DEMO-", status=CaseStatus.OPEN).count()
    lines.append(f"People register: {made} synthetic cases made with {people_made} people ({open_count} demo cases open)")
    return lines
