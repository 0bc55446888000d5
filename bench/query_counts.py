"""Query counts of the main pages and of a plan save, with 1, 5 and 25 plans.

A list, a dashboard or a save that reads row by row grows with the number of plans; a
set-based one does not. The world is built through the HTTP API only (the stable interface),
in a fresh test database (SQLite, or the PostgreSQL of DATABASE_URL).

Run from the repository root: ``.venv/bin/python bench/query_counts.py``. The last line printed
is one JSON object: the counts per page and plan count, and `growth` (queries at 25 plans minus
queries at 1 plan, per page; 0 is the target for lists and dashboards).
"""

import json
import os
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

PLAN_COUNTS = (1, 5, 25)
STAGES = [
    {"name": "Lead", "conversion": "0.6"},
    {"name": "Target lead", "conversion": "0.25", "is_target_lead": True},
    {"name": "Meeting scheduled", "conversion": "0.8"},
    {"name": "Meeting held", "conversion": "0.4", "is_key_stage": True},
    {"name": "Paid"},
]


def build_world() -> dict:
    from django.contrib.auth import get_user_model

    from salesplan.models import Membership, Organization, Role, Team

    user_model = get_user_model()
    organization = Organization.objects.create(name="Bench Co")

    def member(name: str, role: str, **extra) -> Membership:
        user = user_model.objects.create(
            username=f"{name}@bench.local", email=f"{name}@bench.local"
        )
        return Membership.objects.create(organization=organization, user=user, role=role, **extra)

    owner = member("owner", Role.OWNER)
    head = member("head", Role.HEAD_OF_SALES)
    team = Team.objects.create(organization=organization, name="East", head=head)
    head.team = team
    head.save()
    sellers = [
        member(f"seller{i}", Role.SALESPERSON, salesperson_kind="hunter", team=team)
        for i in range(4)
    ]
    member("marketer", Role.MARKETER)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner.user).key}")
    funnel = api.post("/api/v1/funnels/", {"name": "B2B", "stages": STAGES}, format="json")
    assert funnel.status_code == 201, funnel.content
    # A month of actuals, so that plans have a history to be checked against.
    today = timezone.localdate()
    month_ago = today.replace(day=1) - timedelta(days=20)
    leads = [
        {
            "external_id": f"L{i}",
            "created_at": f"{month_ago.isoformat()}T10:00:00",
            "stage": ["Lead", "Target lead", "Meeting held", "Paid"][i % 4],
            "stage_at": f"{month_ago.isoformat()}T12:00:00",
            "responsible": sellers[i % 4].user.email,
            **(
                {"won": True, "amount": "50000", "paid_at": f"{month_ago}T15:00:00"}
                if i % 4 == 3
                else {}
            ),
        }
        for i in range(200)
    ]
    loaded = api.post(
        "/api/v1/events/", {"funnel": funnel.json()["id"], "leads": leads}, format="json"
    )
    assert loaded.status_code == 200, loaded.content
    return {
        "api": api,
        "owner": owner,
        "head": head,
        "seller": sellers[0],
        "sellers": sellers,
        "team": team,
        "funnel": funnel.json()["id"],
        "today": today,
    }


def add_plans(world: dict, count: int) -> list[int]:
    start = world["today"].replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    ids = []
    for index in range(count):
        response = world["api"].post(
            "/api/v1/plans/",
            {
                "funnel": world["funnel"],
                "name": f"Plan {index}",
                "status": "active",
                "sales_team": world["team"].pk,
                "revenue_target": "1000000",
                "average_check": "50000",
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "cost_per_lead": "500",
                "team": [{"membership": s.pk, "share": "0.25"} for s in world["sellers"]],
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code in (200, 302), (response.status_code, response.content[:500])
    return len(queries.captured_queries)


def measure(world: dict, plan_id: int) -> dict[str, int]:
    head, seller = Client(), Client()
    head.force_login(world["head"].user)
    seller.force_login(world["seller"].user)
    # Warm the caches a real server has warm (sessions, content types, translations).
    for client in (head, seller):
        client.get("/")
    figures = {
        "home_head": count(lambda: head.get("/dashboard/")),
        "home_salesperson": count(lambda: seller.get("/today/")),
        "plans": count(lambda: head.get("/plans/")),
        "plan_detail": count(lambda: head.get(f"/plans/{plan_id}/")),
        "pie": count(lambda: head.get(f"/plans/{plan_id}/pie/")),
    }
    version = world["api"].get(f"/api/v1/plans/{plan_id}/").json()["version"]
    figures["plan_save_api"] = count(
        lambda: world["api"].patch(
            f"/api/v1/plans/{plan_id}/",
            {"revenue_target": "1100000", "version": version},
            format="json",
        )
    )
    return figures


def main() -> None:
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    try:
        world = build_world()
        results: dict[str, dict[str, int]] = {}
        made: list[int] = []
        for total in PLAN_COUNTS:
            made += add_plans(world, total - len(made))
            results[str(total)] = measure(world, made[0])
            print(f"{total:>3} plans: {results[str(total)]}", flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    first, last = results[str(PLAN_COUNTS[0])], results[str(PLAN_COUNTS[-1])]
    growth = {page: last[page] - first[page] for page in first}
    print(
        json.dumps(
            {
                "bench": "query_counts",
                "engine": connection.vendor,
                "counts": results,
                "growth": growth,
            }
        )
    )


if __name__ == "__main__":
    main()
