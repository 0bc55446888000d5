from django.urls import path
from rest_framework.routers import DefaultRouter

from funnel.api import events as events_api
from funnel.api import integrations as integrations_api
from funnel.api import leads as leads_api
from funnel.api.imports import ImportViewSet
from funnel.api.views import FunnelViewSet
from metrics.api.views import MetricViewSet
from responsibility.api.views import PieResetView, PieView, ResponsibilityViewSet
from salesplan.api import views
from salesplan.api.plan_views import CalendarDayViewSet, PlanViewSet, ProductViewSet

router = DefaultRouter()
router.register("funnels", FunnelViewSet, basename="funnel")
router.register("plans", PlanViewSet, basename="plan")
router.register("products", ProductViewSet, basename="product")
router.register("calendar-days", CalendarDayViewSet, basename="calendar-day")
router.register("metrics", MetricViewSet, basename="metric")
router.register("imports", ImportViewSet, basename="import")
router.register(
    r"plans/(?P<plan_pk>\d+)/responsibilities", ResponsibilityViewSet, basename="responsibility"
)
# Actuals from the CRM (issue 5).
router.register("leads", leads_api.LeadViewSet, basename="lead")
router.register("integrations", integrations_api.IntegrationViewSet, basename="integration")

urlpatterns = [
    path("auth/token/", views.token_view, name="api_token"),
    path("me/", views.MeView.as_view(), name="api_me"),
    path("members/", views.MemberListView.as_view(), name="api_members"),
    path("plans/<int:plan_pk>/pie/", PieView.as_view(), name="api_pie"),
    path("plans/<int:plan_pk>/pie/reset/", PieResetView.as_view(), name="api_pie_reset"),
    path("events/", events_api.EventsView.as_view(), name="api_events"),
    path(
        "integrations/amocrm/<str:secret>/",
        integrations_api.amocrm_webhook,
        name="api_webhook_amocrm",
    ),
    path(
        "integrations/bitrix24/<str:secret>/",
        integrations_api.bitrix24_webhook,
        name="api_webhook_bitrix24",
    ),
    *router.urls,
]
