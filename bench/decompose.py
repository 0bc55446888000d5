"""Benchmark: a yearly plan, 100 salespeople, 8 stages, full decompose() with norms and history.

Run from the repository root: ``.venv/bin/python bench/decompose.py``. The last line printed
is one JSON object with the figures.
"""

import json
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from salesplan.planning import (
    Decomposition,
    History,
    MonthStat,
    Norms,
    PlanInput,
    StageInput,
    TeamMember,
    decompose,
)

RUNS = 20
TARGET_MS = 50
TEAM_SIZE = 100


def yearly_plan() -> PlanInput:
    share = Decimal(1) / TEAM_SIZE
    shares = [share] * (TEAM_SIZE - 1) + [Decimal(1) - share * (TEAM_SIZE - 1)]
    team = tuple(
        TeamMember(f"person-{index}", f"Salesperson {index}", value)
        for index, value in enumerate(shares)
    )
    stages = (
        StageInput("Lead", Decimal("0.7")),
        StageInput("Target lead", Decimal("0.6"), is_target_lead=True),
        StageInput("Contact made", Decimal("0.5")),
        StageInput("Needs identified", Decimal("0.45")),
        StageInput("Meeting scheduled", Decimal("0.8")),
        StageInput("Meeting held", Decimal("0.4"), is_key_stage=True),
        StageInput("Invoice", Decimal("0.9")),
        StageInput("Paid", None),
    )
    return PlanInput(
        revenue_target=Decimal("600000000"),
        average_check=Decimal("50000"),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        stages=stages,
        cost_per_lead=Decimal("500"),
        team=team,
        norms=Norms(calls_per_lead=Decimal("2.5"), max_calls_per_day=80, max_meetings_per_day=4),
        history=last_year(stages),
    )


def last_year(stages: tuple[StageInput, ...]) -> History:
    """Twelve past months, each a little busier than the plan needs."""
    volumes = [1250]
    for stage in stages[-2::-1]:
        volumes.append(int(volumes[-1] / stage.conversion) + 1)
    by_stage = dict(zip([s.name for s in stages], reversed(volumes), strict=True))
    return History(
        tuple(
            MonthStat(date(2025, month, 1), by_stage, Decimal("62500000")) for month in range(1, 13)
        )
    )


def check(result: Decomposition) -> None:
    """The run really did the whole job (no shortcut makes the timing meaningless)."""
    assert len(result.by_day) == 365
    assert len(result.by_person) == TEAM_SIZE
    assert len(result.by_month) == 12
    for stage in result.stages:
        assert sum(day.stages[stage.name] for day in result.by_day) == stage.required
        assert sum(p.stages[stage.name] for p in result.by_person) == stage.required


def main() -> None:
    plan = yearly_plan()
    warm_up = decompose(plan)  # also loads the holiday calendar once
    check(warm_up)
    timings_ms = []
    for _ in range(RUNS):
        started = time.perf_counter()
        decompose(plan)
        timings_ms.append((time.perf_counter() - started) * 1000)
    timings_ms.sort()
    median = statistics.median(timings_ms)
    p90 = timings_ms[int(0.9 * RUNS) - 1]
    print(f"decompose: yearly plan, {TEAM_SIZE} salespeople, 8 stages, {RUNS} runs")
    print(f"verdict {warm_up.verdict}: " + " | ".join(r.text() for r in warm_up.reasons))
    print(f"median {median:.2f} ms, p90 {p90:.2f} ms, min {timings_ms[0]:.2f} ms")
    print(f"target {TARGET_MS} ms, ratio {median / TARGET_MS:.3f}")
    result = {
        "bench": "decompose",
        "runs": RUNS,
        "median_ms": round(median, 3),
        "p90_ms": round(p90, 3),
        "min_ms": round(timings_ms[0], 3),
        "target_ms": TARGET_MS,
        "ratio": round(median / TARGET_MS, 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
