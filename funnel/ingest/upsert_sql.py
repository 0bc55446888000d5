"""The SQL of the loader's upserts: one `INSERT … SELECT … ON CONFLICT` per target table, reading
the staging tables (`ingest_<kind>`, see `staging`). Each writes only the rows that changed
(`{distinct}` becomes `IS DISTINCT FROM`); parameters are %(org)s, %(funnel)s, %(source)s and
%(now)s.
"""

from collections.abc import Sequence


def _changed(table: str, columns: Sequence[str]) -> str:
    return " OR ".join(f"{table}.{c} {{distinct}} EXCLUDED.{c}" for c in columns)


LEAD_UPDATE = (
    "funnel_id",
    "name",
    "created_at",
    "channel",
    "is_target",
    "non_target_reason",
    "responsible_id",
    "responsible_name",
    "company",
    "current_stage_id",
    "lost_reason",
    "lost_at",
)
LEADS_SQL = f"""
INSERT INTO funnel_lead (organization_id, funnel_id, source, external_id, name, created_at,
    channel, is_target, non_target_reason, responsible_id, responsible_name, company,
    current_stage_id, lost_reason, lost_at, updated_at)
SELECT %(org)s, %(funnel)s, %(source)s, s.external_id, s.name, s.created_at, s.channel,
    s.is_target, s.non_target_reason, s.member_id, s.responsible_name, s.company, st.id,
    s.lost_reason, CASE WHEN s.lost THEN s.lost_at END, %(now)s
FROM ingest_leads s
LEFT JOIN funnel_stage st ON st.funnel_id = %(funnel)s AND st.position = s.stage_position
WHERE true
ON CONFLICT (organization_id, source, external_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in LEAD_UPDATE)}, updated_at = EXCLUDED.updated_at
WHERE {_changed("funnel_lead", LEAD_UPDATE)}
"""

# Every stage up to the one reached, at the same moment; the first stage when the lead came.
IMPLIED_EVENTS_SQL = """
INSERT INTO funnel_stageevent (organization_id, lead_id, stage_id, reached_at, member_id)
SELECT %(org)s, l.id, st.id,
    CASE WHEN st.position = 0 THEN s.created_at ELSE COALESCE(s.stage_at, s.created_at) END,
    s.member_id
FROM ingest_leads s
JOIN funnel_lead l
  ON l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.external_id
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

PAYMENT_UPDATE = (
    "lead_id",
    "amount",
    "gross_margin",
    "product_id",
    "product_name",
    "paid_at",
    "is_new_client",
    "credited_member_id",
)
LEAD_PAYMENTS_SQL = f"""
INSERT INTO funnel_payment (organization_id, lead_id, source, external_id, amount, gross_margin,
    product_id, product_name, paid_at, is_new_client, credited_member_id)
SELECT %(org)s, l.id, %(source)s, s.external_id, s.amount, s.gross_margin, p.id, s.product,
    COALESCE(s.paid_at, s.stage_at, s.created_at), s.is_new_client, s.member_id
FROM ingest_leads s
JOIN funnel_lead l
  ON l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.external_id
LEFT JOIN salesplan_product p ON p.organization_id = %(org)s AND p.name = s.product
WHERE s.won AND s.amount IS NOT NULL
ON CONFLICT (organization_id, source, external_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in PAYMENT_UPDATE)}
WHERE {_changed("funnel_payment", PAYMENT_UPDATE)}
"""

PAYMENTS_SQL = f"""
INSERT INTO funnel_payment (organization_id, lead_id, source, external_id, amount, gross_margin,
    product_id, product_name, paid_at, is_new_client, credited_member_id)
SELECT %(org)s, l.id, %(source)s, s.external_id, s.amount, s.gross_margin, p.id, s.product,
    s.paid_at, s.is_new_client, s.credited_id
FROM ingest_payments s
JOIN funnel_lead l
  ON l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.lead_external_id
LEFT JOIN salesplan_product p ON p.organization_id = %(org)s AND p.name = s.product
WHERE true
ON CONFLICT (organization_id, source, external_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in PAYMENT_UPDATE)}
WHERE {_changed("funnel_payment", PAYMENT_UPDATE)}
"""

SPEND_SQL = """
INSERT INTO funnel_spend (organization_id, channel, date, amount)
SELECT %(org)s, s.channel, s.date, SUM(s.amount) FROM ingest_spend s GROUP BY s.channel, s.date
ON CONFLICT (organization_id, channel, date) DO UPDATE SET amount = EXCLUDED.amount
WHERE funnel_spend.amount {distinct} EXCLUDED.amount
"""

CALL_UPDATE = ("member_id", "lead_id", "at", "connected")
CALLS_SQL = f"""
INSERT INTO funnel_call (organization_id, source, external_id, member_id, lead_id, at, connected)
SELECT %(org)s, %(source)s, s.external_id, s.member_id, l.id, s.at, s.connected
FROM ingest_calls s
LEFT JOIN funnel_lead l
  ON l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.lead_external_id
WHERE true
ON CONFLICT (organization_id, source, external_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in CALL_UPDATE)}
WHERE {_changed("funnel_call", CALL_UPDATE)}
"""

TASK_UPDATE = ("lead_id", "member_id", "due_at", "done_at")
TASKS_SQL = f"""
INSERT INTO funnel_task (organization_id, source, external_id, lead_id, member_id, due_at,
    done_at)
SELECT %(org)s, %(source)s, s.external_id, l.id, s.member_id, s.due_at, s.done_at
FROM ingest_tasks s
LEFT JOIN funnel_lead l
  ON l.organization_id = %(org)s AND l.source = %(source)s AND l.external_id = s.lead_external_id
WHERE true
ON CONFLICT (organization_id, source, external_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in TASK_UPDATE)}
WHERE {_changed("funnel_task", TASK_UPDATE)}
"""
