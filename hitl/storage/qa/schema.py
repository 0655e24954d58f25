"""The QA tables' schema version.

The `hitl_qa_*` tables are created with the desk's own, by the numbered steps of
`hitl.storage.migrations` (their DDL is in `hitl.storage.schema_records`), when the store opens.
"""

from __future__ import annotations

from hitl.storage.sql import SqlStore

SCHEMA_VERSION = 1
"""QA's schema version in `hitl_qa_schema`, kept for desks of older releases: the tables
themselves are created by the desk's migrations (`hitl.storage.migrations`, step 1)."""


class QaSchema:
    """The QA tables of one desk database: they exist once the store is open."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def ensure_schema(self) -> int:
        """The QA schema version: the tables exist once the store is open (its migrations made them)."""
        return self.schema_version()

    def schema_version(self) -> int:
        rows = self.store.query("SELECT version FROM hitl_qa_schema WHERE id = 1")
        return int(rows[0][0]) if rows else 0
