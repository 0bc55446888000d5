"""Role KPIs and bonus: the models of salesplan.kpis.

- `KpiScheme` and its `KpiItem`s: a role's weighted KPIs and payout curve, per organization
  (created with the defaults of `bonus.DEFAULT_ITEMS` on first use);
- `BaseBonus`: a person's base bonus for a month, in the organization's currency;
- `ManualKpiValue`: a KPI's plan and actual typed by hand for a person and a month (a focus
  product, NPS; or the plan of a KPI the sales plan has none for);
- `BonusRecipient`: who a head of sales' deal's bonus goes to, every choice kept (who, when);
  the latest one is current;
- `KpiFigure`: what the plan-vs-fact snapshots do not hold (retention, last year's revenue of
  the same month), computed by a job after each recompute, read by the scorecard.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from salesplan.kpis.bonus import KPI_METRICS, SCHEME_ROLES

MONEY = {"max_digits": 16, "decimal_places": 2}
VALUE = {"max_digits": 18, "decimal_places": 6}


class SchemeRole(models.TextChoices):
    MARKETER = SCHEME_ROLES[0], _("Marketer")
    HUNTER = SCHEME_ROLES[1], _("Salesperson (hunter)")
    FARMER = SCHEME_ROLES[2], _("Salesperson (farmer)")
    HEAD_OF_SALES = SCHEME_ROLES[3], _("Head of sales")


METRIC_CHOICES = [(metric.code, metric.code) for metric in KPI_METRICS]


class KpiScheme(models.Model):
    """A role's KPIs in one organization: weighted items and a payout curve
    (`[{"fulfilment": "0.8", "payout": "0.8"}, …]`, shares of the plan)."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="kpi_schemes"
    )
    role = models.CharField(_("role"), max_length=20, choices=SchemeRole.choices)
    payout_curve = models.JSONField(_("payout curve"))
    # Optimistic concurrency: each save adds one; a save based on an older one is refused.
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("KPI scheme")
        verbose_name_plural = _("KPI schemes")
        ordering = ["organization_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "role"], name="kpi_scheme_role_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.role}"


class KpiItem(models.Model):
    scheme = models.ForeignKey(KpiScheme, on_delete=models.CASCADE, related_name="items")
    metric = models.CharField(_("KPI"), max_length=40, choices=METRIC_CHOICES)
    weight = models.DecimalField(_("weight, %"), max_digits=5, decimal_places=2)
    # Retention's and growth's plan, a share (0.6: 60 % of last month's clients buy again).
    target = models.DecimalField(_("target"), null=True, blank=True, **VALUE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("KPI of a scheme")
        verbose_name_plural = _("KPIs of a scheme")
        ordering = ["scheme_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "metric"], name="kpi_item_metric_unique")
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.weight}%"


class BaseBonus(models.Model):
    """A person's base bonus (the bonus at 100 % of every KPI), per month."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    member = models.OneToOneField(
        "salesplan.Membership", on_delete=models.CASCADE, related_name="base_bonus"
    )
    amount = models.DecimalField(_("base bonus"), **MONEY)
    updated_by = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("base bonus")
        verbose_name_plural = _("base bonuses")

    def __str__(self) -> str:
        return f"{self.member_id}: {self.amount}"


class ManualKpiValue(models.Model):
    """A KPI's plan and actual typed by hand for one person and one month (`period`: its
    first day)."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.CASCADE, related_name="manual_kpi_values"
    )
    period = models.DateField(_("month"))
    metric = models.CharField(_("KPI"), max_length=40, choices=METRIC_CHOICES)
    plan = models.DecimalField(_("plan"), null=True, blank=True, **VALUE)
    actual = models.DecimalField(_("actual"), null=True, blank=True, **VALUE)
    entered_by = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("KPI value entered by hand")
        verbose_name_plural = _("KPI values entered by hand")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "period", "metric"], name="manual_kpi_value_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.period:%Y-%m} {self.metric}"


class BonusRecipient(models.Model):
    """A head of sales' deal (a payment credited to them) whose bonus goes to a salesperson
    they chose (DOMAIN idea 5). Every choice is kept; `is_current` marks the latest. The
    deal's figures are copied here (and kept current by the figures job), so a scorecard
    reads them without reading the payments."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    payment = models.ForeignKey(
        "funnel.Payment", on_delete=models.CASCADE, related_name="bonus_recipients"
    )
    head = models.ForeignKey("salesplan.Membership", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        "salesplan.Membership", on_delete=models.CASCADE, related_name="given_deals"
    )
    chosen_by = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    chosen_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)
    # The deal as it was last read: the local day and month it is paid in, its money.
    period = models.DateField()
    paid_on = models.DateField(null=True)
    amount = models.DecimalField(**MONEY)
    gross_margin = models.DecimalField(null=True, blank=True, **MONEY)
    is_new_client = models.BooleanField(null=True)

    class Meta:
        verbose_name = _("bonus recipient of a head of sales' deal")
        verbose_name_plural = _("bonus recipients of head of sales' deals")
        ordering = ["-chosen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(is_current=True),
                name="bonus_recipient_current_unique",
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "period"], name="bonus_recipient_period"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.recipient_id}"


class FigureKey(models.TextChoices):
    RETENTION = "retention", _("Retention")
    LAST_YEAR_REVENUE = "last_year_revenue", _("Revenue of the same month last year")


class KpiFigure(models.Model):
    """A figure of one month the snapshots do not hold, for a person (`member`) or the
    department (None): retention (`value` the share, `numerator` ÷ `denominator` the
    clients), last year's revenue of the same month (`value`)."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    period = models.DateField()
    key = models.CharField(max_length=30, choices=FigureKey.choices)
    value = models.DecimalField(null=True, **VALUE)
    numerator = models.DecimalField(null=True, **VALUE)
    denominator = models.DecimalField(null=True, **VALUE)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization_id", "period", "key", "member_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period", "key", "member"],
                condition=models.Q(member__isnull=False),
                name="kpi_figure_member_unique",
            ),
            models.UniqueConstraint(
                fields=["organization", "period", "key"],
                condition=models.Q(member__isnull=True),
                name="kpi_figure_department_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.key} {self.member_id or '-'}: {self.value}"
