"""The core domain: organizations (tenants), their people and roles."""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CURRENCY_CHOICES = [
    ("RUB", _("Russian rouble (₽)")),
    ("USD", _("US dollar ($)")),
    ("EUR", _("Euro (€)")),
    ("KZT", _("Kazakhstani tenge (₸)")),
    ("BYN", _("Belarusian rouble (Br)")),
]

INVITATION_LIFETIME = timedelta(days=14)


class Organization(models.Model):
    """The tenant. No data ever crosses organizations."""

    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(
        _("currency"), max_length=3, choices=CURRENCY_CHOICES, default="RUB"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The pie flags anyone holding more than this share of a plan's metrics (overload).
    max_metric_share = models.DecimalField(
        _("max share of metrics per person"), max_digits=4, decimal_places=3, default=Decimal("0.5")
    )
    # One more after every change of what the morning pages show (salesplan.figures): their
    # cached answers are keyed by it.
    figures_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    HEAD_OF_SALES = "head_of_sales", _("Head of sales")
    SALESPERSON = "salesperson", _("Salesperson")
    MARKETER = "marketer", _("Marketer")
    VIEWER = "viewer", _("Viewer")


class SalespersonKind(models.TextChoices):
    HUNTER = "hunter", _("Hunter")
    FARMER = "farmer", _("Farmer")


class Team(models.Model):
    """A head of sales and the members they lead."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(_("name"), max_length=200)
    head = models.ForeignKey(
        "Membership",
        verbose_name=_("head of sales"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user in an organization with exactly one role."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    salesperson_kind = models.CharField(
        _("salesperson kind"), max_length=10, choices=SalespersonKind.choices, blank=True
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    # The person renamed themselves: CRMs' names no longer find them by their name, only by
    # e-mail and by the identities the organization links (funnel.identities); the names
    # they had before stay linked to them.
    renamed_self = models.BooleanField(_("renamed themselves"), default=False)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique")
        ]
        ordering = ["organization_id", "role", "user__first_name", "user__last_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()})"

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.email or self.user.username

    @property
    def is_salesperson(self) -> bool:
        return self.role == Role.SALESPERSON

    @property
    def can_manage_members(self) -> bool:
        return self.role == Role.OWNER


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + INVITATION_LIFETIME


class Invitation(models.Model):
    """An owner's invitation of a person by e-mail; accepting it creates the membership."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail"))
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    salesperson_kind = models.CharField(
        _("salesperson kind"), max_length=10, choices=SalespersonKind.choices, blank=True
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return self.email

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
