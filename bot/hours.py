"""Business-hours calendars: when a channel is staffed, and how much staffed time has passed.

A :class:`Calendar` describes weekly opening hours in local wall-clock time for one IANA time
zone, plus whole-day holidays. It answers three questions for the response-time tracker:

* :meth:`Calendar.is_open` - is somebody expected to be around at this instant?
* :meth:`Calendar.deadline` - when will ``target`` of open time have passed since ``start``?
* :meth:`Calendar.business_elapsed` - how much open time lies between two instants?

Conventions shared by every method:

* All datetimes must be timezone-aware (naive ones raise :class:`ValueError`); results are
  returned in UTC.
* Open intervals are half-open, ``[start, end)``: a desk open 09:00-17:00 is closed at 17:00.
* In :attr:`Calendar.weekly` an interval end of ``time(0)`` means 24:00, the midnight that ends
  the day, because :class:`datetime.time` cannot represent 24:00.
* Wall-clock times are turned into instants per local date with :mod:`zoneinfo`. A wall time
  that does not exist (the spring-forward gap) becomes the first instant after the gap. A wall
  time that occurs twice (the fall-back overlap) becomes its first occurrence (``fold=0``), for
  interval starts and ends alike, so that later wall times never map to earlier instants and
  intervals cannot overlap. An interval that spans a change is therefore longer or shorter in
  real time: ``00:00-24:00`` lasts 23 h on a spring-forward day and 25 h on a fall-back day.
* Hours that run past midnight belong to the next calendar date, so a holiday on that date
  closes them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Calendar", "CalendarError", "parse_weekly_hours"]

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_SECOND_US = 1_000_000
_MINUTE_US = 60 * _SECOND_US
_HOUR_US = 60 * _MINUTE_US
_DAY_US = 24 * _HOUR_US
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _UTC_EPOCH.toordinal()
# Ten years including leap days: beyond this a deadline is a configuration mistake, and the
# bound keeps every walk finite.
_MAX_WALK_DAYS = 3653
_MAX_CACHED_MIDNIGHTS = 50_000
# UTC offset (µs) at each local midnight, by zone and date ordinal. Probing zoneinfo dominates
# long walks, and the bot asks about the same few weeks over and over, for many calendars
# sharing a zone. Bounded per zone; losing it only costs time.
_MIDNIGHT_OFFSETS: dict[ZoneInfo, dict[int, int]] = {}
# Microseconds of each UTC offset seen: there are only a few dozen in the world, and dividing
# timedeltas is slow next to a dict lookup.
_OFFSETS_US: dict[timedelta | None, int] = {}

_TIME_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_KEYS_ALLOWED = (
    "use mon, tue, wed, thu, fri, sat, sun, ranges such as 'mon-fri' or 'fri-mon', "
    "comma lists such as 'mon,wed', or 'daily'"
)
_HOURS_ALLOWED = (
    "use 'HH:MM-HH:MM' ranges separated by commas (24:00 may end a range, an end before the "
    "start runs past midnight), or 'closed'"
)

_Span = tuple[int, int]
"""A half-open interval in integer microseconds (local time of day, or UTC since the epoch)."""


class CalendarError(ValueError):
    """A calendar spec that cannot be used; message says what is wrong and what is allowed."""


def parse_weekly_hours(spec: Mapping[str, str]) -> dict[int, tuple[tuple[time, time], ...]]:
    """Parse {"mon-fri": "09:00-17:00", "sat": "10:00-12:00, 13:00-15:00", "sun": "closed"}.

    Returns weekday (0=Mon) -> sorted, merged (start, end) intervals, with an entry for every
    day; days not named in ``spec`` are closed. An end of ``time(0)`` means 24:00. A range whose
    end is before its start (``"22:00-06:00"``) runs until that time on the next day, so it is
    split across the two days; ranges that overlap or touch are merged. Each day may be named
    by only one key, because two keys for one day usually mean a mistaken override.
    """
    if not isinstance(spec, Mapping):
        raise CalendarError(
            f"weekly hours must be a mapping of day keys to hours, got {type(spec).__name__}"
        )
    spans: list[list[_Span]] = [[] for _ in _DAY_NAMES]
    named_by: dict[int, str] = {}
    for key, value in spec.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise CalendarError(
                f"weekly hours entry {key!r}: {value!r} must map a string day key to a string "
                f"of hours; {_KEYS_ALLOWED}"
            )
        for day in _parse_day_key(key):
            if day in named_by:
                raise CalendarError(
                    f"day {_DAY_NAMES[day]!r} is named by both {named_by[day]!r} and {key!r}; "
                    "use each day in only one key, such as 'mon-thu' and 'fri'"
                )
            named_by[day] = key
            for start, end in _parse_hours(key, value):
                if end > start:
                    spans[day].append((start, end))
                else:
                    spans[day].append((start, _DAY_US))
                    if end:
                        spans[(day + 1) % 7].append((0, end))
    return {day: tuple(_span_to_times(s) for s in _merge(spans[day])) for day in range(7)}


def _parse_day_key(key: str) -> list[int]:
    """Return the weekdays named by one key of the weekly spec, rejecting repeats."""
    days: list[int] = []
    for raw_part in key.split(","):
        part = raw_part.strip().lower()
        if part == "daily":
            days.extend(range(7))
        elif "-" in part:
            first, _, last = (p.strip() for p in part.partition("-"))
            i, j = _day_index(first, key), _day_index(last, key)
            days.extend((i + k) % 7 for k in range((j - i) % 7 + 1))
        else:
            days.append(_day_index(part, key))
    for day in days:
        if days.count(day) > 1:
            raise CalendarError(
                f"day key {key!r} names {_DAY_NAMES[day]!r} more than once; {_KEYS_ALLOWED}"
            )
    return days


def _day_index(name: str, key: str) -> int:
    """Return 0-6 for a three-letter day name, or explain what a day key may contain."""
    try:
        return _DAY_NAMES.index(name)
    except ValueError:
        what = f"unknown day {name!r} in day key {key!r}" if name else f"bad day key {key!r}"
        raise CalendarError(f"{what}; {_KEYS_ALLOWED}") from None


def _parse_hours(key: str, value: str) -> list[_Span]:
    """Return (start, end) microsecond pairs of one hours value; end may be before start."""
    text = value.strip().lower()
    if text == "closed":
        return []
    result = []
    for raw_part in text.split(","):
        part = raw_part.strip()
        match = _TIME_RANGE.fullmatch(part)
        if match is None:
            raise CalendarError(f"bad hours {part!r} for {key!r} in {value!r}; {_HOURS_ALLOWED}")
        sh, sm, eh, em = (int(g) for g in match.groups())
        for hour, minute in ((sh, sm), (eh, em)):
            if minute > 59 or hour > 24 or (hour == 24 and minute):
                raise CalendarError(
                    f"bad time {hour:02d}:{minute:02d} in {part!r} for {key!r}; "
                    "use 00:00 to 23:59, or 24:00 as the end of a range"
                )
        if sh == 24:
            raise CalendarError(
                f"range {part!r} for {key!r} starts at 24:00; 24:00 may only end a range "
                "(use 00:00 to start at midnight)"
            )
        start, end = sh * _HOUR_US + sm * _MINUTE_US, eh * _HOUR_US + em * _MINUTE_US
        if start == end:
            raise CalendarError(
                f"range {part!r} for {key!r} is empty (start equals end); "
                "use '00:00-24:00' for a whole day"
            )
        result.append((start, end))
    return result


def _merge(spans: Iterable[_Span]) -> list[_Span]:
    """Sort spans and merge those that overlap or touch."""
    merged: list[_Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _time_to_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * _SECOND_US + value.microsecond


def _span_to_times(span: _Span) -> tuple[time, time]:
    start, end = span
    return _us_to_time(start), _us_to_time(end % _DAY_US)


def _us_to_time(us: int) -> time:
    seconds, micro = divmod(us, _SECOND_US)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)


def _to_us(value: datetime, what: str) -> int:
    """Return microseconds since the Unix epoch of an aware datetime."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return (value - _UTC_EPOCH) // _US


def _from_us(us: int) -> datetime:
    return _UTC_EPOCH + timedelta(microseconds=us)


def _offset_us(value: datetime, tz: ZoneInfo) -> int:
    """Return the UTC offset in µs that ``tz`` gives to wall time ``value``."""
    offset = tz.utcoffset(value)
    try:
        return _OFFSETS_US[offset]
    except KeyError:
        if offset is None:
            raise CalendarError(f"time zone {tz!r} gives no UTC offset") from None
        result = _OFFSETS_US[offset] = offset // _US
        return result


@dataclass(frozen=True)
class Calendar:
    """Weekly opening hours in one time zone, minus holidays; or open around the clock.

    ``weekly`` maps weekday (0=Mon) to sorted ``(start, end)`` local wall-clock intervals, an
    end of ``time(0)`` meaning 24:00; it is normalised on construction (missing days become
    closed, intervals are sorted and merged). ``holidays`` are whole local dates on which the
    calendar is closed. ``always_open`` makes every instant open (``weekly`` is then ignored
    and reads as 00:00-24:00 every day); it cannot be combined with holidays. A calendar that is
    never open raises :class:`CalendarError`.
    """

    name: str
    tz: ZoneInfo
    # Excluded from the hash because mappings are unhashable; equality still compares it.
    weekly: Mapping[int, tuple[tuple[time, time], ...]] = field(hash=False)
    holidays: frozenset[date] = frozenset()
    always_open: bool = False
    _week: tuple[tuple[_Span, ...], ...] = field(init=False, repr=False, compare=False)
    _totals: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _holiday_ordinals: frozenset[int] = field(init=False, repr=False, compare=False)
    _continuous: bool = field(init=False, repr=False, compare=False)
    _local_epoch: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tz, ZoneInfo):
            raise CalendarError(
                f"calendar {self.name!r}: tz must be a zoneinfo.ZoneInfo, got {self.tz!r}"
            )
        week = self._normalise_weekly()
        holidays = frozenset(self.holidays)
        for day in holidays:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise CalendarError(
                    f"calendar {self.name!r}: holiday {day!r} must be a date (not a datetime)"
                )
        if self.always_open and holidays:
            raise CalendarError(
                f"calendar {self.name!r} is always open and cannot have holidays; "
                "use Calendar.from_spec with hours=None to combine 24/7 hours with holidays"
            )
        if not self.always_open and not any(week):
            raise CalendarError(
                f"calendar {self.name!r} has no open hours on any day; "
                "open at least one day, or use Calendar.always() for 24/7"
            )
        if self.always_open:
            week = [((time(0), time(0)),)] * 7
        setattr_ = object.__setattr__  # frozen dataclass: normalised values are set once here
        setattr_(self, "weekly", MappingProxyType({d: week[d] for d in range(7)}))
        setattr_(self, "holidays", holidays)
        setattr_(self, "_week", tuple(tuple(map(_times_to_span, week[d])) for d in range(7)))
        setattr_(self, "_totals", tuple(sum(e - s for s, e in day) for day in self._week))
        setattr_(self, "_holiday_ordinals", frozenset(d.toordinal() for d in holidays))
        # Every local day open 00:00-24:00 covers every instant, whatever the DST rules.
        full_day = ((0, _DAY_US),)
        continuous = self.always_open or (not holidays and all(s == full_day for s in self._week))
        setattr_(self, "_continuous", continuous)
        setattr_(self, "_local_epoch", datetime(1970, 1, 1, tzinfo=self.tz))

    def __reduce__(self) -> tuple[type[Calendar], tuple[object, ...]]:
        # A mappingproxy cannot be pickled or deep-copied, so rebuild from the public fields
        # (which also recomputes the derived ones).
        fields = (self.name, self.tz, dict(self.weekly), self.holidays, self.always_open)
        return type(self), fields

    def _normalise_weekly(self) -> list[tuple[tuple[time, time], ...]]:
        if not isinstance(self.weekly, Mapping):
            raise CalendarError(f"calendar {self.name!r}: weekly must be a mapping")
        week: list[tuple[tuple[time, time], ...]] = [() for _ in _DAY_NAMES]
        for day, intervals in self.weekly.items():
            if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
                raise CalendarError(
                    f"calendar {self.name!r}: weekly key {day!r} must be a weekday 0 (Mon) to 6"
                )
            spans = []
            for interval in intervals:
                try:
                    start, end = interval
                    valid = all(isinstance(t, time) and t.tzinfo is None for t in interval)
                except (TypeError, ValueError):
                    valid = False
                if not valid:
                    raise CalendarError(
                        f"calendar {self.name!r}: interval {interval!r} for day {day} must be a "
                        "(start, end) pair of naive datetime.time values"
                    )
                span = _times_to_span((start, end))
                if span[0] >= span[1]:
                    raise CalendarError(
                        f"calendar {self.name!r}: interval {start}-{end} for day {day} ends "
                        "before it starts; use time(0) as the end for 24:00, and "
                        "parse_weekly_hours to split hours that run past midnight"
                    )
                spans.append(span)
            week[day] = tuple(_span_to_times(s) for s in _merge(spans))
        return week

    @classmethod
    def always(cls, name: str = "24/7") -> Calendar:
        """Return a calendar that is open at every instant."""
        full = ((time(0), time(0)),)
        return cls(name, ZoneInfo("UTC"), dict.fromkeys(range(7), full), always_open=True)

    @classmethod
    def from_spec(
        cls,
        name: str,
        timezone: str,
        hours: Mapping[str, str] | None,
        holidays: Iterable[date | str] = (),
    ) -> Calendar:
        """Build a calendar from configuration values.

        ``timezone`` is an IANA name such as ``"Europe/Berlin"``. ``hours`` is a spec for
        :func:`parse_weekly_hours`, or ``None`` for open around the clock. ``holidays`` are
        dates or ``"YYYY-MM-DD"`` strings. Anything unusable raises :class:`CalendarError`
        naming the calendar, the bad value and what is allowed.
        """
        try:
            if not isinstance(timezone, str):
                raise TypeError(timezone)
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
            raise CalendarError(
                f"calendar {name!r}: unknown time zone {timezone!r}; "
                "use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'"
            ) from None
        days = frozenset(_parse_holiday(name, h) for h in holidays)
        try:
            if hours is None:
                if not days:
                    return cls(name, tz, cls.always().weekly, always_open=True)
                weekly = dict(cls.always().weekly)
            else:
                weekly = parse_weekly_hours(hours)
            return cls(name, tz, weekly, days)
        except CalendarError as exc:
            if str(exc).startswith("calendar "):
                raise
            raise CalendarError(f"calendar {name!r}: {exc}") from None

    def is_open(self, at: datetime) -> bool:
        """Return whether ``at`` falls inside an open interval (intervals are half-open)."""
        u = _to_us(at, "at")
        if self._continuous:
            return True
        # The neighbouring days matter when a DST overlap near midnight shifts day boundaries.
        for base, spans, _ in self._open_days(self._local_ordinal(u) - 1, 3):
            for s, e in spans:
                if base + s <= u < base + e:
                    return True
        return False

    def next_open(self, at: datetime) -> datetime:
        """Return ``at`` (in UTC) if open, else the start of the next open interval.

        Raises :class:`CalendarError` if nothing opens within ten years (holidays only).
        """
        u = _to_us(at, "at")
        if self._continuous:
            return _from_us(u)
        return _from_us(self._advance(u, 0))

    def deadline(self, start: datetime, target: timedelta) -> datetime:
        """Return the instant (UTC) at which ``target`` of open time has passed since ``start``.

        That is the earliest instant ``d`` at or after ``next_open(start)`` with
        ``business_elapsed(start, d) == target``. A target that runs out exactly at closing time
        gives the closing time, not the next opening. A zero target gives ``next_open(start)``:
        the moment the clock starts running, which still has zero business time elapsed, and
        which small positive targets approach. Raises :class:`ValueError` for a negative
        target and :class:`CalendarError` if the target needs more than ten years of hours.
        """
        u = _to_us(start, "start")
        remaining = target // _US
        if remaining < 0:
            raise ValueError(f"target must not be negative, got {target}")
        if self._continuous:
            return _from_us(u + remaining)
        return _from_us(self._advance(u, remaining))

    def business_elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Return the open time between ``start`` and ``end``; zero if ``end <= start``."""
        u, v = _to_us(start, "start"), _to_us(end, "end")
        if v <= u:
            return timedelta(0)
        if self._continuous:
            return timedelta(microseconds=v - u)
        first = self._local_ordinal(u)
        # One day past end's local date, because a fall-back overlap around midnight can put
        # part of that day's first interval before `end`.
        days = self._local_ordinal(v) + 2 - first
        total = 0
        for base, spans, day_total in self._open_days(first, days):
            opens, closes = base + spans[0][0], base + spans[-1][1]
            if opens >= v:
                break
            if u <= opens and closes <= v:
                total += day_total
                continue
            for s, e in spans:
                s, e = max(base + s, u), min(base + e, v)
                if s < e:
                    total += e - s
        return timedelta(microseconds=total)

    def _advance(self, u: int, remaining: int) -> int:
        """Return the earliest instant by which ``remaining`` µs of open time follow ``u``.

        With ``remaining == 0`` this is the next open instant at or after ``u``.
        """
        for base, spans, day_total in self._open_days(self._local_ordinal(u), _MAX_WALK_DAYS):
            if u <= base + spans[0][0] and day_total < remaining:
                remaining -= day_total
                continue
            for s, e in spans:
                s, e = max(base + s, u), base + e
                if e <= s:
                    continue
                if e - s >= remaining:
                    return s + remaining
                remaining -= e - s
        if remaining:
            raise CalendarError(
                f"calendar {self.name!r} does not provide the requested target within ten "
                f"years (still {timedelta(microseconds=remaining)} short); use a smaller target"
            )
        raise CalendarError(
            f"calendar {self.name!r} does not open within ten years of "
            f"{_from_us(u).isoformat()}; check its holidays"
        )

    def _local_ordinal(self, u: int) -> int:
        """Return the proleptic ordinal of the local date at UTC instant ``u``."""
        return _from_us(u).astimezone(self.tz).toordinal()

    def _open_days(self, first: int, count: int) -> Iterator[tuple[int, tuple[_Span, ...], int]]:
        """Yield ``(base, spans, total)`` for the open days among ``count`` local dates.

        ``base + start`` and ``base + end`` of each span are UTC µs since the epoch; spans are
        non-empty, sorted, and ``total`` is their summed length. Closed days cost only a lookup.
        """
        week, totals, holidays = self._week, self._totals, self._holiday_ordinals
        offsets = _MIDNIGHT_OFFSETS.get(self.tz)
        if offsets is None or len(offsets) > _MAX_CACHED_MIDNIGHTS:
            offsets = _MIDNIGHT_OFFSETS[self.tz] = {}
        local_epoch, tz, one_day = self._local_epoch, self.tz, _ONE_DAY
        last_day, last_midnight = _EPOCH_ORDINAL, local_epoch

        def probe(day: int) -> int:
            # fold=0: a skipped midnight reports the pre-transition offset.
            nonlocal last_day, last_midnight
            offset = offsets.get(day)
            if offset is None:
                # Probes mostly move one day forward, and stepping a datetime is cheap.
                if day == last_day + 1:
                    last_midnight += one_day
                else:
                    last_midnight = local_epoch + one_day * (day - _EPOCH_ORDINAL)
                last_day = day
                offset = offsets[day] = _offset_us(last_midnight, tz)
            return offset

        # Offsets at the midnights starting `day`, `day + 1` and `day + 2`; consecutive open
        # days slide this window rather than look all three up again.
        window_day = first - 2
        o1 = o2 = 0
        for day in range(first, first + count):
            local = week[(day - 1) % 7]  # ordinal 1 (0001-01-01) was a Monday
            if not local or day in holidays:
                continue
            if day != window_day + 1:
                o1, o2 = probe(day), probe(day + 1)
            o0, o1, o2 = o1, o2, probe(day + 2)
            window_day = day
            midnight_us = (day - _EPOCH_ORDINAL) * _DAY_US
            # Equal offsets at this midnight and the next two mean no change during this day,
            # even one whose gap or overlap swallows the next midnight. The shortest offset
            # excursion in tzdata (Freetown, 1939) lasts four days, so a change and its reversal
            # cannot hide between these probes.
            if o0 == o1 == o2:
                yield midnight_us - o0, local, totals[(day - 1) % 7]
                continue
            resolve = self._resolve
            spans = tuple(
                (s, e)
                for s, e in ((resolve(midnight_us + s), resolve(midnight_us + e)) for s, e in local)
                if s < e
            )
            if spans:
                yield 0, spans, sum(e - s for s, e in spans)

    def _resolve(self, wall: int) -> int:
        """Return the UTC instant of local wall time ``wall`` (µs since the local epoch).

        Repeated wall times resolve to their first occurrence; skipped ones to the transition.
        """
        local = self._local_epoch + timedelta(microseconds=wall)
        u = wall - _offset_us(local, self.tz)
        if self._wall(u) == wall:
            return u
        # In a gap fold=0 applies the earlier (pre-transition) offset and fold=1 the later one,
        # which brackets the transition instant; tzdata transitions fall on whole seconds.
        lo = (wall - _offset_us(local.replace(fold=1), self.tz)) // _SECOND_US
        hi = -(-u // _SECOND_US)
        if self._wall(lo * _SECOND_US) >= wall or self._wall(hi * _SECOND_US) < wall:
            return u  # not a plain forward gap; keep zoneinfo's answer rather than guess
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._wall(mid * _SECOND_US) >= wall:
                hi = mid
            else:
                lo = mid
        return hi * _SECOND_US

    def _wall(self, u: int) -> int:
        """Return the local wall time (µs since the local epoch) of UTC instant ``u``."""
        return u + _offset_us(_from_us(u).astimezone(self.tz), self.tz)


def _times_to_span(interval: tuple[time, time]) -> _Span:
    start, end = _time_to_us(interval[0]), _time_to_us(interval[1])
    return start, end or _DAY_US


def _parse_holiday(name: str, value: date | str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise CalendarError(
        f"calendar {name!r}: bad holiday {value!r}; use a date or a 'YYYY-MM-DD' string"
    )
