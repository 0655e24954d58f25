"""Push an interrupt's deadline back once, with a reason, recorded in the audit log."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hitl.store import Store
from hitl.access import audit_context
from hitl.desk import Desk
from hitl.errors import HitlError, InvalidAnswer, ThreadNotFound
from hitl.policy.deadlines import DeadlineInfo, extensions_of, interrupt_deadlines, moment_of
from hitl.storage.deadlines import ensure_deadline_tables, insert_extension
from hitl.durations import parse_duration



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
    moment = moment_of(now)
    info = _deadline_to_extend(inbox, thread_id, interrupt_id, moment)
    interrupt_id = info.interrupt_id
    store = inbox.store
    ensure_deadline_tables(store)
    new_deadline = info.deadline.timestamp() + extra_seconds
    with store.connection(write=True):
        inserted = insert_extension(
            store, thread_id=thread_id, interrupt_id=interrupt_id, level=info.level or "", extra_seconds=extra_seconds,
            reviewer=reviewer, reason=reason.strip(), extended_at=moment,
        )  # fmt: skip
        if not inserted:
            previous = extensions_of(store, [thread_id]).get((thread_id, interrupt_id))
            who = (
                f" by {previous.reviewer} at {datetime.fromtimestamp(previous.extended_at, timezone.utc):%Y-%m-%d %H:%M:%S} "
                f"UTC ({previous.reason})"
                if previous
                else ""
            )
            raise InvalidAnswer(f"The deadline of interrupt {interrupt_id} was already extended once{who}; it cannot be extended again.")
        store.append_audit([_audit_row(store, info, extra_seconds, new_deadline, reviewer=reviewer, reason=reason, moment=moment)])
    return interrupt_deadlines(inbox, [thread_id], now=moment)[(thread_id, interrupt_id)]


def _deadline_to_extend(inbox: Desk, thread_id: str, interrupt_id: str | None, moment: float) -> DeadlineInfo:
    """The deadline `extend_deadline` would push back: the thread's one (or the named)
    interrupt's, not yet passed. Raises what `extend_deadline` raises."""
    if not inbox.store.thread_exists(thread_id):
        raise ThreadNotFound(thread_id)
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
    return info


def _audit_row(
    store: Store, info: DeadlineInfo, extra_seconds: float, new_deadline: float, *, reviewer: str, reason: str, moment: float
) -> dict[str, Any]:
    """The audit row of an extension (action "extend")."""
    thread_id, interrupt_id = info.thread_id, info.interrupt_id
    return {
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
