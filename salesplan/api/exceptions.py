from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from salesplan.errors import error_dict
from salesplan.planning import PlanInputError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus a service's ValidationError or the engine's PlanInputError as a 400
    per field in the caller's language: views let them through instead of catching them."""
    if isinstance(exc, DjangoValidationError | PlanInputError):
        exc = exceptions.ValidationError(detail=error_dict(exc))
    return drf_exception_handler(exc, context)
