"""The QA tables' schema: numbered migrations, applied once per database by version."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref

from hitl.storage.postgres import translate_ddl
from hitl.storage.sql import SqlStore


MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
CREATE TABLE IF NOT EXISTS hitl_qa_queues (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    source TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    synced_at REAL
);
CREATE TABLE IF NOT EXISTS hitl_qa_items (
    queue TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    graph_id TEXT,
    checkpoint_id TEXT NOT NULL,
    status TEXT NOT NULL,
    finished_at REAL NOT NULL,
    is_fork INTEGER NOT NULL DEFAULT 0,
    added_by TEXT NOT NULL DEFAULT 'sample',
    added_at REAL NOT NULL,
    PRIMARY KEY (queue, thread_id)
);
CREATE TABLE IF NOT EXISTS hitl_qa_reservations (
    queue TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    reserved_at REAL NOT NULL,
    reserved_until REAL NOT NULL,
    PRIMARY KEY (queue, thread_id, reviewer)
);
CREATE TABLE IF NOT EXISTS hitl_qa_submissions (
    queue TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    scores TEXT NOT NULL,
    correction TEXT,
    comment TEXT NOT NULL DEFAULT '',
    submitted_at REAL NOT NULL,
    PRIMARY KEY (queue, thread_id, reviewer)
);
CREATE TABLE IF NOT EXISTS hitl_qa_skips (
    queue TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    skipped_at REAL NOT NULL,
    PRIMARY KEY (queue, thread_id, reviewer)
);
CREATE TABLE IF NOT EXISTS hitl_qa_adjudications (
    queue TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    adjudicator TEXT NOT NULL,
    scores TEXT NOT NULL,
    correction TEXT,
    comment TEXT NOT NULL DEFAULT '',
    decided_at REAL NOT NULL,
    PRIMARY KEY (queue, thread_id)
);
CREATE TABLE IF NOT EXISTS hitl_qa_forks (
    fork_thread_id TEXT PRIMARY KEY,
    source_thread_id TEXT NOT NULL,
    source_checkpoint_id TEXT NOT NULL,
    interrupt_id TEXT,
    graph_id TEXT,
    mode TEXT NOT NULL,
    answer TEXT,
    original_answer TEXT,
    state_update TEXT,
    as_node TEXT,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    notify INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS hitl_qa_forks_source ON hitl_qa_forks (source_thread_id, created_at);
CREATE INDEX IF NOT EXISTS hitl_qa_submissions_reviewer ON hitl_qa_submissions (queue, reviewer);
""",
    ),
)
"""(version, SQLite DDL): append a new entry to change the schema; never edit an applied one."""


SCHEMA_VERSION = MIGRATIONS[-1][0]


_SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS hitl_qa_schema (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
INSERT INTO hitl_qa_schema (id, version, updated_at) VALUES (1, 0, 0) ON CONFLICT DO NOTHING;
"""


_ready: weakref.WeakSet[SqlStore] = weakref.WeakSet()


_ready_lock = threading.Lock()


class QaSchema:
    """The QA tables of one desk database: created or upgraded once per store."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def _statements(self, script: str) -> list[str]:
        if self.store.dialect.name == "postgres":
            return translate_ddl(script)

        statements, buffer = [], ""
        for line in script.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                statements.append(buffer.strip().rstrip(";"))
                buffer = ""
        return [s for s in statements if s.strip()]

    def ensure_schema(self) -> int:
        """Create or upgrade the QA tables (once per store); returns the schema version.

        A read-only database is left as it is: reads work when an earlier desk created the
        tables, writes fail with `StoreError` saying why.
        """
        with _ready_lock:
            if self.store in _ready:
                return SCHEMA_VERSION
            if self.store.read_only:
                return SCHEMA_VERSION
            sql = self.store.dialect.sql
            with self.store.connection(write=True) as conn:
                for statement in self._statements(_SCHEMA_TABLE):
                    conn.execute(sql(statement))
                version = int(conn.execute(sql("SELECT version FROM hitl_qa_schema WHERE id = 1")).fetchone()[0])
                for number, script in MIGRATIONS:
                    if number <= version:
                        continue
                    for statement in self._statements(script):
                        conn.execute(sql(statement))
                    version = number
                conn.execute(sql("UPDATE hitl_qa_schema SET version = ?, updated_at = ? WHERE id = 1"), (version, time.time()))
            _ready.add(self.store)
            return version

    def schema_version(self) -> int:
        rows = self.store.query("SELECT version FROM hitl_qa_schema WHERE id = 1")
        return int(rows[0][0]) if rows else 0
