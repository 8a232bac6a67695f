"""Turn the many date formats found in articles into timezone-aware datetimes; unknown stays None."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from dateutil import parser as dateutil_parser
from dateutil.tz import tzutc

_SENTINEL = datetime(1, 1, 1)
_EPOCH_RE = re.compile(r"^\d{9,13}(\.\d+)?$")


def parse_date(value: object) -> datetime | None:
    """Parse a publication date. Returns an aware datetime (UTC when no zone is given) or None.

    Dates that lack a year, or that are not plausible publication dates, give None rather than a
    guess: an unknown date is shown as unknown, never invented.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):  # YAML front matter gives dates as date objects
        return datetime.combine(value, time(0), tzinfo=timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if _EPOCH_RE.match(text):
        return _from_epoch(float(text))
    try:
        parsed = dateutil_parser.parse(text, default=_SENTINEL, tzinfos={"UTC": tzutc()})
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed.year == 1:  # no year in the string: dateutil kept the sentinel's
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed if _plausible(parsed) else None


def _from_epoch(seconds: float) -> datetime | None:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000.0
    try:
        parsed = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return parsed if _plausible(parsed) else None


def _plausible(moment: datetime) -> bool:
    return 1800 <= moment.year <= datetime.now(timezone.utc).year + 1
