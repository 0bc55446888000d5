"""Client base: the organization's rules (permanent lost reasons, the cooling-off period) and
what the job (salesplan.clientbase.services.client_base_refresh) stores for the pages to read:
companies and their state, refusal rates, warnings of contacts with cooling companies, and the
summary with the runway. No page recomputes these from the leads."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from salesplan.clientbase.burn import (
    DEFAULT_COOLING_DAYS,
    DEFAULT_PERMANENT_REASONS,
    State,
    refusal_rate,
)


def default_permanent_reasons() -> list[str]:
    return list(DEFAULT_PERMANENT_REASONS)


class BaseSettings(models.Model):
    """The organization's rules for refusals, edited by the owner or a head of sales (the
    defaults until first saved)."""

    organization = models.OneToOneField(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="client_base_settings"
    )
    permanent_reasons = models.JSONField(
        _("permanent lost reasons"), default=default_permanent_reasons
    )
    cooling_days = models.PositiveSmallIntegerField(
        _("cooling-off period, days"), default=DEFAULT_COOLING_DAYS
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("client base settings")
        verbose_name_plural = _("client base settings")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.cooling_days} days"


class Company(models.Model):
    """A company of the CRM, by its normalized name (a lead without a company is one of its
    own), with the state its latest refusal gives it as of the last recompute. The list of
    cooling companies is read by `contact_again_on > today`, so a company whose cooling ended
    since leaves the list on its day even before the next recompute."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=300)  # salesplan.clientbase.burn.company_key
    name = models.CharField(_("company"), max_length=300)  # as its latest lead wrote it
    leads = models.PositiveIntegerField(_("leads"), default=0)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=[
            (State.AVAILABLE.value, _("Available")),
            (State.COOLING.value, _("Cooling off")),
            (State.CLOSED.value, _("Closed for good")),
        ],
        default=State.AVAILABLE.value,
    )
    refused_at = models.DateTimeField(_("refused at"), null=True, blank=True)
    refused_on = models.DateField(_("refused on"), null=True, blank=True)  # the local day
    contact_again_on = models.DateField(_("may be contacted again on"), null=True, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=300, blank=True)
    refused_by = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    refused_by_name = models.CharField(max_length=200, blank=True)  # as the CRM wrote it
    refusal_lead = models.ForeignKey(
        "funnel.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="clientbase_company_key")
        ]
        indexes = [
            models.Index(
                fields=["organization", "state", "contact_again_on"], name="clientbase_state"
            )
        ]

    def __str__(self) -> str:
        return self.name


class RateKind(models.TextChoices):
    DEPARTMENT = "department", _("Department")
    MEMBER = "member", _("Salesperson")
    SEGMENT = "segment", _("Segment")


class RefusalRate(models.Model):
    """Deals won and lost in a local month: the department's, a salesperson's (the lead's
    responsible; `name` as the CRM wrote it when no member matches) or a segment's (the lead's
    channel). Refusal rate = lost ÷ (won + lost)."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField(_("month"))
    kind = models.CharField(max_length=10, choices=RateKind.choices)
    member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True)
    won = models.PositiveIntegerField(_("won"), default=0)
    lost = models.PositiveIntegerField(_("lost"), default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "kind", "month"], name="clientbase_rate")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind} {self.name}: {self.lost}/{self.won + self.lost}"

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def rate(self) -> Decimal | None:
        return refusal_rate(self.lost, self.won)


class ContactKind(models.TextChoices):
    STAGE_EVENT = "stage_event", _("Stage reached")
    CALL = "call", _("Call")
    TASK = "task", _("Task")


class CoolingContact(models.Model):
    """A warning: a stage event, a call or a task on a company while it cools off (after its
    refusal, before the day it may be contacted again). Found by the job; `found_at` is the
    first run that saw it, kept by later runs."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("what"), max_length=12, choices=ContactKind.choices)
    object_id = models.BigIntegerField()  # the stage event's, call's or task's id
    lead = models.ForeignKey(
        "funnel.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    member = models.ForeignKey(
        "salesplan.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("when"))
    found_at = models.DateTimeField(_("found at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "object_id"], name="clientbase_contact_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "at"], name="clientbase_contact_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} on {self.company_id}"


class BaseSummary(models.Model):
    """The last recompute's totals: the companies by state, the refusal pace of the last
    PACE_MONTHS months, the plan it was measured against and the runway."""

    organization = models.OneToOneField(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="client_base_summary"
    )
    computed_at = models.DateTimeField()
    computed_on = models.DateField()  # the organization's local day of the recompute
    available = models.PositiveIntegerField(default=0)
    cooling = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    pace_from = models.DateField()  # the first month of the pace
    pace_won = models.PositiveIntegerField(default=0)
    pace_lost = models.PositiveIntegerField(default=0)
    plan = models.ForeignKey(
        "salesplan.SalesPlan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    plan_name = models.CharField(max_length=200, blank=True)
    plan_deals = models.PositiveIntegerField(null=True, blank=True)  # the plan's deals this month
    runway = models.CharField(max_length=10)  # burn.Runway
    burn_per_month = models.DecimalField(max_digits=14, decimal_places=1, null=True, blank=True)
    months_left = models.DecimalField(max_digits=14, decimal_places=1, null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.organization_id} @ {self.computed_at:%Y-%m-%d %H:%M}"

    @property
    def pace_rate(self) -> Decimal | None:
        """The refusal rate of the pace months: lost ÷ (won + lost)."""
        return refusal_rate(self.pace_lost, self.pace_won)
