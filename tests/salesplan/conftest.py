"""The December team and plan of the plan-vs-fact tests (tests/salesplan/plan_vs_fact.py), as
fixtures for this directory; a module with its own `plan` or `team` keeps its own."""

from tests.salesplan.plan_vs_fact import plan, team  # noqa: F401
