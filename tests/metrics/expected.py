"""What the metrics tests expect, written down by hand from DOMAIN and the worked example
(tests/worked_example.py), never computed by the code under test."""

from decimal import Decimal

from metrics.catalog import Category
from tests.worked_example import DEALS, MARKETING_BUDGET, REQUIRED

D = Decimal

# DOMAIN section 2, "Metric": the kinds it names.
DOMAIN_KINDS = frozenset(
    {
        "stage_volume",
        "stage_conversion",
        "revenue",
        "gross_margin",
        "average_check",
        "leads",
        "target_leads",
        "target_lead_share",
        "cost_per_lead",
        "cost_per_target_lead",
        "new_clients",
        "missed_call_rate",
        "refusal_rate",
        "overdue_tasks",
    }
)
# Beyond DOMAIN's list: the budget (DOMAIN 1.1), the farmer's metric (DOMAIN idea 4), and CRM
# discipline's two (DOMAIN idea 8: every lead has a next task, with a goal).
EXTRA_KINDS = frozenset(
    {"marketing_spend", "existing_client_revenue", "leads_without_next_task", "tasks_without_goal"}
)

# code: (direction, unit, category). DOMAIN: the marketer owns lead volume, cost per lead and
# the share of target leads; the head of sales owns revenue; a lower-is-better metric (cost per
# lead) slips when it is above plan.
SPEC: dict[str, tuple[str, str, Category]] = {
    "stage_volume": ("higher", "count", Category.SALES),
    "stage_conversion": ("higher", "percent", Category.SALES),
    "revenue": ("higher", "money", Category.MANAGEMENT),
    "gross_margin": ("higher", "money", Category.MANAGEMENT),
    "average_check": ("higher", "money", Category.SALES),
    "leads": ("higher", "count", Category.MARKETING),
    "target_leads": ("higher", "count", Category.MARKETING),
    "target_lead_share": ("higher", "percent", Category.MARKETING),
    "cost_per_lead": ("lower", "money", Category.MARKETING),
    "cost_per_target_lead": ("lower", "money", Category.MARKETING),
    "marketing_spend": ("lower", "money", Category.MARKETING),
    "new_clients": ("higher", "count", Category.SALES),
    "existing_client_revenue": ("higher", "money", Category.SALES),
    "missed_call_rate": ("lower", "percent", Category.SALES),
    "refusal_rate": ("lower", "percent", Category.SALES),
    "overdue_tasks": ("lower", "count", Category.SALES),
    "leads_without_next_task": ("lower", "count", Category.SALES),
    "tasks_without_goal": ("lower", "count", Category.SALES),
}
LOWER_IS_BETTER = frozenset(
    {
        "cost_per_lead",
        "cost_per_target_lead",
        "marketing_spend",
        "missed_call_rate",
        "refusal_rate",
        "overdue_tasks",
        "leads_without_next_task",
        "tasks_without_goal",
    }
)

# The worked example's December plan (DOMAIN 1.1): 420 leads, 252 target leads (60 %), then 63
# scheduled, 50 held, 20 paid; 500 a lead gives 210,000 of budget.
DECEMBER_VALUES: dict[str, Decimal | None] = {
    "leads": D(REQUIRED["Lead"]),
    "target_leads": D(REQUIRED["Target lead"]),
    "target_lead_share": D("0.6"),
    "cost_per_lead": D("500"),
    "cost_per_target_lead": D("833.33"),  # 210,000 / 252 = 833.333… → kopecks
    "marketing_spend": MARKETING_BUDGET,
    "stage_conversion:1": D("0.25"),  # target lead → meeting scheduled
    "stage_volume:2": D(REQUIRED["Meeting scheduled"]),
    "stage_conversion:2": D("0.8"),  # scheduled → held
    "stage_volume:3": D(REQUIRED["Meeting held"]),
    "stage_conversion:3": D("0.4"),  # held → paid
    "stage_volume:4": D(REQUIRED["Paid"]),
    "revenue": D("1000000"),
    "average_check": D("50000"),
    "new_clients": D(DEALS),
    "missed_call_rate": None,  # tracked, no target yet
    "refusal_rate": None,
    "overdue_tasks": D(0),
    "leads_without_next_task": D(0),  # every lead has a next task
    "tasks_without_goal": D(0),
}

# Revenue 2,000,000 by hand: 40 deals → ⌈40 / 0.4⌉ = 100 held → ⌈100 / 0.8⌉ = 125 scheduled →
# ⌈125 / 0.25⌉ = 500 target leads → ⌈500 / 0.6⌉ = 834 leads; 834 × 500 = 417,000 of budget,
# 417,000 / 500 = 834.00 a target lead.
DOUBLED_VALUES: dict[str, Decimal | None] = DECEMBER_VALUES | {
    "leads": D("834"),
    "target_leads": D("500"),
    "cost_per_target_lead": D("834.00"),
    "marketing_spend": D("417000"),
    "stage_volume:2": D("125"),
    "stage_volume:3": D("100"),
    "stage_volume:4": D("40"),
    "revenue": D("2000000"),
    "new_clients": D("40"),
}

COST_METRICS = frozenset({"cost_per_lead", "cost_per_target_lead", "marketing_spend"})

# The December plan's metrics by category, with a farmer in the team.
MARKETING_KEYS = frozenset({"leads", "target_leads", "target_lead_share"} | COST_METRICS)
MANAGEMENT_KEYS = frozenset({"revenue"})
SALES_KEYS = frozenset(
    {
        "stage_conversion:1",
        "stage_volume:2",
        "stage_conversion:2",
        "stage_volume:3",
        "stage_conversion:3",
        "stage_volume:4",
        "average_check",
        "new_clients",
        "existing_client_revenue",
        "missed_call_rate",
        "refusal_rate",
        "overdue_tasks",
        "leads_without_next_task",
        "tasks_without_goal",
    }
)
