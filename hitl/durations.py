"""How the desk writes a length of time: one place for every page, the CLI and the timeouts.

    format_duration(5400)        -> "1h30m"     exact, as HITL_CONFIG spells durations
    humanize_seconds(5400)       -> "1 h"       rounded down to the largest unit, for tables
    humanize_age(since)          -> "12 min"    how long ago a moment was
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

__all__ = ["format_duration", "humanize_seconds", "humanize_age", "UNKNOWN"]

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
