"""Schemathesis over the whole OpenAPI schema (every endpoint that exists, now and later):
no 5xx, and every response matches the schema."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from salesplan.models import Role
from tests.factories import MembershipFactory, OrganizationFactory
from tests.worked_example import DECEMBER, WORKED_STAGES

# Examples per operation: enough to hit every endpoint with valid and invalid data while the
# whole run stays within a minute or two on two cores.
EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def api_token(db, api_for) -> str:
    """An owner with a funnel, a plan and its pie, so that ids 1… often exist."""
    owner = MembershipFactory(organization=OrganizationFactory(name="Schema Co"), role=Role.OWNER)
    seller = MembershipFactory(organization=owner.organization, role=Role.SALESPERSON)
    api = api_for(owner)
    funnel = api.post("/api/v1/funnels/", {"name": "B2B", "stages": WORKED_STAGES}, format="json")
    api.post(
        "/api/v1/plans/",
        {
            "funnel": funnel.json()["id"],
            "name": "December",
            **DECEMBER,
            "team": [{"membership": seller.pk, "share": "1"}],
        },
        format="json",
    )
    return Token.objects.get(user=owner.user).key


def load_schema() -> schemathesis.BaseSchema:
    """The schema drf-spectacular serves at /api/schema/, generated in-process (it needs no
    database), tested against the app through WSGI."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)))
    loaded.app = get_wsgi_application()
    return loaded


schema = load_schema()


@pytest.fixture
def keep_test_connection():
    """A WSGI request closes the database connection when it finishes; inside a test that
    would close the test's transaction. Django's own test client suspends this the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    # The same examples every run, so CI is reproducible; change the seed locally
    # (e.g. `--hypothesis-seed=N` with derandomize off) to explore further.
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, api_token, keep_test_connection):
    case.call_and_validate(
        headers={"Authorization": f"Token {api_token}", "Accept-Language": "ru"},
        checks=[not_a_server_error, response_schema_conformance],
    )
