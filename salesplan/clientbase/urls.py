"""Client base: pages."""

urlpatterns: list = []
