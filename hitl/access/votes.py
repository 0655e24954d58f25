"""Quorum votes recorded on an interrupt (`hitl_votes`), and the access tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from hitl.errors import StoreError
from hitl.store import Store


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


def ensure_tables(store: Store) -> None:
    """Create `hitl_votes`, `hitl_access_facts` and `hitl_requesters` once per store (portable SQL)."""
    if getattr(store, "_hitl_access_tables", False):
        return
    with store.connection(write=True) as conn:
        for statement in ACCESS_TABLES:
            conn.execute(statement)
    store._hitl_access_tables = True  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True)
class Vote:
    """One recorded vote on an interrupt under a quorum."""

    thread_id: str
    interrupt_id: str
    voter: str
    vote: Literal["approve", "reject"]
    comment: str
    voted_at: float
    answer: Any = None
    agreement: str | None = None
    """For approvals of tool calls: the approved calls as canonical JSON (they must agree)."""


def votes(store: Store, thread_id: str, interrupt_id: str | None = None) -> list[Vote]:
    """Votes on a thread (or one interrupt), oldest first; [] on a store that cannot have them."""
    try:
        ensure_tables(store)
    except StoreError:
        return []
    sql = (
        "SELECT thread_id, interrupt_id, voter, vote, comment, voted_at, answer, agreement "
        "FROM hitl_votes WHERE thread_id = ?"
    )
    params: list[Any] = [thread_id]
    if interrupt_id is not None:
        sql += " AND interrupt_id = ?"
        params.append(interrupt_id)
    rows = store.query(sql + " ORDER BY voted_at, voter", params)
    return [
        Vote(
            thread_id=r[0], interrupt_id=r[1], voter=r[2], vote=r[3], comment=r[4], voted_at=float(r[5]),
            answer=json.loads(r[6]) if r[6] else None, agreement=r[7],
        )  # fmt: skip
        for r in rows
    ]
