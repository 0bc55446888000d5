"""Forms of the plan pages: they read what a person typed (the Russian way too) and turn it into
the keyword arguments of the plan services; they decide nothing about plans."""

from salesplan.plans.forms.plan import PlanForm
from salesplan.plans.forms.what_if import WhatIfForm

__all__ = ["PlanForm", "WhatIfForm"]
