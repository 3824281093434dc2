"""Repeat detection: is a new MARAC referral about the same victim and perpetrator as an earlier one?

DOMAIN.md §3 rule 4: a referral is a repeat when it concerns the same victim and perpetrator within
the area's repeat window (12 months by default) of the LAST referral of that pair. Earlier
referrals of the pair outside the window are not repeats but are kept as previous MARAC history.

How people are matched, and why not Splink
------------------------------------------
The platform names Splink as its record-linkage library, but it is not installed, and it could not
work here anyway: Splink compares plain values in SQL, while every personal field in the people
register is encrypted at rest (core/encryption.py) and can be read only in Python, one record at a
time. Decrypting the whole register to link one referral would also break need-to-know. So linkage
is done in two steps, in the Fellegi–Sunter manner Splink itself follows:

1. Blocking on keyed hashes, in the database. Each person carries blind indexes (people.PersonIndex):
   exact ones on normalised name + date of birth, aliases and identifiers, and coarse blocking keys
   (people/blocking.py) on the date of birth alone, a phonetic code of the surname with the birth
   year, and the phonetic codes of first and last names. For each victim and perpetrator of the new
   referral the candidates are the people who share an exact index or a block with them — and who
   appear in the same role in an earlier referral of the same area — found by an indexed query on
   (kind, digest) without decrypting anyone. The day and month of birth swapped are looked up as
   a second date-of-birth block. A block holding more than MAX_BLOCK people (a default date such
   as 1 January 1900) is too common to tell anyone apart and is skipped.
2. Comparison within the block, in Python. Only the candidates are decrypted. Exact index matches
   (or the same person record) are certain. Every other candidate is compared field by field —
   first and last names by Jaro–Winkler similarity, allowing for names entered the wrong way round
   and aliases; dates of birth exactly, with day and month transposed, one digit wrong, or the same
   year — and each comparison adds an agreement or disagreement weight (log2 of m/u, set by hand
   from the kinds of error referrals contain, since there is no labelled data to train them on).
   A candidate whose weights sum to NEAR_THRESHOLD or more is a near match.

A pair is matched when an earlier referral holds a matched victim and a matched perpetrator. Exact
on both sides decides itself: within the window the referral is a repeat (is_repeat, repeat_of, the
"repeat" criterion met); outside it, previous history. Anything less waits for the coordinator.
The reasons stored with each match say which comparisons agreed and how, never the values."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.core.encryption import normalise_name
from saferhub.people.blocking import dob_key, soundex
from saferhub.people.models import IDENTIFIER_KINDS, CaseParticipant, IndexKind, ParticipantRole, Person, PersonIndex

MAX_BLOCK = 200
NEAR_THRESHOLD = 8.0
EXACT_WEIGHT = 20.0
BLOCK_KINDS = [IndexKind.DOB, IndexKind.SURNAME_SOUND_YEAR, IndexKind.NAME_SOUND]
NAME_KINDS = [IndexKind.NAME_DOB, IndexKind.ALIAS_DOB]
EXACT_KINDS = NAME_KINDS + list(IDENTIFIER_KINDS)
ROLES = [ParticipantRole.VICTIM, ParticipantRole.PERPETRATOR]
ROLE_LABELS = {ParticipantRole.VICTIM: "Victim", ParticipantRole.PERPETRATOR: "Perpetrator"}
REPEAT_CRITERION = "repeat"
# What the comparison reads of a candidate: names, aliases and date of birth, nothing else.
COMPARED_FIELDS = ["first_name", "last_name", "aliases", "date_of_birth_text"]

# Agreement weights (log2 m/u). A name that agrees exactly is strong evidence; a date of birth more
# so; disagreement counts against, less for a missing value than for a different one.
WEIGHTS = {
    "first_exact": 4.0, "first_similar": 2.5, "first_initial": 0.5, "first_differs": -3.0,
    "last_exact": 5.0, "last_similar": 3.0, "last_sound": 2.0, "last_differs": -3.0,
    "dob_exact": 6.0, "dob_transposed": 4.0, "dob_one_digit": 3.0, "dob_same_year": 1.0, "dob_differs": -4.0,
    "dob_missing": 0.0,
}
SIMILAR = 0.9


# String and date comparisons -------------------------------------------------------------------

def jaro_winkler(a: str, b: str, prefix_scale: float = 0.1) -> float:
    """Jaro–Winkler similarity, 0 (nothing alike) to 1 (equal)."""
    if a == b:
        return 1.0 if a else 0.0
    if not a or not b:
        return 0.0
    reach = max(max(len(a), len(b)) // 2 - 1, 0)
    a_flags, b_flags = [False] * len(a), [False] * len(b)
    matches = 0
    for i, char in enumerate(a):
        for j in range(max(0, i - reach), min(len(b), i + reach + 1)):
            if not b_flags[j] and b[j] == char:
                a_flags[i] = b_flags[j] = True
                matches += 1
                break
    if not matches:
        return 0.0
    a_matched = [c for c, f in zip(a, a_flags) if f]
    b_matched = [c for c, f in zip(b, b_flags) if f]
    transpositions = sum(x != y for x, y in zip(a_matched, b_matched)) / 2
    jaro = (matches / len(a) + matches / len(b) + (matches - transpositions) / matches) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4]):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * prefix_scale * (1 - jaro)


def _compact(name: str) -> str:
    return "".join(normalise_name(name).split())


def _first_comparison(a: str, b: str) -> tuple[str, float]:
    a, b = _compact(a), _compact(b)
    if not a or not b:
        return "first_differs", 0.0
    if a == b:
        return "first_exact", 1.0
    similarity = jaro_winkler(a, b)
    if similarity >= SIMILAR:
        return "first_similar", similarity
    if a[0] == b[0]:
        return "first_initial", similarity
    return "first_differs", similarity


def _last_comparison(a: str, b: str) -> tuple[str, float]:
    a, b = _compact(a), _compact(b)
    if not a or not b:
        return "last_differs", 0.0
    if a == b:
        return "last_exact", 1.0
    similarity = jaro_winkler(a, b)
    if similarity >= SIMILAR:
        return "last_similar", similarity
    if soundex(a) == soundex(b):
        return "last_sound", similarity
    return "last_differs", similarity


def transposed(day: dt.date) -> dt.date | None:
    """The date with day and month swapped, if that is another real date."""
    if day.day > 12 or day.day == day.month:
        return None
    return dt.date(day.year, day.day, day.month)


def _dob_comparison(a: dt.date | None, b: dt.date | None) -> str:
    if a is None or b is None:
        return "dob_missing"
    if a == b:
        return "dob_exact"
    if transposed(a) == b:
        return "dob_transposed"
    x, y = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    if sum(p != q for p, q in zip(x, y)) == 1:
        return "dob_one_digit"
    if a.year == b.year:
        return "dob_same_year"
    return "dob_differs"


REASON_TEXT = {
    "first_exact": "first name agrees", "first_similar": "first name similar (Jaro–Winkler {similarity:.2f})",
    "first_initial": "first name shares its initial only", "first_differs": "first name differs",
    "last_exact": "last name agrees", "last_similar": "last name similar (Jaro–Winkler {similarity:.2f})",
    "last_sound": "last name sounds alike (same Soundex code)", "last_differs": "last name differs",
    "dob_exact": "date of birth agrees", "dob_transposed": "date of birth has day and month transposed",
    "dob_one_digit": "date of birth differs by one digit", "dob_same_year": "year of birth agrees, day or month differs",
    "dob_differs": "date of birth differs", "dob_missing": "date of birth not recorded on one side",
}


@dataclass
class PersonMatch:
    """How well one earlier person matches one new person."""

    person_id: int
    exact: bool
    weight: float
    reasons: list[str] = field(default_factory=list)

    def better_than(self, other: "PersonMatch | None") -> bool:
        return other is None or (self.exact, self.weight) > (other.exact, other.weight)


def _names(person: Person) -> list[tuple[str, str]]:
    names = [(person.first_name, person.last_name)]
    names += [(a.get("first_name", ""), a.get("last_name", "")) for a in person.aliases or []]
    return names


def compare_people(new: Person, old: Person) -> PersonMatch:
    """Fellegi–Sunter-style comparison of two decrypted people: the best-scoring pairing of their
    names (aliases and first/last swapped included) plus their dates of birth."""
    best = None
    for new_first, new_last in _names(new):
        for old_first, old_last in _names(old):
            for first, last, swapped in ((old_first, old_last, False), (old_last, old_first, True)):
                first_level, first_sim = _first_comparison(new_first, first)
                last_level, last_sim = _last_comparison(new_last, last)
                weight = WEIGHTS[first_level] + WEIGHTS[last_level]
                if best is None or weight > best[0]:
                    best = (weight, first_level, first_sim, last_level, last_sim, swapped)
    weight, first_level, first_sim, last_level, last_sim, swapped = best
    dob_level = _dob_comparison(new.date_of_birth, old.date_of_birth)
    weight += WEIGHTS[dob_level]
    reasons = [REASON_TEXT[first_level].format(similarity=first_sim), REASON_TEXT[last_level].format(similarity=last_sim),
               REASON_TEXT[dob_level]]
    if swapped:
        reasons.insert(0, "first and last names entered the other way round")
    reasons.append(f"match weight {weight:.1f} (near-match threshold {NEAR_THRESHOLD:.0f})")
    return PersonMatch(person_id=old.pk, exact=False, weight=weight, reasons=reasons)


# Finding candidates ----------------------------------------------------------------------------

@dataclass
class Candidates:
    """The people an earlier referral of the area holds in one role who share an index with one
    new person: `exact` with why, `block` to be compared after decrypting."""

    exact: dict[int, list[str]] = field(default_factory=dict)
    block: set[int] = field(default_factory=set)
    blocks_used: set[str] = field(default_factory=set)
    blocks_skipped: set[str] = field(default_factory=set)


def earlier_referrals(referral):
    """The referrals of the same area before this one that may be matched: not declined (a
    declined referral was never a MARAC case)."""
    from saferhub.marac.models import MaracReferral, ReferralStatus

    return MaracReferral.objects.filter(area_id=referral.area_id, referred_at__lt=referral.referred_at) \
        .exclude(pk=referral.pk).exclude(status=ReferralStatus.DECLINED)


def candidates_for(*, person: Person, role: str, referral) -> Candidates:
    """Who might `person` (in `role` in `referral`) be in an earlier referral of the area? Read
    from blind indexes alone: nobody is decrypted here."""
    own = list(PersonIndex.objects.filter(person=person).values_list("kind", "digest"))
    exact_digests = {digest for kind, digest in own if kind in EXACT_KINDS}
    block_digests = {digest for kind, digest in own if kind in BLOCK_KINDS}
    if person.date_of_birth and transposed(person.date_of_birth):
        block_digests.add(dob_key(transposed(person.date_of_birth)))
    eligible = CaseParticipant.objects.filter(role=role, case__marac_referral__in=earlier_referrals(referral)).values("person_id")
    condition = Q(kind__in=EXACT_KINDS, digest__in=exact_digests) | Q(kind__in=BLOCK_KINDS, digest__in=block_digests)
    rows = PersonIndex.objects.filter(condition, person_id__in=eligible).values_list("person_id", "kind", "digest")
    found = Candidates()
    members: dict[tuple[str, str], set[int]] = {}
    for person_id, kind, digest in rows:
        if kind in EXACT_KINDS:
            found.exact.setdefault(person_id, [])
            reason = "name and date of birth match exactly" if kind in NAME_KINDS else f"{IndexKind(kind).label} matches exactly"
            if reason not in found.exact[person_id]:
                found.exact[person_id].append(reason)
        else:
            members.setdefault((kind, digest), set()).add(person_id)
    for (kind, _), people in members.items():
        if len(people) > MAX_BLOCK:
            found.blocks_skipped.add(kind)
            continue
        found.blocks_used.add(kind)
        found.block |= people
    found.exact.setdefault(person.pk, []).insert(0, "the same person on the register")
    found.block -= set(found.exact)
    return found


def _role_matches(new_people: list[Person], role: str, referral, decrypted: set[int]) -> tuple[dict[int, PersonMatch], set[str]]:
    """The best match for each candidate person in `role`, over the referral's people in it."""
    matches: dict[int, PersonMatch] = {}
    blocks: set[str] = set()
    for person in new_people:
        found = candidates_for(person=person, role=role, referral=referral)
        blocks |= found.blocks_used
        for person_id, reasons in found.exact.items():
            match = PersonMatch(person_id=person_id, exact=True, weight=EXACT_WEIGHT, reasons=reasons)
            if match.better_than(matches.get(person_id)):
                matches[person_id] = match
        # Only the block's people are decrypted, and only here.
        for old in Person.objects.only(*COMPARED_FIELDS).filter(pk__in=found.block).order_by("pk"):
            decrypted.add(old.pk)
            match = compare_people(person, old)
            if match.weight >= NEAR_THRESHOLD and match.better_than(matches.get(old.pk)):
                matches[old.pk] = match
    return matches, blocks


def _referrals_holding(matches: dict[int, PersonMatch], role: str, referral) -> dict[int, PersonMatch]:
    """Earlier referral id → the best matched person it holds in `role`."""
    best: dict[int, PersonMatch] = {}
    rows = CaseParticipant.objects.filter(role=role, person_id__in=list(matches),
                                          case__marac_referral__in=earlier_referrals(referral)) \
        .values_list("case__marac_referral", "person_id")
    for referral_id, person_id in rows:
        if matches[person_id].better_than(best.get(referral_id)):
            best[referral_id] = matches[person_id]
    return best


def days_between(earlier, later) -> int:
    return (timezone.localtime(later.referred_at).date() - timezone.localtime(earlier.referred_at).date()).days


def repeat_criterion_apply(referral, earlier, days: int) -> None:
    """Mark the referral a repeat of `earlier` and explain the criterion (references, never names)."""
    referral.is_repeat, referral.repeat_of = True, earlier
    reason = (f"Same victim and perpetrator as {earlier.case.reference}, referred {days} days earlier "
              f"(the area's repeat window is {referral.area.repeat_window_days} days)")
    criteria = [c for c in (referral.criteria_met or []) if c != REPEAT_CRITERION] + [REPEAT_CRITERION]
    explained = [e for e in (referral.criteria_explained or []) if e.get("criterion") != REPEAT_CRITERION]
    explained.append({"criterion": REPEAT_CRITERION, "met": True, "reason": reason})
    referral.criteria_met, referral.criteria_explained = criteria, explained
    referral.save(update_fields=["is_repeat", "repeat_of", "criteria_met", "criteria_explained"])


@transaction.atomic
def repeats_find(*, referral, user=None) -> list:
    """Find the earlier referrals of the area for the same victim and perpetrator as `referral`,
    record them as RepeatMatch rows (exact ones decided, near ones pending) and, for an exact
    match within the repeat window of the last referral of the pair, mark the referral a repeat.
    Called by referral_submit; running it again adds what is new and leaves decisions alone."""
    from saferhub.marac.models import MatchDecision, MaracReferral, RepeatMatch

    user = user or referral.referred_by
    people = {role: [] for role in ROLES}
    for row in CaseParticipant.objects.filter(case_id=referral.case_id, role__in=ROLES).select_related("person").order_by("pk"):
        people[row.role].append(row.person)
    decrypted: set[int] = set()
    blocks: set[str] = set()
    held = {}
    for role in ROLES:
        matches, used = _role_matches(people[role], role, referral, decrypted)
        blocks |= used
        held[role] = _referrals_holding(matches, role, referral)
    pairs = set(held[ParticipantRole.VICTIM]) & set(held[ParticipantRole.PERPETRATOR])
    earlier_by_id = MaracReferral.objects.select_related("case").in_bulk(pairs)
    window = referral.area.repeat_window_days
    now = timezone.now()
    results = []
    for earlier_id in sorted(pairs, key=lambda pk: earlier_by_id[pk].referred_at, reverse=True):
        earlier = earlier_by_id[earlier_id]
        victim, perpetrator = held[ParticipantRole.VICTIM][earlier_id], held[ParticipantRole.PERPETRATOR][earlier_id]
        exact = victim.exact and perpetrator.exact
        days = days_between(earlier, referral)
        reasons = [f"{ROLE_LABELS[ParticipantRole.VICTIM]}: {r}" for r in victim.reasons]
        reasons += [f"{ROLE_LABELS[ParticipantRole.PERPETRATOR]}: {r}" for r in perpetrator.reasons]
        values = {"exact": exact, "reasons": reasons, "score": round(victim.weight + perpetrator.weight, 2),
                  "days_apart": days, "within_window": days <= window}
        match = RepeatMatch.objects.filter(referral=referral, earlier=earlier).first()
        if match is None:
            decided = {"decision": MatchDecision.CONFIRMED, "decided_at": now} if exact else {}
            match = RepeatMatch.objects.create(referral=referral, earlier=earlier, **values, **decided)
        elif match.decision == MatchDecision.PENDING:
            for name, value in values.items():
                setattr(match, name, value)
            if exact:
                match.decision, match.decided_at = MatchDecision.CONFIRMED, now
            match.save()
        results.append(match)
    # The last referral of the pair decides: the newest exact (or confirmed) match.
    confirmed = [m for m in results if m.decision == MatchDecision.CONFIRMED]
    if confirmed:
        last = min(confirmed, key=lambda m: m.days_apart)
        if last.within_window and referral.repeat_of_id != last.earlier_id:
            repeat_criterion_apply(referral, last.earlier, last.days_apart)
    audit_event(user=user, action=AuditAction.SEARCH, record_type="marac_referral", record_id=referral.pk,
                record_label=referral.case.reference, purpose="MARAC repeat detection",
                detail={"blocks": sorted(str(b) for b in blocks), "compared": sorted(decrypted),
                        "matches": [m.earlier_id for m in results], "repeat_of": referral.repeat_of_id})
    return results
