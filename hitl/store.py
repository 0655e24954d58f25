"""The checkpointer database, read with plain SQL, and the desk's own `hitl_` tables.

The store never loops `get_state` over threads. Instead:

* Triggers on the saver's own `checkpoints` and `writes` tables mark a thread dirty (with a
  version counter) in the same transaction as the agent's write, whatever process or machine
  the agent runs on. `refresh()` re-derives the dirty threads' rows in `hitl_threads`, then
  deletes each dirty mark only if its version is unchanged, so a write that lands while the
  desk is indexing is never missed (a plain checkpoint-id watermark would miss rows written
  out of order by agents with different clocks).
* A thread is waiting when its latest root checkpoint has `__interrupt__` writes from tasks
  that have not completed (a completed task has a write to a real channel, or
  `__no_writes__`).
* Listing counts and filters `hitl_threads` with SQL and decodes only the returned page.
* The first index of a database the desk has never seen works through `hitl_backfill`, newest
  threads first, in batches that each commit their rows, their queue entries and the progress
  counter together (`backfill`), under a lease in `hitl_indexer` (one indexer per database):
  listings meanwhile show what is indexed so far, and a desk killed midway is resumed by the next.

Backends share this module: `sqlite:///path` now, `postgresql://...` via the same SQL with a
different dialect (see `Dialect`).
"""

from __future__ import annotations

import base64
import json
import math
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import groupby
from operator import itemgetter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from hitl.audit import GENESIS_HASH, audit_key, head_mac, row_hash
from hitl.errors import AlreadyDecided, InvalidAnswer, StoreError
from hitl.outcome import OutcomeUnknown, UnknownOutcome
from hitl.storage.dialect import SQLITE, Dialect
from hitl.storage.migrations import migrate_sqlite, pending_sqlite, refuse_read_only
from hitl.storage.postgres import open_postgres
from hitl.storage.schema import AUDIT_COLUMNS

__all__ = [
    "Store",
    "RawInterrupt",
    "ThreadRow",
    "IndexEntry",
    "checkpoint_time",
    "SPECIAL_CHANNELS",
    "encode_cursor",
    "decode_cursor",
    "like_escape",
]

INTERRUPT = "__interrupt__"
ERROR = "__error__"
SPECIAL_CHANNELS = ("__interrupt__", "__error__", "__resume__", "__scheduled__")
"""Write channels that do not mean the task completed."""

_GREGORIAN_OFFSET_100NS = 0x01B21DD213814000


def checkpoint_time(checkpoint_id: str) -> datetime:
    """The creation time encoded in a LangGraph checkpoint id (a UUIDv6)."""
    try:
        if len(checkpoint_id) == 36 and checkpoint_id[8] == checkpoint_id[13] == checkpoint_id[18] == checkpoint_id[23] == "-":
            # uuid.UUID's own parse of its canonical form, without building the object
            raw = int(checkpoint_id[:8] + checkpoint_id[9:13] + checkpoint_id[14:18] + checkpoint_id[19:23] + checkpoint_id[24:], 16)
        else:
            raw = uuid.UUID(checkpoint_id).int
    except (ValueError, TypeError):
        return datetime.now(timezone.utc)
    time_high = raw >> 96
    time_mid = (raw >> 80) & 0xFFFF
    time_low = (raw >> 64) & 0x0FFF
    ticks = (time_high << 28) | (time_mid << 12) | time_low
    seconds = (ticks - _GREGORIAN_OFFSET_100NS) / 1e7
    if not 0 < seconds < 32503680000:  # not a v6 id: fall back to "now"
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(seconds, timezone.utc)


@dataclass(frozen=True, kw_only=True)
class RawInterrupt:
    """One pending interrupt as stored by the checkpointer, decoded."""

    thread_id: str
    checkpoint_id: str
    task_id: str
    node: str | None
    id: str
    value: Any
    response_schema: dict[str, Any] | None
    decode_error: str | None = None
    task_path: str = ""
    failed_error: str | None = None
    """Set when this interrupt was answered but the node then raised: LangGraph keeps the
    answer, so the interrupt can be retried with it (or resolved), not answered anew."""

    @property
    def answerable(self) -> bool:
        """Whether a reviewer can answer it now."""
        return self.failed_error is None


@dataclass(frozen=True, kw_only=True)
class ThreadRow:
    """One row of `hitl_threads`: the desk's summary of a thread."""

    thread_id: str
    status: str
    checkpoint_id: str
    graph_id: str | None
    graph_note: str | None
    kinds: tuple[str, ...]
    summary: str
    n_interrupts: int
    waiting_since: datetime
    nodes: tuple[str, ...]
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class IndexEntry:
    """What the indexer (the Inbox) computes for one thread from its raw interrupts."""

    graph_id: str | None
    graph_note: str | None
    kinds: tuple[str, ...]
    summary: str
    search_text: str


Indexer = Callable[[str, dict[str, Any], list[RawInterrupt]], IndexEntry]
"""(thread_id, latest root checkpoint metadata, pending interrupts) -> IndexEntry."""



_first = itemgetter(0)


def _is_locked(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


TransactionMode = str
""""read" (statements as they come), "snapshot" (one consistent read-only view) or "write"."""


class _SqliteBackend:
    """Transactions on the one sqlite3 connection the saver also uses, under its lock."""

    errors: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,)

    def __init__(self, conn: sqlite3.Connection, lock: Any) -> None:
        self.conn = conn
        self.lock = lock

    @contextmanager
    def transaction(self, store: Store, *, mode: TransactionMode) -> Iterator[Any]:
        with self.lock:
            if mode == "write":
                self._begin_write(store)
            elif mode == "snapshot":
                # In WAL mode a read transaction sees one snapshot until it ends.
                if self.conn.in_transaction:
                    self.conn.commit()
                self.conn.execute("BEGIN")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.rollback()
                raise
            else:
                if self.conn.in_transaction:
                    self.conn.commit()

    def _begin_write(self, store: Store) -> None:
        deadline = time.monotonic() + store.lock_retry_seconds
        delay = 0.05
        while True:
            try:
                if self.conn.in_transaction:
                    self.conn.commit()
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if _is_locked(exc) and time.monotonic() < deadline:
                    time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                    delay = min(delay * 2, 2.0)
                    continue
                if _is_locked(exc):
                    raise StoreError(
                        f"The database {store.display_url} stayed locked by another writer for "
                        f"{store.lock_retry_seconds:g} s. Nothing was changed and your answer was "
                        "not sent; try again in a moment.",
                        cause=exc,
                    ) from None
                if "readonly" in str(exc).lower():
                    raise StoreError(
                        f"The database {store.display_url} is read-only: decisions cannot be "
                        "recorded. Nothing was changed.",
                        cause=exc,
                    ) from None
                raise StoreError(f"Database error on {store.display_url}: {exc}", cause=exc) from None

    def close(self) -> None:
        self.conn.close()


class Store:
    """One checkpointer database: the saver the graphs use, plus the desk's tables.

    Use `Store.open(url)`; close with `close()` or as a context manager.
    """

    def __init__(
        self,
        *,
        url: str,
        saver: BaseCheckpointSaver,
        dialect: Dialect,
        connection: Any,
        lock: Any,
        lock_retry_seconds: float = 30.0,
        read_only: bool = False,
        backend: Any = None,
    ) -> None:
        self.url = url
        self.saver = saver
        self.dialect = dialect
        self._conn = connection
        self._lock = lock
        self.lock_retry_seconds = lock_retry_seconds
        self.read_only = read_only
        self.read_only_reason: str | None = (
            f"The database {self.display_url} is read-only." if read_only else None
        )
        """Why the store is read-only, for the sidebar, `/healthz` and refused writes."""
        # The backend opens transactions (`transaction(store, mode=...)`), names its driver's
        # `errors` and closes; SQLite's is built here, PostgreSQL's by hitl.storage.postgres.
        self._backend = backend if backend is not None else _SqliteBackend(connection, lock)
        self._local = threading.local()
        self.search_index = False
        """Whether SQLite's FTS5 trigram index exists (PostgreSQL searches with pg_trgm instead)."""

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        url: str,
        *,
        create: bool = False,
        busy_timeout_ms: int = 5000,
        lock_retry_seconds: float = 30.0,
    ) -> Store:
        """Open the database at `url` (`sqlite:///path` or `postgresql://...`).

        Args:
            url: the database URL.
            create: create a missing SQLite file and the checkpoint tables; without it a
                missing file or one without LangGraph's tables is an error.
            busy_timeout_ms: how long one SQLite statement waits for another writer.
            lock_retry_seconds: how long desk writes retry with backoff while locked.

        Raises:
            StoreError: the file is missing, not a database, or cannot be opened.
        """
        if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            opened = open_postgres(url, create=create)
            return cls(
                url=url, saver=opened.saver, dialect=opened.dialect, connection=opened.connection, lock=None,
                lock_retry_seconds=lock_retry_seconds, backend=opened.backend,
            )  # fmt: skip
        if not url.startswith("sqlite:///") and url != "sqlite://":
            raise StoreError(
                f"Database URL {url!r} is not supported. Use sqlite:///path/to/file.db "
                "(a relative path after the three slashes) or postgresql://user:pass@host/db."
            )
        return cls._open_sqlite(
            url, create=create, busy_timeout_ms=busy_timeout_ms, lock_retry_seconds=lock_retry_seconds
        )

    @classmethod
    def _open_sqlite(
        cls, url: str, *, create: bool, busy_timeout_ms: int, lock_retry_seconds: float
    ) -> Store:
        from langgraph.checkpoint.sqlite import SqliteSaver

        path = url[len("sqlite:///") :] if url != "sqlite://" else ":memory:"
        if path != ":memory:":
            file = Path(path)
            if not file.parent.exists():
                if not create:
                    raise StoreError(
                        f"Database directory {str(file.parent)!r} does not exist "
                        f"(HITL_DATABASE_URL={url}). Create it, or point HITL_DATABASE_URL at "
                        "your agents' checkpoint database."
                    )
                file.parent.mkdir(parents=True, exist_ok=True)
            if not file.exists() and not create:
                raise StoreError(
                    f"Database file {path!r} does not exist (HITL_DATABASE_URL={url}). Point "
                    "HITL_DATABASE_URL at the SQLite file your agents' SqliteSaver writes to, or "
                    "run `python -m hitl.demo seed` to create one with demo threads."
                )
        read_only = path != ":memory:" and Path(path).exists() and not _writable(Path(path))
        read_only_reason = None
        try:
            if read_only:
                conn, read_only_reason = _connect_read_only(Path(path), timeout=busy_timeout_ms / 1000)
            else:
                conn = sqlite3.connect(path, check_same_thread=False, timeout=busy_timeout_ms / 1000)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not read_only:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            if read_only:
                raise StoreError(
                    f"The database file {path!r} is read-only for this user (the file or its directory "
                    f"is not writable) and SQLite could not open it read-only either ({exc}). Make the "
                    "file and its directory readable by the desk, or give it write access to record "
                    "decisions.",
                    cause=exc,
                ) from None
            raise StoreError(
                f"{path!r} is not a usable SQLite database ({exc}). Check HITL_DATABASE_URL points "
                "at your agents' checkpoint file, not another file; restore it from a backup if "
                "it is corrupt.",
                cause=exc,
            ) from None
        if not {"checkpoints", "writes"} <= tables and not create:
            conn.close()
            raise StoreError(
                f"{path!r} is an SQLite database without LangGraph's checkpoint tables "
                "(checkpoints, writes). Point HITL_DATABASE_URL at the file your agents' SqliteSaver "
                "writes to, or run `python -m hitl.demo seed` to create demo threads."
            )
        saver = SqliteSaver(conn)
        store = cls(
            url=url,
            saver=saver,
            dialect=SQLITE,
            connection=conn,
            lock=saver.lock,
            lock_retry_seconds=lock_retry_seconds,
            read_only=read_only,
        )
        store.read_only_reason = read_only_reason
        if read_only:
            pending = pending_sqlite(conn)
            if pending:
                conn.close()
                raise refuse_read_only(pending, f"file {path!r}")
        else:
            store._setup_sqlite()
        # FTS5 is optional: migration 1 creates the trigram index only where SQLite has it.
        store.search_index = store._table_exists("hitl_search")
        return store

    def _setup_sqlite(self) -> None:
        """The saver's tables, then the desk's migrations (`hitl.storage.migrations`)."""
        try:
            with self._lock:
                self.saver.setup()
                migrate_sqlite(self._conn)
        except sqlite3.DatabaseError as exc:
            if self._conn.in_transaction:
                self._conn.rollback()
            raise StoreError(f"Could not prepare the desk's tables in {self.url}: {exc}", cause=exc) from None

    def _table_exists(self, name: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
        ).fetchone()
        return row is not None

    def close(self) -> None:
        """Close the connection (or pool)."""
        self._backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def backend(self) -> str:
        """"sqlite" or "postgres"."""
        return self.dialect.name

    @property
    def display_url(self) -> str:
        """The URL without a password (user info or a `password=` parameter), for the sidebar."""
        import re

        url = re.sub(r"([?&]password=)[^&]*", r"\1***", self.url)
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            user = creds.split(":", 1)[0]
            return f"{scheme}://{user}@{host}"
        return url

    # ------------------------------------------------------------------ SQL plumbing

    @contextmanager
    def connection(self, *, write: bool = False, snapshot: bool = False) -> Iterator[Any]:
        """A connection in a transaction; a write block is one transaction, committed at the end.

        `snapshot=True` gives one consistent read-only view for every query in the block
        (SQLite: a WAL read transaction; PostgreSQL: REPEATABLE READ). Writes wait for other
        desk writers: SQLite retries with exponential backoff while another process holds
        the database lock, PostgreSQL queues on an advisory lock; either gives up after
        `lock_retry_seconds` with `StoreError`. A block nested in another on the same thread
        joins the outer transaction (so `query()` inside a write block sees its rows and
        does not wait for the lock the block already holds). Driver errors become
        `StoreError`.
        """
        if write and self.read_only:
            raise StoreError(
                f"The database {self.display_url} is read-only: decisions cannot be recorded. "
                f"Nothing was changed. {self.read_only_reason or ''} To decide, give the desk write "
                "access to the database (the file and its directory, or the mount), restart it and try again."
            )
        outer = getattr(self._local, "conn", None)
        if outer is not None:
            yield outer
            return
        mode = "write" if write else "snapshot" if snapshot else "read"
        try:
            with self._backend.transaction(self, mode=mode) as conn:
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None
        except self._backend.errors as exc:
            raise StoreError(f"Database error on {self.display_url}: {exc}", cause=exc) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run a read query and return all rows, turning driver errors into StoreError."""
        with self.connection() as conn:
            return conn.execute(self.dialect.sql(sql), tuple(params)).fetchall()

    def execute_write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement in its own transaction; returns the row count."""
        with self.connection(write=True) as conn:
            return conn.execute(self.dialect.sql(sql), tuple(params)).rowcount

    # ------------------------------------------------------------------ raw reads

    def thread_exists(self, thread_id: str) -> bool:
        """Whether the checkpointer holds any checkpoint for this thread."""
        rows = self.query("SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1", (thread_id,))
        return bool(rows)

    def latest_checkpoint(self, thread_id: str) -> tuple[str, dict[str, Any]] | None:
        """The latest root checkpoint id of a thread and its metadata, or None."""
        rows = self.query(
            "SELECT checkpoint_id, metadata FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' "
            "ORDER BY checkpoint_id DESC LIMIT 1",
            (thread_id,),
        )
        if not rows:
            return None
        return rows[0][0], _metadata(rows[0][1])

    def latest_checkpoints(self, thread_ids: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """`latest_checkpoint` of many threads in one query per 500; threads without one are left out."""
        ids = list(dict.fromkeys(thread_ids))
        result: dict[str, tuple[str, dict[str, Any]]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            rows = self.query(
                "SELECT c.thread_id, c.checkpoint_id, c.metadata FROM checkpoints c JOIN ("
                "SELECT thread_id, MAX(checkpoint_id) AS checkpoint_id FROM checkpoints "
                f"WHERE checkpoint_ns = '' AND thread_id IN ({marks}) GROUP BY thread_id) l "
                "ON c.thread_id = l.thread_id AND c.checkpoint_ns = '' AND c.checkpoint_id = l.checkpoint_id",
                chunk,
            )
            result.update({thread_id: (checkpoint_id, _metadata(metadata)) for thread_id, checkpoint_id, metadata in rows})
        return result

    def pending_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        """Decode the pending interrupts of these threads only, fresh from the checkpointer."""
        ids = list(dict.fromkeys(thread_ids))
        result: dict[str, list[RawInterrupt]] = {tid: [] for tid in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in self._interrupt_rows(chunk):
                result[row[0]].extend(self._decode_interrupts(*row))
        return {tid: self._name_pushed_nodes(items) for tid, items in result.items()}

    def listed_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        """The pending interrupts of a listed page (`hitl.backends.Backend`): here the same fresh
        read as `pending_interrupts`, which is cheap on the savers' own tables."""
        return self.pending_interrupts(thread_ids)

    def changed_since(self, updated_after: float) -> list[str]:
        """Threads re-indexed after `updated_after` (epoch seconds) or changed by agents since the
        last refresh (`hitl.backends.Backend`)."""
        rows = self.query(
            "SELECT thread_id FROM hitl_threads WHERE updated_at > ? UNION SELECT thread_id FROM hitl_dirty",
            (updated_after,),
        )
        return sorted(row[0] for row in rows)

    def _name_pushed_nodes(self, items: list[RawInterrupt]) -> list[RawInterrupt]:
        """Name the node of interrupts raised in `Send` tasks (e.g. create_agent's tool calls).

        Their task path holds only an index into the checkpoint's `__pregel_tasks`; the node
        name is in that `Send`, so the checkpoint is decoded, once, only for such threads.
        """
        pushed = [i for i in items if i.node is None and i.task_path.startswith("~__pregel_push")]
        if not pushed:
            return items
        try:
            sends = list(self._checkpoint_channel(pushed[0].thread_id, pushed[0].checkpoint_id, "__pregel_tasks") or [])
        except Exception:  # an undecodable checkpoint: leave the node unnamed
            return items
        named = []
        for item in items:
            node = None
            if item in pushed:
                parts = [p.strip() for p in item.task_path.split(",")]
                index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
                node = getattr(sends[index], "node", None) if 0 <= index < len(sends) else None
            named.append(replace(item, node=node) if node else item)
        return named

    def _checkpoint_channel(self, thread_id: str, checkpoint_id: str, channel: str) -> Any:
        """One channel's value in a checkpoint, read with SQL (safe inside a desk transaction,
        where calling the saver would wait on its non-reentrant lock)."""
        if self.dialect.name == "sqlite":
            rows = self.query(
                "SELECT type, checkpoint FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' AND checkpoint_id = ?",
                (thread_id, checkpoint_id),
            )
            if not rows:
                return None
            checkpoint = self.saver.serde.loads_typed((rows[0][0], bytes(rows[0][1])))
            return checkpoint.get("channel_values", {}).get(channel)
        rows = self.query(
            "SELECT b.type, b.blob FROM checkpoint_blobs b JOIN checkpoints c ON c.thread_id = b.thread_id "
            "AND c.checkpoint_ns = b.checkpoint_ns AND b.version = (c.checkpoint -> 'channel_versions' ->> b.channel) "
            "WHERE c.thread_id = ? AND c.checkpoint_ns = '' AND c.checkpoint_id = ? AND b.channel = ?",
            (thread_id, checkpoint_id, channel),
        )
        if not rows or rows[0][0] == "empty":
            return None
        return self.saver.serde.loads_typed((rows[0][0], bytes(rows[0][1])))

    def _interrupt_rows(self, thread_ids: Sequence[str]) -> list[tuple]:
        marks = ",".join("?" for _ in thread_ids)
        special = ",".join(f"'{c}'" for c in SPECIAL_CHANNELS)
        writes, value = self.dialect.writes_table, self.dialect.write_value
        sql = f"""
            WITH latest AS (
                SELECT thread_id, MAX(checkpoint_id) AS checkpoint_id FROM checkpoints
                WHERE checkpoint_ns = '' AND thread_id IN ({marks}) GROUP BY thread_id
            )
            SELECT w.thread_id, w.checkpoint_id, w.task_id, w.task_path, w.type, w.{value},
                   r.type, r.{value}, e.type, e.{value}
            FROM latest l JOIN {writes} w
              ON w.thread_id = l.thread_id AND w.checkpoint_ns = '' AND w.checkpoint_id = l.checkpoint_id
             AND w.thread_id IN ({marks})
            LEFT JOIN {writes} r
              ON r.thread_id = w.thread_id AND r.checkpoint_ns = '' AND r.checkpoint_id = w.checkpoint_id
             AND r.task_id = w.task_id AND r.channel = '__resume__'
            LEFT JOIN {writes} e
              ON e.thread_id = w.thread_id AND e.checkpoint_ns = '' AND e.checkpoint_id = w.checkpoint_id
             AND e.task_id = w.task_id AND e.channel = '{ERROR}'
            WHERE w.channel = '{INTERRUPT}' AND NOT EXISTS (
                SELECT 1 FROM {writes} d
                WHERE d.thread_id = w.thread_id AND d.checkpoint_ns = '' AND d.checkpoint_id = w.checkpoint_id
                  AND d.task_id = w.task_id AND d.channel NOT IN ({special})
            )
            ORDER BY w.thread_id, w.task_path, w.task_id
        """
        # The ids twice: also on the writes, so PostgreSQL finds them by index even when its
        # statistics predate a burst of new threads (it scanned all writes once per id then).
        return self.query(sql, [*thread_ids, *thread_ids])

    def _decode_interrupts(self, *row: Any) -> list[RawInterrupt]:
        return decode_interrupts(self.saver.serde, *row)

    def failed_tasks(self, thread_id: str) -> list[tuple[str, str]]:
        """(node, error text) of tasks whose latest attempt raised, at the latest checkpoint."""
        return self.failed_tasks_of([thread_id])[thread_id]

    def failed_tasks_of(self, thread_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """`failed_tasks` of many threads, in one query per 500."""
        ids = list(dict.fromkeys(thread_ids))
        result: dict[str, list[tuple[str, str]]] = {tid: [] for tid in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            rows = self.query(
                f"""
                WITH latest AS (
                    SELECT thread_id, MAX(checkpoint_id) AS checkpoint_id FROM checkpoints
                    WHERE checkpoint_ns = '' AND thread_id IN ({marks}) GROUP BY thread_id
                )
                SELECT w.thread_id, w.task_path, w.type, w.{self.dialect.write_value}
                FROM latest l JOIN {self.dialect.writes_table} w
                  ON w.thread_id = l.thread_id AND w.checkpoint_ns = '' AND w.checkpoint_id = l.checkpoint_id
                 AND w.thread_id IN ({marks})
                WHERE w.channel = '{ERROR}'
                ORDER BY w.thread_id, w.task_path, w.task_id
                """,
                [*chunk, *chunk],
            )
            for thread_id, task_path, type_, blob in rows:
                try:
                    error = self.saver.serde.loads_typed((type_, bytes(blob)))
                except Exception as exc:  # pragma: no cover - foreign serializer
                    error = f"(undecodable error: {exc})"
                result[thread_id].append((_node_from_task_path(task_path) or "?", str(error)))
        return result

    def finished(self, thread_ids: Iterable[str]) -> dict[str, str]:
        """{thread: latest checkpoint id} for the threads whose latest checkpoint has nothing
        left to do: no interrupt, no failed task, no node scheduled (the run reached END)."""
        latest = self.latest_checkpoints(thread_ids)
        pending = self.pending_interrupts(latest)
        failed = self.failed_tasks_of(latest)
        quiet = [(tid, latest[tid][0]) for tid in latest if not pending[tid] and not failed[tid]]
        scheduled = self._scheduled(quiet)
        return {tid: checkpoint_id for tid, checkpoint_id in quiet if tid not in scheduled}

    # ------------------------------------------------------------------ the index

    def refresh(
        self,
        indexer: Indexer,
        *,
        batch: int = 2000,
        max_batches: int | None = None,
        thread_ids: Sequence[str] | None = None,
    ) -> int:
        """Re-index dirty threads (only those of `thread_ids`, when given). Returns how many
        were indexed.

        Each batch reads dirty marks and the threads' state in one snapshot, writes their
        rows, and clears each mark only if its version did not move meanwhile.
        """
        if self.read_only:
            return self._refresh_read_only(indexer)
        if thread_ids is not None:
            ids = sorted(set(thread_ids))
            if not ids:
                return 0
            batch, max_batches = len(ids), 1
            where = f"WHERE thread_id IN ({','.join('?' for _ in ids)}) "
        else:
            ids, where = [], ""
            if not self.query("SELECT 1 FROM hitl_dirty LIMIT 1"):
                return 0  # nothing changed: skip the snapshot transaction (round trips on a server)
            if self.query("SELECT 1 FROM hitl_backfill LIMIT 1"):
                # A first index is under way: its version-0 marks are `backfill`'s work, so a
                # refresh (on every listing) takes only what agents changed (found by index).
                where = "WHERE version > 0 "
        done = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            batches += 1
            with self.connection(snapshot=True):
                # Dirty versions and the threads' state from one snapshot. Marks are read in
                # key order so concurrent refreshes lock them in the same order.
                dirty = [
                    (tid, int(version))
                    for tid, version in self.query(
                        f"SELECT thread_id, version FROM hitl_dirty {where}ORDER BY thread_id LIMIT ?", (*ids, batch)
                    )
                ]
                state = self._read_thread_state([tid for tid, _ in dirty]) if dirty else None
            if not dirty:
                break
            rows = self._index_rows(state, indexer)
            self._write_index(rows, dirty)
            done += len(dirty)
            if len(dirty) < batch:
                break
        return done

    def _refresh_read_only(self, indexer: Indexer) -> int:
        return 0

    # ------------------------------------------------------------------ the first index

    def indexing(self) -> dict[str, Any]:
        """Progress of the first index: `{"done", "total", "owner", "lease_until"}`.

        `done == total` once every thread the desk found on first opening the database has
        been indexed (threads changed since are indexed by `refresh` as usual).
        """
        if self.read_only:
            return {"done": 0, "total": 0, "owner": None, "lease_until": 0.0}
        rows = self.query("SELECT total, done, owner, lease_until FROM hitl_indexer WHERE id = 1")
        if not rows:
            return {"done": 0, "total": 0, "owner": None, "lease_until": 0.0}
        total, done, owner, lease_until = rows[0]
        return {"done": int(done), "total": int(total), "owner": owner, "lease_until": float(lease_until or 0)}

    def backfill_pending(self) -> bool:
        """Whether the first index still has threads to go."""
        if self.read_only:
            return False
        return bool(self.query("SELECT 1 FROM hitl_backfill LIMIT 1"))

    def take_index_lease(self, owner: str, *, lease_seconds: float) -> bool:
        """Take (or renew) the lease on the first index for `owner`; False while another
        desk process holds an unexpired one. One indexer per database, whatever the processes."""
        now = time.time()
        return (
            self.execute_write(
                "UPDATE hitl_indexer SET owner = ?, lease_until = ? "
                "WHERE id = 1 AND (owner IS NULL OR owner = ? OR lease_until < ?)",
                (owner, now + lease_seconds, owner, now),
            )
            == 1
        )

    def release_index_lease(self, owner: str) -> None:
        """Give the lease up (the first index is done, or this desk closes)."""
        self.execute_write("UPDATE hitl_indexer SET owner = NULL, lease_until = 0 WHERE id = 1 AND owner = ?", (owner,))

    def backfill(
        self,
        indexer: Indexer,
        *,
        batch: int = 5000,
        owner: str | None = None,
        lease_seconds: float = 30.0,
        pool: Any = None,
        chunk: int = 1000,
    ) -> int:
        """Index one batch of the first index's queue, newest threads first; returns how many
        threads left the queue (0: the first index is complete).

        The batch is read in one snapshot (its version-0 marks and the threads' state) and
        written in one transaction that also takes the threads off the queue and moves the
        progress counter, so a desk killed midway loses at most the batch it had not written,
        and the next desk starts where it stopped: no thread is indexed twice (only threads
        this transaction itself took off the queue get a row), none is skipped. A thread an
        agent changed meanwhile (its mark moved off version 0) is left to `refresh`. With
        `owner`, the write also renews that owner's lease and is refused (0, nothing written)
        when another desk has taken the lease over.

        With `pool` (`hitl.indexing.IndexPool`) the batch's rows are computed by worker
        processes, `chunk` threads at a time, and each chunk is written (as above: its rows,
        its queue entries and the counter in one transaction) while the next ones are computed.
        """
        if self.read_only:
            return 0
        with self.connection(snapshot=True):
            # One set-based read of the whole batch, in one snapshot: the queue's next threads
            # (newest first), each one's version-0 mark, its latest root checkpoint and that
            # checkpoint's writes (blobs only of the channels the summary reads).
            found = self.query(self._state_sql("queue"), (batch,))
        if not found:
            return 0
        if pool is None:
            return self._backfill_write(found, self._index_rows(self._backfill_state(found), indexer), owner, lease_seconds)
        chunks = [list(group) for _, group in groupby(found, key=_first)]
        chunks = [[row for group in chunks[start : start + chunk] for row in group] for start in range(0, len(chunks), chunk)]
        taken = 0
        computed = pool.map([[row[:1] + row[2:] for row in part if row[1] is not None and row[2] is not None] for part in chunks])
        for part, (rows, pushed) in zip(chunks, computed):
            if pushed:  # interrupts raised in Send tasks: their nodes are named from the checkpoint here
                left = set(pushed)
                rows = rows + self._index_rows(self._backfill_state([row for row in part if row[0] in left]), indexer)
            written = self._backfill_write(part, self.mark_running(rows), owner, lease_seconds)
            if written == 0:
                break  # the lease was lost: another desk goes on
            taken += written
        return taken

    def _backfill_state(self, found: list[tuple]) -> tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]]:
        """The state of the threads of `backfill`'s read that still hold their version-0 mark."""
        return self._state_from_rows([row[:1] + row[2:] for row in found if row[1] is not None and row[2] is not None])

    def _backfill_write(self, found: list[tuple], rows: list[tuple], owner: str | None, lease_seconds: float) -> int:
        """Write `backfill`'s rows of the threads read in `found`, taking them off the queue."""
        queued = list(dict.fromkeys(row[0] for row in found))
        dirty = sorted({(row[0], int(row[1])) for row in found if row[1] is not None})
        taken: list[str] = []

        def take(conn: Any) -> set[str] | None:
            sql = self.dialect.sql
            if owner is not None:
                renewed = conn.execute(
                    sql("UPDATE hitl_indexer SET lease_until = ? WHERE id = 1 AND owner = ?"),
                    (time.time() + lease_seconds, owner),
                ).rowcount
                if renewed != 1:
                    return None
            for start in range(0, len(queued), 500):
                chunk = queued[start : start + 500]
                taken.extend(
                    r[0]
                    for r in conn.execute(
                        sql(f"DELETE FROM hitl_backfill WHERE thread_id IN ({','.join('?' for _ in chunk)}) RETURNING thread_id"),
                        chunk,
                    ).fetchall()
                )
            conn.execute(sql("UPDATE hitl_indexer SET done = done + ? WHERE id = 1"), (len(taken),))
            return set(taken)

        self._write_index(rows, dirty, only=take)
        return len(taken)

    def _read_thread_state(self, thread_ids: list[str]) -> tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]]:
        """(latest root checkpoint rows, pending interrupts, threads with error writes), in one
        query per 500 threads."""
        found: list[tuple] = []
        for start in range(0, len(thread_ids), 500):
            chunk = thread_ids[start : start + 500]
            found += self.query(self._state_sql("ids", len(chunk)), [*chunk, *chunk])
        return self._state_from_rows(found)

    def _state_sql(self, source: str, n: int = 0) -> str:
        """The index's one read: per thread its latest root checkpoint (id, metadata) and that
        checkpoint's writes (task, path, channel, and the value only for `SPECIAL_CHANNELS`:
        a real channel's write only says its task completed), ordered by thread, task path,
        task. `source` "ids": the `n` thread ids given twice as parameters; "queue": the first
        index's next `?` threads, with each one's version-0 dirty mark in the second column
        (NULL: an agent changed it since, it is `refresh`'s) and NULLs for a thread without a
        root checkpoint."""
        writes, value = self.dialect.writes_table, self.dialect.write_value
        special = ",".join(f"'{c}'" for c in SPECIAL_CHANNELS)
        latest = "(SELECT MAX(m.checkpoint_id) FROM checkpoints m WHERE m.thread_id = {t} AND m.checkpoint_ns = '')"
        columns = (
            f"c.checkpoint_id, c.metadata, w.task_id, w.task_path, w.channel, w.type, "
            f"CASE WHEN w.channel IN ({special}) THEN w.{value} END"
        )
        if source == "ids":
            marks = ",".join("?" for _ in range(n))
            # The ids twice: also on the writes, so PostgreSQL finds them by index even when its
            # statistics predate a burst of new threads.
            return f"""
                SELECT c.thread_id, {columns}
                FROM checkpoints c LEFT JOIN {writes} w
                  ON w.thread_id = c.thread_id AND w.checkpoint_ns = '' AND w.checkpoint_id = c.checkpoint_id
                 AND w.thread_id IN ({marks})
                WHERE c.thread_id IN ({marks}) AND c.checkpoint_ns = ''
                  AND c.checkpoint_id = {latest.format(t="c.thread_id")}
                ORDER BY c.thread_id, w.task_path, w.task_id, w.idx
            """
        return f"""
            WITH q AS (SELECT thread_id FROM hitl_backfill ORDER BY latest DESC, thread_id DESC LIMIT ?)
            SELECT q.thread_id, d.version, {columns}
            FROM q
            LEFT JOIN hitl_dirty d ON d.thread_id = q.thread_id AND d.version = 0
            LEFT JOIN checkpoints c ON d.version IS NOT NULL AND c.thread_id = q.thread_id AND c.checkpoint_ns = ''
             AND c.checkpoint_id = {latest.format(t="q.thread_id")}
            LEFT JOIN {writes} w
              ON c.checkpoint_id IS NOT NULL AND w.thread_id = q.thread_id AND w.checkpoint_ns = ''
             AND w.checkpoint_id = c.checkpoint_id
            ORDER BY q.thread_id, w.task_path, w.task_id, w.idx
        """

    def _state_from_rows(self, found: list[tuple]) -> tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]]:
        """`_read_thread_state`'s result from `_state_sql` rows (without the version column)."""
        latest, interrupts, errors, pushed = thread_state(self.saver.serde, found)
        for thread_id in pushed:
            interrupts[thread_id] = self._name_pushed_nodes(interrupts[thread_id])
        return latest, interrupts, errors

    def _index_rows(
        self, state: tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]], indexer: Indexer
    ) -> list[tuple]:
        """`hitl_threads` rows of the threads in `state` (see `index_rows`)."""
        rows = index_rows(state, indexer, keep_nul=self.dialect.name == "sqlite")
        return self.mark_running(rows)

    def mark_running(self, rows: list[tuple]) -> list[tuple]:
        """`rows` with "completed" made "running" where the checkpoint still has nodes scheduled."""
        scheduled = self._scheduled([(row[0], row[2]) for row in rows if row[1] == "completed"])
        if not scheduled:
            return rows
        return [(row[0], "running", *row[2:]) if row[1] == "completed" and row[0] in scheduled else row for row in rows]

    def _scheduled(self, checkpoints: list[tuple[str, str]]) -> set[str]:
        """The threads among (thread, checkpoint id) whose checkpoint still has nodes scheduled
        (a `branch:to:*` or `__start__` channel holds a value): the run is going or stalled.

        One query per 500 checkpoints, where the saver's `get_tuple` would read each one with
        its pending writes. A checkpoint that cannot be read counts as not scheduled."""
        found: set[str] = set()
        for start in range(0, len(checkpoints), 500):
            chunk = checkpoints[start : start + 500]
            pairs = ", ".join("(?, ?)" for _ in chunk)
            params = [value for pair in chunk for value in pair]
            if self.dialect.name != "sqlite":
                # PostgresSaver keeps None and primitive channel values inline in the
                # checkpoint's JSON and the rest in checkpoint_blobs (type 'empty' = absent).
                found.update(
                    row[0]
                    for row in self.query(
                        f"""
                        SELECT c.thread_id FROM (VALUES {pairs}) v JOIN checkpoints c
                          ON c.thread_id = v.column1 AND c.checkpoint_ns = '' AND c.checkpoint_id = v.column2
                        WHERE (
                            EXISTS (
                                SELECT 1 FROM jsonb_object_keys(c.checkpoint -> 'channel_values') k
                                WHERE k LIKE 'branch:to:%' OR k = '__start__'
                            ) OR EXISTS (
                                SELECT 1 FROM jsonb_each_text(c.checkpoint -> 'channel_versions') cv
                                JOIN checkpoint_blobs b ON b.thread_id = c.thread_id AND b.checkpoint_ns = ''
                                 AND b.channel = cv.key AND b.version = cv.value
                                WHERE (cv.key LIKE 'branch:to:%' OR cv.key = '__start__') AND b.type <> 'empty'
                            )
                        )
                        """,
                        params,
                    )
                )
                continue
            rows = self.query(
                f"SELECT c.thread_id, c.type, c.checkpoint FROM (VALUES {pairs}) v JOIN checkpoints c "
                "ON c.thread_id = v.column1 AND c.checkpoint_ns = '' AND c.checkpoint_id = v.column2",
                params,
            )
            for thread_id, type_, blob in rows:
                try:
                    channels = self.saver.serde.loads_typed((type_, bytes(blob))).get("channel_values", {})
                except Exception:
                    continue
                if any(key.startswith("branch:to:") or key == "__start__" for key in channels):
                    found.add(thread_id)
        return found

    def _write_index(
        self, rows: list[tuple], dirty: list[tuple[str, int]], *, only: Callable[[Any], set[str] | None] | None = None
    ) -> None:
        """Write the rows built from the marks `dirty`, clearing each mark still at that version.

        `only(conn)` runs first in the same transaction and names the threads this write may
        touch (None: none at all), for the first index's queue.
        """
        by_thread = {row[0]: row for row in rows}
        sql = self.dialect.sql
        try:
            with self.connection(write=True) as conn:
                if only is not None:
                    allowed = only(conn)
                    if allowed is None:
                        return
                    dirty = [(tid, version) for tid, version in dirty if tid in allowed]
                cleared: list[str] = []
                for start in range(0, len(dirty), 400):
                    chunk = dirty[start : start + 400]
                    # Versions are unique (a clock, never reused), so a mark still holding the
                    # version this refresh read means no agent wrote the thread since: the row
                    # built from that read is current. A mark that moved was re-dirtied by a
                    # concurrent write (or taken by another desk's refresh): keep it, drop the row.
                    # (The ids alone first, so the marks are found by key, not by a scan.)
                    marks = ",".join("?" for _ in chunk)
                    pairs = ", ".join("(?, ?)" for _ in chunk)
                    cleared += [
                        r[0]
                        for r in conn.execute(
                            sql(
                                f"DELETE FROM hitl_dirty WHERE thread_id IN ({marks}) "
                                f"AND (thread_id, version) IN (VALUES {pairs}) RETURNING thread_id"
                            ),
                            [*(tid for tid, _ in chunk), *(value for pair in chunk for value in pair)],
                        ).fetchall()
                    ]
                gone = [tid for tid in cleared if tid not in by_thread]
                for start in range(0, len(gone), 500):
                    chunk = gone[start : start + 500]
                    conn.execute(
                        sql(f"DELETE FROM hitl_threads WHERE thread_id IN ({','.join('?' for _ in chunk)})"), chunk
                    )
                keep = [by_thread[tid] for tid in sorted(cleared) if tid in by_thread]
                # Multi-row statements, not executemany: SQLite's FTS5 flushes its pending terms
                # at the end of every statement that its triggers ran in, so one statement per
                # row cost a segment (and merges) per row: 5-10x slower writes.
                for start in range(0, len(keep), 1000):
                    chunk = keep[start : start + 1000]
                    conn.execute(
                        sql(
                            "INSERT INTO hitl_threads (thread_id, status, checkpoint_id, graph_id, graph_note, kinds, "
                            "summary, search_text, n_interrupts, interrupt_ids, nodes, waiting_since, updated_at) "
                            "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                            + " ON CONFLICT (thread_id) DO UPDATE SET "
                            "status = excluded.status, checkpoint_id = excluded.checkpoint_id, "
                            "graph_id = excluded.graph_id, graph_note = excluded.graph_note, kinds = excluded.kinds, "
                            "summary = excluded.summary, search_text = excluded.search_text, "
                            "n_interrupts = excluded.n_interrupts, interrupt_ids = excluded.interrupt_ids, "
                            "nodes = excluded.nodes, waiting_since = excluded.waiting_since, "
                            "updated_at = excluded.updated_at"
                        ),
                        [value for row in chunk for value in row],
                    )
        except StoreError as exc:
            raise StoreError(
                f"Could not update the desk's index in {self.display_url}: {exc.cause or exc}", cause=exc.cause
            ) from None

    def mark_dirty(self, thread_ids: Iterable[str]) -> None:
        """Force threads to be re-indexed on the next refresh."""
        with self.connection(write=True) as conn:
            for thread_id in thread_ids:
                if self.dialect.tick:
                    conn.execute(self.dialect.tick)
                conn.execute(
                    self.dialect.sql(
                        f"INSERT INTO hitl_dirty (thread_id, version) VALUES (?, {self.dialect.next_version}) "
                        "ON CONFLICT (thread_id) DO UPDATE SET version = excluded.version"
                    ),
                    (thread_id,),
                )

    def dirty_count(self) -> int:
        """Threads changed by agents since the last refresh."""
        return int(self.query("SELECT COUNT(*) FROM hitl_dirty")[0][0])

    def thread_filter(
        self,
        *,
        alias: str = "",
        status: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        search: str | None = None,
        waiting_longer_than: float | None = None,
    ) -> tuple[list[str], list[Any]]:
        """WHERE clauses over `hitl_threads` (as `alias`) for the queue's filters, with parameters.

        Raises:
            InvalidAnswer: a filter holds a NUL character (FTS5 cannot parse it, PostgreSQL
                cannot store it: refused the same way on every backend).
        """
        for name, value in (("graph_id", graph_id), ("kind", kind), ("search", search)):
            if isinstance(value, str) and "\x00" in value:
                raise InvalidAnswer(
                    f"The {name} filter contains a NUL (\\x00) character; remove it.", field_errors={name: "contains NUL"}
                )
        column = f"{alias}." if alias else ""
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append(f"{column}status = ?")
            params.append(status)
        if graph_id is not None:
            where.append(f"{column}graph_id = ?")
            params.append(graph_id)
        if kind is not None:
            where.append(f"{column}kinds LIKE ? ESCAPE '\\'")
            params.append(f"%,{like_escape(kind)},%")
        if search:
            needle = search.lower()
            if self.dialect.name == "sqlite" and getattr(self, "search_index", False) and len(needle) >= 3:
                # A trigram phrase matches exactly the rows containing the text (as LIKE would);
                # phrases under three characters have no trigram, so they scan with LIKE.
                where.append(
                    f"{column}thread_id IN (SELECT d.thread_id FROM hitl_search s JOIN hitl_search_docs d "
                    "ON d.id = s.rowid WHERE hitl_search MATCH ?)"
                )
                params.append('"' + needle.replace('"', '""') + '"')
                # Start from the matches (primary-key lookups), not from a walk of every waiting
                # row probing them: `+column` keeps the planner off the status/graph indexes.
                unindexed = {f"{column}status = ?": f"+{column}status = ?", f"{column}graph_id = ?": f"+{column}graph_id = ?"}
                where = [unindexed.get(clause, clause) for clause in where]
            else:
                where.append(f"{column}search_text LIKE ? ESCAPE '\\'")
                params.append(f"%{like_escape(needle)}%")
        if waiting_longer_than is not None:
            where.append(f"{column}waiting_since <= ?")
            params.append(time.time() - waiting_longer_than)
        return where, params

    def list_threads(
        self,
        *,
        status: str | None = "waiting",
        limit: int = 50,
        cursor: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        search: str | None = None,
        waiting_longer_than: float | None = None,
        thread_ids: Sequence[str] | None = None,
        newest_first: bool = False,
    ) -> tuple[list[ThreadRow], str | None, int]:
        """One page of `hitl_threads` with the total count for the same filters."""
        matched = self._search_matches(search) if thread_ids is None else None
        if matched is not None:
            # The trigram index answered once; page and total come from its matches (the
            # phrase matches exactly the rows containing the text, so no LIKE is needed).
            search, thread_ids = None, matched
        where, params = self.thread_filter(
            status=status, graph_id=graph_id, kind=kind, search=search, waiting_longer_than=waiting_longer_than
        )
        if thread_ids is not None:
            if not thread_ids:
                return [], None, 0
            # Start from the ids (primary-key lookups), not from a walk of every row of that
            # status probing them: SQLite's unary `+column` keeps its planner off the
            # status/graph indexes (PostgreSQL has no unary + on text, and its planner does not
            # need the hint).
            if self.dialect.name == "sqlite":
                unindexed = {"status = ?": "+status = ?", "graph_id = ?": "+graph_id = ?"}
                where = [unindexed.get(clause, clause) for clause in where]
            where.append(f"thread_id IN ({','.join('?' for _ in thread_ids)})")
            params.extend(thread_ids)
        total_sql = "SELECT COUNT(*) FROM hitl_threads" + (" WHERE " + " AND ".join(where) if where else "")
        if kind is None and not search and waiting_longer_than is None and thread_ids is None and graph_id != "":
            # Only status and graph filters: the trigger-maintained counts answer without a scan.
            counted = [("status = ?", status), ("graph_id = ?", graph_id)]
            clauses = [clause for clause, value in counted if value is not None]
            total_sql = "SELECT COALESCE(SUM(n), 0) FROM hitl_counts" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        page_where = list(where)
        page_params = list(params)
        if cursor:
            since, after_id = decode_cursor(cursor)
            op = "<" if newest_first else ">"
            page_where.append(f"(waiting_since {op} ? OR (waiting_since = ? AND thread_id {op} ?))")
            page_params.extend([since, since, after_id])
        order = "DESC" if newest_first else "ASC"
        # The count rides along with the page as an uncorrelated subquery (evaluated once): one
        # round trip instead of two. An empty page carries no count, so it is asked for then.
        sql = (
            f"SELECT thread_id, status, checkpoint_id, graph_id, graph_note, kinds, summary, n_interrupts, "
            f"waiting_since, nodes, updated_at, ({total_sql}) FROM hitl_threads"
            + (" WHERE " + " AND ".join(page_where) if page_where else "")
            + f" ORDER BY waiting_since {order}, thread_id {order} LIMIT ?"
        )
        rows = self.query(sql, [*params, *page_params, limit + 1])
        total = int(rows[0][11]) if rows else int(self.query(total_sql, params)[0][0])
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            ThreadRow(
                thread_id=r[0],
                status=r[1],
                checkpoint_id=r[2],
                graph_id=r[3],
                graph_note=r[4],
                kinds=tuple(k for k in r[5].split(",") if k),
                summary=r[6],
                n_interrupts=int(r[7]),
                waiting_since=datetime.fromtimestamp(float(r[8]), timezone.utc),
                nodes=tuple(n for n in r[9].split(",") if n),
                updated_at=datetime.fromtimestamp(float(r[10]), timezone.utc),
            )
            for r in rows
        ]
        next_cursor = encode_cursor(float(rows[-1][8]), rows[-1][0]) if more and rows else None
        return items, next_cursor, total

    search_matches_max = 5000
    """`list_threads` takes a search's matches from the trigram index once, as ids, when there
    are at most this many (else the index is joined in the page and count queries)."""

    def _search_matches(self, search: str | None) -> list[str] | None:
        """The thread ids whose search text contains `search`, from SQLite's trigram index,
        when it can answer and they are at most `search_matches_max`; else None."""
        if not search or self.dialect.name != "sqlite" or not getattr(self, "search_index", False):
            return None
        needle = search.lower()
        if len(needle) < 3 or "\x00" in needle:
            return None
        rows = self.query(
            "SELECT d.thread_id FROM hitl_search s JOIN hitl_search_docs d ON d.id = s.rowid "
            "WHERE hitl_search MATCH ? LIMIT ?",
            ('"' + needle.replace('"', '""') + '"', self.search_matches_max + 1),
        )
        return [row[0] for row in rows] if len(rows) <= self.search_matches_max else None

    def status_counts(self) -> dict[str, int]:
        """How many threads are in each status."""
        return {
            status: int(n)
            for status, n in self.query("SELECT status, SUM(n) FROM hitl_counts GROUP BY status HAVING SUM(n) > 0")
        }

    def graph_ids(self) -> list[str]:
        """Distinct graph ids seen on threads."""
        return [r[0] for r in self.query("SELECT DISTINCT graph_id FROM hitl_threads WHERE graph_id IS NOT NULL ORDER BY 1")]

    # ------------------------------------------------------------------ claims

    def claim(
        self,
        thread_id: str,
        interrupt_ids: Sequence[str],
        *,
        reviewer: str,
        answers: dict[str, Any],
        lease_seconds: float,
        still_pending: Callable[[str], bool],
        runs_graph: bool = False,
        settle_unknown: bool = False,
    ) -> None:
        """Claim interrupts for one resume, atomically, across processes.

        A claim row has a unique key (thread, interrupt), and rows are only inserted with
        `ON CONFLICT DO NOTHING` and taken over with a compare-and-set `UPDATE`, so of many
        desks racing for one interrupt exactly one changes a row, whatever the backend's
        isolation level. An existing claim that is `done` (or `recovered`) means someone
        decided first. A `failed` one (the resume raised before or in a node that LangGraph
        recorded as failed, or a dead desk's claim was abandoned before its graph ran) may be
        taken again while the interrupt is still pending. An `unknown` one (the resume may
        have run a node whose result was not saved, see `hitl.outcome`) is refused with
        `OutcomeUnknown` unless `settle_unknown` (an explicit retry or resolve). A `claimed`
        one past its lease belonged to a desk that died before finishing (a live desk renews
        its lease while the graph runs, see `renew_claims`): when its desk never ran the
        graph for it (`runs_graph` false) and the interrupt is still pending it is taken
        over, recorded as `abandoned`; when its desk was running the graph the node may have
        run, so it is refused with `OutcomeUnknown` (state "unrecorded", for
        `recover_stale_claims` to record); when the checkpointer shows the resume did commit,
        it is left for `recover_stale_claims` to close as `recovered`, and this call refuses.
        All interrupts are claimed, or none.

        Args:
            runs_graph: the caller resumes the graph right after this claim commits (a
                resume or retry), so a claim it leaves open may have run a node.
            settle_unknown: take over `unknown` claims (and a dead desk's running claims):
                an explicit retry or resolve of an outcome-unknown decision.

        Raises:
            AlreadyDecided: another reviewer holds or finished a claim on one of them.
            OutcomeUnknown: one of them is outcome unknown (`outcome.state` "unknown"), or a
                dead desk was running the graph for it ("unrecorded"); nothing was claimed.
        """

        now = time.time()
        sql = self.dialect.sql
        with self.connection(write=True) as conn:
            for interrupt_id in interrupt_ids:
                answer_json = _dumps(answers.get(interrupt_id))
                inserted = conn.execute(
                    sql(
                        "INSERT INTO hitl_claims (thread_id, interrupt_id, reviewer, answer, state, claimed_at, "
                        "lease_until, runs_graph) VALUES (?, ?, ?, ?, 'claimed', ?, ?, ?) "
                        "ON CONFLICT (thread_id, interrupt_id) DO NOTHING"
                    ),
                    (thread_id, interrupt_id, reviewer, answer_json, now, now + lease_seconds, int(runs_graph)),
                ).rowcount
                if inserted == 1:
                    continue
                row = conn.execute(
                    sql(
                        "SELECT reviewer, state, claimed_at, lease_until, answer, runs_graph FROM hitl_claims "
                        "WHERE thread_id = ? AND interrupt_id = ?"
                    ),
                    (thread_id, interrupt_id),
                ).fetchone()
                if row is None:  # released between our insert and read: let the caller retry
                    raise AlreadyDecided(interrupt_id, reviewer=None, decided_at=None, thread_id=thread_id)
                holder, state, claimed_at, lease_until, held_answer, held_runs = row
                stale = state == "claimed" and float(lease_until) < now
                decided_at = datetime.fromtimestamp(float(claimed_at), timezone.utc)
                if (state == "unknown" or (stale and held_runs)) and not settle_unknown and (
                    state == "unknown" or still_pending(interrupt_id)
                ):
                    raise OutcomeUnknown(
                        UnknownOutcome(
                            thread_id=thread_id,
                            interrupt_ids=(interrupt_id,),
                            reviewer=holder,
                            answers={interrupt_id: json.loads(held_answer) if held_answer else None},
                            decided_at=decided_at,
                            state="unknown" if state == "unknown" else "unrecorded",
                        )
                    )
                takeable = state == "failed" or stale or (state == "unknown" and settle_unknown)
                taken = takeable and still_pending(interrupt_id) and conn.execute(
                    sql(
                        "UPDATE hitl_claims SET reviewer = ?, answer = ?, state = 'claimed', claimed_at = ?, "
                        "lease_until = ?, finished_at = NULL, runs_graph = ? "
                        "WHERE thread_id = ? AND interrupt_id = ? AND state = ? AND claimed_at = ?"
                    ),
                    (reviewer, answer_json, now, now + lease_seconds, int(runs_graph), thread_id, interrupt_id, state,
                     claimed_at),
                ).rowcount == 1  # fmt: skip
                if not taken:
                    raise AlreadyDecided(interrupt_id, reviewer=holder, decided_at=decided_at, thread_id=thread_id)
                if stale:
                    # The dead desk's decision is replaced; say what became of it first.
                    self.append_audit(
                        [
                            {
                                "thread_id": thread_id,
                                "interrupt_id": interrupt_id,
                                "action": "recovery",
                                "answer": json.loads(held_answer) if held_answer else None,
                                "reviewer": holder,
                                "comment": f"claim lease expired before the resume finished; taken over by {reviewer}"
                                + ("; its desk was running the graph, so the node may have run" if held_runs else ""),
                                "decided_at": now,
                                "outcome": "unknown" if held_runs else "abandoned",
                            }
                        ]
                    )

    def _insert_claims(
        self,
        conn: Any,
        claims: Sequence[tuple[str, str, Any]],
        *,
        reviewer: str,
        lease_seconds: float,
        runs_graph: bool = False,
    ) -> set[str]:
        """Insert fresh claim rows [(thread, interrupt, answer)] where none exists, 200 per
        statement; returns the threads whose row was inserted (the others conflicted)."""
        now = time.time()
        inserted: set[str] = set()
        for start in range(0, len(claims), 200):
            chunk = claims[start : start + 200]
            values = ", ".join("(?, ?, ?, ?, 'claimed', ?, ?, ?)" for _ in chunk)
            params = [
                value
                for thread_id, interrupt_id, answer in chunk
                for value in (thread_id, interrupt_id, reviewer, _dumps(answer), now, now + lease_seconds, int(runs_graph))
            ]
            inserted.update(
                row[0]
                for row in conn.execute(
                    self.dialect.sql(
                        "INSERT INTO hitl_claims (thread_id, interrupt_id, reviewer, answer, state, claimed_at, "
                        f"lease_until, runs_graph) VALUES {values} ON CONFLICT (thread_id, interrupt_id) DO NOTHING "
                        "RETURNING thread_id"
                    ),
                    params,
                ).fetchall()
            )
        return inserted

    def claim_each(
        self,
        requests: Mapping[str, dict[str, Any]],
        *,
        reviewer: str,
        lease_seconds: float,
        still_pending: Callable[[str, str], bool],
        runs_graph: bool = False,
    ) -> dict[str, AlreadyDecided | OutcomeUnknown]:
        """`claim` for many threads in ONE write transaction: {thread: {interrupt_id: answer}}.

        Each thread is claimed exactly as `claim` does (same keys, same takeover rules), all
        of its interrupts or none (a savepoint undoes a thread's partial claim); a thread
        that conflicts does not stop the others. Returns the refused threads and why.
        """
        refused: dict[str, AlreadyDecided | OutcomeUnknown] = {}
        with self.connection(write=True) as conn:
            # Threads asking one interrupt (a batch's usual case) are first inserted with one
            # multi-row `INSERT ... ON CONFLICT DO NOTHING`; those it claimed are done, and
            # the rest (held by someone, or several interrupts) go through `claim` one by one.
            claimed = self._insert_claims(
                conn, [(t, next(iter(a)), a[next(iter(a))]) for t, a in requests.items() if len(a) == 1],
                reviewer=reviewer, lease_seconds=lease_seconds, runs_graph=runs_graph,
            )  # fmt: skip
            for thread_id, answers in requests.items():
                if thread_id in claimed:
                    continue
                several = len(answers) > 1
                if several:
                    conn.execute("SAVEPOINT hitl_claim")
                try:
                    self.claim(
                        thread_id, list(answers), reviewer=reviewer, answers=answers, lease_seconds=lease_seconds,
                        still_pending=lambda iid, tid=thread_id: still_pending(tid, iid), runs_graph=runs_graph,
                    )  # fmt: skip
                except (AlreadyDecided, OutcomeUnknown) as exc:
                    if several:
                        conn.execute("ROLLBACK TO SAVEPOINT hitl_claim")
                    refused[thread_id] = exc
                if several:
                    conn.execute("RELEASE SAVEPOINT hitl_claim")
        return refused

    def renew_claims(self, thread_id: str, interrupt_ids: Sequence[str], *, reviewer: str, lease_seconds: float) -> int:
        """Push the lease of this desk's open claims forward while its resume is running.

        A resume that outlives the lease would otherwise look like a dead desk's, and a
        second desk could take the claim over and run the graph again. Returns how many
        claims were renewed.
        """
        return self.renew_claims_of({thread_id: interrupt_ids}, reviewer=reviewer, lease_seconds=lease_seconds)

    def renew_claims_of(self, claims: Mapping[str, Sequence[str]], *, reviewer: str, lease_seconds: float) -> int:
        """`renew_claims` for {thread: interrupt ids} of many threads, in one transaction."""
        renewed = 0
        with self.connection(write=True) as conn:
            for thread_id, interrupt_ids in claims.items():
                for interrupt_id in interrupt_ids:
                    renewed += conn.execute(
                        self.dialect.sql(
                            "UPDATE hitl_claims SET lease_until = ? WHERE thread_id = ? AND interrupt_id = ? "
                            "AND state = 'claimed' AND reviewer = ?"
                        ),
                        (time.time() + lease_seconds, thread_id, interrupt_id, reviewer),
                    ).rowcount
        return renewed

    def finish_claims(self, thread_id: str, interrupt_ids: Sequence[str], *, state: str) -> None:
        """Close claims as `done` (decided), `failed` (answerable again) or `unknown`."""
        self.close_claims([(thread_id, interrupt_ids, state)])

    def release_claims(self, thread_id: str, interrupt_ids: Sequence[str]) -> None:
        """Forget claims whose answer was refused before anything ran."""
        self.close_claims([(thread_id, interrupt_ids, None)])

    def close_claims(self, closes: Sequence[tuple[str, Sequence[str], str | None]]) -> None:
        """Close many threads' claims in one transaction: [(thread, interrupt ids, state)],
        state `done`/`failed`/`unknown` as `finish_claims`, or None to release as
        `release_claims`. Inside a `connection(write=True)` block it joins that transaction
        (so a resume closes its claims and appends its audit rows together)."""
        now = time.time()
        finished = [(state, now, thread_id, iid) for thread_id, ids, state in closes if state is not None for iid in ids]
        released = [(thread_id, iid) for thread_id, ids, state in closes if state is None for iid in ids]
        sql = self.dialect.sql
        with self.connection(write=True) as conn:
            if finished:
                conn.executemany(
                    sql("UPDATE hitl_claims SET state = ?, finished_at = ? WHERE thread_id = ? AND interrupt_id = ?"),
                    finished,
                )
            if released:
                conn.executemany(
                    sql("DELETE FROM hitl_claims WHERE thread_id = ? AND interrupt_id = ? AND state = 'claimed'"), released
                )

    def claim_of(self, thread_id: str, interrupt_id: str) -> dict[str, Any] | None:
        """The claim row of one interrupt, as a dict, or None."""
        rows = self.query(
            "SELECT reviewer, answer, state, claimed_at, lease_until, finished_at FROM hitl_claims "
            "WHERE thread_id = ? AND interrupt_id = ?",
            (thread_id, interrupt_id),
        )
        if not rows:
            return None
        return _claim_dict(rows[0])

    def unknown_claims(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's outcome-unknown claims, as `claim_of` with their `interrupt_id`, oldest first."""
        rows = self.query(
            "SELECT reviewer, answer, state, claimed_at, lease_until, finished_at, interrupt_id FROM hitl_claims "
            "WHERE thread_id = ? AND state = 'unknown' ORDER BY claimed_at, interrupt_id",
            (thread_id,),
        )
        return [{**_claim_dict(row[:6]), "interrupt_id": row[6]} for row in rows]

    def decided_claim(self, thread_id: str) -> dict[str, Any] | None:
        """The latest claim on a thread that decided it or is deciding it (`claimed`, `done`,
        `recovered`), as `claim_of` with its `interrupt_id`, or None."""
        rows = self.query(
            "SELECT interrupt_id FROM hitl_claims WHERE thread_id = ? AND state IN ('claimed', 'done', 'recovered') "
            "ORDER BY claimed_at DESC LIMIT 1",
            (thread_id,),
        )
        claim = self.claim_of(thread_id, rows[0][0]) if rows else None
        return {**claim, "interrupt_id": rows[0][0]} if claim else None

    def stale_claims(self, thread_ids: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """(thread, interrupt) of claims whose lease ran out before the resume finished (of
        these threads only, when given)."""
        return [(row["thread_id"], row["interrupt_id"]) for row in self.stale_claim_rows(thread_ids)]

    def stale_claim_rows(self, thread_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """`stale_claims` as `claim_of` dicts with `thread_id`, `interrupt_id` and `runs_graph`
        (whether their desk was running the graph: then the node may have run)."""
        sql = (
            "SELECT reviewer, answer, state, claimed_at, lease_until, finished_at, thread_id, interrupt_id, runs_graph "
            "FROM hitl_claims WHERE state = 'claimed' AND lease_until < ?"
        )
        params: list[Any] = [time.time()]
        if thread_ids is not None:
            if not thread_ids:
                return []
            sql += f" AND thread_id IN ({','.join('?' for _ in thread_ids)})"
            params += list(thread_ids)
        return [
            {**_claim_dict(row[:6]), "thread_id": row[6], "interrupt_id": row[7], "runs_graph": bool(row[8])}
            for row in self.query(sql + " ORDER BY claimed_at, thread_id, interrupt_id", params)
        ]

    def settle_stale_claim(self, thread_id: str, interrupt_id: str, *, state: str, audit: dict[str, Any]) -> bool:
        """Close a stale claim as `state` and append its audit row, in ONE transaction.

        Compare-and-set: only a claim still `claimed` and past its lease changes (two desks
        recovering at once settle it once). Returns whether this call settled it.
        """
        with self.connection(write=True) as conn:
            now = time.time()
            changed = conn.execute(
                self.dialect.sql(
                    "UPDATE hitl_claims SET state = ?, finished_at = ? WHERE thread_id = ? AND interrupt_id = ? "
                    "AND state = 'claimed' AND lease_until < ?"
                ),
                (state, now, thread_id, interrupt_id, now),
            ).rowcount
            if changed:
                self.append_audit([audit])
        return bool(changed)

    # ------------------------------------------------------------------ audit

    def append_audit(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Append audit rows, hash-chained, in one transaction. Returns their seq numbers.

        The chain's tip is also written to `hitl_audit_head` in the same transaction, so
        deleting the last rows is detectable (`hitl.audit.verify_chain` compares them), and
        the next row continues from the head, keeping such a gap visible. With
        HITL_AUDIT_KEY set, row hashes and the head are HMACs under that key.
        """
        key = audit_key()
        seqs = []
        sql = self.dialect.sql
        with self.connection(write=True) as conn:
            # A no-op write on the head row first: on PostgreSQL it row-locks the head, so
            # concurrent appenders queue here instead of racing for the same seq.
            conn.execute(sql("UPDATE hitl_audit_head SET seq = seq WHERE id = 1"))
            head = conn.execute(sql("SELECT seq, row_hash FROM hitl_audit_head WHERE id = 1")).fetchone()
            last = conn.execute(sql("SELECT seq, row_hash FROM hitl_audit ORDER BY seq DESC LIMIT 1")).fetchone()
            if head is not None and (last is None or int(head[0]) > int(last[0])):
                seq, prev = int(head[0]), head[1]
            elif last is not None:
                seq, prev = int(last[0]), last[1]
            else:
                seq, prev = 0, GENESIS_HASH
            records = []
            for row in rows:
                seq += 1
                record = _audit_record(row, seq=seq, prev_hash=prev, keep_nul=self.dialect.name == "sqlite")
                record["row_hash"] = row_hash(record, key=key)
                records.append(tuple(record[c] for c in AUDIT_COLUMNS))
                prev = record["row_hash"]
                seqs.append(seq)
            if records:
                conn.executemany(
                    sql(f"INSERT INTO hitl_audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({', '.join('?' for _ in AUDIT_COLUMNS)})"),
                    records,
                )
            if seqs:
                conn.execute(
                    sql(
                        "INSERT INTO hitl_audit_head (id, seq, row_hash, mac, updated_at) VALUES (1, ?, ?, ?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, row_hash = excluded.row_hash, "
                        "mac = excluded.mac, updated_at = excluded.updated_at"
                    ),
                    (seq, prev, head_mac(seq, prev, key=key), time.time()),
                )
        return seqs

    def audit_head(self) -> dict[str, Any] | None:
        """The sealed tip of the audit chain (`seq`, `row_hash`, `mac`), or None if never written."""
        rows = self.query("SELECT seq, row_hash, mac FROM hitl_audit_head WHERE id = 1")
        if not rows:
            return None
        return {"seq": int(rows[0][0]), "row_hash": rows[0][1], "mac": rows[0][2]}

    def audit_rows(
        self,
        *,
        thread_id: str | None = None,
        reviewer: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Audit rows matching the filters, oldest first."""
        where, params = [], []
        for column, value in (("thread_id", thread_id), ("reviewer", reviewer), ("graph_id", graph_id), ("kind", kind), ("outcome", outcome)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("decided_at >= ?")
            params.append(since.timestamp())
        if until is not None:
            where.append("decided_at < ?")
            params.append(until.timestamp())
        sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM hitl_audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [dict(zip(AUDIT_COLUMNS, row)) for row in self.query(sql, params)]


def decode_interrupts(
    serde: Any,
    thread_id: str,
    checkpoint_id: str,
    task_id: str,
    task_path: str,
    type_: str,
    blob: Any,
    resume_type: str | None = None,
    resume_blob: Any = None,
    error_type: str | None = None,
    error_blob: Any = None,
) -> list[RawInterrupt]:
    """One `__interrupt__` write decoded with the saver's serializer (and, when its task has
    both, its `__resume__` and `__error__` writes: an answered interrupt whose node then
    raised). An undecodable write gives one item with `decode_error`."""
    node = _node_from_task_path(task_path)
    try:
        resumes: list[Any] = []
        error_text = None
        if error_type is not None and resume_type is not None:
            resumes = list(serde.loads_typed((resume_type, bytes(resume_blob))) or [])
            error = serde.loads_typed((error_type, bytes(error_blob)))
            error_text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
        decoded = serde.loads_typed((type_, bytes(blob) if blob is not None else b""))
        items = decoded if isinstance(decoded, (list, tuple)) else [decoded]
        out = []
        for item in items:
            interrupt_id = getattr(item, "id", None)
            if interrupt_id is None:
                raise ValueError(f"not an Interrupt: {type(item).__name__}")
            schema = getattr(item, "response_schema", None)
            failed = error_text if resumes and _answered(interrupt_id, node, task_id, len(resumes)) else None
            out.append(
                RawInterrupt(
                    thread_id=thread_id,
                    checkpoint_id=checkpoint_id,
                    task_id=task_id,
                    node=node,
                    task_path=task_path or "",
                    id=interrupt_id,
                    value=getattr(item, "value", None),
                    response_schema=schema if isinstance(schema, dict) else None,
                    failed_error=failed,
                )
            )
        return out
    except Exception as exc:  # a checkpoint from a newer or foreign serializer
        return [
            RawInterrupt(
                thread_id=thread_id,
                checkpoint_id=checkpoint_id,
                task_id=task_id,
                node=node,
                task_path=task_path or "",
                id=f"undecodable:{task_id}",
                value=None,
                response_schema=None,
                decode_error=(
                    f"This interrupt could not be decoded ({type(exc).__name__}: {exc}). It may "
                    "have been written by a newer checkpointer version; upgrade the desk's "
                    "langgraph packages to read it."
                ),
            )
        ]


def thread_state(
    serde: Any, found: list[tuple]
) -> tuple[list[tuple], dict[str, list[RawInterrupt]], set[str], list[str]]:
    """(latest root checkpoint rows, pending interrupts, threads with error writes, threads
    whose interrupts were raised in `Send` tasks) from `Store._state_sql` rows without the
    version column: a task's `__interrupt__` writes are pending unless the task also wrote a
    real channel (it completed); its `__resume__` and `__error__` writes tell a failed answer.
    Pure (no database): the first index runs it in worker processes. The `Send` tasks' nodes
    are named by `Store._name_pushed_nodes`, which reads their checkpoint."""
    latest: list[tuple] = []
    interrupts: dict[str, list[RawInterrupt]] = {}
    errors: set[str] = set()
    pushed: list[str] = []
    for thread_id, group in groupby(found, key=_first):
        group = list(group)
        checkpoint_id = group[0][1]
        latest.append((thread_id, checkpoint_id, group[0][2]))
        tasks: dict[str, list[Any]] = {}  # task id -> [path, interrupt writes, resume, error, completed]
        for _, _, _, task_id, task_path, channel, type_, blob in group:
            if task_id is None:
                continue
            task = tasks.get(task_id)
            if task is None:
                task = tasks[task_id] = [task_path, [], None, None, False]
            if channel == INTERRUPT:
                task[1].append((type_, blob))
            elif channel == "__resume__":
                task[2] = task[2] or (type_, blob)
            elif channel == ERROR:
                task[3] = task[3] or (type_, blob)
                errors.add(thread_id)
            elif channel not in SPECIAL_CHANNELS:
                task[4] = True
        items: list[RawInterrupt] = []
        for task_id, (task_path, raised, resume, error, completed) in tasks.items():
            if completed:
                continue
            for type_, blob in raised:
                items.extend(
                    decode_interrupts(
                        serde, thread_id, checkpoint_id, task_id, task_path, type_, blob,
                        *(resume or (None, None)), *(error or (None, None)),
                    )  # fmt: skip
                )
        interrupts[thread_id] = items
        if any(i.node is None and i.task_path.startswith("~__pregel_push") for i in items):
            pushed.append(thread_id)
    return latest, interrupts, errors, pushed


def index_rows(
    state: tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]], indexer: Indexer, *, keep_nul: bool
) -> list[tuple]:
    """`hitl_threads` rows (in its column order) of the threads in `state`. A thread with
    nothing pending, no error and not resolved is "completed" here; `Store.mark_running` tells
    which of those still have nodes scheduled. Pure: runs in the first index's workers too.

    Args:
        keep_nul: False for PostgreSQL, whose text cannot hold NUL: payload text is indexed
            with U+2400 there.
    """
    latest, interrupts, errors = state
    now = time.time()
    rows = []
    text = (lambda value: value) if keep_nul else _no_nul
    for thread_id, checkpoint_id, blob in latest:
        metadata = _metadata(blob)
        everything = interrupts.get(thread_id, [])
        pending = [i for i in everything if i.answerable]
        entry = indexer(thread_id, metadata, pending or everything)
        if pending:
            status = "waiting"
        elif metadata.get("hitl_resolved"):
            status = "resolved"
        elif thread_id in errors or everything:
            status = "failed"
        else:
            status = "completed"
        rows.append(
            (
                thread_id,
                status,
                checkpoint_id,
                entry.graph_id,
                text(entry.graph_note),
                "," + ",".join(entry.kinds) + ",",
                text(entry.summary),
                text(entry.search_text.lower()),
                len(pending),
                ",".join(i.id for i in pending),
                ",".join(dict.fromkeys(i.node or "" for i in pending)),
                checkpoint_time(checkpoint_id).timestamp(),
                now,
            )
        )
    return rows


def _claim_dict(row: Sequence[Any]) -> dict[str, Any]:
    """(reviewer, answer, state, claimed_at, lease_until, finished_at) of a claim row, as `claim_of` returns it."""
    reviewer, answer, state, claimed_at, lease_until, finished_at = row
    return {
        "reviewer": reviewer,
        "answer": json.loads(answer) if answer else None,
        "state": state,
        "claimed_at": datetime.fromtimestamp(float(claimed_at), timezone.utc),
        "lease_until": datetime.fromtimestamp(float(lease_until), timezone.utc),
        "finished_at": datetime.fromtimestamp(float(finished_at), timezone.utc) if finished_at else None,
    }


def _no_nul(text: str | None) -> str | None:
    """Payload text for the desk's own tables: NUL shown as U+2400 (PostgreSQL text cannot hold NUL)."""
    return text.replace("\x00", "\u2400") if text else text


def _audit_record(row: dict[str, Any], *, seq: int, prev_hash: str, keep_nul: bool = True) -> dict[str, Any]:
    decided_at = row.get("decided_at") or time.time()
    if isinstance(decided_at, datetime):
        decided_at = decided_at.timestamp()
    record = {
        "seq": seq,
        "thread_id": str(row["thread_id"]),
        "interrupt_id": str(row.get("interrupt_id") or ""),
        "graph_id": row.get("graph_id"),
        "kind": row.get("kind"),
        "action": row.get("action", "decision"),
        "payload": _dumps(row.get("payload")),
        "answer": _dumps(row.get("answer")),
        "reviewer": str(row.get("reviewer") or "unknown"),
        "comment": str(row.get("comment") or ""),
        "decided_at": round(float(decided_at), 6),
        "waited_seconds": None if row.get("waited_seconds") is None else round(float(row["waited_seconds"]), 3),
        "outcome": str(row["outcome"]),
        "error": row.get("error"),
        "prev_hash": prev_hash,
    }
    if keep_nul:  # SQLite keeps text verbatim
        return record
    # A NUL in free text (a comment, an exception message) would be refused by PostgreSQL after
    # the graph already ran: record it visibly as U+2400 instead, before the row is hashed.
    return {key: _no_nul(value) if isinstance(value, str) else value for key, value in record.items()}


_PAYLOAD_LIMIT = 200_000


def _dumps(value: Any) -> str:
    """JSON for the audit log: never raises, bounded in size."""
    try:
        text = json.dumps(value, default=_json_default, ensure_ascii=False)
    except (ValueError, RecursionError) as exc:
        text = json.dumps({"unserializable": f"{type(value).__name__}: {exc}"})
    if len(text) > _PAYLOAD_LIMIT:
        text = json.dumps({"truncated": True, "size": len(text), "head": text[:_PAYLOAD_LIMIT]})
    return text


def _json_default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return repr(value)


def _metadata(blob: Any) -> dict[str, Any]:
    if blob is None:
        return {}
    if isinstance(blob, dict):
        return blob
    try:
        data = json.loads(bytes(blob).decode("utf-8") if isinstance(blob, (bytes, memoryview)) else blob)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _node_from_task_path(task_path: str | None) -> str | None:
    """`~__pregel_pull, node` -> `node`; other paths (Send tasks) name no single node."""
    if not task_path:
        return None
    parts = [p.strip() for p in task_path.split(",")]
    if parts[0] == "~__pregel_pull" and len(parts) >= 2:
        return parts[1]
    if parts[0] == "~__pregel_push":
        return None
    return None


def _answered(interrupt_id: str, node: str | None, task_id: str, resumes: int) -> bool:
    """Whether the task's stored resume values already include this interrupt's answer."""
    from langgraph.types import _interrupt_id

    if node is None:
        return True
    namespace = f"{node}:{task_id}"
    for slot in range(resumes + 1):
        if _interrupt_id(namespace, slot) == interrupt_id:
            return slot < resumes
    return True  # raised inside a subgraph: its answer was stored with the parent task


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_cursor(since: float, thread_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([since, thread_id]).encode()).decode()


_CURSOR_MAX_CHARS = 4096
"""Far above any cursor the desk issues (a timestamp and a thread id, base64)."""


def decode_cursor(cursor: str) -> tuple[float, str]:
    """A `next_cursor` this desk issued, as (waiting_since, thread_id).

    Raises:
        InvalidAnswer: anything else (not base64 JSON, another shape, deeply nested JSON that
            would exhaust the parser's recursion, a huge string); the message shows its start.
    """
    shown = repr(cursor[:40] + ("..." if len(cursor) > 40 else "")) if isinstance(cursor, str) else repr(type(cursor).__name__)

    def refused(why: str) -> InvalidAnswer:
        return InvalidAnswer(
            f"Cursor {shown} is not one this desk issued ({why}); pass the next_cursor of the previous "
            "page as it was, or leave cursor out to start from the first page.",
            field_errors={"cursor": why},
        )

    if not isinstance(cursor, str) or len(cursor) > _CURSOR_MAX_CHARS:
        raise refused(f"longer than {_CURSOR_MAX_CHARS} characters" if isinstance(cursor, str) else "not a string")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except RecursionError:
        raise refused("JSON nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise refused(f"not base64 JSON: {exc}") from None
    if not (isinstance(decoded, list) and len(decoded) == 2):
        raise refused("expected [waiting_since, thread_id]")
    since, thread_id = decoded
    if isinstance(since, bool) or not isinstance(since, (int, float)) or not math.isfinite(since):
        raise refused("waiting_since is not a finite number")
    if not isinstance(thread_id, str):
        raise refused("thread_id is not a string")
    return float(since), thread_id


def _connect_read_only(path: Path, *, timeout: float) -> tuple[sqlite3.Connection, str]:
    """A read-only connection to an existing SQLite file the desk may not write, and why.

    `mode=ro` first: it sees the agents' latest commits, WAL included. A database in WAL mode
    whose directory this user cannot write (so SQLite cannot create its `-shm` index, a
    read-only mount, say) cannot be opened that way; it is opened `immutable=1` instead: a
    snapshot read without locks, which does not see later writes, nor commits still in a
    leftover `-wal` file (the reason says when there is one).
    """
    uri = path.resolve().as_uri()  # percent-escapes `?`, `#` and `%` in the path
    where = str(path)
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, timeout=timeout)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn, (
            f"The database file {where!r} is not writable by this user (the file or its directory): "
            "it is open read-only; threads are listed and shown."
        )
    except sqlite3.OperationalError:
        conn.close()
        if not _in_wal_mode(path):
            raise
    conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False, timeout=timeout)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    wal = Path(f"{path}-wal")
    unseen = (
        f" Its {wal.name} file holds {wal.stat().st_size:,} bytes of commits that are not checkpointed "
        "into the file, and are not shown."
        if wal.exists() and wal.stat().st_size > 0
        else ""
    )
    return conn, (
        f"The database file {where!r} is not writable by this user, and it is in WAL mode in a "
        "directory this user cannot write, so SQLite cannot create its -shm file: it is open as an "
        "immutable snapshot (threads are listed and shown as they were when the desk opened it; "
        f"restart the desk to see later changes).{unseen}"
    )


def _in_wal_mode(path: Path) -> bool:
    """Whether the SQLite file's header says WAL (file format versions 2 at bytes 18 and 19)."""
    try:
        with path.open("rb") as file:
            header = file.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"


def _writable(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
