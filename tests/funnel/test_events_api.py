"""POST /api/v1/events/: a JSON batch of actuals, validated per item, loaded idempotently."""

import copy
from decimal import Decimal

import pytest
from django.utils import translation

from funnel.importers.batch import MAX_ITEMS
from funnel.models import Call, Lead, Payment, RawRecord, Spend, StageEvent, Task
from salesplan.models import Role
from tests.factories import MembershipFactory, OrganizationFactory
from tests.worked_example import WORKED_STAGES

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read the English messages (the UI defaults to Russian)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


ACTUALS = (Lead, StageEvent, Payment, Spend, Call, Task)


@pytest.fixture
def anna(make_member):
    member = make_member(Role.SALESPERSON)
    member.user.first_name, member.user.last_name = "Анна", "Петрова"
    member.user.save()
    return member


def full_batch(funnel_id: int, seller_email: str) -> dict:
    """Every section: three leads (at a stage, won, lost), an explicit event, a payment, spend,
    a call and a task."""
    return {
        "funnel": funnel_id,
        "leads": [
            {
                "external_id": "L1",
                "name": "Ромашка: внедрение CRM",
                "created_at": "2026-12-01T10:00:00",  # naive: Moscow time
                "channel": "Яндекс.Директ",
                "is_target": True,
                "responsible": seller_email,
                "company": "ООО Ромашка",
                "stage": "meeting held",  # case does not matter
                "stage_at": "2026-12-05T12:00:00+03:00",
            },
            {
                "external_id": "L2",
                "name": "Лютик",
                "created_at": "2026-12-02T09:00:00+03:00",
                "responsible": "Петрова Анна",
                "won": True,
                "amount": "150000.00",
                "paid_at": "2026-12-20T23:30:00+03:00",
            },
            {
                "external_id": "L3",
                "created_at": "2026-12-03T09:00:00Z",
                "is_target": False,
                "non_target_reason": "Спам",
                "lost": True,
                "lost_reason": "Дорого",
                "lost_at": "2026-12-04T09:00:00Z",
                "responsible": "Кто-то Неизвестный",
            },
        ],
        "stage_events": [
            {
                "lead_external_id": "L3",
                "stage": "Target lead",
                "reached_at": "2026-12-03T15:00:00+03:00",
                "member": seller_email,
            }
        ],
        "payments": [
            {
                "external_id": "P-2b",
                "lead_external_id": "L2",
                "amount": 50000,
                "paid_at": "2026-12-25T10:00:00+03:00",
                "credited": seller_email,
            }
        ],
        "spend": [{"channel": "Яндекс.Директ", "date": "2026-12-01", "amount": "12000.50"}],
        "calls": [
            {
                "external_id": "C1",
                "member": seller_email,
                "lead_external_id": "L1",
                "at": "2026-12-01T11:00:00+03:00",
                "connected": True,
            }
        ],
        "tasks": [
            {
                "external_id": "T1",
                "lead_external_id": "L1",
                "member": seller_email,
                "due_at": "2026-12-06T18:00:00+03:00",
            }
        ],
    }


def snapshot() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ACTUALS}


def test_a_full_batch_is_written(api, funnel_id, anna):
    # given a batch with every section
    body = full_batch(funnel_id, anna.user.email)
    # when
    response = api.post("/api/v1/events/", body, format="json")
    # then
    assert response.status_code == 200, response.json()
    result = response.json()
    assert result["errors"] == []
    assert result["unknown_people"] == ["Кто-то Неизвестный"]
    assert result["counts"]["leads"] == {"inserted": 3, "updated": 0, "unchanged": 0}
    assert result["counts"]["spend"] == {"inserted": 1, "updated": 0}
    # stage events: L1 four implied, L2 all five (won), L3 first stage + target lead
    assert StageEvent.objects.count() == 4 + 5 + 2
    l1 = Lead.objects.get(external_id="L1")
    assert l1.source == "api"
    assert l1.responsible == anna
    assert l1.current_stage.name == "Meeting held"
    assert l1.created_at.isoformat() == "2026-12-01T07:00:00+00:00"  # Moscow → UTC
    l2 = Lead.objects.get(external_id="L2")
    assert l2.current_stage.name == "Paid"  # won: the last stage
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [
        Decimal("50000.00"),
        Decimal("150000.00"),
    ]
    assert Payment.objects.get(external_id="P-2b").credited_member == anna
    l3 = Lead.objects.get(external_id="L3")
    assert l3.lost_reason == "Дорого" and l3.lost_at is not None
    assert l3.responsible is None and l3.responsible_name == "Кто-то Неизвестный"
    assert Spend.objects.get().amount == Decimal("12000.50")
    assert Call.objects.get().lead == l1
    assert Task.objects.get().member == anna
    record = RawRecord.objects.get(pk=result["record"])
    assert record.kind == RawRecord.Kind.EVENTS and record.status == RawRecord.Status.PROCESSED


def test_the_same_batch_twice_changes_nothing(api, funnel_id, anna):
    body = full_batch(funnel_id, anna.user.email)
    first = api.post("/api/v1/events/", body, format="json")
    assert first.status_code == 200, first.json()
    before = snapshot()
    updated_at = Lead.objects.get(external_id="L1").updated_at
    # when the same batch comes again
    again = api.post("/api/v1/events/", body, format="json")
    # then nothing is inserted or updated
    assert again.status_code == 200, again.json()
    counts = again.json()["counts"]
    assert all(c["inserted"] == c["updated"] == 0 for c in counts.values()), counts
    assert counts["leads"]["unchanged"] == len(body["leads"])
    assert snapshot() == before
    assert Lead.objects.get(external_id="L1").updated_at == updated_at


def test_one_bad_item_rejects_the_batch_with_every_error(api, funnel_id, anna):
    # given a batch with a bad date, an unknown stage and an unknown field
    body = full_batch(funnel_id, anna.user.email)
    body["leads"][1]["created_at"] = "01.12.2026"
    body["stage_events"][0]["stage"] = "Счёт выставлен"
    body["spend"][0]["amont"] = "1"
    # when
    response = api.post("/api/v1/events/", body, format="json")
    # then 400, each error located, nothing written (not even the raw record)
    assert response.status_code == 400
    errors = response.json()["errors"]
    located = {(e["section"], e["index"], e["field"]) for e in errors}
    assert located == {
        ("leads", 1, "created_at"),
        ("stage_events", 0, "stage"),
        ("spend", 0, "amont"),
    }
    bad_date = next(e for e in errors if e["field"] == "created_at")
    assert bad_date["value"] == "01.12.2026"
    assert "ISO 8601" in bad_date["reason"]
    assert "Meeting held" in next(e for e in errors if e["field"] == "stage")["reason"]
    assert all(count == 0 for count in snapshot().values())
    assert not RawRecord.objects.exists()


def test_valid_items_only_writes_the_rest_and_reports_the_bad(api, funnel_id, anna):
    body = full_batch(funnel_id, anna.user.email)
    body["valid_items_only"] = True
    body["leads"][2]["lost_at"] = "вчера"
    body["payments"][0]["lead_external_id"] = "NOBODY"  # the loader refuses it
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 200, response.json()
    result = response.json()
    assert {(e["section"], e["index"], e["field"]) for e in result["errors"]} == {
        ("leads", 2, "lost_at"),
        ("stage_events", 0, "lead_external_id"),  # its lead (L3) was refused
        ("payments", 0, "lead_external_id"),
    }
    assert set(Lead.objects.values_list("external_id", flat=True)) == {"L1", "L2"}
    assert not Payment.objects.filter(external_id="P-2b").exists()
    record = RawRecord.objects.get(pk=result["record"])
    assert "lost_at" in record.error


def test_an_event_for_a_lead_nobody_sent_rejects_the_batch(api, funnel_id):
    body = {
        "funnel": funnel_id,
        "stage_events": [
            {"lead_external_id": "ghost", "stage": "Lead", "reached_at": "2026-12-01T10:00:00Z"}
        ],
    }
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "section": "stage_events",
            "index": 0,
            "field": "lead_external_id",
            "value": "ghost",
            "reason": "There is no lead with this id; send the lead first.",
        }
    ]
    assert not RawRecord.objects.exists()


def test_values_are_checked_by_kind(api, funnel_id):
    lead = {"external_id": "L9", "created_at": "2026-12-01T10:00:00Z"}
    body = {
        "funnel": funnel_id,
        "leads": [
            {**lead, "amount": "10.001"},
            {**lead, "external_id": "L10", "won": "maybe"},
            {**lead, "external_id": "L11", "won": True, "lost": True},
            {**lead, "external_id": "L9"},  # L9 again
            {"created_at": "2026-12-01T10:00:00Z"},
            "not an object",
            {**lead, "external_id": "L12", "created_at": "9999-12-31T23:59:59-12:00"},
            {**lead, "external_id": "L\u0000"},  # PostgreSQL stores no NUL
        ],
        "spend": [{"channel": "ads", "date": "2026-13-01", "amount": -5}],
        "calls": [{"external_id": "C", "at": "2026-12-01T10:00:00Z"}],
    }
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 400
    found = {(e["section"], e["index"], e["field"]) for e in response.json()["errors"]}
    assert found == {
        ("leads", 0, "amount"),
        ("leads", 1, "won"),
        ("leads", 2, "lost"),
        ("leads", 4, "external_id"),
        ("leads", 5, ""),
        ("leads", 6, "created_at"),
        ("leads", 7, "external_id"),
        ("spend", 0, "date"),
        ("spend", 0, "amount"),
        ("calls", 0, "connected"),
    }
    # L9 twice is only refused when the first L9 is valid
    body["leads"][0].pop("amount")
    response = api.post("/api/v1/events/", body, format="json")
    assert ("leads", 3, "external_id") in {
        (e["section"], e["index"], e["field"]) for e in response.json()["errors"]
    }


def test_another_organizations_funnel_is_refused(api, api_for):
    outsider = MembershipFactory(organization=OrganizationFactory(name="Rival"), role=Role.OWNER)
    theirs = api_for(outsider).post(
        "/api/v1/funnels/", {"name": "B2C", "stages": WORKED_STAGES}, format="json"
    )
    body = {"funnel": theirs.json()["id"], "spend": [{"channel": "a", "date": "2026-12-01"}]}
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "funnel"
    assert not Spend.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.OWNER, 200),
        (Role.HEAD_OF_SALES, 200),
        (Role.SALESPERSON, 403),
        (Role.MARKETER, 403),
        (Role.VIEWER, 403),
    ],
)
def test_only_owner_and_head_of_sales_write(api_for, make_member, funnel_id, role, expected):
    member = make_member(role)
    body = {"funnel": funnel_id, "spend": [{"channel": "a", "date": "2026-12-01", "amount": 1}]}
    response = api_for(member).post("/api/v1/events/", body, format="json")
    assert response.status_code == expected
    assert Spend.objects.count() == (1 if expected == 200 else 0)


def test_over_the_limit_is_refused_with_a_clear_message(api, funnel_id):
    item = {"channel": "a", "date": "2026-12-01", "amount": "1"}
    body = {"funnel": funnel_id, "spend": [item] * (MAX_ITEMS // 2), "calls": [{}] * MAX_ITEMS}
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 413
    assert "10,000" in response.json()["detail"]
    assert f"{MAX_ITEMS + MAX_ITEMS // 2:,}" in response.json()["detail"]
    assert not Spend.objects.exists()


def test_a_batch_at_the_limit_is_loaded(api, funnel_id):
    body = {
        "funnel": funnel_id,
        "leads": [
            {"external_id": str(n), "created_at": "2026-12-01T10:00:00", "stage": "Target lead"}
            for n in range(MAX_ITEMS)
        ],
    }
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 200, response.json()["errors"][:3]
    assert response.json()["counts"]["leads"]["inserted"] == MAX_ITEMS


def test_a_batch_that_is_not_an_object_or_has_unknown_sections(api, funnel_id):
    assert api.post("/api/v1/events/", [1, 2], format="json").status_code == 400
    response = api.post("/api/v1/events/", {"funnel": funnel_id, "lead": []}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "lead"
    response = api.post("/api/v1/events/", {"funnel": funnel_id, "source": "excel"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "source"


def test_errors_speak_the_callers_language(api, funnel_id):
    body = copy.deepcopy({"funnel": funnel_id, "spend": [{"channel": "a"}]})
    response = api.post("/api/v1/events/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert {e["reason"] for e in response.json()["errors"]} == {"This field is required."}


def test_a_stage_is_found_by_its_name_ignoring_case_and_spacing(api, funnel_id):
    # given a lead at "meeting   HELD" (our stage is "Meeting held")
    body = {
        "funnel": funnel_id,
        "leads": [
            {"external_id": "S1", "created_at": "2026-12-01T10:00:00", "stage": "meeting   HELD"}
        ],
    }
    # when it is sent; then it is at that stage (and the stages above it are implied)
    assert api.post("/api/v1/events/", body, format="json").status_code == 200
    lead = Lead.objects.get(external_id="S1")
    assert lead.current_stage.name == "Meeting held"
    assert lead.stage_events.count() == 4
