"""The CRM discipline page."""

from django.urls import URLPattern, path

from salesplan.dashboards import discipline

urlpatterns: list[URLPattern] = [
    path("discipline/", discipline.discipline, name="discipline"),
]
