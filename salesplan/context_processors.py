from typing import Any

from django.http import HttpRequest

from salesplan.access import membership_for
from salesplan.navigation import nav_for


def membership(request: HttpRequest) -> dict[str, Any]:
    current = membership_for(request) if hasattr(request, "user") else None
    organization = current.organization if current else None
    return {
        "membership": current,
        "organization": organization,
        "currency": organization.currency if organization else "RUB",
        "nav_items": nav_for(current, request.path),
    }
