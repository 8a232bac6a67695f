from datetime import timezone

import pytest

from ingest.dates import parse_date


@pytest.mark.parametrize("raw, iso", [
    ("2022/02/07", "2022-02-07T00:00:00+00:00"),
    ("2022-10-25T04:00:00", "2022-10-25T04:00:00+00:00"),
    ("2022-10-25T04:00:00-04:00", "2022-10-25T04:00:00-04:00"),
    ("Tue, 27 Jan 2026 09:15:00 GMT", "2026-01-27T09:15:00+00:00"),
    ("August 3, 2022", "2022-08-03T00:00:00+00:00"),
    ("3 Aug 2022 14:05", "2022-08-03T14:05:00+00:00"),
    (1659484800, "2022-08-03T00:00:00+00:00"),
    ("1659484800000", "2022-08-03T00:00:00+00:00"),
])
def test_common_formats_become_aware_datetimes(raw, iso):
    parsed = parse_date(raw)
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed.isoformat() == iso


@pytest.mark.parametrize("raw", [None, "", "   ", "unknown", "Tuesday, January 27", "3 hours ago", "March", [], "0000-00-00"])
def test_unknown_or_incomplete_dates_stay_unknown(raw):
    assert parse_date(raw) is None


def test_naive_dates_are_taken_as_utc():
    assert parse_date("2022-01-01 10:00").tzinfo == timezone.utc
