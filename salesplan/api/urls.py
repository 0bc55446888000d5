from django.urls import path

from salesplan.api import views

urlpatterns = [
    path("auth/token/", views.token_view, name="api_token"),
    path("me/", views.MeView.as_view(), name="api_me"),
    path("members/", views.MemberListView.as_view(), name="api_members"),
]
