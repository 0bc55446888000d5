"""A plan's metrics, instantiated from the catalog and the plan's decomposition."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from metrics.catalog import CATALOG, Category


class PlanMetric(models.Model):
    plan = models.ForeignKey(
        "salesplan.SalesPlan", on_delete=models.CASCADE, related_name="metrics"
    )
    key = models.CharField(max_length=64)
    kind = models.CharField(_("kind"), max_length=40, choices=[(k, k) for k in CATALOG])
    name = models.CharField(_("name"), max_length=300)
    stage_position = models.PositiveSmallIntegerField(null=True, blank=True)
    planned_value = models.DecimalField(
        _("planned value"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    direction = models.CharField(max_length=6)
    unit = models.CharField(max_length=10)
    category = models.CharField(max_length=12, choices=[(c.value, c.value) for c in Category])
    controllable = models.BooleanField(_("controllable"), default=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)

    class Meta:
        verbose_name = _("plan metric")
        verbose_name_plural = _("plan metrics")
        ordering = ["plan_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="plan_metric_key_unique")
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """In the user's language: stage metrics carry the stage names from the funnel."""
        label = gettext(CATALOG[self.kind].label)
        if self.kind in ("stage_volume", "stage_conversion"):
            return f"{label}: {self.name}"
        return label


class PerformanceStatus(models.TextChoices):
    """salesplan.planning.tracking's statuses, and "not assessed" (no plan or no actual)."""

    NOT_STARTED = "not_started", _("Not started")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    SLIPPED = "slipped", _("Slipped")
    NOT_ASSESSED = "not_assessed", _("Not assessed")


# The snapshots' two partial unique indexes (the department's rows, owner NULL, and the
# people's) serve a read by plan and day only when the read names both halves: PostgreSQL then
# ORs the two indexes instead of scanning every plan's rows. `.filter(EVERY_OWNER, plan=…)`.
EVERY_OWNER = models.Q(owner__isnull=True) | models.Q(owner__isnull=False)


class PerformanceSnapshot(models.Model):
    """Plan vs fact of one plan metric for one owner on one day, as the recompute job
    (salesplan.plans.performance) stored it; pages and the API read these, never the actuals.
    `owner` None is the department (everyone's actuals); a salesperson's row holds their
    personal slice against their share of the plan."""

    # A yearly plan of 100 salespeople is ~630,000 rows rewritten by a full recompute, so the
    # table carries only what reads need: no database constraint on the plan, metric and owner,
    # whose deletes Django cascades itself (the commit checked 3 deferred constraints per row:
    # a third of a recompute's time, bench/recompute_1m.py); no index on the plan or the owner
    # of their own (the unique ones start with (plan, day), which every read names; a member is
    # deactivated, not deleted).
    plan = models.ForeignKey(
        "salesplan.SalesPlan",
        on_delete=models.CASCADE,
        related_name="performance_snapshots",
        db_constraint=False,
        db_index=False,
    )
    metric = models.ForeignKey(
        PlanMetric,
        on_delete=models.CASCADE,
        related_name="performance_snapshots",
        db_constraint=False,  # indexed: a metric's delete (a plan's sync) finds its rows
    )
    owner = models.ForeignKey(
        "salesplan.Membership",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="performance_snapshots",
        db_constraint=False,
        db_index=False,
    )
    day = models.DateField()
    plan_to_date = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    actual_to_date = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    forecast = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    status = models.CharField(max_length=12, choices=PerformanceStatus.choices)
    gap = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    gap_pct = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["plan_id", "day", "metric_id", "owner_id"]
        constraints = [
            # Two partial constraints rather than one with nulls_distinct=False: SQLite has no
            # NULLS NOT DISTINCT, and the department's rows (owner NULL) must be unique too.
            models.UniqueConstraint(
                fields=["plan", "day", "metric", "owner"],
                condition=models.Q(owner__isnull=False),
                name="performance_owner_day_unique",
            ),
            models.UniqueConstraint(
                fields=["plan", "day", "metric"],
                condition=models.Q(owner__isnull=True),
                name="performance_department_day_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.metric_id}/{self.owner_id or '-'} {self.day}: {self.status}"


class PerformanceTotals(models.Model):
    """The actuals' running totals of one plan for one owner (None: the department) at the end
    of one day, as the recompute read them: an incremental recompute starts from the day
    before the first changed day instead of reading the period's actuals again. `totals` maps
    a column of metrics.actuals (`stage:0`, `revenue`, …) to an integer or a decimal string."""

    plan = models.ForeignKey(
        "salesplan.SalesPlan", on_delete=models.CASCADE, related_name="performance_totals"
    )
    owner = models.ForeignKey(
        "salesplan.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    day = models.DateField()
    totals = models.JSONField()

    class Meta:
        ordering = ["plan_id", "day", "owner_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "owner", "day"],
                condition=models.Q(owner__isnull=False),
                name="performance_totals_owner_day_unique",
            ),
            models.UniqueConstraint(
                fields=["plan", "day"],
                condition=models.Q(owner__isnull=True),
                name="performance_totals_department_day_unique",
            ),
        ]
        indexes = [models.Index(fields=["plan", "day"], name="performance_totals_plan_day")]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.owner_id or '-'} {self.day}"


class GapShare(models.Model):
    """One factor's contribution to a plan's revenue gap to date on one day (LMDI,
    salesplan.planning.attribution), credited to the factor's owner on the pie (an owner's
    part by their share when the factor is split). A day's shares add up to its gap to the
    kopeck; `owner` None: the factor has no owner on the pie."""

    plan = models.ForeignKey(
        "salesplan.SalesPlan", on_delete=models.CASCADE, related_name="gap_shares"
    )
    day = models.DateField()
    factor = models.CharField(max_length=64)  # the factor's metric key (leads, conv:1, …)
    metric = models.ForeignKey(
        PlanMetric, on_delete=models.CASCADE, null=True, blank=True, related_name="gap_shares"
    )
    owner = models.ForeignKey(
        "salesplan.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    plan_value = models.DecimalField(max_digits=18, decimal_places=6)
    actual_value = models.DecimalField(max_digits=18, decimal_places=6)
    contribution = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        ordering = ["plan_id", "day", "id"]
        indexes = [models.Index(fields=["plan", "day"], name="gap_share_plan_day")]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.day} {self.factor}: {self.contribution}"


class Slip(models.Model):
    """A metric of an owner that slipped (DOMAIN 2 "Slip"): opened on the first day its status
    is slipped, closed on the first day it is not; reopening makes a new Slip (the history is
    kept). `owner` None: the department's figure of a metric nobody on the pie owns."""

    plan = models.ForeignKey("salesplan.SalesPlan", on_delete=models.CASCADE, related_name="slips")
    metric = models.ForeignKey(PlanMetric, on_delete=models.CASCADE, related_name="slips")
    owner = models.ForeignKey(
        "salesplan.Membership",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="slips",
    )
    # The owner's personal slice (a salesperson's row) or the department's figure.
    personal = models.BooleanField(default=False)
    since = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    # The latest figures while open; the last ones before it closed.
    gap = models.DecimalField(max_digits=18, decimal_places=6)
    gap_pct = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    attributed_revenue = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    updated_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan_id", "-since", "id"]
        constraints = [
            # At most one open slip per (plan, metric, owner, personal).
            models.UniqueConstraint(
                fields=["plan", "metric", "owner", "personal"],
                condition=models.Q(closed_on__isnull=True, owner__isnull=False),
                name="slip_open_unique",
            ),
            models.UniqueConstraint(
                fields=["plan", "metric", "personal"],
                condition=models.Q(closed_on__isnull=True, owner__isnull=True),
                name="slip_open_department_unique",
            ),
        ]
        indexes = [models.Index(fields=["plan", "closed_on"], name="slip_plan_open")]

    def __str__(self) -> str:
        return f"slip {self.plan_id}/{self.metric_id}/{self.owner_id or '-'} since {self.since}"


# --- CRM discipline (DOMAIN idea 8) -----------------------------------------------------------


class DisciplineKind(models.TextChoices):
    """The four ways a CRM is not kept (metrics.discipline says how each is found)."""

    LEAD_WITHOUT_NEXT_TASK = "lead_without_next_task", _("Leads without a next task")
    OVERDUE_TASK = "overdue_task", _("Overdue tasks")
    TASK_WITHOUT_GOAL = "task_without_goal", _("Tasks without a goal")
    CALL_WITHOUT_COMMENT = "call_without_comment", _("Calls without a comment")


class DisciplineDay(models.Model):
    """One member's CRM discipline on one of the organization's local days, as the discipline
    job (metrics.discipline) last counted it that day; `member` None: rows nobody is
    responsible for. Pages and the API read these, never the tasks themselves."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    day = models.DateField()
    leads_without_next_task = models.PositiveIntegerField(default=0)
    overdue_tasks = models.PositiveIntegerField(default=0)
    tasks_without_goal = models.PositiveIntegerField(default=0)
    calls_without_comment = models.PositiveIntegerField(default=0)
    # What the counts are out of: open leads, open tasks, and the calls of the comment window
    # whose source exports comments (0: nothing to judge, shown as "not exported").
    open_leads = models.PositiveIntegerField(default=0)
    open_tasks = models.PositiveIntegerField(default=0)
    calls_judged = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["organization_id", "-day", "member_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "member"],
                condition=models.Q(member__isnull=False),
                name="discipline_member_day_unique",
            ),
            models.UniqueConstraint(
                fields=["organization", "day"],
                condition=models.Q(member__isnull=True),
                name="discipline_nobody_day_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"discipline {self.organization_id}/{self.member_id or '-'} {self.day}"

    @property
    def total(self) -> int:
        return (
            self.leads_without_next_task
            + self.overdue_tasks
            + self.tasks_without_goal
            + self.calls_without_comment
        )


class DisciplineItem(models.Model):
    """One offending lead, task or call found by the organization's latest discipline run (the
    run replaces them all): what the discipline page lists, per member."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=DisciplineKind.choices)
    lead = models.ForeignKey(
        "funnel.Lead", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    task = models.ForeignKey(
        "funnel.Task", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    call = models.ForeignKey(
        "funnel.Call", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The lead's creation, the task's due moment, the call's moment: the list's order.
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["organization", "member", "kind", "at"], name="discipline_item")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.lead_id or self.task_id or self.call_id}"
