"""The support admin for weekly reviews: read-only, they are the head of sales' own (saved
through reviews.services, with their history) and the data's prefill (kept by a job)."""

from django.contrib import admin

from salesplan.admin import ReadOnlyAdmin, ReadOnlyInline
from salesplan.reviews.models import ReviewChange, WeeklyReview


class ReviewChangeInline(ReadOnlyInline):
    model = ReviewChange
    fields = ["number", "changed_by", "changed_at", "items"]
    raw_id_fields = ["changed_by"]


@admin.register(WeeklyReview)
class WeeklyReviewAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "organization", "head", "week_start", "version", "own_deals"]
    list_filter = ["organization"]
    list_select_related = ["organization", "head__user"]
    date_hierarchy = "week_start"
    raw_id_fields = ["organization", "head", "updated_by"]
    inlines = [ReviewChangeInline]
