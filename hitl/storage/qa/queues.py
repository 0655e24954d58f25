"""The SQL of QA queues, their items, reservations and skips."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from hitl.storage.qa.rows import ITEM_COLUMNS, ItemRow, dump_json
from hitl.storage.qa.schema import QaSchema


class QueueTables(QaSchema):
    """Queues, items, reservations and skips."""

    def save_queue(self, name: str, spec: dict[str, Any], *, source: str, created_by: str, now: float, replace: bool) -> bool:
        """Insert a queue (or, with `replace`, overwrite its definition). Returns False when it
        already existed and was kept."""
        sql = self.store.dialect.sql
        with self.store.connection(write=True) as conn:
            existing = conn.execute(sql("SELECT spec, source FROM hitl_qa_queues WHERE name = ?"), (name,)).fetchone()
            if existing is None:
                conn.execute(
                    sql("INSERT INTO hitl_qa_queues (name, spec, source, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"),
                    (name, dump_json(spec), source, created_by, now, now),
                )
                return True
            if not replace:
                return False
            if existing[0] != dump_json(spec) or existing[1] != source:
                conn.execute(
                    sql("UPDATE hitl_qa_queues SET spec = ?, source = ?, updated_at = ? WHERE name = ?"),
                    (dump_json(spec), source, now, name),
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

    def add_items(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert items; one already in its queue is left alone. Returns how many were new."""
        rows = list(rows)
        if not rows:
            return 0
        sql = self.store.dialect.sql(
            f"INSERT INTO hitl_qa_items ({', '.join(ITEM_COLUMNS)}) VALUES ({', '.join('?' for _ in ITEM_COLUMNS)}) "
            "ON CONFLICT DO NOTHING"
        )
        added = 0
        with self.store.connection(write=True) as conn:
            for row in rows:
                values = tuple(int(row[c]) if c == "is_fork" else row[c] for c in ITEM_COLUMNS)
                added += max(0, conn.execute(sql, values).rowcount or 0)
        return added

    def item_ids(self, queue: str) -> set[str]:
        return {r[0] for r in self.store.query("SELECT thread_id FROM hitl_qa_items WHERE queue = ?", (queue,))}

    def items(self, queue: str, thread_ids: Sequence[str] | None = None) -> list[ItemRow]:
        """A queue's items, oldest finished first, with how many reviewers submitted each."""
        sql = (
            f"SELECT {', '.join('i.' + c for c in ITEM_COLUMNS)}, "
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
