"""Weekly reviews: pages."""

urlpatterns: list = []
