"""The notification settings pages (/settings/notifications/ for every member, and
/settings/organization/notifications/ for owners and heads of sales): saved through the
services the API calls, so the page and the API refuse the same input with the same words; the
test message goes to a local fake Telegram Bot API over real HTTP; a failed delivery's retry
(page and API) queues it exactly once."""

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from metrics.models import PlanMetric, Slip
from salesplan.formatting import format_money
from salesplan.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationKind,
    NotificationSettings,
    OrganizationNotificationSettings,
    Role,
)
from salesplan.notifications import services
from tests.factories import MembershipFactory, OrganizationFactory, PlanFactory
from tests.salesplan.test_notifications import CHAT, TOKEN, FakeServer

pytestmark = pytest.mark.django_db

PERSON_URL = "/settings/notifications/"
ORGANIZATION_URL = "/settings/organization/notifications/"


@pytest.fixture
def telegram(settings) -> Iterator[FakeServer]:
    """The fake Bot API of tests/salesplan/test_notifications.py, over real HTTP."""
    fake = FakeServer(telegram=True).start()
    settings.TELEGRAM_API_BASE = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def receiver() -> Iterator[FakeServer]:
    """A webhook receiver answering FakeServer.statuses."""
    fake = FakeServer().start()
    yield fake
    fake.stop()


@pytest.fixture
def team(make_member):
    return {
        "owner": make_member(Role.OWNER),
        "head": make_member(Role.HEAD_OF_SALES),
        "anna": make_member(Role.SALESPERSON),
        "maria": make_member(Role.MARKETER),
    }


def browser(member, language: str = "en") -> Client:
    """A signed-in browser of its own (several people in one test), reading `language`."""
    client = Client()
    client.force_login(member.user)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    return client


def field_block(page: str, name: str) -> str:
    """The HTML of one field's block (its label, input, help and errors)."""
    start = page.index(f'name="{name}"')
    opening = page.rindex('<div class="field', 0, start)
    return page[opening : page.index("</div>", start)]


# --- a person's page --------------------------------------------------------------------------


def test_the_person_page_shows_the_saved_settings_and_saves_them(team):
    # given Anna, a salesperson with the defaults (e-mail on, Telegram off)
    client = browser(team["anna"])
    # when she opens her notification settings
    page = client.get(PERSON_URL)
    # then a form with labelled fields, its CSRF token, and the help to find the chat id
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    for label in ("By e-mail", "In Telegram", "Telegram chat id", "Language of notifications"):
        assert label in html
    assert "@userinfobot" in html
    assert re.search(r'<input[^>]*name="email_enabled"[^>]*checked', html)
    assert not re.search(r'<input[^>]*name="telegram_enabled"[^>]*checked', html)
    # when she turns Telegram on with her chat id and English, e-mail off
    saved = client.post(
        PERSON_URL,
        {"telegram_enabled": "on", "telegram_chat_id": f" {CHAT} ", "language": "en"},
    )
    # then it is saved (the id trimmed) and the page says so
    assert saved.status_code == 302
    stored = NotificationSettings.objects.get(membership=team["anna"])
    assert (
        stored.email_enabled,
        stored.telegram_enabled,
        stored.telegram_chat_id,
        stored.language,
    ) == (False, True, CHAT, "en")
    after = client.get(PERSON_URL).content.decode()
    assert "Your notification settings are saved." in after
    assert f'value="{CHAT}"' in after
    # and the API reads the same
    assert services.person_settings(team["anna"]).telegram_chat_id == CHAT


def test_a_bad_chat_id_is_shown_next_to_its_field_and_nothing_is_saved(team, api_for):
    client = browser(team["anna"])
    # when Anna types a chat id that is no chat
    page = client.post(
        PERSON_URL, {"email_enabled": "on", "telegram_enabled": "on", "telegram_chat_id": "me!"}
    )
    # then the page comes back with the error next to that field, in her language
    assert page.status_code == 200
    block = field_block(page.content.decode(), "telegram_chat_id")
    assert "has-error" in block
    assert "Enter the chat&#x27;s number" in block
    assert 'value="me!"' in block
    assert not NotificationSettings.objects.filter(membership=team["anna"]).exists()
    # and the API refuses it with the same words (one rule, in the service)
    answer = api_for(team["anna"]).put(
        "/api/v1/notifications/settings/",
        {
            "email_enabled": True,
            "telegram_enabled": True,
            "telegram_chat_id": "me!",
            "language": "",
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert answer.json()["telegram_chat_id"][0].startswith("Enter the chat's number")


def test_the_test_message_goes_to_the_fake_telegram_and_by_e_mail(team, organization, telegram):
    # given the organization's bot, and Anna on e-mail and Telegram, reading Russian messages
    services.organization_settings_update(organization=organization, telegram_bot_token=TOKEN)
    services.person_settings_update(
        member=team["anna"], telegram_enabled=True, telegram_chat_id=CHAT, language="ru"
    )
    client = browser(team["anna"])  # the pages in English
    # when she sends a test message
    answer = client.post("/settings/notifications/test/", follow=True)
    # then the fake Bot API got one sendMessage to her chat through the organization's bot
    assert len(telegram.received) == 1
    sent = telegram.received[0]
    assert sent.path == f"/bot{TOKEN}/sendMessage"
    assert sent.json["chat_id"] == CHAT
    assert sent.json["text"].startswith("Salesplan")
    # one e-mail to her address
    assert [m.to for m in mail.outbox] == [[team["anna"].user.email]]
    # and the page says how each went, in the page's language
    html = answer.content.decode()
    assert f"Telegram: Sent to chat {CHAT}." in html
    assert f"E-mail: Sent to {team['anna'].user.email}." in html
    # nothing is stored: a test is not a notification
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


def test_a_refused_test_message_says_why(team, organization, telegram):
    # given a Bot API that refuses (403: the person never pressed Start)
    telegram.statuses = [403]
    services.organization_settings_update(organization=organization, telegram_bot_token=TOKEN)
    services.person_settings_update(
        member=team["anna"], email_enabled=False, telegram_enabled=True, telegram_chat_id=CHAT
    )
    # when she sends a test message
    html = browser(team["anna"]).post("/settings/notifications/test/", follow=True)
    # then one attempt, and the page tells her what to do, with Telegram's answer
    assert len(telegram.received) == 1
    text = html.content.decode()
    assert "Telegram: The message was not sent: Check the chat id" in text
    assert "HTTP 403" in text
    assert mail.outbox == []


def test_a_test_message_without_a_bot_or_channels(team, telegram):
    anna = browser(team["anna"])
    # Telegram on, but the organization has no bot: nothing is sent, the page says so
    services.person_settings_update(
        member=team["anna"], email_enabled=False, telegram_enabled=True, telegram_chat_id=CHAT
    )
    html = anna.post("/settings/notifications/test/", follow=True).content.decode()
    assert "The organization has no Telegram bot yet" in html
    assert telegram.received == []
    # every channel off: the page says to turn one on
    services.person_settings_update(member=team["anna"], telegram_enabled=False)
    html = anna.post("/settings/notifications/test/", follow=True).content.decode()
    assert "No channel is on" in html
    # the test is a POST (with its CSRF token in a browser)
    assert anna.get("/settings/notifications/test/").status_code == 405


# --- the organization's page ------------------------------------------------------------------


def test_only_owners_and_heads_manage_the_organization_page(team, organization):
    failed = _failed_webhook_delivery(organization)
    Delivery.objects.filter(pk=failed.pk).update(status=DeliveryStatus.FAILED)
    for role in ("anna", "maria"):
        client = browser(team[role])
        assert client.get(ORGANIZATION_URL).status_code == 403
        assert (
            client.post(ORGANIZATION_URL, {"webhook_url": "https://x.example"}).status_code == 403
        )
        assert client.post(f"{ORGANIZATION_URL}secret/").status_code == 403
        assert client.post(f"{ORGANIZATION_URL}deliveries/{failed.pk}/retry/").status_code == 403
        # their settings tabs do not offer it
        tabs = client.get(PERSON_URL).content.decode()
        assert ORGANIZATION_URL not in tabs
    stored = OrganizationNotificationSettings.objects.get(organization=organization)
    assert stored.webhook_url == "http://127.0.0.1:9/hook"
    assert Delivery.objects.get(pk=failed.pk).status == DeliveryStatus.FAILED
    for role in ("owner", "head"):
        assert browser(team[role]).get(ORGANIZATION_URL).status_code == 200


def test_the_organization_page_saves_the_token_write_only(team, organization):
    client = browser(team["head"])
    first = client.get(ORGANIZATION_URL).content.decode()
    assert 'id="bot-token-state">Bot token: <span class="badge warn">not set' in first
    secret = services.organization_settings(organization).webhook_secret
    assert secret in first
    assert "X-Salesplan-Signature: sha256=" in first
    assert "hmac.compare_digest" in first
    # when the head sets the bot, the chat and the webhook
    saved = client.post(
        ORGANIZATION_URL,
        {
            "telegram_bot_token": TOKEN,
            "telegram_chat_id": "-1001",
            "webhook_url": "https://hooks.example.com/salesplan",
        },
    )
    assert saved.status_code == 302
    stored = OrganizationNotificationSettings.objects.get(organization=organization)
    assert services.bot_token(stored) == TOKEN
    assert (stored.telegram_chat_id, stored.webhook_url) == (
        "-1001",
        "https://hooks.example.com/salesplan",
    )
    # then the page says "set" and never shows the token
    page = client.get(ORGANIZATION_URL).content.decode()
    assert '<span class="badge ok">set' in page
    assert TOKEN not in page
    assert 'value="https://hooks.example.com/salesplan"' in page
    # a save without a token keeps it; "remove" clears it
    client.post(ORGANIZATION_URL, {"telegram_chat_id": "-1001", "webhook_url": ""})
    stored.refresh_from_db()
    assert services.bot_token(stored) == TOKEN
    assert stored.webhook_url == ""
    client.post(ORGANIZATION_URL, {"remove_telegram_bot_token": "on", "telegram_chat_id": ""})
    stored.refresh_from_db()
    assert stored.telegram_bot_token_encrypted == ""
    assert "not set" in client.get(ORGANIZATION_URL).content.decode()


def test_bad_organization_settings_are_shown_next_to_their_fields(team, organization, api_for):
    client = browser(team["owner"])
    page = client.post(
        ORGANIZATION_URL,
        {"telegram_bot_token": "not a token", "telegram_chat_id": "chat", "webhook_url": "ftp://x"},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Enter a full address starting with https://" in field_block(html, "webhook_url")
    assert "Enter the chat&#x27;s number" in field_block(html, "telegram_chat_id")
    assert "copy it from @BotFather as it is" in field_block(html, "telegram_bot_token")
    assert "not a token" not in html  # a password field is never filled back
    stored = services.organization_settings(organization)
    assert (stored.telegram_bot_token_encrypted, stored.telegram_chat_id, stored.webhook_url) == (
        "",
        "",
        "",
    )
    # the API answers the same fields with the same words
    answer = api_for(team["owner"]).put(
        "/api/v1/organization/notifications/",
        {"telegram_bot_token": "not a token", "telegram_chat_id": "chat", "webhook_url": "ftp://x"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    errors = answer.json()
    assert set(errors) == {"telegram_bot_token", "telegram_chat_id", "webhook_url"}
    assert errors["webhook_url"][0].startswith("Enter a full address starting with https://")


def test_the_webhook_secret_is_regenerated(team, organization):
    client = browser(team["head"])
    before = services.organization_settings(organization).webhook_secret
    answer = client.post(f"{ORGANIZATION_URL}secret/", follow=True)
    after = services.organization_settings(organization).webhook_secret
    assert after != before
    assert len(after) >= 32
    html = answer.content.decode()
    assert after in html
    assert before not in html
    assert client.get(f"{ORGANIZATION_URL}secret/").status_code == 405


# --- failed deliveries and their retry --------------------------------------------------------


def _failed_webhook_delivery(organization, url: str = "http://127.0.0.1:9/hook") -> Delivery:
    """An event for the organization's webhook at `url`, not sent yet."""
    services.organization_settings_update(organization=organization, webhook_url=url)
    notification = Notification.objects.create(
        organization=organization,
        recipient=None,
        kind=NotificationKind.DAILY_DIGEST,
        dedupe_key="test:digest",
        payload={"day": "2026-12-14", "opened": [], "recovered": [], "forecasts": []},
    )
    return Delivery.objects.create(notification=notification, channel="webhook")


def test_a_failed_delivery_is_listed_and_its_retry_queues_it_once(
    settings, team, organization, receiver, django_capture_on_commit_callbacks
):
    # given a webhook that answered 500 on the only attempt allowed
    settings.DELIVERY_MAX_ATTEMPTS = 1
    receiver.statuses = [500, 200]
    delivery = _failed_webhook_delivery(organization, f"{receiver.url}/hook")
    assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    client = browser(team["head"])
    # then the page lists it with its error and a retry button
    page = client.get(ORGANIZATION_URL).content.decode()
    row = page[page.index(f'id="delivery-{delivery.pk}"') :]
    assert "HTTP 500" in row[: row.index("</tr>")]
    assert f"deliveries/{delivery.pk}/retry/" in row
    # when the head clicks retry twice before the job runs
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = client.post(f"{ORGANIZATION_URL}deliveries/{delivery.pk}/retry/")
        second = client.post(f"{ORGANIZATION_URL}deliveries/{delivery.pk}/retry/", follow=True)
    # then it is pending again from its first attempt, queued exactly once
    assert first.status_code == 302
    assert "nothing to retry" in second.content.decode()
    assert len(queued) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 0, "")
    # and when the queued job runs, the receiver gets it once more, and it is sent
    for callback in queued:
        callback()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert len(receiver.received) == 2
    assert f'id="delivery-{delivery.pk}"' not in client.get(ORGANIZATION_URL).content.decode()


def test_retry_over_the_api(
    settings, team, organization, api_for, django_capture_on_commit_callbacks
):
    # given a failed delivery of the organization's webhook (nobody listens on port 9)
    settings.DELIVERY_MAX_ATTEMPTS = 1
    delivery = _failed_webhook_delivery(organization)
    assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    url = f"/api/v1/deliveries/{delivery.pk}/retry/"
    # a salesperson may not; another organization's owner does not find it
    assert api_for(team["anna"]).post(url).status_code == 403
    rival = MembershipFactory(organization=OrganizationFactory(name="Rival"), role=Role.OWNER)
    assert api_for(rival).post(url).status_code == 404
    # the owner retries: 202, pending, queued once; again: 409, nothing queued
    api = api_for(team["owner"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        answer = api.post(url)
        again = api.post(url)
    assert answer.status_code == 202
    assert answer.json()["status"] == "pending"
    assert answer.json()["attempts"] == 0
    assert again.status_code == 409
    assert len(queued) == 1
    # the organization settings list it no more among the failed ones
    listed = api.get("/api/v1/organization/notifications/").json()["failed_deliveries"]
    assert listed == []
    # a person's own delivery is theirs (the inbox), not the organization's to retry
    own = Notification.objects.create(
        organization=organization,
        recipient=team["owner"],
        kind=NotificationKind.DAILY_DIGEST,
        dedupe_key="test:own",
        payload={"day": "2026-12-14", "opened": [], "recovered": [], "forecasts": []},
    )
    personal = Delivery.objects.create(
        notification=own, channel="email", status=DeliveryStatus.FAILED
    )
    assert api.post(f"/api/v1/deliveries/{personal.pk}/retry/").status_code == 404


# --- links ------------------------------------------------------------------------------------


def test_the_settings_tabs_and_the_account_page_link_the_pages(team):
    head = browser(team["head"])
    tabs = head.get("/settings/calendar/").content.decode()
    assert f'href="{PERSON_URL}"' in tabs
    assert f'href="{ORGANIZATION_URL}"' in tabs
    account = browser(team["anna"]).get("/account/").content.decode()
    assert f'href="{PERSON_URL}"' in account


# --- the slip inbox ---------------------------------------------------------------------------


def _slip(plan, key: str, owner, *, cost: str | None, since=None, closed_on=None, personal=False):
    """A slip as the recompute stores it (salesplan.plans.slips), with its figures given."""
    return Slip.objects.create(
        plan=plan,
        metric=PlanMetric.objects.get(plan=plan, key=key),
        owner=owner,
        personal=personal,
        since=since or date(2026, 12, 3),
        closed_on=closed_on,
        gap=Decimal("-40"),
        gap_pct=Decimal("-19.05"),
        attributed_revenue=None if cost is None else Decimal(cost),
        updated_on=date(2026, 12, 15),
    )


@pytest.fixture
def slips(team, organization, funnel):
    """The December plan with three open slips (the marketer's leads costing 1 572 469.83 ₽,
    Anna's own paid deals 52 275.87 ₽, the head's revenue with no attribution) and a closed one."""

    plan = PlanFactory(organization=organization, funnel=funnel, team=[(team["anna"], 1)])
    return {
        "plan": plan,
        "leads": _slip(plan, "leads", team["maria"], cost="-1572469.83"),
        "paid": _slip(plan, "stage_volume:4", team["anna"], cost="-52275.87", personal=True),
        "revenue": _slip(plan, "revenue", team["head"], cost=None),
        "closed": _slip(
            plan, "target_leads", team["maria"], cost="-10.00", closed_on=date(2026, 12, 10)
        ),
    }


def test_the_inbox_lists_open_slips_with_their_cost_and_history(team, slips):
    # when the owner opens the inbox
    page = browser(team["owner"]).get("/inbox/")
    assert page.status_code == 200
    html = page.content.decode()
    # then every open slip of the organization, the most costly first, with its owner, since
    # when, its gap and what it cost, and a link to the metric's history
    order = [html.index(f'data-slip="{slips[k].pk}"') for k in ("leads", "paid", "revenue")]
    assert order == sorted(order)
    assert f'data-slip="{slips["closed"].pk}"' not in html
    row = html[order[0] : order[1]]
    assert team["maria"].display_name in row
    assert "03.12.2026" in row
    assert format_money(slips["leads"].attributed_revenue, "RUB", "en") in row
    plan = slips["plan"]
    assert f'href="/plans/{plan.pk}/metrics/{slips["leads"].metric_id}/history/"' in row
    # a personal slip links to its owner's own rows
    paid = slips["paid"]
    history = f"/plans/{plan.pk}/metrics/{paid.metric_id}/history/?owner={team['anna'].pk}"
    assert history in html


def test_a_salesperson_and_a_marketer_see_their_own_slips(team, slips):
    anna = browser(team["anna"]).get("/inbox/").content.decode()
    assert f'data-slip="{slips["paid"].pk}"' in anna
    assert f'data-slip="{slips["leads"].pk}"' not in anna
    maria = browser(team["maria"]).get("/inbox/").content.decode()
    assert f'data-slip="{slips["leads"].pk}"' in maria
    assert f'data-slip="{slips["paid"].pk}"' not in maria


def test_another_organizations_slips_are_never_shown(team, slips):
    stranger = MembershipFactory(organization=OrganizationFactory(name="Other"), role=Role.OWNER)
    html = browser(stranger).get("/inbox/").content.decode()
    assert "data-slip=" not in html
    assert "No open slips." in html


def test_the_unread_counter_shows_and_marking_read_lowers_it(team, slips):
    # given the slip notifications the recompute sends (one each to Anna: her slip)
    services.slip_opened_notify(slips=list(Slip.objects.filter(owner=team["anna"])))
    client = browser(team["anna"])
    # then the menu loads the badge, and the badge counts her unread notification
    assert 'hx-get="/inbox/badge/"' in client.get("/inbox/").content.decode()
    badge = client.get("/inbox/badge/").content.decode()
    assert re.search(r'<span class="badge"[^>]*>1</span>', badge)
    # when she marks it read, the badge is empty
    notification = Notification.objects.get(recipient=team["anna"])
    assert client.post(f"/inbox/{notification.pk}/read/").status_code == 302
    assert "badge" not in client.get("/inbox/badge/").content.decode()


def test_the_inbox_costs_the_same_queries_with_more_slips(team, slips):
    client = browser(team["owner"])
    client.get("/inbox/")
    with CaptureQueriesContext(connection) as few:
        client.get("/inbox/")
    for key in ("target_lead_share", "cost_per_lead", "average_check"):
        _slip(slips["plan"], key, team["head"], cost="-1.00")
    with CaptureQueriesContext(connection) as more:
        client.get("/inbox/")
    assert len(more.captured_queries) == len(few.captured_queries) <= 10
