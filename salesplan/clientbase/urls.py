"""Client base: pages."""

from django.urls import path

from salesplan.clientbase import views

urlpatterns = [
    path("client-base/", views.client_base, name="client_base"),
    path("client-base/settings/", views.client_base_settings, name="client_base_settings"),
]
