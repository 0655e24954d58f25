"""DDL of the desk's records beside the index: votes, access facts, deadlines, the outbox, the
LangGraph-server mirror, the audit head and QA's tables.

Moved here verbatim from the modules that used to create them lazily (`hitl.access`,
`hitl.policy`, `hitl.notify`, `hitl.backends.server`, `hitl.store`, `hitl.storage.qa`), so
that `hitl.storage.migrations` creates the whole schema in one place. The `*_TABLES` tuples
are portable SQL, run as they are on both backends (as they always were: PostgreSQL types
such as DOUBLE PRECISION, which SQLite reads as REAL); the `*_SQLITE` scripts are SQLite
DDL that PostgreSQL gets through `translate_ddl`, like `hitl.storage.schema`'s.
Never edit a statement a released desk has applied: add a migration instead.
"""

from __future__ import annotations

__all__ = [
    "ACCESS_TABLES",
    "POLICY_TABLES",
    "NOTIFY_TABLES",
    "SERVER_TABLES",
    "AUDIT_HEAD_TABLE",
    "QA_TABLES_SQLITE",
    "QA_SCHEMA_TABLE_SQLITE",
    "PORTABLE_TABLES",
]

ACCESS_TABLES = (
    """CREATE TABLE IF NOT EXISTS hitl_votes (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        voter TEXT NOT NULL,
        vote TEXT NOT NULL,
        answer TEXT,
        agreement TEXT,
        comment TEXT NOT NULL DEFAULT '',
        voted_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (thread_id, interrupt_id, voter)
    )""",
    """CREATE TABLE IF NOT EXISTS hitl_access_facts (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        source_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        tools TEXT NOT NULL DEFAULT ',',
        level TEXT,
        requested_by TEXT,
        PRIMARY KEY (thread_id, interrupt_id)
    )""",
    "CREATE INDEX IF NOT EXISTS hitl_access_facts_source ON hitl_access_facts (thread_id, source_key)",
    """CREATE TABLE IF NOT EXISTS hitl_requesters (
        thread_id TEXT PRIMARY KEY,
        requested_by TEXT NOT NULL,
        checkpoint_id TEXT NOT NULL,
        pinned_at DOUBLE PRECISION NOT NULL
    )""",
)
"""Quorum votes, the per-interrupt facts access rules filter on, and pinned requesters (`hitl.access`)."""

POLICY_TABLES = (
    """CREATE TABLE IF NOT EXISTS hitl_escalations (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        level TEXT NOT NULL,
        from_level TEXT,
        escalated_at DOUBLE PRECISION NOT NULL,
        reviewer TEXT NOT NULL,
        PRIMARY KEY (thread_id, interrupt_id, level)
    )""",
    """CREATE TABLE IF NOT EXISTS hitl_extensions (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        level TEXT NOT NULL DEFAULT '',
        extra_seconds DOUBLE PRECISION NOT NULL,
        reviewer TEXT NOT NULL,
        reason TEXT NOT NULL,
        extended_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (thread_id, interrupt_id)
    )""",
)
"""Escalations and deadline extensions (`hitl.policy`)."""

NOTIFY_TABLES = (
    # DOUBLE PRECISION, not REAL: PostgreSQL's REAL is 4 bytes, which rounds epoch seconds to
    # minutes; SQLite reads DOUBLE PRECISION as REAL.
    """
    CREATE TABLE IF NOT EXISTS hitl_outbox (
        id TEXT PRIMARY KEY,
        event_key TEXT NOT NULL,
        event_type TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        interrupt_id TEXT,
        body TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        retry_from INTEGER NOT NULL DEFAULT 0,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        lease_until DOUBLE PRECISION,
        claimed_by TEXT,
        last_status INTEGER,
        last_error TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        delivered_at DOUBLE PRECISION,
        UNIQUE (event_key, endpoint)
    )
    """,
    "CREATE INDEX IF NOT EXISTS hitl_outbox_due ON hitl_outbox (state, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS hitl_outbox_thread ON hitl_outbox (thread_id, event_type)",
    """
    CREATE TABLE IF NOT EXISTS hitl_deliveries (
        id TEXT PRIMARY KEY,
        outbox_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        worker TEXT NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        duration_ms DOUBLE PRECISION,
        status_code INTEGER,
        outcome TEXT NOT NULL,
        error TEXT,
        response_excerpt TEXT
    )
    """,
    "CREATE INDEX IF NOT EXISTS hitl_deliveries_outbox ON hitl_deliveries (outbox_id, started_at)",
)
"""The webhook outbox and its delivery attempts (`hitl.notify`)."""

SERVER_TABLES = (
    """CREATE TABLE IF NOT EXISTS hitl_server_interrupts (
        thread_id TEXT PRIMARY KEY,
        updated_at DOUBLE PRECISION NOT NULL,
        metadata TEXT NOT NULL,
        interrupts TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS hitl_server_sync (
        id INTEGER PRIMARY KEY,
        watermark DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS hitl_server_runs (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        status TEXT,
        PRIMARY KEY (run_id, interrupt_id)
    )""",
)
"""The local mirror of a LangGraph server's interrupted threads and the runs the desk started (`hitl.backends.server`)."""

AUDIT_HEAD_TABLE = (
    "CREATE TABLE IF NOT EXISTS hitl_audit_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, "
    "row_hash TEXT NOT NULL, mac TEXT, updated_at DOUBLE PRECISION NOT NULL)"
)
"""The sealed tip of the audit chain (`Store.append_audit` writes it with each append)."""

PORTABLE_TABLES = (*ACCESS_TABLES, AUDIT_HEAD_TABLE, *POLICY_TABLES, *NOTIFY_TABLES, *SERVER_TABLES)
"""Every portable statement, in the order a desk of main at 136d825 would first create them."""

QA_TABLES_SQLITE = """
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
"""
"""QA's tables (`hitl.storage.qa`), its migration 1 of the `hitl_qa_schema` days."""

QA_SCHEMA_TABLE_SQLITE = """
CREATE TABLE IF NOT EXISTS hitl_qa_schema (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
INSERT INTO hitl_qa_schema (id, version, updated_at) VALUES (1, 0, 0) ON CONFLICT DO NOTHING;
"""
"""QA's own schema version, kept at 1 so a desk of an older release beside this one does not
re-apply QA's first migration."""
