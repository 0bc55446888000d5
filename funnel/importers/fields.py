"""Our fields a file's columns can be mapped to (the leads frame of `funnel.ingest.schema`)."""

from collections.abc import Mapping, Sequence

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from funnel.ingest.schema import LEAD_COLUMNS

# The CRM's own stage (name or id) and, optionally, its pipeline: both only feed the stage map.
CRM_STAGE = "crm_stage"
PIPELINE = "pipeline"
# The CRM's stage group (Bitrix24's «Группа стадий»: in work / successful / failed): it tells
# won and lost apart whatever the final stages are called.
STAGE_GROUP = "stage_group"
# The currency of the row's amounts (Bitrix24's «Валюта»).
CURRENCY = "currency"
# The CRM's id of the responsible user (Bitrix24's ASSIGNED_BY_ID): with the name beside it,
# it teaches who `b24:<id>` in webhooks is; alone, it is the responsible as webhooks write it.
RESPONSIBLE_ID = "responsible_id"

# Everything of the leads frame a column can fill; line/stage/won/lost are derived.
MAPPABLE_FIELDS: tuple[str, ...] = (
    *(name for name in LEAD_COLUMNS if name not in ("line", "stage", "won", "lost")),
    CRM_STAGE,
    PIPELINE,
    STAGE_GROUP,
    CURRENCY,
    RESPONSIBLE_ID,
)
# Only the deal's id: a file updates only what it carries. A new lead needs a creation date
# (the loader says which rows lack one); without a stage a lead keeps its own (a new one starts
# at the first stage).
REQUIRED_FIELDS: tuple[str, ...] = ("external_id",)

DATE_FIELDS = ("created_at", "stage_at", "lost_at", "paid_at")
MONEY_FIELDS = ("amount", "gross_margin")
FLAG_FIELDS = ("is_target", "is_new_client")
TEXT_FIELDS = (
    "name",
    "channel",
    "non_target_reason",
    "responsible",
    "company",
    "lost_reason",
    "product",
)

FIELD_LABELS: dict[str, Promise] = {
    "external_id": _("Deal ID"),
    "name": _("Deal name"),
    "created_at": _("Created at"),
    "channel": _("Channel (lead source)"),
    "is_target": _("Target lead"),
    "non_target_reason": _("Non-target reason"),
    "responsible": _("Responsible"),
    "company": _("Company"),
    "stage_at": _("Reached the stage at"),
    "lost_reason": _("Lost reason"),
    "lost_at": _("Lost at"),
    "amount": _("Amount"),
    "gross_margin": _("Gross margin"),
    "product": _("Product"),
    "paid_at": _("Paid at (closing date)"),
    "is_new_client": _("New client"),
    CRM_STAGE: _("Stage in the CRM"),
    PIPELINE: _("Pipeline in the CRM"),
    STAGE_GROUP: _("Stage group in the CRM (won / lost / in work)"),
    CURRENCY: _("Currency"),
    RESPONSIBLE_ID: _("Responsible's user id in the CRM"),
}


# Fields a whole file may give one value instead of a column ("every row of this file is at
# stage X", "channel: Выставка", "currency: USD"): any but the deal's id and the CRM's pipeline
# and stage group.
CONSTANT_FIELDS: tuple[str, ...] = tuple(
    field
    for field in MAPPABLE_FIELDS
    if field not in ("external_id", PIPELINE, STAGE_GROUP, RESPONSIBLE_ID)
)
# The longest value a constant may have (the longest text column holds 300).
MAX_CONSTANT_CHARS = 300


def constant_column(field: str) -> str:
    """How a field's constant is named where a column would be (errors name it so)."""
    return f"= {field}"


def missing_columns(
    mapping: Mapping[str, str], headers: Sequence[str], constants: Mapping[str, str] = {}
) -> list[str]:
    """The required fields (in REQUIRED_FIELDS order) that no column of the file (nor a
    constant) fills: not mapped, or mapped to a column the file does not have."""
    present = set(headers)
    return [
        field
        for field in REQUIRED_FIELDS
        if mapping.get(field, "") not in present and field not in constants
    ]
