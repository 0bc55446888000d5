"""What a draft plan must pass before the engine sees it: the funnel, the team and the products
are the organization's; only salespeople carry shares (DOMAIN idea 5: the head of sales has no
personal plan); a team's plan is split among that team's salespeople only."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from funnel.models import Funnel
from salesplan.models import Organization, Role, Team
from salesplan.plans.snapshot import MixItem, TeamShare


def check_draft(
    *,
    organization: Organization,
    funnel: Funnel,
    sales_team: Team | None,
    team: Sequence[TeamShare],
    mix: Sequence[MixItem],
) -> None:
    """Raise ValidationError keyed by field ("team[0].membership") for every problem."""
    errors: dict[str, list[str]] = {}
    if funnel.organization_id != organization.pk:
        errors["funnel"] = [_("This funnel is not in your organization.")]
    if sales_team is not None and sales_team.organization_id != organization.pk:
        errors["sales_team"] = [_("This team is not in your organization.")]
    for index, item in enumerate(team):
        member, key = item.membership, f"team[{index}].membership"
        if member.organization_id != organization.pk or not member.is_active:
            errors[key] = [_("This person is not in your organization.")]
        elif member.role == Role.HEAD_OF_SALES:
            errors[key] = [
                _(
                    "The head of sales has no personal sales plan: their goal is the "
                    "department plan. Credit their deals to a salesperson instead."
                )
            ]
        elif member.role != Role.SALESPERSON:
            errors[key] = [_("Only salespeople carry a share of the plan.")]
        elif sales_team is not None and member.team_id != sales_team.pk:
            errors[key] = [
                _(
                    "%(person)s is not in the team %(team)s: a team's plan is split among "
                    "that team's salespeople only."
                )
                % {"person": member.display_name, "team": sales_team.name}
            ]
    for index, item in enumerate(mix):
        if item.product.organization_id != organization.pk:
            errors[f"product_mix[{index}].product"] = [
                _("This product is not in your organization.")
            ]
    if errors:
        raise ValidationError(errors)
