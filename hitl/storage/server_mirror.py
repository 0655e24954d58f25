"""The SQL of the LangGraph server backend's records in the desk's own database.

`hitl_server_interrupts` mirrors each indexed server thread's interrupts and metadata (so a
page never calls the server per thread), `hitl_server_sync` holds the refresh watermark, and
`hitl_server_runs` the runs the desk created. `hitl.backends.server` calls these; the tables
are created by `hitl.storage.migrations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hitl.storage.sql import SqlStore, marks

__all__ = [
    "dirty_versions",
    "forget_threads",
    "indexed_count",
    "indexed_ids",
    "indexed_updated_at",
    "mirrored_interrupts",
    "mirrored_metadata",
    "record_run",
    "run_ids",
    "save_mirror",
    "set_run_status",
    "watermark",
]

_CHUNK = 500


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK)]


def mirrored_interrupts(store: SqlStore, thread_ids: Sequence[str]) -> dict[str, str]:
    """{thread: its interrupts as JSON text} as the last refresh mirrored them."""
    found: dict[str, str] = {}
    for chunk in _chunks(thread_ids):
        found.update(store.query(f"SELECT thread_id, interrupts FROM hitl_server_interrupts WHERE thread_id IN ({marks(chunk)})", chunk))
    return found


def mirrored_metadata(store: SqlStore, thread_ids: Sequence[str]) -> dict[str, str]:
    """{thread: its metadata as JSON text} as the last refresh mirrored it."""
    found: dict[str, str] = {}
    for chunk in _chunks(thread_ids):
        found.update(store.query(f"SELECT thread_id, metadata FROM hitl_server_interrupts WHERE thread_id IN ({marks(chunk)})", chunk))
    return found


def indexed_updated_at(store: SqlStore, thread_ids: Sequence[str]) -> dict[str, float]:
    """{thread: the server's updated_at the mirror holds} for these threads."""
    seen: dict[str, float] = {}
    for chunk in _chunks(thread_ids):
        rows = store.query(f"SELECT thread_id, updated_at FROM hitl_server_interrupts WHERE thread_id IN ({marks(chunk)})", chunk)
        seen.update((tid, float(at)) for tid, at in rows)
    return seen


def run_ids(store: SqlStore, thread_id: str) -> list[str]:
    """Run ids the desk created on a thread, oldest first."""
    rows = store.query("SELECT run_id, MIN(created_at) FROM hitl_server_runs WHERE thread_id = ? GROUP BY run_id ORDER BY 2", (thread_id,))
    return [row[0] for row in rows]


def indexed_count(store: SqlStore) -> int:
    return int(store.query("SELECT COUNT(*) FROM hitl_threads")[0][0])


def indexed_ids(store: SqlStore) -> set[str]:
    """Every thread the index holds."""
    return {row[0] for row in store.query("SELECT thread_id FROM hitl_threads")}


def watermark(store: SqlStore) -> float:
    """The newest server `updated_at` the last refresh indexed (0 before the first)."""
    rows = store.query("SELECT watermark FROM hitl_server_sync WHERE id = 1")
    return float(rows[0][0]) if rows else 0.0


def save_mirror(store: SqlStore, side: Sequence[tuple[str, float, str, str]], new_watermark: float | None) -> None:
    """Upsert (thread, updated_at, metadata JSON, interrupts JSON) rows and the watermark, in one transaction."""
    sql = store.dialect.sql
    with store.connection(write=True) as conn:
        if side:
            conn.executemany(
                sql(
                    "INSERT INTO hitl_server_interrupts (thread_id, updated_at, metadata, interrupts) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (thread_id) DO UPDATE SET updated_at = excluded.updated_at, "
                    "metadata = excluded.metadata, interrupts = excluded.interrupts"
                ),
                side,
            )
        if new_watermark is not None:
            conn.execute(
                sql("INSERT INTO hitl_server_sync (id, watermark) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET watermark = excluded.watermark"),
                (new_watermark,),
            )


def forget_threads(store: SqlStore, thread_ids: Sequence[str]) -> None:
    """Drop threads the server no longer has from the index and the mirror (one transaction);
    the desk's own records of them (audit rows, claims) stay."""
    sql = store.dialect.sql
    with store.connection(write=True) as conn:
        for chunk in _chunks(thread_ids):
            conn.execute(sql(f"DELETE FROM hitl_threads WHERE thread_id IN ({marks(chunk)})"), list(chunk))
            conn.execute(sql(f"DELETE FROM hitl_server_interrupts WHERE thread_id IN ({marks(chunk)})"), list(chunk))


def dirty_versions(store: SqlStore, thread_ids: Sequence[str]) -> list[tuple[str, int]]:
    """(thread, dirty-mark version) of these threads."""
    found: list[tuple[str, int]] = []
    for chunk in _chunks(thread_ids):
        rows = store.query(f"SELECT thread_id, version FROM hitl_dirty WHERE thread_id IN ({marks(chunk)})", chunk)
        found += [(tid, int(version)) for tid, version in rows]
    return found


def record_run(store: SqlStore, thread_id: str, interrupt_ids: Sequence[str], run_id: str, created_at: float) -> None:
    """Note a run the desk created (one row per interrupt it answers; "" for a retry or a start)."""
    params: list[Any] = [value for iid in interrupt_ids for value in (thread_id, iid, run_id, created_at)]
    store.execute_write(
        "INSERT INTO hitl_server_runs (thread_id, interrupt_id, run_id, created_at) VALUES "
        + ", ".join("(?, ?, ?, ?)" for _ in interrupt_ids),
        params,
    )


def set_run_status(store: SqlStore, run_id: str, status: Any) -> None:
    store.execute_write("UPDATE hitl_server_runs SET status = ? WHERE run_id = ?", (status, run_id))
