"""Weekly reviews: the writes. One save for the page and the API (`review_save`), and the
prefill's refresh that the job and a first save call (`review_refresh`)."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from salesplan.access import scoped
from salesplan.limits import MAX_REVIEW_NOTE_CHARS
from salesplan.models import Membership, Organization, Role
from salesplan.reviews import prefill as prefills
from salesplan.reviews.checklist import BY_KEY, FUNCTIONS
from salesplan.reviews.models import ReviewChange, WeeklyReview
from salesplan.reviews.weeks import Week, current_week


class ReviewConflict(Exception):
    """Saved by someone else (another tab) after the version the save was based on."""

    def __init__(self, current: int) -> None:
        super().__init__(current)
        self.current = current


@dataclass(frozen=True)
class Mark:
    """A function's tick and note as the person sends them (done None: back to the prefill;
    note None: unchanged)."""

    key: str
    done: bool | None
    note: str | None = None


def _locked(head: Membership, week: Week) -> WeeklyReview:
    """The head's review of the week, locked for this transaction; created (with its
    prefill) if nobody has reviewed the week yet. Two first saves at once: one creates, the
    other finds it."""
    reviews = scoped(WeeklyReview, head.organization).select_for_update()
    review = reviews.filter(head=head, week_start=week.start).first()
    if review is not None:
        return review
    try:
        with transaction.atomic():
            review = WeeklyReview.objects.create(
                organization=head.organization, head=head, week_start=week.start
            )
    except IntegrityError:
        return reviews.get(head=head, week_start=week.start)
    _apply_prefill(review, prefills.compute(head, week))
    return review


def _apply_prefill(review: WeeklyReview, computed: prefills.Prefill) -> None:
    review.prefill = computed.items
    review.own_deals = computed.own_deals
    review.own_revenue = computed.own_revenue
    review.prefilled_at = timezone.now()
    review.save(update_fields=["prefill", "own_deals", "own_revenue", "prefilled_at"])


def validate_marks(items: Any) -> list[Mark]:
    """The functions a save sends: known keys, each once, a yes/no/null tick, a note within
    MAX_REVIEW_NOTE_CHARS. Errors name the item ("items[2].key")."""
    if not isinstance(items, list):
        raise ValidationError({"items": gettext("Send a list of the functions.")})
    if len(items) > len(FUNCTIONS):
        raise ValidationError(
            {"items": gettext("At most %(count)d functions, one each.") % {"count": len(FUNCTIONS)}}
        )
    marks, seen, errors = [], set(), {}
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            errors[where] = gettext("Send an object with key, done and note.")
            continue
        key = item.get("key")
        if not isinstance(key, str) or key not in BY_KEY:
            errors[f"{where}.key"] = gettext("Unknown function; one of: %(keys)s.") % {
                "keys": ", ".join(BY_KEY)
            }
            continue
        if key in seen:
            errors[f"{where}.key"] = gettext("This function is sent twice.")
            continue
        seen.add(key)
        done = item.get("done")
        if done is not None and not isinstance(done, bool):
            errors[f"{where}.done"] = gettext("Send true, false or null.")
            continue
        note = item.get("note")
        if note is not None:
            if not isinstance(note, str):
                errors[f"{where}.note"] = gettext("Send the note as text.")
                continue
            note = note.strip()
            if len(note) > MAX_REVIEW_NOTE_CHARS:
                errors[f"{where}.note"] = gettext(
                    "At most %(max)d characters (this one has %(length)d)."
                ) % {"max": MAX_REVIEW_NOTE_CHARS, "length": len(note)}
                continue
        marks.append(Mark(key=key, done=done, note=note))
    if errors:
        raise ValidationError(errors)
    return marks


@transaction.atomic
def review_save(
    *,
    member: Membership,
    head: Membership,
    week: Week,
    marks: list[Mark],
    version: int | None = None,
) -> WeeklyReview:
    """The head of sales ticks and notes functions of their week (the current one or a past
    one). Functions not sent stay as they were. A save that changes something adds a version
    and a ReviewChange (who, when, each function before and after); `version` (the one the
    person read) refuses a save over someone else's with ReviewConflict."""
    if member.pk != head.pk or head.role != Role.HEAD_OF_SALES:
        raise ValidationError(
            {"head": gettext("Only the head of sales ticks their own weekly review.")}
        )
    this_week = current_week(head.organization)
    if week.start > this_week.start:
        raise ValidationError({"week": gettext("This week has not started yet.")})
    review = _locked(head, week)
    if version is not None and version != review.version:
        raise ReviewConflict(review.version)
    if week == this_week:  # stored as the person saw it beside their ticks
        _apply_prefill(review, prefills.compute(head, week))
    stored = {key: dict(value) for key, value in review.marks.items()}
    changed = []
    for mark in marks:
        before = stored.get(mark.key, {})
        old_done, old_note = before.get("done"), before.get("note", "")
        new_done = mark.done
        new_note = old_note if mark.note is None else mark.note
        if (old_done, old_note) == (new_done, new_note):
            continue
        stored[mark.key] = {"done": new_done, "note": new_note}
        changed.append(
            {"key": mark.key, "done": [old_done, new_done], "note": [old_note, new_note]}
        )
    if not changed:
        return review
    review.marks = stored
    review.version += 1
    review.updated_by = member
    review.updated_at = timezone.now()
    review.save(update_fields=["marks", "version", "updated_by", "updated_at"])
    ReviewChange.objects.create(
        review=review, number=review.version, changed_by=member, items=changed
    )
    return review


@transaction.atomic
def review_refresh(*, head: Membership, week: Week) -> WeeklyReview:
    """The prefill of a head's week from the data as it is now (the person's marks are
    left as they are); creates the week's review if there is none."""
    review = _locked(head, week)
    _apply_prefill(review, prefills.compute(head, week))
    return review


def organization_refresh(*, organization_id: int, week: Week | None = None) -> int:
    """Every active head of sales' review of the week (default: the organization's current
    one) prefilled again; how many. Each head in a transaction of their own."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    week = week or current_week(organization)
    heads = scoped(Membership, organization).filter(role=Role.HEAD_OF_SALES, is_active=True)
    count = 0
    for head in heads.select_related("organization", "user"):
        review_refresh(head=head, week=week)
        count += 1
    return count
