"""Role KPIs and bonus: the REST API under /api/v1/."""

urlpatterns: list = []
