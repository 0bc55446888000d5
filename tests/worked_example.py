"""The worked example of DOMAIN section 1 (check it by hand): 1,000,000 ₽ at 50,000 ₽ a deal
→ 20 paid deals; meeting held → paid 40 % → 50 meetings held; scheduled → held 80 % → 63
scheduled; target lead → scheduled 25 % → 252 target leads; lead → target lead 60 % → 420
leads; at 500 ₽ a lead the marketing budget is 210,000 ₽. Every test package shares it."""

from datetime import date
from decimal import Decimal

# As the API takes them.
WORKED_STAGES = [
    {"name": "Lead", "conversion": "0.6"},
    {"name": "Target lead", "conversion": "0.25"},
    {"name": "Meeting scheduled", "conversion": "0.8"},
    {"name": "Meeting held", "conversion": "0.4", "is_key_stage": True},
    {"name": "Paid"},
]
DECEMBER = {
    "revenue_target": "1000000",
    "average_check": "50000",
    "period_start": "2026-12-01",
    "period_end": "2026-12-31",
    "cost_per_lead": "500",
}

# As the services take them.
SERVICE_STAGES = [
    {**stage, "conversion": Decimal(stage["conversion"]) if "conversion" in stage else None}
    for stage in WORKED_STAGES
]
DECEMBER_FIELDS = {
    "name": "December",
    "period_kind": "month",
    "period_start": date(2026, 12, 1),
    "period_end": date(2026, 12, 31),
    "revenue_target": Decimal("1000000"),
    "average_check": Decimal("50000"),
    "cost_per_lead": Decimal("500"),
    "status": "draft",
}

# What the example gives, worked out by hand (not by the code under test).
REQUIRED = {
    "Lead": 420,
    "Target lead": 252,
    "Meeting scheduled": 63,
    "Meeting held": 50,
    "Paid": 20,
}
DEALS = 20
MARKETING_BUDGET = Decimal("210000")
