"""The morning pages read from a cache, kept honest by one number per organization.

Everything the cached pages show (the funnel dashboard, the owner's roll-up, the marketer page,
the pie, "today", the performance API) changes in one of two ways: a person's write (a form
post or an API call) or a background job (the plan-vs-fact recompute, the marketing summary).
Both end by calling `figures_changed(organization)`, which adds one to the organization's
`figures_version`: the middleware below after every unsafe request of a signed-in member, the
recompute through `performance_refreshed`, the marketing job itself. A cached answer is keyed by
that version (read with the request's membership: no query of its own), so the first read after
any change builds the page again; nothing waits for a timer. `PAGE_CACHE_SECONDS` bounds how
long an answer is kept at all (0 turns the cache off).

A page's key also holds everything else it depends on: the address and its query, the member,
the language, the organization's today, htmx's headers, and the CSRF cookie (the page carries a
token made from it, so another browser of the same person gets a page of its own). A page with
a message waiting (`django.contrib.messages`) is never served from or stored in the cache; only
200 answers without cookies of their own are stored.

The version is read before the page's data (the membership is loaded first): a change that
commits meanwhile can only put newer figures under the older key, never older ones under the
newer.
"""

import hashlib
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from salesplan.access import membership_for
from salesplan.models import Membership, Organization
from salesplan.signals import performance_refreshed

# Request methods that may change what a page shows.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Headers a cached page keeps (cookies are the middleware's, set on every answer anew).
KEPT_HEADERS = ("Content-Type", "Content-Language", "Vary", "Content-Disposition")


def figures_changed(organization_id: int) -> None:
    """The organizations' pages are out of date: every cached page of theirs is rebuilt on its
    next read. Inside a transaction the new version commits with the rows that changed: a
    reader sees both or neither."""
    Organization.objects.filter(pk=organization_id).update(figures_version=F("figures_version") + 1)


def figures_changed_by(user: Any) -> None:
    """A signed-in person wrote something: the organizations they belong to change."""
    if getattr(user, "is_authenticated", False):
        # One UPDATE, its organizations found in a subquery.
        Organization.objects.filter(
            pk__in=Membership.objects.filter(user=user, is_active=True).values("organization_id")
        ).update(figures_version=F("figures_version") + 1)


class FiguresChangedMiddleware:
    """After every unsafe request of a signed-in person (a page's form, an API call with a
    token: DRF sets the user on the request as it authenticates), their organizations' cached
    pages are rebuilt on their next read. Cheap next to the write itself: one UPDATE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # A refused write (4xx, 5xx) changed nothing.
        if request.method in UNSAFE_METHODS and response.status_code < 400:
            figures_changed_by(getattr(request, "user", None))
        return response


@receiver(performance_refreshed, dispatch_uid="figures.performance_refreshed")
def _recomputed(sender: Any, *, plan: Any, **kwargs: Any) -> None:
    """A plan's plan vs fact was stored: in the recompute's transaction, so the new version
    commits with its rows."""
    figures_changed(plan.organization_id)


def _enabled() -> bool:
    return int(getattr(settings, "PAGE_CACHE_SECONDS", 0)) > 0


def _digest(parts: Iterable[Any]) -> str:
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()


def page_key(request: HttpRequest, member: Membership, *extra: Any) -> str | None:
    """The cache key of this request's page, or None when it must not be cached."""
    if request.method not in ("GET", "HEAD"):
        return None
    messages = getattr(request, "_messages", None)
    if messages is not None and len(messages):
        return None
    csrf = request.COOKIES.get(settings.CSRF_COOKIE_NAME)
    if not csrf:
        # The page would carry a token of a cookie this browser does not hold yet.
        return None
    organization = member.organization
    today = timezone.localdate(timezone=ZoneInfo(organization.time_zone))
    return "page:" + _digest(
        (
            organization.pk,
            organization.figures_version,
            member.pk,
            request.get_full_path(),
            get_language(),
            today,
            timezone.localdate(),
            request.headers.get("HX-Request", ""),
            request.headers.get("HX-Target", ""),
            csrf,
            *extra,
        )
    )


def _stored(response: HttpResponse) -> dict[str, Any] | None:
    if response.status_code != 200 or response.streaming or response.cookies:
        return None
    return {
        "content": response.content,
        "headers": {name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
    }


def _replayed(stored: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(stored["content"])
    for name, value in stored["headers"].items():
        response[name] = value
    return response


def cached_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page view answered from the cache while its organization's figures are unchanged
    (see the module's docstring). The view still runs for everything it refuses: a member
    the cache has no page for builds it, and a request that may not be cached (a POST, a
    message waiting, no CSRF cookie yet) is the view's alone."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = membership_for(request) if _enabled() else None
        key = page_key(request, member) if member is not None else None
        if key is None:
            return view(request, *args, **kwargs)
        stored = cache.get(key)
        if stored is not None:
            return _replayed(stored)
        response = view(request, *args, **kwargs)
        render = getattr(response, "render", None)
        if callable(render) and not getattr(response, "is_rendered", True):
            response = render()
        if (kept := _stored(response)) is not None:
            cache.set(key, kept, settings.PAGE_CACHE_SECONDS)
        return response

    return wrapper


def cached_value(
    organization: Organization, name: str, build: Callable[[], Any], *parts: Any
) -> Any:
    """A value (an API answer's data) built once per version of the organization's figures:
    `name` and `parts` say what it is; whoever may read it was checked before."""
    if not _enabled():
        return build()
    key = "figures:" + _digest(
        (organization.pk, organization.figures_version, timezone.localdate(), name, *parts)
    )
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, settings.PAGE_CACHE_SECONDS)
    return value


def cached_answer(
    request: Request, organization: Organization, name: str, build: Callable[[], Any], *parts: Any
) -> HttpResponse:
    """An API answer built once per version of the organization's figures (`cached_value`),
    kept as its JSON text when the client asked for JSON (the usual case: a big answer's
    encoding costs more than reading it), as its data for any other format (the browsable
    API renders it per request)."""
    renderer = getattr(request, "accepted_renderer", None)
    if not isinstance(renderer, JSONRenderer):
        return Response(cached_value(organization, name, build, *parts))
    media_type = request.accepted_media_type
    text = cached_value(
        organization,
        name,
        lambda: renderer.render(build(), media_type, {"request": request}),
        *parts,
        media_type,
    )
    return HttpResponse(text, content_type=renderer.media_type)
