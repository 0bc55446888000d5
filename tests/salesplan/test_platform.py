"""Settings, health, money formatting, language switch, commands, the API boundary."""

import subprocess
import sys
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

from funnel.models import Lead, Payment, Spend, StageEvent
from metrics.models import PerformanceSnapshot
from salesplan.formatting import format_money
from salesplan.kpis.models import BaseBonus
from salesplan.models import Membership, Organization, Role, SalesPlan
from salesplan.templatetags.salesplan_tags import money
from tests.conftest import ROOT
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        (Decimal("1000000"), "RUB", "ru", "1\u00a0000\u00a0000\u00a0₽"),
        (Decimal("1000000"), "RUB", "en", "₽1,000,000"),
        (Decimal("1234.5"), "RUB", "ru", "1\u00a0234,50\u00a0₽"),
        (Decimal("-50000"), "USD", "en", "-$50,000"),
        (Decimal("999"), "EUR", "ru", "999\u00a0€"),
        (Decimal("0.005"), "RUB", "ru", "0,01\u00a0₽"),
    ],
)
def test_money_is_formatted_per_language(amount, currency, language, expected):
    assert format_money(amount, currency, language) == expected


def test_money_filter_follows_the_active_language():
    with translation.override("ru"):
        assert money(Decimal("1000000"), "RUB") == "1\u00a0000\u00a0000\u00a0₽"
    with translation.override("en"):
        assert money(Decimal("1000000"), "RUB") == "₽1,000,000"


def test_healthz_reports_each_backing_service(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["status"] == "ok"


def test_healthz_answers_503_naming_redis_when_it_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["down"] == ["redis"]


def test_language_switch_changes_the_ui(client_for, owner):
    page = client_for(owner)
    page.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Sign out" in page.get(reverse("home"), follow=True).content.decode()
    page.post(reverse("set_language"), {"language": "ru", "next": "/"})
    assert "Выйти" in page.get(reverse("home"), follow=True).content.decode()


def test_russian_is_the_default_language(client_for, owner):
    response = client_for(owner).get(reverse("home"), follow=True, HTTP_ACCEPT_LANGUAGE="")
    assert 'lang="ru"' in response.content.decode()


def test_navigation_depends_on_the_role(client_for, make_member):
    owner_page = client_for(make_member(Role.OWNER)).get(
        reverse("home"), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert f'href="{reverse("members")}"' in owner_page.content.decode()
    viewer_page = client_for(make_member(Role.VIEWER)).get(
        reverse("home"), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert f'href="{reverse("members")}"' not in viewer_page.content.decode()


def test_create_org_command_makes_an_owner(capsys):
    call_command(
        "create_org", "Северсталь", owner_email="Boss@Example.com", owner_password="long-pass-2024!"
    )
    membership = Membership.objects.get(organization__name="Северсталь")
    assert membership.role == Role.OWNER
    assert membership.user.check_password("long-pass-2024!")
    assert "created" in capsys.readouterr().out


def test_create_org_command_refuses_a_weak_password():
    with translation.override("en"), pytest.raises(CommandError, match="too common"):
        call_command("create_org", "X", owner_email="a@example.com", owner_password="password")
    assert not Organization.objects.exists()


def test_seed_demo_is_idempotent_and_has_every_role(capsys, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    counts = (
        Organization.objects.count(),
        Membership.objects.count(),
        Lead.objects.count(),
        StageEvent.objects.count(),
        Payment.objects.count(),
        Spend.objects.count(),
    )
    call_command("seed_demo")
    again = (
        Organization.objects.count(),
        Membership.objects.count(),
        Lead.objects.count(),
        StageEvent.objects.count(),
        Payment.objects.count(),
        Spend.objects.count(),
    )
    assert again == counts
    assert counts[2] == 8800  # every opportunity of the Maven data set
    # every agent's deals are matched to the member of that name
    assert not Lead.objects.filter(responsible__isnull=True).exists()
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    assert Membership.objects.filter(role=Role.SALESPERSON).count() == 35  # sales_teams.csv
    kinds = set(
        Membership.objects.filter(role=Role.SALESPERSON).values_list("salesperson_kind", flat=True)
    )
    assert kinds == {"hunter", "farmer"}
    assert "salesplan-demo" in capsys.readouterr().out
    # every salesperson, head of sales and marketer has a base bonus (scorecards show money)
    bonuses = dict(BaseBonus.objects.values_list("member__role").annotate(n=Count("id")))
    assert bonuses == {
        Role.SALESPERSON: 35,
        Role.HEAD_OF_SALES: Membership.objects.filter(role=Role.HEAD_OF_SALES).count(),
        Role.MARKETER: 1,
    }
    seller = BaseBonus.objects.filter(member__role=Role.SALESPERSON).first()
    assert seller.amount == Decimal("60000.00")
    # and the demo plan opens on its plan vs fact: computed at once, through to today
    plan = SalesPlan.objects.get()
    stored = PerformanceSnapshot.objects.filter(plan=plan, owner=None)
    assert stored.filter(day=plan.period_start).exists()
    assert stored.filter(metric__kind="revenue", actual_to_date__gt=0).exists()


def test_demo_logins_work(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    for email in ("olga.owner@demo.salesplan.local", "maria.marketer@demo.salesplan.local"):
        # django-axes counts sign-ins per client, so authenticate() needs a request
        assert client.login(request=HttpRequest(), username=email, password="salesplan-demo")
        # each lands on their role's home (the owner's roll-up, the marketer's page)
        response = client.get(reverse("home"), follow=True)
        assert response.status_code == 200
        assert response.redirect_chain and response.redirect_chain[-1][1] == 302
        client.logout()


def test_api_requires_a_token_and_scopes_to_the_organization(api_for, make_member, client):
    mine = make_member(Role.HEAD_OF_SALES)
    other = make_member(Role.OWNER, org=OrganizationFactory(name="Other"))
    assert client.get("/api/v1/me/").status_code in (401, 403)
    response = api_for(mine).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["organization"]["name"] == mine.organization.name
    emails = [m["email"] for m in api_for(mine).get("/api/v1/members/").json()["results"]]
    assert other.user.email not in emails
    assert mine.user.email in emails


def test_token_endpoint_exchanges_credentials(client, owner, password):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": owner.user.email.upper(), "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    bad = client.post(
        "/api/v1/auth/token/", {"username": "x", "password": "y"}, content_type="application/json"
    )
    assert bad.status_code == 400


def test_openapi_schema_is_served_to_members(client_for, owner):
    response = client_for(owner).get(reverse("api_schema"))
    assert response.status_code == 200
    assert b"/api/v1/me/" in response.content


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {"DEBUG": "0", "SECRET_KEY": "", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "salesplan.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
