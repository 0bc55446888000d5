"""Role KPIs and bonus: the pages.

- `/kpi/` (`scorecard`): a person's KPIs and bonus for a month (`?member=`, `?period=YYYY-MM`;
  default: yourself, this month). On a head of sales' scorecard, their deals of the month with
  the salesperson each one's bonus goes to; for the people a manager sets bonuses for, the KPI
  values typed by hand.
- `/kpi/schemes/` (`kpi_schemes`, owners and heads of sales): each role's KPIs, weights,
  targets and payout curve, with their warnings; the base bonuses.

The forms call the services the API calls (salesplan.kpis.services).
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from funnel.models import Payment
from funnel.selectors import payments_of
from metrics.actuals import local_day_bounds
from salesplan.access import require_membership, scoped
from salesplan.errors import error_dict
from salesplan.kpis import selectors, services
from salesplan.kpis.bonus import KPI_CATALOG, KPI_METRICS
from salesplan.kpis.models import BonusRecipient, KpiScheme
from salesplan.kpis.presentation import NOTES, kpi_label, scheme_data
from salesplan.limits import MAX_CURVE_POINTS, MAX_CURVE_VALUE, MAX_KPIS_PER_SCHEME
from salesplan.models import Membership, Role

# A head of sales' deals listed on their scorecard: a head sells a little (seed 003); more
# than this in a month is a list for the API, not a page.
HEAD_DEALS_SHOWN = 100


def _period(request: HttpRequest, member: Membership) -> date:
    try:
        return selectors.parse_period(
            request.GET.get("period") or request.POST.get("period"),
            default=selectors.this_month(member),
        )
    except ValueError as exc:
        raise BadRequest(_("Period: send the month as YYYY-MM, e.g. 2026-12.")) from exc


def _scorecard_url(member_id: int, period: date) -> str:
    return f"{reverse('scorecard')}?member={member_id}&period={period:%Y-%m}"


@dataclass
class HeadDeal:
    payment: Payment
    recipient_id: int | None
    recipient_name: str


def _head_deals(head: Membership, period: date) -> list[HeadDeal]:
    """The head of sales' deals paid in the month (credited to them, or of a lead they are
    responsible for), with the salesperson each one's bonus goes to now."""
    zone = ZoneInfo(head.organization.time_zone)
    since, until = local_day_bounds(period, selectors.month_end(period), zone)
    payments = list(
        scoped(Payment, head.organization)
        .filter(paid_at__gte=since, paid_at__lt=until)
        .filter(payments_of(head.pk))
        .select_related("lead")
        .order_by("paid_at", "id")[:HEAD_DEALS_SHOWN]
    )
    current = {
        row.payment_id: row
        for row in BonusRecipient.objects.filter(
            payment__in=[p.pk for p in payments], is_current=True
        ).select_related("recipient__user")
    }
    return [
        HeadDeal(
            payment=p,
            recipient_id=current[p.pk].recipient_id if p.pk in current else None,
            recipient_name=current[p.pk].recipient.display_name if p.pk in current else "",
        )
        for p in payments
    ]


def scorecard(request: HttpRequest) -> HttpResponse:
    viewer = require_membership(request)
    member = selectors.access_scorecard_member(viewer, request.GET.get("member") or viewer.pk)
    period = _period(request, viewer)
    card = selectors.member_scorecard(member, period)
    people = list(selectors.scorecard_members(viewer).filter(is_active=True))
    head_deals: list[HeadDeal] = []
    salespeople: list[Membership] = []
    if member.role == Role.HEAD_OF_SALES and (viewer.pk == member.pk or viewer.role == Role.OWNER):
        head_deals = _head_deals(member, period)
        salespeople = list(
            scoped(Membership, viewer.organization)
            .filter(role=Role.SALESPERSON, is_active=True)
            .select_related("user")
        )
    lines = [
        {
            "line": line,
            "name": kpi_label(line.metric),
            "unit": KPI_CATALOG[line.metric].unit,
            "note": NOTES[card.notes[line.metric]] if line.metric in card.notes else "",
        }
        for line in card.score.lines
    ]
    context = {
        "card": card,
        "lines": lines,
        "member": member,
        "people": people,
        "period_text": f"{period:%Y-%m}",
        "head_deals": head_deals,
        "salespeople": salespeople,
        "may_manage": selectors.may_manage_bonuses(viewer, member),
        "manual_metrics": [(m.code, kpi_label(m.code)) for m in KPI_METRICS],
    }
    return render(request, "kpis/scorecard.html", context)


@require_POST
def bonus_recipient(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = require_membership(request)
    payment = services.payment_for(viewer, pk)
    period = _period(request, viewer)
    head = services.head_of_payment(payment)
    try:
        services.bonus_recipient_choose(
            payment=payment, recipient_id=request.POST.get("recipient", ""), by=viewer
        )
    except ValidationError as error:
        for texts in error_dict(error).values():
            for text in texts:
                messages.error(request, text)
    else:
        messages.success(request, _("The deal's bonus goes to the chosen salesperson."))
    return redirect(_scorecard_url(head.pk if head else viewer.pk, period))


@require_POST
def manual_value(request: HttpRequest, member_pk: int) -> HttpResponse:
    viewer = require_membership(request)
    member = selectors.access_scorecard_member(viewer, member_pk)
    period = _period(request, viewer)
    try:
        services.manual_value_set(
            member=member,
            period=period,
            metric=request.POST.get("metric", ""),
            plan=request.POST.get("plan"),
            actual=request.POST.get("actual"),
            by=viewer,
        )
    except ValidationError as error:
        for field, texts in error_dict(error).items():
            for text in texts:
                messages.error(request, _on_page(field, text))
    else:
        messages.success(request, _("Saved."))
    return redirect(_scorecard_url(member.pk, period))


# --- the schemes page -------------------------------------------------------------------------


def _percent(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format((value * 100).normalize(), "f")


def _scheme_form(scheme: KpiScheme, posted: Any = None) -> dict[str, Any]:
    """The rows the form shows: the scheme's KPIs (or what was posted) and blank ones up to
    the limit; the curve's points in %."""
    if posted is not None:
        rows = [
            {
                "metric": posted.get(f"metric_{i}", ""),
                "weight": posted.get(f"weight_{i}", ""),
                "target": posted.get(f"target_{i}", ""),
            }
            for i in range(MAX_KPIS_PER_SCHEME)
        ]
        points = [
            {
                "fulfilment": posted.get(f"curve_f_{i}", ""),
                "payout": posted.get(f"curve_p_{i}", ""),
            }
            for i in range(MAX_CURVE_POINTS)
        ]
    else:
        rows = [
            {
                "metric": item.metric,
                "weight": format(item.weight.normalize(), "f"),
                "target": _percent(item.target),
            }
            for item in scheme.items.all()
        ]
        rows += [{"metric": "", "weight": "", "target": ""}] * max(
            0, min(MAX_KPIS_PER_SCHEME, len(rows) + 2) - len(rows)
        )
        points = [
            {"fulfilment": _percent(p.fulfilment), "payout": _percent(p.payout)}
            for p in selectors.curve_of(scheme)
        ]
        points += [{"fulfilment": "", "payout": ""}] * max(
            0, min(MAX_CURVE_POINTS, len(points) + 1) - len(points)
        )
    return {"rows": list(enumerate(rows)), "points": list(enumerate(points))}


def _share(value: str, field: str) -> str:
    """A % a person typed as a share (the services' unit)."""
    number = services.decimal_input(value, field, limit=MAX_CURVE_VALUE * 100)
    return format(number / 100, "f")


_ROW = re.compile(r"(items|payout_curve)\[(\d+)\](?:\.\w+)?")


def _on_page(field: str, text: str) -> str:
    """A service's error as the page shows it: the row it is about in words, never the API's
    field code ("items[0].weight")."""
    row = _ROW.fullmatch(field)
    if row:
        what = _("KPI %(n)s") if row[1] == "items" else _("Curve point %(n)s")
        return f"{what % {'n': int(row[2]) + 1}}: {text}"
    labels = {"plan": _("Plan"), "actual": _("Actual"), "metric": _("KPI")}
    return f"{labels[field]}: {text}" if field in labels else text


def _posted_total(items: list[dict[str, Any]]) -> Decimal:
    """The weights typed in a refused form, summed as far as they are numbers."""
    total = Decimal(0)
    for item in items:
        try:
            total += Decimal(str(item["weight"]).replace(",", ".").replace(" ", "").strip())
        except (ArithmeticError, ValueError):
            continue
    return total


def _posted_version(text: str) -> int | None:
    """The scheme's version the form was rendered with (None: a form without one)."""
    return int(text) if text.strip().isdigit() and len(text.strip()) < 10 else None


def _posted_scheme(post: Any) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    items, curve = [], []
    for i in range(MAX_KPIS_PER_SCHEME):
        metric = post.get(f"metric_{i}", "")
        if not metric:
            continue
        target = post.get(f"target_{i}", "")
        where = f"items[{len(items)}]"
        items.append(
            {
                "metric": metric,
                "weight": post.get(f"weight_{i}", ""),
                "target": _share(target, f"{where}.target") if target.strip() else None,
            }
        )
    for i in range(MAX_CURVE_POINTS):
        fulfilment, paid = post.get(f"curve_f_{i}", ""), post.get(f"curve_p_{i}", "")
        if not fulfilment.strip() and not paid.strip():
            continue
        where = f"payout_curve[{len(curve)}]"
        curve.append(
            {
                "fulfilment": _share(fulfilment, f"{where}.fulfilment"),
                "payout": _share(paid, f"{where}.payout"),
            }
        )
    return items, curve


def kpi_schemes(request: HttpRequest) -> HttpResponse:
    viewer = require_membership(request, selectors.may_edit_schemes)
    schemes = services.schemes_for(organization=viewer.organization)
    errors: dict[int, list[str]] = {}
    posted_for: int | None = None
    status = 200
    if request.method == "POST":
        scheme_id = request.POST.get("scheme", "")
        scheme = next((s for s in schemes if str(s.pk) == scheme_id), None)
        if scheme is None:
            raise BadRequest(_("Choose one of the schemes on the page."))
        items = []
        try:
            items, curve = _posted_scheme(request.POST)
            services.scheme_update(
                scheme=scheme,
                by=viewer,
                items=services.parse_items(items),
                curve=services.parse_curve(curve),
                version=_posted_version(request.POST.get("version", "")),
            )
        except services.SchemeConflict:
            messages.error(
                request,
                _(
                    "Someone saved this scheme after you opened it: nothing was changed. "
                    "Here it is as it is now."
                ),
            )
            return redirect("kpi_schemes")
        except ValidationError as error:
            errors[scheme.pk] = [
                _on_page(field, text)
                for field, texts in error_dict(error).items()
                for text in texts
            ]
            posted_for = scheme.pk
            status = 400
        else:
            messages.success(request, _("The scheme is saved."))
            return redirect("kpi_schemes")
    cards = [
        {
            "scheme": scheme,
            "data": scheme_data(scheme),
            "form": _scheme_form(scheme, request.POST if scheme.pk == posted_for else None),
            "errors": errors.get(scheme.pk, []),
            "total": _posted_total(items)
            if scheme.pk == posted_for
            else sum((item.weight for item in scheme.items.all()), Decimal(0)),
        }
        for scheme in schemes
    ]
    context = {
        "cards": cards,
        "metrics": [(m.code, kpi_label(m.code), m.has_target) for m in KPI_METRICS],
        "people": list(selectors.bonus_managed_members(viewer)),
    }
    return render(request, "kpis/schemes.html", context, status=status)


@require_POST
def base_bonus(request: HttpRequest, member_pk: int) -> HttpResponse:
    viewer = require_membership(request, selectors.may_edit_schemes)
    member = selectors.access_scorecard_member(viewer, member_pk)
    try:
        services.base_bonus_set(member=member, amount=request.POST.get("amount"), by=viewer)
    except ValidationError as error:
        for texts in error_dict(error).values():
            for text in texts:
                messages.error(request, f"{member.display_name}: {text}")
    else:
        messages.success(request, _("The base bonus is saved."))
    return redirect(f"{reverse('kpi_schemes')}#bonuses")
