"""Notifications (issue 11): what a person finds in their inbox, and each channel's delivery of
it. A notification is created once per recipient and event (its dedupe key), a delivery once
per notification and channel, so a rerun of the job that created them sends nothing twice.
The services that create and send them are `salesplan.notifications`."""

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from salesplan.models.organizations import Membership, Organization


class NotificationKind(models.TextChoices):
    SLIP_OPENED = "slip_opened", _("A metric slipped")
    DAILY_DIGEST = "daily_digest", _("Daily digest")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    TELEGRAM = "telegram", _("Telegram")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One event for one person (`recipient`), or for the organization's own systems and
    chat (`recipient` None: its webhook and its Telegram chat). The inbox lists a person's."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    slip = models.ForeignKey(
        "metrics.Slip", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The event and its recipient ("slip:12:m7", "digest:2026-12-14:m3"): a rerun finds it.
    dedupe_key = models.CharField(max_length=120)
    # What the message says, as data: rendered in each reader's language when shown or sent.
    payload = models.JSONField(default=dict)
    # Sent to the organization's webhook as its event id: the same on every retry.
    event_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedupe_key"], name="notification_dedupe_unique"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id or 'organization'} ({self.dedupe_key})"


class Delivery(models.Model):
    """One notification sent on one channel: at most once (unique), retried with backoff
    until DELIVERY_MAX_ATTEMPTS, then failed with the error for people to see."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_channel_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.notification_id}/{self.channel}: {self.status}"


class NotificationSettings(models.Model):
    """A person's channels. No row: e-mail on, Telegram off, the site's default language."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_enabled = models.BooleanField(_("by e-mail"), default=True)
    telegram_enabled = models.BooleanField(_("in Telegram"), default=False)
    # The person's chat with the organization's bot (the bot's /start shows it).
    telegram_chat_id = models.CharField(_("Telegram chat id"), max_length=64, blank=True)
    # The language of their e-mails and Telegram messages ("" = the site's default).
    language = models.CharField(_("language"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"notification settings of {self.membership_id}"


def webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class OrganizationNotificationSettings(models.Model):
    """The organization's own bot, its chat, and the webhook to its own systems."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="notification_settings"
    )
    # The bot's token (from @BotFather), Fernet-encrypted with a key derived from SECRET_KEY
    # (salesplan.notifications.secrets): a database dump alone does not let anyone post as it.
    telegram_bot_token_encrypted = models.TextField(blank=True, editable=False)
    telegram_chat_id = models.CharField(_("Telegram chat id"), max_length=64, blank=True)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    # Signs every webhook (X-Salesplan-Signature: sha256=<HMAC of the body>).
    webhook_secret = models.CharField(max_length=64, default=webhook_secret)

    class Meta:
        verbose_name = _("organization notification settings")
        verbose_name_plural = _("organization notification settings")

    def __str__(self) -> str:
        return f"notification settings of organization {self.organization_id}"
