"""Pages of plans, funnels, products and the calendar (server-rendered, htmx)."""

from django.urls import path

from funnel import views as funnel_views
from salesplan import plan_views

urlpatterns = [
    path("plans/", plan_views.plan_list, name="plan_list"),
    path("plans/new/", plan_views.plan_create, name="plan_create"),
    path("plans/preview/", plan_views.plan_preview, name="plan_preview"),
    path("plans/<int:pk>/", plan_views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plan_views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/what-if/", plan_views.plan_what_if, name="plan_what_if"),
    path("plans/<int:pk>/versions/compare/", plan_views.plan_compare, name="plan_compare"),
    path("plans/<int:pk>/versions/<int:number>/", plan_views.plan_version, name="plan_version"),
    path("funnels/", funnel_views.funnel_list, name="funnel_list"),
    path("funnels/new/", funnel_views.funnel_create, name="funnel_create"),
    path("funnels/<int:pk>/edit/", funnel_views.funnel_edit, name="funnel_edit"),
    path("settings/", plan_views.settings_home, name="settings"),
    path("settings/products/", plan_views.product_list, name="product_list"),
    path("settings/calendar/", plan_views.calendar, name="calendar"),
    path(
        "settings/calendar/<int:pk>/delete/",
        plan_views.calendar_day_delete,
        name="calendar_day_delete",
    ),
]
