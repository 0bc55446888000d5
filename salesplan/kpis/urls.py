"""Role KPIs and bonus: pages."""

urlpatterns: list = []
