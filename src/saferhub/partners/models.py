"""The partnership: organisations, their staff, governance bodies and their meetings."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse


class OrganisationType(models.TextChoices):
    POLICE = "police", "Police"
    FIRE = "fire", "Fire and rescue"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    PCC_OFFICE = "pcc_office", "Police and Crime Commissioner's office"
    HEALTH = "health", "Health"
    PROBATION = "probation", "Probation"
    COURTS = "courts", "Courts and CPS"
    PROVIDER = "provider", "Commissioned provider"
    SCHOOL = "school", "School"
    OTHER = "other", "Other"


class Organisation(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=60, blank=True, help_text="Abbreviation used in tables, e.g. NYP, OPFCC")
    type = models.CharField(max_length=30, choices=OrganisationType.choices)
    # Other names the partnership's documents use for this organisation (e.g. "North Yorkshire County Council").
    aliases = models.JSONField(default=list, blank=True)
    website = models.URLField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.short_name or self.name


class Role(models.TextChoices):
    """What a member of staff may do. Ordered: each role can do what the ones before it can."""

    VIEWER = "viewer", "Viewer"
    CONTRIBUTOR = "contributor", "Contributor"
    STRATEGY_MANAGER = "strategy_manager", "Strategy manager"
    ADMINISTRATOR = "administrator", "Administrator"


ROLE_RANK = {role.value: rank for rank, role in enumerate(Role)}


class PersonalDataScope(models.TextChoices):
    """Which cases holding personal data a member of staff may see (need to know)."""

    NONE = "none", "None: no access to personal data"
    PARTIES = "parties", "Cases their organisation is a party to"
    ALL = "all", "Every case (an explicitly broader role, such as a MARAC coordinator)"


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    role = models.CharField(max_length=30, choices=Role.choices, default=Role.VIEWER)
    job_title = models.CharField(max_length=200, blank=True)
    personal_data_scope = models.CharField(max_length=10, choices=PersonalDataScope.choices, default=PersonalDataScope.NONE)
    is_data_protection_lead = models.BooleanField(
        default=False, help_text="Sees who has opened their organisation's records, break-glass reports and audit exports")

    @property
    def sees_personal_data(self) -> bool:
        return self.is_active and (self.personal_data_scope != PersonalDataScope.NONE or self.is_data_protection_lead)

    def has_role(self, role: str) -> bool:
        """True when this user's role is `role` or one above it."""
        return self.is_active and ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class GovernanceBodyKind(models.TextChoices):
    BOARD = "board", "Board"
    GROUP = "group", "Group"
    SUB_GROUP = "sub_group", "Sub-group"
    PANEL = "panel", "Panel"
    PARTNERSHIP = "partnership", "Partnership"
    TASK_AND_FINISH = "task_and_finish", "Task and finish group"
    MEETING = "meeting", "Multi-agency meeting"


class GovernanceBody(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30, choices=GovernanceBodyKind.choices)
    purpose = models.TextField(blank=True)
    reports_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reporting_bodies"
    )
    chair_organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="chaired_bodies"
    )
    chair_title = models.CharField(max_length=200, blank=True, help_text="e.g. Assistant Chief Constable")
    members = models.ManyToManyField(Organisation, blank=True, related_name="governance_bodies")
    meeting_frequency = models.CharField(max_length=60, blank=True, help_text="e.g. quarterly, weekly")
    established = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "governance bodies"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("partners:body_detail", args=[self.slug])

    def reporting_line(self) -> list["GovernanceBody"]:
        """This body and each body above it, up to the top."""
        line, body, seen = [], self, set()
        while body and body.pk not in seen:
            seen.add(body.pk)
            line.append(body)
            body = body.reports_to
        return line


class GovernanceMeeting(models.Model):
    body = models.ForeignKey(GovernanceBody, on_delete=models.CASCADE, related_name="meetings")
    date = models.DateField()
    venue = models.CharField(max_length=200, blank=True)
    attendees = models.ManyToManyField(Organisation, blank=True, related_name="meetings_attended")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.body} – {self.date:%d %B %Y}"
