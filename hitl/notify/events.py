"""Queue notifications: one `approval_needed` per pending interrupt, one `decision_made` per audit row."""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from hitl.desk import Desk
from hitl.reading import pending_interrupt
from hitl.storage.outbox import audit_row_hashes, insert_outbox_rows, queued_approvals, waiting_threads
from hitl.notify.config import NotifyConfig, Webhook, load_config
from hitl.notify.rows import compact_json, ensure_tables, iso_time, review_url

log = logging.getLogger("hitl.notify")  # one logger for the whole of notify


def _insert_rows(inbox: Desk, rows: Iterable[dict[str, Any]]) -> int:
    """Insert outbox rows; an existing (event_key, endpoint) is left alone. Returns how many were new."""
    return insert_outbox_rows(inbox.store, rows)


def _outbox_row(hook: Webhook, event_type: str, event_key: str, thread_id: str, interrupt_id: str | None,
                body: dict[str, Any], now: float) -> dict[str, Any]:  # fmt: skip
    row_id = uuid.uuid4().hex
    return {
        "id": row_id,
        "event_key": event_key,
        "event_type": event_type,
        "endpoint": hook.name,
        "thread_id": thread_id,
        "interrupt_id": interrupt_id,
        "body": compact_json({"event_id": row_id, **body}),
        "state": "pending",
        "next_attempt_at": now,
        "created_at": now,
    }


def _is_fork(store: Any, thread_id: str) -> bool:
    """A QA fork (`hitl_fork_of` in its metadata) is not a production request: no approval_needed."""
    latest = store.latest_checkpoint(thread_id)
    return bool(latest and isinstance(latest[1], dict) and latest[1].get("hitl_fork_of"))


def enqueue_approvals(inbox: Desk, thread_ids: Sequence[str], *, config: NotifyConfig | None = None) -> int:
    """Queue one `approval_needed` per pending interrupt of these threads, per subscribed endpoint.

    Idempotent: interrupts already queued for an endpoint are skipped before anything is decoded.
    Returns how many rows were added.
    """
    config = config or load_config(inbox.settings)
    hooks = config.subscribed("approval_needed")
    if not hooks or not thread_ids:
        return 0
    ensure_tables(inbox)
    store = inbox.store
    added = 0
    for start in range(0, len(thread_ids), 400):
        chunk = list(dict.fromkeys(thread_ids[start : start + 400]))
        waiting = waiting_threads(store, chunk)
        if not waiting:
            continue
        queued = queued_approvals(store, [row[0] for row in waiting])
        missing = [
            row[0]
            for row in waiting
            if any(
                (f"approval_needed:{row[0]}:{iid}", hook.name) not in queued
                for iid in (row[2] or "").split(",")
                if iid
                for hook in hooks
            )
        ]
        missing = [thread_id for thread_id in missing if not _is_fork(store, thread_id)]
        if not missing:
            continue
        graph_of = {row[0]: row[1] for row in waiting}
        decoded = store.listed_interrupts(missing)
        now = time.time()
        rows = []
        for thread_id in missing:
            for raw in decoded.get(thread_id, []):
                if not raw.answerable:
                    continue
                item = pending_interrupt(raw)
                key = f"approval_needed:{thread_id}:{item.id}"
                body = {
                    "type": "approval_needed",
                    "thread_id": thread_id,
                    "interrupt_id": item.id,
                    "graph_id": graph_of.get(thread_id),
                    "kind": item.kind,
                    "summary": item.summary,
                    "data": item.value,
                    "response_schema": item.response_schema,
                    "timestamp": iso_time(now),
                    "review_url": review_url(inbox.settings, thread_id),
                }
                rows.extend(
                    _outbox_row(hook, "approval_needed", key, thread_id, item.id, body, now)
                    for hook in hooks
                    if (key, hook.name) not in queued
                )
        added += _insert_rows(inbox, rows)
    return added


def enqueue_decisions(inbox: Desk, decisions: Sequence[Mapping[str, Any]], *, config: NotifyConfig | None = None) -> int:
    """Queue one `decision_made` per audit row (as passed to `Inbox.on_deciding` hooks)."""
    return _insert_rows(inbox, decision_rows(inbox, decisions, config=config))


def decision_rows(inbox: Desk, decisions: Sequence[Mapping[str, Any]], *, config: NotifyConfig | None = None) -> list[dict[str, Any]]:
    """The outbox rows of `decision_made` for these audit rows, one per subscribed webhook."""
    config = config or load_config(inbox.settings)
    hooks = config.subscribed("decision_made")
    if not hooks or not decisions:
        return []
    now = time.time()
    anchors = _audit_anchors(inbox, [decision.get("seq") for decision in decisions])
    rows = []
    for decision in decisions:
        thread_id = str(decision["thread_id"])
        interrupt_id = str(decision.get("interrupt_id") or "")
        decided_at = decision.get("decided_at") or now
        if isinstance(decided_at, datetime):
            decided_at = decided_at.timestamp()
        key = f"decision_made:{decision.get('seq') or uuid.uuid4().hex}"
        body = {
            "type": "decision_made",
            "thread_id": thread_id,
            "interrupt_id": interrupt_id,
            "graph_id": decision.get("graph_id"),
            "kind": decision.get("kind"),
            "action": decision.get("action"),
            "reviewer": decision.get("reviewer"),
            "comment": decision.get("comment") or "",
            "answer": decision.get("answer"),
            "outcome": decision.get("outcome"),
            "error": decision.get("error"),
            "decided_at": iso_time(float(decided_at)),
            "timestamp": iso_time(now),
            "review_url": review_url(inbox.settings, thread_id),
            # This decision's audit row as SEQ:HASH: a receiver that keeps it can later prove,
            # with `python -m hitl audit verify --anchor SEQ:HASH`, that the row and every row
            # before it are still in the database, unchanged.
            "audit_anchor": anchors.get(decision.get("seq")),
        }
        rows.extend(_outbox_row(hook, "decision_made", key, thread_id, interrupt_id, body, now) for hook in hooks)
    return rows


def _audit_anchors(inbox: Desk, seqs: Sequence[Any]) -> dict[Any, str]:
    """{seq: "SEQ:row_hash"} of these audit rows (those that exist)."""
    wanted = sorted({int(seq) for seq in seqs if isinstance(seq, int) and not isinstance(seq, bool)})
    if not wanted:
        return {}
    rows = audit_row_hashes(inbox.store, wanted)
    return {int(seq): f"{int(seq)}:{row_hash}" for seq, row_hash in rows}


_attached: weakref.WeakSet[Any] = weakref.WeakSet()


_attach_lock = threading.Lock()


def attach(inbox: Desk, config: NotifyConfig | None = None) -> bool:
    """Hook the outbox into this inbox (once): refreshes queue approvals, decisions queue events.

    Approvals: a failed hook is logged, never raised into the refresh, and the watcher's
    reconcile pass queues what it missed. Decisions: their events are written in the
    decision's own write transaction (`Inbox.on_deciding`), so they commit together. Returns False when no webhook is set.
    """
    config = config or load_config(inbox.settings)
    if not config.webhooks:
        return False
    with _attach_lock:
        if inbox in _attached:
            return True
        _attached.add(inbox)

    def on_indexed(thread_ids: list[str]) -> None:
        try:
            enqueue_approvals(inbox, thread_ids, config=config)
        except Exception:
            log.exception("Could not queue approval_needed notifications; the watcher will retry")

    def on_deciding(rows: list[dict[str, Any]]) -> None:
        # Inside the decision's write transaction: the outbox rows commit with the audit rows
        # (a desk that dies right after a decision cannot lose its webhook). A payload that
        # cannot be written as an event is logged and skipped; a failed insert fails the
        # recording, as a failed audit insert would.
        try:
            outbox = decision_rows(inbox, rows, config=config)
        except Exception:
            log.exception("Could not build decision_made notifications for %s", [r.get("thread_id") for r in rows])
            return
        _insert_rows(inbox, outbox)

    inbox.on_indexed(on_indexed)
    inbox.on_deciding(on_deciding)
    return True
