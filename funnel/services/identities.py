"""Identities of people and channels: linking how a CRM names someone to a member, naming a
CRM's channel code, learning both from files and webhooks that carry the id and the name, and
re-attributing the leads already stored when an identity is made or changed.

The loader applies identities to everything it loads (`funnel.identities`); re-attribution
applies them to what was loaded before, so a lead that came by a webhook and one that came by
a file end with the same owner and the same channel.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from funnel import signals
from funnel.identities import (
    BUILT_IN_CHANNELS,
    channel_key,
    channel_lookup,
    people_lookup,
    person_key,
)
from funnel.models import Funnel, Identity, Lead, Payment, Source, StageEvent
from salesplan.access import scoped
from salesplan.models import Membership, Organization

# The longest name or code kept (the leads' columns hold 300).
MAX_WRITTEN_CHARS = 300
# Unknown people and channel codes listed on the page, the most frequent first.
MAX_LISTED = 200
# A channel code as CRMs write them: WEB, UC_4KD2Y1, TRADE_SHOW (names have lower case).
CODE_REGEX = r"^[A-Z0-9_:|.-]+$"


@dataclass(frozen=True)
class Reattributed:
    leads: int
    payments: int = 0
    events: int = 0


def _written(text: Any, field: str) -> str:
    value = " ".join(str(text or "").split())
    if not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > MAX_WRITTEN_CHARS:
        raise ValidationError(
            {field: [_("At most %(limit)d characters.") % {"limit": MAX_WRITTEN_CHARS}]}
        )
    return value


def person_link(
    *, organization: Organization, written: str, membership: Membership | None
) -> Reattributed:
    """Say who `written` (a name, an e-mail, `b24:7`) is: `membership`, or nobody known (None
    removes the link). The leads already stored under that name follow."""
    written = _written(written, "written")
    if membership is not None and membership.organization_id != organization.pk:
        raise ValidationError({"membership": [_("This member is not in your organization.")]})
    with transaction.atomic():
        Identity.objects.update_or_create(
            organization=organization,
            kind=Identity.Kind.PERSON,
            source="",
            key=person_key(written),
            defaults={"written": written, "membership": membership, "learned": False},
        )
        return reattribute_people(organization, {person_key(written)})


def channel_rename(
    *, organization: Organization, source: str, written: str, name: str
) -> Reattributed:
    """Say what channel a CRM's code is (`WEB` from Bitrix24 → «Веб-сайт»); an empty name
    removes the identity (built-in names come back). The leads already stored follow."""
    if source not in Source.values:
        raise ValidationError({"source": [_("Unknown source.")]})
    written = _written(written, "written")
    name = " ".join(str(name or "").split())
    if len(name) > MAX_WRITTEN_CHARS:
        raise ValidationError(
            {"name": [_("At most %(limit)d characters.") % {"limit": MAX_WRITTEN_CHARS}]}
        )
    key = channel_key(written)
    with transaction.atomic():
        before = channel_lookup(organization, source).get(key, "")
        if name:
            Identity.objects.update_or_create(
                organization=organization,
                kind=Identity.Kind.CHANNEL,
                source=source,
                key=key,
                defaults={"written": written, "name": name, "learned": False},
            )
        else:
            scoped(Identity, organization).filter(
                kind=Identity.Kind.CHANNEL, source=source, key=key
            ).delete()
        after = channel_lookup(organization, source).get(key, written)
        forms = {written, before} - {""}
        leads = (
            scoped(Lead, organization).filter(source=source).filter(_any_iexact("channel", forms))
        )
        changed = leads.exclude(channel=after).update(channel=after)
        if changed:
            _loaded(organization)
        return Reattributed(leads=changed)


def learn_people(organization: Organization, pairs: Mapping[str, str]) -> int:
    """Remember the name a CRM gives its user ids ({"b24:7": "Анна Смирнова"}), met in a file
    or a webhook that carries both; a link or a name set on the page is never overwritten.
    Returns how many were learned; the leads already stored under those ids follow."""
    pairs = {key: name for key, name in pairs.items() if key and name}
    if not pairs:
        return 0
    keys = {person_key(key): (key, name) for key, name in pairs.items()}
    people = scoped(Identity, organization).filter(kind=Identity.Kind.PERSON, source="")
    existing = {identity.key: identity for identity in people.filter(key__in=keys)}
    learned: set[str] = set()
    with transaction.atomic():
        for key, (written, name) in keys.items():
            identity = existing.get(key)
            if identity is None:
                _created, made = Identity.objects.get_or_create(
                    organization=organization,
                    kind=Identity.Kind.PERSON,
                    source="",
                    key=key,
                    defaults={
                        "written": written[:MAX_WRITTEN_CHARS],
                        "name": name[:MAX_WRITTEN_CHARS],
                        "learned": True,
                    },
                )
                if made:
                    learned.add(key)
            elif identity.learned and not identity.name and identity.membership_id is None:
                identity.name = name[:MAX_WRITTEN_CHARS]
                identity.save(update_fields=["name", "updated_at"])
                learned.add(key)
        if learned:
            reattribute_people(organization, learned)
    return len(learned)


def keep_former_name(*, membership: Membership, previous: str) -> int:
    """A member renamed themselves: the name they had (either order of its words) stays
    theirs as a link, so their own leads keep coming to them, unless that name is another
    member's too or is linked already. Returns how many links were made."""
    words = previous.split()
    if not words:
        return 0
    organization = membership.organization
    lookup = people_lookup(organization)
    made = 0
    for written in {" ".join(words), " ".join(words[1:] + words[:1])}:
        key = person_key(written)
        if lookup.get(key, membership.pk) != membership.pk:
            continue
        _identity, created = Identity.objects.get_or_create(
            organization=organization,
            kind=Identity.Kind.PERSON,
            source="",
            key=key,
            defaults={"written": written[:MAX_WRITTEN_CHARS], "membership": membership},
        )
        made += created
    return made


def person_asked(organization: Organization, written: str) -> None:
    """Remember that the CRM was asked who `written` (b24:7) is and did not say, so it is not
    asked again with every webhook; the identities page still lists it to link by hand."""
    Identity.objects.get_or_create(
        organization=organization,
        kind=Identity.Kind.PERSON,
        source="",
        key=person_key(written),
        defaults={"written": written[:MAX_WRITTEN_CHARS], "learned": True},
    )


def reattribute_people(organization: Organization, keys: set[str]) -> Reattributed:
    """Give the stored leads written under `keys` the member those keys now mean (or nobody),
    with the payments credited and the stage events they carry."""
    lookup = people_lookup(organization)
    names = (
        scoped(Lead, organization)
        .exclude(responsible_name="")
        .filter(_any_iexact("responsible_name", keys))
        .values_list("responsible_name", flat=True)
        .distinct()
    )
    leads = payments = events = 0
    for written in list(names):
        key = person_key(written)
        if key not in keys:
            continue
        member = lookup.get(key)
        owned = scoped(Lead, organization).filter(responsible_name=written)
        moved = list(owned.exclude(responsible_id=member).values_list("pk", "responsible_id"))
        if not moved:
            continue
        ids = [pk for pk, _old in moved]
        previous = {old for _pk, old in moved}
        leads += Lead.objects.filter(pk__in=ids).update(responsible_id=member)
        payments += (
            Payment.objects.filter(lead_id__in=ids)
            .filter(Q(credited_member__isnull=True) | Q(credited_member_id__in=previous))
            .update(credited_member_id=member)
        )
        events += (
            StageEvent.objects.filter(lead_id__in=ids)
            .filter(Q(member__isnull=True) | Q(member_id__in=previous))
            .update(member_id=member)
        )
    if leads:
        _loaded(organization)
    return Reattributed(leads=leads, payments=payments, events=events)


def _any_iexact(field: str, values: set[str]) -> Q:
    condition = Q(pk__in=[])
    for value in values:
        condition |= Q(**{f"{field}__iexact": value})
    return condition


def _loaded(organization: Organization) -> None:
    """The actuals changed: plans and metrics that read them are refreshed (as after a load)."""
    for funnel_id in scoped(Funnel, organization).values_list("id", flat=True):
        signals.actuals_loaded.send(
            sender=Identity, organization_id=organization.pk, funnel_id=funnel_id
        )


def identities_page(organization: Organization) -> dict[str, Any]:
    """What the identities page lists: people (identities, and the names and ids of leads no
    member matches, with their lead counts) and channel codes (identities, built-in names,
    and the codes leads carry)."""
    lookup = people_lookup(organization)
    people: dict[str, dict[str, Any]] = {}
    for identity in (
        scoped(Identity, organization)
        .filter(kind=Identity.Kind.PERSON)
        .select_related("membership__user")
    ):
        people[identity.key] = {
            "written": identity.written,
            "name": identity.name,
            "member_id": identity.membership_id or lookup.get(identity.key),
            "linked": bool(identity.membership_id),
            "learned": identity.learned,
            "leads": 0,
        }
    unknown = (
        scoped(Lead, organization)
        .filter(responsible__isnull=True)
        .exclude(responsible_name="")
        .values("responsible_name")
        .annotate(leads=Count("id"))
        .order_by("-leads")[:MAX_LISTED]
    )
    for row in unknown:
        key = person_key(row["responsible_name"])
        entry = people.setdefault(
            key,
            {
                "written": row["responsible_name"],
                "name": "",
                "member_id": None,
                "linked": False,
                "learned": False,
                "leads": 0,
            },
        )
        entry["leads"] += row["leads"]
    channels: dict[tuple[str, str], dict[str, Any]] = {}
    for identity in scoped(Identity, organization).filter(kind=Identity.Kind.CHANNEL):
        channels[(identity.source, identity.key)] = {
            "source": identity.source,
            "written": identity.written,
            "name": identity.name,
            "built_in": BUILT_IN_CHANNELS.get(identity.source, {}).get(identity.key, ""),
            "leads": 0,
        }
    codes = (
        scoped(Lead, organization)
        .filter(channel__regex=CODE_REGEX)
        .values("source", "channel")
        .annotate(leads=Count("id"))
        .order_by("-leads")[:MAX_LISTED]
    )
    for row in codes:
        key = (row["source"], channel_key(row["channel"]))
        entry = channels.setdefault(
            key,
            {
                "source": row["source"],
                "written": row["channel"],
                "name": "",
                "built_in": BUILT_IN_CHANNELS.get(row["source"], {}).get(key[1], ""),
                "leads": 0,
            },
        )
        entry["leads"] += row["leads"]
    return {
        "people": sorted(people.values(), key=lambda p: (-p["leads"], p["written"].casefold())),
        "channels": sorted(
            channels.values(), key=lambda c: (-c["leads"], c["source"], c["written"])
        ),
    }
