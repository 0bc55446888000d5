from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from salesplan import views
from salesplan.forms import EmailAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("people/", views.members, name="members"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("organization/switch/", views.organization_switch, name="organization_switch"),
    path("", include("salesplan.plan_urls")),
    path("", include("responsibility.urls")),
    path("", include("funnel.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("salesplan.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # A page for people: DRF views skip LoginRequiredMiddleware, so ask for sign-in here.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api_schema")),
        name="api_docs",
    ),
]
