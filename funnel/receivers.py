"""What the funnel does when the kernel announces something (salesplan/signals.py)."""

from typing import Any

from django.dispatch import receiver

from funnel.services import identities
from salesplan import signals


@receiver(signals.member_renamed, dispatch_uid="funnel.keep_former_name")
def keep_former_name(sender: Any, memberships: list[Any], previous: str, **kwargs: Any) -> None:
    for membership in memberships:
        identities.keep_former_name(membership=membership, previous=previous)
