"""Role KPIs and bonus: writes. The pages and the API call these, with the same validation.

- `scheme_get_or_create`, `schemes_for`: a role's scheme, made with the defaults on first use;
- `scheme_update`: a scheme's KPIs (weights summing to 100 %) and payout curve;
- `base_bonus_set`, `manual_value_set`: a person's base bonus; a KPI's plan and actual typed by
  hand for a month;
- `bonus_recipient_choose`: the salesperson a head of sales' deal's bonus goes to;
- `kpi_figures_refresh`: what the snapshots do not hold (retention, last year's revenue of the
  same month, the given deals' figures), after each recompute of a plan (receivers.py).
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce, Lower, Trim, TruncMonth
from django.http import Http404
from django.utils.translation import gettext

from funnel.models import Payment
from metrics.actuals import local_day_bounds
from salesplan.access import scoped
from salesplan.figures import figures_changed
from salesplan.kpis.bonus import (
    DEFAULT_CURVE,
    DEFAULT_ITEMS,
    KPI_CATALOG,
    MANUAL,
    CurvePoint,
    ItemSpec,
    Problem,
    check_curve,
    check_items,
)
from salesplan.kpis.models import (
    BaseBonus,
    BonusRecipient,
    FigureKey,
    KpiFigure,
    KpiItem,
    KpiScheme,
    ManualKpiValue,
    SchemeRole,
)
from salesplan.kpis.selectors import may_edit_schemes, may_manage_bonuses, month_end
from salesplan.limits import (
    MAX_BASE_BONUS,
    MAX_CURVE_POINTS,
    MAX_CURVE_VALUE,
    MAX_ID,
    MAX_KPI_VALUE,
    MAX_KPIS_PER_SCHEME,
    count_message,
)
from salesplan.models import Membership, Organization, Role, SalesPlan

# --- schemes ----------------------------------------------------------------------------------


def _curve_json(curve: Sequence[CurvePoint]) -> list[dict[str, str]]:
    return [
        {"fulfilment": format(p.fulfilment, "f"), "payout": format(p.payout, "f")} for p in curve
    ]


def scheme_get_or_create(*, organization: Organization, role: str) -> KpiScheme:
    """The organization's scheme for the role, made with the defaults on first use (two
    requests at once make one: the second finds the first's)."""
    found = KpiScheme.objects.filter(organization=organization, role=role).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            scheme = KpiScheme.objects.create(
                organization=organization, role=role, payout_curve=_curve_json(DEFAULT_CURVE)
            )
            KpiItem.objects.bulk_create(
                KpiItem(
                    scheme=scheme,
                    metric=spec.metric,
                    weight=spec.weight,
                    target=spec.target,
                    position=index,
                )
                for index, spec in enumerate(DEFAULT_ITEMS[role])
            )
            return scheme
    except IntegrityError:
        return KpiScheme.objects.get(organization=organization, role=role)


def schemes_for(*, organization: Organization) -> list[KpiScheme]:
    """Every role's scheme of the organization (the defaults made for those never opened), in
    the roles' order, with their items."""
    for role in SchemeRole.values:
        scheme_get_or_create(organization=organization, role=role)
    order = {role: index for index, role in enumerate(SchemeRole.values)}
    schemes = KpiScheme.objects.filter(organization=organization).prefetch_related("items")
    return sorted(schemes, key=lambda scheme: order[scheme.role])


def _raise(problems: list[Problem]) -> None:
    if problems:
        errors: dict[str, list[str]] = defaultdict(list)
        for problem in problems:
            errors[problem.field].append(gettext(problem.message).format(**problem.params))
        raise ValidationError(dict(errors))


def decimal_input(value: Any, field: str, *, limit: Decimal, allow_none: bool = False) -> Decimal:
    """A number a person sent, as a Decimal within ±`limit`; a ValidationError naming the
    field otherwise."""
    if value in (None, "") and allow_none:
        return None  # type: ignore[return-value]
    try:
        number = Decimal(
            str(value).strip().replace(",", ".").replace("\u00a0", "").replace(" ", "")
        )
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationError({field: [gettext("Enter a number.")]})
    if abs(number) > limit:
        raise ValidationError(
            {field: [gettext("At most %(limit)s.") % {"limit": format(limit, ",f")}]}
        )
    return number


def _choose_one() -> str:
    return gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(KPI_CATALOG)}


def parse_items(raw: Any) -> list[ItemSpec]:
    """The API's and the page's items ([{"metric", "weight", "target"}]) as ItemSpecs."""
    if not isinstance(raw, list):
        raise ValidationError({"items": [gettext("Send a list of KPIs.")]})
    if len(raw) > MAX_KPIS_PER_SCHEME:
        raise ValidationError({"items": [count_message(len(raw), MAX_KPIS_PER_SCHEME)]})
    items = []
    for index, entry in enumerate(raw):
        where = f"items[{index}]"
        if not isinstance(entry, dict):
            raise ValidationError({where: [gettext("Send the KPI's metric and weight.")]})
        metric = entry.get("metric")
        if not isinstance(metric, str) or metric not in KPI_CATALOG:
            raise ValidationError(
                {
                    f"{where}.metric": [
                        gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(KPI_CATALOG)}
                    ]
                }
            )
        weight = decimal_input(entry.get("weight"), f"{where}.weight", limit=Decimal(100))
        target = decimal_input(
            entry.get("target"), f"{where}.target", limit=MAX_CURVE_VALUE, allow_none=True
        )
        items.append(ItemSpec(metric, weight.quantize(Decimal("0.01")), target))
    return items


LIMIT = MAX_CURVE_VALUE


def parse_curve(raw: Any) -> list[CurvePoint]:
    if not isinstance(raw, list):
        raise ValidationError({"payout_curve": [gettext("Send a list of points.")]})
    if len(raw) > MAX_CURVE_POINTS:
        raise ValidationError({"payout_curve": [count_message(len(raw), MAX_CURVE_POINTS)]})
    points = []
    for index, entry in enumerate(raw):
        where = f"payout_curve[{index}]"
        if not isinstance(entry, dict):
            raise ValidationError({where: [gettext("Send the point's fulfilment and payout.")]})
        points.append(
            CurvePoint(
                decimal_input(
                    entry.get("fulfilment"), f"{where}.fulfilment", limit=MAX_CURVE_VALUE
                ),
                decimal_input(entry.get("payout"), f"{where}.payout", limit=MAX_CURVE_VALUE),
            )
        )
    return points


class SchemeConflict(Exception):
    """Saved by someone else (another tab, another head of sales) after the version the save
    was based on; `current` is the version now."""

    def __init__(self, current: int) -> None:
        super().__init__(current)
        self.current = current


def scheme_update(
    *,
    scheme: KpiScheme,
    by: Membership,
    items: Sequence[ItemSpec] | None = None,
    curve: Sequence[CurvePoint] | None = None,
    version: int | None = None,
) -> KpiScheme:
    """Replace a scheme's KPIs and/or its payout curve. Weights must add up to 100 %; the
    curve's fulfilment rises point by point and its payout never falls. Owners and heads of
    sales only (403). `version` (the one the person read) refuses a save over someone else's
    with SchemeConflict; each save adds one."""
    if not may_edit_schemes(by) or by.organization_id != scheme.organization_id:
        raise PermissionDenied(gettext("Your role does not allow this action."))
    problems = []
    if items is not None:
        problems += check_items(items)
    if curve is not None:
        problems += check_curve(curve)
    _raise(problems)
    with transaction.atomic():
        scheme = KpiScheme.objects.select_for_update().get(pk=scheme.pk)
        if version is not None and version != scheme.version:
            raise SchemeConflict(scheme.version)
        if items is not None:
            scheme.items.all().delete()
            KpiItem.objects.bulk_create(
                KpiItem(
                    scheme=scheme,
                    metric=item.metric,
                    weight=item.weight,
                    target=item.target if KPI_CATALOG[item.metric].has_target else None,
                    position=index,
                )
                for index, item in enumerate(items)
            )
        if curve is not None:
            scheme.payout_curve = _curve_json(curve)
        scheme.updated_by = by
        scheme.version += 1
        scheme.save(update_fields=["payout_curve", "version", "updated_by", "updated_at"])
        figures_changed(scheme.organization_id)
    return KpiScheme.objects.prefetch_related("items").get(pk=scheme.pk)


# --- a person's base bonus and values typed by hand -------------------------------------------


# The demo's base bonuses by role (monthly, roubles): a scorecard shows money at once.
DEMO_BASE_BONUSES = {
    Role.HEAD_OF_SALES: Decimal(100_000),
    Role.SALESPERSON: Decimal(60_000),
    Role.MARKETER: Decimal(50_000),
}


def demo_base_bonuses(*, organization: Organization) -> int:
    """The demo organization's people get a base bonus by role (DEMO_BASE_BONUSES) unless
    they have one: what its owner would have typed. Returns how many were set."""
    owner = scoped(Membership, organization).filter(role=Role.OWNER, is_active=True).first()
    people = scoped(Membership, organization).filter(
        is_active=True, role__in=list(DEMO_BASE_BONUSES), base_bonus__isnull=True
    )
    added = 0
    for person in people:
        base_bonus_set(member=person, amount=DEMO_BASE_BONUSES[person.role], by=owner)
        added += 1
    return added


def base_bonus_set(*, member: Membership, amount: Any, by: Membership) -> BaseBonus:
    """A person's base bonus (the bonus at 100 % of every KPI) in the organization's currency:
    the owner sets anyone's, a head of sales their teams' members'."""
    if not may_manage_bonuses(by, member):
        raise PermissionDenied(gettext("Your role does not allow this action."))
    value = decimal_input(amount, "amount", limit=MAX_BASE_BONUS)
    if value < 0:
        raise ValidationError({"amount": [gettext("A base bonus is not below 0.")]})
    bonus, _ = BaseBonus.objects.update_or_create(
        member=member,
        defaults={
            "organization": member.organization,
            "amount": value.quantize(Decimal("0.01")),
            "updated_by": by,
        },
    )
    return bonus


def manual_value_set(
    *, member: Membership, period: date, metric: str, plan: Any, actual: Any, by: Membership
) -> ManualKpiValue | None:
    """A KPI's plan and actual typed by hand for a person and a month (a focus product, NPS;
    or the plan of a KPI the sales plan has none for). Both empty: removed."""
    if not may_manage_bonuses(by, member):
        raise PermissionDenied(gettext("Your role does not allow this action."))
    if metric not in KPI_CATALOG:
        raise ValidationError(
            {
                "metric": [
                    gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(KPI_CATALOG)}
                ]
            }
        )
    plan_value = decimal_input(plan, "plan", limit=MAX_KPI_VALUE, allow_none=True)
    actual_value = decimal_input(actual, "actual", limit=MAX_KPI_VALUE, allow_none=True)
    if plan_value is None and actual_value is None:
        ManualKpiValue.objects.filter(member=member, period=period, metric=metric).delete()
        return None
    if KPI_CATALOG[metric].scope != MANUAL and actual_value is not None and plan_value is None:
        raise ValidationError(
            {"plan": [gettext("For a KPI read from the sales plan, type its plan.")]}
        )
    value, _ = ManualKpiValue.objects.update_or_create(
        member=member,
        period=period,
        metric=metric,
        defaults={
            "organization": member.organization,
            "plan": plan_value,
            "actual": actual_value,
            "entered_by": by,
        },
    )
    return value


# --- a head of sales' deal's bonus ------------------------------------------------------------


def head_of_payment(payment: Payment) -> Membership | None:
    """The head of sales a payment is credited to (as the recompute reads it: the payment's
    own credited person, else its lead's responsible), or None: it is a person's deal."""
    for member in (payment.credited_member, payment.lead.responsible):
        if member is not None and member.role == Role.HEAD_OF_SALES:
            return member
    return None


def _payment_day(payment: Payment, organization: Organization) -> date:
    return payment.paid_at.astimezone(ZoneInfo(organization.time_zone)).date()


def _payment_month(payment: Payment, organization: Organization) -> date:
    return _payment_day(payment, organization).replace(day=1)


def payment_for(member: Membership, pk: Any) -> Payment:
    """A payment of the member's organization (404 for another's or none)."""
    try:
        return (
            scoped(Payment, member.organization)
            .select_related("credited_member", "lead__responsible")
            .get(pk=pk)
        )
    except (Payment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found") from exc


def bonus_recipient_choose(
    *, payment: Payment, recipient_id: Any, by: Membership
) -> BonusRecipient:
    """The salesperson a head of sales' deal's bonus goes to (DOMAIN idea 5): the head it is
    credited to chooses (or the owner). Only a head of sales' payment can be given; the
    recipient is an active salesperson of the same organization. Every choice is kept (who,
    when); the latest is current. The deal stays the department's in plan vs fact and counts
    in the recipient's scorecard."""
    organization = by.organization
    head = head_of_payment(payment)
    if head is None:
        raise ValidationError(
            {
                "payment": [
                    gettext(
                        "This deal is not a head of sales' deal: its bonus is already its "
                        "salesperson's."
                    )
                ]
            }
        )
    if by.role != Role.OWNER and by.pk != head.pk:
        raise PermissionDenied(gettext("Only the head of sales whose deal it is, or the owner."))
    recipient = None
    if isinstance(recipient_id, int | str) and not isinstance(recipient_id, bool):
        text = str(recipient_id).strip()
        if text.isdigit() and int(text) <= MAX_ID:
            recipient = scoped(Membership, organization).filter(pk=int(text)).first()
    if recipient is None or recipient.role != Role.SALESPERSON or not recipient.is_active:
        raise ValidationError(
            {"recipient": [gettext("Choose an active salesperson of your organization.")]}
        )
    with transaction.atomic():
        # One current choice per payment: the row lock orders two choices made at once.
        Payment.objects.select_for_update().filter(pk=payment.pk).first()
        BonusRecipient.objects.filter(payment=payment, is_current=True).update(is_current=False)
        choice = BonusRecipient.objects.create(
            organization=organization,
            payment=payment,
            head=head,
            recipient=recipient,
            chosen_by=by,
            is_current=True,
            period=_payment_month(payment, organization),
            paid_on=_payment_day(payment, organization),
            amount=payment.amount,
            gross_margin=payment.gross_margin,
            is_new_client=payment.is_new_client,
        )
        figures_changed(organization.pk)
    return choice


# --- the figures job --------------------------------------------------------------------------


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _months_of(plan: SalesPlan) -> list[date]:
    months, month = [], plan.period_start.replace(day=1)
    while month <= plan.period_end:
        months.append(month)
        month = _next_month(month)
    return months


def _shift_year(month: date, years: int) -> date:
    return month.replace(year=month.year + years)


def _previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def _upsert_figure(
    organization: Organization,
    member_id: int | None,
    period: date,
    key: str,
    value: Decimal | None,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
) -> None:
    KpiFigure.objects.update_or_create(
        organization=organization,
        member_id=member_id,
        period=period,
        key=key,
        defaults={"value": value, "numerator": numerator, "denominator": denominator},
    )


def kpi_figures_refresh(*, plan: SalesPlan) -> int:
    """For each month of the plan: last year's revenue of the same month (the department's,
    the plan's funnel), each salesperson's retention (the share of the clients — companies —
    they were credited with last month who paid again this month), and the given deals'
    figures as the payments hold them now. Aggregate queries; returns the figures written.
    Idempotent: a rerun writes the same rows."""
    organization = plan.organization
    zone = ZoneInfo(organization.time_zone)
    heads = list(
        scoped(Membership, organization)
        .filter(role=Role.HEAD_OF_SALES)
        .values_list("id", flat=True)
    )
    payments = scoped(Payment, organization).filter(lead__funnel_id=plan.funnel_id)
    written = 0
    for month in _months_of(plan):
        # Last year's revenue of the same month.
        last_year = _shift_year(month, -1)
        since, until = local_day_bounds(last_year, month_end(last_year), zone)
        revenue = payments.filter(paid_at__gte=since, paid_at__lt=until).aggregate(
            total=Sum("amount")
        )["total"] or Decimal(0)
        _upsert_figure(organization, None, month, FigureKey.LAST_YEAR_REVENUE, revenue)
        written += 1

        # Retention: last month's clients of each person who bought again this month.
        previous = _previous_month(month)
        since, until = local_day_bounds(previous, month_end(month), zone)
        rows = (
            payments.filter(paid_at__gte=since, paid_at__lt=until)
            .exclude(lead__company="")
            .exclude(Q(lead__responsible_id__in=heads) | Q(credited_member_id__in=heads))
            .annotate(
                person=Coalesce("credited_member_id", "lead__responsible_id"),
                client=Lower(Trim("lead__company")),
                month=TruncMonth("paid_at", tzinfo=zone),
            )
            .values_list("person", "client", "month")
            .distinct()
        )
        before: dict[int, set[str]] = defaultdict(set)
        bought_now: set[str] = set()
        for person, client, paid_month in rows:
            if paid_month.date() == previous and person is not None:
                before[person].add(client)
            elif paid_month.date() == month:
                bought_now.add(client)
        # One delete and one insert per month, whatever the number of people.
        people = scoped(Membership, organization).filter(role=Role.SALESPERSON)
        figures = []
        for person in people.values_list("id", flat=True).order_by("id"):
            clients = before.get(person, set())
            again = len(clients & bought_now)
            share = (
                (Decimal(again) / len(clients)).quantize(Decimal("0.000001")) if clients else None
            )
            figures.append(
                KpiFigure(
                    organization=organization,
                    member_id=person,
                    period=month,
                    key=FigureKey.RETENTION,
                    value=share,
                    numerator=Decimal(again),
                    denominator=Decimal(len(clients)),
                )
            )
        KpiFigure.objects.filter(
            organization=organization, period=month, key=FigureKey.RETENTION
        ).delete()
        KpiFigure.objects.bulk_create(figures)
        written += len(figures)

    # The given deals of the plan's months as their payments are now.
    start, end = plan.period_start.replace(day=1), plan.period_end
    given = BonusRecipient.objects.filter(
        organization=organization, is_current=True, period__gte=start, period__lte=end
    ).select_related("payment")
    for choice in given:
        payment = choice.payment
        day = _payment_day(payment, organization)
        now = (day.replace(day=1), day, payment.amount, payment.gross_margin, payment.is_new_client)
        kept = (choice.period, choice.paid_on, choice.amount, choice.gross_margin)
        if (*kept, choice.is_new_client) != now:
            (
                choice.period,
                choice.paid_on,
                choice.amount,
                choice.gross_margin,
                choice.is_new_client,
            ) = now
            choice.save(
                update_fields=["period", "paid_on", "amount", "gross_margin", "is_new_client"]
            )
    figures_changed(organization.pk)
    return written
