"""The staging tables of the loader: one temporary table `ingest_<kind>` per frame kind, its
columns and their SQL types, and which frame column names a person to resolve before staging."""

TEXT, INT, BIGINT, BOOL, STAMP, NUMERIC, DAY = (
    "text",
    "integer",
    "bigint",
    "boolean",
    "timestamptz",
    "numeric",
    "date",
)

# The flag staged beside a column of schema.SENT_COLUMNS: did the source send it at all.
SENT_SUFFIX = "_sent"

# Staging columns per frame: (column, SQL type). `member_id` / `credited_id` are resolved from
# the people's names before staging; `stage_position` from the frame's `stage`.
STAGING: dict[str, tuple[tuple[str, str], ...]] = {
    "leads": (
        ("line", INT),
        ("external_id", TEXT),
        ("name", TEXT),
        ("created_at", STAMP),
        ("channel", TEXT),
        ("is_target", BOOL),
        ("non_target_reason", TEXT),
        ("member_id", BIGINT),
        ("responsible_name", TEXT),
        ("company", TEXT),
        ("stage_position", INT),
        ("stage_at", STAMP),
        ("won", BOOL),
        ("lost", BOOL),
        ("lost_reason", TEXT),
        ("lost_at", STAMP),
        ("amount", NUMERIC),
        ("gross_margin", NUMERIC),
        ("product", TEXT),
        ("paid_at", STAMP),
        ("is_new_client", BOOL),
    ),
    "stage_events": (
        ("line", INT),
        ("lead_external_id", TEXT),
        ("stage_position", INT),
        ("reached_at", STAMP),
        ("member_id", BIGINT),
    ),
    "payments": (
        ("line", INT),
        ("external_id", TEXT),
        ("lead_external_id", TEXT),
        ("amount", NUMERIC),
        ("gross_margin", NUMERIC),
        ("product", TEXT),
        ("paid_at", STAMP),
        ("is_new_client", BOOL),
        ("credited_id", BIGINT),
    ),
    "spend": (("line", INT), ("channel", TEXT), ("date", DAY), ("amount", NUMERIC)),
    "calls": (
        ("line", INT),
        ("external_id", TEXT),
        ("member_id", BIGINT),
        ("lead_external_id", TEXT),
        ("at", STAMP),
        ("connected", BOOL),
        ("comment", TEXT),
        ("comment_sent", BOOL),
    ),
    "tasks": (
        ("line", INT),
        ("external_id", TEXT),
        ("lead_external_id", TEXT),
        ("member_id", BIGINT),
        ("due_at", STAMP),
        ("done_at", STAMP),
        ("text", TEXT),
        ("text_sent", BOOL),
    ),
}
# Which frame column names a person, and the staging column that gets their membership id.
PEOPLE_COLUMNS = {
    "leads": ("responsible", "member_id"),
    "stage_events": ("member", "member_id"),
    "payments": ("credited", "credited_id"),
    "calls": ("member", "member_id"),
    "tasks": ("member", "member_id"),
}
STAMP_COLUMNS = {name for cols in STAGING.values() for name, kind in cols if kind == STAMP}
