"""Summaries the dashboards read that the plans' recompute does not store itself; each is
kept current by a receiver of `performance_refreshed` (receivers.py), in the recompute's
transaction, so a page never aggregates the actuals."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MarketingDay(models.Model):
    """The marketer's figures of one plan, one local day and one channel (marketing_data.py).

    Leads are counted on the organization's local day they were created; spend on its own
    (local) day; calls on the local day they were made, under the channel of their lead (""
    for none). Every day recomputed has a row, a quiet one too (channel "", zeros): the page
    tells a day with nothing from a day not computed yet. Kept per day, not per week, so the
    recompute of today (every few minutes) rewrites one day's rows, not a week's."""

    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="+"
    )
    plan = models.ForeignKey(
        "salesplan.SalesPlan", on_delete=models.CASCADE, related_name="marketing_days"
    )
    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=200, blank=True)
    leads = models.PositiveIntegerField(_("leads"), default=0)
    target_leads = models.PositiveIntegerField(_("target leads"), default=0)
    non_target_leads = models.PositiveIntegerField(_("non-target leads"), default=0)
    spend = models.DecimalField(_("marketing spend"), max_digits=16, decimal_places=2, default=0)
    calls = models.PositiveIntegerField(_("calls"), default=0)
    missed_calls = models.PositiveIntegerField(_("missed calls"), default=0)
    # {"reason": count} of the non-target leads: the MAX_REASONS most frequent; the rest are
    # non_target_leads minus their sum ("other reasons" on the page).
    reasons = models.JSONField(_("non-target reasons"), default=dict)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("marketing day")
        verbose_name_plural = _("marketing days")
        constraints = [
            models.UniqueConstraint(fields=["plan", "day", "channel"], name="marketing_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.day} {self.channel}"
