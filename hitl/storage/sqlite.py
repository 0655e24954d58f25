"""SQLite: transactions on the saver's one connection, and opening a file the desk may not write."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hitl.errors import StoreError
from hitl.storage.dialect import StoreSettings

__all__ = ["SqliteBackend", "TransactionMode", "connect_read_only", "writable", "open_sqlite"]

def _is_locked(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


TransactionMode = str
""""read" (statements as they come), "snapshot" (one consistent read-only view) or "write"."""


class SqliteBackend:
    """Transactions on the one sqlite3 connection the saver also uses, under its lock."""

    errors: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,)

    def __init__(self, conn: sqlite3.Connection, lock: Any) -> None:
        self.conn = conn
        self.lock = lock

    @contextmanager
    def transaction(self, store: StoreSettings, *, mode: TransactionMode) -> Iterator[Any]:
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

    def _begin_write(self, store: StoreSettings) -> None:
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



def connect_read_only(path: Path, *, timeout: float) -> tuple[sqlite3.Connection, str]:
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


def writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


CACHE_KIB = 32768
"""The page cache of the desk's one SQLite connection, in KiB (SQLite's default is 2,000 KiB).
A search at 1,000,000 threads reads about 2,000 scattered pages (the matches' text and rows):
6.5 ms with 32 MiB against 12 ms with the default, which misses on most of them. At most this
much memory, held only once pages have been read."""


def open_sqlite(url: str, *, create: bool, busy_timeout_ms: int) -> tuple[sqlite3.Connection, str, bool, str | None]:
    """A connection to the SQLite file of `url` made ready for the desk:
    `(connection, path, read_only, why read-only)`.

    The file opens read-only (`connect_read_only`) when this user may not write it or its
    directory; otherwise in WAL mode. Without `create`, a missing file or directory, and a
    file without LangGraph's checkpoint tables, are refused.

    Raises:
        StoreError: the file is missing, not a database, or cannot be opened.
    """
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
    read_only = path != ":memory:" and Path(path).exists() and not writable(Path(path))
    read_only_reason = None
    try:
        if read_only:
            conn, read_only_reason = connect_read_only(Path(path), timeout=busy_timeout_ms / 1000)
        else:
            conn = sqlite3.connect(path, check_same_thread=False, timeout=busy_timeout_ms / 1000)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
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
    return conn, path, read_only, read_only_reason
