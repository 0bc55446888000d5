"""The demo organization, built from the public-domain Maven CRM data set in data/maven-crm/.

Idempotent: running it again updates the same organization and people, never duplicates.
What the data set lacks is generated and labelled as such (see GENERATED_NOTE).
"""

import csv
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from funnel.ingest.loader import load_frames
from funnel.models import Funnel, ImportJob
from funnel.services import imports, uploads
from funnel.services.funnels import funnel_create
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
from salesplan.plans.history import funnel_history
from salesplan.plans.services import TeamShare, plan_create
from salesplan.services import member_add, user_ensure

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
        user = user_ensure(
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


# Conversions close to what the Maven pipeline shows (engaged ≈ 65 % of deals, won ≈ 75 % of
# the engaged); Maven has no target-lead or scheduled stage, so those steps are set at 90 %.
DEMO_STAGES = [
    {"name": "Лид", "conversion": Decimal("0.65")},
    {"name": "Целевой лид", "conversion": Decimal("0.9"), "is_target_lead": True},
    {"name": "Встреча назначена", "conversion": Decimal("0.9")},
    {"name": "Встреча проведена", "conversion": Decimal("0.75"), "is_key_stage": True},
    {"name": "Оплата"},
]
# Maven's list prices are dollars; the demo shows them in roubles at a fixed, made-up rate.
DEMO_RUB_PER_USD = Decimal(90)


def _month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


@transaction.atomic
def seed_funnel(organization: Organization) -> Any:
    """The demo funnel and the product list (idempotent)."""
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
    return funnel


def seed_plan(organization: Organization, today: date | None = None) -> SalesPlan:
    """This month's plan for the first head of sales' team, its target set from the team's
    history (a tenth above its median month), so the realism check has something to say
    (idempotent: an existing plan of the month is kept)."""
    funnel = Funnel.objects.get(organization=organization, name="B2B")
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
    revenue_target, average_check = _targets_from_history(organization, funnel, team, start)
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
        revenue_target=revenue_target,
        average_check=average_check,
        cost_per_lead=Decimal(1500),
        calls_per_lead=Decimal(3),
        max_calls_per_day=40,
        max_meetings_per_day=4,
        status="active",
        sales_team=team,
        team=[TeamShare(m, s) for m, s in zip(salespeople, shares, strict=True)],
    )


def _targets_from_history(
    organization: Organization, funnel: Any, team: Team | None, start: date
) -> tuple[Decimal, Decimal]:
    """A tenth above the team's median month of revenue; the average check of its deals."""
    history = funnel_history(
        organization=organization,
        funnel_id=funnel.pk,
        sales_team_id=team.pk if team else None,
        before=start,
        stage_names=list(funnel.stages.order_by("position").values_list("name", flat=True)),
    )
    if history is None:
        return Decimal(1_000_000), Decimal(50_000)
    last = funnel.stages.order_by("-position").values_list("name", flat=True).first()
    revenue = [month.revenue for month in history.months if month.revenue]
    deals = sum(month.stages.get(last, 0) for month in history.months)
    target = (Decimal(median(revenue)) * Decimal("1.1")).quantize(Decimal("-1E5"))
    check = (sum(revenue) / max(deals, 1)).quantize(Decimal("-1E3"))
    return max(target, Decimal(100_000)), max(check, Decimal(1_000))


# The Maven data set's amounts are dollars; the demo shows roubles at this made-up rate.
DEMO_CHANNELS = ("Яндекс Директ", "Сайт", "Рекомендация", "Выставка", "Холодный звонок")
DEMO_TARGET_SHARE = 0.6
DEMO_SEED = 2017


def shifted_pipeline(path: Path, today: date) -> None:
    """The Maven pipeline with its dates moved so its last day is today, amounts in roubles,
    and the columns it lacks (channel, target-lead flag) generated, seeded and labelled."""
    frame = pd.read_csv(DATA_DIR / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    dates = {
        col: pd.to_datetime(frame[col], errors="coerce") for col in ("engage_date", "close_date")
    }
    latest = max(series.max() for series in dates.values())
    shift = pd.Timestamp(today) - latest
    for column, series in dates.items():
        frame[column] = (series + shift).dt.strftime("%Y-%m-%d").fillna("")
    values = pd.to_numeric(frame["close_value"], errors="coerce") * float(DEMO_RUB_PER_USD)
    frame["close_value"] = values.map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    rng = np.random.default_rng(DEMO_SEED)
    frame["channel (generated)"] = rng.choice(DEMO_CHANNELS, size=len(frame))
    frame["is_target (generated)"] = np.where(
        rng.random(len(frame)) < DEMO_TARGET_SHARE, "да", "нет"
    )
    frame.to_csv(path, index=False)


def seed_actuals(organization: Organization, today: date | None = None) -> dict[str, Any]:
    """Import the shifted Maven pipeline through the real import path (idempotent: a second
    run changes nothing), and generate daily marketing spend per channel."""
    today = today or timezone.localdate()
    funnel = seed_funnel(organization)
    owner = Membership.objects.get(organization=organization, role=Role.OWNER)
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "maven_sales_pipeline_shifted.csv"
        shifted_pipeline(path, today)
        with open(path, "rb") as handle:
            job = uploads.import_create(
                membership=owner,
                funnel=funnel,
                uploaded=File(handle, name=path.name),
                preset="maven",
                wait=True,
            )
    mapping = dict(job.mapping)
    mapping.update({"channel": "channel (generated)", "is_target": "is_target (generated)"})
    # The seed waits for its import (this command's process would end under a queued one).
    imports.import_confirm(
        job=job,
        settings=imports.ImportSettings(mapping=mapping, stage_map=job.stage_map),
        wait=True,
    )
    job = ImportJob.objects.get(pk=job.pk)
    _seed_spend(organization, funnel, today)
    return {"status": job.status, "counts": job.counts, "errors": job.error_count}


def _seed_spend(organization: Organization, funnel: Any, today: date) -> None:
    """Generated daily spend per channel over the last 15 months (labelled in README)."""
    days = pd.date_range(today - timedelta(days=455), today, freq="D")
    rng = np.random.default_rng(DEMO_SEED)
    rows = [
        {"line": i, "channel": channel, "date": day, "amount": f"{rng.integers(2_000, 15_000)}.00"}
        for i, (day, channel) in enumerate((d, c) for d in days for c in DEMO_CHANNELS)
    ]
    with transaction.atomic():
        load_frames(
            organization=organization,
            funnel=funnel,
            source="file",
            frames={"spend": pd.DataFrame(rows)},
        )
