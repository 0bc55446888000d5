"""The weekly review's answers conform to the OpenAPI schema (status, headers, body) with real
data: the project's schemathesis run (tests/test_api_schema.py) has no head of sales in its
world, so it only ever sees these endpoints' errors."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

from salesplan.reviews import services
from salesplan.reviews.weeks import parse_week

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)))
    loaded.app = get_wsgi_application()
    return loaded


@pytest.fixture
def keep_test_connection():
    """A WSGI request closes the database connection when it finishes (tests/test_api_schema.py
    says why this is suspended)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def headers(member) -> dict:
    token, _ = Token.objects.get_or_create(user=member.user)
    return {"Authorization": f"Token {token.key}"}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_answer_with_real_reviews_is_documented(
    schema, keep_test_connection, rop, boss, plan, now, language
):
    past = parse_week("2026-W48")
    services.review_save(
        member=rop,
        head=rop,
        week=past,
        marks=[services.Mark("train", True, "Ролевые"), services.Mark("plan", False)],
    )
    services.review_save(member=rop, head=rop, week=past, marks=[services.Mark("plan", None)])
    review = schema["/api/v1/weekly-reviews/"]
    calls = [
        (review["GET"], rop, {"week": "2026-W48"}, None, 200),
        (review["GET"], boss, {"head": rop.pk}, None, 200),
        (
            review["PUT"],
            rop,
            {},
            {"version": 0, "items": [{"key": "sell", "done": False, "note": "Нет"}]},
            200,
        ),
        (review["PUT"], rop, {}, {"version": 0, "items": [{"key": "sell", "done": True}]}, 409),
        (review["GET"], rop, {"week": "soon"}, None, 400),
        (review["PUT"], boss, {"head": rop.pk}, {"items": []}, 403),
        (schema["/api/v1/weekly-reviews/history/"]["GET"], boss, {"head": rop.pk}, None, 200),
        (schema["/api/v1/weekly-reviews/summary/"]["GET"], boss, {}, None, 200),
    ]
    for operation, member, query, body, status in calls:
        kwargs = {"query": query}
        if body is not None:
            kwargs["body"] = body
            kwargs["media_type"] = "application/json"
        case = operation.Case(**kwargs)
        response = case.call_and_validate(headers={**headers(member), "Accept-Language": language})
        assert response.status_code == status, (operation.label, response.text[:300])
