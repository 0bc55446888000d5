"""Each role's home, the owner's roll-up, a salesperson's day and a metric's history."""

from django.urls import path

from salesplan.dashboards import history, home, overview, today

urlpatterns = [
    path("", home.home, name="home"),
    path("overview/", overview.overview, name="overview"),
    path("today/", today.today, name="today"),
    path(
        "plans/<int:plan_id>/metrics/<int:metric_id>/history/",
        history.metric_history,
        name="metric_history",
    ),
]
