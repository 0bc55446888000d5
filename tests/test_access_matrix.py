"""Every API endpoint (and the core pages) with every role and with a member of another
organization: the exact status. Another organization's object is 404, never 403."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from funnel.models import ImportJob, Integration, RawRecord
from responsibility.models import Responsibility
from salesplan.clientbase.models import Company
from salesplan.models import Organization, Role, SalesPlan, Team
from tests.factories import MembershipFactory, OrganizationFactory
from tests.worked_example import DECEMBER, WORKED_STAGES

pytestmark = pytest.mark.django_db

ROLES = ("owner", "head", "other_head", "hunter", "marketer", "viewer", "outsider")


@dataclass
class World:
    members: dict
    plan: int
    funnel: int
    metric_revenue: int
    metric_paid: int
    responsibility: int
    product: int
    integration: int
    webhook_record: int
    import_job: int
    company: int = 0


# The world's organizations carry this in their names, so a run killed before its cleanup
# leaves nothing the next run (with --reuse-db) trips over: it is removed first.
WORLD = "Access matrix"


def _remove_worlds() -> None:
    organizations = Organization.objects.filter(name__startswith=WORLD)
    users = list(
        get_user_model().objects.filter(memberships__organization__in=organizations).values("pk")
    )
    # Plans, integrations and imports first: they protect the funnel they are built on.
    SalesPlan.objects.filter(organization__in=organizations).delete()
    Integration.objects.filter(organization__in=organizations).delete()
    ImportJob.objects.filter(organization__in=organizations).delete()
    organizations.delete()
    get_user_model().objects.filter(pk__in=[user["pk"] for user in users]).delete()


def _build_world() -> World:
    organization = OrganizationFactory(name=f"{WORLD}: Acme")
    make = lambda role, **kw: MembershipFactory(organization=organization, role=role, **kw)  # noqa: E731
    members = {
        "owner": make(Role.OWNER),
        "head": make(Role.HEAD_OF_SALES),
        "other_head": make(Role.HEAD_OF_SALES),
        "hunter": make(Role.SALESPERSON, salesperson_kind="hunter"),
        "marketer": make(Role.MARKETER),
        "viewer": make(Role.VIEWER),
        "outsider": MembershipFactory(
            organization=OrganizationFactory(name=f"{WORLD}: Rival"), role=Role.OWNER
        ),
    }
    team = Team.objects.create(organization=organization, name="South", head=members["head"])
    Team.objects.create(organization=organization, name="North", head=members["other_head"])
    members["hunter"].team = team  # a team's plan is split among that team's salespeople
    members["hunter"].save(update_fields=["team"])
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=members['owner'].user).key}"
    )
    funnel = api.post("/api/v1/funnels/", {"name": "B2B", "stages": WORKED_STAGES}, format="json")
    plan = api.post(
        "/api/v1/plans/",
        {
            "funnel": funnel.json()["id"],
            "name": "December",
            "sales_team": team.pk,
            **DECEMBER,
            "team": [{"membership": members["hunter"].pk, "share": "1"}],
        },
        format="json",
    )
    assert plan.status_code == 201, plan.json()
    plan_id = plan.json()["id"]
    product = api.post("/api/v1/products/", {"name": "Basic", "price": "100"}, format="json")
    integration = api.post(
        "/api/v1/integrations/", {"kind": "amocrm", "funnel": funnel.json()["id"]}, format="json"
    )
    webhook_record = RawRecord.objects.create(
        organization=organization,
        integration_id=integration.json()["id"],
        kind=RawRecord.Kind.WEBHOOK,
        source="amocrm",
        body="leads%5Badd%5D%5B0%5D%5Bid%5D=1",
        status=RawRecord.Status.FAILED,
        error="The CRM did not answer.",
    )
    export = SimpleUploadedFile("deals.csv", b"ID,Name,Budget\n1,Deal,100\n", "text/csv")
    import_job = api.post(
        "/api/v1/imports/", {"file": export, "funnel": funnel.json()["id"]}, format="multipart"
    )
    assert import_job.status_code == 201, import_job.json()
    revenue = Responsibility.objects.get(plan_id=plan_id, metric__key="revenue")
    company = Company.objects.create(organization=organization, key="acme", name="Acme")
    paid = Responsibility.objects.get(plan_id=plan_id, metric__key="stage_volume:4", parent=None)
    return World(
        members=members,
        plan=plan_id,
        funnel=funnel.json()["id"],
        metric_revenue=revenue.metric_id,
        metric_paid=paid.metric_id,
        responsibility=revenue.pk,
        product=product.json()["id"],
        integration=integration.json()["id"],
        webhook_record=webhook_record.pk,
        import_job=import_job.json()["id"],
        company=company.pk,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """One world for the whole matrix (each test's own writes roll back with its
    transaction); removed at the end, so no other test sees it."""
    with django_db_blocker.unblock():
        _remove_worlds()
        try:
            yield _build_world()
        finally:
            _remove_worlds()


def statuses(ok: int, *, editors: tuple[str, ...] = ROLES, outsider: int = 404, denied: int = 403):
    """The expected status per role: `ok` for editors, `denied` for other members."""
    return {
        role: (outsider if role == "outsider" else ok if role in editors else denied)
        for role in ROLES
    }


READ = statuses(200)
EDIT_SETTINGS = ("owner", "head", "other_head")
EDIT_PLAN = ("owner", "head")  # the plan belongs to the head's team, not to other_head's
PLANNERS = ("owner", "head", "other_head")  # may plan: previews and what-ifs (issue 10)

# (method, url template, body, expected statuses)
API_MATRIX = [
    ("get", "/api/v1/me/", None, statuses(200, outsider=200)),
    ("patch", "/api/v1/me/", {"first_name": "Ivan"}, statuses(200, outsider=200)),
    ("get", "/api/v1/members/", None, statuses(200, outsider=200)),
    ("get", "/api/v1/funnels/", None, statuses(200, outsider=200)),
    (
        "post",
        "/api/v1/funnels/",
        {"name": "New", "stages": WORKED_STAGES},
        statuses(201, editors=EDIT_SETTINGS, outsider=201),
    ),
    ("get", "/api/v1/funnels/{funnel}/", None, READ),
    (
        "patch",
        "/api/v1/funnels/{funnel}/",
        {"name": "Renamed"},
        statuses(200, editors=EDIT_SETTINGS),
    ),
    ("delete", "/api/v1/funnels/{funnel}/", None, statuses(409, editors=EDIT_SETTINGS)),
    ("get", "/api/v1/plans/", None, statuses(200, outsider=200)),
    ("get", "/api/v1/plans/{plan}/", None, READ),
    (
        "patch",
        "/api/v1/plans/{plan}/",
        {"name": "Renamed", "version": 1},  # a save names the version it is based on
        statuses(200, editors=EDIT_PLAN),
    ),
    ("delete", "/api/v1/plans/{plan}/", None, statuses(204, editors=EDIT_PLAN)),
    (
        "post",
        "/api/v1/plans/preview/",
        {**DECEMBER, "stages": WORKED_STAGES},
        statuses(200, editors=PLANNERS, outsider=200),
    ),
    ("get", "/api/v1/plans/{plan}/decomposition/", None, READ),
    (
        "post",
        "/api/v1/plans/{plan}/what-if/",
        {"average_check_pct": "-10"},
        statuses(200, editors=PLANNERS),
    ),
    ("get", "/api/v1/plans/{plan}/versions/", None, READ),
    ("get", "/api/v1/plans/{plan}/versions/compare/?a=1&b=1", None, READ),
    ("get", "/api/v1/products/", None, statuses(200, outsider=200)),
    (
        "post",
        "/api/v1/products/",
        {"name": "Pro", "price": "5"},
        statuses(201, editors=EDIT_SETTINGS, outsider=201),
    ),
    ("get", "/api/v1/products/{product}/", None, READ),
    ("patch", "/api/v1/products/{product}/", {"price": "7"}, statuses(200, editors=EDIT_SETTINGS)),
    ("get", "/api/v1/calendar-days/", None, statuses(200, outsider=200)),
    (
        "post",
        "/api/v1/calendar-days/",
        {"date": "2026-12-31", "is_working": True},
        statuses(201, editors=EDIT_SETTINGS, outsider=201),
    ),
    ("get", "/api/v1/metrics/?plan={plan}", None, statuses(200, outsider=200)),
    ("get", "/api/v1/metrics/catalog/", None, statuses(200, outsider=200)),
    # the head's revenue metric: salesperson and marketer read only the metrics they hold
    (
        "get",
        "/api/v1/metrics/{metric_revenue}/",
        None,
        statuses(200, editors=("owner", "head", "other_head", "viewer"), denied=404),
    ),
    # paid deals are split to the hunter: theirs to read
    (
        "get",
        "/api/v1/metrics/{metric_paid}/",
        None,
        statuses(200, editors=("owner", "head", "other_head", "viewer", "hunter"), denied=404),
    ),
    (
        "patch",
        "/api/v1/metrics/{metric_paid}/",
        {"weight": 3},
        statuses(200, editors=EDIT_PLAN),
    ),
    ("get", "/api/v1/plans/{plan}/pie/", None, READ),
    ("get", "/api/v1/plans/{plan}/performance/", None, READ),
    ("get", "/api/v1/plans/{plan}/attribution/", None, READ),
    ("get", "/api/v1/plans/{plan}/slips/", None, READ),
    # CRM discipline: owner and heads of sales (a head sees their team's people)
    ("get", "/api/v1/discipline/", None, statuses(200, editors=EDIT_SETTINGS, outsider=200)),
    # role KPIs: a scorecard is the owner's to read, the person's own, and their head's
    (
        "get",
        "/api/v1/members/{hunter}/scorecard/?period=2026-12",
        None,
        statuses(200, editors=("owner", "head", "hunter"), denied=404),
    ),
    (
        "get",
        "/api/v1/members/{hunter}/scorecard/?period=2026-13",
        None,
        statuses(400, editors=("owner", "head", "hunter"), denied=404),
    ),
    ("get", "/api/v1/kpi-schemes/", None, statuses(200, outsider=200)),
    (
        "put",
        "/api/v1/members/{hunter}/base-bonus/",
        {"amount": "50000"},
        {**statuses(200, editors=("owner", "head"), denied=404), "hunter": 403},
    ),
    ("get", "/api/v1/inbox/", None, statuses(200, outsider=200)),
    ("get", "/api/v1/notifications/settings/", None, statuses(200, outsider=200)),
    (
        "get",
        "/api/v1/organization/notifications/",
        None,
        statuses(200, editors=EDIT_SETTINGS, outsider=200),
    ),
    ("post", "/api/v1/deliveries/0/retry/", None, statuses(404, editors=EDIT_SETTINGS)),
    ("get", "/api/v1/plans/{plan}/responsibilities/", None, READ),
    ("get", "/api/v1/plans/{plan}/responsibilities/{responsibility}/", None, READ),
    (
        "patch",
        "/api/v1/plans/{plan}/responsibilities/{responsibility}/",
        {"owner": "{owner}", "pie_version": "{pie_version}"},
        statuses(200, editors=EDIT_PLAN),
    ),
    ("post", "/api/v1/plans/{plan}/pie/reset/", None, statuses(200, editors=EDIT_PLAN)),
    (
        "patch",
        "/api/v1/integrations/{integration}/",
        {"rest_url": ""},
        statuses(200, editors=EDIT_SETTINGS),
    ),
    # imports: a preview is the export's raw rows, so reading is for editors only
    ("get", "/api/v1/imports/", None, statuses(200, editors=EDIT_SETTINGS, outsider=200)),
    ("get", "/api/v1/imports/{import_job}/", None, statuses(200, editors=EDIT_SETTINGS)),
    ("get", "/api/v1/imports/{import_job}/preview/", None, statuses(200, editors=EDIT_SETTINGS)),
    # an editor reaches the job, which is not failed (400); no one else reaches it at all
    (
        "post",
        "/api/v1/imports/{import_job}/run-again/",
        None,
        statuses(400, editors=EDIT_SETTINGS),
    ),
    (
        "get",
        "/api/v1/webhook-records/",
        None,
        statuses(200, editors=EDIT_SETTINGS, outsider=200),
    ),
    (
        "get",
        "/api/v1/webhook-records/{webhook_record}/",
        None,
        statuses(200, editors=EDIT_SETTINGS),
    ),
    (
        "post",
        "/api/v1/webhook-records/{webhook_record}/retry/",
        None,
        statuses(202, editors=EDIT_SETTINGS),
    ),
    # the client base: everyone reads it (the do-not-touch list protects a salesperson too);
    # the refusal rules are the owner's and the heads of sales'
    ("get", "/api/v1/client-base/summary/", None, statuses(200, outsider=200)),
    ("get", "/api/v1/client-base/do-not-touch/", None, statuses(200, outsider=200)),
    ("get", "/api/v1/client-base/warnings/", None, statuses(200, outsider=200)),
    ("get", "/api/v1/client-base/companies/{company}/", None, READ),
    ("get", "/api/v1/client-base/settings/", None, statuses(200, outsider=200)),
    (
        "put",
        "/api/v1/client-base/settings/",
        {"permanent_reasons": ["ЛПР умер"], "cooling_days": 60},
        statuses(200, editors=EDIT_SETTINGS, outsider=200),
    ),
    # the weekly review: the owner reads every head's, a head reads and ticks their own
    (
        "get",
        "/api/v1/weekly-reviews/?head={head}",
        None,
        statuses(200, editors=("owner", "head")),
    ),
    (
        "put",
        "/api/v1/weekly-reviews/?head={head}&week=2026-W40",
        {"items": [{"key": "plan", "done": True}]},
        statuses(200, editors=("head",)),
    ),
    (
        "get",
        "/api/v1/weekly-reviews/history/?head={head}",
        None,
        statuses(200, editors=("owner", "head")),
    ),
    (
        "get",
        "/api/v1/weekly-reviews/summary/",
        None,
        statuses(200, editors=EDIT_SETTINGS, outsider=200),
    ),
]


def _fill(template, world: World):
    values = {
        "plan": world.plan,
        "funnel": world.funnel,
        "metric_revenue": world.metric_revenue,
        "metric_paid": world.metric_paid,
        "responsibility": world.responsibility,
        "product": world.product,
        "integration": world.integration,
        "webhook_record": world.webhook_record,
        "import_job": world.import_job,
        "company": world.company,
        "owner": world.members["owner"].pk,
        "head": world.members["head"].pk,
        "hunter": world.members["hunter"].pk,
    }
    if isinstance(template, str):
        return template.format(**values) if template.startswith(("/", "{")) else template
    if isinstance(template, dict):
        filled = {
            key: int(_fill(value, world)) if value == "{owner}" else value
            for key, value in template.items()
        }
        if filled.get("pie_version") == "{pie_version}":  # the pie's version as it is now
            filled["pie_version"] = SalesPlan.objects.get(pk=world.plan).pie_version
        return filled
    return template


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "url", "body", "expected"),
    API_MATRIX,
    ids=[f"{m.upper()} {u}" for m, u, _, _ in API_MATRIX],
)
def test_api_access(world, api_for, role, method, url, body, expected):
    client = api_for(world.members[role])
    kwargs = {"format": "json"}
    if body is not None:
        kwargs["data"] = _fill(body, world)
    response = getattr(client, method)(_fill(url, world), **kwargs)
    assert response.status_code == expected[role], (role, method, url, response.content[:300])


def test_anonymous_api_calls_are_refused(world, client):
    for method, url, _body, _expected in API_MATRIX:
        response = getattr(client, method)(_fill(url, world), content_type="application/json")
        assert response.status_code in (401, 403), (method, url, response.status_code)


EDIT_PLANS_ANYWHERE = ("owner", "head", "other_head")  # may create a plan (for their team)

PAGE_MATRIX = [
    (
        "get",
        "/",
        None,
        statuses(
            302,
            editors=("owner", "head", "other_head", "hunter", "marketer"),
            denied=200,
            outsider=302,
        ),
    ),
    (
        "get",
        "/overview/",
        None,
        statuses(200, editors=("owner", "head", "other_head", "viewer"), outsider=200),
    ),
    ("get", "/today/", None, statuses(200, outsider=200)),
    ("get", "/kpi/", None, statuses(200, outsider=200)),
    (
        "get",
        "/kpi/?member={hunter}&period=2026-12",
        None,
        statuses(200, editors=("owner", "head", "hunter"), denied=404),
    ),
    ("get", "/kpi/schemes/", None, statuses(200, editors=EDIT_SETTINGS, outsider=200)),
    (
        "get",
        "/plans/{plan}/metrics/{metric_revenue}/history/",
        None,
        statuses(200, editors=("owner", "head", "other_head", "viewer"), denied=404),
    ),
    (
        "get",
        "/plans/{plan}/metrics/{metric_paid}/history/",
        None,
        statuses(200, editors=("owner", "head", "other_head", "hunter", "viewer"), denied=404),
    ),
    (
        "get",
        "/marketing/",
        None,
        statuses(200, editors=("owner", "head", "other_head", "marketer"), outsider=200),
    ),
    (
        "get",
        "/marketing/?plan={plan}",
        None,
        statuses(200, editors=("owner", "head", "other_head", "marketer"), outsider=200),
    ),
    ("get", "/dashboard/leads/?plan={plan}&metric=leads", None, READ),
    ("get", "/discipline/", None, statuses(200, editors=EDIT_SETTINGS, outsider=200)),
    # the hunter is in the head's team, not in other_head's: theirs is 404, as an outsider's
    (
        "get",
        "/discipline/?member={hunter}&kind=overdue_task",
        None,
        statuses(200, editors=("owner", "head"), outsider=404) | {"other_head": 404},
    ),
    ("get", "/people/", None, statuses(200, outsider=200)),
    ("get", "/inbox/", None, statuses(200, outsider=200)),
    ("get", "/settings/notifications/", None, statuses(200, outsider=200)),
    (
        "get",
        "/settings/organization/notifications/",
        None,
        statuses(200, editors=EDIT_SETTINGS, outsider=200),
    ),
    ("get", "/plans/", None, statuses(200, outsider=200)),
    ("get", "/plans/new/", None, statuses(200, editors=EDIT_PLANS_ANYWHERE, outsider=200)),
    ("get", "/plans/{plan}/", None, READ),
    ("get", "/plans/{plan}/edit/", None, statuses(200, editors=EDIT_PLAN)),
    (
        "post",
        "/plans/{plan}/what-if/",
        {"average_check_pct": "-10"},
        statuses(200, editors=PLANNERS),
    ),
    ("get", "/plans/{plan}/versions/1/", None, READ),
    ("get", "/plans/{plan}/versions/compare/?a=1&b=1", None, READ),
    ("get", "/plans/{plan}/pie/", None, READ),
    ("post", "/plans/{plan}/pie/reset/", {"pie_version": "0"}, statuses(302, editors=EDIT_PLAN)),
    ("get", "/funnels/", None, statuses(200, outsider=200)),
    ("get", "/funnels/new/", None, statuses(200, editors=EDIT_SETTINGS, outsider=200)),
    ("get", "/funnels/{funnel}/edit/", None, statuses(200, editors=EDIT_SETTINGS)),
    ("get", "/settings/products/", None, statuses(200, outsider=200)),
    ("get", "/settings/calendar/", None, statuses(200, outsider=200)),
    ("get", "/settings/integrations/", None, statuses(200, editors=EDIT_SETTINGS, outsider=200)),
    (
        "post",
        "/settings/integrations/{integration}/rest-url/",
        {"rest_url": ""},
        statuses(302, editors=EDIT_SETTINGS),
    ),
    (
        "post",
        "/settings/integrations/records/{webhook_record}/retry/",
        None,
        statuses(302, editors=EDIT_SETTINGS),
    ),
    ("get", "/client-base/", None, statuses(200, outsider=200)),
    ("get", "/client-base/settings/", None, statuses(200, editors=EDIT_SETTINGS, outsider=200)),
    # the weekly review: the owner's and the heads of sales', each head their own
    ("get", "/reviews/weekly/", None, statuses(200, editors=EDIT_SETTINGS, outsider=200)),
    ("get", "/reviews/weekly/?head={head}", None, statuses(200, editors=("owner", "head"))),
    ("get", "/api/docs/", None, statuses(200, outsider=200)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "url", "body", "expected"),
    PAGE_MATRIX,
    ids=[f"{m.upper()} {u}" for m, u, _, _ in PAGE_MATRIX],
)
def test_page_access(world, client, role, method, url, body, expected):
    client.force_login(world.members[role].user)
    response = getattr(client, method)(_fill(url, world), body or {})
    assert response.status_code == expected[role], (role, method, url)


def test_anonymous_pages_redirect_to_sign_in(world, client):
    for method, url, body, _expected in PAGE_MATRIX:
        response = getattr(client, method)(_fill(url, world), body or {})
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/login/"), (method, url)
