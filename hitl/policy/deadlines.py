"""Each pending interrupt's deadline under the timeout policies, escalations and extensions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from hitl.desk import Desk
from hitl.domain import PendingInterrupt, PendingThread
from hitl.reading import pending_thread
from hitl.store import Store
from hitl.policy.timeouts import TimeoutPolicy, policies_of, policy_for
from hitl.storage.deadlines import ensure_deadline_tables, escalation_rows, extension_rows


@dataclass(frozen=True)
class Escalation:
    level: str
    escalated_at: float


@dataclass(frozen=True)
class Extension:
    level: str
    extra_seconds: float
    reviewer: str
    reason: str
    extended_at: float


def escalations_of(store: Store, thread_ids: Sequence[str]) -> dict[tuple[str, str], Escalation]:
    if not thread_ids or not ensure_deadline_tables(store):
        return {}
    latest: dict[tuple[str, str], Escalation] = {}
    rows = escalation_rows(store, thread_ids)
    for thread_id, interrupt_id, level, escalated_at in rows:
        latest[(thread_id, interrupt_id)] = Escalation(level, float(escalated_at))
    return latest


def extensions_of(store: Store, thread_ids: Sequence[str]) -> dict[tuple[str, str], Extension]:
    if not thread_ids or not ensure_deadline_tables(store):
        return {}
    rows = extension_rows(store, thread_ids)
    return {(r[0], r[1]): Extension(r[2] or "", float(r[3]), r[4], r[5], float(r[6])) for r in rows}


def escalated_levels(inbox: Desk, thread_ids: Sequence[str]) -> dict[tuple[str, str], str]:
    """`{(thread_id, interrupt_id): level}` of interrupts the sweeper escalated (latest level)."""
    return {key: item.level for key, item in escalations_of(inbox.store, list(thread_ids)).items()}


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
    escalation: Escalation | None,
    extension: Extension | None,
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


def moment_of(now: datetime | float | None) -> float:
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
    policies = policies_of(inbox)
    if not policies:
        return {}
    items = _pending_threads(inbox, threads)
    if not items:
        return {}
    moment = moment_of(now)
    ids = [t.thread_id for t in items]
    escalations = escalations_of(inbox.store, ids)
    extensions = extensions_of(inbox.store, ids)
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
