"""Funnels and their ordered stages (actuals that flow through them come in later issues)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Funnel(models.Model):
    organization = models.ForeignKey(
        "salesplan.Organization", on_delete=models.CASCADE, related_name="funnels"
    )
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("funnel")
        verbose_name_plural = _("funnels")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="funnel_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """A funnel stage; `conversion` is the planned share reaching the next stage."""

    funnel = models.ForeignKey(Funnel, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"))
    conversion = models.DecimalField(
        _("conversion to the next stage"), max_digits=7, decimal_places=6, null=True, blank=True
    )
    is_key_stage = models.BooleanField(_("key stage"), default=False)
    is_target_lead = models.BooleanField(_("target-lead stage"), default=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["funnel_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["funnel", "position"], name="stage_position_unique"),
            models.UniqueConstraint(fields=["funnel", "name"], name="stage_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name
