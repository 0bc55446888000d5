"""Schemathesis over the whole OpenAPI schema (every endpoint that exists, now and later):
no 5xx, and every response matches the schema.

Detail endpoints are called with ids that exist (a world of the caller's organization with one
object of every kind), so their bodies are exercised, not 404ed; 404s for ids that do not exist
are the access matrix's business (tests/test_access_matrix.py)."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.files import File
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from funnel.models import Integration, Lead, RawRecord
from funnel.services import imports
from responsibility.models import Responsibility
from salesplan.models import CalendarDay, Product, Role, Team
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PaymentFactory,
    PlanFactory,
)
from tests.funnel.importing import FIXTURES

# Examples per operation: enough to hit every endpoint with valid and invalid data while the
# whole run stays within a minute or two on two cores.
EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def world(db, api_for) -> dict:
    """An owner's organization with one object of every kind an endpoint is about; returns the
    token and, per collection in the URL, the id of its object."""
    owner = MembershipFactory(organization=OrganizationFactory(name="Schema Co"), role=Role.OWNER)
    organization = owner.organization
    team = Team.objects.create(organization=organization, name="East", head=owner)
    seller = MembershipFactory(organization=organization, role=Role.SALESPERSON, team=team)
    plan = PlanFactory(organization=organization, sales_team=team, team=[(seller, "1")])
    lead = PaymentFactory(
        lead__funnel=plan.funnel, lead__responsible=seller, lead__organization=organization
    ).lead
    with open(FIXTURES / "template_deals.tsv", "rb") as handle:
        job = imports.import_create(
            membership=owner, funnel=plan.funnel, uploaded=File(handle, name="deals.tsv")
        )
    integrations = {
        kind: Integration.objects.create(
            organization=organization,
            kind=kind,
            funnel=plan.funnel,
            secret=f"schema-{kind}-secret",
            application_token="t0k" if kind == "bitrix24" else "",
        )
        for kind in ("amocrm", "bitrix24")
    }
    ids = {
        "plans": plan.pk,
        "funnels": plan.funnel_id,
        "products": Product.objects.create(organization=organization, name="P", price=1).pk,
        "calendar-days": CalendarDay.objects.create(
            organization=organization, date="2026-12-31", is_working=True
        ).pk,
        "metrics": plan.metrics.first().pk,
        "responsibilities": Responsibility.objects.filter(plan=plan).first().pk,
        "imports": job.pk,
        "leads": Lead.objects.get(pk=lead.pk).pk,
        "integrations": integrations["amocrm"].pk,
        "webhook-records": RawRecord.objects.create(
            organization=organization,
            integration=integrations["amocrm"],
            kind=RawRecord.Kind.WEBHOOK,
            source="amocrm",
            body="leads%5Badd%5D%5B0%5D%5Bid%5D=1",
            status=RawRecord.Status.FAILED,
        ).pk,
        "amocrm": integrations["amocrm"].secret,
        "bitrix24": integrations["bitrix24"].secret,
    }
    token, _ = Token.objects.get_or_create(user=owner.user)
    return {"token": token.key, "ids": ids}


def real_path_parameters(path: str, ids: dict) -> dict:
    """{id} is the object of the collection named before it; {plan_pk} the plan; {secret}
    the integration of the CRM named before it."""
    parts = path.strip("/").split("/")
    values = {}
    for index, part in enumerate(parts):
        if part in ("{id}", "{secret}") and parts[index - 1] in ids:
            values[part.strip("{}")] = ids[parts[index - 1]]
        elif part == "{plan_pk}":
            values["plan_pk"] = ids["plans"]
    return values


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


def test_every_path_parameter_gets_a_real_id(world):
    # given every operation of the schema; then each of its path parameters has a real value
    missing = []
    for result in schema.get_all_operations():
        operation = result.ok()
        wanted = {p.name for p in operation.path_parameters}
        if wanted - set(real_path_parameters(operation.path, world["ids"])):
            missing.append(operation.path)
    assert not missing


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
def test_api_conforms_to_its_schema(case, world, keep_test_connection):
    if case.path_parameters:
        case.path_parameters = {
            **case.path_parameters,
            **real_path_parameters(case.operation.path, world["ids"]),
        }
    case.call_and_validate(
        headers={"Authorization": f"Token {world['token']}", "Accept-Language": "ru"},
        checks=[not_a_server_error, response_schema_conformance],
    )
