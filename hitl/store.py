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

import sqlite3

from hitl.errors import StoreError
from hitl.storage.backfill import Backfill
from hitl.storage.checkpoints import decode_interrupts
from hitl.storage.claims import Claims
from hitl.storage.dialect import SQLITE
from hitl.storage.index import index_rows, thread_state
from hitl.storage.migrations import migrate_sqlite, pending_sqlite, refuse_read_only
from hitl.storage.postgres import open_postgres
from hitl.storage.queue import Queue
from hitl.storage.records import (
    SPECIAL_CHANNELS,
    IndexEntry,
    Indexer,
    RawInterrupt,
    ThreadRow,
    checkpoint_time,
    decode_cursor,
    encode_cursor,
    like_escape,
)
from hitl.storage.sqlite import open_sqlite

__all__ = [
    "Store",
    "RawInterrupt",
    "ThreadRow",
    "IndexEntry",
    "Indexer",
    "checkpoint_time",
    "SPECIAL_CHANNELS",
    "encode_cursor",
    "decode_cursor",
    "like_escape",
    "decode_interrupts",
    "thread_state",
    "index_rows",
]


class Store(Claims, Queue, Backfill):
    """One checkpointer database: the saver the graphs use, plus the desk's tables.

    Use `Store.open(url)`; close with `close()` or as a context manager. Its methods come
    from the storage repositories, one job each: `hitl.storage.engine` (connections),
    `checkpoints` (the saver's tables), `index` and `backfill` (`hitl_threads`), `queue`
    (listing), `claims` and `audit_log`.
    """

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

        conn, path, read_only, read_only_reason = open_sqlite(url, create=create, busy_timeout_ms=busy_timeout_ms)
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
