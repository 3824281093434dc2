"""Administrators set each MARAC area's coordinators, referral thresholds, population and schedule
here; risk checklist versions are listed (new ones are loaded as files, never edited in place, so
a referral's version stays as it was)."""
from django.contrib import admin

from saferhub.marac.models import ChecklistQuestion, MaracArea, RiskChecklist


@admin.register(MaracArea)
class MaracAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "coordinating_organisation", "high_risk_threshold", "escalation_incidents",
                    "escalation_window_days", "repeat_window_days", "adult_female_population", "meeting_interval_days", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    filter_horizontal = ["coordinators"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "coordinating_organisation", "coordinators", "active"]}),
        ("Referral criteria", {"fields": ["high_risk_threshold", "escalation_incidents", "escalation_window_days",
                                          "repeat_window_days"]}),
        ("MARAC data", {"fields": ["adult_female_population"]}),
        ("Schedule", {"fields": ["meeting_interval_days", "first_meeting_date", "meeting_time", "default_venue"]}),
    ]


class QuestionInline(admin.TabularInline):
    model = ChecklistQuestion
    fields = ["section", "number", "key", "topic", "wording", "triggers_stalking_screen"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RiskChecklist)
class RiskChecklistAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "is_current", "licence_note", "created_at"]
    readonly_fields = ["name", "version", "is_current", "licence_note", "created_at"]
    inlines = [QuestionInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
