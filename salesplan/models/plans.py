"""Sales plans, their team shares, product mix and versions; products; the working calendar."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 16, "decimal_places": 2}
FRACTION = {"max_digits": 9, "decimal_places": 6}


class Product(models.Model):
    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="products"
    )
    name = models.CharField(_("name"), max_length=200)
    price = models.DecimalField(_("price"), **MONEY)
    margin_pct = models.DecimalField(
        _("gross margin, %"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="product_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """A day the organization works or rests against the Russian production calendar."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="calendar_days"
    )
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "date"], name="calendar_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {'+' if self.is_working else '-'}"


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class SalesPlan(models.Model):
    """A revenue target for a funnel and a period, with the inputs the decomposition needs.

    `version` counts saves: a save based on an older version is refused (409), and every save
    leaves a PlanVersion with the full inputs, who and when.
    """

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="plans"
    )
    funnel = models.ForeignKey(
        "funnel.Funnel", verbose_name=_("funnel"), on_delete=models.PROTECT, related_name="plans"
    )
    name = models.CharField(_("name"), max_length=200)
    period_kind = models.CharField(
        _("period"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.MONTH
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    revenue_target = models.DecimalField(_("revenue target"), **MONEY)
    average_check = models.DecimalField(_("average check"), null=True, blank=True, **MONEY)
    gross_margin_target = models.DecimalField(
        _("gross margin target"), null=True, blank=True, **MONEY
    )
    cost_per_lead = models.DecimalField(_("cost per lead"), null=True, blank=True, **MONEY)
    cost_per_target_lead = models.DecimalField(
        _("cost per target lead"), null=True, blank=True, **MONEY
    )
    calls_per_lead = models.DecimalField(
        _("calls per lead"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    max_calls_per_day = models.PositiveIntegerField(
        _("max calls per salesperson per day"), null=True, blank=True
    )
    max_meetings_per_day = models.PositiveIntegerField(
        _("max meetings per salesperson per day"), null=True, blank=True
    )
    # {"2027-01-01": "1.2", ...}: weights of the months of a quarter or a year.
    seasonality = models.JSONField(_("seasonality"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    sales_team = models.ForeignKey(
        "salesplan.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plans",
        help_text=_("The team whose head of sales may edit this plan; empty: the department."),
    )
    # Plan vs fact (issue 11): a metric has slipped when it is behind its plan-to-date by more
    # than this many percent (ahead of it, for a lower-is-better metric such as cost per lead).
    tolerance = models.DecimalField(
        _("tolerance, %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(10),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("How far behind its plan-to-date a metric may be before it counts as slipped."),
    )
    # The first day whose plan vs fact must be recomputed (new actuals dated then, or a change
    # of the plan, its funnel or its pie: the period start); None: only today moves.
    performance_dirty_from = models.DateField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    # Bumped by every change of the responsibility pie (optimistic concurrency for the pie).
    pie_version = models.PositiveIntegerField(default=1)
    # The funnel's months before the plan, from the actuals, for the realism check
    # ({"months": [{"month", "stages", "revenue"}]}; null: no actuals). Computed at a save and
    # when new actuals arrive, so no page reads the actuals to show a plan.
    history = models.JSONField(_("history"), null=True, blank=True)
    history_updated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        ordering = ["-period_start", "name"]
        indexes = [models.Index(fields=["organization", "period_start"])]

    def __str__(self) -> str:
        return self.name


class PlanMember(models.Model):
    """A salesperson's share of the plan. The head of sales has none (DOMAIN idea 5)."""

    plan = models.ForeignKey(SalesPlan, on_delete=models.CASCADE, related_name="members")
    membership = models.ForeignKey(
        "salesplan.Membership", on_delete=models.CASCADE, related_name="plan_shares"
    )
    share = models.DecimalField(_("share"), **FRACTION)

    class Meta:
        verbose_name = _("plan member")
        verbose_name_plural = _("plan members")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "membership"], name="plan_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.share}"


class PlanProduct(models.Model):
    """A product in the plan's mix: a share of deals or a number of units."""

    plan = models.ForeignKey(SalesPlan, on_delete=models.CASCADE, related_name="product_mix")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    share = models.DecimalField(_("share"), null=True, blank=True, **FRACTION)
    units = models.PositiveIntegerField(_("units"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "product"], name="plan_product_unique")
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.share or self.units}"


class PlanVersion(models.Model):
    """What the plan was after a save: the full inputs (stages included), who and when."""

    plan = models.ForeignKey(SalesPlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    inputs = models.JSONField()
    changes = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} v{self.number}"
