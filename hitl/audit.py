"""The audit log's hash chain: append-only rows, each sealing its content and its predecessor.

Each row stores `prev_hash` (the previous row's `row_hash`, 64 zeros for the first) and
`row_hash`, the SHA-256 of its canonical JSON content including `seq` and `prev_hash`. Editing
a row breaks its own hash; deleting or inserting one breaks the link (or the seq sequence) of
the next. `verify_chain` names the first row where the chain breaks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["row_hash", "verify_chain", "ChainReport", "GENESIS_HASH"]

GENESIS_HASH = "0" * 64
_HASHED = (
    "seq", "thread_id", "interrupt_id", "graph_id", "kind", "action", "payload", "answer",
    "reviewer", "comment", "decided_at", "waited_seconds", "outcome", "error", "prev_hash",
)  # fmt: skip


def row_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of a row's content (every column but `row_hash`), canonical JSON."""
    content = {key: _canonical(record.get(key)) for key in _HASHED}
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    # Backends return REAL columns as float and INTEGER as int; hash numbers as one form.
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return f"{float(value):.6f}"
    return str(value)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of `verify_chain`."""

    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.rows} rows verified"
        return f"audit chain BROKEN at row seq={self.first_bad_seq}: {self.problem}"


def verify_chain(rows: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Check rows (ordered by seq) for edits, insertions and deletions."""
    previous_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for row in rows:
        count += 1
        seq = int(row["seq"])
        if seq != expected_seq:
            if seq > expected_seq:
                return ChainReport(False, count, seq, f"rows {expected_seq}..{seq - 1} are missing (deleted)")
            return ChainReport(False, count, seq, f"seq {seq} is out of order (expected {expected_seq}): inserted")
        if row["prev_hash"] != previous_hash:
            return ChainReport(
                False, count, seq, "its prev_hash does not match the previous row: a row was deleted or inserted before it"
            )
        if row_hash(row) != row["row_hash"]:
            return ChainReport(False, count, seq, "its content does not match its hash: the row was edited")
        previous_hash = row["row_hash"]
        expected_seq += 1
    return ChainReport(True, count)
