"""Timeouts and escalation: the 24-hour rule, configured in the HITL_CONFIG TOML file.

```toml
[[timeouts]]
graph = "approval_chain"          # optional: only this graph id
kind = "approval_level"           # optional: only this payload kind
expire_after = "24h"              # "90s", "15m", "24h", "2d", "1w", "1h30m", or seconds
on_expire = "escalate"            # "reject" (the default: fail closed) | "approve" | "escalate"
escalate_to = ["manager", "director", "vp"]
on_expire_final = "reject"        # past the last level: "reject" (default) | "approve"
warn_before = "2h"                # "about to expire" from here on; default a fifth of expire_after

[[timeouts]]                      # neither graph nor kind: the default for every other item
expire_after = "3d"
```

The same policies may be written as tables: `[timeouts.default]` and named ones such as
`[timeouts.payments]` (with `graph`/`kind` keys). The most specific policy wins: graph and
kind, then graph, then kind, then the default; items no policy covers never expire.

The clock of an interrupt starts when it was requested (`requested_at` in the payload, an ISO
time or epoch seconds), else when the thread paused (`waiting_since`), and restarts at each
escalation. `deadline = start + expire_after (+ an extension granted at the current level)`.

`sweep` (run by `python -m hitl sweep` and by `start_background_sweeper`) applies the policy to
every expired interrupt as reviewer `system:timeout`: reject (one-click reject with the comment
"expired after 24h"; a kind that cannot be rejected in one click is marked resolved instead,
so nothing runs), approve, or escalate (a row in `hitl_escalations` moves the item to the next
level and restarts its clock; past the last level `on_expire_final` applies). Each step is in
the audit log: action "timeout" (the decision), "escalate", or "extend" (`extend_deadline`,
once per interrupt, with a reason).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from hitl import contracts
from hitl.services.resolve import resolve as resolve_thread
from hitl.services.resume_one import resume as resume_thread
from hitl.access import audit_context
from hitl.desk import Desk
from hitl.domain import PendingInterrupt, PendingThread
from hitl.reading import pending_interrupt, pending_thread
from hitl.services.recovery import recover_stale_claims
from hitl.store import Store
from hitl.durations import format_duration
from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer, StoreError, ThreadNotFound, UnknownGraph


__all__ = [
    "SYSTEM_REVIEWER",
    "OnExpire",
    "TimeoutPolicy",
    "DeadlineInfo",
    "BackgroundSweeper",
    "parse_duration",
    "load_policies",
    "policy_for",
    "deadline_info",
    "interrupt_deadlines",
    "escalated_levels",
    "extend_deadline",
    "sweep",
    "start_background_sweeper",
]

log = logging.getLogger(__name__)

SYSTEM_REVIEWER = "system:timeout"
"""The reviewer recorded for decisions and escalations the sweeper makes."""

OnExpire = Literal["reject", "approve", "escalate"]
"""What happens to an interrupt past its deadline."""

_ON_EXPIRE: tuple[str, ...] = ("reject", "approve", "escalate")
_POLICY_KEYS = frozenset(
    {"graph", "kind", "expire_after", "on_expire", "escalate_to", "on_expire_final", "warn_before", "name"}
)

_TABLES = (
    """CREATE TABLE IF NOT EXISTS hitl_escalations (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        level TEXT NOT NULL,
        from_level TEXT,
        escalated_at DOUBLE PRECISION NOT NULL,
        reviewer TEXT NOT NULL,
        PRIMARY KEY (thread_id, interrupt_id, level)
    )""",
    """CREATE TABLE IF NOT EXISTS hitl_extensions (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        level TEXT NOT NULL DEFAULT '',
        extra_seconds DOUBLE PRECISION NOT NULL,
        reviewer TEXT NOT NULL,
        reason TEXT NOT NULL,
        extended_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (thread_id, interrupt_id)
    )""",
)


# --------------------------------------------------------------------------- durations

_UNITS = {
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
            if all(unit in _UNITS for _, unit in parts):
                seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if seconds is None or seconds <= 0:
        raise HitlError(
            f"{name} = {value!r} is not a duration. Write a positive number of seconds or a string "
            'such as "90s", "15m", "24h", "2d", "1w" or "1h30m".'
        )
    return seconds


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True, kw_only=True)
class TimeoutPolicy:
    """One `[[timeouts]]` entry of HITL_CONFIG."""

    name: str
    """The table's name (`default`, `payments`) or `timeouts[N]` for array entries."""

    graph: str | None = None
    """Only interrupts of this graph id; None matches every graph."""

    kind: str | None = None
    """Only interrupts of this payload kind; None matches every kind."""

    expire_after: float
    """Seconds an interrupt may wait (at each level) before the policy applies."""

    on_expire: OnExpire = "reject"
    """What happens at the deadline; reject by default, so nothing runs unapproved."""

    escalate_to: tuple[str, ...] = ()
    """Levels in order (e.g. manager, director, vp); used when `on_expire` is escalate."""

    on_expire_final: Literal["reject", "approve"] = "reject"
    """What happens at the deadline of the last level."""

    warn_before: float
    """Seconds before the deadline from which the item counts as about to expire."""

    @property
    def specificity(self) -> int:
        """2 for a graph, 1 for a kind: the most specific matching policy wins."""
        return (2 if self.graph else 0) + (1 if self.kind else 0)

    def matches(self, graph_id: str | None, kind: str | None) -> bool:
        """Whether this policy covers an interrupt of this graph and kind."""
        return (self.graph is None or self.graph == graph_id) and (self.kind is None or self.kind == kind)

    def next_level(self, level: str | None) -> str | None:
        """The level an item at `level` escalates to, or None past the last one."""
        if not self.escalate_to:
            return None
        if level not in self.escalate_to:
            return self.escalate_to[0]
        index = self.escalate_to.index(level) + 1
        return self.escalate_to[index] if index < len(self.escalate_to) else None


def load_policies(policy: Mapping[str, Any]) -> list[TimeoutPolicy]:
    """The timeout policies of a parsed HITL_CONFIG (`Settings.policy`), in file order.

    Raises:
        HitlError: a policy has an unknown key, a bad duration or an unknown action.
    """
    raw = policy.get("timeouts")
    if raw is None:
        return []
    entries: list[tuple[str, Any]]
    if isinstance(raw, list):
        entries = [(f"timeouts[{index}]", entry) for index, entry in enumerate(raw)]
    elif isinstance(raw, dict):
        entries = list(raw.items())
    else:
        raise HitlError(f"HITL_CONFIG: `timeouts` must be [[timeouts]] entries or [timeouts.NAME] tables, not {type(raw).__name__}.")
    return [_policy(name, entry) for name, entry in entries]


def _policy(name: str, entry: Any) -> TimeoutPolicy:
    where = f"HITL_CONFIG [{name}]" if not name.startswith("timeouts[") else f"HITL_CONFIG {name}"
    if not isinstance(entry, dict):
        raise HitlError(f"{where} must be a table of settings, not {entry!r}.")
    if "default" in entry and isinstance(entry["default"], dict):
        raise HitlError(
            f"{where} contains a [timeouts.default] table: after [[timeouts]] entries TOML nests it "
            "inside the last entry. Write the default as a [[timeouts]] entry without graph and kind."
        )
    unknown = sorted(set(entry) - _POLICY_KEYS)
    if unknown:
        raise HitlError(f"{where} has unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_POLICY_KEYS))}.")
    if "expire_after" not in entry:
        raise HitlError(f'{where} needs expire_after, e.g. expire_after = "24h".')
    expire_after = parse_duration(entry["expire_after"], name=f"{where} expire_after")
    on_expire = entry.get("on_expire", "reject")
    if on_expire not in _ON_EXPIRE:
        raise HitlError(f"{where} on_expire = {on_expire!r}; use one of {', '.join(_ON_EXPIRE)} (reject is the default).")
    final = entry.get("on_expire_final", "reject")
    if final not in ("reject", "approve"):
        raise HitlError(f"{where} on_expire_final = {final!r}; use reject (the default) or approve.")
    levels = entry.get("escalate_to", [])
    if isinstance(levels, str):
        levels = [levels]
    if not isinstance(levels, list) or not all(isinstance(level, str) and level.strip() for level in levels):
        raise HitlError(f'{where} escalate_to must be a list of level names, e.g. ["manager", "director", "vp"].')
    if on_expire == "escalate" and not levels:
        raise HitlError(f'{where} escalates but has no escalate_to levels; add e.g. escalate_to = ["director", "vp"].')
    warn = entry.get("warn_before")
    for key in ("graph", "kind"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise HitlError(f"{where} {key} must be a string, not {entry[key]!r}.")
    return TimeoutPolicy(
        name=str(entry.get("name") or name),
        graph=entry.get("graph") or None,
        kind=entry.get("kind") or None,
        expire_after=expire_after,
        on_expire=on_expire,
        escalate_to=tuple(level.strip() for level in levels),
        on_expire_final=final,
        warn_before=parse_duration(warn, name=f"{where} warn_before") if warn is not None else expire_after / 5,
    )


def policy_for(policies: Sequence[TimeoutPolicy], graph_id: str | None, kind: str | None) -> TimeoutPolicy | None:
    """The most specific policy covering this graph and kind (the first in the file on a tie)."""
    best: TimeoutPolicy | None = None
    for candidate in policies:
        if candidate.matches(graph_id, kind) and (best is None or candidate.specificity > best.specificity):
            best = candidate
    return best


def _policies(inbox: Desk) -> list[TimeoutPolicy]:
    cached = inbox.__dict__.get("_timeout_policies")
    if cached is None or cached[0] is not inbox.settings.policy:
        cached = (inbox.settings.policy, load_policies(inbox.settings.policy))
        inbox.__dict__["_timeout_policies"] = cached
    return cached[1]


# --------------------------------------------------------------------------- desk tables


def _ensure_tables(store: Store) -> bool:
    """Create `hitl_escalations` and `hitl_extensions` once per store; False if they cannot exist."""
    state = store.__dict__.get("_hitl_policy_tables")
    if state is not None:
        return state
    if store.read_only:
        try:
            store.query("SELECT 1 FROM hitl_escalations WHERE 1 = 0")
            store.query("SELECT 1 FROM hitl_extensions WHERE 1 = 0")
            state = True
        except StoreError:
            state = False  # a read-only database the sweeper never wrote to: nothing escalated
    else:
        with store.connection(write=True) as conn:
            for statement in _TABLES:
                conn.execute(statement)
        state = True
    store.__dict__["_hitl_policy_tables"] = state
    return state


def _in_chunks(store: Store, sql: str, thread_ids: Sequence[str]) -> list[tuple]:
    rows: list[tuple] = []
    for start in range(0, len(thread_ids), 500):
        chunk = list(thread_ids[start : start + 500])
        rows += store.query(sql.format(marks=",".join("?" for _ in chunk)), chunk)
    return rows


@dataclass(frozen=True)
class _Escalation:
    level: str
    escalated_at: float


@dataclass(frozen=True)
class _Extension:
    level: str
    extra_seconds: float
    reviewer: str
    reason: str
    extended_at: float


def _escalations(store: Store, thread_ids: Sequence[str]) -> dict[tuple[str, str], _Escalation]:
    if not thread_ids or not _ensure_tables(store):
        return {}
    latest: dict[tuple[str, str], _Escalation] = {}
    rows = _in_chunks(
        store,
        "SELECT thread_id, interrupt_id, level, escalated_at FROM hitl_escalations WHERE thread_id IN ({marks}) "
        "ORDER BY escalated_at",
        thread_ids,
    )
    for thread_id, interrupt_id, level, escalated_at in rows:
        latest[(thread_id, interrupt_id)] = _Escalation(level, float(escalated_at))
    return latest


def _extensions(store: Store, thread_ids: Sequence[str]) -> dict[tuple[str, str], _Extension]:
    if not thread_ids or not _ensure_tables(store):
        return {}
    rows = _in_chunks(
        store,
        "SELECT thread_id, interrupt_id, level, extra_seconds, reviewer, reason, extended_at FROM hitl_extensions "
        "WHERE thread_id IN ({marks})",
        thread_ids,
    )
    return {(r[0], r[1]): _Extension(r[2] or "", float(r[3]), r[4], r[5], float(r[6])) for r in rows}


def escalated_levels(inbox: Desk, thread_ids: Sequence[str]) -> dict[tuple[str, str], str]:
    """`{(thread_id, interrupt_id): level}` of interrupts the sweeper escalated (latest level)."""
    return {key: item.level for key, item in _escalations(inbox.store, list(thread_ids)).items()}


# --------------------------------------------------------------------------- deadlines


@dataclass(frozen=True, kw_only=True)
class DeadlineInfo:
    """When one interrupt expires, and what happens then."""

    thread_id: str
    interrupt_id: str
    deadline: datetime
    """When the policy applies (UTC)."""

    seconds_left: float
    """Seconds until the deadline; negative once it passed."""

    level: str | None
    """The level the item waits on: the last escalation's, else the payload's `level`."""

    extended: bool
    """Whether a reviewer extended this interrupt's deadline (allowed once)."""

    expiring_soon: bool
    """Within the policy's `warn_before` of the deadline (or past it): highlight it."""

    on_expire: str
    """What happens at the deadline: "reject", "approve" or "escalate to <level>"."""

    started_at: datetime
    """When the clock started: requested_at, waiting_since, or the last escalation."""

    policy: TimeoutPolicy = field(repr=False)
    graph_id: str | None = None
    kind: str | None = None

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.seconds_left <= 0


def _requested_at(value: Any) -> float | None:
    raw = value.get("requested_at") if isinstance(value, Mapping) else None
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _payload_level(value: Any) -> str | None:
    level = value.get("level") if isinstance(value, Mapping) else None
    return level if isinstance(level, str) and level else None


def _deadline(
    *,
    thread_id: str,
    graph_id: str | None,
    waiting_since: float,
    interrupt: PendingInterrupt,
    policies: Sequence[TimeoutPolicy],
    escalation: _Escalation | None,
    extension: _Extension | None,
    now: float,
) -> DeadlineInfo | None:
    if interrupt.decode_error or interrupt.failed_error:
        return None  # nothing a timeout could answer: shown read-only or awaiting retry
    policy = policy_for(policies, graph_id, interrupt.kind)
    if policy is None:
        return None
    level = escalation.level if escalation else _payload_level(interrupt.value)
    if escalation:
        started = escalation.escalated_at
    else:
        started = _requested_at(interrupt.value) or waiting_since
    extended = extension is not None and extension.level == (level or "")
    deadline = started + policy.expire_after + (extension.extra_seconds if extended else 0.0)
    if policy.on_expire == "escalate":
        target = policy.next_level(level)
        action = f"escalate to {target}" if target else policy.on_expire_final
    else:
        action = policy.on_expire
    left = deadline - now
    return DeadlineInfo(
        thread_id=thread_id,
        interrupt_id=interrupt.id,
        deadline=datetime.fromtimestamp(deadline, timezone.utc),
        seconds_left=left,
        level=level,
        extended=extension is not None,
        expiring_soon=left <= policy.warn_before,
        on_expire=action,
        started_at=datetime.fromtimestamp(started, timezone.utc),
        policy=policy,
        graph_id=graph_id,
        kind=interrupt.kind,
    )


def _now(now: datetime | float | None) -> float:
    if now is None:
        return datetime.now(timezone.utc).timestamp()
    if isinstance(now, datetime):
        return (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).timestamp()
    return float(now)


def _pending_threads(inbox: Desk, threads: Iterable[str | PendingThread]) -> list[PendingThread]:
    """PendingThread objects for ids (decoded fresh) or as given."""
    given = list(threads)
    ready = [t for t in given if not isinstance(t, str)]
    ids = [t for t in given if isinstance(t, str)]
    if ids:
        inbox.refresh()  # threads an agent just paused may not be indexed yet
        rows, _, _ = inbox.store.list_threads(status=None, thread_ids=ids, limit=max(len(ids), 1))
        decoded = inbox.store.pending_interrupts([row.thread_id for row in rows])
        ready += [pending_thread(row, decoded.get(row.thread_id, [])) for row in rows if row.status == "waiting"]
    return ready


def interrupt_deadlines(
    inbox: Desk, threads: Iterable[str | PendingThread], *, now: datetime | float | None = None
) -> dict[tuple[str, str], DeadlineInfo]:
    """`{(thread_id, interrupt_id): DeadlineInfo}` for every pending interrupt a policy covers."""
    policies = _policies(inbox)
    if not policies:
        return {}
    items = _pending_threads(inbox, threads)
    if not items:
        return {}
    moment = _now(now)
    ids = [t.thread_id for t in items]
    escalations = _escalations(inbox.store, ids)
    extensions = _extensions(inbox.store, ids)
    out: dict[tuple[str, str], DeadlineInfo] = {}
    for thread in items:
        for interrupt in thread.interrupts:
            key = (thread.thread_id, interrupt.id)
            info = _deadline(
                thread_id=thread.thread_id,
                graph_id=thread.graph_id,
                waiting_since=thread.waiting_since.timestamp(),
                interrupt=interrupt,
                policies=policies,
                escalation=escalations.get(key),
                extension=extensions.get(key),
                now=moment,
            )
            if info is not None:
                out[key] = info
    return out


def deadline_info(
    inbox: Desk, threads: Iterable[str | PendingThread], *, now: datetime | float | None = None
) -> dict[str, DeadlineInfo]:
    """`{thread_id: DeadlineInfo}` of each thread's earliest deadline, for the inbox to show.

    Pass the page's `PendingThread`s (already decoded) or thread ids. Threads no policy
    covers are left out. Highlight `expiring_soon`; show `seconds_left` and `level`.
    """
    earliest: dict[str, DeadlineInfo] = {}
    for (thread_id, _), info in interrupt_deadlines(inbox, threads, now=now).items():
        if thread_id not in earliest or info.deadline < earliest[thread_id].deadline:
            earliest[thread_id] = info
    return earliest


# --------------------------------------------------------------------------- extending


def extend_deadline(
    inbox: Desk,
    thread_id: str,
    *,
    reviewer: str,
    reason: str,
    extra: float | str,
    interrupt_id: str | None = None,
    now: datetime | float | None = None,
) -> DeadlineInfo:
    """Push an interrupt's deadline back by `extra` ("24h" or seconds), once, with a reason.

    Recorded in the audit log (action "extend") in the same transaction as the extension.
    An escalation restarts the clock and drops an extension granted at the earlier level;
    the interrupt still cannot be extended a second time.

    Raises:
        InvalidAnswer: no reviewer or reason, a bad `extra`, no deadline to extend, the
            deadline already passed, or it was already extended (who, when, why).
        ThreadNotFound: no such thread.
    """
    if not reviewer or not str(reviewer).strip():
        raise InvalidAnswer("Extending a deadline needs the reviewer's name; it goes into the audit log.")
    if not reason or not str(reason).strip():
        raise InvalidAnswer("Extending a deadline needs a reason; it goes into the audit log.", field_errors={"reason": "required"})
    try:
        extra_seconds = parse_duration(extra, name="extra")
    except HitlError as exc:
        raise InvalidAnswer(str(exc), field_errors={"extra": "not a duration"}) from None
    if not inbox.store.thread_exists(thread_id):
        raise ThreadNotFound(thread_id)
    moment = _now(now)
    infos = {iid: info for (tid, iid), info in interrupt_deadlines(inbox, [thread_id], now=moment).items()}
    if interrupt_id is None:
        if len(infos) > 1:
            raise InvalidAnswer(
                f"Thread {thread_id!r} has {len(infos)} interrupts with deadlines; name the one to extend "
                f"(one of {', '.join(infos)})."
            )
        interrupt_id = next(iter(infos), None)
    info = infos.get(interrupt_id) if interrupt_id else None
    if info is None:
        raise InvalidAnswer(
            f"Thread {thread_id!r} has no pending interrupt {interrupt_id or ''} with a deadline: no timeout "
            "policy covers it, or it was answered. Nothing to extend."
        )
    if info.expired:
        raise InvalidAnswer(
            f"The deadline of interrupt {interrupt_id} passed at {info.deadline:%Y-%m-%d %H:%M:%S} UTC; it can no "
            f"longer be extended. The sweeper applies its policy ({info.on_expire})."
        )
    store = inbox.store
    _ensure_tables(store)
    new_deadline = info.deadline.timestamp() + extra_seconds
    with store.connection(write=True) as conn:
        inserted = conn.execute(
            store.dialect.sql(
                "INSERT INTO hitl_extensions (thread_id, interrupt_id, level, extra_seconds, reviewer, reason, extended_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, interrupt_id) DO NOTHING"
            ),
            (thread_id, interrupt_id, info.level or "", extra_seconds, reviewer, reason.strip(), moment),
        ).rowcount
        if inserted != 1:
            previous = _extensions(store, [thread_id]).get((thread_id, interrupt_id))
            who = (
                f" by {previous.reviewer} at {datetime.fromtimestamp(previous.extended_at, timezone.utc):%Y-%m-%d %H:%M:%S} "
                f"UTC ({previous.reason})"
                if previous
                else ""
            )
            raise InvalidAnswer(f"The deadline of interrupt {interrupt_id} was already extended once{who}; it cannot be extended again.")
        store.append_audit(
            [
                {
                    "thread_id": thread_id,
                    "interrupt_id": interrupt_id,
                    "graph_id": info.graph_id,
                    "kind": info.kind,
                    "payload": audit_context(store, thread_id, interrupt_id).get("payload"),  # for [access]
                    "action": "extend",
                    "answer": {
                        "extra_seconds": extra_seconds,
                        "deadline_before": info.deadline.isoformat(),
                        "deadline_after": datetime.fromtimestamp(new_deadline, timezone.utc).isoformat(),
                        "level": info.level,
                    },
                    "reviewer": reviewer,
                    "comment": reason.strip(),
                    "decided_at": moment,
                    "outcome": "extended",
                }
            ]
        )
    return interrupt_deadlines(inbox, [thread_id], now=moment)[(thread_id, interrupt_id)]


# --------------------------------------------------------------------------- sweeping


def _watched_threads(inbox: Desk, policies: Sequence[TimeoutPolicy]) -> Iterator[list[PendingThread]]:
    """Pages of waiting threads a policy may cover (every graph when a policy has none)."""
    graphs: list[str | None] = [None]
    if all(p.graph for p in policies):
        graphs = list(dict.fromkeys(p.graph for p in policies))
    for graph_id in graphs:
        cursor = None
        while True:
            rows, cursor, _ = inbox.store.list_threads(status="waiting", limit=200, cursor=cursor, graph_id=graph_id)
            decoded = inbox.store.pending_interrupts([row.thread_id for row in rows])
            page = [pending_thread(row, decoded.get(row.thread_id, [])) for row in rows]
            # Threads the desk cannot resume (unknown graph, import error) stay for a human.
            yield [t for t in page if t.read_only_reason is None]
            if cursor is None:
                break


def sweep(inbox: Desk, *, now: datetime | float | None = None, dry_run: bool = False) -> Iterator[str]:
    """Apply the timeout policies to every expired interrupt; yields one line per action.

    Reject and approve are one-click answers (`quick_answer`) resumed as reviewer
    `system:timeout` (action "timeout", comment "expired after 24h") through the claim, so
    they are exactly-once against a reviewer answering at the same moment: whoever claims
    first wins. Escalation records
    the next level in `hitl_escalations` and the audit log (action "escalate").

    Args:
        inbox: the desk.
        now: the time to sweep at (tests); default the current time.
        dry_run: report what would happen, change nothing.
    """
    policies = _policies(inbox)
    if not policies:
        yield "no timeout policies configured ([[timeouts]] in HITL_CONFIG): nothing to do"
        return
    if inbox.store.read_only and not dry_run:
        yield f"the database {inbox.store.display_url} is read-only: reporting only, nothing applied"
        dry_run = True
    moment = _now(now)
    inbox.refresh()
    expired: list[DeadlineInfo] = []
    watched = 0
    for page in _watched_threads(inbox, policies):
        infos = interrupt_deadlines(inbox, page, now=moment)
        watched += len(infos)
        expired += [info for info in infos.values() if info.expired]
    expired.sort(key=lambda info: info.deadline)
    counts = {"rejected": 0, "approved": 0, "escalated": 0, "skipped": 0}
    for info in expired:
        try:
            verb, line = _apply(inbox, info, moment=moment, dry_run=dry_run)
        except StoreError as exc:
            yield f"error: {exc} (sweep stopped; run it again once the database is available)"
            counts["skipped"] += 1
            break
        counts[verb] = counts.get(verb, 0) + 1
        yield line
    prefix = "dry run: " if dry_run else ""
    yield (
        f"{prefix}{len(expired)} expired of {watched} waiting under a policy: {counts['rejected']} rejected, "
        f"{counts['approved']} approved, {counts['escalated']} escalated, {counts['skipped']} skipped"
    )


def _apply(inbox: Desk, info: DeadlineInfo, *, moment: float, dry_run: bool) -> tuple[str, str]:
    """Apply one expired interrupt's policy; returns (counter, line)."""
    label = f"{info.thread_id} {info.interrupt_id[:12]} ({info.graph_id or '?'}/{info.kind})"
    overdue = max(1.0, -info.seconds_left)
    late = format_duration(round(overdue / 60) * 60 if overdue >= 600 else overdue)
    # Re-read just before acting: a reviewer may have answered or extended it meanwhile.
    fresh = interrupt_deadlines(inbox, [info.thread_id], now=moment).get((info.thread_id, info.interrupt_id))
    if fresh is None or not fresh.expired:
        return "skipped", f"{label}: answered or extended meanwhile; left alone"
    info = fresh
    policy = info.policy
    target = policy.next_level(info.level) if policy.on_expire == "escalate" else None
    if policy.on_expire == "escalate" and target is not None:
        if dry_run:
            return "escalated", f"{label}: expired {late} ago at level {info.level or '-'}: would escalate to {target}"
        return _escalate(inbox, info, target, moment=moment, label=label)
    approve = (policy.on_expire_final if policy.on_expire == "escalate" else policy.on_expire) == "approve"
    verb = "approve" if approve else "reject"
    if dry_run:
        return ("approved" if approve else "rejected"), f"{label}: expired {late} ago: would {verb}"
    comment = f"expired after {format_duration(policy.expire_after)}"
    if policy.on_expire == "escalate":
        comment += f" at the last level ({info.level})"
    try:
        outcome = _decide_as_system(inbox, info, approve=approve, comment=comment)
    except AlreadyDecided as exc:
        return "skipped", f"{label}: {exc}"
    except UnknownGraph as exc:
        return "skipped", f"{label}: cannot be resumed from the desk ({exc}); left for a human"
    except InvalidAnswer as exc:
        if approve:
            return "skipped", f"{label}: cannot be approved automatically ({exc}); left pending for a human"
        return _resolve_instead(inbox, info, comment, label, reason=str(exc))
    if outcome is None:
        return "skipped", f"{label}: answered meanwhile; left alone"
    result = f"{verb}ed" if verb == "reject" else "approved"
    note = f": {outcome.error}" if outcome.error else ""
    return ("approved" if approve else "rejected"), f"{label}: expired {late} ago: {result} (graph {outcome.status}{note})"


def _decide_as_system(inbox: Desk, info: DeadlineInfo, *, approve: bool, comment: str) -> Any:
    """One-click answer as `system:timeout`, through the claim; None if no longer pending.

    Calls `hitl.services.resume_one` directly rather than `Inbox.decide`: the sweeper is not a signed-in
    reviewer (in login mode the Inbox would ask the UI's session for one), and the policy
    it applies was configured by whoever wrote HITL_CONFIG.
    """
    pending = [i for i in inbox.store.pending_interrupts([info.thread_id])[info.thread_id] if i.answerable]
    raw = next((i for i in pending if i.id == info.interrupt_id), None)
    if raw is None:
        return None
    item = pending_interrupt(raw)
    answer = contracts.quick(
        inbox.contract(item, info.graph_id), item.kind, item.value, approve=approve, comment=comment,
        reviewer=SYSTEM_REVIEWER, response_schema=item.response_schema,
    )  # fmt: skip
    return resume_thread(
        inbox, info.thread_id, {item.id: answer}, reviewer=SYSTEM_REVIEWER, comment=comment, action="timeout"
    )


def _resolve_instead(inbox: Desk, info: DeadlineInfo, comment: str, label: str, *, reason: str) -> tuple[str, str]:
    """Fail closed for a kind that has no one-click reject: close the thread, run nothing."""
    pending = [i for i in inbox.store.pending_interrupts([info.thread_id])[info.thread_id] if i.answerable]
    if len(pending) > 1:
        return "skipped", f"{label}: no one-click reject for this kind ({reason}) and other interrupts are pending; left for a human"
    try:
        resolve_thread(inbox, info.thread_id, reviewer=SYSTEM_REVIEWER, reason=f"{comment}; no one-click reject for kind {info.kind}")
    except HitlError as exc:
        return "skipped", f"{label}: could not close it ({exc}); left for a human"
    return "rejected", f"{label}: expired: no one-click reject for kind {info.kind}; thread marked resolved (nothing ran)"


def _escalate(inbox: Desk, info: DeadlineInfo, target: str, *, moment: float, label: str) -> tuple[str, str]:
    store = inbox.store
    _ensure_tables(store)
    comment = (
        f"no decision within {format_duration(info.policy.expire_after)} at level {info.level or '(unassigned)'}; "
        f"escalated to {target}"
    )
    with store.connection(write=True) as conn:
        inserted = conn.execute(
            store.dialect.sql(
                "INSERT INTO hitl_escalations (thread_id, interrupt_id, level, from_level, escalated_at, reviewer) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, interrupt_id, level) DO NOTHING"
            ),
            (info.thread_id, info.interrupt_id, target, info.level, moment, SYSTEM_REVIEWER),
        ).rowcount
        if inserted != 1:
            return "skipped", f"{label}: already escalated to {target} (another sweeper)"
        store.append_audit(
            [
                {
                    "thread_id": info.thread_id,
                    "interrupt_id": info.interrupt_id,
                    "graph_id": info.graph_id,
                    "kind": info.kind,
                    "payload": audit_context(store, info.thread_id, info.interrupt_id).get("payload"),  # for [access]
                    "action": "escalate",
                    "answer": {"from_level": info.level, "to_level": target},
                    "reviewer": SYSTEM_REVIEWER,
                    "comment": comment,
                    "decided_at": moment,
                    "waited_seconds": moment - info.started_at.timestamp(),
                    "outcome": "escalated",
                }
            ]
        )
    return "escalated", f"{label}: {comment}; new deadline in {format_duration(info.policy.expire_after)}"


# --------------------------------------------------------------------------- background


class BackgroundSweeper:
    """A daemon thread sweeping one database every `interval` seconds (see `start_background_sweeper`)."""

    def __init__(self, inbox: Desk, interval: float, *, recover: bool) -> None:
        self.inbox = inbox
        self.interval = interval
        self.recover = recover
        self.last_run: datetime | None = None
        """When the last pass finished (UTC)."""
        self.last_lines: list[str] = []
        """What the last pass did, one line per action."""
        self.last_error: str | None = None
        """Why the last pass failed, or None."""
        self.runs = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"hitl-sweeper-{inbox.store.display_url}", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                lines = list(sweep(self.inbox))
                if self.recover and not self.inbox.store.read_only:
                    lines += [f"{t} {i}: stale claim {result}" for t, i, result in recover_stale_claims(self.inbox)]
                self.last_lines, self.last_error = lines, None
            except HitlError as exc:
                self.last_error = str(exc)
            except Exception as exc:  # a bug: keep sweeping, but say so
                log.exception("background sweep failed")
                self.last_error = f"{type(exc).__name__}: {exc}"
            self.last_run = datetime.now(timezone.utc)
            self.runs += 1
            self._stop.wait(self.interval)

    @property
    def alive(self) -> bool:
        """Whether the thread is running."""
        return self.thread.is_alive()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop after the current pass."""
        self._stop.set()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout)


_SWEEPERS: dict[str, BackgroundSweeper] = {}
_SWEEPERS_LOCK = threading.Lock()


def start_background_sweeper(inbox: Desk, interval: float = 60.0, *, recover: bool = True) -> BackgroundSweeper:
    """Sweep this desk's database every `interval` seconds in a daemon thread, once per process.

    Calling it again (a Streamlit rerun) returns the running sweeper of the same database.
    With `recover`, each pass also settles stale claims (`recover_stale_claims`).
    """
    if interval <= 0:
        raise HitlError(f"interval={interval!r}; the sweeper needs a positive number of seconds, e.g. 60.")
    with _SWEEPERS_LOCK:
        running = _SWEEPERS.get(inbox.store.url)
        if running is not None and running.alive:
            return running
        sweeper = BackgroundSweeper(inbox, interval, recover=recover)
        _SWEEPERS[inbox.store.url] = sweeper
        sweeper.thread.start()
        return sweeper
