"""How the desk writes a length of time: one place for every page, the CLI and the timeouts.

    format_duration(5400)        -> "1h30m"     exact, as HITL_CONFIG spells durations
    humanize_seconds(5400)       -> "1 h"       rounded down to the largest unit, for tables
    humanize_age(since)          -> "12 min"    how long ago a moment was
    parse_duration("1h30m")      -> 5400.0      how HITL_CONFIG's durations are read
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

from hitl.errors import HitlError

__all__ = ["format_duration", "humanize_seconds", "humanize_age", "parse_duration", "UNKNOWN"]

UNKNOWN = "—"
"""Shown where a duration is not known."""

_UNITS = (("d", 86400), ("h", 3600), ("min", 60))


def format_duration(seconds: float) -> str:
    """`86400` -> `"24h"`, `5400` -> `"1h30m"`, `90` -> `"1m30s"`: whole seconds from 1 s up."""
    seconds = abs(float(seconds))
    if seconds >= 1:
        seconds = float(round(seconds))
    if seconds >= 86400 * 2 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)}d"
    parts = []
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{int(seconds // size)}{unit}")
            seconds -= (seconds // size) * size
    if seconds or not parts:
        parts.append(f"{seconds:g}s" if seconds != int(seconds) else f"{int(seconds)}s")
    return "".join(parts)


def humanize_seconds(seconds: float | None) -> str:
    """'45 s', '12 min', '3 h', '2 d' (the largest unit, rounded down); '—' when unknown."""
    if seconds is None:
        return UNKNOWN
    seconds = float(seconds)
    if math.isnan(seconds):
        return UNKNOWN
    seconds = max(0.0, seconds)
    for unit, size in _UNITS:
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def humanize_age(since: datetime | float | None, *, now: datetime | None = None) -> str:
    """How long ago `since` was (a datetime, or Unix seconds), as `humanize_seconds` writes it."""
    if since is None:
        return UNKNOWN
    if not isinstance(since, datetime):
        since = datetime.fromtimestamp(float(since), timezone.utc)
    return humanize_seconds(((now or datetime.now(timezone.utc)) - since).total_seconds())


_PARSED_UNITS = {
    "w": 604800.0, "week": 604800.0, "weeks": 604800.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
}  # fmt: skip
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")


def parse_duration(value: Any, *, name: str = "duration") -> float:
    """Seconds in a duration: `"90s"`, `"15m"`, `"24h"`, `"2d"`, `"1w"`, `"1h30m"`, or a number.

    Raises:
        HitlError: the value is not a positive duration, naming it and the accepted forms.
    """
    seconds: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif text and re.fullmatch(rf"(?:\s*{_PART.pattern}\s*)+", text):
            parts = _PART.findall(text)
            if all(unit in _PARSED_UNITS for _, unit in parts):
                seconds = sum(float(number) * _PARSED_UNITS[unit] for number, unit in parts)
    if seconds is None or seconds <= 0:
        raise HitlError(
            f"{name} = {value!r} is not a duration. Write a positive number of seconds or a string "
            'such as "90s", "15m", "24h", "2d", "1w" or "1h30m".'
        )
    return seconds
