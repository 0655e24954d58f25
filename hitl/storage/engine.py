"""The storage engine: connections, transactions and plain queries on one checkpointer database."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from hitl.errors import StoreError
from hitl.storage.dialect import Dialect
from hitl.storage.sqlite import SqliteBackend

__all__ = ["Engine"]


class Engine:
    """One open database: the saver, the dialect, and transactions on its connection.

    The base of every repository (`hitl.storage.checkpoints`, `index`, `queue`, `claims`,
    `audit_log`); `hitl.store.Store` combines them and opens the database.
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
        self._backend = backend if backend is not None else SqliteBackend(connection, lock)
        self._local = threading.local()
        self.search_index = False
        """Whether SQLite's FTS5 trigram index exists (PostgreSQL searches with pg_trgm instead)."""

    def _table_exists(self, name: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
        ).fetchone()
        return row is not None

    def close(self) -> None:
        """Close the connection (or pool)."""
        self._backend.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def backend(self) -> str:
        """"sqlite" or "postgres"."""
        return self.dialect.name

    @property
    def display_url(self) -> str:
        """Where the desk reads and writes, passwords hidden (for messages)."""
        return self.records_url

    @property
    def threads_at(self) -> str | None:
        """Where the threads live when not in this database (a LangGraph server's URL), else None."""
        return None

    @property
    def records_url(self) -> str:
        """The URL without a password (user info or a `password=` parameter), for the sidebar."""
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

    def ping(self) -> None:
        """One trivial round trip: raises StoreError when the database cannot be reached."""
        self.query("SELECT 1")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run a read query and return all rows, turning driver errors into StoreError."""
        with self.connection() as conn:
            return conn.execute(self.dialect.sql(sql), tuple(params)).fetchall()

    def execute_write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement in its own transaction; returns the row count."""
        with self.connection(write=True) as conn:
            return conn.execute(self.dialect.sql(sql), tuple(params)).rowcount
