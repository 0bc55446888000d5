"""Won deals' paid stage at their payment, for the data imported before the loader did so.

Until then a file without stage dates (Maven's) put every implied stage of a lead at its
creation, a won deal's last stage (paid) included: the paid stage of a month counted the deals
created that month, not those won (paid) in it. The loader now puts it at the payment's moment
(funnel.ingest.upsert_sql.IMPLIED_EVENTS_SQL), but a re-import cannot repair what is stored: a
stage event only ever moves earlier. This repairs it: the last stage's event of a lead with
payments, when it is at the lead's creation exactly (it was defaulted) and earlier than the
lead's first payment, moves to that payment's moment. Events the CRM dated themselves (any
other moment) and leads without payments are left as they are; the stages between stay at the
creation, which is before the payment.

Set-based: one UPDATE per range of lead ids, no row through Python (on PostgreSQL a million
leads, half of them won, took 11 s). Reversing it changes nothing (the defaulted moments are
not worth restoring). Nothing is recomputed here: the nightly full refresh recomputes the plan
vs fact of the plans in progress; `manage.py refresh_plans` recomputes the stored histories
(the realism check's conversions) and the plans that are not closed.
"""

from typing import Any

from django.db import migrations

# Lead ids per UPDATE: a million leads are twenty statements, none holding too many row locks.
BATCH_LEADS = 50_000

_FIRST_PAYMENT = "SELECT MIN(p.paid_at) FROM funnel_payment p WHERE p.lead_id = e.lead_id"
# The event's lead, as scalar subqueries (an EXISTS or a join, PostgreSQL plans over every lead
# of every batch).
_LEAD = " FROM funnel_lead l WHERE l.id = e.lead_id"


# Each funnel's last stage (paid).
LAST_STAGES_SQL = """
SELECT st.id FROM funnel_stage st
WHERE st.position = (SELECT MAX(o.position) FROM funnel_stage o WHERE o.funnel_id = st.funnel_id)
"""


def repair_sql(vendor: str, last_stages: list[int]) -> str:
    """A last stage's event (`last_stages`, of the lead's own funnel), at the lead's creation,
    before its first payment (a lead without payments: MIN is NULL, the comparison false, the
    event untouched). SQLite keeps moments as text, with or without microseconds as they were
    written: its comparisons read them as numbers (julianday)."""

    def moment(expression: str) -> str:
        return f"julianday({expression})" if vendor == "sqlite" else expression

    stages = ", ".join(str(int(stage)) for stage in last_stages)
    return f"""
UPDATE funnel_stageevent AS e SET reached_at = ({_FIRST_PAYMENT})
WHERE e.lead_id >= %(first)s AND e.lead_id < %(last)s AND e.stage_id IN ({stages})
  AND {moment("e.reached_at")} = {moment("(SELECT l.created_at" + _LEAD + ")")}
  AND (SELECT l.funnel_id{_LEAD})
    = (SELECT st.funnel_id FROM funnel_stage st WHERE st.id = e.stage_id)
  AND {moment("e.reached_at")} < {moment(f"({_FIRST_PAYMENT})")}
"""


def repair_paid_stage_times(connection: Any, batch: int = BATCH_LEADS) -> int:
    """Move the defaulted paid-stage events to their lead's first payment; how many moved."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(lead_id), MAX(lead_id) FROM funnel_payment")
        first, last = cursor.fetchone()
        cursor.execute(LAST_STAGES_SQL)
        last_stages = [stage for (stage,) in cursor.fetchall()]
        if first is None or not last_stages:
            return 0
        if connection.vendor == "postgresql":
            # Compiling each statement (costed for its whole range of leads) took longer than
            # running it; off to the end of the migration's transaction.
            cursor.execute("SET LOCAL jit = off")
        sql, moved = repair_sql(connection.vendor, last_stages), 0
        for start in range(first, last + 1, batch):
            cursor.execute(sql, {"first": start, "last": start + batch})
            moved += max(cursor.rowcount, 0)
    return moved


def repair(apps: Any, schema_editor: Any) -> None:
    repair_paid_stage_times(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("funnel", "0010_importjob_inspecting"),
    ]

    operations = [
        migrations.RunPython(repair, migrations.RunPython.noop, elidable=True),
    ]
