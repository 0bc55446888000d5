"""CRM integrations: a funnel, a stage map, and a secret webhook address to paste into the
CRM. The API (and, later, a page) create them through `integration_create`."""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from funnel.models import Funnel, Integration
from funnel.stage_map import resolve_stage_map
from salesplan.models import Organization

# Bytes of randomness in a webhook secret (token_urlsafe(24) → 32 characters).
SECRET_BYTES = 24
# A CRM has a few dozen statuses per pipeline; a map this long is not a stage map.
MAX_STAGE_MAP_ENTRIES = 500
MAX_CRM_STAGE_CHARS = 200


def _stage_map(stage_map: dict[str, str], funnel: Funnel) -> dict[str, str]:
    """Keys lower-cased and stripped (CRM ids and names match case-insensitively); values
    our stage's exact name, or won / lost."""
    if len(stage_map) > MAX_STAGE_MAP_ENTRIES:
        raise ValidationError(
            {"stage_map": [_("At most %(n)d entries.") % {"n": MAX_STAGE_MAP_ENTRIES}]}
        )
    errors = [
        _("A CRM status or stage must be 1 to 200 characters.")
        for external in stage_map
        if not str(external).strip()
        or len(str(external).strip()) > MAX_CRM_STAGE_CHARS
        or "\x00" in str(external)
    ]
    stages = list(funnel.stages.order_by("position").values_list("pk", "name"))
    resolved = resolve_stage_map(
        {str(external).strip().casefold(): target for external, target in stage_map.items()},
        [name for _pk, name in stages],
        stage_ids=[pk for pk, _name in stages],
    )
    errors += [
        _(
            "%(crm)s → %(stage)s: no stage of the funnel has this name or id; use a stage by "
            'its name or id (%(stages)s), "won" or "lost".'
        )
        % {
            "crm": external,
            "stage": target,
            "stages": ", ".join(f"{name} = {pk}" for pk, name in stages),
        }
        for external, target in resolved.unknown
    ]
    if errors:
        raise ValidationError({"stage_map": errors})
    return resolved.targets


@transaction.atomic
def integration_create(
    *,
    organization: Organization,
    kind: str,
    funnel: Funnel,
    stage_map: dict[str, str] | None = None,
    application_token: str = "",
) -> Integration:
    """A new integration with a random secret. Bitrix24 signs its webhooks with an
    application token, so one is required there."""
    if funnel.organization_id != organization.pk:
        raise ValidationError({"funnel": [_("This funnel is not in your organization.")]})
    token = (application_token or "").strip()
    if kind == Integration.Kind.BITRIX24 and not token:
        raise ValidationError(
            {
                "application_token": [
                    _(
                        "Bitrix24 signs every outbound webhook with an application token; "
                        "copy it from the outbound webhook's settings."
                    )
                ]
            }
        )
    return Integration.objects.create(
        organization=organization,
        kind=kind,
        funnel=funnel,
        stage_map=_stage_map(stage_map or {}, funnel),
        application_token=token if kind == Integration.Kind.BITRIX24 else "",
        secret=secrets.token_urlsafe(SECRET_BYTES),
    )
