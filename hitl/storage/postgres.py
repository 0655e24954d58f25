"""The PostgreSQL backend: `PostgresSaver` over a psycopg pool, the desk's tables beside it.

`Store.open("postgresql://...")` lands here. Everything above the SQL is shared with SQLite
(`hitl.store`); this module supplies what differs:

* **Connections.** One `psycopg_pool.ConnectionPool` serves both the saver (which needs
  `autocommit=True, prepare_threshold=0, row_factory=dict_row`, as its
  `from_conn_string` sets them) and the desk, whose transactions run as explicit blocks on
  pooled connections with tuple rows. Each connection is checked on checkout (one empty
  query), so after a server restart the pool replaces dead connections instead of handing
  them out.
* **Transactions.** A desk write takes a transaction-scoped advisory lock first, so desk
  writes are serialized across every desk process exactly as SQLite's `BEGIN IMMEDIATE`
  serializes them: claims are check-then-write under that lock (and a unique key besides),
  and audit appends read the chain's head and extend it without a fork. Agents never take
  that lock. A refresh reads its dirty marks and the threads' state in one REPEATABLE READ
  READ ONLY snapshot.
* **Triggers.** A plpgsql trigger on `checkpoints` and `checkpoint_writes` (AFTER INSERT OR
  UPDATE OR DELETE, row level: the saver upserts, and `ON CONFLICT DO UPDATE` fires UPDATE
  triggers, not INSERT ones) marks the thread dirty in the agent's own transaction with a
  fresh value of a sequence. `checkpoint_blobs` needs none: blobs are written before the
  checkpoint that refers to them and never change afterwards.
* **SQL.** The store's SQL is written with `?` placeholders; the connection adapter turns
  them into psycopg's `%s` (escaping literal `%`), so callers never think about it.
  Desk tables are created from the same DDL as SQLite's, with the types translated, by the
  numbered steps of `hitl.storage.migrations`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg
import psycopg.errors
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from hitl.errors import InvalidAnswer, StoreError
from hitl.storage.dialect import POSTGRES, Dialect, StoreSettings
from hitl.storage.migrations import migrate_postgres

__all__ = ["open_postgres", "OpenedDatabase", "StoreSettings", "describe_url"]


@dataclass(frozen=True, kw_only=True)
class OpenedDatabase:
    """A PostgreSQL database made ready for the desk, before `hitl.store.Store` wraps it."""

    saver: Any
    dialect: Dialect
    connection: ConnectionPool
    backend: Any


POOL_MAX_SIZE = 10
CONNECT_TIMEOUT_SECONDS = 10


def describe_url(url: str) -> str:
    """`database 'db' on host:port as user 'u'`, never the password."""
    parts = urlsplit(_libpq_url(url))
    query = dict(parse_qsl(parts.query))
    host = query.get("host") or parts.hostname or "localhost (socket)"
    port = query.get("port") or parts.port or 5432
    database = unquote(parts.path.lstrip("/")) or query.get("dbname") or "(default)"
    user = unquote(parts.username or "") or query.get("user") or "(default user)"
    return f"database {database!r} on {host}:{port} as user {user!r}"


def _libpq_url(url: str) -> str:
    # SQLAlchemy-style `postgresql+psycopg://` names the driver; libpq only knows the scheme.
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)


def _scrub(text: str, url: str) -> str:
    parts = urlsplit(_libpq_url(url))
    secrets = [parts.password, dict(parse_qsl(parts.query)).get("password")]
    for secret in filter(None, secrets):
        text = text.replace(secret, "***").replace(unquote(secret), "***")
    return text


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --------------------------------------------------------------------------- connections


class _PgConnection:
    """The slice of sqlite3.Connection the store uses, over one pooled psycopg connection."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _convert(sql: str, params: Sequence[Any] | None) -> tuple[str, Sequence[Any] | None]:
        if not params:
            return sql, None
        if "%s" in sql and "?" not in sql:  # already psycopg style (hand-written by a caller)
            return sql, params
        return sql.replace("%", "%%").replace("?", "%s"), params

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        _refuse_nul(params)
        text, values = self._convert(sql, params)
        cursor = self.conn.cursor(row_factory=tuple_row)
        cursor.execute(text, values)
        return cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> psycopg.Cursor:
        rows = list(rows)
        cursor = self.conn.cursor(row_factory=tuple_row)
        for row in rows:
            _refuse_nul(row)
        if rows:
            text, _ = self._convert(sql, rows[0])
            cursor.executemany(text, rows)
        return cursor


class _PostgresBackend:
    """Desk transactions on the pool shared with the saver."""

    errors: tuple[type[BaseException], ...] = (psycopg.Error,)

    def __init__(self, pool: ConnectionPool, *, url: str, schema: str) -> None:
        self.pool = pool
        self.url = url
        self.schema = schema
        self.write_lock_name = f"hitl desk writes in {schema}"

    @contextmanager
    def transaction(self, store: StoreSettings, *, mode: str) -> Iterator[_PgConnection]:
        try:
            conn = self.pool.getconn(timeout=CONNECT_TIMEOUT_SECONDS)
        except PoolTimeout as exc:
            raise StoreError(
                f"No connection to PostgreSQL ({describe_url(self.url)}) within "
                f"{CONNECT_TIMEOUT_SECONDS} s: {_scrub(_first_line(exc), self.url)}. Check that the "
                "server is running and reachable; nothing was changed.",
                cause=exc,
            ) from None
        try:
            if mode == "read":
                yield _PgConnection(conn)
                return
            # One round trip opens the transaction (and, for a write, sets its lock timeout
            # and queues behind other desks' writes): a simple-protocol multi-statement.
            if mode == "snapshot":
                prologue = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            else:
                timeout_ms = max(1, int(store.lock_retry_seconds * 1000))
                lock = self.write_lock_name.replace("'", "''")
                prologue = (
                    f"BEGIN; SELECT set_config('lock_timeout', '{timeout_ms}', true), "
                    f"pg_advisory_xact_lock(hashtext('{lock}'))"
                )
            try:
                conn.cursor().execute(prologue, prepare=False)
            except psycopg.errors.LockNotAvailable as exc:
                conn.execute("ROLLBACK")
                raise StoreError(
                    f"Another desk held the write lock on {store.display_url} for "
                    f"{store.lock_retry_seconds:g} s. Nothing was changed and your answer was "
                    "not sent; try again in a moment.",
                    cause=exc,
                ) from None
            try:
                yield _PgConnection(conn)
            except BaseException:
                try:
                    conn.execute("ROLLBACK")
                except psycopg.Error:
                    pass  # a broken connection: the pool drops it, the server rolled back
                raise
            else:
                conn.execute("COMMIT")
        finally:
            # The pool rolls back a connection left in a transaction and drops a broken one.
            self.pool.putconn(conn)

    def close(self) -> None:
        self.pool.close()


# --------------------------------------------------------------------------- opening


def open_postgres(url: str, *, create: bool) -> OpenedDatabase:
    """Open a PostgreSQL checkpointer database for the desk.

    Returns what `hitl.store.Store` is built from: the saver, the dialect, the pool and the
    transaction backend.

    Args:
        url: `postgresql://user:pass@host:port/db` (also `postgres://`, `postgresql+psycopg://`,
            and libpq query parameters such as `?sslmode=require&options=-csearch_path%3Dagents`).
        create: create LangGraph's checkpoint tables when missing; without it a database
            without them is an error (the desk was pointed at the wrong database).

    Raises:
        StoreError: the server cannot be reached, the credentials or database are wrong, or
            the checkpoint tables are missing.
    """
    from langgraph.checkpoint.postgres import PostgresSaver

    conninfo = _libpq_url(url)
    where = describe_url(url)
    try:
        probe = psycopg.connect(conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg.Error as exc:
        raise StoreError(
            f"Cannot connect to PostgreSQL {where}: {_scrub(_first_line(exc), url)}. Check that the "
            "server is running and that HITL_DATABASE_URL names the right host, port, database "
            "and credentials.",
            cause=exc,
        ) from None
    pool: ConnectionPool | None = None
    try:
        with probe:
            schema = probe.execute("SELECT current_schema()").fetchone()[0]
            if schema is None:
                raise StoreError(
                    f"PostgreSQL {where}: no schema of the search_path exists. Create the schema, or fix "
                    "the URL's `options=-csearch_path%3D...`."
                )
            # Two desks starting at once must not race on the saver's migrations nor on the
            # desk's (hitl.storage.migrations), whose steps run on this connection under this lock.
            probe.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"hitl setup in {schema}",))
            has_tables = probe.execute(
                "SELECT to_regclass('checkpoints') IS NOT NULL AND to_regclass('checkpoint_writes') IS NOT NULL"
            ).fetchone()[0]
            if not has_tables and not create:
                raise StoreError(
                    f"PostgreSQL {where} (schema {schema!r}) has no LangGraph checkpoint tables "
                    "(checkpoints, checkpoint_writes). Point HITL_DATABASE_URL at the database your "
                    "agents' PostgresSaver writes to, or run `python -m hitl.demo seed` to create demo threads."
                )
            pool = _pool(conninfo)
            saver = PostgresSaver(pool)
            saver.setup()
            migrate_postgres(probe, schema)
            probe.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"hitl setup in {schema}",))
    except StoreError:
        if pool is not None:
            pool.close()
        raise
    except (psycopg.Error, PoolTimeout) as exc:
        if pool is not None:
            pool.close()
        raise StoreError(
            f"Could not prepare PostgreSQL {where} for the desk: {_scrub(_first_line(exc), url)}. The "
            "desk needs to create its `hitl_` tables and triggers there (CREATE privilege on the schema).",
            cause=exc,
        ) from None
    return OpenedDatabase(
        saver=saver, dialect=POSTGRES, connection=pool, backend=_PostgresBackend(pool, url=url, schema=schema)
    )


def _pool(conninfo: str) -> ConnectionPool:
    """The pool shared by the saver and the desk, opened (at least one connection made)."""
    pool = ConnectionPool(
        conninfo,
        min_size=1,
        max_size=POOL_MAX_SIZE,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        # A pooled connection outlives a server restart or a failover only as a dead
        # socket: an empty query on checkout finds it, and the pool hands out a fresh
        # one instead of failing the first request afterwards with 503.
        check=ConnectionPool.check_connection,
        open=False,
        name="hitl-desk",
    )
    try:
        pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
    except BaseException:
        pool.close()
        raise
    return pool


def _refuse_nul(params: Sequence[Any] | None) -> None:
    """PostgreSQL text cannot hold NUL (0x00): say so instead of failing as a database error.

    No stored id, name or text contains one, so a filter with NUL could match nothing; the
    desk's own records replace it before writing (see `store._audit_record`).
    """
    for value in params or ():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidAnswer(
                f"{value[:40]!r} contains a NUL (\\x00) character, which PostgreSQL text cannot hold; remove it.",
                field_errors={"": "contains a NUL character"},
            )
