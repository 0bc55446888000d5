"""One identity per person and channel, whatever path a lead came by: what the loader reads to
turn how a CRM names someone or something into who or what it is here.

A person: a member's name or e-mail as a file writes it, or a CRM user id as webhooks store it
(`b24:7`, `amo:15`), possibly linked on the identities page or learned from a file that
carries both the id and the name. A channel: a CRM's code (Bitrix24's SOURCE_ID "WEB") → the
channel's name here («Веб-сайт»); Bitrix24's standard sources have their names built in.
Writes are in `funnel.services.identities`.
"""

import re

from funnel.models import Identity, Source
from salesplan.access import scoped
from salesplan.models import Membership, Organization

# How a CRM user id is kept as a lead's "responsible" when the CRM gives no name: webhooks
# and files use the same form, so the same person is one key on every path.
PERSON_PREFIXES = {Source.AMOCRM: "amo", Source.BITRIX24: "b24"}
# Bitrix24's standard deal sources (crm.status.list ENTITY_ID=SOURCE) and their Russian names
# in the portal's interface: what a webhook's SOURCE_ID means when the page says nothing else.
BITRIX_SOURCES = {
    "call": "Звонок",
    "email": "Электронная почта",
    "web": "Веб-сайт",
    "advertising": "Реклама",
    "partner": "Существующий клиент",
    "recommendation": "По рекомендации",
    "trade_show": "Выставка",
    "webform": "CRM-форма",
    "callback": "Обратный звонок",
    "rc_generator": "Генератор продаж",
    "store": "Интернет-магазин",
    "other": "Другое",
    "self": "Свой контакт",
}
BUILT_IN_CHANNELS = {Source.BITRIX24: BITRIX_SOURCES}
_SPACES = re.compile(r"\s+")
# A key is stored (Identity.key) and compared: cut to the column, on every path alike (a name
# of 300 characters may fold longer: "ß" is "ss").
KEY_CHARS = Identity._meta.get_field("key").max_length


def person_key(text: str) -> str:
    """How people's names and ids are compared: spacing and case do not matter."""
    return _SPACES.sub(" ", str(text)).strip().casefold()[:KEY_CHARS]


def channel_key(text: str) -> str:
    return _SPACES.sub(" ", str(text)).strip().casefold()[:KEY_CHARS]


def crm_person(source: str, user_id: str) -> str:
    """A CRM user id as leads keep it: `b24:7`; "" for no one (Bitrix24's 0)."""
    user_id = str(user_id or "").strip()
    prefix = PERSON_PREFIXES.get(source)
    if not user_id or user_id == "0" or not prefix:
        return ""
    return f"{prefix}:{user_id}"


def people_lookup(organization: Organization) -> dict[str, int]:
    """A person's key → membership id: members by e-mail, username and name ("Anna Petrova",
    "Petrova Anna"), then the identities (a link set on the page wins, else the name the CRM
    gives them). A name is who someone is only while the organization gave it: a member who
    renamed themselves is not found by name, and a name two members share finds nobody
    (until it is linked on the identities page)."""
    claimed: dict[str, set[int]] = {}
    members = scoped(Membership, organization).select_related("user")
    for member in members:
        user = member.user
        keys = [user.email, user.username]
        if not member.renamed_self:
            keys += [f"{user.first_name} {user.last_name}", f"{user.last_name} {user.first_name}"]
        for key in keys:
            if key and key.strip():
                claimed.setdefault(person_key(key), set()).add(member.pk)
    lookup = {key: next(iter(ids)) for key, ids in claimed.items() if len(ids) == 1}
    identities = scoped(Identity, organization).filter(kind=Identity.Kind.PERSON)
    for identity in identities.only("key", "name", "membership_id"):
        if identity.membership_id:
            lookup[identity.key] = identity.membership_id
        elif identity.name and person_key(identity.name) in lookup:
            lookup.setdefault(identity.key, lookup[person_key(identity.name)])
    return lookup


def channel_lookup(organization: Organization, source: str) -> dict[str, str]:
    """A channel as `source` writes it (folded) → its name here: the built-in names of the
    CRM's standard codes, overridden by the identities of the organization."""
    lookup = dict(BUILT_IN_CHANNELS.get(source, {}))
    identities = (
        scoped(Identity, organization)
        .filter(kind=Identity.Kind.CHANNEL, source=source)
        .exclude(name="")
    )
    lookup.update(identities.values_list("key", "name"))
    return lookup
