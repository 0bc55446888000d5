"""Bitrix24 integrations per customer: each integration reads deals with its own inbound webhook
URL (stored encrypted, never returned), the portal's rate limit and silence are retried with
backoff and jitter, a record that still fails is "failed" with a Retry (page, API, admin), and a
periodic sweep queues again what was left waiting.

Two fake Bitrix24 portals answer over real HTTP on 127.0.0.1 (never the internet): each holds
literal crm.deal.get fixtures, answers only on its own webhook's path, and rate-limits as
Bitrix24 does (a bucket of requests refilled each second; empty → 503 QUERY_LIMIT_EXCEEDED)."""

import json
import random
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from kombu.exceptions import OperationalError as BrokerError

from funnel.crm import bitrix24
from funnel.crm.bitrix24 import Bitrix24Client, Bitrix24Unavailable
from funnel.crm.forms import WebhookError
from funnel.models import Integration, Lead, RawRecord
from funnel.services import integrations, webhooks
from funnel.services.integrations import integration_create, integration_rest_url
from funnel.tasks import process_webhook, sweep_webhooks
from salesplan.celery import app as celery_app
from salesplan.models import Role
from salesplan.queue import task_named
from tests.factories import FunnelFactory, MembershipFactory, OrganizationFactory
from tests.funnel.test_webhooks import BITRIX_STAGE_MAP, BITRIX_TOKEN, FORM, payload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _retries_inline() -> Iterator[None]:
    """Inline (eager) jobs run their retries at once, whatever the countdown, as Celery's
    apply() does when it does not propagate the Retry."""
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


ROMASHKA = "romashka.bitrix24.ru"  # the portal of the fixtures' webhooks
VASILEK = "vasilek.bitrix24.ru"
ROMASHKA_CODE = "r0m4shk4c0de"
VASILEK_CODE = "v4s1l3kc0de"
ROMASHKA_URL = f"https://{ROMASHKA}/rest/1/{ROMASHKA_CODE}/"
VASILEK_URL = f"https://{VASILEK}/rest/7/{VASILEK_CODE}/"
WORKER_WAIT_S = 30


# --- two fake Bitrix24 portals ---------------------------------------------------------------


class FakePortal:
    """One Bitrix24 portal on 127.0.0.1. crm.deal.get answers only on the inbound webhook's
    path /rest/<user>/<code>/ (anything else: 401 INVALID_CREDENTIALS), or with `auth=` equal
    to its OAuth access token on /rest/. Its rate limit is a bucket of `burst` requests
    refilled at `per_second` (Bitrix24: 50, then 2 a second); an empty bucket is
    503 {"error": "QUERY_LIMIT_EXCEEDED"}."""

    def __init__(
        self, domain: str, *, user: str, code: str, burst: int = 50, per_second: float = 2.0
    ) -> None:
        self.domain = domain
        self.webhook_path = f"/rest/{user}/{code}/crm.deal.get"
        self.access_token = ""
        self.deals: dict[str, str] = {}  # deal id → fixture file
        self.requests: list[tuple[str, dict[str, list[str]], int]] = []  # path, form, status
        self.burst, self.per_second = burst, per_second
        self.tokens, self.filled_at = float(burst), time.monotonic()
        self.refuse_with: tuple[int, str] | None = None  # (status, error) for every request
        self.slow_next = 0  # requests that answer after SLOW_S
        self.retry_after: str | None = None  # a Retry-After header on refusals
        self.lock = threading.Lock()
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                code, body = portal.answer(self.path, form)
                if code == 0:  # too slow: the client gave up, nobody reads this
                    time.sleep(FakePortal.SLOW_S)
                    code, body = 200, {"result": {}}
                raw = json.dumps(body, ensure_ascii=False).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(raw)))
                    if code != 200 and portal.retry_after:
                        self.send_header("Retry-After", portal.retry_after)
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    SLOW_S = 1.0

    def answer(self, path: str, form: dict[str, list[str]]) -> tuple[int, dict]:
        if path.endswith("/user.get"):
            # Who owns a deal is asked of a webhook with the `user` scope; this portal's has
            # only `crm` (tests of learning it are in test_webhooks.py).
            return 401, {"error": "insufficient_scope", "error_description": "no user scope"}
        with self.lock:
            code, body = self._answer(path, form)
            self.requests.append((path, form, code))
            return code, body

    def _answer(self, path: str, form: dict[str, list[str]]) -> tuple[int, dict]:
        if self.slow_next:
            self.slow_next -= 1
            return 0, {}
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.filled_at) * self.per_second)
        self.filled_at = now
        if self.tokens < 1:
            return 503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
        self.tokens -= 1
        if self.refuse_with:
            status, error = self.refuse_with
            return status, {"error": error, "error_description": error.lower()}
        by_token = path == "/rest/crm.deal.get" and self.access_token
        if path != self.webhook_path and not (by_token and form.get("auth") == [self.access_token]):
            return 401, {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request"}
        deal = form.get("id", [""])[0]
        if deal not in self.deals:
            return 400, {"error": "NOT_FOUND", "error_description": "Not found"}
        return 200, json.loads(payload(self.deals[deal]))

    def exhaust(self) -> None:
        """Someone else spent the portal's requests: 503 until recover()."""
        with self.lock:
            self.tokens, self.per_second = 0.0, 0.0

    def recover(self, per_second: float = 2.0) -> None:
        with self.lock:
            self.tokens, self.per_second = float(self.burst), per_second
            self.filled_at = time.monotonic()

    def limited(self) -> int:
        return sum(1 for _path, _form, code in self.requests if code == 503)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def portals(settings, monkeypatch) -> Iterator[dict[str, FakePortal]]:
    """Romashka's and Vasilek's portals, each answering for its own domain (as hosts-file
    entries would: the integrations keep their real https URLs and keys)."""
    made = {
        ROMASHKA: FakePortal(ROMASHKA, user="1", code=ROMASHKA_CODE),
        VASILEK: FakePortal(VASILEK, user="7", code=VASILEK_CODE),
    }
    addresses = {domain: portal.address for domain, portal in made.items()}
    settings.BITRIX24_PORTAL_ADDRESSES = addresses
    monkeypatch.setenv("BITRIX24_PORTAL_ADDRESSES", json.dumps(addresses))  # for a worker
    try:
        yield made
    finally:
        for portal in made.values():
            portal.close()


@pytest.fixture
def romashka(portals) -> FakePortal:
    portal = portals[ROMASHKA]
    portal.deals["759"] = "bitrix24_crm_deal_get_759_new.json"
    return portal


# --- integrations and webhooks ---------------------------------------------------------------


def create_bitrix(api, funnel_id: int, rest_url: str = ROMASHKA_URL, **extra: Any) -> dict:
    response = api.post(
        "/api/v1/integrations/",
        {
            "kind": "bitrix24",
            "funnel": funnel_id,
            "stage_map": BITRIX_STAGE_MAP,
            "application_token": BITRIX_TOKEN,
            "rest_url": rest_url,
            **extra,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def bitrix(api, funnel_id) -> dict:
    return create_bitrix(api, funnel_id)


def deal_event(deal_id: str = "759", domain: str = ROMASHKA, **auth: str) -> str:
    body = payload("bitrix24_deal_add.txt").replace("%5BID%5D=759", f"%5BID%5D={deal_id}")
    body = body.replace(ROMASHKA, domain)
    return body + "".join(f"&auth%5B{key}%5D={value}" for key, value in auth.items())


def post_webhook(integration: dict, body: str):
    return Client(enforce_csrf_checks=True).post(
        integration["webhook_url"], data=body, content_type=FORM
    )


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Post a webhook and run its job inline, retries included (eager mode runs a retry at
    once, whatever its countdown)."""

    def send(integration: dict, body: str) -> RawRecord:
        with django_capture_on_commit_callbacks(execute=True):
            response = post_webhook(integration, body)
        assert response.status_code == 200, response.content
        return RawRecord.objects.get(pk=response.json()["record"])

    return send


def stored_record(integration: Integration, body: str, **fields: Any) -> RawRecord:
    return RawRecord.objects.create(
        organization=integration.organization,
        integration=integration,
        kind=RawRecord.Kind.WEBHOOK,
        source=integration.kind,
        content_type=FORM,
        body=body,
        **fields,
    )


# --- each integration its own portal and key -------------------------------------------------


def test_two_customers_each_read_deals_with_their_own_url(api_for, portals, deliver):
    # given two organizations, each with a Bitrix24 portal of its own
    customers = []
    for name, rest_url in (("Romashka LLC", ROMASHKA_URL), ("Vasilek LLC", VASILEK_URL)):
        owner = MembershipFactory(organization=OrganizationFactory(name=name), role=Role.OWNER)
        funnel = FunnelFactory(organization=owner.organization, name="B2B")
        customers.append((owner, create_bitrix(api_for(owner), funnel.pk, rest_url=rest_url)))
    portals[ROMASHKA].deals["759"] = "bitrix24_crm_deal_get_759_new.json"
    portals[VASILEK].deals["760"] = "bitrix24_crm_deal_get_760_lost.json"
    # when each portal posts a deal to its own integration
    first = deliver(customers[0][1], deal_event("759", ROMASHKA))
    second = deliver(customers[1][1], deal_event("760", VASILEK))
    # then each deal was read from its own portal with that portal's own key, no token sent
    assert (first.status, second.status) == ("processed", "processed"), (first.error, second.error)
    [(path_a, form_a, _)] = portals[ROMASHKA].requests
    [(path_b, form_b, _)] = portals[VASILEK].requests
    assert path_a == f"/rest/1/{ROMASHKA_CODE}/crm.deal.get" and form_a == {"id": ["759"]}
    assert path_b == f"/rest/7/{VASILEK_CODE}/crm.deal.get" and form_b == {"id": ["760"]}
    # and each lead is in its own organization
    assert Lead.objects.get(external_id="759").organization == customers[0][0].organization
    assert Lead.objects.get(external_id="760").organization == customers[1][0].organization


def test_a_webhook_from_another_portal_is_refused_and_no_portal_is_called(bitrix, portals):
    # given a webhook with this integration's secret and token, naming another portal
    portals[VASILEK].deals["759"] = "bitrix24_crm_deal_get_759_new.json"
    response = post_webhook(bitrix, deal_event("759", VASILEK))
    # then it is refused at the door and kept as failed with the reason
    assert response.status_code == 403, response.content
    record = RawRecord.objects.get(pk=response.json()["record"])
    assert record.status == "failed"
    assert VASILEK in record.error and ROMASHKA in record.error and "another portal" in record.error
    # and no portal, neither the named one nor the registered one, heard of it
    assert portals[ROMASHKA].requests == [] and portals[VASILEK].requests == []
    assert not Lead.objects.exists()


@pytest.fixture
def attacker(settings, monkeypatch, portals) -> Iterator[FakePortal]:
    """A host an attacker names in auth[domain], answering over real HTTP and counting what
    reaches it (as it would if the worker connected to it)."""
    portal = FakePortal("attacker.example.com", user="1", code="whatever")
    portal.access_token = "stolen"
    portal.deals["759"] = "bitrix24_crm_deal_get_759_new.json"
    addresses = {**settings.BITRIX24_PORTAL_ADDRESSES, portal.domain: portal.address}
    settings.BITRIX24_PORTAL_ADDRESSES = addresses
    monkeypatch.setenv("BITRIX24_PORTAL_ADDRESSES", json.dumps(addresses))
    yield portal
    portal.close()


def test_a_webhook_cannot_send_the_worker_to_a_host_of_its_choosing(api, funnel_id, attacker):
    # given integrations with a registered portal, and one with none (an application's)
    registered = create_bitrix(api, funnel_id)
    bare = create_bitrix(api, funnel_id, rest_url="")
    for integration in (registered, bare):
        # when a webhook with the valid secret and token names the attacker's host
        response = post_webhook(
            integration,
            deal_event(domain=attacker.domain, access_token="stolen"),
        )
        # then it is refused and stored as refused, with the reason
        assert response.status_code == 403, response.content
        record = RawRecord.objects.get(pk=response.json()["record"])
        assert record.status == "failed" and record.error
    # and the host never got a connection
    assert attacker.requests == []
    # a record that got in before (stored "received") is refused by the job the same way
    reasons = {registered["id"]: attacker.domain, bare["id"]: "no registered Bitrix24 portal"}
    for integration in (registered, bare):
        stored = stored_record(
            Integration.objects.get(pk=integration["id"]),
            deal_event(domain=attacker.domain, access_token="stolen"),
        )
        process_webhook.apply(args=[stored.pk])
        stored.refresh_from_db()
        assert stored.status == "failed" and reasons[integration["id"]] in stored.error
    assert attacker.requests == []
    assert not Lead.objects.exists()


def test_without_a_rest_url_the_events_access_token_is_used(api, funnel_id, romashka, deliver):
    bare = create_bitrix(api, funnel_id, rest_url="", portal_domain="Romashka.Bitrix24.ru")
    assert (bare["has_rest_url"], bare["portal_domain"]) == (False, ROMASHKA)
    # an application's webhook carries an OAuth access token: https://<portal>/rest/ with it
    romashka.access_token = "oauth-t0ken"
    record = deliver(bare, deal_event(access_token="oauth-t0ken"))
    assert record.status == "processed", record.error
    assert romashka.requests[-1][:2] == (
        "/rest/crm.deal.get",
        {"id": ["759"], "auth": ["oauth-t0ken"]},
    )
    # a plain outbound webhook has none: the record says what to add
    record = deliver(bare, deal_event())
    assert record.status == "failed" and "inbound webhook URL" in record.error
    assert len(romashka.requests) == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"rest_url": "", "portal_domain": "127.0.0.1"}, "portal_domain"),
        ({"portal_domain": VASILEK}, "portal_domain"),  # not the REST URL's portal
    ],
)
def test_a_portal_that_cannot_be_the_integrations_is_refused(api, funnel_id, extra, field):
    response = api.post(
        "/api/v1/integrations/",
        {
            "kind": "bitrix24",
            "funnel": funnel_id,
            "application_token": BITRIX_TOKEN,
            "rest_url": ROMASHKA_URL,
            **extra,
        },
        format="json",
    )
    assert response.status_code == 400 and field in response.json()


# --- the URL is a credential -----------------------------------------------------------------


def test_the_rest_url_is_never_returned_by_the_api(api, bitrix, funnel_id, romashka, deliver):
    assert "rest_url" not in bitrix
    assert (bitrix["has_rest_url"], bitrix["portal_domain"]) == (True, ROMASHKA)
    deliver(bitrix, deal_event())
    responses = [
        api.get("/api/v1/integrations/"),
        api.get(f"/api/v1/integrations/{bitrix['id']}/"),
        api.get("/api/v1/webhook-records/"),
        api.get(f"/api/v1/webhook-records/{RawRecord.objects.get().pk}/"),
        api.get("/api/schema/"),
    ]
    for response in responses:
        assert response.status_code == 200
        assert ROMASHKA_CODE not in response.content.decode()
    assert api.get("/api/v1/integrations/").json()["results"][0]["has_rest_url"] is True


def test_the_rest_url_is_stored_encrypted(bitrix, settings):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rest_url_encrypted, portal_domain FROM funnel_integration WHERE id = %s",
            [bitrix["id"]],
        )
        stored, domain = cursor.fetchone()
    assert stored and ROMASHKA_CODE not in stored and "/rest/" not in stored
    assert domain == ROMASHKA  # the domain is no secret: shown, and matched with the webhooks
    integration = Integration.objects.get(pk=bitrix["id"])
    assert integration_rest_url(integration) == ROMASHKA_URL
    # after a key rotation the old key (in SECRET_KEY_FALLBACKS) still opens it
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-after-a-rotation"
    assert integration_rest_url(integration) == ROMASHKA_URL
    # without the old key it cannot be opened, and the reason says what to do
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(WebhookError, match="SECRET_KEY_FALLBACKS"):
        integration_rest_url(integration)


@pytest.mark.parametrize(
    "rest_url",
    [
        f"http://{ROMASHKA}/rest/1/{ROMASHKA_CODE}/",  # not https
        f"https://10.0.0.7/rest/1/{ROMASHKA_CODE}/",  # an address, not a portal's domain
        f"https://{ROMASHKA}:8443/rest/1/{ROMASHKA_CODE}/",  # a port
        f"https://user:pw@{ROMASHKA}/rest/1/{ROMASHKA_CODE}/",  # a login
        f"https://{ROMASHKA}/rest/{ROMASHKA_CODE}/",  # no user id
        f"https://{ROMASHKA}/rest/1/{ROMASHKA_CODE}/?auth=x",  # a query
        f"https://{ROMASHKA}/crm/deal/",  # not the REST API
        f"https://{ROMASHKA}/rest/1/{'x' * 300}/",  # longer than any webhook URL
    ],
)
def test_a_rest_url_that_is_not_an_inbound_webhook_is_refused(api, funnel_id, rest_url):
    response = api.post(
        "/api/v1/integrations/",
        {
            "kind": "bitrix24",
            "funnel": funnel_id,
            "application_token": BITRIX_TOKEN,
            "rest_url": rest_url,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "rest_url" in response.json()
    assert not Integration.objects.exists()


def test_a_rest_url_is_taken_as_bitrix24_shows_it_and_only_for_bitrix24(api, funnel_id):
    shown = f"https://Romashka.Bitrix24.ru/rest/1/{ROMASHKA_CODE}/profile.json"
    body = create_bitrix(api, funnel_id, rest_url=shown)
    assert body["portal_domain"] == ROMASHKA
    assert integration_rest_url(Integration.objects.get(pk=body["id"])) == ROMASHKA_URL
    response = api.post(
        "/api/v1/integrations/",
        {"kind": "amocrm", "funnel": funnel_id, "rest_url": ROMASHKA_URL},
        format="json",
    )
    assert response.status_code == 400 and "Bitrix24 integrations only" in str(response.json())


def test_the_rest_url_is_replaced_through_the_api_and_then_used(
    api, api_for, make_member, funnel_id, romashka, deliver, django_capture_on_commit_callbacks
):
    # given a Bitrix24 integration made without a REST URL (so with no portal to call), whose
    # webhook was refused and kept for it
    bare = create_bitrix(api, funnel_id, rest_url="")
    refused_webhook = post_webhook(bare, deal_event())
    assert refused_webhook.status_code == 403
    record = RawRecord.objects.get(pk=refused_webhook.json()["record"])
    assert record.status == "failed" and "inbound webhook URL" in record.error
    url = f"/api/v1/integrations/{bare['id']}/"
    # a role that does not manage integrations, and a wrong URL, change nothing
    viewer = api_for(make_member(Role.VIEWER))
    assert viewer.patch(url, {"rest_url": ROMASHKA_URL}, format="json").status_code == 403
    refused = api.patch(url, {"rest_url": "https://romashka.bitrix24.ru/"}, format="json")
    assert refused.status_code == 400 and "rest_url" in refused.json()
    assert api.put(url, {"rest_url": ROMASHKA_URL}, format="json").status_code == 405
    # when the head of sales adds it
    response = api.patch(url, {"rest_url": ROMASHKA_URL}, format="json")
    assert response.status_code == 200
    assert ROMASHKA_CODE not in response.content.decode()
    body = response.json()
    assert (body["has_rest_url"], body["portal_domain"]) == (True, ROMASHKA)
    assert body["webhook_url"] == bare["webhook_url"]  # the CRM keeps posting to the same address
    # then a retry reads the deal with it
    with django_capture_on_commit_callbacks(execute=True):
        retried = api.post(f"/api/v1/webhook-records/{record.pk}/retry/")
    assert retried.status_code == 202
    record.refresh_from_db()
    assert record.status == "processed", record.error
    assert romashka.requests[-1][0] == f"/rest/1/{ROMASHKA_CODE}/crm.deal.get"
    # and an empty one removes it
    assert api.patch(url, {"rest_url": ""}, format="json").json()["has_rest_url"] is False


def test_the_rest_url_is_replaced_from_the_page(client_for, head, make_member, bitrix):
    integration = Integration.objects.get(pk=bitrix["id"])
    url = reverse("integration_rest_url", args=[integration.pk])
    client = client_for(head)
    refused = client.post(url, {"rest_url": "http://vasilek.bitrix24.ru/rest/7/x/"}, follow=True)
    assert "as the portal shows it" in refused.content.decode()
    integration.refresh_from_db()
    assert integration.portal_domain == ROMASHKA
    response = client.post(url, {"rest_url": VASILEK_URL}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("integration_list")
    integration.refresh_from_db()
    assert integration.portal_domain == VASILEK
    assert integration_rest_url(integration) == VASILEK_URL
    assert VASILEK_CODE not in response.content.decode()
    seller = client_for(make_member(Role.SALESPERSON))
    assert seller.post(url, {"rest_url": ""}).status_code == 403


# --- refusals fail at once, the rate limit is retried ----------------------------------------


def test_a_burst_beyond_the_portals_limit_is_answered_503(settings):
    portal = FakePortal("burst.bitrix24.ru", user="1", code="burstc0de", burst=3, per_second=0)
    try:
        portal.deals["759"] = "bitrix24_crm_deal_get_759_new.json"
        settings.BITRIX24_PORTAL_ADDRESSES = {"burst.bitrix24.ru": portal.address}
        client = Bitrix24Client("https://burst.bitrix24.ru/rest/1/burstc0de/")
        assert [client.deal("759")["ID"] for _ in range(3)] == ["759"] * 3
        with pytest.raises(Bitrix24Unavailable, match="QUERY_LIMIT_EXCEEDED"):
            client.deal("759")
        assert [code for _path, _form, code in portal.requests] == [200, 200, 200, 503]
    finally:
        portal.close()


def test_rate_limited_then_processed_after_retries(bitrix, romashka, deliver):
    # given the portal's requests are spent for now
    romashka.exhaust()
    calls = []

    def recover_after_two(*args: Any, **kwargs: Any) -> float:
        calls.append(args)
        if len(calls) == 2:
            romashka.recover()
        return 0.0

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhooks, "backoff_s", recover_after_two)  # the third try finds it back
        record = deliver(bitrix, deal_event())
    # then two 503s were waited out and the third try loaded the deal
    assert record.status == "processed", record.error
    assert [code for _path, _form, code in romashka.requests] == [503, 503, 200]
    assert record.attempts == 3 and record.next_attempt_at is None and record.error == ""
    assert Lead.objects.get(external_id="759").current_stage.name == "Lead"


def test_always_rate_limited_fails_after_the_last_try_then_a_retry_loads_it(
    bitrix, romashka, deliver, django_capture_on_commit_callbacks
):
    romashka.exhaust()
    record = deliver(bitrix, deal_event())
    # then it gave up after MAX_ATTEMPTS tries, with the reason, and never before
    assert record.status == "failed"
    assert record.attempts == webhooks.MAX_ATTEMPTS == romashka.limited()
    assert f"in {webhooks.MAX_ATTEMPTS} tries" in record.error
    assert "503" in record.error and "QUERY_LIMIT_EXCEEDED" in record.error
    assert not Lead.objects.exists()
    # when the portal is back and someone retries it
    romashka.recover()
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.record_retry(record) is True
    record.refresh_from_db()
    assert (record.status, record.attempts, record.error) == ("processed", 1, "")
    assert Lead.objects.filter(external_id="759").exists()


def test_a_429_with_retry_after_waits_at_least_that_long(bitrix, romashka):
    romashka.refuse_with = (429, "TOO_MANY_REQUESTS")
    romashka.retry_after = "30"
    record = stored_record(Integration.objects.get(pk=bitrix["id"]), deal_event())
    before = timezone.now()
    with pytest.raises(webhooks.RetryLater) as later:
        webhooks.process_record(record_id=record.pk)
    assert later.value.countdown_s >= 30
    record.refresh_from_db()
    # the record waits, "received", with the time of its next try and the reason
    assert (record.status, record.attempts) == ("received", 1)
    assert record.next_attempt_at >= before + timedelta(seconds=30)
    assert "429" in record.error


@pytest.mark.parametrize(
    ("refusal", "status"),
    [(None, "401"), ((403, "insufficient_scope"), "403"), ((404, "ERROR_METHOD_NOT_FOUND"), "404")],
)
def test_a_refusal_fails_at_once(api, funnel_id, romashka, deliver, refusal, status):
    # a wrong key (the portal checks the path), or a portal refusing outright
    rest_url = f"https://{ROMASHKA}/rest/1/wrongc0de/" if refusal is None else ROMASHKA_URL
    integration = create_bitrix(api, funnel_id, rest_url=rest_url)
    romashka.refuse_with = refusal
    record = deliver(integration, deal_event())
    assert record.status == "failed" and record.attempts == 1
    assert f"HTTP {status}" in record.error
    assert len(romashka.requests) == 1  # no retry


def test_a_portal_that_does_not_answer_is_retried(bitrix, romashka, deliver, monkeypatch):
    # given a portal that answers the first request too late, then normally
    monkeypatch.setattr(bitrix24, "BITRIX24_TIMEOUT_S", 0.2)
    monkeypatch.setattr(webhooks, "backoff_s", lambda attempt: 0.0)
    romashka.slow_next = 1
    record = deliver(bitrix, deal_event())
    assert record.status == "processed", record.error
    assert record.attempts == 2


def test_a_closed_portal_is_transient_and_fails_with_the_reason(bitrix, portals, deliver):
    portals[ROMASHKA].close()  # connection refused, every time
    record = deliver(bitrix, deal_event())
    assert record.status == "failed" and record.attempts == webhooks.MAX_ATTEMPTS
    assert "did not answer" in record.error


def test_the_task_comes_back_after_the_services_backoff():
    assert process_webhook.max_retries == webhooks.MAX_ATTEMPTS
    assert process_webhook.acks_late is True


# --- the backoff -----------------------------------------------------------------------------


class Extremes(random.Random):
    """uniform() at its lowest or its highest."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


def test_the_backoff_doubles_is_capped_and_is_jittered_within_its_range():
    low, high = Extremes(high=False), Extremes(high=True)
    base, cap = webhooks.BACKOFF_BASE_S, webhooks.BACKOFF_CAP_S
    for attempt in range(1, 40):
        ceiling = min(cap, base * 2 ** (attempt - 1))
        assert webhooks.backoff_s(attempt, rng=low) == ceiling / 2
        assert webhooks.backoff_s(attempt, rng=high) == ceiling
        # it grows: below the cap, the shortest wait of a try is the longest of the one before
        if 2 * ceiling <= cap:
            assert webhooks.backoff_s(attempt + 1, rng=low) == ceiling
    assert webhooks.backoff_s(1, rng=high) == base
    assert webhooks.backoff_s(10_000, rng=high) == cap  # capped, no overflow
    assert webhooks.backoff_s(0, rng=high) == base  # nonsense attempts read as the first
    samples = {webhooks.backoff_s(6, rng=random.Random(seed)) for seed in range(50)}
    assert len(samples) > 40  # jittered
    assert all(16 <= sample <= 32 for sample in samples)  # within [ceiling / 2, ceiling]


def test_the_tries_ride_out_a_quarter_to_half_an_hour_of_outage():
    tries = range(1, webhooks.MAX_ATTEMPTS)  # the waits between the first and the last try
    shortest = sum(webhooks.backoff_s(a, rng=Extremes(high=False)) for a in tries)
    longest = sum(webhooks.backoff_s(a, rng=Extremes(high=True)) for a in tries)
    assert shortest >= 13 * 60 and longest <= 30 * 60


# --- the sweep -------------------------------------------------------------------------------


@pytest.fixture
def amo(organization, funnel) -> Integration:
    return integration_create(organization=organization, kind="amocrm", funnel=funnel)


def amo_record(amo: Integration, *, received_ago: timedelta, **fields: Any) -> RawRecord:
    record = stored_record(amo, payload("amocrm_lead_add.txt"), **fields)
    RawRecord.objects.filter(pk=record.pk).update(received_at=timezone.now() - received_ago)
    return record


def test_the_sweep_queues_what_was_left_waiting_and_nothing_else(
    amo, django_capture_on_commit_callbacks
):
    minutes = lambda n: timedelta(minutes=n)  # noqa: E731
    now = timezone.now()
    lost = amo_record(amo, received_ago=minutes(10))
    fresh = amo_record(amo, received_ago=minutes(0))
    overdue = amo_record(
        amo, received_ago=minutes(30), attempts=2, next_attempt_at=now - minutes(5)
    )
    due_soon = amo_record(
        amo, received_ago=minutes(30), attempts=2, next_attempt_at=now + minutes(5)
    )
    processed_at = now - minutes(9)
    processed = amo_record(
        amo, received_ago=minutes(10), status="processed", processed_at=processed_at
    )
    failed = amo_record(amo, received_ago=minutes(10), status="failed", error="boom")
    # when the beat's sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_webhooks.apply().get() == 2
    # then the lost and the overdue ones are processed, the rest untouched
    status = dict(RawRecord.objects.values_list("pk", "status"))
    assert (status[lost.pk], status[overdue.pk]) == ("processed", "processed")
    assert (status[fresh.pk], status[due_soon.pk]) == ("received", "received")
    assert RawRecord.objects.get(pk=processed.pk).processed_at == processed_at
    assert RawRecord.objects.get(pk=failed.pk).error == "boom" and status[failed.pk] == "failed"
    assert RawRecord.objects.get(pk=fresh.pk).attempts == 0
    # and a second sweep finds nothing to do
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.records_sweep() == 0


def test_the_sweep_is_bounded_and_claims_what_it_queues(amo, monkeypatch):
    for _ in range(3):
        amo_record(amo, received_ago=timedelta(minutes=10))
    monkeypatch.setattr(webhooks, "SWEEP_BATCH_SIZE", 2)
    # the broker is down: nothing runs, but the claimed records are left for STUCK_AFTER
    assert webhooks.records_sweep() == 2
    assert webhooks.records_sweep() == 1
    assert webhooks.records_sweep() == 0
    later = timezone.now() + webhooks.STUCK_AFTER + timedelta(seconds=1)
    assert webhooks.records_sweep(now=later) == 2


def test_the_sweep_runs_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["funnel.sweep_webhooks"]
    assert entry["task"] == sweep_webhooks.name == "funnel.sweep_webhooks"
    assert entry["schedule"] == 60.0


@pytest.mark.django_db(transaction=True)
def test_a_webhook_the_broker_could_not_take_waits_for_the_sweep(bitrix, romashka, monkeypatch):
    # given the broker is down when the webhook arrives (committed for real, so the job is
    # queued as in production, after the commit)
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(task_named(webhooks.PROCESS_TASK), "apply_async", broker_down)
        response = post_webhook(bitrix, deal_event())
    # then the CRM still gets its 200 and the record waits, received
    assert response.status_code == 200
    record = RawRecord.objects.get(pk=response.json()["record"])
    assert (record.status, record.attempts) == ("received", 0)
    assert webhooks.records_sweep() == 0  # not yet: it may still be on its way
    # when the broker is back, the sweep queues it and it is loaded
    assert webhooks.records_sweep(now=timezone.now() + timedelta(minutes=3)) == 1
    record.refresh_from_db()
    assert record.status == "processed", record.error


# --- Retry: the page, the API, the admin -----------------------------------------------------


@pytest.fixture
def failed(bitrix, romashka) -> RawRecord:
    record = stored_record(
        Integration.objects.get(pk=bitrix["id"]),
        deal_event(),
        status="failed",
        attempts=webhooks.MAX_ATTEMPTS,
        error="Bitrix24 did not answer in 12 tries",
        processed_at=timezone.now(),
    )
    return record


def test_the_page_lists_integrations_and_webhooks_with_a_retry(client_for, head, bitrix, failed):
    processed = stored_record(failed.integration, deal_event(), status="processed")
    page = client_for(head).get("/settings/integrations/")
    assert page.status_code == 200
    html = page.content.decode()
    assert bitrix["webhook_url"] in html and ROMASHKA in html
    assert ROMASHKA_CODE not in html and BITRIX_TOKEN not in html
    assert "Bitrix24 did not answer in 12 tries" in html
    retry_of = lambda record: reverse("integration_record_retry", args=[record.pk])  # noqa: E731
    assert retry_of(failed) in html and retry_of(processed) not in html
    assert (
        reverse("integration_list") in client_for(head).get("/settings/products/").content.decode()
    )


def test_the_page_runs_the_same_queries_for_1_and_10_webhooks(
    client_for, head, bitrix, failed, django_assert_max_num_queries
):
    client = client_for(head)
    client.get("/settings/integrations/")  # warm the session and the caches
    with django_assert_max_num_queries(100) as few:
        client.get("/settings/integrations/")
    for _ in range(9):
        stored_record(failed.integration, deal_event(), status="failed", error="boom")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/settings/integrations/")
    assert page.content.decode().count("Retry</button>") == 10


def test_retry_from_the_page_with_htmx(
    client_for, head, failed, django_capture_on_commit_callbacks
):
    url = reverse("integration_record_retry", args=[failed.pk])
    client = client_for(head)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, HTTP_HX_REQUEST="true")
        # the row as it is now: queued again, from its first try, without a Retry
        assert response.status_code == 200
        row = response.content.decode()
        assert row.lstrip().startswith(f'<tr id="webhook-record-{failed.pk}"')
        assert "received" in row and url not in row and "12 tries" not in row
    # and once committed the job loads it
    failed.refresh_from_db()
    assert failed.status == "processed" and failed.attempts == 1
    assert Lead.objects.filter(external_id="759").exists()
    # without JavaScript: back to the page, with a message; a processed one is not rerun
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("integration_list")
    assert "nothing to retry" in response.content.decode()


def test_retry_needs_csrf_as_any_post(head, failed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(head.user)
    url = reverse("integration_record_retry", args=[failed.pk])
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


@pytest.mark.parametrize("role", [Role.SALESPERSON, Role.MARKETER, Role.VIEWER])
def test_other_roles_may_not_see_the_page_nor_retry(client_for, make_member, failed, role):
    client = client_for(make_member(role))
    assert client.get("/settings/integrations/").status_code == 403
    response = client.post(reverse("integration_record_retry", args=[failed.pk]))
    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_another_organizations_record_is_not_found(client_for, api_for, failed):
    outsider = MembershipFactory(organization=OrganizationFactory(name="Rival"), role=Role.OWNER)
    url = reverse("integration_record_retry", args=[failed.pk])
    assert client_for(outsider).post(url).status_code == 404
    assert api_for(outsider).post(f"/api/v1/webhook-records/{failed.pk}/retry/").status_code == 404
    assert api_for(outsider).get(f"/api/v1/webhook-records/{failed.pk}/").status_code == 404
    assert api_for(outsider).get("/api/v1/webhook-records/").json()["results"] == []
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_a_new_integration_from_the_page(client_for, head, funnel):
    client = client_for(head)
    form = {
        "kind": "bitrix24",
        "funnel": funnel.pk,
        "rest_url": f"https://{ROMASHKA}/rest/1/{ROMASHKA_CODE}",
        "application_token": BITRIX_TOKEN,
    }
    refused = client.post("/settings/integrations/", {**form, "rest_url": "https://x/rest/"})
    assert refused.status_code == 200 and "as the portal shows it" in refused.content.decode()
    assert not Integration.objects.exists()
    response = client.post("/settings/integrations/", form, follow=True)
    integration = Integration.objects.get()
    assert (integration.kind, integration.portal_domain) == ("bitrix24", ROMASHKA)
    assert integration_rest_url(integration) == ROMASHKA_URL
    html = response.content.decode()
    assert integrations.webhook_path(integration) in html and ROMASHKA_CODE not in html


def test_retry_through_the_api(
    api, api_for, make_member, failed, django_capture_on_commit_callbacks
):
    # the list shows the failed record, filtered by status and integration
    listed = api.get(f"/api/v1/webhook-records/?status=failed&integration={failed.integration_id}")
    assert [row["id"] for row in listed.json()["results"]] == [failed.pk]
    assert listed.json()["results"][0]["attempts"] == webhooks.MAX_ATTEMPTS
    assert "body" not in listed.json()["results"][0]
    assert api.get("/api/v1/webhook-records/?integration=abc").status_code == 400
    assert api.get("/api/v1/webhook-records/?status=lost").status_code == 400
    # a role that does not manage integrations may not retry
    viewer = api_for(make_member(Role.VIEWER))
    assert viewer.post(f"/api/v1/webhook-records/{failed.pk}/retry/").status_code == 403
    # the head of sales retries it: 202, and the job loads it
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/webhook-records/{failed.pk}/retry/")
    assert response.status_code == 202, response.json()
    failed.refresh_from_db()
    assert failed.status == "processed" and failed.attempts == 1
    # a processed record has nothing to retry
    again = api.post(f"/api/v1/webhook-records/{failed.pk}/retry/")
    assert again.status_code == 409 and "nothing to retry" in again.json()["detail"]


def test_an_events_batch_is_not_a_webhook_record(api, organization):
    batch = RawRecord.objects.create(
        organization=organization, kind=RawRecord.Kind.EVENTS, source="api", body="[]"
    )
    assert api.get(f"/api/v1/webhook-records/{batch.pk}/").status_code == 404
    assert api.post(f"/api/v1/webhook-records/{batch.pk}/retry/").status_code == 404


def test_the_admin_retries_through_the_same_service(
    admin_client, failed, django_capture_on_commit_callbacks
):
    url = reverse("admin:funnel_rawrecord_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"action": "rerun_webhooks", "_selected_action": [failed.pk]}, follow=True
        )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("processed", 1)
    integration_page = admin_client.get(
        reverse("admin:funnel_integration_change", args=[failed.integration_id])
    ).content.decode()
    assert ROMASHKA in integration_page and ROMASHKA_CODE not in integration_page


# --- through a real Celery worker ------------------------------------------------------------


@pytest.fixture
def portal_worker(portals, request):
    """The worker starts after the fake portals, so it inherits their addresses."""
    return request.getfixturevalue("celery_worker")


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WORKER_WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen in {WORKER_WAIT_S} s")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_worker_waits_out_the_rate_limit(bitrix, romashka, portal_worker):
    # given the portal's requests are spent for now
    romashka.exhaust()
    response = post_webhook(bitrix, deal_event())
    assert response.status_code == 200 and response.json()["status"] == "received"
    record_id = response.json()["record"]
    # when the worker has met the limit twice, the portal gets its requests back
    wait_for(lambda: romashka.limited() >= 2, "two rate-limited tries")
    waiting = RawRecord.objects.get(pk=record_id)
    assert waiting.status == "received" and "QUERY_LIMIT_EXCEEDED" in waiting.error
    romashka.recover()
    wait_for(lambda: RawRecord.objects.get(pk=record_id).status != "received", "processing")
    # then the worker's next try loaded the deal, after backing off
    record = RawRecord.objects.get(pk=record_id)
    assert record.status == "processed", record.error
    assert record.attempts == len(romashka.requests) >= 3
    assert Lead.objects.get(external_id="759").current_stage.name == "Lead"
    assert portal_worker.poll() is None
