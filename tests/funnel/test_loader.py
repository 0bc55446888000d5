"""The set-based loader: implied stages, payments, idempotency, people, missing leads."""

from decimal import Decimal

import pytest
from django.db import connection, transaction

from funnel.ingest.loader import Loader, load_frames
from funnel.models import Lead, Payment, Spend, StageEvent
from salesplan.models import Role
from tests.funnel.frames import frame, lead

pytestmark = pytest.mark.django_db


def test_leads_imply_every_stage_above_and_won_deals_pay(organization, funnel, make_member):
    # given a salesperson and three deals: new, at "meeting held", and won
    anna = make_member(Role.SALESPERSON)
    anna.user.first_name, anna.user.last_name = "Анна", "Петрова"
    anna.user.save()
    leads = frame(
        "leads",
        [
            lead(2, "1", None, responsible="Петрова Анна"),
            lead(3, "2", 3, responsible="анна петрова"),
            lead(
                4,
                "3",
                4,
                won=True,
                amount="1000000.50",
                paid_at="2026-12-20 23:30:00+03:00",
                responsible="Someone Unknown",
            ),
        ],
    )
    # when
    with transaction.atomic():
        result = load_frames(
            organization=organization, funnel=funnel, source="file", frames={"leads": leads}
        )
    # then
    assert result.counts["leads"] == {"inserted": 3, "updated": 0, "unchanged": 0}
    assert result.counts["stage_events"]["inserted"] == 1 + 4 + 5
    assert result.unknown_people == ["Someone Unknown"]
    held = Lead.objects.get(external_id="2")
    assert held.responsible == anna
    assert sorted(held.stage_events.values_list("stage__position", flat=True)) == [0, 1, 2, 3]
    first = held.stage_events.get(stage__position=0).reached_at
    assert first.isoformat() == "2026-12-01T06:00:00+00:00"  # when the lead came, in UTC
    payment = Payment.objects.get()
    assert payment.amount == Decimal("1000000.50")
    assert payment.lead.external_id == "3"
    assert Lead.objects.get(external_id="3").responsible_name == "Someone Unknown"


def test_loading_the_same_rows_twice_changes_nothing(organization, funnel):
    leads = frame("leads", [lead(2, "1", 2), lead(3, "2", 4, won=True, amount="500")])
    with transaction.atomic():
        load_frames(
            organization=organization, funnel=funnel, source="file", frames={"leads": leads}
        )
    with transaction.atomic():
        again = load_frames(
            organization=organization, funnel=funnel, source="file", frames={"leads": leads}
        )
    assert again.counts["leads"] == {"inserted": 0, "updated": 0, "unchanged": 2}
    assert again.counts["stage_events"] == {"inserted": 0, "updated": 0}
    assert again.counts["payments"] == {"inserted": 0, "updated": 0}
    # an updated export updates what changed, never duplicates
    moved = frame("leads", [lead(2, "1", 3), lead(3, "2", 4, won=True, amount="600")])
    with transaction.atomic():
        update = load_frames(
            organization=organization, funnel=funnel, source="file", frames={"leads": moved}
        )
    assert update.counts["leads"] == {"inserted": 0, "updated": 1, "unchanged": 1}
    assert update.counts["stage_events"]["inserted"] == 1
    assert update.counts["payments"] == {"inserted": 0, "updated": 1}
    assert Lead.objects.count() == 2
    assert Payment.objects.get().amount == Decimal("600")


def test_explicit_events_keep_the_earliest_moment_and_name_missing_leads(organization, funnel):
    with transaction.atomic():
        load_frames(
            organization=organization,
            funnel=funnel,
            source="api",
            frames={"leads": frame("leads", [lead(0, "A", None)])},
        )
    events = frame(
        "stage_events",
        [
            {"line": 0, "lead_external_id": "A", "stage": 2, "reached_at": "2026-12-05T10:00:00Z"},
            {"line": 1, "lead_external_id": "A", "stage": 2, "reached_at": "2026-12-03T10:00:00Z"},
            {
                "line": 2,
                "lead_external_id": "NOPE",
                "stage": 1,
                "reached_at": "2026-12-03T10:00:00Z",
            },
        ],
    )
    with transaction.atomic():
        result = load_frames(
            organization=organization, funnel=funnel, source="api", frames={"stage_events": events}
        )
    assert [(e.line, e.column, e.value) for e in result.errors] == [(2, "lead_external_id", "NOPE")]
    reached = StageEvent.objects.get(lead__external_id="A", stage__position=2).reached_at
    assert reached.day == 3
    assert StageEvent.objects.filter(lead__external_id="A").count() == 3


def test_spend_is_set_per_channel_and_day(organization, funnel):
    spend = frame(
        "spend",
        [
            {"line": 0, "channel": "Яндекс Директ", "date": "2026-12-01", "amount": "1500.00"},
            {"line": 1, "channel": "Яндекс Директ", "date": "2026-12-02", "amount": "900"},
        ],
    )
    for _ in range(2):
        with transaction.atomic():
            load_frames(
                organization=organization, funnel=funnel, source="api", frames={"spend": spend}
            )
    assert Spend.objects.count() == 2
    assert sum(Spend.objects.values_list("amount", flat=True)) == Decimal("2400")


def test_chunks_stream_through_one_loader(organization, funnel):
    with transaction.atomic():
        loader = Loader(organization=organization, funnel=funnel, source="file")
        for start in range(0, 30, 10):
            loader.add(
                "leads",
                frame("leads", [lead(i + 2, str(i), i % 5) for i in range(start, start + 10)]),
            )
        result = loader.finish()
    assert result.counts["leads"]["inserted"] == 30
    assert StageEvent.objects.count() == sum((i % 5) + 1 for i in range(30))


def test_a_load_that_outgrows_what_the_planner_knows_refreshes_the_statistics(
    organization, funnel, monkeypatch
):
    # A first big file joins every staged row to the leads it just wrote: with statistics that
    # say "empty", PostgreSQL plans a nested loop over a sequential scan (quadratic).
    if connection.vendor != "postgresql":
        pytest.skip("statistics are PostgreSQL's (CI runs this on PostgreSQL)")
    monkeypatch.setattr("funnel.ingest.loader.ANALYZE_AFTER_LEADS", 3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE funnel_lead")  # the planner now knows the table as empty
    leads = frame("leads", [lead(2, str(n), 2) for n in range(1, 6)])
    with transaction.atomic():
        load_frames(
            organization=organization, funnel=funnel, source="file", frames={"leads": leads}
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'funnel_lead'::regclass")
            known = cursor.fetchone()[0]
    assert known >= 5  # analysed inside the load, its own rows counted
