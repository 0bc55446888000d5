"""Weekly reviews: who may read whose, a review as shown (each function's tick, note,
suggestion and its evidence in the reader's language), its history and the owner's summary
"manages or sells". Reads stored rows, and the prefill of the current week (or of a week
nobody has reviewed) computed by reviews.prefill: a few indexed queries over one head and one
week, never the actuals at volume."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext, ngettext

from salesplan.access import scoped
from salesplan.formatting import format_money
from salesplan.limits import MAX_ID
from salesplan.models import Membership, Role
from salesplan.reviews import prefill as prefills
from salesplan.reviews.checklist import FUNCTIONS
from salesplan.reviews.models import ReviewChange, WeeklyReview
from salesplan.reviews.weeks import Week, current_week

# The owner's summary and the history grid look at this many weeks back (the current one
# included): two months, enough to tell a habit from a bad week.
SUMMARY_WEEKS = 8
# A head who ticks at least this share of the functions is managing (the seeds: a head of
# sales plans, organises, trains, controls and motivates; selling is one of eleven).
MANAGES_SHARE = Decimal("0.5")

# --- who may read and tick whose review ----------------------------------------------------

READERS = frozenset({Role.OWNER, Role.HEAD_OF_SALES})


def may_read_reviews(member: Membership | None) -> bool:
    """Weekly reviews are the owner's and the heads of sales' (the menu's MANAGERS)."""
    return member is not None and member.role in READERS


def heads_of(member: Membership) -> list[Membership]:
    """The heads of sales whose reviews the member reads: all of them for the owner, their
    own for a head of sales."""
    if member.role == Role.HEAD_OF_SALES:
        return [member]
    if member.role != Role.OWNER:
        return []
    return list(
        scoped(Membership, member.organization)
        .filter(role=Role.HEAD_OF_SALES, is_active=True)
        .select_related("organization", "user")
        .order_by("user__first_name", "user__last_name", "id")
    )


def access_head(member: Membership, head_id: Any, *, edit: bool = False) -> Membership:
    """The head of sales whose review `member` asks for (None: their own). 403 for a role
    that reads no reviews, for a head asking for another head's, and for anyone but the head
    writing; 404 for no such head of sales in the member's organization."""
    if not may_read_reviews(member):
        raise PermissionDenied(gettext("Only the owner and heads of sales read weekly reviews."))
    if head_id in (None, ""):
        if member.role != Role.HEAD_OF_SALES:
            raise ValidationError(
                {"head": gettext("Name the head of sales (their member id).")}, code="required"
            )
        head = member
    else:
        try:
            pk = int(head_id)
        except (TypeError, ValueError):
            pk = -1
        if not 0 < pk <= MAX_ID:
            raise Http404("No such head of sales")
        head = (
            scoped(Membership, member.organization)
            .filter(pk=pk, role=Role.HEAD_OF_SALES)
            .select_related("organization", "user")
            .first()
        )
        if head is None:
            raise Http404("No such head of sales")
    if edit and head.pk != member.pk:
        raise PermissionDenied(gettext("Only the head of sales ticks their own weekly review."))
    if member.role == Role.HEAD_OF_SALES and head.pk != member.pk:
        raise PermissionDenied(gettext("A head of sales reads only their own weekly review."))
    return head


# --- a review as shown ------------------------------------------------------------------------


def evidence_text(evidence: dict[str, Any] | None, currency: str) -> str:
    """The prefill's evidence in the active language."""
    if not evidence:
        return ""
    code = evidence.get("code")
    count = int(evidence.get("count", 0))
    if code == "plan_versions":
        days = ", ".join(
            date_format(date.fromisoformat(day), "d.m") for day in evidence.get("days", [])
        )
        return ngettext(
            "%(count)d plan version saved on %(days)s",
            "%(count)d plan versions saved on %(days)s",
            count,
        ) % {"count": count, "days": days}
    if code == "no_plan_versions":
        return gettext("No plan saved this week.")
    if code == "notifications_read":
        text = ngettext(
            "%(count)d notification about slips read in the inbox",
            "%(count)d notifications about slips read in the inbox",
            count,
        ) % {"count": count}
        unread = int(evidence.get("unread", 0))
        if unread:
            text += "; " + ngettext("%(count)d still unread", "%(count)d still unread", unread) % {
                "count": unread
            }
        return text
    if code == "notifications_unread":
        return ngettext(
            "%(count)d notification about slips left unread",
            "%(count)d notifications about slips left unread",
            count,
        ) % {"count": count}
    if code == "no_notifications":
        return gettext("No notifications about slips this week.")
    if code == "to_control":
        parts = []
        slips, overdue = int(evidence.get("slips", 0)), int(evidence.get("overdue", 0))
        if slips:
            parts.append(
                ngettext(
                    "%(count)d slip open in your plans",
                    "%(count)d slips open in your plans",
                    slips,
                )
                % {"count": slips}
            )
        if overdue:
            day = date_format(date.fromisoformat(evidence["day"]), "d.m")
            parts.append(
                ngettext(
                    "%(count)d overdue task in your team on %(day)s",
                    "%(count)d overdue tasks in your team on %(day)s",
                    overdue,
                )
                % {"count": overdue, "day": day}
            )
        return gettext("%(figures)s: a hint of what to control, not a sign that you did") % {
            "figures": "; ".join(parts)
        }
    if code == "nothing_to_control":
        return gettext("No slips in your plans and no overdue tasks in your team this week.")
    if code in ("own_deals", "too_many_own_deals"):
        revenue = format_money(evidence.get("revenue", "0"), currency, get_language() or "ru")
        text = ngettext(
            "%(count)d own deal, %(revenue)s",
            "%(count)d own deals, %(revenue)s",
            count,
        ) % {"count": count, "revenue": revenue}
        if code == "too_many_own_deals":
            text += ": " + ngettext(
                "more than %(limit)d a week is selling instead of managing",
                "more than %(limit)d a week is selling instead of managing",
                int(evidence.get("limit", prefills.OWN_DEALS_WARNING)),
            ) % {"limit": int(evidence.get("limit", prefills.OWN_DEALS_WARNING))}
        return text
    if code == "no_own_deals":
        return gettext("No own deals in the CRM this week.")
    return ""


def ticked(marks: dict, prefill: dict, key: str) -> bool:
    """A function is ticked by the person's mark, else by the data's suggestion."""
    mark = marks.get(key) or {}
    if mark.get("done") is not None:
        return bool(mark["done"])
    return (prefill.get(key) or {}).get("suggested") is True


@dataclass
class ItemView:
    key: str
    title: str
    hint: str
    done: bool  # as shown: the person's tick, else the data's suggestion
    marked: bool | None  # the person's own tick (None: not decided)
    note: str
    suggested: bool | None
    evidence: str
    warning: bool
    source: str  # "person", "data" or "none"


@dataclass
class ReviewView:
    head: Membership
    week: Week
    saved: bool  # a row exists (the person saved, or the job prefilled)
    version: int
    items: list[ItemView]
    own_deals: int
    own_revenue: Decimal
    prefilled_at: datetime | None
    updated_at: datetime | None
    updated_by: Membership | None
    changes: list[ReviewChange] = field(default_factory=list)
    is_current: bool = False

    @property
    def ticked_count(self) -> int:
        return sum(item.done for item in self.items)


def review_of(head: Membership, week: Week) -> WeeklyReview | None:
    return (
        scoped(WeeklyReview, head.organization)
        .filter(head=head, week_start=week.start)
        .select_related("updated_by__user")
        .first()
    )


def review_view(head: Membership, week: Week) -> ReviewView:
    """The head's review of a week as shown: the person's marks as stored, beside the data's
    prefill. The current week's prefill (and a past week's nobody reviewed yet) is computed
    now from the data's indexed figures (reviews.prefill: a plan saved a minute ago shows);
    a past week's is the one stored by the job, as the history grid shows it."""
    review = review_of(head, week)
    is_current = week == current_week(head.organization)
    marks: dict = review.marks if review else {}
    changes: list[ReviewChange] = (
        list(review.changes.select_related("changed_by__user")) if review else []
    )
    if review is None or is_current:
        computed = prefills.compute(head, week)
        prefill = computed.items
        own_deals, own_revenue = computed.own_deals, computed.own_revenue
        prefilled_at = timezone.now()
    else:
        prefill = review.prefill
        own_deals, own_revenue = review.own_deals, review.own_revenue
        prefilled_at = review.prefilled_at
    currency = head.organization.currency
    items = []
    for function in FUNCTIONS:
        mark = marks.get(function.key) or {}
        data = prefill.get(function.key) or {}
        marked = mark.get("done")
        suggested = data.get("suggested")
        items.append(
            ItemView(
                key=function.key,
                title=str(function.title),
                hint=str(function.hint),
                done=ticked(marks, prefill, function.key),
                marked=marked,
                note=mark.get("note", ""),
                suggested=suggested,
                evidence=evidence_text(data.get("evidence"), currency),
                warning=bool(data.get("warning")),
                source="person"
                if marked is not None
                else ("data" if suggested is not None else "none"),
            )
        )
    return ReviewView(
        head=head,
        week=week,
        saved=review is not None,
        version=review.version if review else 0,
        items=items,
        own_deals=own_deals,
        own_revenue=own_revenue,
        prefilled_at=prefilled_at,
        updated_at=review.updated_at if review else None,
        updated_by=review.updated_by if review else None,
        changes=changes,
        is_current=is_current,
    )


# --- history and the owner's summary --------------------------------------------------------


@dataclass
class WeekRow:
    week: Week
    saved: bool
    ticks: dict[str, bool]  # function key → ticked (the person's, else the data's)
    own_deals: int
    own_revenue: Decimal
    is_current: bool = False

    @property
    def ticked_count(self) -> int:
        return sum(self.ticks.values())


@dataclass
class Summary:
    head: Membership
    weeks: int
    reviewed_weeks: int
    ticked_share: Decimal  # ticked functions ÷ (functions × weeks), unreviewed weeks as none
    own_deals: int
    own_revenue: Decimal
    verdict: str  # "manages", "sells", "both", "little" or "no_reviews"

    @property
    def verdict_text(self) -> str:
        return {
            "manages": gettext("Manages"),
            "sells": gettext("Sells instead of managing"),
            "both": gettext("Manages, but sells a lot too"),
            "little": gettext("Few functions ticked, few own deals"),
            "no_reviews": gettext("No weekly reviews yet"),
        }[self.verdict]


def history(
    head: Membership, *, weeks: int = SUMMARY_WEEKS, until: Week | None = None
) -> list[WeekRow]:
    """The head's last `weeks` weeks up to `until` (default: the current one), newest first.
    A past week with no review is listed unticked, one reviewed with the prefill the job
    stored; the current one with the data's suggestions of now, as its page shows them
    (reviews.prefill). One query, and the prefill's few for the current week."""
    this_week = current_week(head.organization)
    last = until or this_week
    first = Week(last.start - timedelta(days=7 * (weeks - 1)))
    stored = {
        review.week_start: review
        for review in scoped(WeeklyReview, head.organization).filter(
            head=head, week_start__gte=first.start, week_start__lte=last.start
        )
    }
    rows = []
    week = last
    for _index in range(weeks):
        review = stored.get(week.start)
        if week == this_week:  # as its page shows it: the data's figures of now
            computed = prefills.compute(head, week)
            marks, prefill = (review.marks if review else {}), computed.items
            deals, revenue = computed.own_deals, computed.own_revenue
        elif review is not None:
            marks, prefill = review.marks, review.prefill
            deals, revenue = review.own_deals, review.own_revenue
        else:
            marks, prefill, deals, revenue = {}, {}, 0, Decimal(0)
        rows.append(
            WeekRow(
                week=week,
                saved=review is not None,
                ticks={f.key: ticked(marks, prefill, f.key) for f in FUNCTIONS},
                own_deals=deals,
                own_revenue=revenue,
                is_current=week == this_week,
            )
        )
        week = week.previous()
    return rows


def summarise(head: Membership, rows: list[WeekRow]) -> Summary:
    """Manages or sells: the share of functions ticked over the weeks against the head's own
    deals in them. "sells": own deals above the weekly warning on average and under half the
    functions ticked; "manages": at least half ticked and own deals within the warning;
    "both" and "little" the other two corners."""
    weeks = len(rows)
    reviewed = sum(row.saved for row in rows)
    ticks = sum(row.ticked_count for row in rows)
    share = (
        (Decimal(ticks) / Decimal(len(FUNCTIONS) * weeks)).quantize(
            Decimal("0.001"), rounding=ROUND_HALF_UP
        )
        if weeks
        else Decimal(0)
    )
    deals = sum(row.own_deals for row in rows)
    revenue = sum((row.own_revenue for row in rows), Decimal(0))
    selling = bool(weeks) and deals > prefills.OWN_DEALS_WARNING * weeks
    if not reviewed:
        verdict = "no_reviews"
    elif share >= MANAGES_SHARE and not selling:
        verdict = "manages"
    elif share < MANAGES_SHARE and selling:
        verdict = "sells"
    elif selling:
        verdict = "both"
    else:
        verdict = "little"
    return Summary(
        head=head,
        weeks=weeks,
        reviewed_weeks=reviewed,
        ticked_share=share,
        own_deals=deals,
        own_revenue=revenue,
        verdict=verdict,
    )
