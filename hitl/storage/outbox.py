"""The SQL of webhook notifications: the outbox (`hitl_outbox`) and its delivery log (`hitl_deliveries`).

Every function takes the open store and owns its SQL; `hitl.notify` holds the use cases
(enqueueing, claiming, sending, retrying) that call them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hitl.storage.sql import SqlStore, marks

__all__ = [
    "OUTBOX_COLUMNS",
    "DELIVERY_COLUMNS",
    "insert_outbox_rows",
    "waiting_threads",
    "queued_approvals",
    "audit_row_hashes",
    "threads_indexed_since",
    "next_due_at",
    "claim_due",
    "record_delivery",
    "outbox_query",
    "outbox_state_counts",
    "delivery_query",
    "reset_for_retry",
    "outbox_row",
]

OUTBOX_COLUMNS = (
    "id", "event_key", "event_type", "endpoint", "thread_id", "interrupt_id", "body", "state", "attempts",
    "retry_from", "next_attempt_at", "lease_until", "claimed_by", "last_status", "last_error", "created_at",
    "delivered_at",
)  # fmt: skip
DELIVERY_COLUMNS = (
    "id", "outbox_id", "attempt", "worker", "started_at", "duration_ms", "status_code", "outcome", "error",
    "response_excerpt",
)  # fmt: skip



_INSERTED = ("id", "event_key", "event_type", "endpoint", "thread_id", "interrupt_id", "body", "state",
             "next_attempt_at", "created_at")  # fmt: skip


def insert_outbox_rows(store: SqlStore, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert outbox rows in one transaction; an existing (event_key, endpoint) is left alone.
    Returns how many were new."""
    rows = list(rows)
    if not rows:
        return 0
    sql = store.dialect.sql(f"INSERT INTO hitl_outbox ({', '.join(_INSERTED)}) VALUES ({marks(_INSERTED)}) ON CONFLICT DO NOTHING")
    added = 0
    with store.connection(write=True) as conn:
        for row in rows:
            added += max(0, conn.execute(sql, tuple(row[c] for c in _INSERTED)).rowcount or 0)
    return added


def waiting_threads(store: SqlStore, thread_ids: Sequence[str]) -> list[tuple]:
    """(thread, graph_id, interrupt ids "a,b") of these threads that are waiting, from the index."""
    return store.query(
        f"SELECT thread_id, graph_id, interrupt_ids FROM hitl_threads WHERE status = 'waiting' AND thread_id IN ({marks(thread_ids)})",
        list(thread_ids),
    )


def queued_approvals(store: SqlStore, thread_ids: Sequence[str]) -> set[tuple[str, str]]:
    """(event_key, endpoint) of the approval_needed notifications already queued for these threads."""
    rows = store.query(
        f"SELECT event_key, endpoint FROM hitl_outbox WHERE event_type = 'approval_needed' AND thread_id IN ({marks(thread_ids)})",
        list(thread_ids),
    )
    return {(key, endpoint) for key, endpoint in rows}


def audit_row_hashes(store: SqlStore, seqs: Sequence[int]) -> list[tuple[int, str]]:
    """(seq, row_hash) of these audit rows (those that exist)."""
    return store.query(f"SELECT seq, row_hash FROM hitl_audit WHERE seq IN ({marks(seqs)})", list(seqs))


def threads_indexed_since(store: SqlStore, since: float) -> list[tuple]:
    """(thread, updated_at) of waiting threads indexed at or after `since`, oldest first."""
    return store.query(
        "SELECT thread_id, updated_at FROM hitl_threads WHERE status = 'waiting' AND updated_at >= ? ORDER BY updated_at",
        (since,),
    )


def next_due_at(store: SqlStore, endpoints: Sequence[str]) -> float | None:
    """When the next pending notification for these endpoints is due (epoch seconds), or None."""
    rows = store.query(
        f"SELECT MIN(next_attempt_at) FROM hitl_outbox WHERE state = 'pending' AND endpoint IN ({marks(endpoints)})",
        list(endpoints),
    )
    return None if not rows or rows[0][0] is None else float(rows[0][0])


_DUE = "((state = 'pending' AND next_attempt_at <= ?) OR (state = 'sending' AND lease_until < ?))"


def claim_due(
    store: SqlStore, endpoint: str, *, limit: int, due: float, now: float, worker_id: str, lease_until: float
) -> list[tuple[str, str, str, int, int]]:
    """Lease up to `limit` due rows of the endpoint to this worker (a row due by `due`, or
    whose lease ran out by `now`), in one transaction; returns (id, event_type, body,
    attempts before this one, retry_from) of each row this worker took."""
    sql = store.dialect.sql
    taken_rows = []
    with store.connection(write=True) as conn:
        candidates = conn.execute(
            sql(
                f"SELECT id, event_type, body, attempts, retry_from FROM hitl_outbox WHERE endpoint = ? AND {_DUE} "
                "ORDER BY next_attempt_at, created_at LIMIT ?"
            ),
            (endpoint, due, now, limit),
        ).fetchall()
        for row_id, event_type, body, attempts, retry_from in candidates:
            # The WHERE repeats the due test: of two workers racing for a row, one updates it.
            taken = conn.execute(
                sql(
                    "UPDATE hitl_outbox SET state = 'sending', claimed_by = ?, lease_until = ?, "
                    f"attempts = attempts + 1 WHERE id = ? AND {_DUE}"
                ),
                (worker_id, lease_until, row_id, due, now),
            ).rowcount
            if taken == 1:
                taken_rows.append((row_id, event_type, body, int(attempts), int(retry_from)))
    return taken_rows


def record_delivery(
    store: SqlStore, outbox_id: str, *, worker_id: str, attempt: int, state: str, outcome: str, next_at: float,
    status: int | None, error: str | None, excerpt: str | None, started: float, duration_ms: float,
) -> None:  # fmt: skip
    """Settle a leased row (if this worker still holds it) and log the attempt, in one transaction."""
    sql = store.dialect.sql
    with store.connection(write=True) as conn:
        conn.execute(
            sql(
                "UPDATE hitl_outbox SET state = ?, next_attempt_at = ?, lease_until = NULL, last_status = ?, "
                "last_error = ?, delivered_at = ? WHERE id = ? AND claimed_by = ? AND state = 'sending'"
            ),
            (state, next_at, status, error, started if state == "delivered" else None, outbox_id, worker_id),
        )
        conn.execute(
            sql(f"INSERT INTO hitl_deliveries ({', '.join(DELIVERY_COLUMNS)}) VALUES ({marks(DELIVERY_COLUMNS)})"),
            (uuid.uuid4().hex, outbox_id, attempt, worker_id, started, round(duration_ms, 1), status,
             outcome, error, excerpt),  # fmt: skip
        )


def outbox_query(store: SqlStore, *, filters: Mapping[str, str | None], limit: int) -> list[tuple]:
    """Outbox rows (`OUTBOX_COLUMNS`), newest first, where each column in `filters` that is
    not None equals its value."""
    where, params = [], []
    for column, value in filters.items():
        if column not in ("state", "endpoint", "thread_id"):
            raise ValueError(f"Cannot filter the outbox by {column!r}; use state, endpoint or thread_id.")
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT {', '.join(OUTBOX_COLUMNS)} FROM hitl_outbox"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id LIMIT ?"
    return store.query(sql, [*params, int(limit)])


def outbox_state_counts(store: SqlStore) -> dict[str, int]:
    """How many notifications are in each state."""
    return {state: int(n) for state, n in store.query("SELECT state, COUNT(*) FROM hitl_outbox GROUP BY state")}


def delivery_query(store: SqlStore, outbox_id: str | None, *, limit: int) -> list[tuple]:
    """Delivery attempts (`DELIVERY_COLUMNS`), newest first: of one notification, or of all."""
    sql = f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM hitl_deliveries"
    params: list[Any] = []
    if outbox_id is not None:
        sql += " WHERE outbox_id = ?"
        params.append(outbox_id)
    sql += " ORDER BY started_at DESC, attempt DESC LIMIT ?"
    return store.query(sql, [*params, int(limit)])


def reset_for_retry(store: SqlStore, outbox_id: str, *, now: float) -> bool:
    """Make a failed or backing-off notification due now with a fresh attempt budget; False
    when it is not in one of those states (or not there)."""
    return bool(
        store.execute_write(
            "UPDATE hitl_outbox SET state = 'pending', next_attempt_at = ?, retry_from = attempts "
            "WHERE id = ? AND state IN ('failed', 'pending')",
            (now, outbox_id),
        )
    )


def outbox_row(store: SqlStore, outbox_id: str) -> tuple | None:
    """One outbox row (`OUTBOX_COLUMNS`), or None."""
    rows = store.query(f"SELECT {', '.join(OUTBOX_COLUMNS)} FROM hitl_outbox WHERE id = ?", (outbox_id,))
    return rows[0] if rows else None
