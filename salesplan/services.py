"""Writes of the core domain: organizations, people, invitations; products and the working
calendar (the planning inputs every plan shares)."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from salesplan import signals
from salesplan.access import scoped
from salesplan.models import (
    CalendarDay,
    Invitation,
    Membership,
    Organization,
    Product,
    Role,
    Team,
)

User = get_user_model()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_create(*, email: str, password: str | None, first_name: str = "", last_name: str = ""):
    """Users sign in with their e-mail, which is also their username."""
    email = normalize_email(email)
    user = User(username=email, email=email, first_name=first_name, last_name=last_name)
    _set_password(user, password)
    return user


def user_ensure(*, email: str, password: str | None, first_name: str = "", last_name: str = ""):
    """The user with this e-mail (made if new), with this password (or none) either way."""
    user = User.objects.filter(username=normalize_email(email)).first()
    if user is None:
        return user_create(
            email=email, password=password, first_name=first_name, last_name=last_name
        )
    _set_password(user, password)
    return user


def _set_password(user: Any, password: str | None) -> None:
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()


@transaction.atomic
def organization_create(
    *,
    name: str,
    owner_email: str,
    owner_password: str | None,
    owner_first_name: str = "",
    owner_last_name: str = "",
    currency: str = "RUB",
    time_zone: str = "Europe/Moscow",
) -> Organization:
    """A new organization with its owner (an existing user is reused, not duplicated)."""
    email = normalize_email(owner_email)
    user = User.objects.filter(username=email).first()
    if user is None:
        user = user_create(
            email=email,
            password=owner_password,
            first_name=owner_first_name,
            last_name=owner_last_name,
        )
    organization = Organization.objects.create(name=name, currency=currency, time_zone=time_zone)
    Membership.objects.create(organization=organization, user=user, role=Role.OWNER)
    return organization


@transaction.atomic
def member_add(
    *,
    organization: Organization,
    user: AbstractBaseUser,
    role: str,
    salesperson_kind: str = "",
    team: Team | None = None,
) -> Membership:
    membership, _created = Membership.objects.update_or_create(
        organization=organization,
        user=user,
        defaults={
            "role": role,
            "salesperson_kind": salesperson_kind if role == Role.SALESPERSON else "",
            "team": team,
            "is_active": True,
        },
    )
    return membership


def team_create(*, organization: Organization, name: str, head: Membership | None) -> Team:
    team = Team.objects.create(organization=organization, name=name, head=head)
    if head is not None and head.team_id is None:
        head.team = team
        head.save(update_fields=["team"])
    return team


def invitation_create(
    *,
    organization: Organization,
    invited_by: Membership,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    salesperson_kind: str = "",
    team: Team | None = None,
    accept_url_template: str,
) -> Invitation:
    """Store the invitation, then e-mail its link once the transaction commits."""
    invitation = Invitation.objects.create(
        organization=organization,
        invited_by=invited_by,
        email=normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        role=role,
        salesperson_kind=salesperson_kind if role == Role.SALESPERSON else "",
        team=team,
    )
    link = accept_url_template.format(token=invitation.token)
    transaction.on_commit(
        lambda: send_mail(
            subject=_("Invitation to %(organization)s in Salesplan")
            % {"organization": organization.name},
            message=_("%(who)s invites you to %(organization)s as %(role)s.\n\nAccept: %(link)s")
            % {
                "who": invited_by.display_name,
                "organization": organization.name,
                "role": invitation.get_role_display(),
                "link": link,
            },
            from_email=None,
            recipient_list=[invitation.email],
            fail_silently=True,
        )
    )
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user: AbstractBaseUser | None,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Accepting creates the user (if new) and the membership the invitation promised."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise ValueError("invitation is no longer open")
    if user is None:
        user = user_create(
            email=invitation.email,
            password=password,
            first_name=first_name or invitation.first_name,
            last_name=last_name or invitation.last_name,
        )
    membership = member_add(
        organization=invitation.organization,
        user=user,
        role=invitation.role,
        salesperson_kind=invitation.salesperson_kind,
        team=invitation.team,
    )
    # The name the inviter gave is the organization's; one the person typed instead (or
    # brought from another organization) is theirs: not matched to a CRM's names, as after a
    # self-rename (profile_update), until someone who manages the settings links it.
    chosen = f"{user.first_name} {user.last_name}".strip()
    given = f"{invitation.first_name} {invitation.last_name}".strip()
    if chosen and chosen.casefold() != given.casefold():
        membership.renamed_self = True
        membership.save(update_fields=["renamed_self"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


def profile_update(
    *, user: AbstractBaseUser, first_name: str | None = None, last_name: str | None = None
) -> None:
    """A person edits their own name; nothing else about them. A name the person chose is
    not who they are in a CRM: their memberships stop being matched by name (the name they
    had stays theirs, linked), so a rename cannot take a colleague's leads."""
    previous = f"{user.first_name} {user.last_name}".strip()
    fields = []
    if first_name is not None:
        user.first_name = first_name.strip()
        fields.append("first_name")
    if last_name is not None:
        user.last_name = last_name.strip()
        fields.append("last_name")
    if not fields:
        return
    with transaction.atomic():
        user.save(update_fields=fields)
        if f"{user.first_name} {user.last_name}".strip() == previous:
            return
        memberships = list(Membership.objects.filter(user=user).select_related("organization"))
        Membership.objects.filter(pk__in=[m.pk for m in memberships]).update(renamed_self=True)
        signals.member_renamed.send(sender=Membership, memberships=memberships, previous=previous)


# --- planning inputs: products and the working calendar -------------------------------------------

# A gross margin is a percentage of the price.
MAX_MARGIN_PCT = Decimal(100)


def _product_errors(
    *,
    organization: Organization,
    name: str,
    price: Decimal | None,
    margin_pct: Decimal | None,
    product: Product | None = None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the product a name.")]
    else:
        clash = scoped(Product, organization).filter(name=name)
        if product is not None:
            clash = clash.exclude(pk=product.pk)
        if clash.exists():
            errors["name"] = [_("A product with this name already exists.")]
    if price is None or price <= 0:
        errors["price"] = [_("Must be greater than zero.")]
    if margin_pct is not None and not Decimal(0) <= margin_pct <= MAX_MARGIN_PCT:
        # xgettext:no-python-format
        errors["margin_pct"] = [_("A gross margin is between 0 and 100 % of the price.")]
    return errors


@transaction.atomic
def product_create(
    *,
    organization: Organization,
    name: str,
    price: Decimal | None,
    margin_pct: Decimal | None = None,
    is_active: bool = True,
) -> Product:
    """A product the plans' mix can take; the page and the API check it the same way."""
    name = (name or "").strip()
    errors = _product_errors(
        organization=organization, name=name, price=price, margin_pct=margin_pct
    )
    if errors:
        raise ValidationError(errors)
    return Product.objects.create(
        organization=organization,
        name=name,
        price=price,
        margin_pct=margin_pct,
        is_active=is_active,
    )


@transaction.atomic
def product_update(*, product: Product, **fields: Any) -> Product:
    """Change a product; plans with it in their mix follow a new price or margin."""
    name = (fields.get("name", product.name) or "").strip()
    price = fields.get("price", product.price)
    margin_pct = fields.get("margin_pct", product.margin_pct)
    errors = _product_errors(
        organization=product.organization,
        name=name,
        price=price,
        margin_pct=margin_pct,
        product=product,
    )
    if errors:
        raise ValidationError(errors)
    repriced = (price, margin_pct) != (product.price, product.margin_pct)
    product.name, product.price, product.margin_pct = name, price, margin_pct
    product.is_active = fields.get("is_active", product.is_active)
    product.save()
    if repriced:
        signals.product_repriced.send(sender=Product, product=product)
    return product


def _calendar_clash(
    organization: Organization, day: date, calendar_day: CalendarDay | None = None
) -> dict[str, list[str]]:
    clash = scoped(CalendarDay, organization).filter(date=day)
    if calendar_day is not None:
        clash = clash.exclude(pk=calendar_day.pk)
    return {"date": [_("This day is already in the calendar.")]} if clash.exists() else {}


@transaction.atomic
def calendar_day_add(
    *, organization: Organization, date: date, is_working: bool, note: str = ""
) -> CalendarDay:
    """Make a day working or off for this organization (against the production calendar)."""
    errors = _calendar_clash(organization, date)
    if errors:
        raise ValidationError(errors)
    return CalendarDay.objects.create(
        organization=organization, date=date, is_working=is_working, note=note
    )


@transaction.atomic
def calendar_day_update(*, calendar_day: CalendarDay, **fields: Any) -> CalendarDay:
    errors = _calendar_clash(
        calendar_day.organization, fields.get("date", calendar_day.date), calendar_day
    )
    if errors:
        raise ValidationError(errors)
    for name in ("date", "is_working", "note"):
        if name in fields:
            setattr(calendar_day, name, fields[name])
    calendar_day.save()
    return calendar_day


@transaction.atomic
def calendar_day_delete(*, calendar_day: CalendarDay) -> None:
    """Drop the organization's own entry: the day follows the production calendar again."""
    calendar_day.delete()
