"""``track_metric`` for many metrics over many days at once: the recompute job's fast path.

A yearly plan with 100 salespeople has ~200,000 (metric, owner, day) figures to track; calling
``track_metric`` for each (exact ``Fraction`` arithmetic, a dozen normalising divisions apiece)
takes seconds. Here every figure is a pair of Python integers (numerator, denominator > 0)
held in NumPy object arrays, so each step is one vectorised operation over all rows and stays
exact (Python integers never overflow): the comparisons that decide a status are
cross-multiplied, and the reported numbers are rounded half up from the exact ratio. The
result is the same as ``track_metric``'s, row for row (tests/planning/test_batch.py checks it
against ``track_metric`` on random inputs); ``track_metric`` stays the definition.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from salesplan.planning.tracking import (
    AT_RISK,
    DEFAULT_TOLERANCE,
    NOT_STARTED,
    ON_TRACK,
    PERCENT_PLACES,
    SLIPPED,
    VALUE_PLACES,
    MetricShape,
    Number,
)

NOT_ASSESSED = "not_assessed"  # no plan, or no actual on that day (a ratio over zero)


@dataclass(frozen=True)
class Series:
    """One metric of one owner over the days tracked.

    ``plan`` is the owner's plan for the period (a volume's share applied), None when the
    metric has no target (tracked, not assessed). ``plan_to_date`` per day when the plan gives
    it (a stage's whole-number days), else pro rata (volume) or the plan (ratio). The actual
    per day is ``actual_num[d] / actual_den[d]``; a zero denominator is no actual that day."""

    shape: MetricShape
    lower_is_better: bool
    plan: Fraction | None
    actual_num: Sequence[int]
    actual_den: Sequence[int]
    plan_to_date: Sequence[Number] | None = None
    # Multiplies every plan-to-date (an owner's share of a stage's whole-number plan), so whole
    # numbers stay integers until here.
    plan_to_date_share: Fraction = Fraction(1)


@dataclass(frozen=True)
class Tracked:
    """Flat columns, series after series, day after day (len = series × days). Numbers are
    exact decimal strings (``decimal_strings``; None where there is none), rounded as
    ``track_metric`` rounds them."""

    status: list[str]
    plan_to_date: list[str | None]
    actual_to_date: list[str | None]
    forecast: list[str | None]
    gap: list[str | None]
    gap_pct: list[str | None]


@dataclass(frozen=True)
class TrackedColumns:
    """``Tracked`` as object arrays of str (status codes and decimal strings)."""

    status: np.ndarray
    plan_to_date: np.ndarray
    actual_to_date: np.ndarray
    forecast: np.ndarray
    gap: np.ndarray
    gap_pct: np.ndarray


def _objects(values: Sequence[int] | np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [int(v) for v in values]
    return out


def _repeat(value: int, count: int) -> np.ndarray:
    out = np.empty(count, dtype=object)
    out[:] = [value] * count
    return out


def rounded(num: np.ndarray, den: np.ndarray, places: int) -> np.ndarray:
    """num / den (den > 0) rounded half up (ties away from zero) to ``places``, as integers
    of 10^-places: ``tracking.round_half_up`` vectorised."""
    scale = 10**places
    magnitude = (2 * np.abs(num) * scale + den) // (2 * den)
    return np.where(num < 0, -magnitude, magnitude)


def decimal_strings(
    scaled: np.ndarray, places: int, mask: np.ndarray | None = None, null: str | None = None
) -> np.ndarray:
    """Integers of 10^-places as exact decimal strings in scientific notation ("-12500000e-6"
    is -12.500000): what Decimal() and PostgreSQL's numeric input read exactly, for a tenth of
    the cost of placing the point; `null` where ``mask`` is False. An object array of str,
    converted in C (NumPy's integer-to-text and elementwise concatenation)."""
    text = scaled.astype(str).astype(object) + f"e-{places}"
    if mask is None:
        return text
    return np.where(mask, text, null)


def track_series(
    series: Sequence[Series],
    *,
    working_days_elapsed: Sequence[int],
    working_days: int,
    tolerance: Number = DEFAULT_TOLERANCE,
) -> Tracked:
    """Every series tracked on every day (``working_days_elapsed[d]`` for day d), as lists
    (None where there is no figure). ``track_columns`` gives the same as arrays."""
    columns = track_columns(
        series,
        working_days_elapsed=working_days_elapsed,
        working_days=working_days,
        tolerance=tolerance,
    )
    return Tracked(
        *(getattr(columns, name).tolist() for name in TrackedColumns.__dataclass_fields__)
    )


def track_columns(
    series: Sequence[Series],
    *,
    working_days_elapsed: Sequence[int],
    working_days: int,
    tolerance: Number = DEFAULT_TOLERANCE,
    null: str | None = None,
) -> "TrackedColumns":
    """``track_series``'s figures as object arrays of str (``null`` where there is none):
    what a writer joins into text without a Python loop per row."""
    prepared = prepare(
        series,
        working_days_elapsed=working_days_elapsed,
        working_days=working_days,
        tolerance=tolerance,
    )
    return prepared.track(0, len(working_days_elapsed), null=null)


@dataclass(frozen=True)
class Prepared:
    """Series checked and turned into integers once (``prepare``), to be tracked a range of
    days at a time (``track``): a long period's rows are tracked and written month by month
    without converting every series again for every month."""

    rows: list["_Rows"]
    fits: np.ndarray
    working_days_elapsed: list[int]
    working_days: int
    tolerance: Fraction

    def track(self, start: int, end: int, *, null: str | None = None) -> "TrackedColumns":
        """The days ``start``..``end`` − 1 of every series (series after series, day after
        day). Series whose every intermediate product provably fits in 64 bits over the whole
        period (``_Rows.fits_int64``: counts and conversions, almost every row) are computed in
        NumPy int64, in C; the others (money in kopecks over long periods) in Python integers.
        The same operations either way, so the same exact figures; the two groups' columns are
        put back in the series' order."""
        days = end - start
        if not self.rows or days <= 0:
            empty = np.empty(0, dtype=object)
            return TrackedColumns(empty, empty, empty, empty, empty, empty)
        rows = [row.part(start, end) for row in self.rows]
        fits = self.fits
        args = (self.working_days_elapsed[start:end], self.working_days, self.tolerance, null)
        if fits.all() or not fits.any():
            return _track(rows, *args, int64=bool(fits.all()))
        small = np.flatnonzero(fits)
        big = np.flatnonzero(~fits)
        parts = [
            _track([rows[i] for i in small], *args, int64=True),
            _track([rows[i] for i in big], *args, int64=False),
        ]
        # Row r of series i sits at i × days + r; the groups' rows follow each other.
        steps = np.arange(days)
        where = np.concatenate([small, big])[:, None] * days + steps
        order = np.empty(len(rows) * days, dtype=np.int64)
        order[where.ravel()] = np.arange(len(rows) * days)
        return TrackedColumns(
            *(
                np.concatenate([getattr(parts[0], name), getattr(parts[1], name)])[order]
                for name in TrackedColumns.__dataclass_fields__
            )
        )


def prepare(
    series: Sequence[Series],
    *,
    working_days_elapsed: Sequence[int],
    working_days: int,
    tolerance: Number = DEFAULT_TOLERANCE,
) -> Prepared:
    """The series checked (one actual and plan-to-date per day, elapsed within the period,
    a tolerance not negative) and converted for ``Prepared.track``."""
    days = len(working_days_elapsed)
    tolerance = Fraction(tolerance)
    if tolerance < 0:
        raise ValueError("The tolerance cannot be negative.")
    if any(not 0 <= e <= working_days for e in working_days_elapsed):
        raise ValueError(f"Working days elapsed must be between 0 and {working_days}.")
    for one in series:
        if len(one.actual_num) != days or len(one.actual_den) != days:
            raise ValueError("Every series needs one actual per day.")
        if one.plan_to_date is not None and len(one.plan_to_date) != days:
            raise ValueError("Every series needs one plan-to-date per day.")
    rows = [_Rows.of(one, working_days_elapsed, working_days) for one in series] if days else []
    fits = np.array([row.fits_int64(working_days, tolerance) for row in rows], dtype=bool)
    return Prepared(rows, fits, list(working_days_elapsed), working_days, tolerance)


@dataclass(frozen=True)
class _Rows:
    """One series' inputs per day as Python integers: the actual, the plan-to-date and the
    period's plan (numerator, denominator), and the shape."""

    an: list[int]
    ad: list[int]
    en: list[int]
    ed: list[int]
    tn: int
    td: int
    planned: bool
    volume: bool
    lower: bool

    @classmethod
    def of(cls, s: Series, elapsed: Sequence[int], working_days: int) -> "_Rows":
        plan = s.plan if s.plan is not None else Fraction(0)
        # Plan-to-date: given per day, else a volume's plan pro rata of working days, else
        # the plan.
        en: list[int] = []
        ed: list[int] = []
        if s.plan_to_date is not None:
            sn, sd = s.plan_to_date_share.numerator, s.plan_to_date_share.denominator
            for value in s.plan_to_date:
                if isinstance(value, int):
                    en.append(value * sn)
                    ed.append(sd)
                else:
                    value = Fraction(value) * s.plan_to_date_share
                    en.append(value.numerator)
                    ed.append(value.denominator)
        elif s.shape is MetricShape.VOLUME:
            den = plan.denominator * working_days if working_days else 1
            en = [plan.numerator * e for e in elapsed]
            ed = [den] * len(elapsed)
        else:
            en = [plan.numerator] * len(elapsed)
            ed = [plan.denominator] * len(elapsed)
        return cls(
            an=[int(v) for v in s.actual_num],
            ad=[int(v) for v in s.actual_den],
            en=en,
            ed=ed,
            tn=plan.numerator,
            td=plan.denominator,
            planned=s.plan is not None,
            volume=s.shape is MetricShape.VOLUME,
            lower=s.lower_is_better,
        )

    def part(self, start: int, end: int) -> "_Rows":
        """The days ``start``..``end`` − 1 only."""
        if start == 0 and end == len(self.an):
            return self
        return replace(
            self,
            an=self.an[start:end],
            ad=self.ad[start:end],
            en=self.en[start:end],
            ed=self.ed[start:end],
        )

    def fits_int64(self, working_days: int, tolerance: Fraction) -> bool:
        """Whether every product ``_track`` forms stays below 2^62 in magnitude."""
        an = max(abs(v) for v in self.an)
        ad = max(max(self.ad), 1)
        en = max(abs(v) for v in self.en)
        ed = max(self.ed)
        tn, td = abs(self.tn), self.td
        w = max(working_days, 1)
        k = tolerance.numerator + tolerance.denominator
        gap = an * ed + en * ad
        bound = max(
            an * ed * k,
            en * k * ad,
            an * w * td,
            tn * ad * w,
            2 * en * 10**VALUE_PLACES + ed,
            2 * an * w * 10**VALUE_PLACES + ad * w,
            2 * gap * 10**VALUE_PLACES + ad * ed,
            2 * gap * 100 * 10**PERCENT_PLACES + ad * en,
        )
        return bound < 2**62


def _column(rows: Sequence[_Rows], name: str, int64: bool) -> np.ndarray:
    values = [v for row in rows for v in getattr(row, name)]
    return np.array(values, dtype=np.int64) if int64 else _objects(values)


def _per_row(rows: Sequence[_Rows], values: Sequence[object], days: int, dtype: object):
    out = np.empty(len(rows) * days, dtype=dtype)
    for index, value in enumerate(values):
        out[index * days : (index + 1) * days] = value
    return out


def _track(
    rows: Sequence[_Rows],
    working_days_elapsed: Sequence[int],
    working_days: int,
    tolerance: Fraction,
    null: str | None,
    *,
    int64: bool,
) -> TrackedColumns:
    days = len(working_days_elapsed)
    number = np.int64 if int64 else object
    elapsed = np.tile(np.array(list(working_days_elapsed), dtype=np.int64), len(rows))
    if not int64:
        elapsed = _objects(elapsed.tolist())
    an, ad = _column(rows, "an", int64), _column(rows, "ad", int64)
    en, ed = _column(rows, "en", int64), _column(rows, "ed", int64)
    tn = _per_row(rows, [row.tn for row in rows], days, number)
    td = _per_row(rows, [row.td for row in rows], days, number)
    planned = _per_row(rows, [row.planned for row in rows], days, bool)
    volume = _per_row(rows, [row.volume for row in rows], days, bool)
    lower = _per_row(rows, [row.lower for row in rows], days, bool)

    assessed = planned & (ad != 0)
    started = elapsed != 0
    safe_ad = np.where(ad == 0, 1, ad)
    safe_elapsed = np.where(started, elapsed, 1)
    # Forecast: a volume's run rate to the period end, a ratio's actual itself.
    fn = np.where(volume, an * working_days, an)
    fd = np.where(volume, safe_ad * safe_elapsed, safe_ad)

    kn, kd = tolerance.numerator, tolerance.denominator
    # Slipped: A < E·(1 − t) (higher is better) / A > E·(1 + t) (lower is better), multiplied out
    # by the positive denominators.
    left = an * ed * kd
    slipped = np.where(
        lower, left > en * (kd + kn) * safe_ad, left < en * (kd - kn) * safe_ad
    ).astype(bool)
    # Misses: the forecast misses the period's plan.
    misses = np.where(lower, fn * td > tn * fd, fn * td < tn * fd).astype(bool)
    status = np.where(
        ~assessed,
        NOT_ASSESSED,
        np.where(
            ~started, NOT_STARTED, np.where(slipped, SLIPPED, np.where(misses, AT_RISK, ON_TRACK))
        ),
    )

    gap_num = an * ed - en * safe_ad
    gap_den = safe_ad * ed
    has_pct = assessed & (en != 0)
    pct_num = gap_num * 100
    pct_den = np.where(en != 0, safe_ad * en, 1)
    has_actual = ad != 0
    return TrackedColumns(
        status=status.astype(object),
        plan_to_date=decimal_strings(rounded(en, ed, VALUE_PLACES), VALUE_PLACES, assessed, null),
        actual_to_date=decimal_strings(
            rounded(an, safe_ad, VALUE_PLACES), VALUE_PLACES, has_actual, null
        ),
        forecast=decimal_strings(
            rounded(fn, fd, VALUE_PLACES), VALUE_PLACES, assessed & started, null
        ),
        gap=decimal_strings(rounded(gap_num, gap_den, VALUE_PLACES), VALUE_PLACES, assessed, null),
        gap_pct=decimal_strings(
            rounded(pct_num, pct_den, PERCENT_PLACES), PERCENT_PLACES, has_pct, null
        ),
    )
