"""A 403 is logged once, as one warning line without a traceback (issue 12: "every 403 is
logged twice with a traceback")."""

import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import RequestFactory

from salesplan.models import Role

pytestmark = pytest.mark.django_db


def _printing_handlers(name: str) -> list[logging.Handler]:
    """The stream handlers a record of logger `name` reaches (pytest's capture apart)."""
    found: list[logging.Handler] = []
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None:
        found += [h for h in logger.handlers if type(h) is logging.StreamHandler]
        if not logger.propagate:
            break
        logger = logger.parent
    return found


def test_a_request_record_reaches_one_console_only():
    # Django's default "django" console handler plus the root's printed every line twice
    assert len(_printing_handlers("django.request")) == 1


def test_a_forbidden_page_is_one_warning_line_without_a_traceback(caplog):
    # given a request Django answers with 403 because a view raised PermissionDenied
    request = RequestFactory().get("/plans/3/")
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = response_for_exception(request, PermissionDenied("no"))
    # then one record: a warning naming the path, with no traceback attached
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "Forbidden (Permission denied): /plans/3/"
    assert record.exc_info is None and not record.exc_text
    assert "Traceback" not in caplog.text


def test_a_page_of_another_role_is_logged_once(client_for, make_member, caplog):
    # given a salesperson, who may not import
    page = client_for(make_member(Role.SALESPERSON))
    # when they open the imports page
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = page.get("/imports/")
    # then a 403, logged as one warning line naming the path, without a traceback
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "Forbidden (Permission denied): /imports/"
    assert record.exc_info is None
    # and the page says why and leads back home
    assert '<a href="/">' in response.content.decode()


def test_a_server_error_keeps_its_traceback(caplog):
    request = RequestFactory().get("/boom/")
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        with caplog.at_level(logging.INFO, logger="django.request"):
            response_for_exception(request, error)
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
