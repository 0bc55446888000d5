"""Weekly reviews: the REST API under /api/v1/."""

urlpatterns: list = []
