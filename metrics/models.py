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
