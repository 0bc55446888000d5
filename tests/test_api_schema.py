"""Schemathesis over the whole OpenAPI schema (every endpoint that exists, now and later): no
5xx, and every answer documented: its status, content type, headers and body (`--checks all`
but the two below), operation by operation and along the schema's links (stateful).

Detail endpoints are called with ids that exist (a world of the caller's organization with one
object of every kind), so their bodies are exercised, not 404ed; 404s for ids that do not exist
are the access matrix's business (tests/test_access_matrix.py). Every request is counted
(tests/fuzzing.py): the session's summary prints "schemathesis: N requests, 0 5xx".

Checks left out, and why:
- positive_data_acceptance: it wants a 2xx for every request the schema allows, but the schema
  cannot say what the services check across fields and rows (a plan's period and team shares,
  a funnel's stage names, a CRM file's columns...); those answer a documented 400.
- negative_data_rejection: it wants a 4xx for every request the schema forbids, but DRF reads
  forms and JSON leniently on purpose: "true" or 1 for a boolean, "5" for a number, a missing
  checkbox of a form as false, and ignores unknown query parameters. Bad input the services
  cannot use is still a 400 (not_a_server_error and the body checks see every such case)."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.fuzzing import CountingApp, Tally, build_world

# Examples per operation: enough to hit every endpoint with valid and invalid data while the
# whole run stays within a minute or two on two cores.
EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def world(db) -> dict:
    """An owner's organization with one object of every kind an endpoint is about
    (tests/fuzzing.py); the owner's token and, per collection in the URL, its object's id."""
    built = build_world()
    token, _ = Token.objects.get_or_create(user=built["owner"].user)
    return {"token": token.key, "ids": built["ids"]}


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


TALLY = Tally("schemathesis")
STATEFUL_TALLY = Tally("schemathesis-stateful")


def load_schema(tally: Tally) -> schemathesis.BaseSchema:
    """The schema drf-spectacular serves at /api/schema/, generated in-process (it needs no
    database), tested against the app through WSGI, every request counted in `tally`."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, default=str)))
    loaded.app = CountingApp(get_wsgi_application(), tally)
    return loaded


schema = load_schema(TALLY)
stateful_schema = load_schema(STATEFUL_TALLY)

load_all_checks()
LEFT_OUT = [positive_data_acceptance, negative_data_rejection]  # why: the module's docstring
CHECKS_RUN = [check for check in CHECKS.get_all() if check not in LEFT_OUT]


@pytest.fixture(scope="module", autouse=True)
def _save_tallies():
    yield
    TALLY.save()
    STATEFUL_TALLY.save()


@pytest.fixture
def keep_test_connection():
    """A WSGI request closes the database connection when it finishes; inside a test that
    would close the test's transaction. Django's own test client suspends this the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def headers_of(world: dict) -> dict:
    return {"Authorization": f"Token {world['token']}", "Accept-Language": "ru"}


def with_real_ids(case, world: dict) -> None:
    """Path parameters get the world's ids, unless the case is about a wrong one (a path
    parameter generated invalid on purpose: then a 4xx is what it must get)."""
    if case.path_parameters and not case.meta.is_negative_at(ParameterLocation.PATH):
        case.path_parameters = {
            **case.path_parameters,
            **real_path_parameters(case.operation.path, world["ids"]),
        }


def test_every_path_parameter_gets_a_real_id(world):
    # given every operation of the schema; then each of its path parameters has a real value
    missing = []
    for result in schema.get_all_operations():
        operation = result.ok()
        wanted = {p.name for p in operation.path_parameters}
        if wanted - set(real_path_parameters(operation.path, world["ids"])):
            missing.append(operation.path)
    assert not missing


def test_every_operation_documents_its_errors():
    # given the schema; then every operation documents the errors the plumbing can answer,
    # with the one Error body
    undocumented = []
    for result in schema.get_all_operations():
        operation = result.ok()
        responses = operation.definition.raw["responses"]
        expected = {"429"} | ({"404"} if operation.path_parameters else set())
        if operation.body:
            expected |= {"400", "413", "415"}
        undocumented += [f"{operation.label} {code}" for code in expected - set(responses)]
    assert not undocumented
    error = schema.raw_schema["components"]["schemas"]["Error"]
    assert error["properties"]["detail"]["type"] == "string"


def test_links_lead_from_a_create_to_its_object():
    # given the schema; then a new plan's id leads to the plan's operations and its pie's
    links = schema.raw_schema["paths"]["/api/v1/plans/"]["post"]["responses"]["201"]["links"]
    assert links["v1_plans_retrieve"]["parameters"] == {"id": "$response.body#/id"}
    assert links["v1_plans_pie_retrieve"]["parameters"] == {"plan_pk": "$response.body#/id"}


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
    with_real_ids(case, world)
    case.call_and_validate(headers=headers_of(world), checks=CHECKS_RUN, excluded_checks=LEFT_OUT)


# Scenarios along the links, and steps in each: bounded so the run stays near a minute.
STATEFUL_SCENARIOS = 40
STATEFUL_STEPS = 6


@pytest.mark.django_db
def test_api_follows_its_links(world, keep_test_connection):
    # given the world; when schemathesis chains calls along the schema's links (a list or a
    # create, then the operations on the object it returned); then every answer is
    # documented and none is a 5xx (use_after_free, ensure_resource_availability included)
    headers = headers_of(world)

    class Workflow(stateful_schema.as_state_machine()):
        # Every scenario starts from the same world (what one deletes, the next one still
        # has): Hypothesis replays scenarios and needs them to draw the same.
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def step(self, input):
            if input.transition is None:  # a scenario's first call: the world's ids
                with_real_ids(input.case, world)
            return super().step(input)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                checks=CHECKS_RUN,
                excluded_checks=LEFT_OUT,
                headers=headers,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert STATEFUL_TALLY.requests > STATEFUL_SCENARIOS
