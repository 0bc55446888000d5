"""The responsibility pie: every metric of a plan has one owner (DOMAIN idea 3).

A top-level responsibility (parent = None) is the metric's owner for the department. Below a
head of sales the same metric can be split among team members by share (children of that
responsibility, shares adding up to 1): the head of sales' own cut of the pie.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Responsibility(models.Model):
    plan = models.ForeignKey(
        "salesplan.SalesPlan", on_delete=models.CASCADE, related_name="responsibilities"
    )
    metric = models.ForeignKey(
        "metrics.PlanMetric", on_delete=models.CASCADE, related_name="responsibilities"
    )
    owner = models.ForeignKey(
        "salesplan.Membership",
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="responsibilities",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    share = models.DecimalField(_("share"), max_digits=9, decimal_places=6, default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        ordering = ["plan_id", "metric_id", "parent_id", "id"]
        constraints = [
            # One slice per person and metric at the top, and per person under each parent.
            models.UniqueConstraint(
                fields=["metric", "owner"],
                condition=models.Q(parent__isnull=True),
                name="responsibility_top_unique",
            ),
            models.UniqueConstraint(
                fields=["metric", "owner", "parent"], name="responsibility_split_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id} → {self.owner_id} ({self.share})"
