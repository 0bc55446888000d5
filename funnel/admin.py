"""The support admin for funnels and the actuals: read-only (the CRM and the importers write
them), filtered by organization; webhooks can be re-run, imports' error reports downloaded."""

import re

from django.contrib import admin
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from funnel.models import (
    Call,
    Funnel,
    ImportJob,
    Integration,
    Lead,
    Payment,
    RawRecord,
    SavedMapping,
    Spend,
    Stage,
    StageEvent,
    StageMapping,
    Task,
)
from funnel.selectors import error_report
from funnel.services import imports
from funnel.services.webhooks import record_retry
from salesplan.admin import (
    ChangeOnly,
    ReadOnlyAdmin,
    ReadOnlyInline,
    SupportAdmin,
    WholeConstraintsForm,
)

MASK = "••••••••"
# `auth[application_token]=…`, `auth%5Baccess_token%5D=…`: a CRM's credentials in a body.
TOKEN_IN_BODY = re.compile(r"((?:\[|%5B)\w*token(?:\]|%5D)=)[^&\s]*", re.IGNORECASE)


class StageInline(ReadOnlyInline):
    model = Stage
    fields = ["position", "name", "conversion", "is_key_stage", "is_target_lead"]


@admin.register(Funnel)
class FunnelAdmin(ChangeOnly, SupportAdmin):
    """A rename only: stages change through the funnel page (funnel_update), so plans follow;
    leads, plans and integrations hold on to a funnel."""

    form = WholeConstraintsForm
    list_display = ["name", "organization", "created_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "organization__name"]
    fields = ["organization", "name", "created_at"]
    readonly_fields = ["organization", "created_at"]
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(ReadOnlyAdmin):
    list_display = ["name", "funnel", "position", "conversion", "is_key_stage", "is_target_lead"]
    list_filter = ["funnel__organization", "is_key_stage", "is_target_lead"]
    list_select_related = ["funnel"]
    search_fields = ["name", "funnel__name"]


class StageEventInline(ReadOnlyInline):
    model = StageEvent
    fields = ["stage", "reached_at", "member"]
    select_related = ("stage", "member__user")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["external_id", "amount", "gross_margin", "product_name", "paid_at", "is_new_client"]


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = [
        "external_id",
        "name",
        "organization",
        "funnel",
        "source",
        "created_at",
        "current_stage",
        "responsible",
        "is_target",
    ]
    list_filter = ["organization", "source", "is_target"]
    list_select_related = ["organization", "funnel", "current_stage", "responsible__user"]
    search_fields = ["=external_id", "name", "company", "responsible_name"]
    date_hierarchy = "created_at"
    raw_id_fields = ["funnel", "responsible", "current_stage"]
    inlines = [StageEventInline, PaymentInline]


@admin.register(StageEvent)
class StageEventAdmin(ReadOnlyAdmin):
    list_display = ["lead", "stage", "reached_at", "organization", "member"]
    list_filter = ["organization"]
    list_select_related = ["lead", "stage", "organization", "member__user"]
    search_fields = ["=lead__external_id", "lead__name"]
    date_hierarchy = "reached_at"
    raw_id_fields = ["lead", "member"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "lead", "amount", "paid_at", "organization", "product_name"]
    list_filter = ["organization", "source", "is_new_client"]
    list_select_related = ["lead", "organization"]
    search_fields = ["=external_id", "=lead__external_id", "lead__name", "product_name"]
    date_hierarchy = "paid_at"
    raw_id_fields = ["lead", "product", "credited_member"]


@admin.register(Spend)
class SpendAdmin(ReadOnlyAdmin):
    list_display = ["channel", "date", "amount", "organization"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["channel"]
    date_hierarchy = "date"


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "at", "connected", "member", "lead", "organization"]
    list_filter = ["organization", "source", "connected"]
    list_select_related = ["member__user", "lead", "organization"]
    search_fields = ["=external_id", "=lead__external_id"]
    date_hierarchy = "at"
    raw_id_fields = ["lead", "member"]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "due_at", "done_at", "member", "lead", "organization"]
    list_filter = ["organization", "source"]
    list_select_related = ["member__user", "lead", "organization"]
    search_fields = ["=external_id", "=lead__external_id"]
    date_hierarchy = "due_at"
    raw_id_fields = ["lead", "member"]


@admin.register(StageMapping)
class StageMappingAdmin(ReadOnlyAdmin):
    list_display = ["external", "source", "funnel", "stage", "outcome"]
    list_filter = ["funnel__organization", "source", "outcome"]
    list_select_related = ["funnel", "stage"]
    search_fields = ["external", "funnel__name"]


@admin.register(Integration)
class IntegrationAdmin(ChangeOnly, SupportAdmin):
    """Switched on or off only: integration_create makes the secret, and its records stay tied
    to it. The secret and the application token are credentials: never shown in clear."""

    list_display = ["kind", "organization", "funnel", "is_active", "has_application_token"]
    list_display += ["portal_domain"]
    list_filter = ["organization", "kind", "is_active"]
    list_select_related = ["organization", "funnel"]
    search_fields = ["organization__name", "funnel__name", "portal_domain"]
    fields = ["organization", "kind", "funnel", "masked_secret", "has_application_token"]
    fields += ["has_rest_url", "portal_domain", "stage_map", "is_active", "created_at"]
    readonly_fields = [f for f in fields if f != "is_active"]

    @admin.display(description=_("webhook secret"))
    def masked_secret(self, integration: Integration) -> str:
        return f"{MASK}{integration.secret[-4:]}" if integration.secret else "—"

    @admin.display(description=_("application token set"), boolean=True)
    def has_application_token(self, integration: Integration) -> bool:
        return bool(integration.application_token)

    @admin.display(description=_("REST URL set"), boolean=True)
    def has_rest_url(self, integration: Integration) -> bool:
        return integration.has_rest_url


@admin.register(RawRecord)
class RawRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "source", "status", "attempts", "organization", "integration"]
    list_display += ["received_at"]
    list_filter = ["organization", "kind", "status", "source"]
    list_select_related = ["organization", "integration__funnel"]
    search_fields = ["=id", "error", "body"]
    date_hierarchy = "received_at"
    exclude = ["body"]
    readonly_fields = ["body_without_tokens"]
    actions = ["rerun_webhooks"]

    @admin.display(description=_("body"))
    def body_without_tokens(self, record: RawRecord) -> str:
        body = TOKEN_IN_BODY.sub(rf"\g<1>{MASK}", record.body)
        if record.integration is not None:
            for credential in (record.integration.secret, record.integration.application_token):
                body = body.replace(credential, MASK) if credential else body
        return body

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("funnel.change_rawrecord"))

    @admin.action(description=_("Re-run the selected webhooks"), permissions=["rerun"])
    def rerun_webhooks(self, request: HttpRequest, queryset: QuerySet[RawRecord]) -> None:
        """Retry (record_retry, as the page and the API do): failed or still-received webhooks
        go back to received, from their first try, and are queued again; a processed one is
        left alone (processing is idempotent anyway), a batch is not a webhook."""
        records = list(queryset)
        queued = sum(record_retry(record) for record in records)
        self.message_user(
            request,
            _("Queued: %(queued)d. Skipped (processed, or an events batch): %(skipped)d.")
            % {"queued": queued, "skipped": len(records) - queued},
        )


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "original_name",
        "organization",
        "funnel",
        "status",
        "progress_percent",
        "error_count",
        "created_at",
    ]
    list_filter = ["organization", "status", "source"]
    list_select_related = ["organization", "funnel"]
    search_fields = ["original_name"]
    date_hierarchy = "created_at"
    # Media is not served: the report is downloaded through the admin, the upload not at all.
    exclude = ["file", "error_report"]
    readonly_fields = ["progress_percent", "error_report_link"]

    @admin.display(description=_("progress, %"))
    def progress_percent(self, job: ImportJob) -> float:
        return imports.progress(job)["percent"]

    @admin.display(description=_("error report"))
    def error_report_link(self, job: ImportJob) -> str:
        if not job.error_report:
            return "—"
        url = reverse("admin:funnel_importjob_error_report", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download (CSV)"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.error_report_view)
        own = [path("<int:pk>/error-report/", view, name="funnel_importjob_error_report")]
        return [*own, *super().get_urls()]

    def error_report_view(self, request: HttpRequest, pk: int) -> FileResponse:
        job = self.get_object(request, str(pk))
        if job is None or not self.has_view_permission(request, job):
            raise Http404(_("This import has no error report."))
        return error_report(job)


@admin.register(SavedMapping)
class SavedMappingAdmin(ReadOnlyAdmin):
    list_display = ["header_signature", "organization", "updated_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["=header_signature"]
