from django.urls import path

from salesplan.dashboards import marketing

urlpatterns = [
    path("marketing/", marketing.marketing, name="marketing"),
]
