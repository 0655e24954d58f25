"""The desk's own `hitl_` tables, indexes and triggers, as SQLite DDL (PostgreSQL's is translated from it)."""

from __future__ import annotations

import sqlite3

__all__ = [
    "DESK_TABLES_SQLITE",
    "DIRTY_TRIGGERS_SQLITE",
    "COUNT_TRIGGERS_SQLITE",
    "COUNTS_FROM_THREADS",
    "BACKFILL_FROM_CHECKPOINTS",
    "SEARCH_SQLITE",
    "AUDIT_COLUMNS",
    "split_statements",
]

DESK_TABLES_SQLITE = """
CREATE TABLE IF NOT EXISTS hitl_dirty (
    thread_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS hitl_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO hitl_clock (id, n) VALUES (1, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS hitl_threads (
    thread_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    checkpoint_id TEXT NOT NULL,
    graph_id TEXT,
    graph_note TEXT,
    kinds TEXT NOT NULL DEFAULT ',',
    summary TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT '',
    n_interrupts INTEGER NOT NULL DEFAULT 0,
    interrupt_ids TEXT NOT NULL DEFAULT '',
    nodes TEXT NOT NULL DEFAULT '',
    waiting_since REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS hitl_dirty_version ON hitl_dirty (version);
CREATE TABLE IF NOT EXISTS hitl_backfill (
    thread_id TEXT PRIMARY KEY,
    latest TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hitl_backfill_latest ON hitl_backfill (latest, thread_id);
CREATE TABLE IF NOT EXISTS hitl_indexer (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0
);
INSERT INTO hitl_indexer (id, total, done) VALUES (1, 0, 0) ON CONFLICT DO NOTHING;
CREATE INDEX IF NOT EXISTS hitl_threads_status_wait ON hitl_threads (status, waiting_since, thread_id);
CREATE INDEX IF NOT EXISTS hitl_threads_status_graph ON hitl_threads (status, graph_id, waiting_since, thread_id);
CREATE TABLE IF NOT EXISTS hitl_counts (
    status TEXT NOT NULL,
    graph_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (status, graph_id)
);
CREATE TABLE IF NOT EXISTS hitl_claims (
    thread_id TEXT NOT NULL,
    interrupt_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    answer TEXT,
    state TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    lease_until REAL NOT NULL,
    finished_at REAL,
    runs_graph INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (thread_id, interrupt_id)
);
CREATE TABLE IF NOT EXISTS hitl_audit (
    seq INTEGER PRIMARY KEY,
    thread_id TEXT NOT NULL,
    interrupt_id TEXT NOT NULL,
    graph_id TEXT,
    kind TEXT,
    action TEXT NOT NULL,
    payload TEXT,
    answer TEXT,
    reviewer TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    decided_at REAL NOT NULL,
    waited_seconds REAL,
    outcome TEXT NOT NULL,
    error TEXT,
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hitl_audit_thread ON hitl_audit (thread_id, seq);
"""

DIRTY_TRIGGERS_SQLITE = """
DROP TRIGGER IF EXISTS hitl_dirty_on_checkpoint;
DROP TRIGGER IF EXISTS hitl_dirty_on_write;
DROP TRIGGER IF EXISTS hitl_dirty_on_checkpoint_delete;
""" + "".join(
    f"""
DROP TRIGGER IF EXISTS hitl_dirty_on_{table}_{event.lower()};
CREATE TRIGGER hitl_dirty_on_{table}_{event.lower()} AFTER {event} ON {table} BEGIN
    UPDATE hitl_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO hitl_dirty (thread_id, version) VALUES ({row}.thread_id, (SELECT n FROM hitl_clock WHERE id = 1))
    ON CONFLICT (thread_id) DO UPDATE SET version = excluded.version;
END;"""
    for table in ("checkpoints", "writes")
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
)
"""Every change to the saver's tables marks its thread dirty with a fresh clock value, in the
agent's own transaction. Versions are never reused (a per-row counter restarting at 1 after
the mark is cleared would let a slow refresh mistake a new mark for the one it read)."""

COUNT_TRIGGERS_SQLITE = """
CREATE TRIGGER IF NOT EXISTS hitl_counts_on_insert AFTER INSERT ON hitl_threads BEGIN
    INSERT INTO hitl_counts (status, graph_id, n) VALUES (NEW.status, COALESCE(NEW.graph_id, ''), 1)
    ON CONFLICT (status, graph_id) DO UPDATE SET n = hitl_counts.n + 1;
END;
CREATE TRIGGER IF NOT EXISTS hitl_counts_on_delete AFTER DELETE ON hitl_threads BEGIN
    UPDATE hitl_counts SET n = n - 1 WHERE status = OLD.status AND graph_id = COALESCE(OLD.graph_id, '');
END;
CREATE TRIGGER IF NOT EXISTS hitl_counts_on_update AFTER UPDATE OF status, graph_id ON hitl_threads
WHEN OLD.status IS NOT NEW.status OR OLD.graph_id IS NOT NEW.graph_id BEGIN
    UPDATE hitl_counts SET n = n - 1 WHERE status = OLD.status AND graph_id = COALESCE(OLD.graph_id, '');
    INSERT INTO hitl_counts (status, graph_id, n) VALUES (NEW.status, COALESCE(NEW.graph_id, ''), 1)
    ON CONFLICT (status, graph_id) DO UPDATE SET n = hitl_counts.n + 1;
END;
"""
"""`hitl_counts` holds COUNT(*) of `hitl_threads` per (status, graph_id), kept in the writing
transaction, so the queue's total is a lookup, not a count over 100,000 index entries."""

COUNTS_FROM_THREADS = (
    "INSERT INTO hitl_counts (status, graph_id, n) "
    "SELECT status, COALESCE(graph_id, ''), COUNT(*) FROM hitl_threads GROUP BY status, COALESCE(graph_id, '')"
)
"""Fills a freshly created `hitl_counts` from rows indexed before it existed."""

BACKFILL_FROM_CHECKPOINTS = (
    "INSERT INTO hitl_dirty (thread_id, version) SELECT DISTINCT thread_id, 0 FROM checkpoints WHERE true "
    "ON CONFLICT DO NOTHING",
    "INSERT INTO hitl_backfill (thread_id, latest) SELECT thread_id, MAX(checkpoint_id) FROM checkpoints "
    "GROUP BY thread_id ON CONFLICT DO NOTHING",
    "UPDATE hitl_indexer SET total = (SELECT COUNT(*) FROM hitl_backfill), done = 0 WHERE id = 1",
)
"""The first index of a database the desk has never seen: every thread gets a dirty mark of
version 0 (as before) and a place in `hitl_backfill`, the queue the first index works through,
newest latest checkpoint first. `hitl_indexer` holds its progress and the lease that lets one
desk process at a time work the queue (see `Store.backfill`)."""

SEARCH_SQLITE = """
CREATE TABLE IF NOT EXISTS hitl_search_docs (
    id INTEGER PRIMARY KEY,
    thread_id TEXT NOT NULL UNIQUE,
    search_text TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS hitl_search USING fts5(
    search_text, content='hitl_search_docs', content_rowid='id', tokenize='trigram'
);
INSERT INTO hitl_search (hitl_search, rank) VALUES ('automerge', 8);
CREATE TRIGGER IF NOT EXISTS hitl_search_docs_insert AFTER INSERT ON hitl_search_docs BEGIN
    INSERT INTO hitl_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;
CREATE TRIGGER IF NOT EXISTS hitl_search_docs_delete AFTER DELETE ON hitl_search_docs BEGIN
    INSERT INTO hitl_search (hitl_search, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text);
END;
CREATE TRIGGER IF NOT EXISTS hitl_search_docs_update AFTER UPDATE ON hitl_search_docs BEGIN
    INSERT INTO hitl_search (hitl_search, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text);
    INSERT INTO hitl_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;
CREATE TRIGGER IF NOT EXISTS hitl_threads_search_insert AFTER INSERT ON hitl_threads BEGIN
    INSERT INTO hitl_search_docs (thread_id, search_text) VALUES (NEW.thread_id, NEW.search_text)
    ON CONFLICT (thread_id) DO UPDATE SET search_text = excluded.search_text;
END;
CREATE TRIGGER IF NOT EXISTS hitl_threads_search_update AFTER UPDATE OF search_text ON hitl_threads
WHEN OLD.search_text IS NOT NEW.search_text BEGIN
    INSERT INTO hitl_search_docs (thread_id, search_text) VALUES (NEW.thread_id, NEW.search_text)
    ON CONFLICT (thread_id) DO UPDATE SET search_text = excluded.search_text;
END;
CREATE TRIGGER IF NOT EXISTS hitl_threads_search_delete AFTER DELETE ON hitl_threads BEGIN
    DELETE FROM hitl_search_docs WHERE thread_id = OLD.thread_id;
END;
"""
"""Substring search over `hitl_threads.search_text` through an FTS5 trigram index (a scan of
100,000 rows takes hundreds of ms). Triggers keep it in step with `hitl_threads`, whoever
writes it; merging segments less eagerly (automerge 8, default 4) halves the mean cost of the
re-index that follows each resume. The index's rows live in `hitl_search_docs`, whose INTEGER PRIMARY KEY survives
VACUUM (an external-content index on `hitl_threads`' implicit rowid would not)."""

AUDIT_COLUMNS = (
    "seq", "thread_id", "interrupt_id", "graph_id", "kind", "action", "payload", "answer",
    "reviewer", "comment", "decided_at", "waited_seconds", "outcome", "error",
    "prev_hash", "row_hash",
)  # fmt: skip


def split_statements(script: str) -> list[str]:
    """The statements of an SQL script, in order, without their `;` (a trigger's body stays whole)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip().rstrip(";").strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip().rstrip(";").strip())
    return [statement for statement in statements if statement]
