from typing import Any

from django.core.management.base import BaseCommand

from salesplan.models import SalesPlan
from salesplan.plans import demo
from salesplan.plans.performance import plan_performance_refresh
from salesplan.signals import demo_seeded


class Command(BaseCommand):
    help = "Create or refresh the demo organization from the Maven CRM data set (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        organization, logins = demo.seed_people()
        actuals = demo.seed_actuals(organization)
        plan = demo.seed_plan(organization)
        # Plan vs fact at once (the job would compute it within minutes): the demo opens on it.
        rows = plan_performance_refresh(plan_id=plan.pk, full=True)
        demo_seeded.send(sender=SalesPlan, organization=organization)
        self.stdout.write(self.style.SUCCESS(f"Demo organization: {organization.name}"))
        self.stdout.write(f"Demo plan: {plan.name} (/plans/{plan.pk}/), plan vs fact: {rows} rows")
        self.stdout.write(
            f"Maven CRM pipeline imported: {actuals['status']}, {actuals['counts']}, "
            f"{actuals['errors']} rows reported"
        )
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.role:<22} {login.name:<22} {login.email}")
