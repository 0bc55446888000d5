"""A slip notifies once on each channel when a real Celery worker runs the recompute
(`plans.refresh_performance`): the recompute opens the slips of its last day, their
notifications' deliveries go through the real queue to `notifications.deliver` in the same
worker, and each channel gets exactly one message per notification: e-mail through Django's
backend (the file backend, as EMAIL_URL gives it to the worker), Telegram through a local fake
Bot API server, the organization's webhook through a local fake receiver that checks the
signature. A recompute queued again, over the whole period, sends nothing more.

The worker is another process: what it must use (the fake Bot API's address, the e-mail
backend) reaches it as the environment it starts with (tests.workers.Workers copies this
process's environment), read by salesplan.settings (TELEGRAM_API_BASE, EMAIL_URL).
Needs Redis (the queue); passes on SQLite and PostgreSQL (CI).
"""

import time
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import F

from metrics.models import PerformanceSnapshot, PlanMetric, Slip
from responsibility.models import Responsibility
from salesplan.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    OrganizationNotificationSettings,
    Role,
    SalesPlan,
)
from salesplan.notifications import services
from salesplan.notifications.messages import language_or_default, render
from salesplan.notifications.tasks import deliver
from salesplan.plans.tasks import refresh_performance
from tests.conftest import clear_own_cache
from tests.factories import PlanFactory
from tests.salesplan.test_notifications import FakeServer, verify_signature
from tests.salesplan.test_performance_worker import last_month
from tests.workers import Workers

pytestmark = [pytest.mark.redis]

TOKEN = "123456:TEST-token"
PERSON_CHAT = "987654321"
ORGANIZATION_CHAT = "-1001234567890"
# How long the worker may take to recompute the month and send every delivery (a first
# worker start imports Django and the app: seconds, not minutes).
DELIVERED_TIMEOUT_S = 120
TASK_TIMEOUT_S = 120
# After the second recompute and the duplicate delivery jobs have answered, how long nothing
# more may arrive anywhere (a delivery queued by the rerun would arrive within a fraction of it).
QUIET_S = 3
POLL_S = 0.1
# Django's file e-mail backend ends each message with a line of 79 dashes.
EMAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


@pytest.fixture(autouse=True)
def _no_queued_marks():
    # The recompute's debounce marks live in Redis, which outlives a test: a stale mark of
    # the same plan id would keep the plan's save from queueing its recompute.
    clear_own_cache()
    yield
    clear_own_cache()


@pytest.fixture
def telegram() -> Iterator[FakeServer]:
    fake = FakeServer(telegram=True).start()
    yield fake
    fake.stop()


@pytest.fixture
def receiver() -> Iterator[FakeServer]:
    fake = FakeServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def worker_environment(monkeypatch, telegram, outbox) -> None:
    """What the worker starts with: the fake Bot API, and e-mail written to `outbox` (four
    slashes: dj_email_url drops the first one of the path)."""
    monkeypatch.setenv("TELEGRAM_API_BASE", telegram.url)
    monkeypatch.setenv("EMAIL_URL", f"file:///{outbox}")


@pytest.fixture
def team(make_member):
    return {
        "anna": make_member(Role.SALESPERSON),
        "boris": make_member(Role.SALESPERSON),
        "head": make_member(Role.HEAD_OF_SALES),
        "maria": make_member(Role.MARKETER),  # the pie gives the marketer the leads
    }


@pytest.fixture
def channels_on(organization, team, receiver):
    """The organization's bot (and its own chat) and webhook; Maria reads in English, by
    e-mail and in Telegram; everyone else by e-mail only (the default), in Russian."""
    services.organization_settings_update(
        organization=organization,
        telegram_bot_token=TOKEN,
        telegram_chat_id=ORGANIZATION_CHAT,
        webhook_url=f"{receiver.url}/hook",
    )
    services.person_settings_update(
        member=team["maria"], telegram_enabled=True, telegram_chat_id=PERSON_CHAT, language="en"
    )


@pytest.fixture
def plan(celery_workers, worker_environment, organization, funnel, team, channels_on) -> SalesPlan:
    """Last month's plan with no actuals at all: every day past, so whenever the recompute
    runs it covers the whole month, and on its last day leads are behind plan (slipped).
    Saved with the queue routed to the test's workers and none started yet: the save's own
    recompute job waits on the real queue."""
    first, last = last_month(organization.time_zone)
    plan = PlanFactory(
        organization=organization,
        funnel=funnel,
        name="Last month",
        period_start=first,
        period_end=last,
        team=[(team["anna"], "0.6"), (team["boris"], "0.4")],
    )
    leads = PlanMetric.objects.get(plan=plan, key="leads")
    top = Responsibility.objects.get(plan=plan, metric=leads, parent__isnull=True)
    assert top.owner == team["maria"]
    assert not PerformanceSnapshot.objects.filter(plan=plan).exists()  # nothing ran here
    return plan


# --- what was sent ------------------------------------------------------------------------------


def emails(outbox: Path) -> list[EmailMessage]:
    found = []
    for path in sorted(outbox.glob("*.log")):
        for chunk in path.read_bytes().split(EMAIL_SEPARATOR):
            if chunk.strip():
                found.append(message_from_bytes(chunk, policy=policy.default))
    return found


def subject_of(message: EmailMessage) -> str:
    # A long encoded subject is folded from its first line on ("Subject:" then a folded line):
    # unfolded, it starts with the fold's space.
    return str(message["Subject"]).strip()


def language_of(notification: Notification) -> str:
    """The reader's language: the person's choice, the site's default for the organization."""
    if notification.recipient is None:
        return settings.LANGUAGE_CODE
    return language_or_default(services.person_settings(notification.recipient).language)


def sent_on(deliveries: list[Delivery], channel: str) -> list[Notification]:
    return [d.notification for d in deliveries if d.channel == channel]


def all_delivered(workers: Workers, worker, plan: SalesPlan) -> list[Delivery]:
    """Once the recompute committed its slips, every delivery of their notifications, when
    none is pending any more (sent, or failed: the assertions say which)."""
    deadline = time.monotonic() + DELIVERED_TIMEOUT_S
    while time.monotonic() < deadline:
        deliveries = list(
            Delivery.objects.filter(notification__slip__plan=plan)
            .select_related("notification__recipient__user")
            .order_by("id")
        )
        if deliveries and all(d.status != DeliveryStatus.PENDING for d in deliveries):
            return deliveries
        if worker.poll() is not None:
            pytest.fail(f"the worker exited:\n{workers.output(worker)}")
        time.sleep(POLL_S)
    pytest.fail(f"deliveries still pending or never made:\n{workers.output(worker)}")


def everything_sent(plan: SalesPlan, telegram, receiver, outbox) -> tuple:
    return (
        Slip.objects.filter(plan=plan).count(),
        Notification.objects.count(),
        sorted(Delivery.objects.values_list("id", "status", "attempts")),
        len(telegram.received),
        len(receiver.received),
        len(emails(outbox)),
    )


# --- the test -----------------------------------------------------------------------------------


def test_a_slip_notifies_once_on_each_channel_from_a_real_worker(
    celery_workers, plan, organization, team, telegram, receiver, outbox
):
    # given the plan's recompute queued on the real queue when it was saved
    # when a worker process starts and runs it
    worker = celery_workers.start()
    deliveries = all_delivered(celery_workers, worker, plan)
    # then the recompute stored the month and opened the slips of its last day, leads among
    # them, Maria's
    assert PerformanceSnapshot.objects.filter(plan=plan, day=plan.period_end).exists()
    slips = list(Slip.objects.filter(plan=plan, closed_on__isnull=True))
    leads = next(s for s in slips if s.metric.key == "leads" and not s.personal)
    assert leads.owner == team["maria"]
    # each slip is told to its owner and to the organization's own systems
    notifications = list(Notification.objects.filter(slip__plan=plan))
    assert Counter(n.slip_id for n in notifications if n.recipient is None) == Counter(
        s.pk for s in slips
    )
    assert {n.slip_id for n in notifications if n.recipient is not None} == {
        s.pk for s in slips if s.owner is not None
    }
    # and every delivery was sent by the worker, at the first attempt
    assert {(d.channel, d.status, d.attempts) for d in deliveries} == {
        (Channel.EMAIL, DeliveryStatus.SENT, 1),
        (Channel.TELEGRAM, DeliveryStatus.SENT, 1),
        (Channel.WEBHOOK, DeliveryStatus.SENT, 1),
    }

    # e-mail: one message per notification of a person, in their language
    expected = Counter()
    for notification in sent_on(deliveries, Channel.EMAIL):
        message = render(notification, language_of(notification))
        expected[(notification.recipient.user.email, message.subject, message.text)] += 1
    received = Counter(
        (str(m["To"]), subject_of(m), m.get_content().rstrip("\n")) for m in emails(outbox)
    )
    assert received == expected
    maria = [subject for to, subject, _ in received if to == team["maria"].user.email]
    assert "Slipped: Leads in plan “Last month”" in maria

    # Telegram: through the organization's bot, one message per notification to Maria's chat
    # (hers) or the organization's chat (the organization's)
    assert {r.path for r in telegram.received} == {f"/bot{TOKEN}/sendMessage"}
    expected = Counter()
    for notification in sent_on(deliveries, Channel.TELEGRAM):
        message = render(notification, language_of(notification))
        chat = ORGANIZATION_CHAT if notification.recipient is None else PERSON_CHAT
        assert notification.recipient in (None, team["maria"])
        expected[(chat, f"{message.subject}\n\n{message.text}")] += 1
    received = Counter((r.json["chat_id"], r.json["text"]) for r in telegram.received)
    assert received == expected
    assert any(
        chat == PERSON_CHAT and text.startswith("Slipped: Leads in plan “Last month”")
        for chat, text in received
    )

    # the webhook: one event per organization's notification, signed with its secret
    secret = OrganizationNotificationSettings.objects.get(organization=organization).webhook_secret
    organizations = sent_on(deliveries, Channel.WEBHOOK)
    assert Counter(r.headers["X-Salesplan-Event-Id"] for r in receiver.received) == Counter(
        str(n.event_id) for n in organizations
    )
    events = {str(n.event_id): n for n in organizations}
    for event in receiver.received:
        assert event.path == "/hook"
        assert verify_signature(secret, event)
        assert not verify_signature(secret + "x", event)
        notification = events[event.json["id"]]
        assert event.json["event"] == "slip_opened"
        assert event.json["data"]["slip"] == notification.slip_id
        assert event.json["data"] == notification.payload

    # when the recompute is queued again over the whole month (it rewrites every row and
    # syncs the same last day), and every delivery's job is queued again (a duplicate job)
    before = everything_sent(plan, telegram, receiver, outbox)
    SalesPlan.objects.filter(pk=plan.pk).update(performance_dirty_from=F("period_start"))
    written = refresh_performance.apply_async(args=[plan.pk]).get(timeout=TASK_TIMEOUT_S)
    assert written == PerformanceSnapshot.objects.filter(plan=plan).count() > 0
    answers = [deliver.apply_async(args=[d.pk]).get(timeout=TASK_TIMEOUT_S) for d in deliveries]
    assert set(answers) == {"skipped"}
    # then nothing more is opened, made or sent, then or in the seconds after
    quiet_until = time.monotonic() + QUIET_S
    while time.monotonic() < quiet_until:
        assert everything_sent(plan, telegram, receiver, outbox) == before
        time.sleep(POLL_S)
    assert everything_sent(plan, telegram, receiver, outbox) == before
