"""The funnel dashboard and the leads behind its cells."""

from django.urls import URLPattern, path

from salesplan.dashboards import funnel

urlpatterns: list[URLPattern] = [
    path("dashboard/", funnel.dashboard, name="dashboard"),
    path("dashboard/leads/", funnel.dashboard_leads, name="dashboard_leads"),
]
