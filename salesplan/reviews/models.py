"""Weekly reviews: a head of sales' checklist of their functions (reviews.checklist) for one
of the organization's local ISO weeks, and who changed what in it and when.

A review keeps two things apart: `marks`, what the person ticked and noted, and `prefill`,
what the data suggests (with its evidence), refreshed by a job. The person's tick wins over
the prefill; a refresh of the prefill never touches the marks."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from salesplan.models import Membership, Organization


class WeeklyReview(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="weekly_reviews"
    )
    head = models.ForeignKey(
        Membership,
        verbose_name=_("head of sales"),
        on_delete=models.CASCADE,
        related_name="weekly_reviews",
    )
    # The Monday of the organization's local ISO week.
    week_start = models.DateField(_("week"))
    # The person's: {"plan": {"done": true, "note": "…"}, …}; a key absent or "done" null:
    # not decided, the prefill shows.
    marks = models.JSONField(default=dict, blank=True)
    # The data's: {"plan": {"suggested": true|false|null, "evidence": {"code": …, …},
    # "warning": false}, …} (reviews.prefill).
    prefill = models.JSONField(default=dict, blank=True)
    prefilled_at = models.DateTimeField(_("prefilled at"), null=True, blank=True)
    # The head's own deals of the week (payments of the leads they hold), kept with the
    # prefill so the owner's "manages or sells" reads them without touching the payments.
    own_deals = models.PositiveIntegerField(_("own deals"), default=0)
    own_revenue = models.DecimalField(_("own revenue"), max_digits=16, decimal_places=2, default=0)
    # The person's saves (0: only prefilled so far); a save based on an older one is a 409.
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("weekly review")
        verbose_name_plural = _("weekly reviews")
        ordering = ["-week_start", "head_id"]
        constraints = [
            models.UniqueConstraint(fields=["head", "week_start"], name="weekly_review_unique")
        ]
        indexes = [
            models.Index(fields=["organization", "week_start"], name="weekly_review_org_week")
        ]

    def __str__(self) -> str:
        return f"review of {self.head_id} for {self.week_start}"


class ReviewChange(models.Model):
    """One save of a review that changed something: each changed function's tick and note
    before and after, who and when."""

    review = models.ForeignKey(WeeklyReview, on_delete=models.CASCADE, related_name="changes")
    number = models.PositiveIntegerField()  # the review's version after this save
    changed_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    # [{"key": "plan", "done": [null, true], "note": ["", "Разобрали план"]}, …]
    items = models.JSONField(default=list)

    class Meta:
        verbose_name = _("weekly review change")
        verbose_name_plural = _("weekly review changes")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "number"], name="review_change_unique")
        ]

    def __str__(self) -> str:
        return f"{self.review_id} #{self.number}"
