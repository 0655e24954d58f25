"""One way to write a length of time (hitl.durations), used by every page, the CLI and the timeouts."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from hitl.durations import UNKNOWN, format_duration, humanize_age, humanize_seconds


def test_humanize_seconds_takes_the_largest_unit_rounded_down() -> None:
    cases = {0: "0 s", 44.9: "44 s", 60: "1 min", 3599: "59 min", 3600: "1 h", 5400: "1 h", 86400 * 3 + 5: "3 d"}
    assert {s: humanize_seconds(s) for s in cases} == cases


def test_unknown_and_negative_durations() -> None:
    assert humanize_seconds(None) == UNKNOWN
    assert humanize_seconds(math.nan) == UNKNOWN
    assert humanize_seconds(-5) == "0 s"  # a clock a little ahead never shows a negative wait
    assert humanize_age(None) == UNKNOWN


def test_humanize_age_reads_datetimes_and_unix_seconds_alike() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
    since = now - timedelta(minutes=12, seconds=30)
    assert humanize_age(since, now=now) == "12 min"
    assert humanize_age(since.timestamp(), now=now) == "12 min"


def test_format_duration_is_exact_as_the_config_spells_it() -> None:
    assert [format_duration(s) for s in (86400, 172800, 5400, 90, 0.5)] == ["24h", "2d", "1h30m", "1m30s", "0.5s"]
