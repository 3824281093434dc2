"""MATAC casework: the panel and its 4-weekly meetings, nominations (from a ranked list or a partner
referral) and the decisions on them, adoption, the multi-agency action plan, reviews, exit and the
scores taken at nomination, adoption and 12 months.

Each nomination opens a people.Case (kind "matac") owned by the police with the panel's member
agencies as parties, so everything about a person here is read through `restrict_by_case` and
free text about them is encrypted."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from saferhub.core.encryption import EncryptedTextField
from saferhub.partners.models import Organisation
from saferhub.people.access import case_scoped

__all__ = [
    "MatacPanel", "MatacMeeting", "MeetingStatus", "Nomination", "NominationSource", "NominationStatus",
    "NominationDecision", "Decision", "Adoption", "ScoreStage", "MatacScore", "Intervention", "Pathway",
    "MatacAction", "MatacActionStatus", "Review", "RiskView", "Exit", "ExitReason",
]


class MatacPanel(models.Model):
    """A MATAC: the police force that owns its cases, the agencies that sit on it and its schedule."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120, unique=True)
    police = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                               help_text="Owns every MATAC case of the panel")
    members = models.ManyToManyField(Organisation, related_name="matac_panels", blank=True,
                                     help_text="Member agencies: party to every case of the panel")
    first_meeting_date = models.DateField()
    interval_days = models.PositiveSmallIntegerField(default=28, help_text="Meetings every 4 weeks by default")
    default_venue = models.CharField(max_length=200, blank=True)
    chair_role = models.CharField(max_length=120, blank=True, help_text="A role, never a name, e.g. 'DCI, Safeguarding'")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class MatacMeeting(models.Model):
    panel = models.ForeignKey(MatacPanel, on_delete=models.PROTECT, related_name="meetings")
    date = models.DateField()
    venue = models.CharField(max_length=200, blank=True)
    chair_role = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)

    class Meta:
        ordering = ["date", "pk"]
        constraints = [models.UniqueConstraint(fields=["panel", "date"], name="one_matac_meeting_a_day")]

    def __str__(self) -> str:
        return f"{self.panel} MATAC {self.date:%d %B %Y}"


class NominationSource(models.TextChoices):
    RANKED_LIST = "ranked_list", "Ranked list"
    PARTNER_REFERRAL = "partner_referral", "Partner referral"


class NominationStatus(models.TextChoices):
    AWAITING = "awaiting", "Awaiting a decision"
    DEFERRED = "deferred", "Deferred"
    ADOPTED = "adopted", "Adopted"
    NOT_ADOPTED = "not_adopted", "Not adopted"


NominationQuerySet = case_scoped("case")


class Nomination(models.Model):
    case = models.OneToOneField("people.Case", on_delete=models.CASCADE, related_name="matac_nomination")
    panel = models.ForeignKey(MatacPanel, on_delete=models.PROTECT, related_name="nominations")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="matac_nominations")
    # The police nominal id as the incident extract has it (the person's POLICE_NOMINAL identifier).
    perpetrator_id = EncryptedTextField()
    source = models.CharField(max_length=20, choices=NominationSource.choices)
    run = models.ForeignKey("matac.ScoringRun", on_delete=models.PROTECT, null=True, blank=True, related_name="nominations")
    rank = models.PositiveIntegerField(null=True, blank=True, help_text="Place on the ranked list")
    referring_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    reasons = EncryptedTextField(blank=True, help_text="Why the partner refers this person")
    reference_date = models.DateField(help_text="The date the score at nomination is taken at")
    nominated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    nominated_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=NominationStatus.choices, default=NominationStatus.AWAITING)
    meeting = models.ForeignKey(MatacMeeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="nominations",
                                help_text="The meeting it is listed for")

    objects = NominationQuerySet.as_manager()

    class Meta:
        ordering = ["-nominated_at", "-pk"]
        indexes = [models.Index(fields=["panel", "status"])]

    def __str__(self) -> str:
        return f"Nomination {self.case.reference}"


class Decision(models.TextChoices):
    ADOPT = "adopt", "Adopt"
    NOT_ADOPT = "not_adopt", "Do not adopt"
    DEFER = "defer", "Defer to a later meeting"


DecisionQuerySet = case_scoped("nomination__case")


class NominationDecision(models.Model):
    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="decisions")
    meeting = models.ForeignKey(MatacMeeting, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = EncryptedTextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["decided_at", "pk"]


AdoptionQuerySet = case_scoped("nomination__case")


class Adoption(models.Model):
    nomination = models.OneToOneField(Nomination, on_delete=models.CASCADE, related_name="adoption")
    decision = models.OneToOneField(NominationDecision, on_delete=models.PROTECT, related_name="adoption")
    adopted_on = models.DateField()
    lead_agency = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")

    objects = AdoptionQuerySet.as_manager()

    class Meta:
        ordering = ["-adopted_on", "-pk"]
        indexes = [models.Index(fields=["adopted_on"])]

    @property
    def case(self):
        return self.nomination.case


class ScoreStage(models.TextChoices):
    NOMINATION = "nomination", "At nomination"
    ADOPTION = "adoption", "At adoption"
    TWELVE_MONTHS = "twelve_months", "12 months after adoption"


ScoreQuerySet = case_scoped("nomination__case")


class MatacScore(models.Model):
    """A person's RFGV score taken at one stage. Not eligible (too few incidents or victims in the
    window, under 16, or not in the incident data) is recorded as such, with why."""

    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="scores")
    stage = models.CharField(max_length=15, choices=ScoreStage.choices)
    reference_date = models.DateField()
    scheme_version = models.CharField(max_length=60, blank=True)
    scheme = models.ForeignKey("matac.ScoringScheme", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    run = models.ForeignKey("matac.ScoringRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    eligible = models.BooleanField(default=False)
    not_eligible_reason = EncryptedTextField(blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    r = models.PositiveSmallIntegerField(null=True, blank=True)
    f = models.PositiveSmallIntegerField(null=True, blank=True)
    g = models.PositiveSmallIntegerField(null=True, blank=True)
    v = models.PositiveSmallIntegerField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    incident_count = models.PositiveIntegerField(default=0)
    distinct_victims = models.PositiveIntegerField(default=0)
    gravity_sum = models.FloatField(default=0)
    last_incident_date = models.DateField(null=True, blank=True, help_text="Most recent incident up to the reference date")
    no_incident_in_two_years = models.BooleanField(null=True, blank=True)
    taken_at = models.DateTimeField(auto_now_add=True)

    objects = ScoreQuerySet.as_manager()

    class Meta:
        ordering = ["nomination", "reference_date", "pk"]
        constraints = [models.UniqueConstraint(fields=["nomination", "stage"], name="one_matac_score_per_stage")]


class Intervention(models.TextChoices):
    SUPPORT = "support", "Support"
    PREVENTION = "prevention", "Prevention"
    DIVERSION = "diversion", "Diversion"
    DISRUPTION = "disruption", "Disruption"
    ENFORCEMENT = "enforcement", "Enforcement"


class Pathway(models.TextChoices):
    ACCOMMODATION = "accommodation", "Accommodation"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
    MENTAL_HEALTH = "mental_health", "Mental health"
    FINANCE = "finance", "Finance"
    EDUCATION_TRAINING_EMPLOYMENT = "ete", "Education, training and employment"
    RELATIONSHIPS = "relationships", "Relationships"
    ATTITUDES = "attitudes", "Attitudes"


class MatacActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Completed"
    NOT_POSSIBLE = "not_possible", "Not possible due to change in circumstances"
    NOT_UNDERTAKEN = "not_undertaken", "Agency has not undertaken"


AdoptedQuerySet = case_scoped("adoption__nomination__case")


class MatacAction(models.Model):
    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="actions")
    intervention = models.CharField(max_length=15, choices=Intervention.choices)
    pathway = models.CharField(max_length=20, choices=Pathway.choices)
    agency = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="matac_actions")
    description = EncryptedTextField()
    deadline = models.DateField()
    status = models.CharField(max_length=15, choices=MatacActionStatus.choices, default=MatacActionStatus.OPEN)
    outcome = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = AdoptedQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "pk"]


class RiskView(models.TextChoices):
    HIGHER = "higher", "Risk higher"
    UNCHANGED = "unchanged", "Risk unchanged"
    LOWER = "lower", "Risk lower"


class Review(models.Model):
    adoption = models.ForeignKey(Adoption, on_delete=models.CASCADE, related_name="reviews")
    meeting = models.ForeignKey(MatacMeeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviews")
    reviewed_on = models.DateField()
    notes = EncryptedTextField()
    risk_view = models.CharField(max_length=10, choices=RiskView.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = AdoptedQuerySet.as_manager()

    class Meta:
        ordering = ["reviewed_on", "pk"]


class ExitReason(models.TextChoices):
    RISK_REDUCED = "risk_reduced", "Risk reduced"
    IN_CUSTODY = "in_custody", "In custody"
    MOVED_AWAY = "moved_away", "Moved out of the area"
    DECEASED = "deceased", "Deceased"
    DISENGAGED = "disengaged", "Disengaged or no further action"
    OTHER = "other", "Other"


class Exit(models.Model):
    adoption = models.OneToOneField(Adoption, on_delete=models.CASCADE, related_name="exit")
    exited_on = models.DateField()
    reason = models.CharField(max_length=15, choices=ExitReason.choices)
    other_reason = EncryptedTextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = AdoptedQuerySet.as_manager()
