"""The client base's recompute (services.client_base_refresh) on a small world worked by
hand: companies by normalized name, the state of the latest refusal, cooling-off by the
organization's local day across month ends, refusal rates per month, salesperson and segment,
the warnings, the runway, and the job following a load of actuals and a change of the rules."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from funnel import signals as funnel_signals
from funnel.models import Call, Lead, StageEvent, Task
from salesplan.clientbase import burn, services
from salesplan.clientbase.models import BaseSummary, Company, CoolingContact, RefusalRate
from salesplan.clientbase.tasks import refresh_all
from salesplan.models import Role
from tests.factories import LeadFactory, PaymentFactory, PlanFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 2, 10, 9, 0, tzinfo=UTC)  # 12:00 Moscow, 10 February 2027


def at(year, month, day, hour=12, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def sellers(make_member):
    return make_member(Role.SALESPERSON), make_member(Role.SALESPERSON)


@pytest.fixture
def world(funnel, sellers):
    """Six companies (seven leads), the organization in Moscow (UTC+3):

    - Ромашка: refused for good on 10 Dec («ЛПР умер»), then again on 31 Jan at 23:30 Moscow
      («Дорого»): the latest refusal decides, so it cools off from 31 Jan to 1 May;
    - Acme: refused « бизнес ЗАКРЫЛСЯ » on 15 Jan: closed for good;
    - Вектор: won on 20 Jan: available;
    - a lead without a company, refused on 5 Jan: its own company, cooling to 5 Apr;
    - Старый клиент: refused on 1 Sep 2026: cooled off on 30 Nov, available;
    - Гамма: refused at 00:30 Moscow on 1 Feb (31 Jan in UTC): a February refusal."""
    one, two = sellers
    lead = lambda **kw: LeadFactory(funnel=funnel, **kw)  # noqa: E731
    leads = {
        "romashka_jan": lead(
            company='ООО "Ромашка"',
            lost_at=at(2027, 1, 31, 20, 30),
            lost_reason="Дорого",
            responsible=one,
            channel="Яндекс",
        ),
        "romashka_dec": lead(
            company="Ромашка",
            lost_at=at(2026, 12, 10),
            lost_reason="ЛПР умер",
            responsible=one,
            channel="Яндекс",
        ),
        "acme": lead(
            company="Acme LLC",
            lost_at=at(2027, 1, 15),
            lost_reason=" бизнес ЗАКРЫЛСЯ ",
            responsible=one,
            channel="Выставка",
        ),
        "vector": lead(company="Вектор", responsible=two, channel="Яндекс"),
        "nameless": lead(
            company="",
            lost_at=at(2027, 1, 5),
            lost_reason="Нет бюджета",
            responsible=two,
            channel="",
        ),
        "old": lead(
            company="Старый клиент",
            lost_at=at(2026, 9, 1),
            lost_reason="Дорого",
            responsible=one,
            channel="Выставка",
        ),
        "gamma": lead(
            company="Гамма",
            lost_at=at(2027, 1, 31, 21, 30),
            lost_reason="Дорого",
            responsible=two,
            responsible_name="",
            channel="Яндекс",
        ),
    }
    PaymentFactory(lead=leads["vector"], paid_at=at(2027, 1, 20))
    return leads


def company(key):
    return Company.objects.get(key=key)


def test_companies_and_their_states(world, organization):
    # when the base is recomputed on 10 February 2027
    summary = services.client_base_refresh(organization_id=organization.pk, now=NOW)
    # then the two Ромашка leads are one company, cooling from its latest (January) refusal
    romashka = company("ромашка")
    assert romashka.leads == 2
    assert (romashka.state, romashka.lost_reason) == ("cooling", "Дорого")
    assert romashka.refused_on == date(2027, 1, 31)  # 23:30 Moscow: the local day
    assert romashka.contact_again_on == date(2027, 5, 1)  # 31 Jan + 90 days
    # Acme is closed for good (a permanent reason, whatever its case and spacing)
    acme = company("acme")
    assert (acme.state, acme.contact_again_on) == ("closed", None)
    assert company("вектор").state == "available"
    assert company("старый клиент").state == "available"  # cooled off on 30 Nov 2026
    # a lead without a company is its own, shown by its name
    nameless = company(burn.lead_key(world["nameless"].pk))
    assert (nameless.state, nameless.contact_again_on) == ("cooling", date(2027, 4, 5))
    assert nameless.name == world["nameless"].name
    # 00:30 Moscow on 1 Feb is 1 Feb, though still 31 Jan in UTC
    gamma = company("гамма")
    assert (gamma.refused_on, gamma.contact_again_on) == (date(2027, 2, 1), date(2027, 5, 2))
    assert (summary.available, summary.cooling, summary.closed) == (2, 3, 1)


def test_the_same_moment_in_another_time_zone(world, organization):
    # given the organization in Vladivostok (UTC+10): 20:30 UTC on 31 Jan is 06:30 on 1 Feb
    organization.time_zone = "Asia/Vladivostok"
    organization.save()
    services.client_base_refresh(organization_id=organization.pk, now=NOW)
    romashka = company("ромашка")
    assert romashka.refused_on == date(2027, 2, 1)
    assert romashka.contact_again_on == date(2027, 5, 2)
    # and its refusal counts for February there
    feb = RefusalRate.objects.get(kind="department", month=date(2027, 2, 1))
    assert (feb.lost, feb.won) == (2, 0)  # Ромашка and Гамма


def test_refusal_rates_by_hand(world, organization, sellers):
    one, two = sellers
    services.client_base_refresh(organization_id=organization.pk, now=NOW)
    rate = lambda **kw: RefusalRate.objects.get(**kw)  # noqa: E731
    # January, Moscow days: lost Ромашка, Acme, the nameless lead; won Вектор → 3 / 4
    january = rate(kind="department", month=date(2027, 1, 1))
    assert (january.lost, january.won, january.rate) == (3, 1, Decimal("0.7500"))
    # February: Гамма (00:30 on 1 Feb) → 1 / 1; December: Ромашка's first refusal
    assert rate(kind="department", month=date(2027, 2, 1)).rate == Decimal("1")
    assert rate(kind="department", month=date(2026, 12, 1)).lost == 1
    # per salesperson in January: the first lost 2 of 2, the second 1 of 2
    first = rate(kind="member", member=one, month=date(2027, 1, 1))
    second = rate(kind="member", member=two, month=date(2027, 1, 1))
    assert (first.lost, first.won) == (2, 0)
    assert (second.lost, second.won, second.rate) == (1, 1, Decimal("0.5000"))
    # per segment (the lead's channel) in January
    assert rate(kind="segment", name="Яндекс", month=date(2027, 1, 1)).rate == Decimal("0.5")
    assert rate(kind="segment", name="Выставка", month=date(2027, 1, 1)).rate == Decimal("1")
    assert rate(kind="segment", name="", month=date(2027, 1, 1)).lost == 1


def test_runway_without_a_plan(world, organization):
    # given the pace of December, January and February: 5 lost, 1 won, and no plan this month
    summary = services.client_base_refresh(organization_id=organization.pk, now=NOW)
    assert (summary.pace_from, summary.pace_lost, summary.pace_won) == (date(2026, 12, 1), 5, 1)
    # then the refusals' own pace: 5 ÷ 3 = 1.66… a month → 1.6; 2 available ÷ 5/3 = 1.2
    assert summary.plan is None
    assert (summary.runway, summary.burn_per_month, summary.months_left) == (
        "runs_out",
        Decimal("1.6"),
        Decimal("1.2"),
    )


def test_runway_against_the_plan(funnel, organization, owner):
    # given the worked example's December plan (20 paid deals), 120 companies never refused,
    # and in October–December 3 lost and 1 won
    plan = PlanFactory(organization=organization, funnel=funnel)
    Lead.objects.bulk_create(
        Lead(
            organization=organization,
            funnel=funnel,
            source="api",
            external_id=f"A{n}",
            company=f"Client {n}",
            created_at=at(2026, 11, 1),
        )
        for n in range(120)
    )
    for n, day in enumerate((at(2026, 10, 5), at(2026, 11, 5), at(2026, 12, 2))):
        LeadFactory(funnel=funnel, company=f"Lost {n}", lost_at=day, lost_reason="Дорого")
    PaymentFactory(lead=LeadFactory(funnel=funnel, company="Won"), paid_at=at(2026, 11, 20))
    # when computed on 15 December 2026
    summary = services.client_base_refresh(organization_id=organization.pk, now=at(2026, 12, 15))
    # then 20 deals × 3 lost ÷ 1 won = 60 companies a month; (120 + Won) 121 ÷ 60 = 2.01… → 2.0
    assert (summary.plan_id, summary.plan_deals) == (plan.pk, 20)
    assert (summary.pace_lost, summary.pace_won, summary.available) == (3, 1, 121)
    assert summary.burn_per_month == Decimal("60.0")
    assert summary.months_left == Decimal("2.0")


def test_no_refusals_do_not_run_out(funnel, organization):
    PaymentFactory(lead=LeadFactory(funnel=funnel, company="Won"), paid_at=at(2027, 2, 1))
    summary = services.client_base_refresh(organization_id=organization.pk, now=NOW)
    assert (summary.runway, summary.months_left, summary.burn_per_month) == (
        "never",
        None,
        Decimal(0),
    )


def test_warnings_on_cooling_companies(world, organization, sellers, funnel):
    one, two = sellers
    stage = funnel.stages.order_by("position").first()
    # given, on Ромашка (cooling from 23:30 Moscow on 31 Jan to 1 May):
    # a stage reached on its other lead on 5 Feb, with no member: the lead's responsible
    event = StageEvent.objects.create(
        organization=organization,
        lead=world["romashka_dec"],
        stage=stage,
        reached_at=at(2027, 2, 5),
    )
    # a call half an hour before the refusal: not a warning
    Call.objects.create(
        organization=organization,
        source="api",
        external_id="c1",
        lead=world["romashka_jan"],
        member=one,
        at=at(2027, 1, 31, 20, 0),
        connected=True,
    )
    # on the nameless lead (cooling to 5 Apr): a task due 23:00 Moscow on 4 Apr (a warning),
    # and one due 11:00 on 5 Apr, the day it may be contacted again (not a warning)
    late = Task.objects.create(
        organization=organization,
        source="api",
        external_id="t1",
        lead=world["nameless"],
        member=two,
        due_at=at(2027, 4, 4, 20, 0),
    )
    Task.objects.create(
        organization=organization,
        source="api",
        external_id="t2",
        lead=world["nameless"],
        member=two,
        due_at=at(2027, 4, 5, 8, 0),
    )
    # a call on Вектор, available: not a warning
    Call.objects.create(
        organization=organization,
        source="api",
        external_id="c2",
        lead=world["vector"],
        member=two,
        at=at(2027, 2, 3),
        connected=True,
    )
    # when the base is recomputed
    services.client_base_refresh(organization_id=organization.pk, now=NOW)
    # then exactly the two contacts inside a cooling window are warnings
    found = {
        (w.kind, w.object_id): (w.company.key, w.member_id, w.at)
        for w in CoolingContact.objects.select_related("company")
    }
    assert found == {
        ("stage_event", event.pk): ("ромашка", one.pk, at(2027, 2, 5)),
        ("task", late.pk): (burn.lead_key(world["nameless"].pk), two.pk, at(2027, 4, 4, 20, 0)),
    }
    # a rerun keeps each warning's first finding moment
    services.client_base_refresh(organization_id=organization.pk, now=NOW + timedelta(hours=5))
    assert set(CoolingContact.objects.values_list("found_at", flat=True)) == {NOW}


def test_a_new_event_after_a_load_is_a_warning(
    funnel, organization, django_capture_on_commit_callbacks
):
    # given a company that refused yesterday (real time: the job runs now)
    now = timezone.now()
    lead = LeadFactory(
        funnel=funnel, company="Свежий отказ", lost_at=now - timedelta(days=1), lost_reason="Нет"
    )
    services.client_base_refresh(organization_id=organization.pk)
    assert not CoolingContact.objects.exists()
    # when a stage event on it is loaded and the funnel announces the load
    StageEvent.objects.create(
        organization=organization,
        lead=lead,
        stage=funnel.stages.first(),
        reached_at=now - timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        funnel_signals.actuals_loaded.send(
            sender=None, organization_id=organization.pk, funnel_id=funnel.pk
        )
    # then the job (queued after the commit) finds it
    warning = CoolingContact.objects.get()
    assert (warning.kind, warning.lead_id, warning.company.name) == (
        "stage_event",
        lead.pk,
        "Свежий отказ",
    )


def test_new_rules_recompute_the_states(
    world, organization, owner, django_capture_on_commit_callbacks
):
    services.client_base_refresh(organization_id=organization.pk, now=NOW)
    # when «Дорого» becomes permanent, saved through the service (the job follows the commit)
    with django_capture_on_commit_callbacks(execute=True):
        services.base_settings_update(
            member=owner, permanent_reasons=["ЛПР умер", " дорого "], cooling_days=30
        )
    # then Ромашка, Старый клиент and Гамма (latest refusal «Дорого») are closed for good
    states = dict(Company.objects.values_list("key", "state"))
    assert states["ромашка"] == states["гамма"] == states["старый клиент"] == "closed"
    # and «Бизнес закрылся» no longer is: Acme (15 Jan + 30 = 14 Feb) cools off
    acme = company("acme")
    assert acme.state in ("cooling", "available")  # the job's today is the real one
    assert acme.contact_again_on == date(2027, 2, 14)


def test_a_rerun_stores_the_same(world, organization):
    services.client_base_refresh(organization_id=organization.pk, now=NOW)
    before = list(Company.objects.order_by("key").values())
    rates = sorted(RefusalRate.objects.values_list("kind", "name", "month", "won", "lost"))
    with CaptureQueriesContext(connection) as queries:
        services.client_base_refresh(organization_id=organization.pk, now=NOW)
    assert list(Company.objects.order_by("key").values()) == before  # same ids too
    # and no company was written again: nothing changed
    assert not [q for q in queries if 'INSERT INTO "clientbase_company"' in q["sql"]]
    assert sorted(RefusalRate.objects.values_list("kind", "name", "month", "won", "lost")) == rates
    assert BaseSummary.objects.count() == 1


def test_a_company_no_lead_names_is_removed(world, organization):
    services.client_base_refresh(organization_id=organization.pk, now=NOW)
    world["acme"].delete()
    services.client_base_refresh(organization_id=organization.pk, now=NOW)
    assert not Company.objects.filter(key="acme").exists()


def test_the_nightly_job_queues_every_organization_with_leads(
    world, organization, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_all.apply().get() == 1
    assert BaseSummary.objects.filter(organization=organization).exists()


def test_a_burst_of_loads_queues_one_recompute(organization):
    # given three loads of actuals announced within a minute
    def queued(enqueue: mock.Mock) -> int:
        return sum(1 for c in enqueue.call_args_list if c.args[0] == "clientbase.refresh")

    services.client_base_refresh_started(organization.pk)
    with mock.patch("salesplan.queue.enqueue") as enqueue:
        for _ in range(3):
            funnel_signals.actuals_loaded.send(
                sender=None, organization_id=organization.pk, funnel_id=None
            )
    # then one recompute is queued; once it starts, the next load queues another
    assert queued(enqueue) == 1
    services.client_base_refresh_started(organization.pk)
    with mock.patch("salesplan.queue.enqueue") as enqueue:
        funnel_signals.actuals_loaded.send(
            sender=None, organization_id=organization.pk, funnel_id=None
        )
    assert queued(enqueue) == 1
