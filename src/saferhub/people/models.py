"""The shared register of people who appear in cases (victims, children, perpetrators), the cases
they appear in and the organisations party to each case, break-glass access, disclosures to other
organisations and their lawful basis, and retention.

Every personal field is encrypted at rest; exact-match search uses keyed-hash blind indexes.
Everything here is read through `restrict(user, action)` (people/access.py)."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.urls import reverse

from saferhub.core.encryption import EncryptedJSONField, EncryptedTextField
from saferhub.partners.models import Organisation
from saferhub.people.access import CaseQuerySet, PersonQuerySet


class Person(models.Model):
    first_name = EncryptedTextField()
    last_name = EncryptedTextField()
    # [{"first_name": ..., "last_name": ...}, ...]
    aliases = EncryptedJSONField(default=list, blank=True)
    date_of_birth_text = EncryptedTextField(blank=True, help_text="ISO date; see date_of_birth")
    gender = EncryptedTextField(blank=True)
    ethnicity = EncryptedTextField(blank=True)
    disability = EncryptedTextField(blank=True)
    sexuality = EncryptedTextField(blank=True)
    # [{"lines": [...], "postcode": ..., "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}, ...]
    addresses = EncryptedJSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = PersonQuerySet.as_manager()

    ENCRYPTED_FIELDS = ["first_name", "last_name", "aliases", "date_of_birth_text", "gender", "ethnicity",
                        "disability", "sexuality", "addresses"]

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        # Never personal data: this is what logs, audit labels and admin lists show.
        return f"Person {self.pk}"

    @property
    def reference(self) -> str:
        return f"P{self.pk:06d}" if self.pk else "P—"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def date_of_birth(self) -> dt.date | None:
        return dt.date.fromisoformat(self.date_of_birth_text) if self.date_of_birth_text else None

    @date_of_birth.setter
    def date_of_birth(self, value: dt.date | None) -> None:
        self.date_of_birth_text = value.isoformat() if value else ""

    def get_absolute_url(self) -> str:
        return reverse("people:person_detail", args=[self.pk])


class IndexKind(models.TextChoices):
    NAME_DOB = "name_dob", "Name and date of birth"
    ALIAS_DOB = "alias_dob", "Alias and date of birth"
    POLICE_NOMINAL = "police_nominal", "Police nominal id"
    NHS_NUMBER = "nhs_number", "NHS number"
    PUPIL_NUMBER = "pupil_number", "School unique pupil number"
    # Blocking keys for near-match search (people/blocking.py): coarse, never searched alone.
    DOB = "dob", "Date of birth (block)"
    SURNAME_SOUND_YEAR = "surname_sound_year", "Surname sound and birth year (block)"
    NAME_SOUND = "name_sound", "First and last name sounds (block)"


IDENTIFIER_KINDS = [IndexKind.POLICE_NOMINAL, IndexKind.NHS_NUMBER, IndexKind.PUPIL_NUMBER]


class PersonIdentifier(models.Model):
    """An identifier another system gives the person; the value is encrypted, the digest searchable."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=20, choices=[(k.value, k.label) for k in IDENTIFIER_KINDS])
    value = EncryptedTextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "kind"], name="one_identifier_of_a_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of person {self.person_id}"


class PersonIndex(models.Model):
    """Blind indexes: keyed hashes of normalised name + date of birth (and aliases) and of
    identifiers, recomputed whenever the person changes."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="indexes")
    kind = models.CharField(max_length=20, choices=IndexKind.choices)
    digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "digest"])]


class CaseKind(models.TextChoices):
    MARAC = "marac", "MARAC"
    MATAC = "matac", "MATAC"
    ENCOMPASS = "encompass", "Operation Encompass"
    PROTECTIVE_ORDER = "protective_order", "Protective order"
    PRISON_CONTACT_BLOCK = "prison_block", "Prison contact block"
    DOMESTIC_HOMICIDE_REVIEW = "dhr", "Domestic homicide review"
    SCRUTINY = "scrutiny", "Scrutiny panel case"
    OTHER = "other", "Other"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Case(models.Model):
    """A piece of multi-agency work about people. Only organisations party to it may see it."""

    kind = models.CharField(max_length=20, choices=CaseKind.choices)
    reference = models.CharField(max_length=40, unique=True, help_text="Never personal data, e.g. MARAC-2026-0041")
    summary = EncryptedTextField(blank=True)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="cases_owned", help_text="The referring or lead agency")
    parties = models.ManyToManyField(Organisation, through="CaseParty", related_name="cases")
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    legal_hold = models.BooleanField(default=False)
    legal_hold_reason = models.CharField(max_length=300, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True, help_text="Set when retention anonymised the case")

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("people:case_detail", args=[self.pk])


class CaseParty(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="party_links")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200, blank=True, help_text="e.g. referring agency, attends the MARAC")
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "organisation"], name="one_party_link")]


class ParticipantRole(models.TextChoices):
    VICTIM = "victim", "Victim"
    CHILD = "child", "Child"
    PERPETRATOR = "perpetrator", "Perpetrator"
    OTHER = "other", "Other"


class CaseParticipant(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="participations")
    role = models.CharField(max_length=20, choices=ParticipantRole.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "person", "role"], name="one_role_per_person_in_case")]


class BreakGlassAccess(models.Model):
    """A member of staff opened a case outside their scope, giving a reason. It lasts a short time,
    is flagged, and is reported to their organisation's data protection lead."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass")
    # Free text that may name people: encrypted, and kept out of the audit trail.
    reason = EncryptedTextField()
    at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-at"]


class LawfulBasis(models.TextChoices):
    CONSENT = "consent", "Consent"
    SAFEGUARDING = "safeguarding", "Safeguarding or vital interests"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"
    LAW_ENFORCEMENT = "law_enforcement", "Law-enforcement purposes"
    PUBLIC_TASK = "public_task", "Public task"


class InformationSharingAgreement(models.Model):
    name = models.CharField(max_length=200, unique=True)
    reference = models.CharField(max_length=60, blank=True)
    parties = models.ManyToManyField(Organisation, related_name="sharing_agreements")
    lawful_bases = models.JSONField(default=list, help_text="The lawful bases sharing under it may rest on")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Disclosure(models.Model):
    """Personal data of a case shared with another organisation, and why that was lawful."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="disclosures")
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="disclosures")
    from_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    to_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    lawful_basis = models.CharField(max_length=20, choices=LawfulBasis.choices)
    agreement = models.ForeignKey(InformationSharingAgreement, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures")
    purpose = EncryptedTextField(help_text="Free text that may name people: encrypted")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]


class RetentionAction(models.TextChoices):
    DELETE = "delete", "Delete"
    ANONYMISE = "anonymise", "Anonymise"


class RetentionSchedule(models.Model):
    """How long a kind of case is kept after it closes, and what happens then."""

    case_kind = models.CharField(max_length=20, choices=CaseKind.choices, unique=True)
    keep_for_days = models.PositiveIntegerField(help_text="Days after closure, e.g. 6 years = 2192")
    action = models.CharField(max_length=10, choices=RetentionAction.choices, default=RetentionAction.DELETE)
    note = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.get_case_kind_display()}: {self.keep_for_days} days after closure, then {self.get_action_display().lower()}"
