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
- a re-import of the unchanged file, which must be faster than the first, checked first
  ("Check what will change": `check_s`, and what it found, `check_leads`);
- the upload alone (the file stored and inspected): `upload_s`; what the upload's request waits
  for (a file above IMPORT_INSPECT_INLINE_MB is inspected by a job): `upload_request_s`;
- the same leads as an .xlsx workbook (written once with openpyxl's write-only mode and kept
  under var/bench/, keyed by size): its import through the same path into a second
  organization, and its parse alone, our reader (python-calamine) against openpyxl's
  read-only mode (the reader before it), every column of every row as text.

Prints the figures, `ratio` = import ÷ floor b (target ≤ 2.0), `ratio_raw` = import ÷ floor a,
`xlsx_ratio` = the workbook's import ÷ floor b (target ≤ 2.0 too), `xlsx_speedup` = openpyxl's
parse ÷ ours, and, last, one JSON line. Uses DATABASE_URL if it names PostgreSQL, else
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
# Generated workbooks are kept here (writing 1,000,000 rows with openpyxl takes minutes); bump
# the version when `write_xlsx` changes what it writes.
XLSX_CACHE = ROOT / "var" / "bench"
XLSX_VERSION = 1
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
    os.environ["TASKS_IN_THREAD"] = "0"  # jobs inline: the timings are the jobs'
    # A million-lead export is larger than the upload limits' defaults (salesplan/limits.py).
    os.environ.setdefault("IMPORT_MAX_UPLOAD_MB", "4096")
    os.environ.setdefault("IMPORT_MAX_UNPACKED_MB", "8192")
    os.environ.setdefault("IMPORT_MAX_ROWS", "10000000")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


# --- the export ------------------------------------------------------------------------------


def export_leads(leads: int, seed: int = 7) -> tuple[dict, dict[str, int]]:
    """The leads of an amoCRM deals export for a year of 100 salespeople, as typed columns
    (the CSV and the workbook write them each their own way). Stage reached per lead is drawn
    so that the implied stage events average about three per lead."""
    import numpy as np

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
    columns = {
        "ids": ids,
        "budget_rub": budget_rub,
        "kopecks": kopecks,
        "responsible": people[rng.integers(0, SALESPEOPLE, leads)],
        "created": created,
        "closed": np.where(is_closed, closed, np.datetime64("NaT")),
        "stage": stage_names[outcome],
        "channel": channels[rng.integers(0, len(channels), leads)],
    }
    open_positions = np.where(outcome < 7, outcome, 0)
    implied = np.where(outcome == 7, len(OUR_STAGES), np.where(outcome == 8, 1, open_positions + 1))
    expected = {
        "rows": leads,
        "expected_events": int(implied.sum()),
        "won": int((outcome == 7).sum()),
    }
    return columns, expected


HEADERS = [
    "ID",
    "Название сделки",
    "Бюджет",
    "Ответственный",
    "Дата создания сделки",
    "Дата закрытия",
    "Этап сделки",
    "Воронка",
    "Источник",
    "Теги",
    "Теги",  # amoCRM repeats it
]


def generate(path: Path, leads: int, seed: int = 7) -> dict[str, int]:
    """The CSV export: `;`, DD.MM.YYYY HH:MM:SS, budgets like "1 250 000,50", the duplicated
    "Теги" columns."""
    import pandas as pd

    columns, expected = export_leads(leads, seed)

    def fmt(values) -> pd.Series:
        return pd.Series(pd.to_datetime(values)).dt.strftime("%d.%m.%Y %H:%M:%S").fillna("")

    ids = pd.Series(columns["ids"])
    frame = pd.DataFrame(
        {
            "ID": ids,
            "Название сделки": ids.map("Сделка #{}".format),
            "Бюджет": pd.Series(columns["budget_rub"]).map("{:,}".format).str.replace(",", " ")
            + ","
            + pd.Series(columns["kopecks"]).map("{:02d}".format),
            "Ответственный": columns["responsible"],
            "Дата создания сделки": fmt(columns["created"]),
            "Дата закрытия": fmt(columns["closed"]),
            "Этап сделки": columns["stage"],
            "Воронка": "Продажи",
            "Источник": columns["channel"],
            "Теги": "",
            "Теги ": "b2b",
        }
    )
    frame.to_csv(path, sep=";", index=False, header=HEADERS)
    return expected


def write_xlsx(path: Path, leads: int, seed: int = 7) -> None:
    """The same leads as a workbook, typed as Excel keeps them: ids and budgets as numbers,
    dates as date cells (local time), an open deal's closing date and empty tags as empty
    cells. openpyxl's write-only mode streams the rows out."""
    import openpyxl
    import pandas as pd

    columns, _expected = export_leads(leads, seed)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Сделки")
    sheet.append(HEADERS)
    created = pd.to_datetime(columns["created"]).to_pydatetime()
    closed = (
        pd.Series(pd.to_datetime(columns["closed"]))
        .astype(object)
        .where(pd.notna(columns["closed"]), None)
    )
    budgets = (columns["budget_rub"] + columns["kopecks"] / 100).tolist()
    rows = zip(
        columns["ids"].tolist(),
        budgets,
        columns["responsible"].tolist(),
        created,
        (moment.to_pydatetime() if moment is not None else None for moment in closed),
        columns["stage"].tolist(),
        columns["channel"].tolist(),
        strict=True,
    )
    for lead_id, budget, responsible, created_at, closed_at, stage, channel in rows:
        sheet.append(
            [
                lead_id,
                f"Сделка #{lead_id}",
                budget,
                responsible,
                created_at,
                closed_at,
                stage,
                "Продажи",
                channel,
                None,
                "b2b",
            ]
        )
    workbook.save(path)


def cached_xlsx(leads: int, seed: int = 7) -> Path:
    """The workbook of `leads` leads, written once and kept under var/bench/."""
    path = XLSX_CACHE / f"amocrm_export_{leads}_seed{seed}_v{XLSX_VERSION}.xlsx"
    if not path.exists():
        XLSX_CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        write_xlsx(partial, leads, seed)
        partial.rename(path)  # a run stopped halfway leaves no half-written workbook behind
    return path


# --- the import in a child process (its own peak memory) ---------------------------------------


def child_import(url: str, path: str, organization_id: int, check: bool = False) -> None:
    setup_django(url)
    from django.core.files import File
    from django.db import transaction

    from funnel.models import Funnel, ImportJob
    from funnel.services import imports, uploads
    from salesplan.models import Membership, Role

    funnel = Funnel.objects.get(organization_id=organization_id, name="Bench")
    owner = Membership.objects.get(organization_id=organization_id, role=Role.OWNER)
    started = time.perf_counter()
    with open(path, "rb") as handle, transaction.atomic():
        job = uploads.import_create(
            membership=owner,
            funnel=funnel,
            uploaded=File(handle, name=f"amocrm_export{Path(path).suffix}"),
        )
        # What the upload's request waits for: a big file's inspection is queued (it runs
        # at the commit here, inline, as a job would).
        request_s = time.perf_counter() - started
    upload_s = time.perf_counter() - started
    job.refresh_from_db()
    stage_map = {amo: our for amo, our in zip(AMO_STAGES, OUR_STAGES, strict=False)}
    stage_map |= {WON: "won", LOST: "lost"}
    settings = imports.ImportSettings(stage_map=stage_map)
    check_s, checked = None, None
    if check:  # "Check what will change" first (the job runs inline here), not counted below
        checking = time.perf_counter()
        imports.import_check(job=job, settings=settings)
        check_s = time.perf_counter() - checking
        job.refresh_from_db()
        checked = {
            table: [found[key] for key in ("new", "changed", "unchanged", "refused")]
            for table, found in job.changes.get("tables", {}).items()
        }
    running = time.perf_counter()
    imports.import_confirm(job=job, settings=settings, wait=True)  # what the job runs
    seconds = upload_s + time.perf_counter() - running
    job = ImportJob.objects.get(pk=job.pk)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "upload_s": upload_s,
                "request_s": request_s,
                "check_s": check_s,
                "checked": checked,
                "status": job.status,
                "counts": job.counts,
                "errors": job.error_count,
                "message": job.message,
                "preset": job.preset,
                "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            },
            ensure_ascii=False,
        )
    )


def run_child(
    url: str, path: Path, organization_id: int, *, check: bool = False
) -> tuple[dict, float]:
    """The import's figures and its peak memory in MB (the child's own maximum RSS)."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--org", str(organization_id)]
        + (["--check"] if check else []),
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    if output.returncode:
        raise SystemExit(f"the import of {path} crashed:\n{output.stderr[-3000:]}")
    result = json.loads(output.stdout.strip().splitlines()[-1])
    return result, result["peak_kib"] / 1024


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


# --- the workbook's parse alone ----------------------------------------------------------------


def parse_ours(path: Path) -> tuple[float, float]:
    """Seconds for our reader to inspect the workbook (headers, sample, row count), then to
    read every column of every row as text."""
    from funnel.importers.leads import CHUNK_ROWS
    from funnel.importers.xlsx_reader import inspect_xlsx, xlsx_chunks

    started = time.perf_counter()
    info = inspect_xlsx(path, path.name)
    inspected = time.perf_counter()
    chunks = xlsx_chunks(path, info, info.wanted(info.headers), CHUNK_ROWS, False)
    rows = sum(chunk.rows for chunk in chunks)
    finished = time.perf_counter()
    assert rows == info.total_rows, (rows, info.total_rows)
    return inspected - started, finished - inspected


def parse_openpyxl(path: Path) -> float:
    """Seconds for the reader before ours to do the same: openpyxl's read-only mode, cached
    values, each cell as text by the same rules, gathered into columns."""
    import openpyxl

    from funnel.importers.xlsx_reader import cell_text

    started = time.perf_counter()
    with path.open("rb") as handle:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        width = len(next(rows))
        columns: list[list[str]] = [[] for _ in range(width)]
        for row in rows:
            for column, value in zip(columns, row, strict=False):
                column.append(cell_text(value))
        workbook.close()
    return time.perf_counter() - started


# --- main --------------------------------------------------------------------------------------


def prepare_organization(suffix: str = "") -> int:
    from decimal import Decimal

    from funnel.services.funnels import funnel_create
    from salesplan.models import Role
    from salesplan.services import member_add, organization_create, user_create

    stamp = time.strftime("%Y%m%d%H%M%S") + suffix
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
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the bench organization")
    args = parser.parse_args()
    url = database_url()
    if args.child:
        child_import(url, args.child, args.org, check=args.check)
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
        started = time.perf_counter()
        workbook = cached_xlsx(args.leads)
        print(
            f"workbook      {workbook.stat().st_size / 1e6:.0f} MB, {workbook} "
            f"(ready in {time.perf_counter() - started:.1f} s)"
        )
        organization_id = prepare_organization()
        first, peak_mb = run_child(url, path, organization_id)
        if first["status"] != "done":
            raise SystemExit(f"import failed: {first}")
        # The re-import is checked first, as a person would ("Check what will change").
        again, _peak = run_child(url, path, organization_id, check=True)
        # The workbook goes into an organization of its own: a first import, like the CSV's.
        xlsx_organization_id = prepare_organization("-xlsx")
        xlsx, xlsx_peak_mb = run_child(url, workbook, xlsx_organization_id)
        if xlsx["status"] != "done":
            raise SystemExit(f"workbook import failed: {xlsx}")
        floor_a = floor_raw_copy(path)
        floor_b, rows = floor_database(organization_id, workdir)
        if not args.keep:
            cleanup(organization_id)
            cleanup(xlsx_organization_id)
    inspect_s, ours_s = parse_ours(workbook)
    openpyxl_s = parse_openpyxl(workbook)
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
        "upload_s": round(first["upload_s"], 2),
        "xlsx_upload_s": round(xlsx["upload_s"], 2),
        "upload_request_s": round(first["request_s"], 3),
        "xlsx_upload_request_s": round(xlsx["request_s"], 3),
        "check_s": round(again["check_s"], 2),
        "check_leads": again["checked"]["leads"],
        "floor_a_copy_file_s": round(floor_a, 2),
        "floor_b_copy_rows_s": round(floor_b, 2),
        "ratio": round(first["seconds"] / floor_b, 3),
        "ratio_raw": round(first["seconds"] / floor_a, 3),
        "peak_mb": round(peak_mb),
        "target_ratio": 2.0,
        "target_peak_mb": 1536,
        "xlsx_mb": round(workbook.stat().st_size / 1e6, 1),
        "xlsx_import_s": round(xlsx["seconds"], 2),
        "xlsx_rows_per_s": round(args.leads / xlsx["seconds"]),
        "xlsx_ratio": round(xlsx["seconds"] / floor_b, 3),
        "xlsx_same_counts": xlsx["counts"] == first["counts"],
        "xlsx_peak_mb": round(xlsx_peak_mb),
        "xlsx_inspect_s": round(inspect_s, 2),
        "xlsx_parse_s": round(ours_s, 2),
        "xlsx_parse_rows_per_s": round(args.leads / ours_s),
        "xlsx_parse_openpyxl_s": round(openpyxl_s, 2),
        "xlsx_parse_openpyxl_rows_per_s": round(args.leads / openpyxl_s),
        "xlsx_speedup": round(openpyxl_s / ours_s, 1),
    }
    print(
        f"import        {figures['import_s']} s ({figures['rows_per_s']:,} leads/s), "
        f"{written:,} rows written; counts {first['counts']}"
    )
    print(
        f"re-import     {figures['reimport_s']} s (unchanged file; faster: "
        f"{figures['reimport_faster']}); counts {again['counts']}"
    )
    print(
        f"check         {figures['check_s']} s before the re-import (leads new / changed / "
        f"unchanged / refused: {figures['check_leads']}); upload (inspection) "
        f"{figures['upload_s']} s CSV, {figures['xlsx_upload_s']} s XLSX; the upload's request "
        f"waits {figures['upload_request_s']} s CSV, {figures['xlsx_upload_request_s']} s XLSX "
        "(a big file is read by a job)"
    )
    print(f"floor a       {figures['floor_a_copy_file_s']} s (COPY of the file)")
    print(f"floor b       {figures['floor_b_copy_rows_s']} s (COPY of the written rows)")
    print(f"ratio         {figures['ratio']} (target ≤ 2.0), ratio_raw {figures['ratio_raw']}")
    print(f"peak memory   {figures['peak_mb']} MB (target < 1536)")
    print(
        f"xlsx import   {figures['xlsx_import_s']} s ({figures['xlsx_rows_per_s']:,} leads/s), "
        f"ratio {figures['xlsx_ratio']} (target ≤ 2.0); same counts as the CSV: "
        f"{figures['xlsx_same_counts']}; peak memory {figures['xlsx_peak_mb']} MB"
    )
    print(
        f"xlsx parse    ours {figures['xlsx_parse_s']} s ({figures['xlsx_parse_rows_per_s']:,} "
        f"rows/s; inspecting it first: {figures['xlsx_inspect_s']} s), openpyxl read-only "
        f"{figures['xlsx_parse_openpyxl_s']} s ({figures['xlsx_parse_openpyxl_rows_per_s']:,} "
        f"rows/s): {figures['xlsx_speedup']}× faster"
    )
    print(json.dumps(figures))


def cleanup(organization_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("funnel_stageevent", "funnel_payment", "funnel_lead", "funnel_importjob"):
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization_id])


if __name__ == "__main__":
    main()
