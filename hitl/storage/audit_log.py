"""The audit log (`hitl_audit`, hash-chained, sealed by `hitl_audit_head`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hitl.audit import GENESIS_HASH, audit_key, head_mac, row_hash
from hitl.storage.engine import Engine
from hitl.storage.records import dumps_record, no_nul
from hitl.storage.schema import AUDIT_COLUMNS

__all__ = ["AuditLog"]


class AuditLog(Engine):
    """Appending to and reading the audit log."""

    # ------------------------------------------------------------------ audit

    def append_audit(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Append audit rows, hash-chained, in one transaction. Returns their seq numbers.

        The chain's tip is also written to `hitl_audit_head` in the same transaction, so
        deleting the last rows is detectable (`hitl.audit.verify_chain` compares them), and
        the next row continues from the head, keeping such a gap visible. With
        HITL_AUDIT_KEY set, row hashes and the head are HMACs under that key.
        """
        key = audit_key()
        seqs = []
        sql = self.dialect.sql
        with self.connection(write=True) as conn:
            # A no-op write on the head row first: on PostgreSQL it row-locks the head, so
            # concurrent appenders queue here instead of racing for the same seq.
            conn.execute(sql("UPDATE hitl_audit_head SET seq = seq WHERE id = 1"))
            head = conn.execute(sql("SELECT seq, row_hash FROM hitl_audit_head WHERE id = 1")).fetchone()
            last = conn.execute(sql("SELECT seq, row_hash FROM hitl_audit ORDER BY seq DESC LIMIT 1")).fetchone()
            if head is not None and (last is None or int(head[0]) > int(last[0])):
                seq, prev = int(head[0]), head[1]
            elif last is not None:
                seq, prev = int(last[0]), last[1]
            else:
                seq, prev = 0, GENESIS_HASH
            records = []
            for row in rows:
                seq += 1
                record = _audit_record(row, seq=seq, prev_hash=prev, keep_nul=self.dialect.text_holds_nul)
                record["row_hash"] = row_hash(record, key=key)
                records.append(tuple(record[c] for c in AUDIT_COLUMNS))
                prev = record["row_hash"]
                seqs.append(seq)
            if records:
                conn.executemany(
                    sql(f"INSERT INTO hitl_audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({', '.join('?' for _ in AUDIT_COLUMNS)})"),
                    records,
                )
            if seqs:
                conn.execute(
                    sql(
                        "INSERT INTO hitl_audit_head (id, seq, row_hash, mac, updated_at) VALUES (1, ?, ?, ?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, row_hash = excluded.row_hash, "
                        "mac = excluded.mac, updated_at = excluded.updated_at"
                    ),
                    (seq, prev, head_mac(seq, prev, key=key), time.time()),
                )
        return seqs

    def audit_head(self) -> dict[str, Any] | None:
        """The sealed tip of the audit chain (`seq`, `row_hash`, `mac`), or None if never written."""
        rows = self.query("SELECT seq, row_hash, mac FROM hitl_audit_head WHERE id = 1")
        if not rows:
            return None
        return {"seq": int(rows[0][0]), "row_hash": rows[0][1], "mac": rows[0][2]}

    def audit_rows(
        self,
        *,
        thread_id: str | None = None,
        reviewer: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Audit rows matching the filters, oldest first."""
        where, params = [], []
        for column, value in (("thread_id", thread_id), ("reviewer", reviewer), ("graph_id", graph_id), ("kind", kind), ("outcome", outcome)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("decided_at >= ?")
            params.append(since.timestamp())
        if until is not None:
            where.append("decided_at < ?")
            params.append(until.timestamp())
        sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM hitl_audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [dict(zip(AUDIT_COLUMNS, row)) for row in self.query(sql, params)]




def _audit_record(row: dict[str, Any], *, seq: int, prev_hash: str, keep_nul: bool = True) -> dict[str, Any]:
    decided_at = row.get("decided_at") or time.time()
    if isinstance(decided_at, datetime):
        decided_at = decided_at.timestamp()
    record = {
        "seq": seq,
        "thread_id": str(row["thread_id"]),
        "interrupt_id": str(row.get("interrupt_id") or ""),
        "graph_id": row.get("graph_id"),
        "kind": row.get("kind"),
        "action": row.get("action", "decision"),
        "payload": dumps_record(row.get("payload")),
        "answer": dumps_record(row.get("answer")),
        "reviewer": str(row.get("reviewer") or "unknown"),
        "comment": str(row.get("comment") or ""),
        "decided_at": round(float(decided_at), 6),
        "waited_seconds": None if row.get("waited_seconds") is None else round(float(row["waited_seconds"]), 3),
        "outcome": str(row["outcome"]),
        "error": row.get("error"),
        "prev_hash": prev_hash,
    }
    if keep_nul:  # SQLite keeps text verbatim
        return record
    # A NUL in free text (a comment, an exception message) would be refused by PostgreSQL after
    # the graph already ran: record it visibly as U+2400 instead, before the row is hashed.
    return {key: no_nul(value) if isinstance(value, str) else value for key, value in record.items()}


