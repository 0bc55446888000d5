"""Recompute benchmark (issue 11, plan vs fact): a yearly plan over bench/import_1m.py's data
set, recomputed through the real service, against a hand-written SQL floor in the same run.

    export DATABASE_URL=postgres://root@127.0.0.1:5432/salesplan_bench
    .venv/bin/python bench/recompute_1m.py                  # 1,000,000 leads
    .venv/bin/python bench/recompute_1m.py --leads 20000    # a smaller run
    .venv/bin/python bench/recompute_1m.py --leads 20000 --profile var/recompute.prof

- data set: import_1m.py's generated amoCRM export of `--leads` leads (100 salespeople, the
  year 2025), imported through the real import path (import_1m's child process) into an
  organization of its own named "… recompute-<leads>", kept and reused by later runs; a head of
  sales is added so the pie splits the sales metrics among the 100 salespeople;
- the plan: one yearly plan (2025) over that funnel, saved with `plan_create` (every
  salesperson at an equal share; the default pie), reused by later runs;
- recompute: `plan_performance_refresh(plan_id=, today=<period end>, full=True)` (`full` only
  if the service takes it yet), `--runs` times, best and median; the rows it stored;
- floor: one SQL `GROUP BY (member, local day, stage)` over the same stage events (member: the
  event's, else the lead's responsible, none for a head of sales; the day `AT TIME ZONE` the
  organization's), every row fetched to the client, `--runs` times, best;
- `ratio` = best recompute ÷ best floor (target ≤ 2.0). The recomputes run over the rows a
  previous run stored, as every full recompute after the first does (the nightly one): the
  service compares and updates only the rows that changed (the last day's, on a rerun);
- rewrite: the same full recompute once with every stored row replaced (`REWRITE_SHARE`
  forced: what an edit of the plan costs) and once from nothing stored (`rewrite_s`,
  `from_empty_s` and their ratios, printed beside, not judged);
- incremental: 1,000 new leads, each with a stage event, dated on the period's last day, loaded
  through the events API's service (`funnel.services.events.events_load`), which marks the plan
  dirty (`SalesPlan.performance_dirty_from`, through the `actuals_loaded` receiver); then
  `plan_performance_refresh(plan_id=, today=<period end>)` timed (target < 1 s), `--runs`
  rounds, median; then a full recompute, whose rows must equal the incremental's
  (`incremental_matches_full`); the added leads are deleted at the end;
- the tables read and rewritten are VACUUM ANALYZEd first, and again before the incremental
  (the import leaves no statistics, and full rewrites leave dead rows that a server's
  autovacuum would clear; the bench's server may run without it);
- memory: `peak_mb` = tracemalloc's peak during one more full recompute (untimed: tracing
  slows it; numpy's and pandas' buffers are traced too), and `maxrss_delta_mb` = how much the
  process's maximum RSS grew over the first timed recompute.

Queued jobs go to Celery's in-memory broker and are never run (no worker): the recomputes
measured are exactly the ones called here. Needs DATABASE_URL naming PostgreSQL (the database
is created and migrated if missing). Prints the figures and, last, one JSON line.
"""

import argparse
import cProfile
import inspect
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_1m import (  # noqa: E402
    DEFAULT_URL,
    OUR_STAGES,
    SALESPEOPLE,
    ensure_database,
    generate,
    prepare_organization,
    run_child,
)

PERIOD_START, PERIOD_END = date(2025, 1, 1), date(2025, 12, 31)
PLAN_NAME = "Bench recompute 2025"
NEW_LEADS = 1_000
NEW_PREFIX = "bench-recompute-new-"
RATIO_TARGET = 2.0
INCREMENTAL_TARGET_S = 1.0


def require_postgres() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit(
            "DATABASE_URL is required and must name PostgreSQL, e.g.\n"
            f"  DATABASE_URL={DEFAULT_URL} .venv/bin/python bench/recompute_1m.py --leads 20000"
        )
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            f"DATABASE_URL={url!r} is not PostgreSQL: this bench measures the recompute against a "
            "PostgreSQL GROUP BY (AT TIME ZONE) and refuses SQLite or anything else."
        )
    return url


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.settings")
    # Jobs are published to Celery's in-memory broker and never run: a recompute queued by a
    # save or a load must not run inline and spoil what is timed.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ["TASKS_IN_THREAD"] = "0"
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    # As a worker has at its start: every app's tasks imported (the first `enqueue` of a task
    # not imported yet makes Celery import them all and run Django's checks, ~0.8 s once).
    from celery import current_app

    current_app.loader.import_default_modules()


# --- the data set and the plan -----------------------------------------------------------------


def dataset_suffix(leads: int) -> str:
    return f"-recompute-{leads}"


def find_dataset(leads: int) -> int | None:
    """An organization this bench made for `leads` leads earlier, its import done."""
    from funnel.models import ImportJob
    from salesplan.models import Organization

    candidates = Organization.objects.filter(
        name__startswith="Bench ", name__endswith=dataset_suffix(leads)
    ).order_by("-pk")
    for organization in candidates:
        if ImportJob.objects.filter(organization=organization, status="done").exists():
            return organization.pk
    return None


def create_dataset(url: str, leads: int) -> int:
    """import_1m's organization (owner, 100 salespeople, the Bench funnel) and its export,
    imported through the real path in a child process; plus a head of sales."""
    from salesplan.models import Organization, Role
    from salesplan.services import member_add, user_create

    organization_id = prepare_organization(dataset_suffix(leads))
    organization = Organization.objects.get(pk=organization_id)
    head = user_create(
        email=f"head-{organization_id}@example.com",
        password=None,
        first_name="Руководитель",
        last_name="Продаж",
    )
    member_add(organization=organization, user=head, role=Role.HEAD_OF_SALES)
    with tempfile.TemporaryDirectory(prefix="salesplan-bench-") as tmp:
        path = Path(tmp) / "amocrm_export.csv"
        started = time.perf_counter()
        generate(path, leads)
        result, _peak = run_child(url, path, organization_id)
        if result["status"] != "done":
            raise SystemExit(f"import failed: {result}")
        print(
            f"data set      imported {leads:,} leads in {time.perf_counter() - started:.1f} s "
            f"(organization {organization_id}); counts {result['counts']}"
        )
    return organization_id


def ensure_plan(organization_id: int) -> Any:
    """The yearly plan (reused if there): every salesperson at an equal share, the target a
    tenth above the year's revenue, the average check the year's."""
    from django.db.models import Count, Sum

    from funnel.models import Funnel, Payment
    from salesplan.models import Membership, Organization, Role, SalesPlan
    from salesplan.planning.whatif import equal_shares
    from salesplan.plans.services import plan_create
    from salesplan.plans.snapshot import TeamShare

    organization = Organization.objects.get(pk=organization_id)
    existing = SalesPlan.objects.filter(organization=organization, name=PLAN_NAME).first()
    if existing is not None:
        return existing
    funnel = Funnel.objects.get(organization=organization, name="Bench")
    salespeople = list(
        Membership.objects.filter(organization=organization, role=Role.SALESPERSON).order_by("id")
    )
    paid = Payment.objects.filter(
        organization=organization,
        paid_at__date__gte=PERIOD_START,
        paid_at__date__lte=PERIOD_END,
    ).aggregate(revenue=Sum("amount"), deals=Count("lead", distinct=True))
    revenue = paid["revenue"] or Decimal(100_000_000)
    check = (revenue / max(paid["deals"] or 0, 1)).quantize(Decimal(1000))
    owner = Membership.objects.filter(organization=organization, role=Role.OWNER).first()
    shares = equal_shares(len(salespeople))
    return plan_create(
        organization=organization,
        user=owner.user if owner else None,
        funnel=funnel,
        name=PLAN_NAME,
        period_kind="year",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        revenue_target=(revenue * Decimal("1.1")).quantize(Decimal("1E5")),
        average_check=max(check, Decimal(1000)),
        cost_per_lead=Decimal(500),
        status="active",
        team=[TeamShare(m, s) for m, s in zip(salespeople, shares, strict=True)],
    )


# --- what is timed -----------------------------------------------------------------------------


def takes_full() -> bool:
    from salesplan.plans.performance import plan_performance_refresh

    return "full" in inspect.signature(plan_performance_refresh).parameters


def recompute(plan_id: int, *, full: bool) -> tuple[float, int]:
    from salesplan.plans.performance import plan_performance_refresh

    kwargs = {"full": True} if full and takes_full() else {}
    started = time.perf_counter()
    rows = plan_performance_refresh(plan_id=plan_id, today=PERIOD_END, **kwargs)
    return time.perf_counter() - started, rows


GROUP_BY = """
SELECT
    CASE WHEN responsible.role = %(head)s OR mover.role = %(head)s THEN NULL
         ELSE COALESCE(event.member_id, lead.responsible_id) END AS member_id,
    (event.reached_at AT TIME ZONE %(zone)s)::date AS day,
    stage.position,
    COUNT(*)
FROM {events} event
JOIN {stages} stage ON stage.id = event.stage_id
JOIN {leads} lead ON lead.id = event.lead_id
LEFT JOIN {members} responsible ON responsible.id = lead.responsible_id
LEFT JOIN {members} mover ON mover.id = event.member_id
WHERE event.organization_id = %(org)s AND stage.funnel_id = %(funnel)s
  AND event.reached_at >= %(since)s AND event.reached_at < %(until)s
GROUP BY 1, 2, 3
"""


def group_by(plan: Any) -> tuple[float, int, int]:
    """The floor: seconds, rows fetched, events counted."""
    from zoneinfo import ZoneInfo

    from django.db import connection

    from funnel.models import Lead, Stage, StageEvent
    from salesplan.models import Membership, Role

    zone = plan.organization.time_zone
    tz = ZoneInfo(zone)
    sql = GROUP_BY.format(
        events=StageEvent._meta.db_table,
        stages=Stage._meta.db_table,
        leads=Lead._meta.db_table,
        members=Membership._meta.db_table,
    )
    params = {
        "head": Role.HEAD_OF_SALES,
        "zone": zone,
        "org": plan.organization_id,
        "funnel": plan.funnel_id,
        "since": datetime.combine(plan.period_start, datetime.min.time(), tzinfo=tz),
        "until": datetime.combine(plan.period_end + timedelta(days=1), datetime.min.time(), tz),
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    seconds = time.perf_counter() - started
    return seconds, len(rows), sum(row[3] for row in rows)


def snapshot_digest(plan_id: int) -> tuple[int, str]:
    """The stored rows (all but when they were computed), as a count and an md5."""
    from django.db import connection

    from metrics.models import PerformanceSnapshot

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COUNT(*), md5(string_agg(concat_ws('|', metric_id, owner_id, day,
                plan_to_date, actual_to_date, forecast, status, gap, gap_pct), ','
                ORDER BY metric_id, owner_id NULLS FIRST, day))
            FROM {PerformanceSnapshot._meta.db_table} WHERE plan_id = %s
            """,
            [plan_id],
        )
        count, digest = cursor.fetchone()
    return count, digest or ""


def new_events_batch(funnel_id: int, round_number: int, salespeople: list[str]) -> dict:
    """NEW_LEADS leads created on the period's last day, each with one stage event that day
    (its member the responsible one time in three, else none: the lead's responsible counts),
    as a CRM would post them to the events API."""
    leads, events = [], []
    stamp = time.strftime("%H%M%S")
    for n in range(NEW_LEADS):
        external_id = f"{NEW_PREFIX}{stamp}-{round_number}-{n}"
        minute = 9 * 60 + n * 11 % (11 * 60)
        moment = f"{PERIOD_END.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00"
        person = salespeople[n % len(salespeople)]
        leads.append(
            {
                "external_id": external_id,
                "name": f"Новая сделка {n}",
                "created_at": moment,
                "responsible": person,
                "channel": "Сайт",
            }
        )
        events.append(
            {
                "lead_external_id": external_id,
                "stage": OUR_STAGES[1 + n % 4],
                "reached_at": moment,
                "member": person if n % 3 == 0 else "",
            }
        )
    return {"funnel": funnel_id, "source": "api", "leads": leads, "stage_events": events}


def load_new_events(plan: Any, round_number: int) -> tuple[float, int, Any]:
    """Through the events API's service: seconds, stage events added, the plan's dirty day."""
    from funnel.models import StageEvent
    from funnel.services.events import events_load
    from salesplan.models import SalesPlan

    salespeople = [f"Менеджер {i:03d}" for i in range(SALESPEOPLE)]
    before = StageEvent.objects.filter(organization_id=plan.organization_id).count()
    body = new_events_batch(plan.funnel_id, round_number, salespeople)
    started = time.perf_counter()
    loaded = events_load(organization=plan.organization, body=body)
    seconds = time.perf_counter() - started
    if loaded.errors or loaded.unknown_people:
        raise SystemExit(f"the events batch was not loaded cleanly: {loaded.errors[:5]}")
    added = StageEvent.objects.filter(organization_id=plan.organization_id).count() - before
    dirty = SalesPlan.objects.filter(pk=plan.pk).values_list("performance_dirty_from", flat=True)
    return seconds, added, dirty.get()


def remove_new_events(organization_id: int) -> int:
    from funnel.models import Lead

    deleted, _by_model = Lead.objects.filter(
        organization_id=organization_id, external_id__startswith=NEW_PREFIX
    ).delete()
    return deleted


def vacuum() -> float:
    """VACUUM ANALYZE the tables read and rewritten: the freshly imported actuals get their
    statistics, and the dead rows of earlier rewrites go, as autovacuum would do on a server
    that runs it (this bench's may not: `SHOW autovacuum`). Seconds taken."""
    from django.db import connection

    from funnel.models import Call, Lead, Payment, Spend, Stage, StageEvent, Task
    from metrics.models import GapShare, PerformanceSnapshot, PerformanceTotals
    from salesplan.models import Membership

    models = [Lead, StageEvent, Payment, Stage, Call, Task, Spend, Membership]
    models += [PerformanceSnapshot, PerformanceTotals, GapShare]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return time.perf_counter() - started


def traced_peak_mb(plan_id: int) -> float:
    tracemalloc.start()
    try:
        recompute(plan_id, full=True)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def profile(plan_id: int, path: Path) -> None:
    """One full recompute under cProfile: the top costs printed, the stats kept at `path`."""
    profiler = cProfile.Profile()
    profiler.enable()
    recompute(plan_id, full=True)
    profiler.disable()
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)
    stats = pstats.Stats(str(path)).strip_dirs()
    print(f"--- profile of one full recompute ({path}), by own time:")
    stats.sort_stats("tottime").print_stats(20)
    print("--- by cumulative time:")
    stats.sort_stats("cumulative").print_stats(30)


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--profile", type=Path, help="also profile one full recompute to here")
    args = parser.parse_args()
    url = require_postgres()
    ensure_database(url)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
        check=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    setup_django(url)
    from salesplan.models import Membership, Role

    organization_id = find_dataset(args.leads)
    if organization_id is None:
        organization_id = create_dataset(url, args.leads)
    else:
        print(f"data set      reusing organization {organization_id} ({args.leads:,} leads)")
    remove_new_events(organization_id)  # a run stopped halfway may have left some
    plan = ensure_plan(organization_id)
    owners = (
        Membership.objects.filter(responsibilities__plan=plan, role=Role.SALESPERSON)
        .distinct()
        .count()
    )
    print(f"vacuum        {vacuum():.1f} s (VACUUM ANALYZE of the tables read and written)")
    full = takes_full()
    print(
        f"plan          {plan.pk} {plan.period_start}..{plan.period_end}, {owners} salespeople "
        f"owning slices; recompute called with full=True: {full}"
        + ("" if full else " (the service does not take `full` yet: a plain call)")
    )

    # Full recompute and the floor, alternated so both see the same cache state.
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    recompute_times, floor_times = [], []
    rows = floor_rows = events = 0
    for run in range(args.runs):
        seconds, rows = recompute(plan.pk, full=True)
        recompute_times.append(seconds)
        if run == 0:
            maxrss_delta_mb = (
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before
            ) / 1024
        seconds, floor_rows, events = group_by(plan)
        floor_times.append(seconds)
    stored, _digest = snapshot_digest(plan.pk)
    recompute_s, group_by_s = min(recompute_times), min(floor_times)
    ratio = recompute_s / group_by_s
    recompute_median_s = statistics.median(recompute_times)
    print(
        f"recompute     best {recompute_s:.3f} s, median {recompute_median_s:.3f} s "
        f"of {args.runs}; {rows:,} rows stored ({stored:,} in the table)"
    )
    print(
        f"group by      best {group_by_s:.3f} s, median {statistics.median(floor_times):.3f} s; "
        f"{floor_rows:,} rows fetched, {events:,} stage events"
    )
    print(f"ratio         {ratio:.2f} (recompute ÷ group by; target ≤ {RATIO_TARGET})")

    # The same full recompute when every stored row must be replaced (an edit of the plan moves
    # every plan-to-date): the service deletes them and writes all with one COPY. Timed once
    # each way: forced, and from nothing stored.
    from salesplan.plans import performance as performance_service

    saved_share = performance_service.REWRITE_SHARE
    performance_service.REWRITE_SHARE = -1.0  # every chunk "changed beyond the share"
    try:
        rewrite_s, _ = recompute(plan.pk, full=True)
    finally:
        performance_service.REWRITE_SHARE = saved_share
    from metrics.models import PerformanceSnapshot

    PerformanceSnapshot.objects.filter(plan_id=plan.pk).delete()
    vacuum()
    empty_s, _ = recompute(plan.pk, full=True)
    print(
        f"rewrite       {rewrite_s:.3f} s (every row replaced, ratio {rewrite_s / group_by_s:.2f});"
        " "
        f"{empty_s:.3f} s from nothing stored (ratio {empty_s / group_by_s:.2f})"
    )

    # Incremental: new actuals through the events API's service, then the plain call.
    vacuum()  # the full rewrites' dead rows, gone as autovacuum would have by the next load
    incremental_times, load_times, added_events, dirty_days = [], [], 0, []
    try:
        for round_number in range(args.runs):
            load_s, added, dirty = load_new_events(plan, round_number)
            load_times.append(load_s)
            added_events += added
            dirty_days.append(dirty)
            started = time.perf_counter()
            from salesplan.plans.performance import plan_performance_refresh

            incremental_rows = plan_performance_refresh(plan_id=plan.pk, today=PERIOD_END)
            incremental_times.append(time.perf_counter() - started)
        incremental = snapshot_digest(plan.pk)
        recompute(plan.pk, full=True)
        matches = snapshot_digest(plan.pk) == incremental
    finally:
        remove_new_events(organization_id)
    incremental_s = statistics.median(incremental_times)
    print(
        f"incremental   median {incremental_s:.3f} s of {args.runs} (each after {NEW_LEADS:,} "
        f"new leads, {added_events // args.runs:,} stage events, loaded in "
        f"{statistics.median(load_times):.2f} s; dirty from {dirty_days[-1]}); "
        f"{incremental_rows:,} rows; target < {INCREMENTAL_TARGET_S} s; the same rows as a full "
        f"recompute: {matches}"
    )
    if dirty_days[-1] is None:
        print("              (nothing set performance_dirty_from: the load did not mark the plan)")

    peak_mb = traced_peak_mb(plan.pk)
    print(
        f"memory        tracemalloc peak {peak_mb:.0f} MB during a full recompute; max RSS grew "
        f"{maxrss_delta_mb:.0f} MB over the first"
    )
    if args.profile:
        profile(plan.pk, args.profile)

    figures = {
        "bench": "recompute_1m",
        "leads": args.leads,
        "stage_events": events,
        "snapshot_rows": rows,
        "full_flag": full,
        "recompute_s": round(recompute_s, 3),
        "recompute_median_s": round(recompute_median_s, 3),
        "group_by_s": round(group_by_s, 3),
        "group_by_rows": floor_rows,
        "ratio": round(ratio, 2),
        "ratio_target": RATIO_TARGET,
        "rewrite_s": round(rewrite_s, 3),
        "rewrite_ratio": round(rewrite_s / group_by_s, 2),
        "from_empty_s": round(empty_s, 3),
        "from_empty_ratio": round(empty_s / group_by_s, 2),
        "incremental_s": round(incremental_s, 3),
        "incremental_target_s": INCREMENTAL_TARGET_S,
        "incremental_events": added_events // args.runs,
        "incremental_dirty_from": str(dirty_days[-1]) if dirty_days[-1] else None,
        "incremental_matches_full": matches,
        "peak_mb": round(peak_mb, 1),
        "peak_kind": "tracemalloc",
        "maxrss_delta_mb": round(maxrss_delta_mb, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
