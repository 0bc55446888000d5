"""Client base: the writes. The organization's rules (`base_settings_update`, which the page
and the API both call) and the recompute (`client_base_refresh`, run by the job in
salesplan/clientbase/tasks.py after actuals are loaded, after the rules change, and nightly):
it reads the leads once, stores the companies and their state, the refusal rates, the warnings
and the summary. Pages read only what it stored (salesplan/clientbase/selectors.py)."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from funnel.models import Call, Lead, Payment, StageEvent, Task
from salesplan.clientbase import burn
from salesplan.clientbase.models import (
    BaseSettings,
    BaseSummary,
    Company,
    ContactKind,
    CoolingContact,
    RateKind,
    RefusalRate,
)
from salesplan.limits import (
    MAX_COOLING_DAYS,
    MAX_LOST_REASON_CHARS,
    MAX_PERMANENT_REASONS,
    MIN_COOLING_DAYS,
    count_message,
)
from salesplan.models import Membership, Organization, PlanStatus
from salesplan.plans.selectors import current_plans, decompose_plan
from salesplan.queue import enqueue_once, job_started

REFRESH_TASK = "clientbase.refresh"
# Rates are kept for the last two years of local months: the page shows the last six, the
# API a year; older months do not change a decision about today's base.
RATE_MONTHS = 24
# Leads read per round trip: 5,000 rows of nine short columns are ~1 MB.
LEAD_CHUNK = 5_000
# Rows written per INSERT; lead ids per IN (...) of the warnings' queries (well under
# PostgreSQL's 65,535 parameters, and small enough for its planner to use the lead index).
WRITE_BATCH = 2_000
LEAD_ID_BATCH = 5_000
# PostgreSQL advisory lock namespace of the recompute (one run per organization at once; a
# save of the rules does not wait for a run, it queues the next one).
CLIENT_BASE_LOCK = 13_007

# --- the rules ------------------------------------------------------------------------------


def base_settings(organization: Organization) -> BaseSettings:
    """The organization's rules (the defaults, unsaved, until someone saves their own)."""
    found = BaseSettings.objects.filter(organization=organization).first()
    return found or BaseSettings(organization=organization)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from JSON ("\ud800")
        return False
    return "\x00" not in text


def clean_permanent_reasons(reasons: Any) -> list[str]:
    """Trimmed, empty lines dropped, duplicates (case-insensitive) once, the first spelling
    kept. ValidationError (the message alone) for a list too long or a reason too long."""
    if not isinstance(reasons, list | tuple) or not all(isinstance(r, str) for r in reasons):
        raise ValidationError(gettext("Send a list of lost reasons (texts)."))
    if len(reasons) > MAX_PERMANENT_REASONS:
        raise ValidationError(count_message(len(reasons), MAX_PERMANENT_REASONS))
    cleaned: list[str] = []
    seen: set[str] = set()
    for reason in reasons:
        text = " ".join(reason.split())
        if not _utf8(text):
            raise ValidationError(gettext("A lost reason holds characters that are not text."))
        if len(text) > MAX_LOST_REASON_CHARS:
            raise ValidationError(
                gettext(
                    "“%(reason)s…” is %(length)s characters long; a lost reason may have at "
                    "most %(limit)s."
                )
                % {"reason": text[:30], "length": len(text), "limit": MAX_LOST_REASON_CHARS}
            )
        if text and burn.reason_key(text) not in seen:
            seen.add(burn.reason_key(text))
            cleaned.append(text)
    return cleaned


def clean_cooling_days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(gettext("Enter a whole number of days."))
    if not MIN_COOLING_DAYS <= value <= MAX_COOLING_DAYS:
        raise ValidationError(
            gettext("Enter from %(min)s to %(max)s days.")
            % {"min": MIN_COOLING_DAYS, "max": MAX_COOLING_DAYS}
        )
    return value


def base_settings_update(
    *, member: Membership, permanent_reasons: Any, cooling_days: Any
) -> BaseSettings:
    """Save the organization's permanent lost reasons and cooling-off period (every field's
    errors at once, in the active language), then recompute the base in a job: the states and
    the list follow the new rules within moments."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, clean, value in (
        ("permanent_reasons", clean_permanent_reasons, permanent_reasons),
        ("cooling_days", clean_cooling_days, cooling_days),
    ):
        try:
            cleaned[name] = clean(value)
        except ValidationError as error:
            errors[name] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        item = base_settings(member.organization)
        item.permanent_reasons = cleaned["permanent_reasons"]
        item.cooling_days = cleaned["cooling_days"]
        item.updated_by = member
        item.save()
        client_base_refresh_later(member.organization_id)
    return item


def client_base_refresh_later(organization_id: int) -> None:
    """Queue the recompute once the current transaction commits, unless one is already
    waiting (a burst of webhook batches queues one). A broker that is down is only logged: the
    next load of actuals or the nightly run recomputes the base."""
    enqueue_once(REFRESH_TASK, organization_id)


def client_base_refresh_started(organization_id: int) -> None:
    """The job starts: a load from now on must queue another recompute."""
    job_started(REFRESH_TASK, organization_id)


# --- the recompute --------------------------------------------------------------------------


@dataclass
class _Company:
    name: str = ""
    leads: int = 0
    lead_ids: list[int] = field(default_factory=list)
    refused_at: datetime | None = None
    refusal_lead: int | None = None
    lost_reason: str = ""
    refused_by: int | None = None
    refused_by_name: str = ""


@dataclass
class _Counts:
    won: int = 0
    lost: int = 0


def _lock(organization_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [CLIENT_BASE_LOCK, organization_id]
            )


def _leads(organization: Organization) -> Iterable[tuple[Any, ...]]:
    """Every lead with its first payment's moment (won when paid, lost when lost_at is set: a
    lost deal is lost whatever it was paid before)."""
    first_paid = (
        Payment.objects.filter(lead=OuterRef("pk")).order_by("paid_at").values("paid_at")[:1]
    )
    return (
        Lead.objects.filter(organization=organization)
        .annotate(first_paid_at=Subquery(first_paid))
        .order_by("id")
        .values_list(
            "id",
            "company",
            "name",
            "responsible_id",
            "responsible_name",
            "channel",
            "lost_reason",
            "lost_at",
            "first_paid_at",
        )
        .iterator(chunk_size=LEAD_CHUNK)
    )


def client_base_refresh(*, organization_id: int, now: datetime | None = None) -> BaseSummary | None:
    """Recompute one organization's base from its leads, in one transaction (an advisory lock:
    runs of one organization never interleave). Idempotent: a rerun stores the same
    rows, and a warning keeps the moment it was first found."""
    with transaction.atomic():
        _lock(organization_id)
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            return None
        rules = base_settings(organization)
        zone = ZoneInfo(organization.time_zone)
        now = now or timezone.now()
        today = burn.local_day(now, zone)
        this_month = burn.month_of(today)
        first_rate_month = burn.months_back(this_month, RATE_MONTHS - 1)

        companies: dict[str, _Company] = defaultdict(_Company)
        department: dict[date, _Counts] = defaultdict(_Counts)
        members: dict[tuple[date, int | None, str], _Counts] = defaultdict(_Counts)
        segments: dict[tuple[date, str], _Counts] = defaultdict(_Counts)
        for row in _leads(organization):
            lead_id, written, lead_name, responsible, responsible_name = row[:5]
            channel, reason, lost_at, paid_at = row[5:]
            key = burn.company_key(written) or burn.lead_key(lead_id)
            company = companies[key]
            # A lead without a company is shown by its own name.
            company.name = written.strip() or lead_name.strip() or f"#{lead_id}"
            company.leads += 1
            company.lead_ids.append(lead_id)
            if lost_at is not None and (
                company.refused_at is None or lost_at >= company.refused_at
            ):
                company.refused_at = lost_at
                company.refusal_lead = lead_id
                company.lost_reason = reason
                company.refused_by = responsible
                company.refused_by_name = "" if responsible else responsible_name
            closed_at = lost_at or paid_at
            if closed_at is None:
                continue
            month = burn.month_of(burn.local_day(closed_at, zone))
            if month < first_rate_month:
                continue
            who = (month, responsible, "" if responsible else responsible_name.strip())
            for counts in (department[month], members[who], segments[(month, channel.strip())]):
                if lost_at is not None:
                    counts.lost += 1
                else:
                    counts.won += 1

        stored = _store_companies(organization, companies, rules=rules, today=today, zone=zone)
        _store_warnings(organization, companies, stored, now=now, zone=zone)
        _store_rates(organization, department, members, segments)
        return _store_summary(organization, stored, department, today=today, now=now)


# A company's stored values, in this order (Company's fields): what the upsert compares.
COMPANY_FIELDS = (
    "name",
    "leads",
    "state",
    "refused_at",
    "refused_on",
    "contact_again_on",
    "lost_reason",
    "refused_by_id",
    "refused_by_name",
    "refusal_lead_id",
)


@dataclass(frozen=True, slots=True)
class _Stored:
    """What the warnings and the summary need of a stored company."""

    pk: int
    state: str
    refused_at: datetime | None
    contact_again_on: date | None


def _store_companies(
    organization: Organization,
    companies: dict[str, _Company],
    *,
    rules: BaseSettings,
    today: date,
    zone: ZoneInfo,
) -> dict[str, _Stored]:
    """Upsert the companies whose values changed (ids stay the same from run to run; a rerun
    with nothing new writes nothing), delete those no lead names any more. Returns every
    company by key."""
    existing = {
        row[0]: row[1:]
        for row in Company.objects.filter(organization=organization)
        .values_list("key", *COMPANY_FIELDS)
        .iterator(chunk_size=LEAD_CHUNK)
    }
    computed: dict[str, tuple[Any, ...]] = {}
    changed = []
    for key, company in companies.items():
        refused_on = burn.local_day(company.refused_at, zone) if company.refused_at else None
        state = burn.company_state(
            reason=company.lost_reason,
            refused_on=refused_on,
            cooling_days=rules.cooling_days,
            today=today,
            permanent=rules.permanent_reasons,
        )
        again = (
            burn.contact_again_on(refused_on, rules.cooling_days)
            if refused_on is not None and state != burn.State.CLOSED
            else None
        )
        values = (
            company.name[:300],
            company.leads,
            state.value,
            company.refused_at,
            refused_on,
            again,
            company.lost_reason,
            company.refused_by,
            company.refused_by_name[:200],
            company.refusal_lead,
        )
        computed[key] = values
        if existing.get(key) != values:
            changed.append(
                Company(
                    organization=organization,
                    key=key,
                    **dict(zip(COMPANY_FIELDS, values, strict=True)),
                )
            )
    Company.objects.bulk_create(
        changed,
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["organization", "key"],
        update_fields=[name.removesuffix("_id") for name in COMPANY_FIELDS],
    )
    gone = set(existing) - set(computed)
    ids = dict(Company.objects.filter(organization=organization).values_list("key", "id"))
    for chunk in _chunks([ids[key] for key in gone], WRITE_BATCH):
        Company.objects.filter(pk__in=chunk).delete()
    return {
        key: _Stored(ids[key], values[2], values[3], values[5]) for key, values in computed.items()
    }


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _store_warnings(
    organization: Organization,
    companies: dict[str, _Company],
    stored: dict[str, _Stored],
    *,
    now: datetime,
    zone: ZoneInfo,
) -> None:
    """A stage event, a call or a task on a lead of a cooling company, after its refusal and
    before the day it may be contacted again (a task by its due moment: the contact it plans).
    Warnings of companies no longer cooling, or of contacts gone, are removed."""
    cooling_of_lead: dict[int, _Stored] = {}
    for key, company in stored.items():
        if company.state == burn.State.COOLING.value:
            for lead_id in companies[key].lead_ids:
                cooling_of_lead[lead_id] = company
    found: list[CoolingContact] = []
    lead_ids = sorted(cooling_of_lead)
    sources = (
        (ContactKind.STAGE_EVENT, StageEvent, "reached_at"),
        (ContactKind.CALL, Call, "at"),
        (ContactKind.TASK, Task, "due_at"),
    )
    for chunk in _chunks(lead_ids, LEAD_ID_BATCH):
        for kind, model, moment in sources:
            rows = (
                model.objects.filter(organization=organization, lead_id__in=chunk)
                .values_list("id", "lead_id", "member_id", "lead__responsible_id", moment)
                .order_by()
            )
            for object_id, lead_id, member_id, responsible_id, at in rows:
                company = cooling_of_lead[lead_id]
                assert company.refused_at is not None and company.contact_again_on is not None
                if at <= company.refused_at:
                    continue
                if burn.local_day(at, zone) >= company.contact_again_on:
                    continue
                found.append(
                    CoolingContact(
                        organization=organization,
                        company_id=company.pk,
                        kind=kind,
                        object_id=object_id,
                        lead_id=lead_id,
                        member_id=member_id or responsible_id,
                        at=at,
                        found_at=now,
                    )
                )
    CoolingContact.objects.bulk_create(
        found,
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["organization", "kind", "object_id"],
        update_fields=["company", "lead", "member", "at"],
    )
    wanted = {(contact.kind, contact.object_id) for contact in found}
    existing = CoolingContact.objects.filter(organization=organization).values_list(
        "id", "kind", "object_id"
    )
    gone = [pk for pk, kind, object_id in existing if (kind, object_id) not in wanted]
    for chunk in _chunks(gone, WRITE_BATCH):
        CoolingContact.objects.filter(pk__in=chunk).delete()


def _store_rates(
    organization: Organization,
    department: dict[date, _Counts],
    members: dict[tuple[date, int | None, str], _Counts],
    segments: dict[tuple[date, str], _Counts],
) -> None:
    rows = [
        RefusalRate(
            organization=organization,
            month=month,
            kind=RateKind.DEPARTMENT,
            won=counts.won,
            lost=counts.lost,
        )
        for month, counts in department.items()
    ]
    rows += [
        RefusalRate(
            organization=organization,
            month=month,
            kind=RateKind.MEMBER,
            member_id=member_id,
            name=name[:200],
            won=counts.won,
            lost=counts.lost,
        )
        for (month, member_id, name), counts in members.items()
    ]
    rows += [
        RefusalRate(
            organization=organization,
            month=month,
            kind=RateKind.SEGMENT,
            name=segment[:200],
            won=counts.won,
            lost=counts.lost,
        )
        for (month, segment), counts in segments.items()
    ]
    RefusalRate.objects.filter(organization=organization).delete()
    RefusalRate.objects.bulk_create(rows, batch_size=WRITE_BATCH)


def _plan_deals(organization: Organization, today: date) -> tuple[Any, int | None]:
    """The current plan (the department's before a team's, an active one before a draft) and
    its paid deals of today's month: the last stage's volume in the month's decomposition."""
    plans = list(current_plans(organization=organization, day=today))
    plans.sort(key=lambda plan: (plan.sales_team_id is not None, plan.status != PlanStatus.ACTIVE))
    for plan in plans:
        decomposed = decompose_plan(plan)
        decomposition = decomposed.decomposition
        if decomposition is None or not decomposition.stages:
            continue
        last_stage = decomposition.stages[-1].name
        for month in decomposition.by_month:
            if month.start <= today <= month.end:
                return plan, int(month.stages.get(last_stage, 0))
    return None, None


def _store_summary(
    organization: Organization,
    stored: dict[str, _Stored],
    department: dict[date, _Counts],
    *,
    today: date,
    now: datetime,
) -> BaseSummary:
    states = defaultdict(int)
    for company in stored.values():
        states[company.state] += 1
    pace_from = burn.months_back(burn.month_of(today), burn.PACE_MONTHS - 1)
    pace = [counts for month, counts in department.items() if pace_from <= month <= today]
    won = sum(counts.won for counts in pace)
    lost = sum(counts.lost for counts in pace)
    plan, deals = _plan_deals(organization, today)
    runway = burn.base_runway(
        available=states[burn.State.AVAILABLE.value], lost=lost, won=won, plan_deals=deals
    )
    summary, _created = BaseSummary.objects.update_or_create(
        organization=organization,
        defaults={
            "computed_at": now,
            "computed_on": today,
            "available": states[burn.State.AVAILABLE.value],
            "cooling": states[burn.State.COOLING.value],
            "closed": states[burn.State.CLOSED.value],
            "pace_from": pace_from,
            "pace_won": won,
            "pace_lost": lost,
            "plan": plan,
            "plan_name": plan.name if plan else "",
            "plan_deals": deals,
            "runway": runway.status.value,
            "burn_per_month": runway.burn_per_month,
            "months_left": runway.months,
        },
    )
    return summary


def client_base_refresh_all() -> int:
    """Queue the recompute of every organization with leads (nightly: cooling companies whose
    day has come become available, and the pace moves with the months)."""
    ids = list(
        Organization.objects.filter(leads__isnull=False).values_list("id", flat=True).distinct()
    )
    for organization_id in ids:
        client_base_refresh_later(organization_id)
    return len(ids)
