"""CRM integrations: the management API, the amoCRM and Bitrix24 webhooks (literal payloads in
fixtures/webhooks/), their processing inline and through a real Celery worker, and a fake
Bitrix24 REST portal over real HTTP on 127.0.0.1 (never the internet)."""

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import translation

from funnel.crm import amocrm
from funnel.crm.forms import WebhookError, expand_form
from funnel.models import Identity, Integration, Lead, Payment, RawRecord, Stage, StageEvent
from funnel.services import webhooks
from funnel.services.webhooks import process_record
from funnel.stage_map import resolve_stage_map
from funnel.tasks import process_webhook
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


FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
FORM = "application/x-www-form-urlencoded"
# Our funnel: Lead → Target lead → Meeting scheduled → Meeting held → Paid.
AMO_STAGE_MAP = {"20067733": "Lead", "20067736": "Target lead", "20067739": "meeting held"}
BITRIX_STAGE_MAP = {"NEW": "Lead", "PREPARATION": "Meeting scheduled"}
BITRIX_TOKEN = "51856fefc120afa4b628cc82d3935cce"  # as in the fixtures
BITRIX_PORTAL = "romashka.bitrix24.ru"  # auth[domain] in the fixtures
BITRIX_REST_URL = f"https://{BITRIX_PORTAL}/rest/1/inbound-hook-key/"
WORKER_WAIT_S = 30


def payload(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# --- a fake Bitrix24 portal ------------------------------------------------------------------


class FakeBitrix24:
    """A local REST portal answering crm.deal.get with literal fixtures, over real HTTP."""

    def __init__(self) -> None:
        self.deals: dict[str, str] = {}  # deal id → fixture file
        self.users: dict[str, dict[str, str]] = {}  # user id → user.get's fields
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                portal.requests.append((self.path, form))
                deal = form.get("id", [""])[0]
                user = form.get("ID", [""])[0]
                if self.path.endswith("/crm.deal.get") and deal in portal.deals:
                    self.answer(200, payload(portal.deals[deal]).encode())
                elif self.path.endswith("/user.get") and user in portal.users:
                    found = {"result": [{"ID": user, **portal.users[user]}], "total": 1}
                    self.answer(200, json.dumps(found).encode())
                else:
                    error = {"error": "NOT_FOUND", "error_description": "Not found"}
                    self.answer(400, json.dumps(error).encode())

            def answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> "FakeBitrix24":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_bitrix(settings, monkeypatch) -> Iterator[FakeBitrix24]:
    """The fixtures' portal, romashka.bitrix24.ru, answered by the fake one (as a hosts-file
    entry would); the integration calls it on its own inbound webhook URL."""
    with FakeBitrix24() as portal:
        addresses = {BITRIX_PORTAL: portal.address}
        settings.BITRIX24_PORTAL_ADDRESSES = addresses
        # the worker process reads it from the environment
        monkeypatch.setenv("BITRIX24_PORTAL_ADDRESSES", json.dumps(addresses))
        yield portal


# --- the organization, its funnel and integrations ------------------------------------------


def create_integration(api, **body: Any) -> dict:
    response = api.post("/api/v1/integrations/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def amo(api, funnel_id) -> dict:
    return create_integration(api, kind="amocrm", funnel=funnel_id, stage_map=AMO_STAGE_MAP)


@pytest.fixture
def bitrix(api, funnel_id) -> dict:
    return create_integration(
        api,
        kind="bitrix24",
        funnel=funnel_id,
        stage_map=BITRIX_STAGE_MAP,
        application_token=BITRIX_TOKEN,
        rest_url=BITRIX_REST_URL,
    )


def post_webhook(integration: dict, body: str, content_type: str = FORM):
    # a CRM: no session, no token, and CSRF enforced as for any anonymous POST
    return Client(enforce_csrf_checks=True).post(
        integration["webhook_url"], data=body, content_type=content_type
    )


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Post a webhook and run the queued task inline (the default eager mode)."""

    def send(integration: dict, body: str) -> RawRecord:
        with django_capture_on_commit_callbacks(execute=True):
            response = post_webhook(integration, body)
        assert response.status_code == 200, response.content
        return RawRecord.objects.get(pk=response.json()["record"])

    return send


def stages_of(lead: Lead) -> list[str]:
    return list(lead.stage_events.order_by("stage__position").values_list("stage__name", flat=True))


# --- the integrations API --------------------------------------------------------------------


def test_an_integration_gets_a_secret_webhook_url(api, funnel_id):
    body = create_integration(api, kind="amocrm", funnel=funnel_id, stage_map=AMO_STAGE_MAP)
    secret = Integration.objects.get(pk=body["id"]).secret
    assert len(secret) == 32  # token_urlsafe(24)
    assert body["webhook_url"] == f"http://testserver/api/v1/integrations/amocrm/{secret}/"
    # keys lower-cased, values our stage's exact name
    assert body["stage_map"]["20067739"] == "Meeting held"
    other = create_integration(api, kind="amocrm", funnel=funnel_id)
    assert other["webhook_url"] != body["webhook_url"]
    assert [i["id"] for i in api.get("/api/v1/integrations/").json()["results"]] == [
        body["id"],
        other["id"],
    ]
    assert api.get(f"/api/v1/integrations/{body['id']}/").json()["kind"] == "amocrm"
    assert api.delete(f"/api/v1/integrations/{other['id']}/").status_code == 204


def test_bitrix24_needs_its_application_token_and_never_shows_it(api, funnel_id):
    response = api.post(
        "/api/v1/integrations/", {"kind": "bitrix24", "funnel": funnel_id}, format="json"
    )
    assert response.status_code == 400
    assert "application_token" in response.json()
    body = create_integration(api, kind="bitrix24", funnel=funnel_id, application_token="t0k")
    assert "application_token" not in body and body["has_application_token"] is True


def test_a_stage_map_must_name_our_stages(api, funnel_id):
    response = api.post(
        "/api/v1/integrations/",
        {"kind": "amocrm", "funnel": funnel_id, "stage_map": {"1": "Invoice", "2": "WON"}},
        format="json",
    )
    assert response.status_code == 400
    assert "Invoice" in response.json()["stage_map"][0]
    # the error lists our stages with their ids, and a stage may be named by its id
    paid = Stage.objects.get(funnel_id=funnel_id, name="Paid")
    assert f"Paid = {paid.pk}" in response.json()["stage_map"][0]
    by_id = create_integration(api, kind="amocrm", funnel=funnel_id, stage_map={"7": str(paid.pk)})
    assert by_id["stage_map"] == {"7": "Paid"}


@pytest.mark.parametrize("role", [Role.SALESPERSON, Role.MARKETER, Role.VIEWER])
def test_only_owner_and_head_of_sales_manage_integrations(api_for, make_member, amo, role):
    member_api = api_for(make_member(role))
    assert member_api.get("/api/v1/integrations/").status_code == 403
    assert member_api.get(f"/api/v1/integrations/{amo['id']}/").status_code == 403
    assert member_api.delete(f"/api/v1/integrations/{amo['id']}/").status_code == 403


def test_another_organizations_integration_and_funnel_are_not_found(api_for, amo, funnel_id):
    outsider = api_for(
        MembershipFactory(organization=OrganizationFactory(name="Rival"), role=Role.OWNER)
    )
    assert outsider.get(f"/api/v1/integrations/{amo['id']}/").status_code == 404
    assert outsider.delete(f"/api/v1/integrations/{amo['id']}/").status_code == 404
    response = outsider.post(
        "/api/v1/integrations/", {"kind": "amocrm", "funnel": funnel_id}, format="json"
    )
    assert response.status_code == 400 and "funnel" in response.json()


# --- amoCRM: parsing -------------------------------------------------------------------------


def test_the_form_body_expands_into_nested_items():
    form = expand_form(payload("amocrm_lead_status_won.txt"))
    lead = form["leads"]["status"]["0"]
    assert lead["status_id"] == "142" and lead["old_status_id"] == "20067739"
    assert lead["custom_fields"]["0"]["values"]["0"]["value"] == "Сайт"
    assert form["account"] == {
        "subdomain": "romashka",
        "id": "17769199",
        "_links": {"self": "https://romashka.amocrm.ru"},
    }
    # plain brackets (not percent-encoded) read the same
    assert expand_form("leads[add][0][id]=5&leads[add][1][id]=6")["leads"]["add"]["1"] == {
        "id": "6"
    }


def test_a_status_is_mapped_by_pipeline_and_status_and_142_143_are_implied():
    resolved = resolve_stage_map(
        {"9217056:20067739": "Paid", "20067739": "Lead"},
        [stage["name"] for stage in WORKED_STAGES],
        implied=amocrm.AMO_IMPLIED_MAP,
    )
    assert resolved.unknown == []
    statuses = resolved.positions
    fields = {"id": "1", "status_id": "20067739", "pipeline_id": "9217056", "last_modified": "1"}
    change, _ = amocrm.amo_change("status", fields, statuses=statuses, fallback=None)
    assert change.outcome == 4  # the pipeline-qualified key wins
    for status, outcome in (("142", "won"), ("143", "lost")):
        change, _ = amocrm.amo_change(
            "status", {**fields, "status_id": status}, statuses=statuses, fallback=None
        )
        assert change.outcome == outcome
    change, notes = amocrm.amo_change(
        "status", {**fields, "status_id": "555"}, statuses=statuses, fallback=None
    )
    assert change.outcome is None and "555" in notes[0]


def test_a_body_without_leads_is_refused():
    with pytest.raises(WebhookError, match="No leads"):
        amocrm.parse_amocrm(FORM, payload("amocrm_contacts_only.txt"))


# --- amoCRM: through the endpoint (tasks inline) ---------------------------------------------


def test_amocrm_lead_added_then_moved_then_won(amo, deliver):
    # given a new lead in the first status
    record = deliver(amo, payload("amocrm_lead_add.txt"))
    assert record.status == RawRecord.Status.PROCESSED, record.error
    lead = Lead.objects.get(source="amocrm", external_id="25399013")
    assert lead.name == "Ромашка: внедрение CRM"
    assert lead.current_stage.name == "Lead"
    assert lead.created_at.isoformat() == "2026-12-01T06:00:00+00:00"
    assert lead.responsible is None and lead.responsible_name == "amo:2079676"
    assert stages_of(lead) == ["Lead"]
    # when it moves to "meeting held"
    deliver(amo, payload("amocrm_lead_status_stage.txt"))
    lead.refresh_from_db()
    assert lead.current_stage.name == "Meeting held"
    assert stages_of(lead) == ["Lead", "Target lead", "Meeting scheduled", "Meeting held"]
    held = lead.stage_events.get(stage__name="Meeting held").reached_at
    assert held.isoformat() == "2026-12-05T09:00:00+00:00"
    # and then it is won (status 142) with a price
    deliver(amo, payload("amocrm_lead_status_won.txt"))
    lead.refresh_from_db()
    assert lead.current_stage.name == "Paid"
    payment = Payment.objects.get(lead=lead)
    assert payment.amount == Decimal("22500.00")
    assert payment.paid_at.isoformat() == "2026-12-20T20:30:00+00:00"  # 23:30 Moscow
    # the stages it had reached keep their moments
    assert lead.stage_events.get(stage__name="Meeting held").reached_at == held


def test_amocrm_lost_status_marks_the_lead_lost(amo, deliver):
    record = deliver(amo, payload("amocrm_lead_status_lost.txt"))
    assert record.status == RawRecord.Status.PROCESSED, record.error
    lead = Lead.objects.get(external_id="25399014")
    assert lead.lost_at.isoformat() == "2026-12-04T07:00:00+00:00"
    assert lead.current_stage is None  # a lead first seen lost stays at the top
    assert stages_of(lead) == ["Lead"]
    assert not Payment.objects.exists()


def test_won_and_lost_are_implied_without_a_stage_map(api, funnel_id, deliver):
    bare = create_integration(api, kind="amocrm", funnel=funnel_id)
    deliver(bare, payload("amocrm_lead_status_won.txt"))
    assert Payment.objects.get().amount == Decimal("22500.00")
    record = deliver(bare, payload("amocrm_lead_add.txt"))  # status 20067733 is not mapped here
    assert record.status == RawRecord.Status.PROCESSED
    assert "20067733" in record.error  # noted, not dropped
    assert Lead.objects.get().current_stage.name == "Paid"  # it keeps its stage


def test_a_double_delivery_changes_nothing(amo, deliver):
    deliver(amo, payload("amocrm_lead_add.txt"))
    first = deliver(amo, payload("amocrm_lead_status_won.txt"))
    snapshot = (
        list(Lead.objects.values()),
        list(StageEvent.objects.values()),
        list(Payment.objects.values()),
    )
    # when amoCRM delivers the same webhook again, and a task runs the first record again
    again = deliver(amo, payload("amocrm_lead_status_won.txt"))
    assert process_record(record_id=first.pk) == RawRecord.Status.PROCESSED
    # then two records are kept, and the actuals are exactly as they were
    assert again.pk != first.pk and again.status == RawRecord.Status.PROCESSED
    assert snapshot == (
        list(Lead.objects.values()),
        list(StageEvent.objects.values()),
        list(Payment.objects.values()),
    )


def test_a_deleted_lead_is_acknowledged_and_kept(amo, deliver):
    deliver(amo, payload("amocrm_lead_add.txt"))
    record = deliver(amo, "leads%5Bdelete%5D%5B0%5D%5Bid%5D=25399013&account%5Bsubdomain%5D=r")
    assert record.status == RawRecord.Status.PROCESSED
    assert "kept" in record.error
    assert Lead.objects.filter(external_id="25399013").exists()


def test_a_wrong_secret_is_not_found_and_nothing_is_kept(amo, bitrix):
    forged = {"webhook_url": amo["webhook_url"].replace("/amocrm/", "/amocrm/x")}
    assert post_webhook(forged, payload("amocrm_lead_add.txt")).status_code == 404
    # the secret of one kind does not open the other
    crossed = {"webhook_url": bitrix["webhook_url"].replace("/bitrix24/", "/amocrm/")}
    assert post_webhook(crossed, payload("amocrm_lead_add.txt")).status_code == 404
    assert not RawRecord.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ("\x00\x01garbage%%%", FORM, "not form-encoded"),
        ('{"leads": {"add": [{"id": 1}]}}', "application/json", "Content-Type"),
        (payload("amocrm_contacts_only.txt"), FORM, "No leads"),
        ("", FORM, "No leads"),
    ],
)
def test_a_body_it_cannot_use_is_kept_as_failed(amo, body, content_type, reason):
    response = post_webhook(amo, body, content_type)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    record = RawRecord.objects.get()
    assert record.status == RawRecord.Status.FAILED
    assert reason in record.error
    assert record.kind == RawRecord.Kind.WEBHOOK and record.integration_id == amo["id"]
    assert not Lead.objects.exists()


def test_only_a_transient_database_error_is_left_for_a_retry(amo, monkeypatch):
    record = RawRecord.objects.create(
        organization_id=Integration.objects.get(pk=amo["id"]).organization_id,
        integration_id=amo["id"],
        kind=RawRecord.Kind.WEBHOOK,
        source="amocrm",
        content_type=FORM,
        body=payload("amocrm_lead_add.txt"),
    )

    def database_down(**kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(webhooks, "load_frames", database_down)
    with pytest.raises(OperationalError):
        process_record(record_id=record.pk)
    record.refresh_from_db()
    assert record.status == RawRecord.Status.RECEIVED  # not failed: the retry will load it
    assert process_webhook.acks_late is True
    assert process_webhook.autoretry_for == (OperationalError,)


def test_a_record_of_a_deleted_integration_fails_with_the_reason(api, amo, funnel_id):
    record = RawRecord.objects.create(
        organization_id=Integration.objects.get(pk=amo["id"]).organization_id,
        integration=None,
        kind=RawRecord.Kind.WEBHOOK,
        source="amocrm",
        content_type=FORM,
        body=payload("amocrm_lead_add.txt"),
    )
    assert process_record(record_id=record.pk) == RawRecord.Status.FAILED
    record.refresh_from_db()
    assert "deleted" in record.error


# --- Bitrix24 (tasks inline) -----------------------------------------------------------------


def test_bitrix24_deal_added_then_won_through_crm_deal_get(bitrix, deliver, fake_bitrix):
    # given the portal has a new deal
    fake_bitrix.deals["759"] = "bitrix24_crm_deal_get_759_new.json"
    # when Bitrix24 says it was added
    record = deliver(bitrix, payload("bitrix24_deal_add.txt"))
    # then the deal was read from the portal's REST API and loaded
    assert record.status == RawRecord.Status.PROCESSED, record.error
    path, form = fake_bitrix.requests[0]
    assert path == "/rest/1/inbound-hook-key/crm.deal.get" and form["id"] == ["759"]
    lead = Lead.objects.get(source="bitrix24", external_id="759")
    # SOURCE_ID "WEB" is Bitrix24's standard «Веб-сайт» (funnel.identities)
    assert (lead.name, lead.channel, lead.company) == (
        "Ромашка: внедрение CRM",
        "Веб-сайт",
        "b24:12",
    )
    assert lead.responsible_name == "b24:7"
    assert lead.current_stage.name == "Lead"
    assert lead.created_at.isoformat() == "2026-12-01T06:04:12+00:00"
    # when it moves on and is won
    fake_bitrix.deals["759"] = "bitrix24_crm_deal_get_759_preparation.json"
    deliver(bitrix, payload("bitrix24_deal_update.txt"))
    lead.refresh_from_db()
    assert lead.current_stage.name == "Meeting scheduled"
    fake_bitrix.deals["759"] = "bitrix24_crm_deal_get_759_won.json"
    deliver(bitrix, payload("bitrix24_deal_update.txt"))
    lead.refresh_from_db()
    assert lead.current_stage.name == "Paid"
    payment = Payment.objects.get(lead=lead)
    assert payment.amount == Decimal("148500.00")
    assert payment.paid_at.isoformat() == "2026-12-21T00:00:00+00:00"  # CLOSEDATE
    assert stages_of(lead) == [stage["name"] for stage in WORKED_STAGES]


def test_bitrix24_lost_deal(bitrix, deliver, fake_bitrix):
    fake_bitrix.deals["760"] = "bitrix24_crm_deal_get_760_lost.json"
    body = payload("bitrix24_deal_add.txt").replace("%5BID%5D=759", "%5BID%5D=760")
    record = deliver(bitrix, body)
    assert record.status == RawRecord.Status.PROCESSED, record.error
    lead = Lead.objects.get(external_id="760")
    assert lead.lost_at.isoformat() == "2026-12-04T00:00:00+00:00"
    assert lead.company == "" and lead.channel == "Звонок"  # SOURCE_ID CALL


def test_bitrix24_owner_is_learned_once_from_user_get(
    bitrix, deliver, fake_bitrix, organization, make_member
):
    # given Anna, a member, is user 7 of the portal, and nobody here knows b24:7 yet
    anna = make_member(Role.SALESPERSON)
    anna.user.first_name, anna.user.last_name = "Анна", "Смирнова"
    anna.user.save()
    fake_bitrix.users["7"] = {"NAME": "Анна", "LAST_NAME": "Смирнова"}
    fake_bitrix.deals["759"] = "bitrix24_crm_deal_get_759_new.json"
    # when the deal's webhook comes
    record = deliver(bitrix, payload("bitrix24_deal_add.txt"))
    # then the portal was asked who user 7 is, and the deal is Anna's
    assert record.status == RawRecord.Status.PROCESSED, record.error
    assert [path.rsplit("/", 1)[1] for path, _form in fake_bitrix.requests] == [
        "crm.deal.get",
        "user.get",
    ]
    assert Lead.objects.get(external_id="759").responsible_id == anna.pk
    identity = Identity.objects.get(organization=organization, key="b24:7")
    assert (identity.name, identity.learned) == ("Анна Смирнова", True)
    # and the next webhook does not ask again
    deliver(bitrix, payload("bitrix24_deal_update.txt"))
    assert [path for path, _form in fake_bitrix.requests].count(
        "/rest/1/inbound-hook-key/user.get"
    ) == 1


def test_bitrix24_owner_stays_an_id_when_the_portal_does_not_say(bitrix, deliver, fake_bitrix):
    # given a portal whose webhook has no `user` scope (user.get is refused)
    fake_bitrix.deals["759"] = "bitrix24_crm_deal_get_759_new.json"
    record = deliver(bitrix, payload("bitrix24_deal_add.txt"))
    # then the deal is loaded all the same, its owner kept as b24:7 for the identities page
    assert record.status == RawRecord.Status.PROCESSED, record.error
    lead = Lead.objects.get(external_id="759")
    assert (lead.responsible_id, lead.responsible_name) == (None, "b24:7")
    asked = Identity.objects.get(key="b24:7")
    assert (asked.name, asked.membership_id) == ("", None)
    # and the portal is not asked again with the next webhook
    deliver(bitrix, payload("bitrix24_deal_update.txt"))
    paths = [path for path, _form in fake_bitrix.requests]
    assert paths.count("/rest/1/inbound-hook-key/user.get") == 1


@pytest.mark.parametrize(
    ("token", "status"), [("", 401), ("forged-token", 403), (BITRIX_TOKEN, 200)]
)
def test_bitrix24_application_token_is_checked(bitrix, fake_bitrix, token, status):
    fake_bitrix.deals["759"] = "bitrix24_crm_deal_get_759_new.json"
    body = payload("bitrix24_deal_add.txt").replace(BITRIX_TOKEN, token)
    response = post_webhook(bitrix, body)
    assert response.status_code == status
    record = RawRecord.objects.get()
    if status != 200:
        assert record.status == RawRecord.Status.FAILED and "token" in record.error
        assert not Lead.objects.exists()


def test_bitrix24_portal_refusing_the_deal_fails_the_record(bitrix, deliver, fake_bitrix):
    record = deliver(bitrix, payload("bitrix24_deal_add.txt"))  # the portal does not know deal 759
    assert record.status == RawRecord.Status.FAILED
    assert "crm.deal.get" in record.error and "Not found" in record.error
    assert not Lead.objects.exists()


def test_bitrix24_event_that_is_not_about_deals_is_refused(bitrix):
    body = payload("bitrix24_deal_add.txt").replace("ONCRMDEALADD", "ONCRMCONTACTADD")
    response = post_webhook(bitrix, body)
    assert response.status_code == 400 and "ONCRMCONTACTADD" in response.json()["detail"]


# --- through a real Celery worker ------------------------------------------------------------


def wait_until_done(record_id: int) -> RawRecord:
    deadline = time.monotonic() + WORKER_WAIT_S
    while time.monotonic() < deadline:
        record = RawRecord.objects.get(pk=record_id)
        if record.status != RawRecord.Status.RECEIVED:
            return record
        time.sleep(0.1)
    pytest.fail(f"the worker did not process record {record_id} in {WORKER_WAIT_S} s")


def deliver_to_worker(integration: dict, name: str) -> RawRecord:
    response = post_webhook(integration, payload(name))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == RawRecord.Status.RECEIVED  # answered before processing
    record = wait_until_done(response.json()["record"])
    assert record.status == RawRecord.Status.PROCESSED, record.error
    return record


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_amocrm_webhooks_are_processed_by_the_worker(amo, celery_worker):
    deliver_to_worker(amo, "amocrm_lead_add.txt")
    lead = Lead.objects.get(external_id="25399013")
    assert lead.current_stage.name == "Lead"
    deliver_to_worker(amo, "amocrm_lead_status_stage.txt")
    assert stages_of(lead) == ["Lead", "Target lead", "Meeting scheduled", "Meeting held"]
    deliver_to_worker(amo, "amocrm_lead_status_won.txt")
    lead.refresh_from_db()
    assert lead.current_stage.name == "Paid"
    assert Payment.objects.get(lead=lead).amount == Decimal("22500.00")
    deliver_to_worker(amo, "amocrm_lead_status_lost.txt")
    assert Lead.objects.get(external_id="25399014").lost_at is not None
    # a redelivery through the queue changes nothing
    before = list(StageEvent.objects.values()), list(Payment.objects.values())
    deliver_to_worker(amo, "amocrm_lead_status_won.txt")
    assert before == (list(StageEvent.objects.values()), list(Payment.objects.values()))
    assert celery_worker.poll() is None


@pytest.fixture
def bitrix_worker(fake_bitrix, request):
    """The worker starts after the fake portal, so it inherits its address."""
    return request.getfixturevalue("celery_worker")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_bitrix24_webhooks_are_processed_by_the_worker(bitrix, fake_bitrix, bitrix_worker):
    fake_bitrix.deals["759"] = "bitrix24_crm_deal_get_759_new.json"
    deliver_to_worker(bitrix, "bitrix24_deal_add.txt")
    lead = Lead.objects.get(source="bitrix24", external_id="759")
    assert lead.current_stage.name == "Lead"
    fake_bitrix.deals["759"] = "bitrix24_crm_deal_get_759_won.json"
    deliver_to_worker(bitrix, "bitrix24_deal_update.txt")
    lead.refresh_from_db()
    assert lead.current_stage.name == "Paid"
    assert Payment.objects.get(lead=lead).amount == Decimal("148500.00")
    # the worker process (not this one) read the deal twice, and asked once who owns it
    paths = [path for path, _form in fake_bitrix.requests]
    assert paths.count("/rest/1/inbound-hook-key/crm.deal.get") == 2
    assert paths.count("/rest/1/inbound-hook-key/user.get") == 1  # not said: not asked again
