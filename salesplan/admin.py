"""The support admin for the kernel: organizations, people, plans' data, the calendar.

A support person inspects, filtered by organization; changes that the app makes through its
services (plans, versions, the pie, the actuals) are read-only here. The base classes below are
shared by the apps' admins (funnel, metrics, responsibility import them; never the reverse).
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from salesplan.models import (
    CalendarDay,
    Invitation,
    Membership,
    Organization,
    PlanMember,
    PlanProduct,
    PlanVersion,
    Product,
    SalesPlan,
    Team,
)


def is_staff(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff)


class SupportAdmin(admin.ModelAdmin):
    """Every staff member may look; changing needs Django's model permissions as usual.
    Big tables: one count per changelist, not two."""

    show_full_result_count = False
    # Foreign keys that must stay in the edited row's organization: field → its choices.
    same_organization: dict[str, QuerySet[Any]] = {}

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_staff(request)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        for name, choices in self.same_organization.items():
            if obj is not None and name in form.base_fields:
                mine = choices.filter(organization_id=obj.organization_id)
                form.base_fields[name].queryset = mine
        return form


class ChangeOnly:
    """Made and removed by the app's pages and services (which send the e-mails, make the
    secrets, keep the history); the admin only changes a harmless field or two."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class NoWrites(ChangeOnly):
    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyAdmin(NoWrites, SupportAdmin):
    """Rows the app writes through its services: shown whole (every field read-only, the ones
    the app sets itself too, less `exclude`), never added, changed or deleted here."""

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        hidden = set(self.exclude or ())
        own = [f.name for f in self.opts.fields if not f.primary_key and f.name not in hidden]
        return [*own, *super().get_readonly_fields(request, obj)]


class ReadOnlyInline(NoWrites, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related(*self.select_related)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_staff(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [*(self.fields or ()), *super().get_readonly_fields(request, obj)]


class WholeConstraintsForm(forms.ModelForm):
    """Django skips a unique constraint when one of its fields (here the read-only
    organization) is not in the form; check the instance's constraints whole, so a clash is a
    form error, not an IntegrityError."""

    def validate_unique(self) -> None:
        super().validate_unique()
        if self.errors:
            return
        try:
            self.instance.validate_constraints()
        except ValidationError as error:
            self._update_errors(error)


@admin.register(Organization)
class OrganizationAdmin(ChangeOnly, SupportAdmin):
    """Made with its owner (/signup/, manage.py create_org); a deletion would take every plan
    and lead with it. Pages compute in its time zone: a mistyped zone would break them."""

    list_display = ["name", "currency", "time_zone", "max_metric_share", "created_at"]
    list_filter = ["currency"]
    search_fields = ["name"]
    fields = ["name", "currency", "time_zone", "max_metric_share", "created_at"]
    readonly_fields = ["time_zone", "created_at"]


@admin.register(Membership)
class MembershipAdmin(ChangeOnly, SupportAdmin):
    """People join through an invitation and are deactivated, not deleted (a deletion takes
    their pie slices and plan shares)."""

    list_display = ["user", "organization", "role", "salesperson_kind", "team", "is_active"]
    list_filter = ["organization", "role", "is_active"]
    list_select_related = ["user", "organization", "team"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    fields = ["organization", "user", "role", "salesperson_kind", "team", "is_active", "joined_at"]
    readonly_fields = ["organization", "user", "joined_at"]
    same_organization = {"team": Team.objects.all()}


@admin.register(Team)
class TeamAdmin(ChangeOnly, SupportAdmin):
    """Rename or change the head; a deletion would leave its plans without their editor."""

    form = WholeConstraintsForm
    list_display = ["name", "organization", "head"]
    list_filter = ["organization"]
    list_select_related = ["organization", "head__user"]
    search_fields = ["name", "organization__name"]
    fields = ["organization", "name", "head"]
    readonly_fields = ["organization"]
    same_organization = {"head": Membership.objects.select_related("user")}


@admin.register(Invitation)
class InvitationAdmin(SupportAdmin):
    """E-mailed by the people page; here it can be extended or revoked (deleted). The token
    is the one-time link: never shown."""

    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["organization", "role"]
    list_select_related = ["organization"]
    search_fields = ["email", "first_name", "last_name"]
    date_hierarchy = "created_at"
    exclude = ["token"]
    readonly_fields = [
        f.name for f in Invitation._meta.fields if f.name not in ("id", "token", "expires_at")
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(ChangeOnly, SupportAdmin):
    """Switch it on or off; a new price must reach the plans with it in their mix
    (salesplan.services.product_update), so the settings page changes prices."""

    list_display = ["name", "organization", "price", "margin_pct", "is_active"]
    list_filter = ["organization", "is_active"]
    list_select_related = ["organization"]
    search_fields = ["name"]
    fields = ["organization", "name", "price", "margin_pct", "is_active"]
    readonly_fields = ["organization", "name", "price", "margin_pct"]


@admin.register(CalendarDay)
class CalendarDayAdmin(SupportAdmin):
    form = WholeConstraintsForm
    list_display = ["date", "organization", "is_working", "note"]
    list_filter = ["organization", "is_working"]
    list_select_related = ["organization"]
    search_fields = ["note", "organization__name"]
    date_hierarchy = "date"
    autocomplete_fields = ["organization"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return ["organization"] if obj is not None else []


class PlanMemberInline(ReadOnlyInline):
    model = PlanMember
    fields = ["membership", "share"]
    select_related = ("membership__user",)


class PlanProductInline(ReadOnlyInline):
    model = PlanProduct
    fields = ["product", "share", "units"]
    select_related = ("product",)
    verbose_name_plural = _("product mix")


class PlanVersionInline(ReadOnlyInline):
    model = PlanVersion
    fields = ["number", "created_by", "created_at", "changes"]
    select_related = ("created_by",)
    verbose_name_plural = _("versions")


@admin.register(SalesPlan)
class SalesPlanAdmin(ReadOnlyAdmin):
    """Read-only: a save goes through salesplan.plans.services, so versions, metrics and the
    pie follow."""

    list_display = [
        "name",
        "organization",
        "funnel",
        "period_start",
        "period_end",
        "status",
        "revenue_target",
        "version",
    ]
    list_filter = ["organization", "status", "period_kind"]
    list_select_related = ["organization", "funnel"]
    search_fields = ["name", "funnel__name", "organization__name"]
    date_hierarchy = "period_start"
    inlines = [PlanMemberInline, PlanProductInline, PlanVersionInline]


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "number", "created_by", "created_at"]
    list_filter = ["plan__organization"]
    list_select_related = ["plan", "created_by"]
    search_fields = ["plan__name"]
    date_hierarchy = "created_at"


@admin.register(PlanMember)
class PlanMemberAdmin(ReadOnlyAdmin):
    list_display = ["plan", "membership", "share"]
    list_filter = ["plan__organization"]
    list_select_related = ["plan", "membership__user"]
    search_fields = ["plan__name", "membership__user__email", "membership__user__last_name"]


@admin.register(PlanProduct)
class PlanProductAdmin(ReadOnlyAdmin):
    list_display = ["plan", "product", "share", "units"]
    list_filter = ["plan__organization"]
    list_select_related = ["plan", "product"]
    search_fields = ["plan__name", "product__name"]
