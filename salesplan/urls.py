"""Routing: every page and every API endpoint. The top of the layers (it imports every app)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from funnel.api import events as events_api
from funnel.api import integrations as integrations_api
from funnel.api.imports import ImportViewSet
from funnel.api.leads import LeadViewSet
from funnel.api.views import FunnelViewSet
from metrics.api.views import MetricViewSet
from responsibility.api.views import PieResetView, PieView, ResponsibilityViewSet
from salesplan import views
from salesplan.api import views as core_api
from salesplan.forms import EmailAuthenticationForm
from salesplan.notifications import api as notifications_api
from salesplan.notifications import views as notifications_views
from salesplan.plans.api.views import PlanViewSet

# --- the REST API (/api/v1/) --------------------------------------------------------------------

router = DefaultRouter()
router.register("funnels", FunnelViewSet, basename="funnel")
router.register("plans", PlanViewSet, basename="plan")
router.register("products", core_api.ProductViewSet, basename="product")
router.register("calendar-days", core_api.CalendarDayViewSet, basename="calendar-day")
router.register("metrics", MetricViewSet, basename="metric")
router.register("imports", ImportViewSet, basename="import")
router.register(
    r"plans/(?P<plan_pk>\d+)/responsibilities", ResponsibilityViewSet, basename="responsibility"
)
router.register("leads", LeadViewSet, basename="lead")
router.register("integrations", integrations_api.IntegrationViewSet, basename="integration")
router.register("webhook-records", integrations_api.WebhookRecordViewSet, basename="webhook-record")

api_urlpatterns = [
    path("auth/token/", core_api.token_view, name="api_token"),
    path("auth/token/rotate/", core_api.TokenRotateView.as_view(), name="api_token_rotate"),
    path("me/", core_api.MeView.as_view(), name="api_me"),
    path("members/", core_api.MemberListView.as_view(), name="api_members"),
    path("plans/<int:plan_pk>/pie/", PieView.as_view(), name="api_pie"),
    path("plans/<int:plan_pk>/pie/reset/", PieResetView.as_view(), name="api_pie_reset"),
    path("events/", events_api.EventsView.as_view(), name="api_events"),
    path(
        "plans/<int:plan_pk>/slips/",
        notifications_api.PlanSlipListView.as_view(),
        name="api_plan_slips",
    ),
    path("inbox/", notifications_api.InboxView.as_view(), name="api_inbox"),
    path(
        "inbox/read-all/", notifications_api.InboxReadAllView.as_view(), name="api_inbox_read_all"
    ),
    path("inbox/<int:id>/read/", notifications_api.InboxReadView.as_view(), name="api_inbox_read"),
    path(
        "notifications/settings/",
        notifications_api.PersonSettingsView.as_view(),
        name="api_notification_settings",
    ),
    path(
        "organization/notifications/",
        notifications_api.OrganizationSettingsView.as_view(),
        name="api_organization_notifications",
    ),
    path(
        "deliveries/<int:id>/retry/",
        notifications_api.DeliveryRetryView.as_view(),
        name="api_delivery_retry",
    ),
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
    path("", include("salesplan.kpis.api")),
    path("", include("salesplan.clientbase.api")),
    path("", include("salesplan.reviews.api")),
    path("", include("salesplan.dashboards.discipline_api")),
    *router.urls,
]

# --- pages --------------------------------------------------------------------------------------

handler400 = "salesplan.views.bad_request"  # a 400 says why, in the user's language
handler404 = "salesplan.api.exceptions.page_not_found"  # JSON under /api/

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("signup/", views.signup, name="signup"),
    path("signup/confirm/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path("account/", views.account, name="account"),
    path("account/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("account/token/rotate/", views.account_token_rotate, name="account_token_rotate"),
    path("account/token/revoke/", views.account_token_revoke, name="account_token_revoke"),
    path("people/", views.members, name="members"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("organization/switch/", views.organization_switch, name="organization_switch"),
    path("settings/", views.settings_home, name="settings"),
    path("inbox/", notifications_views.inbox, name="inbox"),
    path("inbox/badge/", notifications_views.inbox_badge, name="inbox_badge"),
    path("inbox/read-all/", notifications_views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/read/", notifications_views.inbox_read, name="inbox_read"),
    path(
        "settings/notifications/",
        notifications_views.person_settings,
        name="notification_settings",
    ),
    path(
        "settings/notifications/test/",
        notifications_views.person_settings_test,
        name="notification_settings_test",
    ),
    path(
        "settings/organization/notifications/",
        notifications_views.organization_settings,
        name="organization_notifications",
    ),
    path(
        "settings/organization/notifications/secret/",
        notifications_views.organization_secret_regenerate,
        name="organization_notifications_secret",
    ),
    path(
        "settings/organization/notifications/deliveries/<int:pk>/retry/",
        notifications_views.delivery_retry,
        name="organization_delivery_retry",
    ),
    path("settings/products/", views.product_list, name="product_list"),
    path("settings/calendar/", views.calendar, name="calendar"),
    path(
        "settings/calendar/<int:pk>/delete/", views.calendar_day_delete, name="calendar_day_delete"
    ),
    path("", include("salesplan.dashboards.urls")),
    path("", include("salesplan.kpis.urls")),
    path("", include("salesplan.clientbase.urls")),
    path("", include("salesplan.reviews.urls")),
    path("", include("salesplan.plans.urls")),
    path("", include("responsibility.urls")),
    path("", include("funnel.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # A page for people: DRF views skip LoginRequiredMiddleware, so ask for sign-in here.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api_schema")),
        name="api_docs",
    ),
]
