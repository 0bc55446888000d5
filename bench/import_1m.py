"""Import benchmark: a realistic amoCRM export of N leads through the real import path, against
two floors measured in the same run on the same PostgreSQL.

    .venv/bin/python bench/import_1m.py                 # 1,000,000 leads (~3,000,000 events)
    .venv/bin/python bench/import_1m.py --leads 100000  # a smaller run

- import: `funnel.services.imports` (upload → confirm → the job the page and the API run),
  in a child process whose peak memory (max RSS) is measured;
- floor a: a plain `COPY` of the same file into a bare table of its columns;
- floor b: plain `COPY`s of exactly the rows the import wrote (leads, stage events, payments),
  dumped, then loaded into empty tables with the same indexes and constraints (foreign keys
  included, deferred like Django's);
- a re-import of the unchanged file, which must be faster than the first.

Prints the figures, `ratio` = import ÷ floor b (target ≤ 2.0), `ratio_raw` = import ÷ floor a,
and, last, one JSON line. Uses DATABASE_URL if it names PostgreSQL, else
postgres://root@127.0.0.1:5432/salesplan_bench (created and migrated if missing).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://root@127.0.0.1:5432/salesplan_bench"
# The funnel of the generated CRM: amoCRM stage names → our stages (positions 0..7).
AMO_STAGES = [
    "Неразобранное",
    "Первичный контакт",
    "Квалификация",
    "Встреча назначена",
    "Встреча проведена",
    "Коммерческое предложение",
    "Счёт выставлен",
]
OUR_STAGES = [
    "Лид",
    "Целевой лид",
    "Контакт установлен",
    "Встреча назначена",
    "Встреча проведена",
    "КП отправлено",
    "Счёт",
    "Оплата",
]
WON, LOST = "Успешно реализовано", "Закрыто и не реализовано"
SALESPEOPLE = 100


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_URL


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


# --- the export ------------------------------------------------------------------------------


def generate(path: Path, leads: int, seed: int = 7) -> dict[str, int]:
    """An amoCRM deals export (`;`, DD.MM.YYYY HH:MM:SS, budgets like "1 250 000,50",
    duplicated "Теги" columns) for a year of 100 salespeople. Stage reached per lead is drawn
    so that the implied stage events average about three per lead."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    ids = np.arange(10_000_001, 10_000_001 + leads)
    start = np.datetime64("2025-01-01T08:00:00")
    created = start + rng.integers(0, 365 * 24 * 3600, leads).astype("timedelta64[s]")
    # 0..6 = open at an amoCRM stage (our positions 0..6), 7 = won, 8 = lost
    weights = np.array([0.05, 0.30, 0.17, 0.12, 0.10, 0.05, 0.03, 0.08, 0.10])
    outcome = rng.choice(len(weights), size=leads, p=weights / weights.sum())
    stage_names = np.array([*AMO_STAGES, WON, LOST], dtype=object)
    closed = created + rng.integers(3600, 40 * 24 * 3600, leads).astype("timedelta64[s]")
    is_closed = outcome >= 7
    budget_rub = rng.integers(10_000, 3_000_000, leads)
    kopecks = rng.integers(0, 100, leads)
    people = np.array([f"Менеджер {i:03d}" for i in range(SALESPEOPLE)], dtype=object)
    channels = np.array(["Яндекс Директ", "Сайт", "Рекомендация", "Холодный звонок", "VK"])

    def fmt(values: np.ndarray) -> pd.Series:
        return pd.Series(pd.to_datetime(values)).dt.strftime("%d.%m.%Y %H:%M:%S")

    frame = pd.DataFrame(
        {
            "ID": ids,
            "Название сделки": pd.Series(ids).map("Сделка #{}".format),
            "Бюджет": pd.Series(budget_rub).map("{:,}".format).str.replace(",", " ")
            + ","
            + pd.Series(kopecks).map("{:02d}".format),
            "Ответственный": people[rng.integers(0, SALESPEOPLE, leads)],
            "Дата создания сделки": fmt(created),
            "Дата закрытия": fmt(closed).where(is_closed, ""),
            "Этап сделки": stage_names[outcome],
            "Воронка": "Продажи",
            "Источник": channels[rng.integers(0, len(channels), leads)],
            "Теги": "",
            "Теги ": "b2b",
        }
    )
    frame.to_csv(path, sep=";", index=False, header=[*frame.columns[:-1], "Теги"])
    open_positions = np.where(outcome < 7, outcome, 0)
    implied = np.where(outcome == 7, len(OUR_STAGES), np.where(outcome == 8, 1, open_positions + 1))
    return {"rows": leads, "expected_events": int(implied.sum()), "won": int((outcome == 7).sum())}


# --- the import in a child process (its own peak memory) ---------------------------------------


def child_import(url: str, path: str, organization_id: int) -> None:
    setup_django(url)
    from django.core.files import File

    from funnel.models import Funnel, ImportJob
    from funnel.services import imports
    from salesplan.models import Membership, Role

    funnel = Funnel.objects.get(organization_id=organization_id, name="Bench")
    owner = Membership.objects.get(organization_id=organization_id, role=Role.OWNER)
    started = time.perf_counter()
    with open(path, "rb") as handle:
        job = imports.import_create(
            membership=owner, funnel=funnel, uploaded=File(handle, name="amocrm_export.csv")
        )
    stage_map = {amo: our for amo, our in zip(AMO_STAGES, OUR_STAGES, strict=False)}
    stage_map |= {WON: "won", LOST: "lost"}
    imports.import_confirm(job=job, settings=imports.ImportSettings(stage_map=stage_map))
    imports.import_run(job_id=job.pk)  # what the Celery task runs
    seconds = time.perf_counter() - started
    job = ImportJob.objects.get(pk=job.pk)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "status": job.status,
                "counts": job.counts,
                "errors": job.error_count,
                "message": job.message,
                "preset": job.preset,
            },
            ensure_ascii=False,
        )
    )


def run_child(url: str, path: Path, organization_id: int) -> tuple[dict, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--org", str(organization_id)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(output.stdout.strip().splitlines()[-1])
    return result, max(peak_kib, before) / 1024


# --- floors ------------------------------------------------------------------------------------


def floor_raw_copy(path: Path) -> float:
    """Floor a: COPY the file as it is into a bare table of its columns (all text)."""
    from django.db import connection

    with open(path, encoding="utf-8") as handle:
        columns = handle.readline().rstrip("\n").split(";")
    definition = ", ".join(f"c{i} text" for i in range(len(columns)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        cursor.execute(f"CREATE UNLOGGED TABLE bench_raw ({definition})")
    connection.commit() if not connection.get_autocommit() else None
    started = time.perf_counter()
    with connection.cursor() as cursor, open(path, encoding="utf-8") as handle:
        cursor.cursor.copy_expert(
            "COPY bench_raw FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)", handle
        )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw")
    return seconds


FLOOR_TABLES = [
    # (our table, its rows for the organization, foreign keys to mirror)
    ("funnel_lead", "organization_id = %(org)s", []),
    ("funnel_stageevent", "organization_id = %(org)s", [("lead_id", "bench_funnel_lead")]),
    ("funnel_payment", "organization_id = %(org)s", [("lead_id", "bench_funnel_lead")]),
]


def floor_database(organization_id: int, workdir: Path) -> tuple[float, dict[str, int]]:
    """Floor b: COPY exactly the rows the import wrote into empty tables with the same
    indexes and constraints (foreign keys too, deferred as Django makes them)."""
    from django.db import connection

    rows: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table, where, _fks in FLOOR_TABLES:
            dump = workdir / f"{table}.copy"
            query = f"SELECT * FROM {table} WHERE {where % {'org': organization_id}}"
            with open(dump, "w", encoding="utf-8") as handle:
                cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT", handle)
            with open(dump, encoding="utf-8") as handle:
                rows[table] = sum(1 for _ in handle)
        for table, _where, _fks in reversed(FLOOR_TABLES):
            cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")
        for table, _where, fks in FLOOR_TABLES:
            cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
            # The same foreign keys as the real table (LIKE does not copy them).
            cursor.execute(
                """
                SELECT pg_get_constraintdef(c.oid), c.conname FROM pg_constraint c
                WHERE c.conrelid = %s::regclass AND c.contype = 'f'
                """,
                [table],
            )
            for definition, name in cursor.fetchall():
                for column, target in fks:
                    if f"({column})" in definition:
                        definition = definition.split(" REFERENCES ")[0] + (
                            f" REFERENCES {target}(id) DEFERRABLE INITIALLY DEFERRED"
                        )
                cursor.execute(
                    f"ALTER TABLE bench_{table} ADD CONSTRAINT bench_{name[:50]} {definition}"
                )
    connection.commit() if not connection.get_autocommit() else None
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        for table, _where, _fks in FLOOR_TABLES:
            with open(workdir / f"{table}.copy", encoding="utf-8") as handle:
                cursor.cursor.copy_expert(f"COPY bench_{table} FROM STDIN", handle)
        cursor.execute("COMMIT")  # deferred foreign keys are checked here, as in the import
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table, _where, _fks in reversed(FLOOR_TABLES):
            cursor.execute(f"DROP TABLE bench_{table}")
    return seconds, rows


# --- main --------------------------------------------------------------------------------------


def prepare_organization() -> int:
    from decimal import Decimal

    from funnel.services.funnels import funnel_create
    from salesplan.models import Role
    from salesplan.services import member_add, organization_create, user_create

    stamp = time.strftime("%Y%m%d%H%M%S")
    organization = organization_create(
        name=f"Bench {stamp}", owner_email=f"bench-{stamp}@example.com", owner_password=None
    )
    conversions = ["0.7", "0.6", "0.6", "0.8", "0.5", "0.6", "0.7", None]
    funnel_create(
        organization=organization,
        name="Bench",
        stages=[
            {
                "name": name,
                "conversion": Decimal(c) if c else None,
                "is_key_stage": name == "Встреча проведена",
                "is_target_lead": name == "Целевой лид",
            }
            for name, c in zip(OUR_STAGES, conversions, strict=True)
        ],
    )
    for i in range(SALESPEOPLE):
        user = user_create(
            email=f"sales{i:03d}-{stamp}@example.com",
            password=None,
            first_name="Менеджер",
            last_name=f"{i:03d}",
        )
        member_add(
            organization=organization, user=user, role=Role.SALESPERSON, salesperson_kind="hunter"
        )
    return organization.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--org", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the bench organization")
    args = parser.parse_args()
    url = database_url()
    if args.child:
        child_import(url, args.child, args.org)
        return
    ensure_database(url)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
        check=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    setup_django(url)
    with tempfile.TemporaryDirectory(prefix="salesplan-bench-") as tmp:
        workdir = Path(tmp)
        path = workdir / "amocrm_export.csv"
        started = time.perf_counter()
        expected = generate(path, args.leads)
        size_mb = path.stat().st_size / 1e6
        print(
            f"generated {args.leads:,} leads, {size_mb:.0f} MB in "
            f"{time.perf_counter() - started:.1f} s; expected stage events "
            f"{expected['expected_events']:,}, won {expected['won']:,}"
        )
        organization_id = prepare_organization()
        first, peak_mb = run_child(url, path, organization_id)
        if first["status"] != "done":
            raise SystemExit(f"import failed: {first}")
        again, _peak = run_child(url, path, organization_id)
        floor_a = floor_raw_copy(path)
        floor_b, rows = floor_database(organization_id, workdir)
        if not args.keep:
            cleanup(organization_id)
    written = sum(rows.values())
    figures = {
        "bench": "import_1m",
        "leads": args.leads,
        "rows_written": written,
        "stage_events": rows["funnel_stageevent"],
        "payments": rows["funnel_payment"],
        "import_s": round(first["seconds"], 2),
        "rows_per_s": round(args.leads / first["seconds"]),
        "reimport_s": round(again["seconds"], 2),
        "reimport_faster": again["seconds"] < first["seconds"],
        "floor_a_copy_file_s": round(floor_a, 2),
        "floor_b_copy_rows_s": round(floor_b, 2),
        "ratio": round(first["seconds"] / floor_b, 3),
        "ratio_raw": round(first["seconds"] / floor_a, 3),
        "peak_mb": round(peak_mb),
        "target_ratio": 2.0,
        "target_peak_mb": 1536,
    }
    print(
        f"import        {figures['import_s']} s ({figures['rows_per_s']:,} leads/s), "
        f"{written:,} rows written; counts {first['counts']}"
    )
    print(
        f"re-import     {figures['reimport_s']} s (unchanged file; faster: "
        f"{figures['reimport_faster']}); counts {again['counts']}"
    )
    print(f"floor a       {figures['floor_a_copy_file_s']} s (COPY of the file)")
    print(f"floor b       {figures['floor_b_copy_rows_s']} s (COPY of the written rows)")
    print(f"ratio         {figures['ratio']} (target ≤ 2.0), ratio_raw {figures['ratio_raw']}")
    print(f"peak memory   {figures['peak_mb']} MB (target < 1536)")
    print(json.dumps(figures))


def cleanup(organization_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("funnel_stageevent", "funnel_payment", "funnel_lead", "funnel_importjob"):
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization_id])


if __name__ == "__main__":
    main()
