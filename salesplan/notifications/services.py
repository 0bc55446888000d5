"""Creating notifications and delivering them.

A notification is created once per recipient and event (`dedupe_key`, unique in the
organization) and its deliveries once per channel (unique), inside the caller's transaction;
each delivery is queued after commit (`salesplan.queue.enqueue`), never sent in the request or
the recompute. `delivery_send` claims the row under a lock and sends only a pending one, so a
rerun or a duplicate job sends nothing twice; a failure waits DELIVERY_RETRY_BASE_S × 2^n and
the beat's sweep queues it again, until DELIVERY_MAX_ATTEMPTS, then it is failed with the
error (shown in the inbox), never dropped silently.
"""

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext

from metrics.models import PerformanceSnapshot, Slip
from salesplan.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Membership,
    Notification,
    NotificationKind,
    NotificationSettings,
    Organization,
    OrganizationNotificationSettings,
    PlanStatus,
    Role,
)
from salesplan.models.notifications import webhook_secret
from salesplan.notifications import channels, crypto
from salesplan.notifications.messages import language_or_default, render
from salesplan.queue import enqueue

logger = logging.getLogger(__name__)

DELIVER_TASK = "notifications.deliver"
# One sweep queues at most this many due deliveries; the next minute's takes the rest.
SWEEP_BATCH = 500
DIGEST_ROLES = (Role.OWNER, Role.HEAD_OF_SALES)
# The revenue metric's key on every plan (metrics.catalog): the digest's forecast.
REVENUE_KEY = "revenue"


def _max_attempts() -> int:
    return getattr(settings, "DELIVERY_MAX_ATTEMPTS", 5)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base × 2^(n-1), at most 6 hours."""
    base = getattr(settings, "DELIVERY_RETRY_BASE_S", 60)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


# --- settings ---------------------------------------------------------------------------------

# A Telegram chat: its number (groups and channels are negative), or a public @channel.
CHAT_ID_PATTERN = r"^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,32})$"
# A bot token as @BotFather gives it: the bot's number, a colon, its secret.
BOT_TOKEN_PATTERN = r"^[0-9]{1,20}:[A-Za-z0-9_-]{1,160}$"
CHAT_ID_MAX_LENGTH = 64  # the model's columns
WEBHOOK_URL_MAX_LENGTH = 500
BOT_TOKEN_MAX_LENGTH = 200
PERSON_FIELDS = frozenset({"email_enabled", "telegram_enabled", "telegram_chat_id", "language"})
ORGANIZATION_FIELDS = frozenset({"telegram_chat_id", "webhook_url"})
# The organization page lists the latest failed deliveries of its own channels.
FAILED_DELIVERIES_SHOWN = 20


def _chat_id_error(value: str) -> str | None:
    if value and (len(value) > CHAT_ID_MAX_LENGTH or not re.fullmatch(CHAT_ID_PATTERN, value)):
        return gettext(
            "Enter the chat's number (such as 123456789, or -1001234567890 for a group) "
            "or a public channel's @name."
        )
    return None


def _settings_errors(fields: dict[str, Any]) -> dict[str, list[str]]:
    """Each field's error in the active language (one rule per field, for every way in: the
    pages and the API call the update services, which call this)."""
    errors: dict[str, list[str]] = {}
    for name in ("email_enabled", "telegram_enabled"):
        if name in fields and not isinstance(fields[name], bool):
            errors[name] = [gettext("Choose yes or no.")]
    if "telegram_chat_id" in fields:
        error = _chat_id_error(fields["telegram_chat_id"])
        if error:
            errors["telegram_chat_id"] = [error]
    if fields.get("language", "") not in {"", *(code for code, _name in settings.LANGUAGES)}:
        errors["language"] = [gettext("Choose one of the languages offered.")]
    url = fields.get("webhook_url", "")
    if url:
        try:
            if len(url) > WEBHOOK_URL_MAX_LENGTH:
                raise ValidationError("too long")
            URLValidator(schemes=["http", "https"])(url)
            refused = channels.private_address_error(url, resolve=False)
            if refused:
                errors["webhook_url"] = [refused]
        except ValidationError:
            errors["webhook_url"] = [
                gettext(
                    "Enter a full address starting with https:// (or http://), "
                    "at most %(limit)d characters."
                )
                % {"limit": WEBHOOK_URL_MAX_LENGTH}
            ]
    token = fields.get("telegram_bot_token") or ""
    if token and (len(token) > BOT_TOKEN_MAX_LENGTH or not re.fullmatch(BOT_TOKEN_PATTERN, token)):
        errors["telegram_bot_token"] = [
            gettext("A bot token looks like 123456789:AAHk…: copy it from @BotFather as it is.")
        ]
    return errors


def _clean(fields: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    unknown = set(fields) - allowed
    if unknown:  # a caller's mistake, not a user's
        raise TypeError(f"not a settings field: {sorted(unknown)}")
    cleaned = {
        name: value.strip() if isinstance(value, str) else value for name, value in fields.items()
    }
    errors = _settings_errors(cleaned)
    if errors:
        raise ValidationError(errors)
    return cleaned


def person_settings(member: Membership) -> NotificationSettings:
    """The person's channels (defaults until they save their own)."""
    found = NotificationSettings.objects.filter(membership=member).first()
    return found or NotificationSettings(membership=member)


def person_settings_update(*, member: Membership, **fields: Any) -> NotificationSettings:
    """Change the given fields (email_enabled, telegram_enabled, telegram_chat_id, language);
    ValidationError per field, all of them at once, in the active language."""
    item = person_settings(member)
    for name, value in _clean(fields, PERSON_FIELDS).items():
        setattr(item, name, value)
    item.save()
    return item


def organization_settings(organization: Organization) -> OrganizationNotificationSettings:
    """The organization's bot, chat and webhook; created on first read (its webhook secret
    is generated then, so the page can show it before a URL is set)."""
    item, _ = OrganizationNotificationSettings.objects.get_or_create(organization=organization)
    return item


def organization_settings_update(
    *,
    organization: Organization,
    telegram_bot_token: str | None = None,
    regenerate_secret: bool = False,
    **fields: Any,
) -> OrganizationNotificationSettings:
    """`telegram_bot_token` None keeps the stored one, "" removes it; the other fields
    (telegram_chat_id, webhook_url) as given. ValidationError per field, in the active
    language."""
    checked = _clean(
        {**fields, "telegram_bot_token": telegram_bot_token or ""},
        ORGANIZATION_FIELDS | {"telegram_bot_token"},
    )
    token = checked.pop("telegram_bot_token")
    item = organization_settings(organization)
    for name, value in checked.items():
        setattr(item, name, value)
    if telegram_bot_token is not None:
        item.telegram_bot_token_encrypted = crypto.seal(token)
    if regenerate_secret:
        item.webhook_secret = webhook_secret()
    item.save()
    return item


def organization_has_bot(organization: Organization) -> bool:
    """Whether the organization has set its bot's token (a read: creates nothing)."""
    return (
        OrganizationNotificationSettings.objects.filter(organization=organization)
        .exclude(telegram_bot_token_encrypted="")
        .exists()
    )


def bot_token(item: OrganizationNotificationSettings | None) -> str | None:
    if item is None:
        return None
    return crypto.unseal(item.telegram_bot_token_encrypted) or None


# --- creating ---------------------------------------------------------------------------------


def slip_payload(slip: Slip) -> dict[str, Any]:
    """A slip as data for messages and the webhook (numbers as strings: exact)."""
    unit = slip.metric.unit
    return {
        "slip": slip.pk,
        "plan": slip.plan_id,
        "plan_name": slip.plan.name,
        "metric": slip.metric_id,
        "metric_key": slip.metric.key,
        "metric_kind": slip.metric.kind,
        "metric_name": slip.metric.name,
        "unit": unit,
        "owner": slip.owner_id,
        "owner_name": slip.owner.display_name if slip.owner else None,
        "personal": slip.personal,
        "since": slip.since.isoformat(),
        "closed_on": slip.closed_on.isoformat() if slip.closed_on else None,
        "gap": str(slip.gap),
        "gap_pct": None if slip.gap_pct is None else str(slip.gap_pct),
        "attributed_revenue": None
        if slip.attributed_revenue is None
        else str(slip.attributed_revenue),
        "currency": slip.plan.organization.currency,
    }


def _person_channels(
    member: Membership, chosen: NotificationSettings | None, token: str | None
) -> list[str]:
    chosen = chosen or NotificationSettings(membership=member)
    found = []
    if chosen.email_enabled and member.user.email:
        found.append(Channel.EMAIL)
    if chosen.telegram_enabled and chosen.telegram_chat_id and token:
        found.append(Channel.TELEGRAM)
    return found


def _organization_channels(item: OrganizationNotificationSettings | None) -> list[str]:
    if item is None:
        return []
    found = []
    if item.webhook_url:
        found.append(Channel.WEBHOOK)
    if item.telegram_chat_id and item.telegram_bot_token_encrypted:
        found.append(Channel.TELEGRAM)
    return found


def _create(
    *,
    organization: Organization,
    recipient: Membership | None,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    channel_list: Iterable[str],
    slip: Slip | None = None,
) -> Notification | None:
    """The notification and its deliveries, or None when it exists already (a rerun)."""
    if Notification.objects.filter(organization=organization, dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin loses, nothing else
            notification = Notification.objects.create(
                organization=organization,
                recipient=recipient,
                kind=kind,
                slip=slip,
                dedupe_key=dedupe_key,
                payload=payload,
            )
    except IntegrityError:
        return None
    now = timezone.now()
    for channel in channel_list:
        delivery = Delivery.objects.create(
            notification=notification, channel=channel, next_attempt_at=now
        )
        enqueue(DELIVER_TASK, delivery.pk, robust=True)  # a broker down: the sweep sends it
    return notification


def slip_opened_notify(*, slips: list[Slip]) -> list[Notification]:
    """Tell each opened slip's owner (inbox, and their channels), and the organization's
    own systems (webhook, its Telegram chat). Call inside the transaction that opened them."""
    if not slips:
        return []
    organization = slips[0].plan.organization
    org_settings = OrganizationNotificationSettings.objects.filter(
        organization=organization
    ).first()
    token = bot_token(org_settings)
    owners = {slip.owner_id for slip in slips if slip.owner_id}
    chosen = {
        item.membership_id: item
        for item in NotificationSettings.objects.filter(membership_id__in=owners)
    }
    created = []
    for slip in slips:
        payload = slip_payload(slip)
        owner = slip.owner
        if owner is not None and owner.is_active:
            notification = _create(
                organization=organization,
                recipient=owner,
                kind=NotificationKind.SLIP_OPENED,
                dedupe_key=f"slip:{slip.pk}:m{owner.pk}",
                payload=payload,
                channel_list=_person_channels(owner, chosen.get(owner.pk), token),
                slip=slip,
            )
            if notification:
                created.append(notification)
        organization_channels = _organization_channels(org_settings)
        if organization_channels:
            notification = _create(
                organization=organization,
                recipient=None,
                kind=NotificationKind.SLIP_OPENED,
                dedupe_key=f"slip:{slip.pk}:org",
                payload=payload,
                channel_list=organization_channels,
                slip=slip,
            )
            if notification:
                created.append(notification)
    return created


def _local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def digest_payload(organization: Organization, day: date) -> dict[str, Any] | None:
    """`day`'s slips opened and recovered, and each plan's revenue forecast on that day (the
    stored snapshots); None when there is nothing to tell."""
    start, end = _local_day_bounds(day, ZoneInfo(organization.time_zone))
    slips = Slip.objects.filter(plan__organization=organization).select_related(
        "plan__organization", "metric", "owner__user"
    )
    opened = [slip_payload(s) for s in slips.filter(created_at__gte=start, created_at__lt=end)]
    recovered = [slip_payload(s) for s in slips.filter(closed_on=day)]
    revenue = (
        PerformanceSnapshot.objects.filter(
            plan__organization=organization,
            day=day,
            owner__isnull=True,
            metric__key=REVENUE_KEY,
        )
        .exclude(plan__status=PlanStatus.CLOSED)
        .select_related("plan", "metric")
        .order_by("plan_id")
    )
    forecasts = [
        {
            "plan": row.plan_id,
            "plan_name": row.plan.name,
            "forecast": str(row.forecast),
            "planned": str(row.metric.planned_value),
            "status": row.status,
            "currency": organization.currency,
        }
        for row in revenue
        if row.forecast is not None and row.metric.planned_value is not None
    ]
    if not (opened or recovered or forecasts):
        return None
    return {
        "day": day.isoformat(),
        "opened": opened,
        "recovered": recovered,
        "forecasts": forecasts,
    }


def digest_send(*, organization: Organization, day: date) -> list[Notification]:
    """The digest of `day` for the owner and the heads of sales: once each (a rerun of the
    same day creates nothing)."""
    payload = digest_payload(organization, day)
    if payload is None:
        return []
    recipients = list(
        Membership.objects.filter(
            organization=organization, is_active=True, role__in=DIGEST_ROLES
        ).select_related("user")
    )
    chosen = {
        item.membership_id: item
        for item in NotificationSettings.objects.filter(membership__in=recipients)
    }
    token = bot_token(
        OrganizationNotificationSettings.objects.filter(organization=organization).first()
    )
    created = []
    for member in recipients:
        notification = _create(
            organization=organization,
            recipient=member,
            kind=NotificationKind.DAILY_DIGEST,
            dedupe_key=f"digest:{day.isoformat()}:m{member.pk}",
            payload=payload,
            channel_list=_person_channels(member, chosen.get(member.pk), token),
        )
        if notification:
            created.append(notification)
    return created


def digest_all(*, now: datetime | None = None) -> int:
    """The beat's hourly job: each organization's digest of its yesterday, once its local
    clock has passed DIGEST_HOUR (organizations live in different time zones; the dedupe
    key makes every later hour of the day a no-op)."""
    now = now or timezone.now()
    hour = getattr(settings, "DIGEST_HOUR", 8)
    sent = 0
    for organization in Organization.objects.order_by("pk"):
        local = now.astimezone(ZoneInfo(organization.time_zone))
        if local.hour < hour:
            continue
        yesterday = local.date() - timedelta(days=1)
        with transaction.atomic():
            sent += len(digest_send(organization=organization, day=yesterday))
    return sent


# --- the inbox --------------------------------------------------------------------------------


def inbox(member: Membership) -> QuerySet[Notification]:
    """A person's notifications, newest first."""
    return Notification.objects.filter(
        organization=member.organization, recipient=member
    ).prefetch_related("deliveries")


def unread_count(member: Membership) -> int:
    return inbox(member).filter(read_at__isnull=True).count()


def inbox_mark_read(*, member: Membership, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])


def inbox_mark_all_read(*, member: Membership) -> int:
    return inbox(member).filter(read_at__isnull=True).update(read_at=timezone.now())


# --- delivering -------------------------------------------------------------------------------


def _language_of(notification: Notification) -> str:
    recipient = notification.recipient
    if recipient is None:
        return settings.LANGUAGE_CODE
    chosen = NotificationSettings.objects.filter(membership=recipient).first()
    return language_or_default(chosen.language if chosen else None)


def _send(delivery: Delivery) -> None:
    notification = delivery.notification
    organization = notification.organization
    message = render(notification, _language_of(notification))
    org_settings = OrganizationNotificationSettings.objects.filter(
        organization=organization
    ).first()
    if delivery.channel == Channel.EMAIL:
        address = notification.recipient.user.email if notification.recipient else ""
        if not address:
            raise channels.DeliveryError("The person has no e-mail address.", permanent=True)
        channels.send_email(to=address, subject=message.subject, text=message.text)
    elif delivery.channel == Channel.TELEGRAM:
        token = bot_token(org_settings)
        if not token:
            raise channels.DeliveryError(
                "The organization has no Telegram bot token (or it can no longer be decrypted).",
                permanent=True,
            )
        if notification.recipient is None:
            chat_id = org_settings.telegram_chat_id if org_settings else ""
        else:
            chat_id = person_settings(notification.recipient).telegram_chat_id
        if not chat_id:
            raise channels.DeliveryError("No Telegram chat to send to.", permanent=True)
        channels.send_telegram(
            token=token, chat_id=chat_id, text=f"{message.subject}\n\n{message.text}"
        )
    elif delivery.channel == Channel.WEBHOOK:
        if org_settings is None or not org_settings.webhook_url:
            raise channels.DeliveryError("The organization has no webhook URL.", permanent=True)
        channels.send_webhook(
            url=org_settings.webhook_url,
            secret=org_settings.webhook_secret,
            event=notification.kind,
            event_id=str(notification.event_id),
            data=notification.payload,
        )


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> str:
    """Send one delivery if it is pending and due: "sent", "retry" (failed, will be tried
    again), "failed" (given up, the error kept), or "skipped" (sent already, given up, not
    due yet, or gone). The row is locked while sending: a twin job waits, then skips."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("notification__organization", "notification__recipient__user")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "skipped"
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "skipped"
        delivery.attempts += 1
        try:
            _send(delivery)
        except Exception as error:  # every failure is kept on the row, none is lost
            permanent = isinstance(error, channels.DeliveryError) and error.permanent
            delivery.last_error = str(error)[:2000] or error.__class__.__name__
            if permanent or delivery.attempts >= _max_attempts():
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
                logger.warning("delivery %s failed for good: %s", delivery.pk, error)
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return delivery.status if delivery.status == DeliveryStatus.FAILED else "retry"
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.next_attempt_at = None
        delivery.save(update_fields=["attempts", "status", "sent_at", "next_attempt_at"])
        return "sent"


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """The beat's minute: queue every pending delivery that is due (a retry's time came, or
    its first job was never queued because the broker was down)."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for delivery_id in due:
        enqueue(DELIVER_TASK, delivery_id, robust=True)
    return len(due)


# --- the organization's deliveries, and their retry ---------------------------------------------


def organization_deliveries(organization: Organization) -> QuerySet[Delivery]:
    """The deliveries on the organization's own channels (its webhook and its Telegram chat):
    the ones its owner and heads of sales manage. A person's own are in their inbox."""
    return Delivery.objects.filter(
        notification__organization=organization, notification__recipient__isnull=True
    )


def failed_deliveries(
    organization: Organization, *, limit: int = FAILED_DELIVERIES_SHOWN
) -> list[Delivery]:
    """The latest failed ones, newest first, with the error each ended with."""
    return list(
        organization_deliveries(organization)
        .filter(status=DeliveryStatus.FAILED)
        .select_related("notification")
        .order_by("-id")[:limit]
    )


def delivery_retry(delivery: Delivery) -> bool:
    """Send a failed delivery again from its first attempt (its cause fixed: a bot token, a
    webhook URL): pending, due now, queued once the transaction commits. A delivery that is
    not failed is left alone (False): a pending one is queued already, a sent one is done, so
    two clicks queue it once. The page and the API retry through here."""
    with transaction.atomic():
        retried = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            last_error="",
            next_attempt_at=timezone.now(),
        )
        if retried:
            enqueue(DELIVER_TASK, delivery.pk, robust=True)  # a broker down: the sweep sends it
    return bool(retried)


# --- a test message -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """How a test message went on one channel, said in the active language."""

    channel: str
    sent: bool
    message: str


def _telegram_hint(error: channels.DeliveryError) -> str:
    """What a person can do about Telegram's answer (its own words stay beside it)."""
    found = re.match(r"HTTP (\d+)", str(error))
    code = int(found.group(1)) if found else None
    if code in (401, 404):
        return gettext(
            "Telegram does not accept the organization's bot token: ask the owner or a head "
            "of sales to check it."
        )
    if code in (400, 403):
        return gettext(
            "Check the chat id, and that you pressed Start in the chat with the organization's "
            "bot (a bot cannot write to anyone first)."
        )
    return gettext("Telegram did not answer as expected; try again in a minute.")


def test_message_send(*, member: Membership) -> list[ChannelCheck]:
    """Send a short message now on each channel the person has on (their saved settings),
    in their notification language, and say how each went in the active language. It runs in
    the request, since the person waits for the answer: one HTTP call per channel, each
    bounded by channels.HTTP_TIMEOUT_S. Nothing is stored: a test is not a notification.
    An empty list: no channel is on."""
    chosen = person_settings(member)
    with translation.override(language_or_default(chosen.language or None)):
        subject = gettext("Salesplan: a test message")
        text = gettext(
            "This is a test. Slips of the metrics you own and the daily digest will reach you here."
        )
    checks = []
    if chosen.email_enabled:
        address = member.user.email
        if not address:
            checks.append(
                ChannelCheck(Channel.EMAIL, False, gettext("Your account has no e-mail address."))
            )
        else:
            try:
                channels.send_email(to=address, subject=subject, text=text)
            except channels.DeliveryError as error:
                checks.append(
                    ChannelCheck(
                        Channel.EMAIL,
                        False,
                        gettext("The e-mail was not sent: %(reason)s") % {"reason": error},
                    )
                )
            else:
                checks.append(
                    ChannelCheck(
                        Channel.EMAIL, True, gettext("Sent to %(address)s.") % {"address": address}
                    )
                )
    if chosen.telegram_enabled:
        org_settings = OrganizationNotificationSettings.objects.filter(
            organization=member.organization
        ).first()
        token = bot_token(org_settings)
        if not token:
            checks.append(
                ChannelCheck(
                    Channel.TELEGRAM,
                    False,
                    gettext(
                        "The organization has no Telegram bot yet: ask the owner or a head of "
                        "sales to add its token."
                    ),
                )
            )
        elif not chosen.telegram_chat_id:
            checks.append(
                ChannelCheck(
                    Channel.TELEGRAM, False, gettext("Enter your Telegram chat id and save first.")
                )
            )
        else:
            try:
                channels.send_telegram(
                    token=token, chat_id=chosen.telegram_chat_id, text=f"{subject}\n\n{text}"
                )
            except channels.DeliveryError as error:
                checks.append(
                    ChannelCheck(
                        Channel.TELEGRAM,
                        False,
                        gettext("The message was not sent: %(hint)s (%(reason)s)")
                        % {"hint": _telegram_hint(error), "reason": error},
                    )
                )
            else:
                checks.append(
                    ChannelCheck(
                        Channel.TELEGRAM,
                        True,
                        gettext("Sent to chat %(chat)s.") % {"chat": chosen.telegram_chat_id},
                    )
                )
    return checks
