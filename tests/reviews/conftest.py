"""The weekly review's world: an organization in Moscow's time zone, its head of sales leading
a team with one salesperson and a December plan, and "now" held at Friday 4 December 2026,
12:00 in Moscow (ISO week 2026-W49: Monday 30 November to Sunday 6 December)."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from salesplan.models import Role, Team
from tests.factories import MembershipFactory, OrganizationFactory, PlanFactory

# Friday 4 December 2026, 12:00 in Moscow (UTC+3).
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch):
    """Hold the clock (the models' auto_now_add too) at NOW; `now.set(moment)` moves it."""

    class Clock:
        moment = NOW

        def set(self, moment: datetime) -> None:
            self.moment = moment

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.moment)
    return clock


@pytest.fixture
def org():
    return OrganizationFactory(name="Ромашка", time_zone="Europe/Moscow")


@pytest.fixture
def rop(org):
    return MembershipFactory(organization=org, role=Role.HEAD_OF_SALES)


@pytest.fixture
def team(org, rop):
    return Team.objects.create(organization=org, name="Москва", head=rop)


@pytest.fixture
def seller(org, team):
    return MembershipFactory(organization=org, role=Role.SALESPERSON, team=team)


@pytest.fixture
def boss(org):
    return MembershipFactory(organization=org, role=Role.OWNER)


@pytest.fixture
def plan(org, team, seller, now):
    return PlanFactory(organization=org, sales_team=team, team=[(seller, "1")])
