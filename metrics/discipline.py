"""CRM discipline (DOMAIN idea 8: every communication is in the CRM, every lead has a clear next
task with the goal of the next contact, overdue tasks are visible), counted per member by a
job and stored (DisciplineDay, DisciplineItem); pages and the API read what it stored.

The rules, as of the run's moment `now`:

- a lead without a next task: an open lead (not lost, no payment, not marked non-target) with
  no open task (one not done yet, overdue or not);
- an overdue task: not done, due before now;
- a task without a goal: an open task whose text is empty or only a generic word or phrase
  (GENERIC_GOALS; case and punctuation ignored). A task whose source does not export its text
  (text NULL) is not judged;
- a call without a comment: a call of the last COMMENT_WINDOW_DAYS days with an empty comment,
  counted only where the source exports comments (comment not NULL; a CRM that exports none
  leaves every call NULL, and nothing is counted against anyone).

A row counts for its member: a lead's responsible; a task's or call's own member, else its
lead's responsible; None when nobody is (listed under "nobody responsible").

The same two rules (an open lead without a next task, a text stating no goal) are columns of
the plan-vs-fact actuals (metrics.actuals), so the pie can carry them as metrics.
"""

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Lower, Trim
from django.db.models.lookups import In
from django.utils import timezone

from funnel.models import Call, Lead, Payment, Task
from metrics.models import DisciplineDay, DisciplineItem, DisciplineKind
from salesplan.access import scoped
from salesplan.figures import figures_changed
from salesplan.models import Organization
from salesplan.queue import enqueue_once, job_started

# A task text that is only one of these (after case and punctuation are folded) states no
# goal: it says what to do, not what the contact is for (DOMAIN idea 8). Lower case, single
# spaces, no punctuation: as `goal_key` folds a text.
GENERIC_GOALS: tuple[str, ...] = (
    "позвонить",
    "перезвонить",
    "набрать",
    "связаться",
    "call",
    "call back",
    "follow up",
)
# Calls judged for a comment: the last week's, what a head of sales reviews weekly; older
# calls are history, not discipline to mend.
COMMENT_WINDOW_DAYS = 7
# Offending rows kept per member and kind for the discipline page (the oldest first): a page
# lists 50, and nobody mends more than ten pages of one list before the next hourly run; the
# counts are always whole. Bounds the job's writes by the people, not by the leads.
ITEMS_PER_LIST = 500
# PostgreSQL advisory lock namespace of the discipline job (one run per organization at once).
DISCIPLINE_LOCK = 13_008

_NOT_WORDS = re.compile(r"[^\w\s]|_")


def goal_key(text: str) -> str:
    """A task text folded as the rule compares it: punctuation to spaces, spaces collapsed,
    lower case (`text_key` is the same in SQL)."""
    return " ".join(_NOT_WORDS.sub(" ", text).split()).lower()


def states_no_goal(text: str | None) -> bool:
    """Whether a task's text states no goal: empty, or only a generic word (GENERIC_GOALS).
    None (the source does not export task texts) is not judged: False."""
    if text is None:
        return False
    key = goal_key(text)
    return key == "" or key in GENERIC_GOALS


class GoalKey(Func):
    """`goal_key` of a text column, in SQL. PostgreSQL: regexp_replace (its [[:alnum:]] and
    lower() know Cyrillic under the database's UTF-8 locale). SQLite (the embedded default):
    `goal_key` itself, registered on each connection (`register_sqlite_functions`), since its
    lower() folds ASCII only and it has no regexp_replace."""

    function = "goal_key"
    arity = 1
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        def replace(expression: Any, pattern: str) -> Func:
            return Func(
                expression,
                Value(pattern),
                Value(" "),
                Value("g"),
                function="regexp_replace",
                output_field=TextField(),
            )

        column = self.source_expressions[0]
        folded = Lower(Trim(replace(replace(column, r"[^[:alnum:][:space:]]"), r"[[:space:]]+")))
        return compiler.compile(folded)


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created: SQLite's connections get `goal_key` (GoalKey's SQLite side)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "goal_key",
            1,
            lambda text: None if text is None else goal_key(text),
            deterministic=True,
        )


def text_key(field: str) -> Func:
    """`goal_key` of a text column, in SQL (GoalKey)."""
    return GoalKey(F(field))


def no_goal(prefix: str = "") -> Q:
    """Rows (tasks, or `prefix`ed ones) whose text states no goal (`states_no_goal`)."""
    field = f"{prefix}text"
    return Q(**{f"{field}__isnull": False}) & Q(In(text_key(field), ["", *GENERIC_GOALS]))


def open_without_next_task(organization_id: int | None = None) -> Q:
    """Open leads with no open task: not lost, not paid, not marked non-target; no task of
    theirs not yet done. For a queryset of leads."""
    payments = Payment.objects.filter(lead=OuterRef("pk"))
    tasks = Task.objects.filter(lead=OuterRef("pk"), done_at__isnull=True)
    if organization_id is not None:
        payments = payments.filter(organization_id=organization_id)
        tasks = tasks.filter(organization_id=organization_id)
    return Q(lost_at__isnull=True) & ~Q(is_target=False) & ~Exists(payments) & ~Exists(tasks)


def _offenders(organization: Organization, now: datetime) -> dict[str, QuerySet[Any]]:
    """Each kind's offending rows as (member_id, lead_id, task_id, call_id, at), not yet run."""
    org = organization.pk
    open_tasks = scoped(Task, organization).filter(done_at__isnull=True)
    task_member = Coalesce("member_id", "lead__responsible_id")

    def rows(queryset: QuerySet[Any], member: Any, lead: Any, task: Any, call: Any, at: str):
        return queryset.annotate(
            d_member=member, d_lead=lead, d_task=task, d_call=call, d_at=F(at)
        ).values_list("d_member", "d_lead", "d_task", "d_call", "d_at")

    none = Cast(Value(None), BigIntegerField())  # typed: the INSERT … SELECT's columns are ids
    return {
        DisciplineKind.LEAD_WITHOUT_NEXT_TASK: rows(
            scoped(Lead, organization).filter(open_without_next_task(org)),
            F("responsible_id"),
            F("id"),
            none,
            none,
            "created_at",
        ),
        DisciplineKind.OVERDUE_TASK: rows(
            open_tasks.filter(due_at__lt=now), task_member, F("lead_id"), F("id"), none, "due_at"
        ),
        DisciplineKind.TASK_WITHOUT_GOAL: rows(
            open_tasks.filter(no_goal()), task_member, F("lead_id"), F("id"), none, "due_at"
        ),
        DisciplineKind.CALL_WITHOUT_COMMENT: rows(
            scoped(Call, organization)
            .filter(comment__isnull=False, at__gte=now - timedelta(days=COMMENT_WINDOW_DAYS))
            .annotate(bare=Trim("comment"))
            .filter(bare=""),
            Coalesce("member_id", "lead__responsible_id"),
            F("lead_id"),
            none,
            F("id"),
            "at",
        ),
    }


def _store_items(organization: Organization, now: datetime) -> dict[int | None, dict[str, int]]:
    """The latest run's offending rows replace the previous run's, at most ITEMS_PER_LIST per
    member and kind (the oldest first); returns every member's full count of each kind. One
    statement per kind, set-based whatever the volume: on PostgreSQL the offending rows are
    read once, inserted (up to the cap) and counted in the same statement."""
    DisciplineItem.objects.filter(organization=organization).delete()
    table = DisciplineItem._meta.db_table
    counts: dict[int | None, dict[str, int]] = {}
    for kind, rows in _offenders(organization, now).items():
        sql, params = rows.query.sql_with_params()
        insert = (
            f"INSERT INTO {table} (organization_id, kind, member_id, lead_id, task_id, call_id, "
            "at) SELECT %s, %s, d_member, d_lead, d_task, d_call, d_at FROM (SELECT q.*, "
            "row_number() OVER (PARTITION BY d_member ORDER BY d_at, d_task, d_call, d_lead) "
            "AS n FROM {rows} q) numbered WHERE n <= %s"
        )
        count = "SELECT d_member, count(*) FROM {rows} q GROUP BY d_member"
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"WITH offending AS MATERIALIZED ({sql}), "
                    f"stored AS ({insert.format(rows='offending')}) "
                    + count.format(rows="offending"),
                    [*params, organization.pk, str(kind), ITEMS_PER_LIST],
                )
            else:
                cursor.execute(
                    insert.format(rows=f"({sql})"),
                    [organization.pk, str(kind), *params, ITEMS_PER_LIST],
                )
                cursor.execute(count.format(rows=f"({sql})"), params)
            for member_id, found in cursor.fetchall():
                counts.setdefault(member_id, {})[COUNT_FIELDS[kind]] = found
    return counts


def _denominators(organization: Organization, now: datetime) -> dict[int | None, dict[str, int]]:
    """Per member: open leads, open tasks, and calls of the window whose source exports
    comments (what the counts are out of)."""
    found: dict[int | None, dict[str, int]] = {}

    def add(rows: QuerySet[Any], name: str) -> None:
        for row in rows:
            found.setdefault(row["who"], {})[name] = row["n"]

    open_leads = scoped(Lead, organization).filter(lost_at__isnull=True).exclude(is_target=False)
    open_leads = open_leads.exclude(Exists(Payment.objects.filter(lead=OuterRef("pk"))))
    add(open_leads.values(who=F("responsible_id")).annotate(n=Count("id")).order_by(), "open_leads")
    add(
        scoped(Task, organization)
        .filter(done_at__isnull=True)
        .values(who=Coalesce("member_id", "lead__responsible_id"))
        .annotate(n=Count("id"))
        .order_by(),
        "open_tasks",
    )
    add(
        scoped(Call, organization)
        .filter(comment__isnull=False, at__gte=now - timedelta(days=COMMENT_WINDOW_DAYS))
        .values(who=Coalesce("member_id", "lead__responsible_id"))
        .annotate(n=Count("id"))
        .order_by(),
        "calls_judged",
    )
    return found


COUNT_FIELDS = {
    DisciplineKind.LEAD_WITHOUT_NEXT_TASK: "leads_without_next_task",
    DisciplineKind.OVERDUE_TASK: "overdue_tasks",
    DisciplineKind.TASK_WITHOUT_GOAL: "tasks_without_goal",
    DisciplineKind.CALL_WITHOUT_COMMENT: "calls_without_comment",
}


def discipline_refresh(*, organization_id: int, now: datetime | None = None) -> int:
    """Count and store the organization's CRM discipline as of `now` (default: now), on its
    local day: the offending rows (replacing the last run's) and the day's counts per member
    (replacing the day's earlier run). One transaction, one run per organization at a time;
    the cached pages follow (figures_changed). Returns the members' rows written; 0 when the
    organization is gone."""
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [DISCIPLINE_LOCK, organization_id]
                )
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            return 0
        day = timezone.localtime(now, ZoneInfo(organization.time_zone)).date()
        counts = _denominators(organization, now)
        for member_id, found in _store_items(organization, now).items():
            counts.setdefault(member_id, {}).update(found)
        DisciplineDay.objects.filter(organization=organization, day=day).delete()
        DisciplineDay.objects.bulk_create(
            DisciplineDay(
                organization=organization, member_id=member_id, day=day, computed_at=now, **values
            )
            for member_id, values in counts.items()
        )
        figures_changed(organization.pk)
        return len(counts)


REFRESH_TASK = "metrics.refresh_discipline"
# Many loads in a minute (a webhook burst, an import in chunks) queue one count per
# organization.
DEBOUNCE_S = 60


def discipline_refresh_queue(*, organization_id: int) -> bool:
    """Queue a count of the organization's discipline unless one is already waiting (queued in
    the last DEBOUNCE_S seconds and not started yet). A broker that is down is only logged: the
    beat's hourly run counts it. Returns whether it queued one."""
    return enqueue_once(REFRESH_TASK, organization_id, within=DEBOUNCE_S)


def discipline_refresh_started(*, organization_id: int) -> None:
    """The job starts: a load from now on must queue another count."""
    job_started(REFRESH_TASK, organization_id)


def organizations_to_refresh() -> QuerySet[Organization]:
    """The organizations with any lead or task: the beat's run counts theirs (overdue tasks
    appear as time passes, with no load to announce them)."""
    return Organization.objects.filter(
        Exists(Lead.objects.filter(organization=OuterRef("pk")))
        | Exists(Task.objects.filter(organization=OuterRef("pk")))
    )
