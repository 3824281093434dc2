"""Administrators manage organisations, staff accounts and governance bodies here."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from saferhub.partners.models import GovernanceBody, GovernanceMeeting, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "type", "active"]
    list_filter = ["type", "active"]
    search_fields = ["name", "short_name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "organisation", "role", "is_active"]
    list_filter = ["role", "organisation", "is_active"]
    fieldsets = DjangoUserAdmin.fieldsets + (("Saferhub", {"fields": ["organisation", "role", "job_title"]}),)
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (("Saferhub", {"fields": ["organisation", "role"]}),)


class MeetingInline(admin.TabularInline):
    model = GovernanceMeeting
    extra = 0


@admin.register(GovernanceBody)
class GovernanceBodyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "reports_to", "chair_organisation"]
    list_filter = ["kind"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MeetingInline]
