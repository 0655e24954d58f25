"""The SQL of access: quorum votes, pinned requesters, the access facts behind "my queue".

Every function takes the open store and owns its SQL; `hitl.access` and `hitl.services.access`
hold the rules and use cases that call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hitl.errors import StoreError
from hitl.storage.sql import SqlStore, in_clause, marks

__all__ = [
    "ensure_access_tables",
    "vote_rows",
    "insert_vote",
    "requester_rows",
    "pin_requesters",
    "audit_context_row",
    "stale_fact_threads",
    "replace_facts",
    "drop_facts_not_waiting",
    "like_escape",
    "selector_sql",
    "Selection",
    "decidable_predicate",
    "count_threads",
    "thread_page_rows",
]

def ensure_access_tables(store: SqlStore) -> None:
    """`hitl_votes`, `hitl_access_facts` and `hitl_requesters` exist once the store is open
    (`hitl.storage.migrations` creates them); kept for callers that still ask."""


def vote_rows(store: SqlStore, thread_id: str, interrupt_id: str | None = None) -> list[tuple]:
    """(thread, interrupt, voter, vote, comment, voted_at, answer JSON, agreement) of a thread's
    votes (or one interrupt's), oldest first."""
    sql = (
        "SELECT thread_id, interrupt_id, voter, vote, comment, voted_at, answer, agreement "
        "FROM hitl_votes WHERE thread_id = ?"
    )
    params: list[Any] = [thread_id]
    if interrupt_id is not None:
        sql += " AND interrupt_id = ?"
        params.append(interrupt_id)
    return store.query(sql + " ORDER BY voted_at, voter", params)


def insert_vote(
    store: SqlStore, *, thread_id: str, interrupt_id: str, voter: str, vote: str, answer_json: str,
    agreement: str | None, comment: str, voted_at: float,
) -> bool:  # fmt: skip
    """Record one vote; False when this voter already voted on the interrupt."""
    return bool(
        store.execute_write(
            "INSERT INTO hitl_votes (thread_id, interrupt_id, voter, vote, answer, agreement, comment, voted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, interrupt_id, voter) DO NOTHING",
            (thread_id, interrupt_id, voter, vote, answer_json, agreement, comment, voted_at),
        )
    )


def requester_rows(store: SqlStore, thread_ids: Sequence[str], *, pinned: bool, with_latest: bool) -> list[tuple]:
    """(thread, pinned requester, first checkpoint id and metadata, latest id and metadata) in
    one query; checkpoint metadata is read only for threads without a pinned requester."""
    skip = "r.thread_id IS NULL AND " if pinned else ""
    latest_cols = "b.last_id, l.metadata" if with_latest else "b.last_id, NULL"
    latest_join = (
        f"LEFT JOIN checkpoints l ON {skip}l.thread_id = b.thread_id AND l.checkpoint_ns = '' "
        "AND l.checkpoint_id = b.last_id AND b.last_id <> b.first_id"
        if with_latest
        else ""
    )
    sql = f"""
        SELECT b.thread_id, {"r.requested_by" if pinned else "NULL"}, b.first_id, f.metadata, {latest_cols}
        FROM (
            SELECT thread_id, MIN(checkpoint_id) AS first_id, MAX(checkpoint_id) AS last_id FROM checkpoints
            WHERE checkpoint_ns = '' AND thread_id IN ({marks(thread_ids)}) GROUP BY thread_id
        ) b
        {"LEFT JOIN hitl_requesters r ON r.thread_id = b.thread_id" if pinned else ""}
        LEFT JOIN checkpoints f ON {skip}f.thread_id = b.thread_id AND f.checkpoint_ns = '' AND f.checkpoint_id = b.first_id
        {latest_join}
    """
    return store.query(sql, list(thread_ids))


def pin_requesters(store: SqlStore, rows: list[tuple[str, str, str, float]]) -> dict[str, str] | None:
    """Pin requesters (first writer wins); returns what is pinned for those threads now, or
    None when the database refused the write (e.g. locked)."""
    try:
        with store.connection(write=True) as conn:
            conn.executemany(
                store.dialect.sql(
                    "INSERT INTO hitl_requesters (thread_id, requested_by, checkpoint_id, pinned_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (thread_id) DO NOTHING"
                ),
                rows,
            )
        ids = [row[0] for row in rows]
        found = store.query(f"SELECT thread_id, requested_by FROM hitl_requesters WHERE thread_id IN ({marks(ids)})", ids)
    except StoreError:
        return None
    return {thread_id: requester for thread_id, requester in found}


def audit_context_row(store: SqlStore, thread_id: str, interrupt_id: str) -> tuple[Any, Any, Any] | None:
    """(graph_id, kind, payload JSON) of the interrupt's latest audit row that says what it was about."""
    rows = store.query(
        "SELECT graph_id, kind, payload FROM hitl_audit WHERE thread_id = ? AND interrupt_id = ? "
        "AND kind IS NOT NULL AND payload IS NOT NULL AND payload <> 'null' ORDER BY seq DESC LIMIT 1",
        (thread_id, interrupt_id),
    )
    return tuple(rows[0]) if rows else None  # type: ignore[return-value]


# The leading version makes facts written by an older desk stale once, so they are rebuilt
# with what this one keeps (normalised tool names, pinned requesters).
_FACTS_KEY = "'f3|' || t.checkpoint_id || '|' || t.interrupt_ids"


def stale_fact_threads(store: SqlStore) -> list[tuple]:
    """(thread, facts source key, graph_id) of waiting threads whose facts are missing or stale."""
    return store.query(
        f"SELECT t.thread_id, {_FACTS_KEY}, t.graph_id FROM hitl_threads t WHERE t.status = 'waiting' "
        "AND NOT EXISTS (SELECT 1 FROM hitl_access_facts f WHERE f.thread_id = t.thread_id "
        f"AND f.source_key = {_FACTS_KEY})"
    )


def replace_facts(store: SqlStore, thread_ids: Sequence[str], rows: Sequence[tuple]) -> None:
    """Replace these threads' facts with `rows` (thread, interrupt, source key, kind, tools,
    level, requester), in one write transaction."""
    with store.connection(write=True) as conn:
        for thread_id in thread_ids:
            conn.execute(store.dialect.sql("DELETE FROM hitl_access_facts WHERE thread_id = ?"), (thread_id,))
        for row in rows:
            conn.execute(
                store.dialect.sql(
                    "INSERT INTO hitl_access_facts (thread_id, interrupt_id, source_key, kind, tools, level, "
                    "requested_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, interrupt_id) DO UPDATE SET "
                    "source_key = excluded.source_key, kind = excluded.kind, tools = excluded.tools, "
                    "level = excluded.level, requested_by = excluded.requested_by"
                ),
                row,
            )


def drop_facts_not_waiting(store: SqlStore) -> None:
    """Drop the facts of threads that are no longer waiting."""
    store.execute_write(
        "DELETE FROM hitl_access_facts WHERE thread_id NOT IN "
        "(SELECT thread_id FROM hitl_threads WHERE status = 'waiting')"
    )


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (with `ESCAPE '\\'`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def selector_sql(graphs: Sequence[str], kinds: Sequence[str], tool_keys: Sequence[str], params: list[Any]) -> str:
    """A predicate over `t` (hitl_threads) and `f` (hitl_access_facts): the interrupt is in one
    of `graphs`, of one of `kinds`, and proposes one of `tool_keys` (each empty: any)."""
    parts = []
    if graphs:
        parts.append(in_clause("t.graph_id", graphs, params))
    if kinds:
        parts.append(in_clause("f.kind", kinds, params))
    if tool_keys:
        likes = []
        for key in tool_keys:
            likes.append("f.tools LIKE ? ESCAPE '\\'")
            params.append(f"%,{like_escape(key)},%")
        parts.append("(" + " OR ".join(likes) + ")")
    return "(" + " AND ".join(parts) + ")" if parts else "(1 = 1)"


Selection = tuple[Sequence[str], Sequence[str], Sequence[str]]
"""(graphs, kinds, tool match keys) of one `[access]` rule's selector; each empty: any."""


def decidable_predicate(
    params: list[Any],
    *,
    refused: Sequence[Selection],
    levels: Sequence[str] | None,
    covered: Sequence[Selection] | None,
    levels_cover: bool,
    requester_key: str | None,
    voter: str,
) -> str:
    """A predicate over `f` and `t`: no `refused` selection matches, the approval level is one
    of `levels` (None: levels are not checked), with `covered` (default deny) a covered
    selection matches or (`levels_cover`) the interrupt has a level, the requester is not
    `requester_key` (None: four eyes off) and `voter` has not voted on the interrupt."""
    clauses = ["NOT " + selector_sql(*selection, params) for selection in refused]
    if levels is not None:
        clauses.append("(f.level IS NULL OR " + in_clause("f.level", levels, params) + ")" if levels else "f.level IS NULL")
    if covered is not None:
        options = [selector_sql(*selection, params) for selection in covered] + (["f.level IS NOT NULL"] if levels_cover else [])
        clauses.append("(" + " OR ".join(options or ["1 = 0"]) + ")")
    if requester_key is not None:
        # Own requests are not in the queue: there is nothing to approve there (a requester
        # may still open and reject them by link).
        clauses.append("(f.requested_by IS NULL OR f.requested_by <> ?)")
        params.append(requester_key)
    clauses.append(
        "NOT EXISTS (SELECT 1 FROM hitl_votes v WHERE v.thread_id = f.thread_id "
        "AND v.interrupt_id = f.interrupt_id AND v.voter = ?)"
    )
    params.append(voter)
    return " AND ".join(clauses)


def count_threads(store: SqlStore, where: Sequence[str], params: Sequence[Any], *, decidable: str | None = None) -> int:
    """How many threads `t` match `where`, and with `decidable`, have an interrupt `f` it holds for."""
    return int(store.query("SELECT COUNT(*) " + _queue_from(where, decidable), list(params))[0][0])


def thread_page_rows(
    store: SqlStore, where: Sequence[str], params: Sequence[Any], *, decidable: str, after: tuple[float, str] | None,
    newest_first: bool, limit: int,
) -> list[tuple]:  # fmt: skip
    """(thread, waiting_since) of up to `limit` such threads after the cursor `after`, in waiting order."""
    page_sql, page_params = _queue_from(where, decidable), list(params)
    op, order = ("<", "DESC") if newest_first else (">", "ASC")
    if after is not None:
        since, thread_id = after
        page_sql += f" AND (t.waiting_since {op} ? OR (t.waiting_since = ? AND t.thread_id {op} ?))"
        page_params.extend([since, since, thread_id])
    return store.query(
        f"SELECT t.thread_id, t.waiting_since {page_sql} ORDER BY t.waiting_since {order}, t.thread_id {order} LIMIT ?",
        [*page_params, limit],
    )


def _queue_from(where: Sequence[str], decidable: str | None) -> str:
    mine = f" AND EXISTS (SELECT 1 FROM hitl_access_facts f WHERE f.thread_id = t.thread_id AND {decidable})" if decidable else ""
    return "FROM hitl_threads t WHERE " + " AND ".join(where) + mine
