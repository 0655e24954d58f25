"""The desk's schema as numbered migrations, applied once each, in order, when a desk opens.

Every `hitl_` table, index, trigger and function is created here and nowhere else (as
langgraph-checkpoint-postgres does for its own tables with `MIGRATIONS`). `hitl_migrations`
holds one row per applied step (version, name, applied_at); opening a database applies the
steps it lacks, each in its own transaction together with its row, so a desk killed midway
leaves the database at the last whole step. Desks opening at once never both apply a step:
on SQLite each step runs under `BEGIN IMMEDIATE` and re-reads `hitl_migrations` first; on
PostgreSQL the caller holds the setup advisory lock (`hitl.storage.postgres.open_postgres`).

Step 1 is the schema exactly as the desk created it before migrations existed (main at
136d825). Its statements are `IF NOT EXISTS` throughout and its fills run only for tables it
creates, so on a database such a desk made (every table there, no `hitl_migrations` row) it
adopts what is there and loses nothing; on an older one it also adds what was added since
(`hitl_counts`, `hitl_claims.runs_graph`), as that desk did at open.

To change the schema, append a `Migration` with the next version; never edit an applied one.
A database at a version this desk does not know (a newer desk migrated it) is left alone.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from hitl.errors import StoreError
from hitl.storage.schema import (
    BACKFILL_FROM_CHECKPOINTS,
    COUNT_TRIGGERS_SQLITE,
    COUNTS_FROM_THREADS,
    DESK_TABLES_SQLITE,
    DIRTY_TRIGGERS_SQLITE,
    SEARCH_SQLITE,
    split_statements,
)
from hitl.storage.schema_postgres import PG_TRIGGERS, TRIGRAM_INDEX, quote_ident, translate_ddl
from hitl.storage.schema_records import PORTABLE_TABLES, QA_SCHEMA_TABLE_SQLITE, QA_TABLES_SQLITE

__all__ = [
    "Migration",
    "MIGRATIONS",
    "latest_version",
    "migrate_sqlite",
    "migrate_postgres",
    "pending_sqlite",
    "pending_postgres",
    "describe_pending",
    "refuse_read_only",
]

MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS hitl_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)


@dataclass(frozen=True, kw_only=True)
class Migration:
    """One numbered step of the desk's schema, written once per dialect."""

    version: int
    name: str
    sqlite: Callable[[sqlite3.Connection], None]
    """Applies the step on the saver's sqlite3 connection, inside the step's transaction."""
    postgres: Callable[[Any, str], None]
    """Applies the step on a psycopg connection, inside the step's transaction, given the
    quoted schema holding the saver's tables."""


# --------------------------------------------------------------------------- step 1: the baseline


def _run_script(conn: Any, script: str) -> None:
    for statement in split_statements(script):
        conn.execute(statement)


def _sqlite_table_exists(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None


def _baseline_sqlite(conn: sqlite3.Connection) -> None:
    fresh = not _sqlite_table_exists(conn, "hitl_threads")
    counts_fresh = not _sqlite_table_exists(conn, "hitl_counts")
    # One transaction: an agent writing meanwhile never meets a missing trigger.
    _run_script(conn, DESK_TABLES_SQLITE + DIRTY_TRIGGERS_SQLITE + COUNT_TRIGGERS_SQLITE)
    if counts_fresh:
        conn.execute(COUNTS_FROM_THREADS)
    if fresh:
        # Threads written before the triggers existed: index them once (in the background
        # when there are many, see `Store.backfill`).
        for statement in BACKFILL_FROM_CHECKPOINTS:
            conn.execute(statement)
    if "runs_graph" not in {row[1] for row in conn.execute("PRAGMA table_info(hitl_claims)")}:
        # 0: open claims of a desk older than the column are taken as never having run the graph.
        conn.execute("ALTER TABLE hitl_claims ADD COLUMN runs_graph INTEGER NOT NULL DEFAULT 0")
    _search_sqlite(conn)
    _run_script(conn, ";\n".join(PORTABLE_TABLES) + ";")
    _qa_tables(conn, split_statements)


def _search_sqlite(conn: sqlite3.Connection) -> None:
    """The trigram search index, when this SQLite has FTS5 (else search scans, still correct)."""
    fresh = not _sqlite_table_exists(conn, "hitl_search_docs")
    if not fresh and _sqlite_table_exists(conn, "hitl_search"):
        return  # made by an older desk, with its triggers, in one transaction: adopted as it is
    conn.execute("SAVEPOINT hitl_search")
    try:
        _run_script(conn, SEARCH_SQLITE)
        if fresh:
            conn.execute("INSERT INTO hitl_search_docs (thread_id, search_text) SELECT thread_id, search_text FROM hitl_threads")
    except sqlite3.OperationalError:
        conn.execute("ROLLBACK TO hitl_search")
    conn.execute("RELEASE hitl_search")


def _qa_tables(conn: Any, statements: Callable[[str], list[str]]) -> None:
    """QA's tables and its old version row, at 1: what QA's own first migration made."""
    for script in (QA_SCHEMA_TABLE_SQLITE, QA_TABLES_SQLITE):
        for statement in statements(script):
            conn.execute(statement)
    conn.execute(f"UPDATE hitl_qa_schema SET version = 1, updated_at = {time.time()!r} WHERE id = 1 AND version < 1")


def _baseline_postgres(conn: Any, schema: str) -> None:
    fresh = conn.execute("SELECT to_regclass('hitl_threads') IS NULL").fetchone()[0]
    counts_fresh = conn.execute("SELECT to_regclass('hitl_counts') IS NULL").fetchone()[0]
    for statement in translate_ddl(DESK_TABLES_SQLITE):
        conn.execute(statement)
    present = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'hitl_claims' AND column_name = 'runs_graph'"
    ).fetchone()
    if present is None:  # looked up first: an ALTER queues every reader of the table behind it
        conn.execute("ALTER TABLE hitl_claims ADD COLUMN IF NOT EXISTS runs_graph BIGINT NOT NULL DEFAULT 0")
    sequence_literal = "'" + f"{schema}.hitl_dirty_clock".replace("'", "''") + "'"
    conn.execute(PG_TRIGGERS.format(schema=schema, sequence_literal=sequence_literal))
    if counts_fresh:
        conn.execute(COUNTS_FROM_THREADS)
    if fresh:
        # Threads written before the trigger existed: index them once. The trigger took a
        # lock on the saver's tables, so no agent write falls between the two.
        for statement in BACKFILL_FROM_CHECKPOINTS:
            conn.execute(statement)
    for statement in PORTABLE_TABLES:
        conn.execute(statement)
    _qa_tables(conn, translate_ddl)
    _trigram_index(conn, schema)


def _trigram_index(conn: Any, schema: str) -> None:
    """The substring-search index, when pg_trgm exists or may be created (else search scans)."""
    try:
        with conn.transaction():  # a savepoint: a refused CREATE EXTENSION leaves the step whole
            found = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
            ops_schema = conn.execute(found).fetchone()
            if ops_schema is None:
                # In `public` when it exists, so that dropping the desk's own schema later
                # does not take the extension (and other schemas' indexes) with it.
                in_public = conn.execute("SELECT to_regnamespace('public') IS NOT NULL").fetchone()[0]
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm" + (" SCHEMA public" if in_public else ""))
                ops_schema = conn.execute(found).fetchone()
            conn.execute(TRIGRAM_INDEX.format(schema=schema, ops_schema=ops_schema[0]))
    except psycopg.Error:
        pass  # no pg_trgm here (or no right to create it): search scans, still correct


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        name="baseline: the desk's tables, triggers and indexes as of main 136d825",
        sqlite=_baseline_sqlite,
        postgres=_baseline_postgres,
    ),
)
"""The desk's schema, oldest step first. Append; never edit or renumber an applied step."""


def latest_version() -> int:
    return MIGRATIONS[-1].version


def describe_pending(pending: Sequence[Migration]) -> str:
    return ", ".join(f"{m.version} ({m.name})" for m in pending)


# --------------------------------------------------------------------------- SQLite


def pending_sqlite(conn: sqlite3.Connection) -> list[Migration]:
    """The steps this database lacks (all of them when it has no `hitl_migrations`)."""
    if not _sqlite_table_exists(conn, "hitl_migrations"):
        return list(MIGRATIONS)
    applied = {int(row[0]) for row in conn.execute("SELECT version FROM hitl_migrations")}
    return [m for m in MIGRATIONS if m.version not in applied]


def migrate_sqlite(conn: sqlite3.Connection) -> list[int]:
    """Apply the steps the database lacks, each in one `BEGIN IMMEDIATE` transaction; returns
    the versions this call applied. The caller holds the connection's lock."""
    done = []
    for migration in pending_sqlite(conn):
        if conn.in_transaction:
            conn.commit()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(MIGRATIONS_TABLE)
            # Read again under the write lock: another desk may have applied it meanwhile.
            if conn.execute("SELECT 1 FROM hitl_migrations WHERE version = ?", (migration.version,)).fetchone() is None:
                migration.sqlite(conn)
                conn.execute(
                    "INSERT INTO hitl_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )
                done.append(migration.version)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    return done


# --------------------------------------------------------------------------- PostgreSQL


def pending_postgres(conn: Any) -> list[Migration]:
    if conn.execute("SELECT to_regclass('hitl_migrations') IS NULL").fetchone()[0]:
        return list(MIGRATIONS)
    applied = {int(row[0]) for row in conn.execute("SELECT version FROM hitl_migrations").fetchall()}
    return [m for m in MIGRATIONS if m.version not in applied]


def migrate_postgres(conn: Any, schema: str) -> list[int]:
    """Apply the steps the database lacks, each in one transaction; returns the versions applied.

    The caller holds the setup advisory lock, so no other desk migrates meanwhile. A database
    already at the latest version gets no DDL at all (a role without CREATE may open it).
    """
    pending = pending_postgres(conn)
    if not pending:
        return []
    quoted = quote_ident(schema)
    with conn.transaction():
        conn.execute(MIGRATIONS_TABLE.replace("INTEGER", "BIGINT", 1))
    done = []
    for migration in pending:
        with conn.transaction():
            migration.postgres(conn, quoted)
            conn.execute(
                "INSERT INTO hitl_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                (migration.version, migration.name, time.time()),
            )
        done.append(migration.version)
    return done


def refuse_read_only(pending: Sequence[Migration], where: str) -> StoreError:
    """The error for a database that needs steps this desk may not apply."""
    return StoreError(
        f"The database {where} needs schema migration {describe_pending(pending)} before this desk can "
        "read it, and it is read-only for this user, so the desk cannot apply it. Nothing was changed. "
        "Open it once with a desk that may write it (the desk migrates at open), then open it read-only again."
    )
