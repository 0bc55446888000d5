"""File imports over the API: the same functions as the import pages (funnel.services.imports)."""

from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from funnel import importers
from funnel.models import Funnel, ImportJob
from funnel.selectors import error_report
from funnel.services import import_checks, imports, jobs, uploads
from salesplan.api.fields import LimitedDictField, ScopedPrimaryKeyField
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.parsers import JSONParser
from salesplan.api.permissions import ManagesImports
from salesplan.limits import MAX_CELL_CHARS, MAX_CRM_STAGES


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV or XLSX export (amoCRM, Bitrix24, Maven, …)")
    funnel = ScopedPrimaryKeyField(
        Funnel, error_messages={"does_not_exist": _("This funnel is not in your organization.")}
    )
    preset = serializers.ChoiceField(
        choices=["amocrm", "bitrix24", "maven", "generic"],
        required=False,
        help_text="Detected from the headers when omitted.",
    )


class ImportSettingsSerializer(serializers.Serializer):
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="Our field → the file's column (overrides the detected mapping).",
    )
    stage_map = LimitedDictField(
        child=serializers.CharField(allow_blank=True, max_length=MAX_CELL_CHARS),
        required=False,
        max_items=MAX_CRM_STAGES,
        help_text='The CRM\'s stage → our stage name, "won" or "lost".',
    )
    constants = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=importers.MAX_CONSTANT_CHARS),
        required=False,
        help_text=(
            "Our field → one value for every row of the file instead of a column, e.g. "
            '{"crm_stage": "Целевой лид", "channel": "Выставка", "currency": "USD"}.'
        ),
    )
    rates = serializers.DictField(
        child=serializers.CharField(max_length=50),
        required=False,
        help_text=(
            'A currency → its rate to the organization\'s, e.g. {"USD": "92.5"}: rows in that '
            "currency are converted; rows in a currency with no rate are refused."
        ),
    )
    valid_rows_only = serializers.BooleanField(
        default=False, help_text="Write the valid rows and report the bad ones."
    )
    clear_empty = serializers.BooleanField(
        default=False,
        help_text=(
            "Empty cells of the mapped columns clear the stored values. By default a file "
            "updates only what it carries: an empty cell (or an unmapped column) keeps them."
        ),
    )


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField(
        help_text=(
            "What the last check found the import would change: per table (leads, payments) "
            "new / changed / unchanged / refused rows, the fields that change with their count "
            "and a sample of old → new values; error_rows and the first errors; currency, a "
            "warning when amounts look like another currency. Empty before a check."
        )
    )
    error_report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "original_name",
            "funnel",
            "preset",
            "source",
            "status",
            "valid_rows_only",
            "clear_empty",
            "mapping",
            "stage_map",
            "constants",
            "rates",
            "changes",
            "total_rows",
            "processed_rows",
            "progress",
            "counts",
            "error_count",
            "errors",
            "error_report_url",
            "message",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "attempts",
        ]
        read_only_fields = fields

    def get_progress(self, job: ImportJob) -> dict[str, Any]:
        return imports.progress(job)

    def get_changes(self, job: ImportJob) -> dict[str, Any]:
        return import_checks.import_changes(job)

    def get_error_report_url(self, job: ImportJob) -> str | None:
        if not job.error_report:
            return None
        request = self.context.get("request")
        path = f"/api/v1/imports/{job.pk}/errors/"
        return request.build_absolute_uri(path) if request else path


# A job is queued (202), or kept waiting for a queue that is down (503, `queue_unavailable`).
QUEUED_RESPONSES = {202: ImportJobSerializer, 503: OpenApiTypes.OBJECT}


class ImportViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Upload an export (preview), confirm it (a background job), follow its progress."""

    serializer_class = ImportJobSerializer
    permission_classes = [ManagesImports]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def base_queryset(self):
        return ImportJob.objects.select_related("funnel")

    @extend_schema(request=ImportUploadSerializer, responses={201: OpenApiTypes.OBJECT})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Store the file, detect the preset, and return the preview with the mapping. A file
        above IMPORT_INSPECT_INLINE_MB is read by a job: the answer has `status` "inspecting"
        and `preview` null; GET the import until it is "preview" (or "failed", with the
        reason in `message`)."""
        serializer = ImportUploadSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        job = uploads.import_create(
            membership=self.membership,
            funnel=serializer.validated_data["funnel"],
            uploaded=serializer.validated_data["file"],
            preset=serializer.validated_data.get("preset"),
        )
        body = ImportJobSerializer(job, context=self.get_serializer_context()).data
        reading = job.status == ImportJob.Status.INSPECTING
        body["preview"] = None if reading else imports.import_preview(job)
        return Response(body, status=status.HTTP_201_CREATED)

    def _settings(self, request: Request) -> imports.ImportSettings:
        serializer = ImportSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return imports.ImportSettings(
            mapping=data.get("mapping"),
            stage_map=data.get("stage_map"),
            constants=data.get("constants"),
            rates=data.get("rates"),
            valid_rows_only=data["valid_rows_only"],
            clear_empty=data["clear_empty"],
        )

    def _accepted(self, job: ImportJob) -> Response:
        job.refresh_from_db()
        return Response(
            ImportJobSerializer(job, context=self.get_serializer_context()).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(request=ImportSettingsSerializer, responses=QUEUED_RESPONSES)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """Start the import with the detected (or overridden) mapping. 503 when the job
        queue is down: the job is kept "waiting" (for the queue) and starts by itself once the
        queue is back."""
        job = self.get_object()
        return self._accepted(imports.import_confirm(job=job, settings=self._settings(request)))

    @extend_schema(request=ImportSettingsSerializer, responses=QUEUED_RESPONSES)
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str | None = None) -> Response:
        """Count what the import would change with these settings, writing nothing: the job's
        status is "checking" until `changes` holds leads and payments new / changed /
        unchanged, the fields that change with a sample of old → new values, the rows with
        errors, and a warning when amounts look like another currency. Confirm at any time."""
        job = self.get_object()
        return self._accepted(imports.import_check(job=job, settings=self._settings(request)))

    @extend_schema(request=None, responses=QUEUED_RESPONSES)
    @action(detail=True, methods=["post"], url_path="run-again")
    def run_again(self, request: Request, pk: str | None = None) -> Response:
        """Start a failed import again with the settings it was confirmed with (e.g. after
        its worker was lost JOB_MAX_ATTEMPTS times), or queue a job waiting for the queue
        now. 400 for any other job; 503 when the queue is down (the job then waits for it
        and starts by itself once it is back)."""
        return self._accepted(jobs.import_run_again(job=self.get_object()))

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def errors(self, request: Request, pk: str | None = None) -> FileResponse:
        """The full error report: line, column, value, reason."""
        return error_report(self.get_object())

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        """The preview again: first rows, mapping, the CRM's stages and where they go."""
        return Response(imports.import_preview(self.get_object()))
