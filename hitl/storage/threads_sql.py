"""Reads of the desk's thread index (`hitl_threads`) that the services need beside the store's own."""

from __future__ import annotations

from collections.abc import Sequence

from hitl.storage.sql import SqlStore, marks

__all__ = ["indexed_threads"]


def indexed_threads(store: SqlStore, thread_ids: Sequence[str]) -> dict[str, tuple[float | None, str | None]]:
    """(waiting_since, graph_id) of indexed threads, from the desk's index (`hitl_threads`)."""
    if not thread_ids:
        return {}
    rows = store.query(
        f"SELECT thread_id, waiting_since, graph_id FROM hitl_threads WHERE thread_id IN ({marks(thread_ids)})",
        list(thread_ids),
    )
    return {row[0]: (float(row[1]) if row[1] is not None else None, row[2]) for row in rows}
