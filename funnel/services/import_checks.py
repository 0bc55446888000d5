"""The check before an import: a dry run (`funnel.tasks.check_import`) that reads the file with
the chosen settings, stages it like the import does, and counts what the import would change,
writing nothing. Its findings are kept on the job (`ImportJob.changes`) and shown by the page
and the API until the import is confirmed.
"""

import copy
import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from funnel import importers
from funnel.ingest.preview import SAMPLE_ROWS, Changes, TableChanges
from funnel.models import ImportJob
from funnel.services import jobs
from funnel.services.imports import file_info, loader_for, stage_file
from salesplan.formatting import format_money, format_number
from salesplan.models import Membership

logger = logging.getLogger(__name__)

# The rows with errors listed in the check (the import's report lists all of them).
ERRORS_SHOWN = 20
MONEY = ("amount", "gross_margin")
MOMENTS = ("lost_at", "paid_at")
FLAGS = ("is_target", "is_new_client")


def import_check_run(*, job_id: int, token: str) -> None:
    """Run the check queued with `token`; a later check or a confirmation supersedes it (its
    findings are then dropped). Nothing is written but the findings."""
    if not jobs.claim_check(job_id, token):
        return
    job = ImportJob.objects.select_related("organization", "funnel").get(pk=job_id)
    try:
        findings = _check(job)
    except Exception as error:  # the job must go back to a state the user can act on
        logger.exception("import check %s failed", job_id)
        findings = {"error": _("The check stopped: %(error)s") % {"error": error}}
    ImportJob.objects.filter(
        pk=job_id, status=ImportJob.Status.CHECKING, changes__token=token
    ).update(
        status=ImportJob.Status.PREVIEW,
        changes={"token": token, "checked_at": timezone.now().isoformat(), **findings},
        processed_rows=0,
        started_at=None,
    )


def _check(job: ImportJob) -> dict[str, Any]:
    info = file_info(job)
    loader = loader_for(job)
    try:
        errors = stage_file(job, loader, info=info)
        found = loader.preview()
    finally:
        loader.abort()
    members = _member_names(job, found)
    shown = _Shown(job, members)
    return {
        "tables": {name: shown.table(table) for name, table in found.tables.items()},
        "error_rows": len({error.line for error in errors}),
        "errors": [error.as_dict() for error in errors[:ERRORS_SHOWN]],
        "currency": _currency(job, found),
    }


def _member_names(job: ImportJob, found: Changes) -> dict[int, str]:
    ids = {
        value
        for table in found.tables.values()
        for _line, _id, changes in table.sample
        for field, old, new in changes
        if field == "credited"
        for value in (old, new)
        if value
    }
    members = Membership.objects.filter(organization=job.organization, pk__in=ids)
    return {member.pk: member.display_name for member in members.select_related("user")}


class _Shown:
    """Stored values as a person reads them, in the language of who asked for the check."""

    def __init__(self, job: ImportJob, members: dict[int, str]) -> None:
        self.tz = ZoneInfo(job.organization.time_zone)
        self.currency = job.organization.currency
        self.language = translation.get_language() or "ru"
        self.members = members

    def table(self, table: TableChanges) -> dict[str, Any]:
        return {
            "new": table.new,
            "changed": table.changed,
            "unchanged": table.unchanged,
            "refused": table.refused,
            "fields": table.fields,
            "sample": [
                {
                    "line": line,
                    "external_id": external_id,
                    "changes": [
                        {"field": name, "old": self.value(name, old), "new": self.value(name, new)}
                        for name, old, new in changes
                    ],
                }
                for line, external_id, changes in table.sample[:SAMPLE_ROWS]
            ],
        }

    def value(self, field: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if field in FLAGS:
            return _("yes") if value in (True, 1, "1", "t", "true") else _("no")
        if field == "credited":
            return self.members.get(int(value), str(value))
        if field in MONEY:
            try:
                return format_money(Decimal(str(value)), self.currency, self.language)
            except InvalidOperation:
                return str(value)
        if field in MOMENTS:
            return self.moment(value)
        return str(value)[:200]

    def moment(self, value: Any) -> str:
        if isinstance(value, str):  # SQLite keeps naive UTC text
            try:
                value = datetime.fromisoformat(value).replace(tzinfo=ZoneInfo("UTC"))
            except ValueError:
                return value
        return value.astimezone(self.tz).strftime("%d.%m.%Y %H:%M")


def _currency(job: ImportJob, found: Changes) -> dict[str, Any] | None:
    """A warning when the file's won amounts average far from the stored payments'."""
    if not found.amounts_look_foreign:
        return None
    language = translation.get_language() or "ru"
    currency = job.organization.currency
    ratio = found.currency_ratio or 1
    values = {
        "file": format_money(Decimal(round(found.file_average or 0)), currency, language),
        "stored": format_money(Decimal(round(found.stored_average or 0)), currency, language),
        "times": format_number(Decimal(str(max(ratio, 1 / ratio))), language),
    }
    if ratio > 1:
        message = _(
            "The won amounts of this file average %(file)s, %(times)s times more than the "
            "%(stored)s of the payments already stored: is the file in another currency (or in "
            "kopecks)? Map its currency column, or give the file's currency and its rate."
        )
    else:
        message = _(
            "The won amounts of this file average %(file)s, %(times)s times less than the "
            "%(stored)s of the payments already stored: is the file in another currency (or in "
            "thousands)? Map its currency column, or give the file's currency and its rate."
        )
    return {
        "file_average": values["file"],
        "stored_average": values["stored"],
        "ratio": round(ratio, 3),
        "message": message % values,
    }


def import_changes(job: ImportJob) -> dict[str, Any]:
    """The check's findings as the page and the API show them (fields with their labels);
    empty when no check has finished."""
    changes = copy.deepcopy(job.changes or {})
    if "tables" not in changes and "error" not in changes:
        return {}
    labels = {**importers.FIELD_LABELS, **EXTRA_LABELS}
    for name, table in changes.get("tables", {}).items():
        table = dict(table)
        table["fields"] = [
            {"field": field, "label": str(labels.get(field, field)), "count": count}
            for field, count in table.get("fields", {}).items()
        ]
        table["label"] = str(TABLE_LABELS.get(name, name))
        for row in table.get("sample", []):
            for change in row["changes"]:
                change["label"] = str(labels.get(change["field"], change["field"]))
        changes["tables"][name] = table
    changes.pop("token", None)
    return changes


EXTRA_LABELS = {
    "funnel": gettext_lazy("Funnel"),
    "stage": gettext_lazy("Stage"),
    "credited": gettext_lazy("Credited to"),
}
TABLE_LABELS = {"leads": gettext_lazy("Leads"), "payments": gettext_lazy("Payments")}
