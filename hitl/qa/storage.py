"""All of QA's SQL: the `hitl_qa_*` tables beside the checkpointer's, on SQLite and PostgreSQL.

The tables are created with the desk's own, by the numbered steps of `hitl.storage.migrations`
(their DDL is in `hitl.storage.schema_records`), when the store opens.

| table | one row per |
|---|---|
| `hitl_qa_queues` | queue: its definition as JSON, where it came from (config or page) |
| `hitl_qa_items` | thread in a queue (sampled, or added by hand, e.g. a fork) |
| `hitl_qa_reservations` | item held by a reviewer until `reserved_until` (lapses by itself) |
| `hitl_qa_submissions` | reviewer's scores (JSON by rubric), correction and comment for an item |
| `hitl_qa_skips` | item a reviewer skipped (not offered to them again) |
| `hitl_qa_adjudications` | item's final scores and correction, set by an adjudicator (latest wins) |
| `hitl_qa_forks` | fork thread: where it branched off, what was answered instead, how it ended |

Every write here is one transaction (`Store.connection(write=True)`: SQLite `BEGIN IMMEDIATE`,
PostgreSQL the desk's advisory lock), so "pick an item and reserve it" is atomic across desks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hitl.errors import InvalidAnswer
from hitl.store import Store

__all__ = ["QaStorage", "SCHEMA_VERSION", "ItemRow", "SubmissionRow", "AdjudicationRow", "ForkRow"]

SCHEMA_VERSION = 1
"""QA's schema version in `hitl_qa_schema`, kept for desks of older releases: the tables
themselves are created by the desk's migrations (`hitl.storage.migrations`, step 1)."""


@dataclass(frozen=True, kw_only=True)
class ItemRow:
    """One thread in a queue, with its review counts."""

    queue: str
    thread_id: str
    graph_id: str | None
    checkpoint_id: str
    status: str
    finished_at: float
    is_fork: bool
    added_by: str
    added_at: float
    submissions: int = 0


@dataclass(frozen=True, kw_only=True)
class SubmissionRow:
    queue: str
    thread_id: str
    reviewer: str
    scores: dict[str, Any]
    correction: Any
    has_correction: bool
    comment: str
    submitted_at: float


@dataclass(frozen=True, kw_only=True)
class AdjudicationRow:
    queue: str
    thread_id: str
    adjudicator: str
    scores: dict[str, Any]
    correction: Any
    has_correction: bool
    comment: str
    decided_at: float


@dataclass(frozen=True, kw_only=True)
class ForkRow:
    fork_thread_id: str
    source_thread_id: str
    source_checkpoint_id: str
    interrupt_id: str | None
    graph_id: str | None
    mode: str
    answer: Any
    original_answer: Any
    state_update: Any
    as_node: str | None
    created_by: str
    created_at: float
    status: str
    error: str | None
    notify: bool


_FORK_COLUMNS = (
    "fork_thread_id", "source_thread_id", "source_checkpoint_id", "interrupt_id", "graph_id", "mode", "answer",
    "original_answer", "state_update", "as_node", "created_by", "created_at", "status", "error", "notify",
)  # fmt: skip
_ITEM_COLUMNS = ("queue", "thread_id", "graph_id", "checkpoint_id", "status", "finished_at", "is_fork", "added_by", "added_at")



def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _loads(text: Any) -> Any:
    if text is None:
        return None
    return json.loads(text)


class QaStorage:
    """The QA tables of one desk database (`Store`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ schema

    def ensure_schema(self) -> int:
        """The QA schema version: the tables exist once the store is open (its migrations made them)."""
        return self.schema_version()

    def schema_version(self) -> int:
        rows = self.store.query("SELECT version FROM hitl_qa_schema WHERE id = 1")
        return int(rows[0][0]) if rows else 0

    # ------------------------------------------------------------------ queues

    def save_queue(self, name: str, spec: dict[str, Any], *, source: str, created_by: str, now: float, replace: bool) -> bool:
        """Insert a queue (or, with `replace`, overwrite its definition). Returns False when it
        already existed and was kept."""
        sql = self.store.dialect.sql
        with self.store.connection(write=True) as conn:
            existing = conn.execute(sql("SELECT spec, source FROM hitl_qa_queues WHERE name = ?"), (name,)).fetchone()
            if existing is None:
                conn.execute(
                    sql("INSERT INTO hitl_qa_queues (name, spec, source, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"),
                    (name, _dumps(spec), source, created_by, now, now),
                )
                return True
            if not replace:
                return False
            if existing[0] != _dumps(spec) or existing[1] != source:
                conn.execute(
                    sql("UPDATE hitl_qa_queues SET spec = ?, source = ?, updated_at = ? WHERE name = ?"),
                    (_dumps(spec), source, now, name),
                )
            return True

    def queues(self) -> list[tuple[str, dict[str, Any], str, str, float, float | None]]:
        """(name, spec, source, created_by, created_at, synced_at) of every queue, by name."""
        rows = self.store.query(
            "SELECT name, spec, source, created_by, created_at, synced_at FROM hitl_qa_queues ORDER BY name"
        )
        return [(r[0], json.loads(r[1]), r[2], r[3], float(r[4]), None if r[5] is None else float(r[5])) for r in rows]

    def delete_queue(self, name: str) -> None:
        """Remove a queue with its items, reservations, submissions, skips and adjudications."""
        sql = self.store.dialect.sql
        with self.store.connection(write=True) as conn:
            for table in ("hitl_qa_items", "hitl_qa_reservations", "hitl_qa_submissions", "hitl_qa_skips", "hitl_qa_adjudications"):
                conn.execute(sql(f"DELETE FROM {table} WHERE queue = ?"), (name,))
            conn.execute(sql("DELETE FROM hitl_qa_queues WHERE name = ?"), (name,))

    def mark_synced(self, name: str, now: float) -> None:
        self.store.execute_write("UPDATE hitl_qa_queues SET synced_at = ? WHERE name = ?", (now, name))

    # ------------------------------------------------------------------ items

    def add_items(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert items; one already in its queue is left alone. Returns how many were new."""
        rows = list(rows)
        if not rows:
            return 0
        sql = self.store.dialect.sql(
            f"INSERT INTO hitl_qa_items ({', '.join(_ITEM_COLUMNS)}) VALUES ({', '.join('?' for _ in _ITEM_COLUMNS)}) "
            "ON CONFLICT DO NOTHING"
        )
        added = 0
        with self.store.connection(write=True) as conn:
            for row in rows:
                values = tuple(int(row[c]) if c == "is_fork" else row[c] for c in _ITEM_COLUMNS)
                added += max(0, conn.execute(sql, values).rowcount or 0)
        return added

    def item_ids(self, queue: str) -> set[str]:
        return {r[0] for r in self.store.query("SELECT thread_id FROM hitl_qa_items WHERE queue = ?", (queue,))}

    def items(self, queue: str, thread_ids: Sequence[str] | None = None) -> list[ItemRow]:
        """A queue's items, oldest finished first, with how many reviewers submitted each."""
        sql = (
            f"SELECT {', '.join('i.' + c for c in _ITEM_COLUMNS)}, "
            "(SELECT COUNT(*) FROM hitl_qa_submissions s WHERE s.queue = i.queue AND s.thread_id = i.thread_id) "
            "FROM hitl_qa_items i WHERE i.queue = ?"
        )
        params: list[Any] = [queue]
        if thread_ids is not None:
            if not thread_ids:
                return []
            sql += f" AND i.thread_id IN ({','.join('?' for _ in thread_ids)})"
            params.extend(thread_ids)
        rows = self.store.query(sql + " ORDER BY i.finished_at, i.thread_id", params)
        return [
            ItemRow(queue=r[0], thread_id=r[1], graph_id=r[2], checkpoint_id=r[3], status=r[4], finished_at=float(r[5]),
                    is_fork=bool(r[6]), added_by=r[7], added_at=float(r[8]), submissions=int(r[9]))  # fmt: skip
            for r in rows
        ]

    # ------------------------------------------------------------------ reservations

    def reserve_next(self, queue: str, reviewer: str, *, per_item: int, now: float, until: float) -> str | None:
        """In one transaction: the reviewer's live reservation in this queue, else the first item
        they have neither scored nor skipped whose submissions plus others' live reservations
        are under `per_item`; reserve it until `until`. None when nothing is left for them."""
        sql = self.store.dialect.sql
        with self.store.connection(write=True) as conn:
            held = conn.execute(
                sql(
                    "SELECT r.thread_id FROM hitl_qa_reservations r WHERE r.queue = ? AND r.reviewer = ? AND r.reserved_until > ? "
                    "AND NOT EXISTS (SELECT 1 FROM hitl_qa_submissions s WHERE s.queue = r.queue AND s.thread_id = r.thread_id "
                    "AND s.reviewer = r.reviewer) ORDER BY r.reserved_at LIMIT 1"
                ),
                (queue, reviewer, now),
            ).fetchone()
            if held is not None:
                thread_id = held[0]
            else:
                row = conn.execute(
                    sql(
                        "SELECT i.thread_id FROM hitl_qa_items i WHERE i.queue = ? "
                        "AND NOT EXISTS (SELECT 1 FROM hitl_qa_submissions s WHERE s.queue = i.queue AND s.thread_id = i.thread_id AND s.reviewer = ?) "
                        "AND NOT EXISTS (SELECT 1 FROM hitl_qa_skips k WHERE k.queue = i.queue AND k.thread_id = i.thread_id AND k.reviewer = ?) "
                        "AND (SELECT COUNT(*) FROM hitl_qa_submissions s WHERE s.queue = i.queue AND s.thread_id = i.thread_id) "
                        "  + (SELECT COUNT(*) FROM hitl_qa_reservations r WHERE r.queue = i.queue AND r.thread_id = i.thread_id "
                        "     AND r.reviewer <> ? AND r.reserved_until > ?) < ? "
                        "ORDER BY (SELECT COUNT(*) FROM hitl_qa_submissions s WHERE s.queue = i.queue AND s.thread_id = i.thread_id) DESC, "
                        "i.finished_at, i.thread_id LIMIT 1"
                    ),
                    (queue, reviewer, reviewer, reviewer, now, per_item),
                ).fetchone()
                if row is None:
                    return None
                thread_id = row[0]
            self._reserve(conn, queue, thread_id, reviewer, now, until)
            return thread_id

    def reserve(self, queue: str, thread_id: str, reviewer: str, *, now: float, until: float) -> None:
        """Hold one item for a reviewer (opening it directly); renews a live reservation."""
        with self.store.connection(write=True) as conn:
            self._reserve(conn, queue, thread_id, reviewer, now, until)

    def _reserve(self, conn: Any, queue: str, thread_id: str, reviewer: str, now: float, until: float) -> None:
        conn.execute(
            self.store.dialect.sql(
                "INSERT INTO hitl_qa_reservations (queue, thread_id, reviewer, reserved_at, reserved_until) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (queue, thread_id, reviewer) DO UPDATE SET reserved_until = excluded.reserved_until, "
                "reserved_at = CASE WHEN hitl_qa_reservations.reserved_until > excluded.reserved_at "
                "THEN hitl_qa_reservations.reserved_at ELSE excluded.reserved_at END"
            ),
            (queue, thread_id, reviewer, now, until),
        )

    def release(self, queue: str, thread_id: str, reviewer: str) -> None:
        self.store.execute_write(
            "DELETE FROM hitl_qa_reservations WHERE queue = ? AND thread_id = ? AND reviewer = ?", (queue, thread_id, reviewer)
        )

    def reservations(self, queue: str, *, now: float) -> list[tuple[str, str, float]]:
        """Live reservations: (thread_id, reviewer, reserved_until)."""
        rows = self.store.query(
            "SELECT thread_id, reviewer, reserved_until FROM hitl_qa_reservations WHERE queue = ? AND reserved_until > ? "
            "ORDER BY reserved_until",
            (queue, now),
        )
        return [(r[0], r[1], float(r[2])) for r in rows]

    def skip(self, queue: str, thread_id: str, reviewer: str, *, now: float) -> None:
        sql = self.store.dialect.sql
        with self.store.connection(write=True) as conn:
            conn.execute(
                sql("INSERT INTO hitl_qa_skips (queue, thread_id, reviewer, skipped_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"),
                (queue, thread_id, reviewer, now),
            )
            conn.execute(
                sql("DELETE FROM hitl_qa_reservations WHERE queue = ? AND thread_id = ? AND reviewer = ?"), (queue, thread_id, reviewer)
            )

    def unskip_all(self, queue: str, reviewer: str) -> int:
        return self.store.execute_write("DELETE FROM hitl_qa_skips WHERE queue = ? AND reviewer = ?", (queue, reviewer))

    def skipped(self, queue: str, reviewer: str) -> set[str]:
        rows = self.store.query("SELECT thread_id FROM hitl_qa_skips WHERE queue = ? AND reviewer = ?", (queue, reviewer))
        return {r[0] for r in rows}

    # ------------------------------------------------------------------ submissions

    def submit(
        self, queue: str, thread_id: str, reviewer: str, *, scores: dict[str, Any], correction: Any, has_correction: bool,
        comment: str, now: float,
    ) -> None:  # fmt: skip
        """Record a reviewer's scores for an item and release their reservation, in one transaction.

        Raises:
            InvalidAnswer: the reviewer already submitted scores for this item (scores are final).
        """
        sql = self.store.dialect.sql
        with self.store.connection(write=True) as conn:
            done = conn.execute(
                sql("SELECT submitted_at FROM hitl_qa_submissions WHERE queue = ? AND thread_id = ? AND reviewer = ?"),
                (queue, thread_id, reviewer),
            ).fetchone()
            if done is not None:
                from datetime import datetime, timezone

                when = datetime.fromtimestamp(float(done[0]), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                raise InvalidAnswer(
                    f"{reviewer} already scored {thread_id!r} in queue {queue!r} (at {when}); scores are final. "
                    "Ask an adjudicator to set the final score if it needs changing."
                )
            conn.execute(
                sql(
                    "INSERT INTO hitl_qa_submissions (queue, thread_id, reviewer, scores, correction, comment, submitted_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
                (queue, thread_id, reviewer, _dumps(scores), _dumps(correction) if has_correction else None, comment, now),
            )
            conn.execute(
                sql("DELETE FROM hitl_qa_reservations WHERE queue = ? AND thread_id = ? AND reviewer = ?"), (queue, thread_id, reviewer)
            )

    def submissions(self, queue: str, thread_id: str | None = None) -> list[SubmissionRow]:
        sql = "SELECT queue, thread_id, reviewer, scores, correction, comment, submitted_at FROM hitl_qa_submissions WHERE queue = ?"
        params: list[Any] = [queue]
        if thread_id is not None:
            sql += " AND thread_id = ?"
            params.append(thread_id)
        rows = self.store.query(sql + " ORDER BY submitted_at, reviewer", params)
        return [
            SubmissionRow(queue=r[0], thread_id=r[1], reviewer=r[2], scores=json.loads(r[3]), correction=_loads(r[4]),
                          has_correction=r[4] is not None, comment=r[5], submitted_at=float(r[6]))  # fmt: skip
            for r in rows
        ]

    # ------------------------------------------------------------------ adjudications

    def adjudicate(
        self, queue: str, thread_id: str, adjudicator: str, *, scores: dict[str, Any], correction: Any, has_correction: bool,
        comment: str, now: float,
    ) -> None:  # fmt: skip
        """Set an item's final scores (and correction); a later adjudication replaces it."""
        self.store.execute_write(
            "INSERT INTO hitl_qa_adjudications (queue, thread_id, adjudicator, scores, correction, comment, decided_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (queue, thread_id) DO UPDATE SET adjudicator = excluded.adjudicator, "
            "scores = excluded.scores, correction = excluded.correction, comment = excluded.comment, decided_at = excluded.decided_at",
            (queue, thread_id, adjudicator, _dumps(scores), _dumps(correction) if has_correction else None, comment, now),
        )

    def adjudications(self, queue: str) -> dict[str, AdjudicationRow]:
        rows = self.store.query(
            "SELECT queue, thread_id, adjudicator, scores, correction, comment, decided_at FROM hitl_qa_adjudications WHERE queue = ?",
            (queue,),
        )
        return {
            r[1]: AdjudicationRow(queue=r[0], thread_id=r[1], adjudicator=r[2], scores=json.loads(r[3]), correction=_loads(r[4]),
                                  has_correction=r[4] is not None, comment=r[5], decided_at=float(r[6]))  # fmt: skip
            for r in rows
        }

    # ------------------------------------------------------------------ forks

    def add_fork(self, row: dict[str, Any]) -> None:
        values = []
        for column in _FORK_COLUMNS:
            value = row.get(column)
            if column in ("answer", "original_answer", "state_update"):
                value = None if value is None else _dumps(value)
            elif column == "notify":
                value = int(bool(value))
            values.append(value)
        self.store.execute_write(
            f"INSERT INTO hitl_qa_forks ({', '.join(_FORK_COLUMNS)}) VALUES ({', '.join('?' for _ in _FORK_COLUMNS)})", values
        )

    def set_fork_status(self, fork_thread_id: str, status: str, error: str | None = None) -> None:
        self.store.execute_write("UPDATE hitl_qa_forks SET status = ?, error = ? WHERE fork_thread_id = ?", (status, error, fork_thread_id))

    def forks(self, *, source_thread_id: str | None = None, fork_thread_id: str | None = None) -> list[ForkRow]:
        sql = f"SELECT {', '.join(_FORK_COLUMNS)} FROM hitl_qa_forks"
        where, params = [], []
        if source_thread_id is not None:
            where.append("source_thread_id = ?")
            params.append(source_thread_id)
        if fork_thread_id is not None:
            where.append("fork_thread_id = ?")
            params.append(fork_thread_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.store.query(sql + " ORDER BY created_at", params)
        out = []
        for r in rows:
            data = dict(zip(_FORK_COLUMNS, r, strict=True))
            for key in ("answer", "original_answer", "state_update"):
                data[key] = _loads(data[key])
            data["notify"] = bool(data["notify"])
            data["created_at"] = float(data["created_at"])
            out.append(ForkRow(**data))
        return out

    def fork_thread_ids(self) -> set[str]:
        return {r[0] for r in self.store.query("SELECT fork_thread_id FROM hitl_qa_forks")}

    def task_paths(self, thread_id: str, checkpoint_id: str) -> dict[str, str]:
        """task_id -> task_path of the checkpointer's writes on one root checkpoint (the saver's
        `get_tuple` drops the path, which orders writes of parallel tasks)."""
        rows = self.store.query(
            f"SELECT DISTINCT task_id, task_path FROM {self.store.dialect.writes_table} "
            "WHERE thread_id = ? AND checkpoint_ns = '' AND checkpoint_id = ?",
            (thread_id, checkpoint_id),
        )
        return {r[0]: r[1] or "" for r in rows}
