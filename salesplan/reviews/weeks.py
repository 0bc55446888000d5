"""The organization's local ISO weeks (Monday to Sunday in its time zone), written
"YYYY-Www" (2026-W49) in the API and the pages' addresses."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from salesplan.limits import MAX_YEAR, MIN_YEAR
from salesplan.models import Organization

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    start: date  # its Monday

    @property
    def end(self) -> date:
        """Its Sunday."""
        return self.start + timedelta(days=6)

    @property
    def label(self) -> str:
        year, number, _day = self.start.isocalendar()
        return f"{year}-W{number:02d}"

    def previous(self) -> "Week":
        return Week(self.start - timedelta(days=7))

    def next(self) -> "Week":
        return Week(self.start + timedelta(days=7))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The moments of its Monday's local midnight and the next Monday's: an index-friendly
        range on stored UTC moments."""
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.start + timedelta(days=7), time.min, tzinfo=zone),
        )


def zone_of(organization: Organization) -> ZoneInfo:
    return ZoneInfo(organization.time_zone)


def week_of(day: date) -> Week:
    return Week(day - timedelta(days=day.weekday()))


def week_at(moment: datetime, organization: Organization) -> Week:
    """The organization's local week of a moment (Sunday 23:30 in Moscow is still Sunday's
    week, whatever UTC says)."""
    return week_of(moment.astimezone(zone_of(organization)).date())


def current_week(organization: Organization) -> Week:
    return week_at(timezone.now(), organization)


def parse_week(value: str | None, *, field: str = "week") -> Week:
    """ "2026-W49" → that week; a 400 naming `field` for anything else."""
    match = WEEK_PATTERN.match(value or "")
    if match is None:
        raise ValidationError(
            {field: gettext('Send the week as YYYY-Www, e.g. "2026-W49".')}, code="invalid"
        )
    year, number = int(match.group(1)), int(match.group(2))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            {
                field: gettext("The year must be between %(min)d and %(max)d.")
                % {"min": MIN_YEAR, "max": MAX_YEAR}
            },
            code="invalid",
        )
    try:
        return Week(date.fromisocalendar(year, number, 1))
    except ValueError as exc:
        raise ValidationError(
            {
                field: gettext("The year %(year)d has no week %(week)d.")
                % {"year": year, "week": number}
            },
            code="invalid",
        ) from exc
