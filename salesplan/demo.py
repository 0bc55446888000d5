"""The demo organization, built from the public-domain Maven CRM data set in data/maven-crm/.

Idempotent: running it again updates the same organization and people, never duplicates.
What the data set lacks is generated and labelled as such (see GENERATED_NOTE).
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from salesplan.models import Membership, Organization, Role, SalespersonKind, Team
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
