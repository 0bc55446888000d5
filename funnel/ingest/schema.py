"""The normalized frames every source produces, and the loader consumes.

Each frame is a pandas DataFrame with exactly these columns (extra columns are ignored).
Types: str columns hold Python str ("" for empty), datetimes are tz-aware UTC
(`datetime64[ns, UTC]`, NaT for empty), money is str of a plain decimal ("1000000.50",
"" for empty) so no float ever touches it, booleans are the nullable "boolean" dtype,
stage is the position of our funnel stage (nullable "Int64").

`line` is where the row came from (file line number, or the item index in an API batch) so
every error can name it.
"""

from decimal import Decimal

# Money fits the columns: Decimal(max_digits=16, decimal_places=2).
MONEY_LIMIT = Decimal(10) ** 14

# One row per lead (deal). `stage` is the furthest stage it reached (implied stages above it
# are reached too, DOMAIN section 3); `won` marks a deal won (the last stage, a payment if it
# has an amount); `lost` marks it lost with `lost_reason` / `lost_at`. A value the source does
# not carry is unknown ("" text, NaT, <NA>; won and lost <NA> together when there is no stage):
# the loader keeps what it has stored for it.
LEAD_COLUMNS = (
    "line",
    "external_id",
    "name",
    "created_at",
    "channel",
    "is_target",
    "non_target_reason",
    "responsible",  # a person's name or e-mail, as the CRM wrote it
    "company",
    "stage",  # Int64 position of our stage, <NA> if unknown (only the first stage)
    "stage_at",  # when it reached `stage` (NaT: created_at)
    "won",
    "lost",
    "lost_reason",
    "lost_at",
    "amount",  # budget / payment amount, str decimal
    "gross_margin",
    "product",
    "paid_at",  # NaT: closed or stage_at
    "is_new_client",
)

# Explicit stage events (the events API): lead X reached stage Y at T.
EVENT_COLUMNS = ("line", "lead_external_id", "stage", "reached_at", "member")

PAYMENT_COLUMNS = (
    "line",
    "external_id",
    "lead_external_id",
    "amount",
    "gross_margin",
    "product",
    "paid_at",
    "is_new_client",
    "credited",  # the salesperson credited (name or e-mail)
)

SPEND_COLUMNS = ("line", "channel", "date", "amount")  # date: the local day, datetime64 date
# A call's comment and a task's text: None where the source did not send them (the stored
# value is kept), "" where it sent them empty.
CALL_COLUMNS = (
    "line",
    "external_id",
    "member",
    "lead_external_id",
    "at",
    "connected",
    "comment",
)
TASK_COLUMNS = (
    "line",
    "external_id",
    "lead_external_id",
    "member",
    "due_at",
    "done_at",
    "text",
)
# Frame columns that may be absent from a source (None) rather than empty: staged with a
# `<column>_sent` flag beside them, so the upsert keeps the stored value when it was not sent.
SENT_COLUMNS = {"calls": ("comment",), "tasks": ("text",)}

FRAME_COLUMNS = {
    "leads": LEAD_COLUMNS,
    "stage_events": EVENT_COLUMNS,
    "payments": PAYMENT_COLUMNS,
    "spend": SPEND_COLUMNS,
    "calls": CALL_COLUMNS,
    "tasks": TASK_COLUMNS,
}


# Where a raw CRM stage goes: our stage (its position), or the deal's outcome.
WON = "won"
LOST = "lost"


class RowError:
    """A bad value: which line, which column, what was there and why it is wrong."""

    __slots__ = ("column", "line", "reason", "value")

    def __init__(self, line: int, column: str, value: object, reason: str) -> None:
        self.line = line
        self.column = column
        self.value = "" if value is None else str(value)
        self.reason = reason  # in the user's language (translate before constructing)

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }

    def __repr__(self) -> str:
        return f"RowError({self.line}, {self.column!r}, {self.value!r}, {self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowError) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash((self.line, self.column, self.value, self.reason))
