"""Role KPIs in the support admin: read-only (the pages and the API write them through the
services, which check the weights, the curve and who may give a deal's bonus)."""

from django.contrib import admin

from salesplan.admin import ReadOnlyAdmin, ReadOnlyInline
from salesplan.kpis.models import (
    BaseBonus,
    BonusRecipient,
    KpiFigure,
    KpiItem,
    KpiScheme,
    ManualKpiValue,
)


class KpiItemInline(ReadOnlyInline):
    model = KpiItem
    fields = ("metric", "weight", "target", "position")


@admin.register(KpiScheme)
class KpiSchemeAdmin(ReadOnlyAdmin):
    list_display = ["organization", "role", "updated_by", "updated_at"]
    list_filter = ["organization", "role"]
    list_select_related = ["organization", "updated_by__user"]
    search_fields = ["organization__name"]
    inlines = [KpiItemInline]


@admin.register(BaseBonus)
class BaseBonusAdmin(ReadOnlyAdmin):
    list_display = ["member", "amount", "updated_by", "updated_at"]
    list_filter = ["organization"]
    list_select_related = ["member__user", "updated_by__user"]
    search_fields = ["member__user__email"]


@admin.register(ManualKpiValue)
class ManualKpiValueAdmin(ReadOnlyAdmin):
    list_display = ["member", "period", "metric", "plan", "actual", "entered_by"]
    list_filter = ["organization", "metric"]
    list_select_related = ["member__user", "entered_by__user"]
    search_fields = ["member__user__email"]


@admin.register(BonusRecipient)
class BonusRecipientAdmin(ReadOnlyAdmin):
    list_display = ["payment", "head", "recipient", "chosen_by", "chosen_at", "is_current"]
    list_filter = ["organization", "is_current"]
    list_select_related = ["payment", "head__user", "recipient__user", "chosen_by__user"]
    search_fields = ["recipient__user__email", "head__user__email"]


@admin.register(KpiFigure)
class KpiFigureAdmin(ReadOnlyAdmin):
    list_display = ["period", "key", "member", "value", "numerator", "denominator"]
    list_filter = ["organization", "key"]
    list_select_related = ["member__user"]
    search_fields = ["member__user__email"]
