"""The SQL of the loader's writes, reading the staging tables (`ingest_<kind>`, see `staging`).
Parameters are %(org)s, %(funnel)s, %(source)s and %(now)s.

**A load updates only what it carries.** In the staging tables an unknown value is NULL (an
empty text is ''), and an existing row keeps its value where the load's is unknown:
`COALESCE(NULLIF(s.name, ''), l.name)`. A column the user asked to clear ("empty cells clear
values") takes the load's value as it is, empty included. A lead's creation date is set once,
by the load that brings the lead, and kept. A lead's outcome (won, lost, the stage reached) is
known only when the load carries a stage: otherwise the lead keeps its stage and its loss.

Leads and their payments are written in two statements: an UPDATE of the rows that exist and
changed, then an INSERT of the new ones (an `INSERT … ON CONFLICT` cannot tell an unknown value
from an empty one: its proposed row must already hold a value for every NOT NULL column).
Every statement writes only the rows that change, so loading the same data twice changes
nothing. The other tables have an `INSERT … ON CONFLICT … DO UPDATE`.
"""

from collections.abc import Collection, Sequence

LEAD_KEY = "l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.external_id"


def _changed(target: str, assignments: Sequence[tuple[str, str]]) -> str:
    return " OR ".join(
        f"{target}.{column} IS DISTINCT FROM ({value})" for column, value in assignments
    )


def _set(assignments: Sequence[tuple[str, str]]) -> str:
    return ",\n    ".join(f"{column} = {value}" for column, value in assignments)


def _text(column: str, target: str, clear: Collection[str], staged: str = "") -> str:
    """A text column: an empty value keeps the stored one, unless the column is cleared
    (`clear` names the staged columns, as the frames do)."""
    name = staged or column
    return f"s.{name}" if name in clear else f"COALESCE(NULLIF(s.{name}, ''), {target}.{column})"


def _value(column: str, target: str, clear: Collection[str], staged: str = "") -> str:
    """A nullable column: NULL (unknown) keeps the stored value, unless the column is cleared."""
    name = staged or column
    return f"s.{name}" if name in clear else f"COALESCE(s.{name}, {target}.{column})"


def _responsible(target_column: str, staged: str, target: str, clear: Collection[str]) -> str:
    """The responsible person: their membership id and the name as the CRM wrote it change
    together, when the load names someone (an unknown person clears the id)."""
    if "responsible" in clear:
        return f"s.{staged}"
    return f"CASE WHEN s.responsible_name <> '' THEN s.{staged} ELSE {target}.{target_column} END"


def lead_assignments(clear: Collection[str] = ()) -> list[tuple[str, str]]:
    """Each column of an existing lead and the value a load gives it (reads `s`, the staged
    row, `l`, the stored lead, and `st`, the stage the load names)."""
    return [
        ("funnel_id", "%(funnel)s"),
        ("name", _text("name", "l", clear)),
        ("channel", _text("channel", "l", clear)),
        ("is_target", _value("is_target", "l", clear)),
        ("non_target_reason", _text("non_target_reason", "l", clear)),
        ("responsible_id", _responsible("responsible_id", "member_id", "l", clear)),
        ("responsible_name", _responsible("responsible_name", "responsible_name", "l", clear)),
        ("company", _text("company", "l", clear)),
        # A lost deal keeps the stage it reached (how far it got is not in the export).
        ("current_stage_id", "COALESCE(st.id, l.current_stage_id)"),
        (
            "lost_reason",
            "CASE WHEN s.lost IS NULL THEN l.lost_reason WHEN s.lost THEN "
            "COALESCE(NULLIF(s.lost_reason, ''), l.lost_reason) ELSE '' END",
        ),
        (
            "lost_at",
            "CASE WHEN s.lost IS NULL THEN l.lost_at WHEN s.lost THEN "
            "COALESCE(s.lost_at, l.lost_at) ELSE NULL END",
        ),
    ]


def lead_update_sql(clear: Collection[str] = ()) -> str:
    """The existing leads the load says something new about."""
    assignments = lead_assignments(clear)
    return f"""
UPDATE funnel_lead AS l SET
    {_set(assignments)},
    updated_at = %(now)s
FROM ingest_leads s
LEFT JOIN funnel_stage st ON st.funnel_id = %(funnel)s AND st.position = s.stage_position
WHERE {LEAD_KEY} AND ({_changed("l", assignments)})
"""


# New leads: a creation date is needed (`missing_created_at` reports the rows without one).
LEADS_INSERT_SQL = f"""
INSERT INTO funnel_lead (organization_id, funnel_id, source, external_id, name, created_at,
    channel, is_target, non_target_reason, responsible_id, responsible_name, company,
    current_stage_id, lost_reason, lost_at, updated_at)
SELECT %(org)s, %(funnel)s, %(source)s, s.external_id, s.name, s.created_at, s.channel,
    s.is_target, s.non_target_reason, s.member_id, s.responsible_name, s.company, st.id,
    CASE WHEN s.lost THEN s.lost_reason ELSE '' END, CASE WHEN s.lost THEN s.lost_at END,
    %(now)s
FROM ingest_leads s
LEFT JOIN funnel_stage st ON st.funnel_id = %(funnel)s AND st.position = s.stage_position
WHERE s.created_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM funnel_lead l WHERE {LEAD_KEY})
"""

MISSING_CREATED_AT_SQL = f"""
SELECT s.line, s.external_id FROM ingest_leads s
WHERE s.created_at IS NULL AND NOT EXISTS (SELECT 1 FROM funnel_lead l WHERE {LEAD_KEY})
ORDER BY s.line
"""

# When a won deal was paid: the moment its payment gets (LEAD_PAYMENTS_INSERT_SQL).
_PAID_AT = "COALESCE(s.paid_at, s.stage_at, l.created_at)"
# When the load says the lead reached its stage (the stage date, else its creation).
_STAGE_AT = "COALESCE(s.stage_at, l.created_at)"

# Every stage up to the one reached, at the same moment (DOMAIN section 3); the first stage
# when the lead came. A load that carries no stage implies only the first stage (which the
# lead has already).
#
# A won deal reaches its last stage (paid) when it is paid, at its payment's moment, so the
# paid stage's volume of a month is the deals won that month, as revenue and won deals (from
# payments) are. The payment's moment wins over a stage date: the stage date is then when the
# CRM moved the deal, the paid stage is the payment. A file without stage dates (Maven) thus
# puts the paid stage on the closing date, the stages between at the creation.
# The stages between are reached at the stage date (else the creation), but never after the
# payment: a stage above the paid one is not reached after it. The first stage is always the
# lead's creation (the leads of a day are counted by it): a payment dated before its lead
# came is the CRM's data error, kept as written. (The minimum of two moments is a CASE, not
# LEAST: SQLite has no LEAST, and its two-argument MIN is NULL when either is.)
IMPLIED_EVENTS_SQL = f"""
INSERT INTO funnel_stageevent (organization_id, lead_id, stage_id, reached_at, member_id)
SELECT %(org)s, l.id, st.id,
    CASE
        WHEN st.position = 0 THEN l.created_at
        WHEN s.won AND st.position = s.stage_position THEN {_PAID_AT}
        WHEN s.won AND {_STAGE_AT} > {_PAID_AT} THEN {_PAID_AT}
        ELSE {_STAGE_AT}
    END,
    s.member_id
FROM ingest_leads s
JOIN funnel_lead l ON {LEAD_KEY}
JOIN funnel_stage st
  ON st.funnel_id = %(funnel)s AND st.position <= COALESCE(s.stage_position, 0)
WHERE true
ON CONFLICT (lead_id, stage_id) DO UPDATE SET reached_at = EXCLUDED.reached_at
WHERE EXCLUDED.reached_at < funnel_stageevent.reached_at
"""

EVENTS_SQL = """
INSERT INTO funnel_stageevent (organization_id, lead_id, stage_id, reached_at, member_id)
SELECT %(org)s, l.id, st.id, MIN(s.reached_at), MAX(s.member_id)
FROM ingest_stage_events s
JOIN funnel_lead l
  ON l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.lead_external_id
JOIN funnel_stage st ON st.funnel_id = %(funnel)s AND st.position <= s.stage_position
GROUP BY l.id, st.id
ON CONFLICT (lead_id, stage_id) DO UPDATE SET reached_at = EXCLUDED.reached_at
WHERE EXCLUDED.reached_at < funnel_stageevent.reached_at
"""


def lead_payment_assignments(clear: Collection[str] = ()) -> list[tuple[str, str]]:
    """Each column of a stored payment (`p`) and the value a load's lead row (`s`) gives it."""
    return [
        ("lead_id", "l.id"),
        ("amount", "COALESCE(s.amount, p.amount)"),
        ("gross_margin", _value("gross_margin", "p", clear)),
        ("product_id", "CASE WHEN s.product <> '' THEN pr.id ELSE p.product_id END"),
        ("product_name", _text("product_name", "p", clear, staged="product")),
        ("paid_at", "COALESCE(s.paid_at, p.paid_at)"),
        ("is_new_client", _value("is_new_client", "p", clear)),
        ("credited_member_id", _responsible("credited_member_id", "member_id", "p", clear)),
    ]


def lead_payment_update_sql(clear: Collection[str] = ()) -> str:
    """The payment of a won deal (keyed like the lead) takes what the load says of it; a load
    that does not know the outcome updates a payment that exists."""
    assignments = lead_payment_assignments(clear)
    return f"""
UPDATE funnel_payment AS p SET
    {_set(assignments)}
FROM ingest_leads s
JOIN funnel_lead l ON {LEAD_KEY}
LEFT JOIN salesplan_product pr ON pr.organization_id = %(org)s AND pr.name = s.product
WHERE p.organization_id = %(org)s AND p.source = %(source)s AND p.external_id = s.external_id
  AND s.won IS NOT FALSE AND ({_changed("p", assignments)})
"""


LEAD_PAYMENTS_INSERT_SQL = f"""
INSERT INTO funnel_payment (organization_id, lead_id, source, external_id, amount, gross_margin,
    product_id, product_name, paid_at, is_new_client, credited_member_id)
SELECT %(org)s, l.id, %(source)s, s.external_id, s.amount, s.gross_margin, pr.id, s.product,
    {_PAID_AT}, s.is_new_client, s.member_id
FROM ingest_leads s
JOIN funnel_lead l ON {LEAD_KEY}
LEFT JOIN salesplan_product pr ON pr.organization_id = %(org)s AND pr.name = s.product
WHERE s.won AND s.amount IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM funnel_payment p
    WHERE p.organization_id = %(org)s AND p.source = %(source)s AND p.external_id = s.external_id)
"""


def _upsert_set(target: str, assignments: Sequence[tuple[str, str]]) -> str:
    return f"""{_set(assignments)}
WHERE {_changed(target, assignments)}"""


# The events API's payments: optional fields it does not send keep their stored values.
_PAYMENT_ASSIGNMENTS = [
    ("lead_id", "EXCLUDED.lead_id"),
    ("amount", "EXCLUDED.amount"),
    ("gross_margin", "COALESCE(EXCLUDED.gross_margin, funnel_payment.gross_margin)"),
    ("product_id", "COALESCE(EXCLUDED.product_id, funnel_payment.product_id)"),
    (
        "product_name",
        "COALESCE(NULLIF(EXCLUDED.product_name, ''), funnel_payment.product_name)",
    ),
    ("paid_at", "EXCLUDED.paid_at"),
    ("is_new_client", "COALESCE(EXCLUDED.is_new_client, funnel_payment.is_new_client)"),
    (
        "credited_member_id",
        "COALESCE(EXCLUDED.credited_member_id, funnel_payment.credited_member_id)",
    ),
]
PAYMENTS_SQL = f"""
INSERT INTO funnel_payment (organization_id, lead_id, source, external_id, amount, gross_margin,
    product_id, product_name, paid_at, is_new_client, credited_member_id)
SELECT %(org)s, l.id, %(source)s, s.external_id, s.amount, s.gross_margin, p.id, s.product,
    COALESCE(s.paid_at, l.created_at), s.is_new_client, s.credited_id
FROM ingest_payments s
JOIN funnel_lead l
  ON l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.lead_external_id
LEFT JOIN salesplan_product p ON p.organization_id = %(org)s AND p.name = s.product
WHERE true
ON CONFLICT (organization_id, source, external_id) DO UPDATE SET
    {_upsert_set("funnel_payment", _PAYMENT_ASSIGNMENTS)}
"""

SPEND_SQL = """
INSERT INTO funnel_spend (organization_id, channel, date, amount)
SELECT %(org)s, s.channel, s.date, SUM(s.amount) FROM ingest_spend s GROUP BY s.channel, s.date
ON CONFLICT (organization_id, channel, date) DO UPDATE SET amount = EXCLUDED.amount
WHERE funnel_spend.amount IS DISTINCT FROM EXCLUDED.amount
"""

_CALL_ASSIGNMENTS = [
    ("member_id", "COALESCE(EXCLUDED.member_id, funnel_call.member_id)"),
    ("lead_id", "COALESCE(EXCLUDED.lead_id, funnel_call.lead_id)"),
    ("at", "EXCLUDED.at"),
    ("connected", "EXCLUDED.connected"),
    # Only a load that sends the comment changes it (an empty one included): NULL is not sent.
    ("comment", "COALESCE(EXCLUDED.comment, funnel_call.comment)"),
]
CALLS_SQL = f"""
INSERT INTO funnel_call (organization_id, source, external_id, member_id, lead_id, at, connected,
    comment)
SELECT %(org)s, %(source)s, s.external_id, s.member_id, l.id, s.at, s.connected,
    CASE WHEN s.comment_sent THEN s.comment END
FROM ingest_calls s
LEFT JOIN funnel_lead l
  ON l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.lead_external_id
WHERE true
ON CONFLICT (organization_id, source, external_id) DO UPDATE SET
    {_upsert_set("funnel_call", _CALL_ASSIGNMENTS)}
"""

_TASK_ASSIGNMENTS = [
    ("lead_id", "COALESCE(EXCLUDED.lead_id, funnel_task.lead_id)"),
    ("member_id", "COALESCE(EXCLUDED.member_id, funnel_task.member_id)"),
    ("due_at", "EXCLUDED.due_at"),
    ("done_at", "COALESCE(EXCLUDED.done_at, funnel_task.done_at)"),
    # Only a load that sends the text changes it (an empty one included): NULL is not sent.
    ("text", "COALESCE(EXCLUDED.text, funnel_task.text)"),
]
TASKS_SQL = f"""
INSERT INTO funnel_task (organization_id, source, external_id, lead_id, member_id, due_at,
    done_at, text)
SELECT %(org)s, %(source)s, s.external_id, l.id, s.member_id, s.due_at, s.done_at,
    CASE WHEN s.text_sent THEN s.text END
FROM ingest_tasks s
LEFT JOIN funnel_lead l
  ON l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.lead_external_id
WHERE true
ON CONFLICT (organization_id, source, external_id) DO UPDATE SET
    {_upsert_set("funnel_task", _TASK_ASSIGNMENTS)}
"""
