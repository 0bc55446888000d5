"""What the fuzzers tried: requests sent and server errors seen, per suite (schemathesis, its
stateful run, the page forms). Each test process writes its tally to VAR_DIR/fuzz/ and the
session's summary (tests/conftest.py, pytest_terminal_summary) adds them up, so a run prints
e.g. "schemathesis: 1234 requests, 0 5xx"."""

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File

from funnel.models import Integration, Lead, Payment, RawRecord
from funnel.services import uploads
from responsibility.models import Responsibility
from salesplan.clientbase.models import Company
from salesplan.clientbase.services import client_base_refresh
from salesplan.kpis.services import schemes_for
from salesplan.models import (
    CalendarDay,
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationKind,
    Product,
    Role,
    Team,
)
from tests.factories import MembershipFactory, OrganizationFactory, PaymentFactory, PlanFactory
from tests.funnel.importing import FIXTURES


def tally_dir() -> Path:
    return Path(settings.VAR_DIR) / "fuzz"


@dataclass
class Tally:
    suite: str
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)

    def saw(self, label: str, status: int) -> None:
        self.requests += 1
        if status >= 500:
            self.server_errors.append(f"{status} {label}")

    def save(self) -> None:
        directory = tally_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.suite}-{os.getpid()}.json"
        path.write_text(
            json.dumps(
                {
                    "suite": self.suite,
                    "requests": self.requests,
                    "server_errors": self.server_errors,
                }
            )
        )


class CountingApp:
    """A WSGI app that counts every request it answers (the checks' own probes too)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], tally: Tally) -> None:
        self.app = app
        self.tally = tally

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        label = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"

        def counted(status: str, *args: Any) -> Any:
            self.tally.saw(label, int(status.split()[0]))
            return start_response(status, *args)

        return self.app(environ, counted)


def summary(since: float) -> Iterator[str]:
    """One line per suite from the tallies written since `since` (a time.time())."""
    totals: dict[str, dict[str, Any]] = {}
    directory = tally_dir()
    for path in sorted(directory.glob("*.json")) if directory.exists() else ():
        if path.stat().st_mtime < since:
            continue
        data = json.loads(path.read_text())
        total = totals.setdefault(data["suite"], {"requests": 0, "server_errors": []})
        total["requests"] += data["requests"]
        total["server_errors"] += data["server_errors"]
    for suite, total in sorted(totals.items()):
        errors = total["server_errors"]
        line = f"{suite}: {total['requests']} requests, {len(errors)} 5xx"
        yield line + (f" ({'; '.join(errors[:5])})" if errors else "")


def build_world() -> dict[str, Any]:
    """An owner's organization with one object of every kind an endpoint or a page is about:
    the owner, and per collection in the URL (as the API names it) the id of its object."""
    owner = MembershipFactory(organization=OrganizationFactory(name="Schema Co"), role=Role.OWNER)
    organization = owner.organization
    team = Team.objects.create(organization=organization, name="East", head=owner)
    seller = MembershipFactory(organization=organization, role=Role.SALESPERSON, team=team)
    plan = PlanFactory(organization=organization, sales_team=team, team=[(seller, "1")])
    lead = PaymentFactory(
        lead__funnel=plan.funnel, lead__responsible=seller, lead__organization=organization
    ).lead
    with open(FIXTURES / "template_deals.tsv", "rb") as handle:
        job = uploads.import_create(
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
    client_base_refresh(organization_id=organization.pk)  # the lead is a company of its own
    kpi_schemes = schemes_for(organization=organization)  # each role's, with the defaults
    ids = {
        "members": seller.pk,
        "kpi-schemes": kpi_schemes[0].pk,
        "payments": Payment.objects.filter(lead=lead).first().pk,
        "companies": Company.objects.filter(organization=organization).first().pk,
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
        "bitrix24-integration": integrations["bitrix24"].pk,
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
        "inbox": Notification.objects.create(
            organization=organization,
            recipient=owner,
            kind=NotificationKind.DAILY_DIGEST,
            dedupe_key="fuzz:digest",
            payload={"day": "2026-12-14", "opened": [], "recovered": [], "forecasts": []},
        ).pk,
        "deliveries": Delivery.objects.create(
            notification=Notification.objects.create(
                organization=organization,
                recipient=None,
                kind=NotificationKind.DAILY_DIGEST,
                dedupe_key="fuzz:digest:org",
                payload={"day": "2026-12-14", "opened": [], "recovered": [], "forecasts": []},
            ),
            channel=Channel.WEBHOOK,
            status=DeliveryStatus.FAILED,
            last_error="HTTP 500",
        ).pk,
    }
    return {"owner": owner, "ids": ids}
