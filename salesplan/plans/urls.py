"""Pages of plans and the dashboard (server-rendered, htmx)."""

from django.urls import path

from salesplan.plans import views

urlpatterns = [
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/preview/", views.plan_preview, name="plan_preview"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/what-if/", views.plan_what_if, name="plan_what_if"),
    path("plans/<int:pk>/versions/compare/", views.plan_compare, name="plan_compare"),
    path("plans/<int:pk>/versions/<int:number>/", views.plan_version, name="plan_version"),
]
