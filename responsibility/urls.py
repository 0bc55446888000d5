from django.urls import path

from responsibility import views

urlpatterns = [
    path("plans/<int:plan_id>/pie/", views.pie_page, name="pie"),
    path("plans/<int:plan_id>/pie/assign/", views.pie_assign, name="pie_assign"),
    path("plans/<int:plan_id>/pie/split/", views.pie_split, name="pie_split"),
    path("plans/<int:plan_id>/pie/reset/", views.pie_reset, name="pie_reset"),
]
