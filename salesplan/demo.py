"""The demo organization, built from the public-domain Maven CRM data set in data/maven-crm/.

Idempotent: running it again updates the same organization and people, never duplicates.
What the data set lacks is generated and labelled as such (see GENERATED_NOTE).
"""

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from salesplan.models import (
    Membership,
    Organization,
    Product,
    Role,
    SalespersonKind,
    SalesPlan,
    Team,
)
from salesplan.planning import equal_shares
from salesplan.services import member_add

User = get_user_model()

DATA_DIR = Path(settings.BASE_DIR) / "data" / "maven-crm"
DEMO_ORGANIZATION_NAME = "Maven Tech (demo)"
DEMO_PASSWORD = "salesplan-demo"
DEMO_DOMAIN = "demo.salesplan.local"
GENERATED_NOTE = "generated for the demo: not in the Maven CRM data set"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    name: str
    email: str


def _email(name: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{DEMO_DOMAIN}"


def _user(*, email: str, first_name: str, last_name: str, password: str | None):
    user, _created = User.objects.get_or_create(
        username=email,
        defaults={"email": email, "first_name": first_name, "last_name": last_name},
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def read_sales_teams() -> list[dict[str, str]]:
    with open(DATA_DIR / "sales_teams.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@transaction.atomic
def seed_people() -> tuple[Organization, list[DemoLogin]]:
    organization, _created = Organization.objects.get_or_create(
        name=DEMO_ORGANIZATION_NAME, defaults={"currency": "RUB", "time_zone": "Europe/Moscow"}
    )
    logins: list[DemoLogin] = []

    def add(
        name: str, role: str, *, kind: str = "", team: Team | None = None, login: bool
    ) -> Membership:
        first, _, last = name.partition(" ")
        email = _email(name)
        user = _user(
            email=email, first_name=first, last_name=last, password=DEMO_PASSWORD if login else None
        )
        membership = member_add(
            organization=organization, user=user, role=role, salesperson_kind=kind, team=team
        )
        if login:
            logins.append(DemoLogin(role=membership.get_role_display(), name=name, email=email))
        return membership

    # Generated people (the data set has no owner, marketer or viewer).
    add("Olga Owner", Role.OWNER, login=True)
    add("Maria Marketer", Role.MARKETER, login=True)
    add("Victor Viewer", Role.VIEWER, login=True)

    rows = read_sales_teams()
    managers = sorted({row["manager"] for row in rows})
    first_team_members: dict[str, int] = {}
    for manager in managers:
        office = next(row["regional_office"] for row in rows if row["manager"] == manager)
        team, _ = Team.objects.get_or_create(organization=organization, name=f"{office}: {manager}")
        head = add(manager, Role.HEAD_OF_SALES, team=team, login=manager == managers[0])
        if team.head_id != head.pk:
            team.head = head
            team.save(update_fields=["head"])
        for row in (r for r in rows if r["manager"] == manager):
            position = first_team_members.get(manager, 0)
            first_team_members[manager] = position + 1
            # The data set does not say hunter or farmer: every third agent works the existing
            # base (farmer), the rest hunt (generated).
            kind = SalespersonKind.FARMER if position % 3 == 2 else SalespersonKind.HUNTER
            login = manager == managers[0] and position in (0, 2)
            add(row["sales_agent"], Role.SALESPERSON, kind=kind, team=team, login=login)
    return organization, logins


DEMO_STAGES = [
    {"name": "Лид", "conversion": Decimal("0.6")},
    {"name": "Целевой лид", "conversion": Decimal("0.25"), "is_target_lead": True},
    {"name": "Встреча назначена", "conversion": Decimal("0.8")},
    {"name": "Встреча проведена", "conversion": Decimal("0.4"), "is_key_stage": True},
    {"name": "Оплата"},
]
# Maven's list prices are dollars; the demo shows them in roubles at a fixed, made-up rate.
DEMO_RUB_PER_USD = Decimal(90)


def _month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


@transaction.atomic
def seed_plan(organization: Organization, today: date | None = None) -> SalesPlan:
    """A funnel, the product list and this month's plan for the first team (idempotent)."""
    from funnel.models import Funnel
    from funnel.services import funnel_create
    from salesplan.plan_services import TeamShare, plan_create

    funnel = Funnel.objects.filter(organization=organization, name="B2B").first()
    if funnel is None:
        funnel = funnel_create(organization=organization, name="B2B", stages=DEMO_STAGES)
    with open(DATA_DIR / "products.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            Product.objects.get_or_create(
                organization=organization,
                name=row["product"],
                defaults={"price": Decimal(row["sales_price"]) * DEMO_RUB_PER_USD},
            )
    start, end = _month_bounds(today or timezone.localdate())
    name = f"План {start:%m.%Y}"
    existing = SalesPlan.objects.filter(organization=organization, name=name).first()
    if existing is not None:
        return existing
    # The team of the demo head of sales (the first manager by name, see seed_people).
    team = (
        Team.objects.filter(organization=organization)
        .order_by("head__user__first_name", "head__user__last_name")
        .first()
    )
    salespeople = list(
        Membership.objects.filter(
            organization=organization, team=team, role=Role.SALESPERSON
        ).order_by("id")
    )
    shares = equal_shares(len(salespeople))
    owner = Membership.objects.filter(organization=organization, role=Role.OWNER).first()
    return plan_create(
        organization=organization,
        user=owner.user if owner else None,
        funnel=funnel,
        name=name,
        period_kind="month",
        period_start=start,
        period_end=end,
        revenue_target=Decimal(1_000_000) * len(salespeople),
        average_check=Decimal(50_000),
        cost_per_lead=Decimal(500),
        calls_per_lead=Decimal(3),
        max_calls_per_day=65,
        max_meetings_per_day=4,
        status="active",
        sales_team=team,
        team=[TeamShare(m, s) for m, s in zip(salespeople, shares, strict=True)],
    )
