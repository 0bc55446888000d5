"""Client base: the reads for the page and the API. Each reads what the recompute stored
(companies, rates, warnings, the summary), scoped to the member's organization; none reads the
leads. Who sees what: everyone the "do not touch" list (it protects a salesperson too); a
salesperson their own refusal rates and the warnings on their own contacts; the other roles
all of them."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from salesplan.access import get_scoped_or_404, scoped, sees_only_own_leads
from salesplan.clientbase import burn
from salesplan.clientbase.models import (
    BaseSummary,
    Company,
    CoolingContact,
    RateKind,
    RefusalRate,
)
from salesplan.limits import MAX_COMPANY_SEARCH_CHARS
from salesplan.models import Membership, Organization

# The months the page's table and chart show (the API gives up to RATE_MONTHS_API).
RATE_MONTHS_PAGE = 6
RATE_MONTHS_API = 12


def today_of(organization: Organization) -> date:
    """The organization's local today: a company may be contacted again from its own day on."""
    return timezone.localdate(timezone=ZoneInfo(organization.time_zone))


def summary_of(organization: Organization) -> BaseSummary | None:
    """The last recompute's totals and runway; None before the first one."""
    return BaseSummary.objects.filter(organization=organization).select_related("plan").first()


def clean_search(value: Any) -> str:
    """The list's search as typed, trimmed; ValidationError (field `search`) when too long."""
    text = " ".join(str(value or "").split())
    if len(text) > MAX_COMPANY_SEARCH_CHARS:
        raise ValidationError(
            {
                "search": [
                    gettext("Search for at most %(limit)s characters.")
                    % {"limit": MAX_COMPANY_SEARCH_CHARS}
                ]
            }
        )
    if "\x00" in text:
        raise ValidationError(
            {"search": [gettext("The search holds characters that are not text.")]}
        )
    return text


def do_not_touch(*, organization: Organization, today: date, search: str = "") -> QuerySet[Company]:
    """Cooling companies whose day to be contacted again is still ahead, the soonest first;
    `search` finds a company by its name as written or normalized («ООО "Ромашка"» by
    "ромашка")."""
    companies = scoped(Company, organization).filter(
        state=burn.State.COOLING.value, contact_again_on__gt=today
    )
    if search:
        match = Q(name__icontains=search)
        key = burn.company_key(search)
        if key:
            match |= Q(key__contains=key)
        companies = companies.filter(match)
    return companies.select_related("refused_by__user").order_by("contact_again_on", "name", "id")


# The lost reasons the rules page lists as a reminder of how the CRM writes them.
REASONS_ON_RULES_PAGE = 30


def lost_reasons(*, organization: Organization) -> list[dict[str, Any]]:
    """The lost reasons of the companies' latest refusals, the most frequent first, with how
    many companies each holds (read from the stored companies, not the leads)."""
    return list(
        scoped(Company, organization)
        .exclude(lost_reason="")
        .values("lost_reason")
        .annotate(companies=Count("id"))
        .order_by("-companies", "lost_reason")[:REASONS_ON_RULES_PAGE]
    )


def company_for(*, member: Membership, pk: Any) -> Company:
    """One company of the member's organization (another organization's: 404)."""
    return get_scoped_or_404(
        Company.objects.select_related("refused_by__user"), member.organization, pk=pk
    )


def cooling_warnings(*, member: Membership) -> QuerySet[CoolingContact]:
    """Contacts with cooling companies, newest first: a salesperson's own, everyone else's all."""
    warnings = scoped(CoolingContact, member.organization)
    if sees_only_own_leads(member):
        warnings = warnings.filter(member=member)
    return warnings.select_related("company", "member__user", "lead").order_by("-at", "-id")


def rate_rows(*, member: Membership, since: date) -> QuerySet[RefusalRate]:
    """The stored refusal rates from `since` (a month's first day): a salesperson their own
    row only; everyone else the department's, each salesperson's and each segment's."""
    rows = scoped(RefusalRate, member.organization).filter(month__gte=since)
    if sees_only_own_leads(member):
        rows = rows.filter(kind=RateKind.MEMBER, member=member)
    return rows.select_related("member__user").order_by("kind", "name", "member_id", "month")


@dataclass(frozen=True)
class RateCell:
    won: int
    lost: int

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def rate(self) -> Decimal | None:
        return burn.refusal_rate(self.lost, self.won)


@dataclass(frozen=True)
class RateLine:
    kind: str
    label: str
    member_id: int | None
    cells: tuple[RateCell | None, ...]  # one per month of the table, None: nothing closed


def rate_label(row: RefusalRate) -> str:
    if row.kind == RateKind.DEPARTMENT:
        return gettext("Department")
    if row.kind == RateKind.MEMBER:
        if row.member is not None:
            return row.member.display_name
        return row.name or gettext("Not assigned")
    return row.name or gettext("No channel")


def rate_table(*, member: Membership, today: date, months: int) -> dict[str, Any]:
    """The last `months` local months (the current one last) × the department, each
    salesperson and each segment: won, lost and the refusal rate of each month."""
    current = burn.month_of(today)
    columns = [burn.months_back(current, back) for back in range(months - 1, -1, -1)]
    lines: dict[tuple[str, int | None, str], dict[date, RateCell]] = {}
    labels: dict[tuple[str, int | None, str], str] = {}
    for row in rate_rows(member=member, since=columns[0]):
        if row.month > current:
            continue
        key = (row.kind, row.member_id, row.name)
        labels[key] = rate_label(row)
        lines.setdefault(key, {})[row.month] = RateCell(row.won, row.lost)
    order = {RateKind.DEPARTMENT: 0, RateKind.MEMBER: 1, RateKind.SEGMENT: 2}
    result = [
        RateLine(
            kind=key[0],
            label=labels[key],
            member_id=key[1],
            cells=tuple(cells.get(month) for month in columns),
        )
        for key, cells in lines.items()
    ]
    result.sort(key=lambda line: (order[RateKind(line.kind)], line.label.casefold()))
    return {"months": columns, "lines": result}
