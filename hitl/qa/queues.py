"""QA queues: which finished threads are sampled for review, and how they are reviewed. Pure.

    [[qa.queues]]
    name = "email-weekly"
    graphs = ["email_approval"]          # empty: every graph
    nodes = ["review_email"]             # the thread ran one of these nodes
    outcomes = ["completed", "rejected"] # completed | failed | resolved | rejected | edited
    since = "2026-01-01"                 # finished on or after (UTC day or ISO time)
    until = "2026-02-01"                 # finished before
    metadata = { requested_by = "alice@example.com" }   # checkpoint metadata equals (a list: any of)
    state = { status = "sent" }          # final state value at a dotted path equals
    sample_rate = 0.25                   # keep each matching thread with this probability
    seed = 7                             # same seed, same threads: sampling is a hash, not a die
    rubrics = ["correct", "tone"]        # names from [[qa.rubrics]]
    reviewers_per_item = 2               # N: scores wanted per item
    blind = true                         # nobody sees another's scores before giving theirs
    reservation_minutes = 15             # an opened item is held this long for its reviewer

Sampling is reproducible and stable as threads keep finishing: a thread is in the sample when
`sha256("<seed>:<thread_id>")`, read as a fraction of 2^64, is below `sample_rate`, so the same
seed picks the same threads whatever order they arrive in, and a thread once picked stays picked.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timezone
from typing import Any, Literal

from hitl.errors import HitlError
from hitl.qa.rubrics import Rubric

__all__ = [
    "Outcome",
    "OUTCOMES",
    "QueueSpec",
    "queue_from_dict",
    "parse_queues",
    "sampled",
    "sample_fraction",
    "value_at",
    "matches",
    "MISSING",
]

Outcome = Literal["completed", "failed", "resolved", "rejected", "edited"]
OUTCOMES: tuple[Outcome, ...] = ("completed", "failed", "resolved", "rejected", "edited")
"""completed / failed / resolved: the thread's status; rejected / edited: a reviewer rejected,
or edited what the agent proposed, in one of its HITL decisions."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_KEYS = {
    "name", "description", "graphs", "nodes", "outcomes", "since", "until", "metadata", "state",
    "sample_rate", "seed", "rubrics", "reviewers_per_item", "blind", "reservation_minutes", "include_forks",
}  # fmt: skip

DEFAULT_RESERVATION_MINUTES = 15.0


@dataclass(frozen=True, kw_only=True)
class QueueSpec:
    """A QA queue's definition (from `[[qa.queues]]` or created on the page / API)."""

    name: str
    description: str = ""
    graphs: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    """Empty: every finished thread (completed, failed or resolved)."""
    since: datetime | None = None
    until: datetime | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)
    sample_rate: float = 1.0
    seed: int = 0
    rubrics: tuple[str, ...] = ()
    reviewers_per_item: int = 1
    blind: bool = True
    reservation_minutes: float = DEFAULT_RESERVATION_MINUTES
    include_forks: bool = False
    """Forks (`hitl.qa.forks`) are left out of sampling unless asked; they can always be added by hand."""

    @property
    def reservation_seconds(self) -> float:
        return self.reservation_minutes * 60.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored in `hitl_qa_queues`, returned by the API); `queue_from_dict` reads it."""
        return {
            "name": self.name,
            "description": self.description,
            "graphs": list(self.graphs),
            "nodes": list(self.nodes),
            "outcomes": list(self.outcomes),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "metadata": dict(self.metadata),
            "state": dict(self.state),
            "sample_rate": self.sample_rate,
            "seed": self.seed,
            "rubrics": list(self.rubrics),
            "reviewers_per_item": self.reviewers_per_item,
            "blind": self.blind,
            "reservation_minutes": self.reservation_minutes,
            "include_forks": self.include_forks,
        }

    def with_rubrics(self, rubrics: Sequence[str]) -> QueueSpec:
        return replace(self, rubrics=tuple(rubrics))


def _strings(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise HitlError(f"{where}: {key} must be a list of names, e.g. {key} = [\"a\", \"b\"]; got {value!r}.")
    return tuple(dict.fromkeys(value))


def _moment(value: Any, key: str, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise HitlError(f"{where}: {key}={value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time.") from None
    else:
        raise HitlError(f"{where}: {key}={value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time.")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _filters(entry: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = entry.get(key, {}) or {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and k for k in value):
        raise HitlError(f"{where}: {key} must be a table of path = value, e.g. {key} = {{ status = \"sent\" }}; got {value!r}.")
    return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in value.items()}


def queue_from_dict(entry: Any, *, rubrics: Mapping[str, Rubric] | None = None, where: str = "queue") -> QueueSpec:
    """One queue from its TOML table or JSON object, checked against the known rubrics.

    Raises:
        HitlError: the entry is malformed; the message names the entry, the bad value and the fix.
    """
    if not isinstance(entry, Mapping):
        raise HitlError(f"{where} must be a table with at least a name, e.g. name = \"weekly\".")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise HitlError(
            f"{where} has name={name!r}; expected 1-64 letters, digits, '.', '_' or '-', e.g. name = \"email-weekly\"."
        )
    where = f"{where} {name!r}"
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise HitlError(f"{where} has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}.")
    outcomes = _strings(entry, "outcomes", where)
    bad = [o for o in outcomes if o not in OUTCOMES]
    if bad:
        raise HitlError(f"{where} lists unknown outcome(s) {bad}; use {list(OUTCOMES)}.")
    rate = entry.get("sample_rate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
        raise HitlError(f"{where}: sample_rate={rate!r} must be a number above 0 and at most 1 (0.1 keeps one in ten).")
    seed = entry.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise HitlError(f"{where}: seed={seed!r} must be a whole number.")
    per_item = entry.get("reviewers_per_item", 1)
    if isinstance(per_item, bool) or not isinstance(per_item, int) or not 1 <= per_item <= 20:
        raise HitlError(f"{where}: reviewers_per_item={per_item!r} must be a whole number from 1 to 20.")
    blind = entry.get("blind", True)
    include_forks = entry.get("include_forks", False)
    for key, flag in (("blind", blind), ("include_forks", include_forks)):
        if not isinstance(flag, bool):
            raise HitlError(f"{where}: {key} must be true or false, got {flag!r}.")
    minutes = entry.get("reservation_minutes", DEFAULT_RESERVATION_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not 0 < minutes <= 24 * 60:
        raise HitlError(f"{where}: reservation_minutes={minutes!r} must be a number of minutes above 0, at most 1440.")
    names = _strings(entry, "rubrics", where)
    if rubrics is not None:
        if not names:
            names = tuple(rubrics)
        missing = [n for n in names if n not in rubrics]
        if missing:
            known = ", ".join(rubrics) or "none: add [[qa.rubrics]] entries"
            raise HitlError(f"{where} uses rubric(s) {missing} that [[qa.rubrics]] does not define (known: {known}).")
    if not names:
        raise HitlError(f"{where} has no rubrics; add [[qa.rubrics]] to HITL_CONFIG and name them in rubrics = [...].")
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise HitlError(f"{where}: description must be text.")
    since, until = _moment(entry.get("since"), "since", where), _moment(entry.get("until"), "until", where)
    if since and until and not since < until:
        raise HitlError(f"{where}: since ({since.isoformat()}) must be before until ({until.isoformat()}).")
    return QueueSpec(
        name=name, description=description, graphs=_strings(entry, "graphs", where), nodes=_strings(entry, "nodes", where),
        outcomes=outcomes, since=since, until=until,  # type: ignore[arg-type]
        metadata=_filters(entry, "metadata", where), state=_filters(entry, "state", where),
        sample_rate=float(rate), seed=seed, rubrics=names, reviewers_per_item=per_item, blind=blind,
        reservation_minutes=float(minutes), include_forks=include_forks,
    )  # fmt: skip


def parse_queues(entries: Any, *, rubrics: Mapping[str, Rubric]) -> dict[str, QueueSpec]:
    """Every `[[qa.queues]]` entry by name.

    Raises:
        HitlError: not an array of tables, a malformed entry, or a name used twice.
    """
    if entries is None:
        return {}
    if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Sequence):
        raise HitlError('qa.queues in HITL_CONFIG must be an array of tables: [[qa.queues]]\\nname = "weekly".')
    queues: dict[str, QueueSpec] = {}
    for number, entry in enumerate(entries, start=1):
        queue = queue_from_dict(entry, rubrics=rubrics, where=f"[[qa.queues]] entry #{number}")
        if queue.name in queues:
            raise HitlError(f"[[qa.queues]] entry #{number} reuses the name {queue.name!r}; queue names must be unique.")
        queues[queue.name] = queue
    return queues


# --------------------------------------------------------------------------- selection


def sample_fraction(seed: int, thread_id: str) -> float:
    """Where a thread falls in [0, 1) for a seed: the first 64 bits of sha256("<seed>:<thread_id>")."""
    digest = hashlib.sha256(f"{seed}:{thread_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sampled(spec: QueueSpec, thread_id: str) -> bool:
    """Whether the queue's sample includes this thread (reproducible for a seed)."""
    return spec.sample_rate >= 1.0 or sample_fraction(spec.seed, thread_id) < spec.sample_rate


MISSING = object()


def value_at(data: Any, path: str) -> Any:
    """The value at a dotted path (`a.b.0.c`) in nested dicts and lists, or a sentinel when absent."""
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, (list, tuple)) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def matches(filters: Mapping[str, Any], data: Any) -> bool:
    """Every `path = expected` holds in `data` (a list as expected: any of its values)."""
    for path, expected in filters.items():
        actual = value_at(data, path)
        if actual is MISSING:
            return False
        wanted = expected if isinstance(expected, list) else [expected]
        if actual not in wanted and str(actual) not in [str(w) for w in wanted]:
            return False
    return True
