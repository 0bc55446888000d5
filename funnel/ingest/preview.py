"""What a load would change, read from its staging tables before anything is written.

The same assignments the upserts run (`upsert_sql.lead_assignments`,
`lead_payment_assignments`) decide here whether a stored row would change and which of its
fields would: the preview cannot disagree with the write. Leads and the payments of won deals
are counted as new, changed or unchanged, with the count per field and a sample of the changed
rows (old → new). Amounts are compared with what the organization has stored, to flag a file
in another currency.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from funnel.ingest.upsert_sql import LEAD_KEY, lead_assignments, lead_payment_assignments

# Changed rows shown with their old and new values.
SAMPLE_ROWS = 20
# Fewer stored payments (or won amounts in the file) than this: too few to compare averages.
MIN_AMOUNTS_COMPARED = 20
# Amounts on average this many times larger (or smaller) than the stored ones look like
# another currency (or kopecks, or thousands).
CURRENCY_RATIO = 20


@dataclass(frozen=True)
class Field:
    """A field as the preview shows it: its value before, after, and whether it changes."""

    name: str
    old: str
    new: str
    differs: str


@dataclass
class TableChanges:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    # New rows that cannot be written (a new lead with no creation date).
    refused: int = 0
    fields: dict[str, int] = field(default_factory=dict)
    # [(line, external id, [(field, old, new), …])] for the first changed rows.
    sample: list[tuple[int, str, list[tuple[str, Any, Any]]]] = field(default_factory=list)


@dataclass
class Changes:
    tables: dict[str, TableChanges] = field(default_factory=dict)
    # The average won amount of the file and of the stored payments (None: too few to say).
    file_average: float | None = None
    stored_average: float | None = None

    @property
    def currency_ratio(self) -> float | None:
        if not self.file_average or not self.stored_average:
            return None
        return self.file_average / self.stored_average

    @property
    def amounts_look_foreign(self) -> bool:
        ratio = self.currency_ratio
        return ratio is not None and not (1 / CURRENCY_RATIO <= ratio <= CURRENCY_RATIO)


def _differs(column: str, value: str, target: str) -> str:
    return f"{target}.{column} IS DISTINCT FROM ({value})"


def lead_fields(clear: Collection[str]) -> list[Field]:
    sql = dict(lead_assignments(clear))

    def plain(column: str) -> Field:
        return Field(column, f"l.{column}", sql[column], _differs(column, sql[column], "l"))

    return [
        Field("funnel", "ofn.name", "nfn.name", _differs("funnel_id", sql["funnel_id"], "l")),
        plain("name"),
        plain("channel"),
        plain("is_target"),
        plain("non_target_reason"),
        Field(
            "responsible",
            "l.responsible_name",
            sql["responsible_name"],
            f"{_differs('responsible_id', sql['responsible_id'], 'l')} OR "
            f"{_differs('responsible_name', sql['responsible_name'], 'l')}",
        ),
        plain("company"),
        Field(
            "stage",
            "ost.name",
            "COALESCE(st.name, ost.name)",
            _differs("current_stage_id", sql["current_stage_id"], "l"),
        ),
        plain("lost_reason"),
        plain("lost_at"),
    ]


def payment_fields(clear: Collection[str]) -> list[Field]:
    sql = dict(lead_payment_assignments(clear))

    def plain(column: str) -> Field:
        return Field(column, f"p.{column}", sql[column], _differs(column, sql[column], "p"))

    return [
        plain("amount"),
        plain("gross_margin"),
        Field(
            "product",
            "p.product_name",
            sql["product_name"],
            f"{_differs('product_id', sql['product_id'], 'p')} OR "
            f"{_differs('product_name', sql['product_name'], 'p')}",
        ),
        plain("paid_at"),
        plain("is_new_client"),
        Field(
            "credited",
            "p.credited_member_id",
            sql["credited_member_id"],
            _differs("credited_member_id", sql["credited_member_id"], "p"),
        ),
    ]


_LEADS_FROM = f"""
FROM ingest_leads s
JOIN funnel_funnel nfn ON nfn.id = %(funnel)s
LEFT JOIN funnel_lead l ON {LEAD_KEY}
LEFT JOIN funnel_stage st ON st.funnel_id = %(funnel)s AND st.position = s.stage_position
LEFT JOIN funnel_stage ost ON ost.id = l.current_stage_id
LEFT JOIN funnel_funnel ofn ON ofn.id = l.funnel_id
"""

# The stored payments of the file's leads that the load would update (as the UPDATE does).
_PAYMENTS_FROM = f"""
FROM ingest_leads s
JOIN funnel_lead l ON {LEAD_KEY}
JOIN funnel_payment p
  ON p.organization_id = %(org)s AND p.source = %(source)s AND p.external_id = s.external_id
LEFT JOIN salesplan_product pr ON pr.organization_id = %(org)s AND pr.name = s.product
WHERE s.won IS NOT FALSE
"""

# Won deals with an amount and no payment yet, whose lead exists or will be written.
_NEW_PAYMENTS_SQL = f"""
SELECT COUNT(*) FROM ingest_leads s
LEFT JOIN funnel_lead l ON {LEAD_KEY}
WHERE s.won AND s.amount IS NOT NULL AND (l.id IS NOT NULL OR s.created_at IS NOT NULL)
  AND NOT EXISTS (
    SELECT 1 FROM funnel_payment p
    WHERE p.organization_id = %(org)s AND p.source = %(source)s AND p.external_id = s.external_id)
"""


def _count_when(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _any(fields: list[Field]) -> str:
    return " OR ".join(f"({f.differs})" for f in fields)


def _changed_rows(
    cursor: Any, fields: list[Field], source: str, where: str, params: dict[str, Any]
) -> list[tuple[int, str, list[tuple[str, Any, Any]]]]:
    columns = ", ".join(
        f"{f.old}, {f.new}, CASE WHEN {f.differs} THEN 1 ELSE 0 END" for f in fields
    )
    cursor.execute(
        f"SELECT s.line, s.external_id, {columns} {source} {where} "
        f"ORDER BY s.line LIMIT {SAMPLE_ROWS}",
        params,
    )
    sample = []
    for row in cursor.fetchall():
        values = row[2:]
        changes = [
            (f.name, values[3 * i], values[3 * i + 1])
            for i, f in enumerate(fields)
            if values[3 * i + 2]
        ]
        sample.append((int(row[0]), str(row[1]), changes))
    return sample


def lead_changes(cursor: Any, params: dict[str, Any], clear: Collection[str]) -> TableChanges:
    fields = lead_fields(clear)
    counts = ", ".join(_count_when(f"l.id IS NOT NULL AND ({f.differs})") for f in fields)
    cursor.execute(
        f"""SELECT COUNT(*),
            {_count_when("l.id IS NULL AND s.created_at IS NOT NULL")},
            {_count_when("l.id IS NULL AND s.created_at IS NULL")},
            {_count_when(f"l.id IS NOT NULL AND ({_any(fields)})")},
            {counts}
        {_LEADS_FROM}""",
        params,
    )
    row = [int(value or 0) for value in cursor.fetchone()]
    total, new, refused, changed = row[:4]
    result = TableChanges(
        new=new,
        refused=refused,
        changed=changed,
        unchanged=total - new - refused - changed,
        fields={f.name: count for f, count in zip(fields, row[4:], strict=True) if count},
    )
    if changed:
        result.sample = _changed_rows(
            cursor, fields, _LEADS_FROM, f"WHERE l.id IS NOT NULL AND ({_any(fields)})", params
        )
    return result


def payment_changes(cursor: Any, params: dict[str, Any], clear: Collection[str]) -> TableChanges:
    fields = payment_fields(clear)
    counts = ", ".join(_count_when(f.differs) for f in fields)
    cursor.execute(
        f"SELECT COUNT(*), {_count_when(_any(fields))}, {counts} {_PAYMENTS_FROM}", params
    )
    row = [int(value or 0) for value in cursor.fetchone()]
    existing, changed = row[:2]
    cursor.execute(_NEW_PAYMENTS_SQL, params)
    result = TableChanges(
        new=int(cursor.fetchone()[0]),
        changed=changed,
        unchanged=existing - changed,
        fields={f.name: count for f, count in zip(fields, row[2:], strict=True) if count},
    )
    if changed:
        result.sample = _changed_rows(
            cursor, fields, _PAYMENTS_FROM, f"AND ({_any(fields)})", params
        )
    return result


def amount_averages(cursor: Any, params: dict[str, Any], real: str) -> tuple[Any, Any]:
    """The average won amount of the file and of the organization's stored payments, each
    when there are enough of them to compare."""
    cursor.execute(
        f"SELECT COUNT(s.amount), AVG(CAST(s.amount AS {real})) FROM ingest_leads s WHERE s.won",
        params,
    )
    file_count, file_average = cursor.fetchone()
    cursor.execute(
        f"SELECT COUNT(*), AVG(CAST(p.amount AS {real})) FROM funnel_payment p "
        "WHERE p.organization_id = %(org)s",
        params,
    )
    stored_count, stored_average = cursor.fetchone()
    if min(file_count or 0, stored_count or 0) < MIN_AMOUNTS_COMPARED:
        return None, None
    return float(file_average), float(stored_average)


def changes(cursor: Any, params: dict[str, Any], clear: Collection[str], vendor: str) -> Changes:
    """What loading the staged leads would change (nothing is written)."""
    result = Changes(
        tables={
            "leads": lead_changes(cursor, params, clear),
            "payments": payment_changes(cursor, params, clear),
        }
    )
    real = "double precision" if vendor == "postgresql" else "REAL"
    result.file_average, result.stored_average = amount_averages(cursor, params, real)
    return result
