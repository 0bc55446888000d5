"""Pages of plans, funnels, products and the calendar (server-rendered, htmx)."""

from django.urls import path

urlpatterns: list = [
    # filled in by the plan pages (see salesplan/plan_views.py)
]
