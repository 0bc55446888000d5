from django.contrib import admin

from salesplan.models import Invitation, Membership, Organization, Team


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "time_zone", "created_at"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "salesperson_kind", "team", "is_active"]
    list_filter = ["organization", "role"]


admin.site.register(Team)
admin.site.register(Invitation)
