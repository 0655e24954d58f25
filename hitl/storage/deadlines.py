"""The SQL of deadlines: escalations (`hitl_escalations`) and extensions (`hitl_extensions`).

Every function takes the open store and owns its SQL; `hitl.policy` holds the rules and use
cases (deadlines, extending, sweeping) that call them.
"""

from __future__ import annotations

from collections.abc import Sequence


from hitl.storage.sql import SqlStore, marks

__all__ = [
    "ensure_deadline_tables",
    "escalation_rows",
    "extension_rows",
    "insert_extension",
    "insert_escalation",
]


def ensure_deadline_tables(store: SqlStore) -> bool:
    """`hitl_escalations` and `hitl_extensions` exist once the store is open (`hitl.storage.migrations`)."""
    return True


def escalation_rows(store: SqlStore, thread_ids: Sequence[str]) -> list[tuple]:
    """(thread, interrupt, level, escalated_at) of these threads' escalations, oldest first per chunk."""
    return _in_chunks(
        store,
        "SELECT thread_id, interrupt_id, level, escalated_at FROM hitl_escalations WHERE thread_id IN ({marks}) "
        "ORDER BY escalated_at",
        thread_ids,
    )


def extension_rows(store: SqlStore, thread_ids: Sequence[str]) -> list[tuple]:
    """(thread, interrupt, level, extra_seconds, reviewer, reason, extended_at) of these threads' extensions."""
    return _in_chunks(
        store,
        "SELECT thread_id, interrupt_id, level, extra_seconds, reviewer, reason, extended_at FROM hitl_extensions "
        "WHERE thread_id IN ({marks})",
        thread_ids,
    )


def insert_extension(
    store: SqlStore, *, thread_id: str, interrupt_id: str, level: str, extra_seconds: float, reviewer: str, reason: str,
    extended_at: float,
) -> bool:  # fmt: skip
    """Record an interrupt's one extension; False when it already has one. Joins the caller's
    write transaction, if any (so the audit row commits with it)."""
    return 1 == store.execute_write(
        "INSERT INTO hitl_extensions (thread_id, interrupt_id, level, extra_seconds, reviewer, reason, extended_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, interrupt_id) DO NOTHING",
        (thread_id, interrupt_id, level, extra_seconds, reviewer, reason, extended_at),
    )


def insert_escalation(
    store: SqlStore, *, thread_id: str, interrupt_id: str, level: str, from_level: str | None, escalated_at: float,
    reviewer: str,
) -> bool:  # fmt: skip
    """Record an escalation to `level`; False when another sweeper already recorded it. Joins
    the caller's write transaction, if any."""
    return 1 == store.execute_write(
        "INSERT INTO hitl_escalations (thread_id, interrupt_id, level, from_level, escalated_at, reviewer) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, interrupt_id, level) DO NOTHING",
        (thread_id, interrupt_id, level, from_level, escalated_at, reviewer),
    )


def _in_chunks(store: SqlStore, sql: str, thread_ids: Sequence[str]) -> list[tuple]:
    rows: list[tuple] = []
    for start in range(0, len(thread_ids), 500):
        chunk = list(thread_ids[start : start + 500])
        rows += store.query(sql.format(marks=marks(chunk)), chunk)
    return rows
