"""Weekly reviews: pages."""

from django.urls import path

from salesplan.reviews import views

urlpatterns = [
    path("reviews/weekly/", views.weekly_review, name="weekly_review"),
]
