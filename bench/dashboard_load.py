"""Dashboard load benchmark (issue 12): the morning pages under 16 concurrent signed-in clients
for 30 seconds, served by gunicorn (2 workers, DEBUG off) on PostgreSQL, over bench/import_1m.py's
data set with its plans recomputed.

    .venv/bin/python bench/dashboard_load.py                     # 1,000,000 leads
    .venv/bin/python bench/dashboard_load.py --leads 20000 \\
        --database-url postgres://root@127.0.0.1:5432/salesplan_dashbench

- data set: recompute_1m.py's organization of `--leads` leads (import_1m.py's generated amoCRM
  export, 100 salespeople, the year 2025, one head of sales), reused if an earlier run (of
  either bench) left it, else imported through the real import path; its yearly plan
  (recompute_1m's) and one monthly plan per month of 2025 for the department (every
  salesperson at an equal share, the target a tenth above the month's revenue, the average
  check the month's), each recomputed whole through
  `salesplan.plans.performance.plan_performance_refresh(today=<period end>, full=True)`, and
  its marketing summary (`dashboards.refresh_marketing`, the job a recompute queues), once
  (again with `--recompute`);
- people: one signed-in user per role (the data set's owner, head of sales and first
  salesperson; a marketer and a viewer added), each with a browser's cookies (a session made
  in the database, and the CSRF cookie a browser holds from its first page) and, for the API,
  a token;
- server: gunicorn serving salesplan.wsgi's application with 2 workers, DEBUG off, static
  files collected and served by whitenoise, the API's per-user rate raised out of reach (one
  token makes every API call here); Redis as its cache if `--redis-url` (default REDIS_URL)
  names one; its clock moved back to 15 December 2025 (`django.utils.timezone.now` shifted
  by whole days), so each page's default period is the data set's December, half gone;
- load: locust as a library, `--clients` (16) closed-loop clients for `--seconds` (30), with
  no pause between requests (`--think S`: a person's pause of S seconds on average), each
  request to a page chosen in turn, with the session of that page's role: the funnel
  dashboard (head of sales), the owner's roll-up (owner), the marketer page (marketer), the
  pie of December's plan (head of sales), its performance API (head of sales' token), and
  `/healthz` as the floor (no session, one `SELECT 1`). A non-2xx answer (a redirect
  included: a page not built yet redirects or answers 404) is an error, counted and printed;
- where the time goes: each page once more in this process (Django's test client, DEBUG
  off): built with the page cache off (what the first read after a change costs: its queries
  counted and timed, the slowest page's slowest query EXPLAIN ANALYZEd), and read from the
  cache (salesplan.figures: what a read costs while the figures are unchanged).

Prints requests per second, p50/p95/p99 per page (exact, from every response's time) and the
errors; last, one JSON line with `p95_ms` (the worst page's p95), `errors` and the per-page
figures. Target: p95 < 150 ms, 0 errors. Needs PostgreSQL (`--database-url`, default
DATABASE_URL; the database is created and migrated if missing).
"""

import argparse
import calendar
import datetime as dt
import importlib.util
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

P95_TARGET_MS = 150.0
YEAR = 2025
# The server's today: the data set's last month, half gone, so every page's default period
# ("this month") has a plan with stored figures (the server's clock is moved back to it).
TODAY = date(YEAR, 12, 15)
MONTHLY_PLAN_NAME = "Bench dashboards {year}-{month:02d}"
# The server's own files (collected static files, its log): apart from var/ of development.
BENCH_VAR = ROOT / "var" / "bench" / "dashboard_load"
# Sessions are signed with this key (the server and this process must share it): random per
# run, 50+ characters as settings ask when DEBUG is off.
SECRET_KEY = "bench-dashboard-load-" + secrets.token_urlsafe(48)
# (name, role whose session asks, path; {plan} is December's monthly plan). The name is what
# the figures are printed under.
PAGES = [
    ("dashboard", "head_of_sales", "/dashboard/"),
    ("overview", "owner", "/overview/"),
    ("marketing", "marketer", "/marketing/"),
    ("pie", "head_of_sales", "/plans/{plan}/pie/"),
    ("performance_api", "token", "/api/v1/plans/{plan}/performance/"),
    ("healthz", "anonymous", "/healthz"),
]


# --- the data set and its plans (in this process, Django set up) ---------------------------------


def database_url(given: str | None) -> str:
    url = given or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            f"--database-url (or DATABASE_URL) must name PostgreSQL, not {url!r}; e.g.\n"
            "  .venv/bin/python bench/dashboard_load.py --leads 20000 "
            "--database-url postgres://root@127.0.0.1:5432/salesplan_dashbench"
        )
    return url


def month_plan(organization_id: int, month: int) -> Any:
    """The department's plan of `month` (reused if there): every salesperson at an equal
    share, the target a tenth above the month's revenue, the average check the month's."""
    from django.db.models import Count, Sum

    from funnel.models import Funnel, Payment
    from salesplan.models import Membership, Organization, Role, SalesPlan
    from salesplan.planning.whatif import equal_shares
    from salesplan.plans.services import plan_create
    from salesplan.plans.snapshot import TeamShare

    organization = Organization.objects.get(pk=organization_id)
    name = MONTHLY_PLAN_NAME.format(year=YEAR, month=month)
    existing = SalesPlan.objects.filter(organization=organization, name=name).first()
    if existing is not None:
        return existing
    start = date(YEAR, month, 1)
    end = date(YEAR, month, calendar.monthrange(YEAR, month)[1])
    funnel = Funnel.objects.get(organization=organization, name="Bench")
    salespeople = list(
        Membership.objects.filter(organization=organization, role=Role.SALESPERSON).order_by("id")
    )
    paid = Payment.objects.filter(
        organization=organization, paid_at__date__gte=start, paid_at__date__lte=end
    ).aggregate(revenue=Sum("amount"), deals=Count("lead", distinct=True))
    revenue = paid["revenue"] or Decimal(10_000_000)
    check = (revenue / max(paid["deals"] or 0, 1)).quantize(Decimal(1000))
    owner = Membership.objects.filter(organization=organization, role=Role.OWNER).first()
    shares = equal_shares(len(salespeople))
    return plan_create(
        organization=organization,
        user=owner.user if owner else None,
        funnel=funnel,
        name=name,
        period_kind="month",
        period_start=start,
        period_end=end,
        revenue_target=(revenue * Decimal("1.1")).quantize(Decimal("1E5")),
        average_check=max(check, Decimal(1000)),
        cost_per_lead=Decimal(500),
        status="active",
        team=[TeamShare(m, s) for m, s in zip(salespeople, shares, strict=True)],
    )


def recomputed(plan: Any, *, again: bool) -> tuple[float, int] | None:
    """Recompute the plan whole up to its last day unless its last day is stored already, and
    its marketing summary after it (the job a recompute queues, run here: no worker runs the
    queue in this bench): seconds and rows, or None when both were there."""
    from metrics.models import PerformanceSnapshot
    from salesplan.dashboards.models import MarketingDay
    from salesplan.dashboards.tasks import refresh_marketing
    from salesplan.plans.performance import plan_performance_refresh

    stored = PerformanceSnapshot.objects.filter(plan=plan, day=plan.period_end).exists()
    summarised = MarketingDay.objects.filter(plan=plan).exists()
    if stored and summarised and not again:
        return None
    started = time.perf_counter()
    rows = 0
    if again or not stored:
        rows = plan_performance_refresh(plan_id=plan.pk, today=plan.period_end, full=True)
    refresh_marketing(plan.pk, plan.period_start.isoformat(), plan.period_end.isoformat())
    return time.perf_counter() - started, rows


def people(organization_id: int) -> dict[str, Any]:
    """One membership per role: the data set's owner, head of sales and first salesperson; a
    marketer and a viewer made once."""
    from salesplan.models import Membership, Organization, Role
    from salesplan.services import member_add, user_ensure

    organization = Organization.objects.get(pk=organization_id)
    members = Membership.objects.filter(organization=organization, is_active=True)
    found = {
        role: members.filter(role=role).order_by("id").first()
        for role in (Role.OWNER, Role.HEAD_OF_SALES, Role.SALESPERSON)
    }
    for role, label in ((Role.MARKETER, "Маркетолог"), (Role.VIEWER, "Наблюдатель")):
        found[role] = members.filter(role=role).order_by("id").first() or member_add(
            organization=organization,
            user=user_ensure(
                email=f"{role}-{organization_id}@example.com",
                password=None,
                first_name=label,
                last_name="Бенч",
            ),
            role=role,
        )
    missing = [role for role, member in found.items() if member is None]
    if missing:
        raise SystemExit(f"the data set has no {', '.join(missing)}: remake it")
    return {str(role): member for role, member in found.items()}


def sessions(members: dict[str, Any]) -> tuple[dict[str, str], str]:
    """A browser's cookies per role: its signed-in session (stored as a sign-in stores it)
    and the CSRF cookie every browser holds from its first page (the sign-in form sets it);
    and the head of sales' API token."""
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client
    from rest_framework.authtoken.models import Token

    cookies = {}
    for role, member in members.items():
        client = Client()
        client.force_login(member.user, backend="django.contrib.auth.backends.ModelBackend")
        cookies[role] = (
            f"sessionid={client.cookies['sessionid'].value}; csrftoken={_get_new_csrf_string()}"
        )
    Token.objects.filter(user=members["head_of_sales"].user).delete()  # a fresh one (TTL)
    token = Token.objects.create(user=members["head_of_sales"].user)
    return cookies, token.key


# --- the server ------------------------------------------------------------------------------


def server_env(url: str, redis_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "salesplan.settings",
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on 127.0.0.1: no HTTPS redirect, cookies sent without TLS.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "VAR_DIR": str(BENCH_VAR),
        "LOG_LEVEL": "WARNING",
        # One token makes every API call of the run: its per-user rate out of reach.
        "API_THROTTLE_USER": "1000000/minute",
        "TASKS_IN_THREAD": "0",
        "BENCH_TODAY": TODAY.isoformat(),
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def shift_clock(today: date) -> None:
    """Django's `timezone.now` (and so `localdate`, `localtime`) moved back by whole days to
    `today`, the time of day kept: what the pages take for "today" is the data's."""
    from django.utils import timezone

    real_now = timezone.now
    if getattr(real_now, "bench_shifted", False):
        return
    days = (timezone.localtime(real_now()).date() - today).days  # TIME_ZONE's days
    offset = dt.timedelta(days=days)

    def now() -> dt.datetime:
        return real_now() - offset

    now.bench_shifted = True  # type: ignore[attr-defined]
    timezone.now = now


def shifted_application() -> Any:
    """The WSGI application gunicorn serves here: salesplan's, on the clock of BENCH_TODAY."""
    from salesplan.wsgi import application

    shift_clock(date.fromisoformat(os.environ["BENCH_TODAY"]))
    return application


def collect_static(env: dict[str, str]) -> None:
    """The static files collected with their manifest (what DEBUG off serves them by), not
    compressed: the clients here fetch pages, not assets, and gzip and brotli of plotly.js
    take minutes."""
    subprocess.run([sys.executable, __file__, "--child-collect"], check=True, env=env, cwd=ROOT)


def child_collect() -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    log = open(BENCH_VAR / "gunicorn.log", "w")  # noqa: SIM115 (the server's lifetime)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "bench.dashboard_load:shifted_application()",
            f"--workers={workers}",
            f"--bind=127.0.0.1:{port}",
            "--access-logfile=-",
            "--access-logformat=%(s)s %(m)s %(U)s %(M)sms",
            "--timeout=120",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # stopped as a group: its workers too
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {BENCH_VAR / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer in 60 s: see {BENCH_VAR / 'gunicorn.log'}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- the load (a child process: locust patches the standard library with gevent) ---------------


def child_load(spec_path: str) -> None:
    """Run the load described in the JSON file; print one JSON line of every page's response
    times (ms) and its non-2xx answers."""
    import gevent
    from locust import FastHttpUser, between, constant, events, task
    from locust.env import Environment

    spec = json.loads(Path(spec_path).read_text())
    pages = spec["pages"]  # [[name, path, headers], ...]
    times: dict[str, list[float]] = {name: [] for name, _path, _headers in pages}
    errors: dict[str, dict[str, int]] = {name: {} for name, _path, _headers in pages}
    counter = iter(range(10**12))

    class Client(FastHttpUser):
        host = spec["host"]
        # Closed loop: the next request as soon as one answers, or after a person's pause
        # (`--think` seconds on average, half to one and a half of it).
        think = spec["think"]
        wait_time = between(think / 2, think * 3 / 2) if think else constant(0)

        @task
        def next_page(self) -> None:
            name, path, headers = pages[next(counter) % len(pages)]
            with self.client.get(
                path, name=name, headers=headers, allow_redirects=False, catch_response=True
            ) as response:
                if not 200 <= response.status_code < 300:
                    where = response.headers.get("Location", "") if response.headers else ""
                    key = f"{response.status_code}" + (f" → {where}" if where else "")
                    errors[name][key] = errors[name].get(key, 0) + 1
                    response.failure(key)
                else:
                    response.success()

    @events.request.add_listener
    def record(name: str, response_time: float, **_kwargs: Any) -> None:
        times[name].append(response_time)

    environment = Environment(user_classes=[Client], events=events)
    runner = environment.create_local_runner()
    runner.start(spec["clients"], spawn_rate=spec["clients"])
    started = time.perf_counter()
    gevent.spawn_later(spec["seconds"], runner.quit)
    runner.greenlet.join()
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "times": times, "errors": errors}))


def run_load(host: str, pages: list[list[Any]], clients: int, seconds: float, think: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump(
            {
                "host": host,
                "pages": pages,
                "clients": clients,
                "seconds": seconds,
                "think": think,
            },
            spec,
        )
    try:
        output = subprocess.run(
            [sys.executable, __file__, "--child-load", spec.name],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    finally:
        os.unlink(spec.name)
    if output.returncode:
        raise SystemExit(f"the load crashed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (the value below which `fraction` of the answers fell)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))  # ceil
    return ordered[rank - 1]


# --- where the time goes (this process) ------------------------------------------------------


def page_profile(path: str, member: Any | None, token: str | None) -> dict[str, Any]:
    """The page in this process: built (the page cache off: what the first read after a
    change costs), then read from the cache (what the load above mostly measures): status,
    ms of each, and the build's queries, their ms and the slowest one."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    headers = {}
    if member is not None:
        client.force_login(member.user, backend="django.contrib.auth.backends.ModelBackend")
    if token:
        headers["Authorization"] = f"Token {token}"
    client.get(path, headers=headers)  # warm: imports, the first template load, CSRF cookie
    kept = settings.PAGE_CACHE_SECONDS
    settings.PAGE_CACHE_SECONDS = 0
    # The log holds 9,000 queries at most: a full one would capture nothing (its length
    # stays the same).
    connection.queries_log.clear()
    try:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            ms = (time.perf_counter() - started) * 1000
    finally:
        settings.PAGE_CACHE_SECONDS = kept
    client.get(path, headers=headers)  # stored
    started = time.perf_counter()
    client.get(path, headers=headers)
    cached_ms = (time.perf_counter() - started) * 1000
    queries = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    slowest = max(queries, default=(0.0, ""))
    return {
        "status": response.status_code,
        "ms": ms,
        "cached_ms": cached_ms,
        "queries": len(queries),
        "sql_ms": sum(q[0] for q in queries),
        "slowest_ms": slowest[0],
        "slowest_sql": slowest[1],
    }


def explain(sql: str) -> str:
    from django.db import connection

    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return f"(not a SELECT: {sql[:200]})"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="PostgreSQL (default: DATABASE_URL)")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", ""), help="the server's cache"
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="a client's pause between requests, seconds on average (default 0: none)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--recompute", action="store_true", help="recompute stored plans again")
    parser.add_argument("--child-load", help=argparse.SUPPRESS)
    parser.add_argument("--child-collect", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if importlib.util.find_spec("locust") is None:
        # Kept out of requirements.lock: locust brings brotli, with which whitenoise's
        # collectstatic also writes a .br of every file (minutes in the image build).
        sys.exit("this bench drives the load with locust: .venv/bin/pip install locust==2.47.0")
    if args.child_load:
        child_load(args.child_load)
        return
    if args.child_collect:
        child_collect()
        return

    url = database_url(args.database_url)
    os.environ["DATABASE_URL"] = url
    os.environ["SECRET_KEY"] = SECRET_KEY  # the sessions made here open on the server
    os.environ["LOG_LEVEL"] = "WARNING"  # not a line per sign-in (django-axes)
    from bench.import_1m import ensure_database
    from bench.recompute_1m import create_dataset, ensure_plan, find_dataset, setup_django, vacuum

    ensure_database(url)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
        check=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    setup_django(url)

    organization_id = find_dataset(args.leads)
    if organization_id is None:
        organization_id = create_dataset(url, args.leads)
    else:
        print(f"data set      reusing organization {organization_id} ({args.leads:,} leads)")
    # The marketer before the plans: each new plan's default pie gives them their metrics.
    members = people(organization_id)
    plans = [ensure_plan(organization_id)] + [
        month_plan(organization_id, month) for month in range(1, 13)
    ]
    computed = [(plan, recomputed(plan, again=args.recompute)) for plan in plans]
    done = [(plan, figures) for plan, figures in computed if figures is not None]
    print(
        f"plans         {len(plans)} (the year and its 12 months; ids "
        f"{plans[0].pk}, {plans[1].pk}..{plans[-1].pk}); recomputed {len(done)}"
        + (
            f" in {sum(f[0] for _p, f in done):.1f} s, {sum(f[1] for _p, f in done):,} rows"
            if done
            else " (all stored already; --recompute to redo)"
        )
    )
    if done:
        print(f"vacuum        {vacuum():.1f} s")
    december = plans[-1]
    cookies, token = sessions(members)
    print(
        "people        "
        + ", ".join(f"{role} {member.user.email}" for role, member in members.items())
    )

    env = server_env(url, args.redis_url)
    started = time.perf_counter()
    collect_static(env)
    print(
        f"static        collected in {time.perf_counter() - started:.1f} s "
        f"({BENCH_VAR / 'staticfiles'}, with its manifest, uncompressed)"
    )
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    load_pages = []
    for name, role, path in PAGES:
        headers = {}
        if role == "token":
            headers["Authorization"] = f"Token {token}"
        elif role != "anonymous":
            headers["Cookie"] = cookies[role]
        load_pages.append([name, path.format(plan=december.pk), headers])
    server = start_server(env, port, args.workers)
    try:
        print(
            f"server        gunicorn, {args.workers} workers, DEBUG off, {host}, today "
            f"{TODAY} "
            f"(cache: {args.redis_url or 'local memory'}); log {BENCH_VAR / 'gunicorn.log'}"
        )
        # One request to each page first: what each answers, and every worker warmed up.
        for name, path, headers in load_pages:
            for _ in range(args.workers):
                request = urllib.request.Request(host + path, headers=headers)
                try:
                    with _no_redirects().open(request, timeout=60) as response:
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
            print(f"warm-up       {name:<16} {path} → {status}")
        result = run_load(host, load_pages, args.clients, args.seconds, args.think)
    finally:
        stop_server(server)

    seconds = result["seconds"]
    total = sum(len(t) for t in result["times"].values())
    errors = sum(sum(by.values()) for by in result["errors"].values())
    print(
        f"load          {args.clients} clients × {seconds:.1f} s"
        + (f" (pausing {args.think:g} s on average)" if args.think else " (no pause)")
        + f": {total:,} requests, "
        f"{total / seconds:.1f} req/s, {errors:,} errors"
    )
    figures: dict[str, dict[str, Any]] = {}
    print(f"{'page':<16} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, path, _headers in load_pages:
        times = result["times"][name]
        page = {
            "path": path,
            "requests": len(times),
            "rps": round(len(times) / seconds, 1),
            "p50_ms": round(percentile(times, 0.50), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "p99_ms": round(percentile(times, 0.99), 1),
            "mean_ms": round(statistics.fmean(times), 1) if times else 0.0,
            "errors": sum(result["errors"][name].values()),
        }
        figures[name] = page
        print(
            f"{name:<16} {page['rps']:>7} {page['p50_ms']:>8} {page['p95_ms']:>8} "
            f"{page['p99_ms']:>8} {page['errors']:>7}"
        )
        for answer, count in sorted(result["errors"][name].items(), key=lambda a: -a[1]):
            print(f"    error {answer}: {count:,}")

    # Where the time goes: each page once in this process, its queries counted and timed.
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.DEBUG = False
    shift_clock(TODAY)
    by_role = {"token": None, "anonymous": None, **members}
    profiles = {}
    for (name, role, _path), (_name, path, _headers) in zip(PAGES, load_pages, strict=True):
        profiles[name] = page_profile(path, by_role[role], token if role == "token" else None)
        found = profiles[name]
        figures[name]["queries"] = found["queries"]
        figures[name]["built_ms"] = round(found["ms"], 1)
        figures[name]["cached_ms"] = round(found["cached_ms"], 1)
        print(
            f"profile       {name:<16} {found['status']}, built in {found['ms']:.0f} ms alone: "
            f"{found['queries']} queries, {found['sql_ms']:.1f} ms of SQL, the slowest "
            f"{found['slowest_ms']:.1f} ms; from the cache in {found['cached_ms']:.1f} ms"
        )
    measured = [n for n in figures if n != "healthz"]
    worst = max(measured, key=lambda n: figures[n]["p95_ms"])
    slowest = profiles[worst]
    if slowest["slowest_sql"]:
        print(f"--- the slowest page, {worst}: its slowest query ({slowest['slowest_ms']:.1f} ms)")
        print(slowest["slowest_sql"][:3000])
        print("--- EXPLAIN ANALYZE")
        print(explain(slowest["slowest_sql"]))

    p95 = max(figures[n]["p95_ms"] for n in measured)
    print(
        f"result        worst p95 {p95:.1f} ms ({worst}; target < {P95_TARGET_MS:.0f} ms), "
        f"{errors} errors (target 0)"
    )
    print(
        json.dumps(
            {
                "bench": "dashboard_load",
                "leads": args.leads,
                "clients": args.clients,
                "think_s": args.think,
                "seconds": round(seconds, 1),
                "workers": args.workers,
                "rps": round(total / seconds, 1),
                "p95_ms": p95,
                "p95_page": worst,
                "p95_target_ms": P95_TARGET_MS,
                "errors": errors,
                "pages": figures,
            },
            ensure_ascii=False,
        )
    )


def _no_redirects() -> urllib.request.OpenerDirector:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(NoRedirect)


if __name__ == "__main__":
    main()
