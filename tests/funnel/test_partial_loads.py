"""A load updates only what it carries (issue: "a later file blanks what it does not carry").

Given a lead stored with every field, a later load that carries one field changes that field
and no other; an empty (unknown) value keeps what is stored, unless the load clears it; a
lead's creation date is set once; a load with no stage keeps the lead's stage and outcome. The
same for payments, calls and tasks."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from funnel.ingest.loader import load_frames
from funnel.models import Call, Lead, Payment, StageEvent, Task
from salesplan.models import Role
from tests.funnel.frames import frame

pytestmark = pytest.mark.django_db

CREATED = "2026-11-02 10:00:00+03:00"
WON_AT = "2026-11-20 15:00:00+03:00"
LOST_AT = "2026-11-21 15:00:00+03:00"


def unknown(line: int, external_id: str, **known: Any) -> dict:
    """A lead row that says nothing but its id (and `known`)."""
    return {
        "line": line,
        "external_id": external_id,
        "created_at": None,
        "stage": None,
        "won": None,
        "lost": None,
        **known,
    }


def everything(line: int, external_id: str, responsible: str) -> dict:
    return {
        "line": line,
        "external_id": external_id,
        "name": "Ромашка: CRM",
        "created_at": CREATED,
        "channel": "Яндекс Директ",
        "is_target": True,
        "non_target_reason": "",
        "responsible": responsible,
        "company": "Ромашка",
        "stage": 4,
        "stage_at": WON_AT,
        "won": True,
        "lost": False,
        "amount": "50000",
        "gross_margin": "20000",
        "product": "CRM",
        "paid_at": WON_AT,
        "is_new_client": True,
    }


def load(organization, funnel, rows: list[dict], **options: Any):
    with transaction.atomic():
        return load_frames(
            organization=organization,
            funnel=funnel,
            source="api",
            frames={"leads": frame("leads", rows)},
            **options,
        )


def lead_fields(external_id: str) -> dict:
    lead = Lead.objects.select_related("current_stage").get(external_id=external_id)
    return {
        "name": lead.name,
        "created_at": lead.created_at,
        "channel": lead.channel,
        "is_target": lead.is_target,
        "non_target_reason": lead.non_target_reason,
        "responsible_id": lead.responsible_id,
        "responsible_name": lead.responsible_name,
        "company": lead.company,
        "stage": lead.current_stage.position if lead.current_stage else None,
        "lost_reason": lead.lost_reason,
        "lost_at": lead.lost_at,
    }


def payment_fields(external_id: str) -> dict:
    payment = Payment.objects.get(external_id=external_id)
    return {
        "amount": payment.amount,
        "gross_margin": payment.gross_margin,
        "product_name": payment.product_name,
        "paid_at": payment.paid_at,
        "is_new_client": payment.is_new_client,
        "credited_member_id": payment.credited_member_id,
    }


@pytest.fixture
def stored(organization, funnel, make_member):
    """W1: a won deal stored with every field; L1: a lost one."""
    anna = make_member(Role.SALESPERSON)
    load(
        organization,
        funnel,
        [
            everything(1, "W1", anna.user.email),
            {
                **everything(2, "L1", anna.user.email),
                "stage": None,
                "won": False,
                "lost": True,
                "lost_reason": "Дорого",
                "lost_at": LOST_AT,
                "amount": "",
                "paid_at": None,
            },
        ],
    )
    return {"anna": anna, "W1": lead_fields("W1"), "L1": lead_fields("L1")}


def test_a_load_that_carries_only_the_id_changes_nothing(organization, funnel, stored):
    # given the stored leads; when a load carries only their ids
    events = StageEvent.objects.count()
    result = load(organization, funnel, [unknown(1, "W1"), unknown(2, "L1")])
    # then nothing changed: not a field, not a payment, not an event
    assert result.counts["leads"] == {"inserted": 0, "updated": 0, "unchanged": 2}
    assert result.counts["payments"] == {"inserted": 0, "updated": 0}
    assert lead_fields("W1") == stored["W1"] and lead_fields("L1") == stored["L1"]
    assert payment_fields("W1")["amount"] == Decimal("50000")
    assert StageEvent.objects.count() == events


@pytest.mark.parametrize(
    ("field", "value", "column", "expected"),
    [
        ("name", "Ромашка: CRM и сайт", "name", "Ромашка: CRM и сайт"),
        ("channel", "Выставка", "channel", "Выставка"),
        ("is_target", False, "is_target", False),
        ("non_target_reason", "Не наш профиль", "non_target_reason", "Не наш профиль"),
        ("company", "ООО Ромашка", "company", "ООО Ромашка"),
        ("responsible", "Someone Unknown", "responsible_name", "Someone Unknown"),
    ],
)
def test_a_load_changes_only_the_field_it_carries(
    organization, funnel, stored, field, value, column, expected
):
    # when a later load carries one field of W1
    load(organization, funnel, [unknown(1, "W1", **{field: value})])
    # then that field changed and every other kept its value
    after = lead_fields("W1")
    assert after[column] == expected
    changed = {key for key in after if after[key] != stored["W1"][key]}
    allowed = {column} | ({"responsible_id"} if field == "responsible" else set())
    assert changed == allowed


def test_a_later_file_keeps_the_channel_of_won_deals(organization, funnel, stored):
    # given a second file of won deals: id, stage, amount, no channel (the 842 of 842)
    load(
        organization,
        funnel,
        [unknown(1, "W1", stage=4, won=True, lost=False, amount="60000", paid_at=WON_AT)],
    )
    # then the channel and every other field stayed; the payment took the new amount
    assert lead_fields("W1") == stored["W1"]
    assert payment_fields("W1")["amount"] == Decimal("60000")


def test_an_existing_lead_keeps_its_creation_date(organization, funnel, stored):
    load(organization, funnel, [unknown(1, "W1", created_at="2026-12-25 10:00:00+03:00")])
    assert lead_fields("W1")["created_at"] == stored["W1"]["created_at"]


def test_a_new_lead_needs_a_creation_date(organization, funnel, stored):
    # when a load brings a lead nobody has with no creation date
    result = load(organization, funnel, [unknown(7, "NEW")])
    # then it is reported by line and not written (the caller rolls back or keeps the rest)
    assert [(e.line, e.column) for e in result.errors] == [(7, "created_at")]
    assert not Lead.objects.filter(external_id="NEW").exists()


def test_empty_cells_clear_only_when_asked(organization, funnel, stored):
    row = unknown(1, "W1", channel="", company="", is_target=None)
    load(organization, funnel, [row])
    assert lead_fields("W1") == stored["W1"]
    load(organization, funnel, [row], clear=frozenset({"channel", "company", "is_target"}))
    after = lead_fields("W1")
    assert (after["channel"], after["company"], after["is_target"]) == ("", "", None)
    assert after["name"] == stored["W1"]["name"]  # not cleared: not asked


def test_no_stage_keeps_the_stage_and_the_loss(organization, funnel, stored):
    load(organization, funnel, [unknown(1, "L1", name="renamed")])
    after = lead_fields("L1")
    assert (after["lost_at"], after["lost_reason"]) == (
        stored["L1"]["lost_at"],
        stored["L1"]["lost_reason"],
    )


def test_a_stage_reopens_a_lost_deal(organization, funnel, stored):
    # when a load says L1 is at the second stage (not lost any more)
    load(organization, funnel, [unknown(1, "L1", stage=1, won=False, lost=False)])
    # then its loss is gone and it is at that stage
    after = lead_fields("L1")
    assert (after["stage"], after["lost_at"], after["lost_reason"]) == (1, None, "")


@pytest.mark.parametrize(
    ("field", "value", "column", "expected"),
    [
        ("gross_margin", "25000", "gross_margin", Decimal("25000")),
        ("product", "Сайт", "product_name", "Сайт"),
        ("is_new_client", False, "is_new_client", False),
        ("paid_at", "2026-11-25 12:00:00+03:00", "paid_at", datetime(2026, 11, 25, 9, tzinfo=UTC)),
    ],
)
def test_a_payment_changes_only_the_field_the_load_carries(
    organization, funnel, stored, field, value, column, expected
):
    before = payment_fields("W1")
    load(organization, funnel, [unknown(1, "W1", **{field: value})])
    after = payment_fields("W1")
    assert after[column] == expected
    assert {key for key in after if after[key] != before[key]} == {column}


def test_calls_and_tasks_keep_what_a_later_item_leaves_out(organization, funnel, stored):
    anna = stored["anna"].user.email
    first = {
        "calls": frame(
            "calls",
            [
                {
                    "line": 1,
                    "external_id": "C1",
                    "member": anna,
                    "lead_external_id": "W1",
                    "at": CREATED,
                    "connected": True,
                }
            ],
        ),
        "tasks": frame(
            "tasks",
            [
                {
                    "line": 2,
                    "external_id": "T1",
                    "lead_external_id": "W1",
                    "member": anna,
                    "due_at": CREATED,
                    "done_at": WON_AT,
                }
            ],
        ),
    }
    later = {
        "calls": frame(
            "calls", [{"line": 1, "external_id": "C1", "at": CREATED, "connected": False}]
        ),
        "tasks": frame("tasks", [{"line": 2, "external_id": "T1", "due_at": CREATED}]),
    }
    for frames in (first, later):
        with transaction.atomic():
            load_frames(organization=organization, funnel=funnel, source="api", frames=frames)
    call, task = Call.objects.get(), Task.objects.get()
    assert (call.member_id, call.lead.external_id, call.connected) == (
        stored["anna"].pk,
        "W1",
        False,
    )
    assert (task.member_id, task.lead.external_id, task.done_at) == (
        stored["anna"].pk,
        "W1",
        datetime(2026, 11, 20, 12, tzinfo=UTC),
    )
