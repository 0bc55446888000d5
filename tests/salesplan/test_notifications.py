"""Notifications (salesplan.notifications): a slip tells its owner once on each channel (the
inbox, e-mail through Django's backend, Telegram through a local fake Bot API server, the
organization's webhook through a local fake receiver that checks the signature), reruns send
nothing twice, a failed delivery is retried with backoff and then shown failed, the daily
digest goes once a day to the owner and the heads of sales; the API and the inbox page are
scoped to the caller."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from metrics.models import PerformanceSnapshot, PlanMetric, Slip
from responsibility.models import Responsibility
from salesplan.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationKind,
    OrganizationNotificationSettings,
    Role,
)
from salesplan.notifications import services
from salesplan.plans.slips import slips_sync
from tests.conftest import clear_own_cache
from tests.factories import FunnelFactory, MembershipFactory, OrganizationFactory, PlanFactory

pytestmark = pytest.mark.django_db

TOKEN = "123456:TEST-token"
CHAT = "987654321"


def dec(day: int) -> date:
    return date(2026, 12, day)


# --- local fake servers over real HTTP ----------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class FakeServer:
    """Answers each POST with the next status of `statuses` (the last one repeats), and
    records what it received."""

    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    url: str = ""
    telegram: bool = False

    def start(self) -> "FakeServer":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.received.append(Received(self.path, dict(self.headers.items()), body))
                index = min(len(fake.received), len(fake.statuses)) - 1
                status = fake.statuses[index]
                ok = 200 <= status < 300
                if fake.telegram:
                    answer = {"ok": ok, "result": {"message_id": len(fake.received)}}
                    if not ok:
                        answer = {"ok": False, "error_code": status, "description": "nope"}
                else:
                    answer = {"received": ok}
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def telegram(settings) -> Iterator[FakeServer]:
    fake = FakeServer(telegram=True).start()
    settings.TELEGRAM_API_BASE = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def receiver() -> Iterator[FakeServer]:
    fake = FakeServer().start()
    yield fake
    fake.stop()


# --- the world ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_queued_marks():
    clear_own_cache()
    yield
    clear_own_cache()


@pytest.fixture
def team(make_member):
    return {
        "owner": make_member(Role.OWNER),
        "head": make_member(Role.HEAD_OF_SALES),
        "anna": make_member(Role.SALESPERSON),
        "maria": make_member(Role.MARKETER),
    }


@pytest.fixture
def plan(organization, funnel, team):
    return PlanFactory(organization=organization, funnel=funnel, team=[(team["anna"], 1)])


@pytest.fixture
def leads(plan) -> PlanMetric:
    return PlanMetric.objects.get(plan=plan, key="leads")


@pytest.fixture
def leads_owner(plan, leads):
    return Responsibility.objects.get(plan=plan, metric=leads, parent__isnull=True).owner


def snap(plan, metric, day: date, status: str, owner=None, **values) -> None:
    PerformanceSnapshot.objects.update_or_create(
        plan=plan,
        metric=metric,
        owner=owner,
        day=day,
        defaults={
            "plan_to_date": Decimal(40),
            "actual_to_date": Decimal(30),
            "forecast": values.get("forecast", Decimal(300)),
            "status": status,
            "gap": Decimal(-10),
            "gap_pct": Decimal(-25),
            "computed_at": timezone.now(),
        },
    )


@pytest.fixture
def channels_on(organization, leads_owner, telegram, receiver):
    """The organization's bot and webhook; the leads' owner reads in English, by e-mail and
    in Telegram."""
    services.organization_settings_update(
        organization=organization, telegram_bot_token=TOKEN, webhook_url=f"{receiver.url}/hook"
    )
    services.person_settings_update(
        member=leads_owner, telegram_enabled=True, telegram_chat_id=CHAT, language="en"
    )


def slip_leads(plan, leads, capture, day: int = 3) -> list[Slip]:
    for d in range(1, day + 1):
        snap(plan, leads, dec(d), "slipped" if d == day else "on_track")
    with capture(execute=True):
        return slips_sync(plan=plan, day=dec(day))


def verify_signature(secret: str, received: Received) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.headers["X-Salesplan-Signature"])


# --- a slip notifies once on each channel -------------------------------------------------------


def test_a_slip_notifies_its_owner_once_on_each_channel(
    organization,
    plan,
    leads,
    leads_owner,
    channels_on,
    telegram,
    receiver,
    django_capture_on_commit_callbacks,
):
    # given the organization's bot and webhook, and an owner on e-mail and Telegram
    # when leads slip on 3 December
    (slip,) = slip_leads(plan, leads, django_capture_on_commit_callbacks)
    # then the owner has one unread notification in the inbox
    notification = Notification.objects.get(recipient=leads_owner)
    assert (notification.kind, notification.slip, notification.read_at) == (
        NotificationKind.SLIP_OPENED,
        slip,
        None,
    )
    # one e-mail, in their language (English)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [leads_owner.user.email]
    assert mail.outbox[0].subject == "Slipped: Leads in plan “December”"
    assert "since 2026-12-03" in mail.outbox[0].body
    # one Telegram message through the organization's bot to their chat
    assert len(telegram.received) == 1
    message = telegram.received[0]
    assert message.path == f"/bot{TOKEN}/sendMessage"
    assert message.json["chat_id"] == CHAT
    assert message.json["text"].startswith("Slipped: Leads in plan “December”")
    # one webhook event, signed with the organization's secret
    assert len(receiver.received) == 1
    event = receiver.received[0]
    secret = OrganizationNotificationSettings.objects.get(organization=organization).webhook_secret
    assert verify_signature(secret, event)
    assert not verify_signature(secret + "x", event)
    body = event.json
    assert body["event"] == "slip_opened"
    assert body["id"] == event.headers["X-Salesplan-Event-Id"]
    assert body["data"]["slip"] == slip.pk
    assert body["data"]["metric_key"] == "leads"
    assert body["data"]["gap"] == "-10.000000"
    # every delivery is sent, once
    statuses = Delivery.objects.values_list("channel", "status", "attempts")
    assert sorted(statuses) == [
        ("email", "sent", 1),
        ("telegram", "sent", 1),
        ("webhook", "sent", 1),
    ]
    # when the recompute and the sync run again for the same day, and every delivery's job
    # is queued again (a duplicate job, the sweep)
    with django_capture_on_commit_callbacks(execute=True):
        assert slips_sync(plan=plan, day=dec(3)) == []
    for delivery in Delivery.objects.all():
        assert services.delivery_send(delivery_id=delivery.pk) == "skipped"
    assert services.deliveries_sweep(now=timezone.now() + timedelta(days=1)) == 0
    # then nobody is told twice
    assert len(mail.outbox) == 1
    assert len(telegram.received) == 1
    assert len(receiver.received) == 1
    assert Notification.objects.filter(recipient=leads_owner).count() == 1


def test_without_channels_only_the_inbox(
    plan, leads, leads_owner, django_capture_on_commit_callbacks
):
    # given an owner who turned e-mail off, and an organization with no bot or webhook
    services.person_settings_update(member=leads_owner, email_enabled=False)
    # when leads slip
    slip_leads(plan, leads, django_capture_on_commit_callbacks)
    # then the inbox has it and nothing is sent
    assert Notification.objects.filter(recipient=leads_owner).count() == 1
    assert not Delivery.objects.exists()
    assert mail.outbox == []


# --- retries ------------------------------------------------------------------------------------


def _sweep_until_done(capture, limit: int = 10) -> list[int]:
    """Let each pending delivery's backoff pass (its next attempt moved to now) and run the
    beat's sweep, until nothing is pending. Returns the whole minutes of each backoff set by
    an attempt (measured from just before it)."""
    minutes = []
    for _ in range(limit):
        due = Delivery.objects.filter(status=DeliveryStatus.PENDING)
        if not due.exists():
            return minutes
        before = timezone.now()
        due.update(next_attempt_at=before)
        with capture(execute=True):
            assert services.deliveries_sweep(now=before) >= 1
        for delivery in Delivery.objects.filter(status=DeliveryStatus.PENDING):
            minutes.append(round((delivery.next_attempt_at - before).total_seconds() / 60))
    raise AssertionError("deliveries still pending")


def test_a_failing_webhook_is_retried_with_backoff_then_failed(
    settings, organization, plan, leads, receiver, django_capture_on_commit_callbacks
):
    # given a receiver that always answers 500, and three attempts allowed
    settings.DELIVERY_MAX_ATTEMPTS = 3
    settings.DELIVERY_RETRY_BASE_S = 60
    receiver.statuses = [500]
    services.organization_settings_update(organization=organization, webhook_url=receiver.url)
    # when leads slip: the first attempt fails
    slip_leads(plan, leads, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(channel="webhook")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "HTTP 500" in delivery.last_error
    # then it is not tried again before its time (a minute later)
    assert delivery.next_attempt_at - delivery.created_at >= timedelta(minutes=1)
    assert services.delivery_send(delivery_id=delivery.pk) == "skipped"
    assert len(receiver.received) == 1
    # and each time its backoff passes the sweep retries it (after 2 minutes the second
    # time), then gives up after the third attempt
    assert _sweep_until_done(django_capture_on_commit_callbacks) == [2]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "HTTP 500" in delivery.last_error
    assert len(receiver.received) == 3
    # the same event id on every attempt
    assert len({r.headers["X-Salesplan-Event-Id"] for r in receiver.received}) == 1
    # and a failed delivery is never tried again
    assert services.deliveries_sweep(now=timezone.now() + timedelta(days=30)) == 0
    assert services.delivery_send(delivery_id=delivery.pk) == "skipped"
    assert len(receiver.received) == 3


def test_backoff_doubles(settings):
    settings.DELIVERY_RETRY_BASE_S = 60
    assert [services.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]


def test_telegram_down_once_then_sent(
    organization,
    plan,
    leads,
    leads_owner,
    channels_on,
    telegram,
    django_capture_on_commit_callbacks,
):
    # given a Bot API that answers 502 once
    telegram.statuses = [502, 200]
    # when leads slip and the sweep comes back at the retry's time
    slip_leads(plan, leads, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(channel="telegram")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert _sweep_until_done(django_capture_on_commit_callbacks) == []
    # then it is sent on the second attempt, and only then (the first one's error kept)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.last_error.startswith("HTTP 502")
    assert len(telegram.received) == 2


def test_a_refused_bot_fails_at_once_and_shows_in_the_inbox(
    organization,
    plan,
    leads,
    leads_owner,
    channels_on,
    telegram,
    api_for,
    django_capture_on_commit_callbacks,
):
    # given a bot Telegram refuses (403: blocked by the user)
    telegram.statuses = [403]
    # when leads slip
    slip_leads(plan, leads, django_capture_on_commit_callbacks)
    # then the delivery fails at once (a retry cannot help) and the owner sees why
    delivery = Delivery.objects.get(channel="telegram")
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "HTTP 403" in delivery.last_error
    inbox = api_for(leads_owner).get("/api/v1/inbox/").json()
    channels = {d["channel"]: d for d in inbox["results"][0]["deliveries"]}
    assert channels["telegram"]["status"] == "failed"
    assert "HTTP 403" in channels["telegram"]["last_error"]
    assert channels["email"]["status"] == "sent"


# --- the daily digest ---------------------------------------------------------------------------


@pytest.fixture
def yesterday_news(plan, leads, team):
    """On 14 December (Moscow): leads slipped (opened that day), a conversion recovered; the
    revenue's forecast stored for that day."""
    conversion = PlanMetric.objects.get(plan=plan, key="stage_conversion:1")
    opened = Slip.objects.create(
        plan=plan,
        metric=leads,
        owner=team["maria"],
        since=dec(14),
        gap=Decimal(-12),
        gap_pct=Decimal("-20.5"),
        updated_on=dec(14),
    )
    Slip.objects.filter(pk=opened.pk).update(created_at=datetime(2026, 12, 14, 9, tzinfo=UTC))
    recovered = Slip.objects.create(
        plan=plan,
        metric=conversion,
        owner=team["head"],
        since=dec(10),
        closed_on=dec(14),
        gap=Decimal(-2),
        updated_on=dec(13),
    )
    Slip.objects.filter(pk=recovered.pk).update(created_at=datetime(2026, 12, 10, 9, tzinfo=UTC))
    revenue = PlanMetric.objects.get(plan=plan, key="revenue")
    snap(plan, revenue, dec(14), "at_risk", forecast=Decimal("850000"))
    return {"opened": opened, "recovered": recovered}


def test_the_digest_goes_once_a_day_to_the_owner_and_the_heads(
    team, yesterday_news, django_capture_on_commit_callbacks
):
    # given the owner reads in English
    services.person_settings_update(member=team["owner"], language="en")
    morning = datetime(2026, 12, 15, 6, 0, tzinfo=UTC)  # 9:00 in Moscow
    # when the beat's hourly digest runs on the morning of 15 December
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digest_all(now=morning) == 2
    # then the owner and the head of sales get yesterday's digest, nobody else
    digests = Notification.objects.filter(kind=NotificationKind.DAILY_DIGEST)
    assert set(digests.values_list("recipient", flat=True)) == {
        team["owner"].pk,
        team["head"].pk,
    }
    payload = digests.first().payload
    assert payload["day"] == "2026-12-14"
    assert [s["slip"] for s in payload["opened"]] == [yesterday_news["opened"].pk]
    assert [s["slip"] for s in payload["recovered"]] == [yesterday_news["recovered"].pk]
    assert payload["forecasts"][0]["forecast"] == "850000.000000"
    assert Decimal(payload["forecasts"][0]["planned"]) == Decimal(1_000_000)
    assert len(mail.outbox) == 2
    english = next(m for m in mail.outbox if m.to == [team["owner"].user.email])
    assert english.subject == "Salesplan daily digest for 2026-12-14"
    assert "Slipped yesterday: 1" in english.body
    assert "Recovered yesterday: 1" in english.body
    assert "“December”: ₽850,000 of ₽1,000,000 planned" in english.body
    # when it runs again the same day (every hour)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digest_all(now=morning + timedelta(hours=1)) == 0
        assert services.digest_all(now=morning + timedelta(hours=14)) == 0
    # then nobody gets a second one
    assert digests.count() == 2
    assert len(mail.outbox) == 2


def test_no_digest_before_the_morning(team, yesterday_news):
    night = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)  # 5:00 in Moscow, before DIGEST_HOUR
    assert services.digest_all(now=night) == 0
    assert not Notification.objects.exists()


# --- the API ------------------------------------------------------------------------------------


@pytest.fixture
def rival():
    other = OrganizationFactory(name="Rival")
    owner = MembershipFactory(organization=other, role=Role.OWNER)
    other_plan = PlanFactory(organization=other, funnel=FunnelFactory(organization=other))
    return {"owner": owner, "plan": other_plan}


def test_plan_slips_over_the_api(
    api_for, team, plan, leads, rival, django_capture_on_commit_callbacks
):
    # given a closed slip and an open one
    snap(plan, leads, dec(1), "slipped")
    snap(plan, leads, dec(2), "on_track")
    snap(plan, leads, dec(3), "slipped")
    for day in (1, 2, 3):
        slips_sync(plan=plan, day=dec(day))
    api = api_for(team["head"])
    # when the head of sales lists them
    answer = api.get(f"/api/v1/plans/{plan.pk}/slips/")
    # then both, newest first; ?open=1 the open one, ?open=0 the closed one
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert [(r["since"], r["closed_on"], r["is_open"]) for r in rows] == [
        ("2026-12-03", None, True),
        ("2026-12-01", "2026-12-02", False),
    ]
    assert rows[0]["metric_key"] == "leads"
    assert rows[0]["owner_name"] == team["maria"].display_name
    opened = api.get(f"/api/v1/plans/{plan.pk}/slips/?open=1").json()["results"]
    assert [r["since"] for r in opened] == ["2026-12-03"]
    closed = api.get(f"/api/v1/plans/{plan.pk}/slips/?open=0").json()["results"]
    assert [r["since"] for r in closed] == ["2026-12-01"]
    assert api.get(f"/api/v1/plans/{plan.pk}/slips/?open=maybe").status_code == 400
    # a salesperson sees only the slips of metrics they hold (not the marketer's leads)
    assert api_for(team["anna"]).get(f"/api/v1/plans/{plan.pk}/slips/").json()["results"] == []
    # another organization's plan is not found, either way round
    assert api.get(f"/api/v1/plans/{rival['plan'].pk}/slips/").status_code == 404
    assert api_for(rival["owner"]).get(f"/api/v1/plans/{plan.pk}/slips/").status_code == 404


def test_the_inbox_over_the_api(
    api_for, team, plan, leads, leads_owner, rival, django_capture_on_commit_callbacks
):
    # given two notifications for the leads' owner
    slip_leads(plan, leads, django_capture_on_commit_callbacks)
    snap(plan, leads, dec(4), "on_track")
    slips_sync(plan=plan, day=dec(4))
    slip_leads(plan, leads, django_capture_on_commit_callbacks, day=5)
    mine = list(Notification.objects.filter(recipient=leads_owner).order_by("id"))
    assert len(mine) == 2
    api = api_for(leads_owner)
    # when they read their inbox
    answer = api.get("/api/v1/inbox/")
    # then both, newest first, unread
    assert answer.status_code == 200
    body = answer.json()
    assert body["unread"] == 2
    assert [n["id"] for n in body["results"]] == [mine[1].pk, mine[0].pk]
    assert body["results"][0]["subject"]
    # marking one read
    read = api.post(f"/api/v1/inbox/{mine[0].pk}/read/")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert api.get("/api/v1/inbox/").json()["unread"] == 1
    assert [n["id"] for n in api.get("/api/v1/inbox/?unread=1").json()["results"]] == [mine[1].pk]
    # someone else's notification is not found: another member's, another organization's
    assert api_for(team["anna"]).post(f"/api/v1/inbox/{mine[1].pk}/read/").status_code == 404
    assert api_for(rival["owner"]).post(f"/api/v1/inbox/{mine[1].pk}/read/").status_code == 404
    assert api_for(rival["owner"]).get("/api/v1/inbox/").json()["results"] == []
    # marking all read
    answer = api.post("/api/v1/inbox/read-all/")
    assert answer.json() == {"marked": 1, "unread": 0}
    assert Notification.objects.filter(recipient=leads_owner, read_at__isnull=True).count() == 0


def test_person_settings_over_the_api(api_for, team):
    api = api_for(team["anna"])
    assert api.get("/api/v1/notifications/settings/").json() == {
        "email_enabled": True,
        "telegram_enabled": False,
        "telegram_chat_id": "",
        "language": "",
    }
    wanted = {
        "email_enabled": False,
        "telegram_enabled": True,
        "telegram_chat_id": "-100123",
        "language": "en",
    }
    assert api.put("/api/v1/notifications/settings/", wanted, format="json").json() == wanted
    assert api.get("/api/v1/notifications/settings/").json() == wanted
    bad = api.put(
        "/api/v1/notifications/settings/",
        {**wanted, "telegram_chat_id": "not a chat", "language": "de"},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"telegram_chat_id", "language"}
    # another person's settings are untouched
    assert api_for(team["head"]).get("/api/v1/notifications/settings/").json()["language"] == ""


def test_organization_settings_over_the_api(api_for, team, organization, rival):
    url = "/api/v1/organization/notifications/"
    # only the owner and heads of sales see or change them (the token and secret)
    for role in ("anna", "maria"):
        assert api_for(team[role]).get(url).status_code == 403
        assert api_for(team[role]).put(url, {}, format="json").status_code == 403
    head = api_for(team["head"])
    first = head.get(url).json()
    assert first["has_telegram_bot_token"] is False
    assert len(first["webhook_secret"]) >= 32
    saved = head.put(
        url,
        {
            "telegram_bot_token": TOKEN,
            "telegram_chat_id": "-1001",
            "webhook_url": "https://hooks.example.com/salesplan",
        },
        format="json",
    ).json()
    assert saved["has_telegram_bot_token"] is True
    assert "telegram_bot_token" not in saved
    assert saved["webhook_secret"] == first["webhook_secret"]
    stored = OrganizationNotificationSettings.objects.get(organization=organization)
    assert TOKEN not in stored.telegram_bot_token_encrypted
    assert services.bot_token(stored) == TOKEN
    # leaving the token out keeps it; a new secret on request
    again = head.put(url, {"regenerate_webhook_secret": True}, format="json").json()
    assert again["has_telegram_bot_token"] is True
    assert again["webhook_secret"] != first["webhook_secret"]
    assert head.put(url, {"webhook_url": "ftp://x"}, format="json").status_code == 400
    # the rival's owner sees their own organization's, not ours
    theirs = api_for(rival["owner"]).get(url).json()
    assert theirs["webhook_secret"] != again["webhook_secret"]
    assert theirs["has_telegram_bot_token"] is False


# --- the inbox page -----------------------------------------------------------------------------


def test_the_inbox_page_and_its_unread_badge(
    client_for, team, plan, leads, leads_owner, django_capture_on_commit_callbacks
):
    slip_leads(plan, leads, django_capture_on_commit_callbacks)
    notification = Notification.objects.get(recipient=leads_owner)
    client = client_for(leads_owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/inbox/"})
    # the menu's badge counts the unread
    badge = client.get("/inbox/badge/")
    assert badge.status_code == 200
    assert ">1</span>" in badge.content.decode()
    # the page lists it in the reader's language, with its channels
    page = client.get("/inbox/").content.decode()
    assert "Slipped: Leads in plan “December”" in page
    assert 'id="inbox-unread">1<' in page
    assert "E-mail: Sent" in page
    # marking it read empties the badge
    assert client.post(f"/inbox/{notification.pk}/read/").status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "badge" not in client.get("/inbox/badge/").content.decode()
    # another person cannot mark it
    other = client_for(team["anna"])
    assert other.post(f"/inbox/{notification.pk}/read/").status_code == 404
    assert other.post("/inbox/read-all/").status_code == 302
