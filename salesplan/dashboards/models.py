"""Summaries the dashboards read that the plans' recompute does not store itself; each is
kept current by a receiver of `performance_refreshed` (receivers.py), in the recompute's
transaction, so a page never aggregates the actuals."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MarketingWeek(models.Model):
    """The marketer's figures of one plan, one week and one channel (marketing_data.py).

    `week_start` is the week's first day within the plan's period: the Monday of an ISO week,
    or the period's first day for a week the period starts inside (the decomposition's
    `WeekPlan.start`, so a row meets its week's plan by that key). Leads are counted on the
    organization's local day they were created; spend on its own (local) day; calls on the
    local day they were made, under the channel of their lead ("" for none). `through` is the
    last day counted: today's week is summed up to the day of the recompute."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    plan = models.ForeignKey(
        "salesplan.SalesPlan", on_delete=models.CASCADE, related_name="marketing_weeks"
    )
    week_start = models.DateField(_("week"))
    channel = models.CharField(_("channel"), max_length=200, blank=True)
    leads = models.PositiveIntegerField(_("leads"), default=0)
    target_leads = models.PositiveIntegerField(_("target leads"), default=0)
    non_target_leads = models.PositiveIntegerField(_("non-target leads"), default=0)
    # A week of a channel's daily spend (each at most funnel.Spend's 16 digits) fits in 18.
    spend = models.DecimalField(_("marketing spend"), max_digits=18, decimal_places=2, default=0)
    calls = models.PositiveIntegerField(_("calls"), default=0)
    missed_calls = models.PositiveIntegerField(_("missed calls"), default=0)
    # {"reason": count} of the non-target leads: the MAX_REASONS most frequent; the rest are
    # non_target_leads minus their sum ("other reasons" on the page).
    reasons = models.JSONField(_("non-target reasons"), default=dict)
    through = models.DateField(_("counted through"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("marketing week")
        verbose_name_plural = _("marketing weeks")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "week_start", "channel"], name="marketing_week_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.week_start} {self.channel}"
