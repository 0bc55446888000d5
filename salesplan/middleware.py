from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from salesplan.access import membership_for

# Machine endpoints authenticate themselves (token or session) and answer 401/403; the
# Swagger page /api/docs/ is a page for people and redirects to sign-in like any other.
MACHINE_PREFIXES = ("/api/v1/", "/api/schema/")


def _is_public(view_func: Callable[..., Any]) -> bool:
    return not getattr(view_func, "login_required", True)


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django's, except for the API: DRF authenticates tokens itself and answers 401/403
    instead of redirecting a machine to a login page."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if request.path_info.startswith(MACHINE_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class MembershipMiddleware:
    """Every page needs a signed-in *member*: a user without an organization gets an
    explanation instead of pages that would have nothing to show."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if request.path_info.startswith(MACHINE_PREFIXES) or _is_public(view_func):
            return None
        if request.path_info.startswith("/admin/"):
            return None
        if request.user.is_authenticated and membership_for(request) is None:
            return render(request, "no_membership.html", status=403)
        return None
