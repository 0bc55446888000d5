"""factory_boy factories. Funnels and plans are made through their services (as a user's
save would: a plan gets its versions, metrics and default pie); actuals are plain rows."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model

from funnel.models import Funnel, Lead, Payment, Source
from funnel.services.funnels import funnel_create
from salesplan.models import Membership, Organization, Role, SalesPlan, Team
from salesplan.plans.services import MixItem, TeamShare, plan_create
from tests.worked_example import DECEMBER_FIELDS, SERVICE_STAGES

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    username = factory.Sequence(lambda n: f"person{n}@example.com")
    email = factory.SelfAttribute("username")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Company {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER
    salesperson_kind = factory.LazyAttribute(
        lambda o: "hunter" if o.role == Role.SALESPERSON else ""
    )


class FunnelFactory(factory.django.DjangoModelFactory):
    """A funnel with the worked example's stages (or `stages=[...]` as the service takes)."""

    class Meta:
        model = Funnel

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Funnel {n}")
    stages = factory.LazyFunction(lambda: [dict(stage) for stage in SERVICE_STAGES])

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Funnel:
        return funnel_create(**kwargs)


class PlanFactory(factory.django.DjangoModelFactory):
    """The worked example's December plan, saved through plan_create. `team` takes
    (membership, share) pairs; `product_mix` (product, share) pairs."""

    class Meta:
        model = SalesPlan

    organization = factory.SubFactory(OrganizationFactory)
    funnel = factory.SubFactory(FunnelFactory, organization=factory.SelfAttribute("..organization"))
    name = DECEMBER_FIELDS["name"]
    period_kind = DECEMBER_FIELDS["period_kind"]
    period_start = DECEMBER_FIELDS["period_start"]
    period_end = DECEMBER_FIELDS["period_end"]
    revenue_target = DECEMBER_FIELDS["revenue_target"]
    average_check = DECEMBER_FIELDS["average_check"]
    cost_per_lead = DECEMBER_FIELDS["cost_per_lead"]
    status = DECEMBER_FIELDS["status"]
    team: Any = ()
    product_mix: Any = ()

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> SalesPlan:
        team = [TeamShare(member, Decimal(str(share))) for member, share in kwargs.pop("team")]
        mix = [
            MixItem(product, Decimal(str(share))) for product, share in kwargs.pop("product_mix")
        ]
        return plan_create(user=None, team=team, product_mix=mix, **kwargs)


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead as a CRM would send it (no stage events: load actuals through the loader when
    the stages matter)."""

    class Meta:
        model = Lead

    funnel = factory.SubFactory(FunnelFactory)
    organization = factory.SelfAttribute("funnel.organization")
    source = Source.API
    external_id = factory.Sequence(lambda n: f"L{n}")
    name = factory.LazyAttribute(lambda o: f"Deal {o.external_id}")
    created_at = factory.LazyFunction(lambda: datetime(2026, 12, 1, 9, tzinfo=UTC))


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    lead = factory.SubFactory(LeadFactory)
    organization = factory.SelfAttribute("lead.organization")
    source = factory.SelfAttribute("lead.source")
    external_id = factory.SelfAttribute("lead.external_id")
    amount = Decimal("50000")
    paid_at = factory.LazyFunction(lambda: datetime(2026, 12, 15, 12, tzinfo=UTC))
