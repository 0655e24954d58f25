"""Quorum votes recorded on an interrupt (`hitl_votes`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from hitl.errors import StoreError
from hitl.storage.access_sql import ensure_access_tables, vote_rows
from hitl.store import Store


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
        ensure_access_tables(store)
    except StoreError:
        return []
    rows = vote_rows(store, thread_id, interrupt_id)
    return [
        Vote(
            thread_id=r[0], interrupt_id=r[1], voter=r[2], vote=r[3], comment=r[4], voted_at=float(r[5]),
            answer=json.loads(r[6]) if r[6] else None, agreement=r[7],
        )  # fmt: skip
        for r in rows
    ]
