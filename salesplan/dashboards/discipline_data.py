"""Reads of CRM discipline (DOMAIN idea 8) for the head of sales' dashboard, the discipline page
and its API: what the discipline job stored (metrics.DisciplineDay, DisciplineItem), never the
tasks themselves. Who sees whom: the owner everyone; a head of sales their teams' people and
themselves; both the rows nobody is responsible for (the department's to assign). Anyone else
may not read it (403)."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext

from metrics.models import DisciplineDay, DisciplineItem, DisciplineKind
from salesplan.access import led_team_ids, scoped
from salesplan.models import Membership, Role

# The four counts, in the table's order: (DisciplineDay field, the item kind behind it).
COUNTS: tuple[tuple[str, str], ...] = (
    ("leads_without_next_task", DisciplineKind.LEAD_WITHOUT_NEXT_TASK),
    ("overdue_tasks", DisciplineKind.OVERDUE_TASK),
    ("tasks_without_goal", DisciplineKind.TASK_WITHOUT_GOAL),
    ("calls_without_comment", DisciplineKind.CALL_WITHOUT_COMMENT),
)
READERS = (Role.OWNER, Role.HEAD_OF_SALES)


def may_read_discipline(member: Membership) -> bool:
    return member.role in READERS


def require_reader(member: Membership) -> None:
    if not may_read_discipline(member):
        raise PermissionDenied(gettext("Your role does not allow this action."))


def visible_members(member: Membership) -> QuerySet[Membership]:
    """The people whose discipline `member` sees (module docstring)."""
    require_reader(member)
    people = scoped(Membership, member.organization).select_related("user")
    if member.role == Role.OWNER:
        return people
    return people.filter(Q(team_id__in=led_team_ids(member)) | Q(pk=member.pk))


def member_for(viewer: Membership, text: str | None) -> Membership | None:
    """`?member=<id>`: a person the viewer sees, None for "nobody responsible" (`none`); any
    other id (another organization's, or outside the head's teams) is 404, never 403."""
    if text == "none":
        return None
    try:
        member_id = int(text or "")
    except ValueError:
        raise Http404("Not found") from None
    found = visible_members(viewer).filter(pk=member_id).first()
    if found is None:
        raise Http404("Not found")
    return found


@dataclass
class DisciplineRow:
    member: Membership | None  # None: nobody responsible
    counts: dict[str, int]
    open_leads: int = 0
    open_tasks: int = 0
    calls_judged: int = 0
    worst: set[str] = field(default_factory=set)  # the counts where this row is the worst

    @property
    def name(self) -> str:
        return self.member.display_name if self.member else gettext("Nobody responsible")

    @property
    def member_param(self) -> str:
        return str(self.member.pk) if self.member else "none"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def is_worst(self) -> bool:
        return "total" in self.worst

    def cells(self) -> list[dict[str, Any]]:
        return [
            {"field": name, "kind": kind, "value": self.counts[name], "worst": name in self.worst}
            for name, kind in COUNTS
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "member": self.member.pk if self.member else None,
            "member_name": self.name,
            **self.counts,
            "total": self.total,
            "open_leads": self.open_leads,
            "open_tasks": self.open_tasks,
            "calls_judged": self.calls_judged,
            "is_worst": self.is_worst,
        }


@dataclass
class DisciplineTable:
    day: date | None
    computed_at: datetime | None
    rows: list[DisciplineRow]
    department: DisciplineRow


def _mark_worst(rows: list[DisciplineRow]) -> None:
    """The worst (highest) figure of each count, and the worst total: every row that has it,
    when it is above zero."""
    for name in [name for name, _kind in COUNTS] + ["total"]:
        values = [row.total if name == "total" else row.counts[name] for row in rows]
        top = max(values, default=0)
        if top > 0:
            for row, value in zip(rows, values, strict=True):
                if value == top:
                    row.worst.add(name)


def discipline_table(viewer: Membership, day: date | None = None) -> DisciplineTable:
    """The viewer's people's discipline on `day` (the last day counted by default): one row per
    salesperson they see (zeros for one with nothing stored) and per other person with any
    count, then nobody's; the department's sums. Two queries (the people, the day's rows)."""
    people = list(visible_members(viewer))
    days = DisciplineDay.objects.filter(organization=viewer.organization)
    on_day = day if day is not None else Subquery(days.order_by("-day").values("day")[:1])
    stored = {
        row.member_id: row
        for row in days.filter(day=on_day).filter(
            Q(member__in=[p.pk for p in people]) | Q(member__isnull=True)
        )
    }
    rows: list[DisciplineRow] = []
    for person in people:
        found = stored.get(person.pk)
        if found is None and person.role != Role.SALESPERSON:
            continue
        rows.append(_row(person, found))
    rows.sort(key=lambda row: (-row.total, row.name))
    if None in stored and stored[None].total:
        rows.append(_row(None, stored[None]))
    _mark_worst(rows)
    department = DisciplineRow(
        None,
        {name: sum(row.counts[name] for row in rows) for name, _kind in COUNTS},
        open_leads=sum(row.open_leads for row in rows),
        open_tasks=sum(row.open_tasks for row in rows),
        calls_judged=sum(row.calls_judged for row in rows),
    )
    found_day = day or next((row.day for row in stored.values()), None)
    computed = [row.computed_at for row in stored.values()]
    return DisciplineTable(found_day, max(computed, default=None), rows, department)


def _row(member: Membership | None, stored: DisciplineDay | None) -> DisciplineRow:
    return DisciplineRow(
        member,
        {name: getattr(stored, name, 0) if stored else 0 for name, _kind in COUNTS},
        open_leads=stored.open_leads if stored else 0,
        open_tasks=stored.open_tasks if stored else 0,
        calls_judged=stored.calls_judged if stored else 0,
    )


def offending_items(
    viewer: Membership, member: Membership | None, kind: str
) -> QuerySet[DisciplineItem]:
    """The latest run's offending rows of one person (None: nobody's) and kind, oldest first,
    with what the page shows of each (lead, task, call)."""
    require_reader(viewer)
    items = DisciplineItem.objects.filter(organization=viewer.organization, kind=kind)
    items = items.filter(member__isnull=True) if member is None else items.filter(member=member)
    return items.select_related("lead", "task", "call").order_by("at", "id")
