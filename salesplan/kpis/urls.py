"""Role KPIs and bonus: pages."""

from django.urls import path

from salesplan.kpis import views

urlpatterns = [
    path("kpi/", views.scorecard, name="scorecard"),
    path("kpi/schemes/", views.kpi_schemes, name="kpi_schemes"),
    path("kpi/base-bonus/<int:member_pk>/", views.base_bonus, name="kpi_base_bonus"),
    path("kpi/manual/<int:member_pk>/", views.manual_value, name="kpi_manual_value"),
    path(
        "kpi/payments/<int:pk>/bonus-recipient/",
        views.bonus_recipient,
        name="kpi_bonus_recipient",
    ),
]
