"""A won deal reaches its last stage (paid) when it is paid: the loader's implied stage events
(funnel.ingest.upsert_sql.IMPLIED_EVENTS_SQL) and the data migration that repairs what was
stored at the lead's creation before (funnel/migrations/0011_paid_stage_at_payment)."""

import importlib
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, migrations, transaction

from funnel.ingest.loader import load_frames
from funnel.migrations import __name__ as MIGRATIONS
from funnel.models import Lead, Payment, StageEvent
from tests.funnel.frames import frame, lead

pytestmark = pytest.mark.django_db

LAST = 4  # the last stage of the worked example's funnel (paid)
CREATED = datetime(2026, 12, 1, 6, tzinfo=UTC)  # frames.lead's created_at, in UTC
STAGED = datetime(2026, 12, 10, 9, tzinfo=UTC)  # frames.lead's stage_at, in UTC

migration = importlib.import_module(f"{MIGRATIONS}.0011_paid_stage_at_payment")


def load(organization, funnel, rows: list[dict]):
    with transaction.atomic():
        return load_frames(
            organization=organization,
            funnel=funnel,
            source="file",
            frames={"leads": frame("leads", rows)},
        )


def stage_times(external_id: str) -> dict[int, datetime]:
    events = StageEvent.objects.filter(lead__external_id=external_id)
    return dict(events.values_list("stage__position", "reached_at"))


def test_without_stage_dates_a_won_deal_is_paid_at_its_payment(organization, funnel):
    # given a file without stage dates (Maven's): a won deal closed on 20 December, one lost
    # at the third stage and one open at the fourth
    rows = [
        lead(
            2,
            "won",
            LAST,
            stage_at=None,
            won=True,
            amount="500",
            paid_at="2026-12-20 00:00:00+00:00",
        ),
        lead(3, "lost", 2, stage_at=None, lost=True, lost_at="2026-12-15 00:00:00+00:00"),
        lead(4, "open", 3, stage_at=None),
    ]
    # when it is loaded
    result = load(organization, funnel, rows)
    assert result.counts["stage_events"]["inserted"] == 5 + 3 + 4
    # then the won deal reaches the paid stage when it is paid, the stages above when it came
    paid = Payment.objects.get(lead__external_id="won").paid_at
    assert paid == datetime(2026, 12, 20, tzinfo=UTC)
    assert stage_times("won") == {0: CREATED, 1: CREATED, 2: CREATED, 3: CREATED, LAST: paid}
    # and the lost and open deals reach every stage when they came, as before
    assert stage_times("lost") == dict.fromkeys(range(3), CREATED)
    assert stage_times("open") == dict.fromkeys(range(4), CREATED)
    # and loading the file again changes nothing
    again = load(organization, funnel, rows)
    assert again.counts["stage_events"] == {"inserted": 0, "updated": 0}


def test_the_payment_wins_over_a_stage_date_for_the_paid_stage(organization, funnel):
    # given a file with stage dates: a won deal with its closing date, one without, and one
    # whose stage date (the CRM moved it later) is after its payment; an open deal
    paid_at = "2026-12-20 15:00:00+03:00"
    rows = [
        lead(2, "closed", LAST, won=True, amount="500", paid_at=paid_at),
        lead(3, "undated", LAST, won=True, amount="500"),
        lead(4, "late", LAST, won=True, amount="500", paid_at="2026-12-05 10:00:00+03:00"),
        lead(5, "open", 3),
    ]
    # when it is loaded
    load(organization, funnel, rows)
    # then a won deal's paid stage is its payment's moment, the stages between its stage date
    paid = datetime(2026, 12, 20, 12, tzinfo=UTC)
    assert Payment.objects.get(lead__external_id="closed").paid_at == paid
    assert stage_times("closed") == {0: CREATED, 1: STAGED, 2: STAGED, 3: STAGED, LAST: paid}
    # a won deal without a closing date is paid at its stage date (so is its payment)
    assert Payment.objects.get(lead__external_id="undated").paid_at == STAGED
    assert stage_times("undated") == {0: CREATED, **dict.fromkeys(range(1, LAST + 1), STAGED)}
    # no stage above the paid one is reached after it: a stage date after the payment gives
    # the payment's moment
    early = datetime(2026, 12, 5, 7, tzinfo=UTC)
    assert stage_times("late") == {0: CREATED, **dict.fromkeys(range(1, LAST + 1), early)}
    # and an open deal keeps its stage date
    assert stage_times("open") == {0: CREATED, 1: STAGED, 2: STAGED, 3: STAGED}


def test_a_deal_won_later_is_paid_when_it_is_paid(organization, funnel):
    # given an open deal at the fourth stage loaded from a file without stage dates
    load(organization, funnel, [lead(2, "deal", 3, stage_at=None)])
    # when a later export says it was won on 20 December
    won = lead(
        2, "deal", LAST, stage_at=None, won=True, amount="500", paid_at="2026-12-20 00:00:00+00:00"
    )
    load(organization, funnel, [won])
    # then its paid stage is the payment's day, the stages reached before unchanged
    paid = datetime(2026, 12, 20, tzinfo=UTC)
    assert stage_times("deal") == {**dict.fromkeys(range(LAST), CREATED), LAST: paid}


# --- the migration's repair of the stored events ---------------------------------------------


def defaulted(external_id: str) -> None:
    """The paid stage's event as the loader stored it before: at the lead's creation."""
    event = StageEvent.objects.get(lead__external_id=external_id, stage__position=LAST)
    event.reached_at = event.lead.created_at
    event.save(update_fields=["reached_at"])


def test_the_repair_moves_defaulted_paid_stages_to_the_first_payment(organization, funnel):
    # given won deals stored before the fix: one paid twice (a further product line paid
    # earlier than the closing date), one paid at its creation, one whose paid stage the CRM
    # dated itself, and a lead at the paid stage without a payment
    no_dates = {
        "stage_at": None,
        "won": True,
        "amount": "500",
        "paid_at": "2026-12-20 00:00:00+00:00",
    }
    load(
        organization,
        funnel,
        [
            lead(2, "twice", LAST, **no_dates),
            lead(3, "same-day", LAST, **{**no_dates, "paid_at": "2026-12-01 09:00:00+03:00"}),
            lead(4, "dated", LAST, **no_dates),
            lead(5, "unpaid", LAST, stage_at=None, won=True),
        ],
    )
    twice = Lead.objects.get(external_id="twice")
    first_paid = datetime(2026, 12, 12, tzinfo=UTC)
    Payment.objects.create(
        organization=organization,
        lead=twice,
        source="file",
        external_id="twice#2",
        amount=100,
        paid_at=first_paid,
    )
    for external_id in ("twice", "same-day", "unpaid"):
        defaulted(external_id)
    dated = datetime(2026, 12, 3, tzinfo=UTC)
    StageEvent.objects.filter(lead__external_id="dated", stage__position=LAST).update(
        reached_at=dated
    )
    before = {key: stage_times(key) for key in ("twice", "same-day", "dated", "unpaid")}
    assert before["twice"][LAST] == CREATED
    # when the migration repairs the stored events (a lead per statement, to cross batches)
    moved = migration.repair_paid_stage_times(connection, batch=1)
    # then only the defaulted paid stage before its first payment moved, to that payment
    assert moved == 1
    assert stage_times("twice") == {**before["twice"], LAST: first_paid}
    for key in ("same-day", "dated", "unpaid"):
        assert stage_times(key) == before[key]
    assert stage_times("dated")[LAST] == dated
    # and the migration run again (as migrate runs it) moves nothing
    migration.repair(apps, SimpleNamespace(connection=connection))
    assert stage_times("twice")[LAST] == first_paid
    assert migration.repair_paid_stage_times(connection) == 0


def test_the_repair_on_an_empty_database_and_its_reversal_change_nothing():
    assert migration.repair_paid_stage_times(connection) == 0
    (operation,) = migration.Migration.operations
    assert operation.code is migration.repair
    assert operation.reverse_code is migrations.RunPython.noop
