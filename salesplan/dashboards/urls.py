"""Pages of the dashboards layer; each page family keeps its own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("salesplan.dashboards.roles_urls")),
    path("", include("salesplan.dashboards.funnel_urls")),
    path("", include("salesplan.dashboards.marketing_urls")),
    path("", include("salesplan.dashboards.discipline_urls")),
]
