from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from salesplan.api.parsers import body_too_large
from salesplan.errors import error_dict
from salesplan.limits import TooLarge
from salesplan.planning import PlanInputError
from salesplan.queue import QueueUnavailable, queue_unavailable_message


class ContentTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus a service's ValidationError or the engine's PlanInputError as a 400
    per field in the caller's language: views let them through instead of catching them.
    A body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django reads it before any parser) is a 413."""
    if isinstance(exc, TooLarge):  # larger than a limit (salesplan.limits): 413, in words
        exc = ContentTooLarge(detail=error_dict(exc))
    elif isinstance(exc, DjangoValidationError | PlanInputError):
        exc = exceptions.ValidationError(detail=error_dict(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = body_too_large()
    elif isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ParseError(gettext("The form has too many fields to send."))
    elif isinstance(exc, QueueUnavailable):  # the broker is down: kept, queued by a sweep
        return Response(
            {"detail": queue_unavailable_message(), "code": "queue_unavailable"},
            status=503,
            headers={"Retry-After": "60"},  # the sweeps run every minute
        )
    return drf_exception_handler(exc, context)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: an address under /api/ that names nothing (e.g. /api/v1/integrations/x/,
    whose id must be a number) answers the API's JSON 404 (the Error body of the schema), not
    the HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": exceptions.NotFound.default_detail}, status=404)
    return defaults.page_not_found(request, exception)
