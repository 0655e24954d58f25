"""The audit log's hash chain: append-only rows, each sealing its content and its predecessor.

Each row stores `prev_hash` (the previous row's `row_hash`, 64 zeros for the first) and
`row_hash`, the SHA-256 of its canonical JSON content including `seq` and `prev_hash`. Editing
a row breaks its own hash; deleting or inserting one breaks the link (or the seq sequence) of
the next. The tip (last seq and hash) is also kept in `hitl_audit_head`, written in the same
transaction as the rows, so deleting the last rows (which leaves an intact shorter chain) is
caught too. `verify_chain` names the first row where the chain breaks.

Limits: a plain SHA-256 chain catches edits by anyone who does not recompute it; someone with
write access who knows the scheme can rewrite rows, hashes and head together. Set
HITL_AUDIT_KEY (a secret the database's writers do not hold) and rows and head are sealed with
HMAC-SHA256 under that key instead, which cannot be recomputed without it. With the key set,
`verify_chain` requires it everywhere: a plain row, or a head without its HMAC, is tampering
(someone without the key rewrote the chain as plain SHA-256).

What the database alone cannot show: a copy of an *older* head put back after the rows behind
it were deleted (the old head's HMAC is genuine). An *anchor* closes that gap: `seq:row_hash`
of a row, kept outside the database (`python -m hitl audit anchor`, or the `audit_anchor` of
each `decision_made` webhook). `verify_chain(..., anchor=...)` then proves that row and every
row before it are still there, unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hitl.errors import HitlError

__all__ = [
    "row_hash",
    "head_mac",
    "audit_key",
    "verify_chain",
    "ChainReport",
    "Anchor",
    "parse_anchor",
    "GENESIS_HASH",
    "HMAC_PREFIX",
]

GENESIS_HASH = "0" * 64
HMAC_PREFIX = "hmac-sha256:"
_NO_HEAD = object()
_HASHED = (
    "seq", "thread_id", "interrupt_id", "graph_id", "kind", "action", "payload", "answer",
    "reviewer", "comment", "decided_at", "waited_seconds", "outcome", "error", "prev_hash",
)  # fmt: skip


def row_hash(record: Mapping[str, Any], *, key: bytes | None = None) -> str:
    """SHA-256 of a row's content (every column but `row_hash`), canonical JSON.

    With `key` (HITL_AUDIT_KEY), an HMAC-SHA256 under that key instead, prefixed
    `hmac-sha256:` so a verifier knows which rows need the key.
    """
    content = {key_: _canonical(record.get(key_)) for key_ in _HASHED}
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if key:
        return HMAC_PREFIX + hmac.new(key, blob, hashlib.sha256).hexdigest()
    return hashlib.sha256(blob).hexdigest()


def head_mac(seq: int, tip_hash: str, *, key: bytes | None) -> str | None:
    """The HMAC sealing the chain's head (its last seq and hash), or None without a key."""
    if not key:
        return None
    return hmac.new(key, f"hitl-audit-head|{int(seq)}|{tip_hash}".encode(), hashlib.sha256).hexdigest()


def audit_key() -> bytes | None:
    """HITL_AUDIT_KEY from the environment (read at call time), as bytes; None when unset."""
    raw = os.environ.get("HITL_AUDIT_KEY")
    return raw.encode("utf-8") if raw else None


def _canonical(value: Any) -> Any:
    # Backends return REAL columns as float and INTEGER as int; hash numbers as one form.
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return f"{float(value):.6f}"
    return str(value)


@dataclass(frozen=True, kw_only=True)
class Anchor:
    """One row of the chain as recorded outside the database: its seq and `row_hash`.

    Written `SEQ:HASH` (`str(anchor)`, `parse_anchor`), e.g. `6:3f2a...` or
    `6:hmac-sha256:3f2a...` for a keyed row.
    """

    seq: int
    row_hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.row_hash}"


_HEX64 = re.compile(r"[0-9a-f]{64}")


def parse_anchor(text: str) -> Anchor:
    """`SEQ:HASH` (as `python -m hitl audit anchor` prints it) as an `Anchor`.

    Raises:
        HitlError: the text is not a positive seq, a colon and a 64-hex-digit hash
            (optionally `hmac-sha256:`-prefixed); the message shows the expected form.
    """
    seq_text, _, hash_text = str(text).strip().partition(":")
    digest = hash_text.removeprefix(HMAC_PREFIX).lower()
    if not seq_text.isdigit() or int(seq_text) < 1 or not _HEX64.fullmatch(digest):
        raise HitlError(
            f"Audit anchor {text!r} is not SEQ:HASH. Expected what `python -m hitl audit anchor` printed, "
            "e.g. 42:<64 hex digits> or 42:hmac-sha256:<64 hex digits>."
        )
    prefix = HMAC_PREFIX if hash_text.startswith(HMAC_PREFIX) else ""
    return Anchor(seq=int(seq_text), row_hash=prefix + digest)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of `verify_chain`."""

    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str | None = None
    note: str | None = None
    """Set when part of the chain could not be checked (keyed rows verified without the key),
    or to say what an anchor proved."""

    def __str__(self) -> str:
        if self.ok:
            text = f"audit chain intact: {self.rows} rows verified"
            return f"{text} ({self.note})" if self.note else text
        return f"audit chain BROKEN at row seq={self.first_bad_seq}: {self.problem}"


def verify_chain(
    rows: Iterable[Mapping[str, Any]],
    *,
    head: Mapping[str, Any] | None | object = _NO_HEAD,
    key: bytes | None = None,
    anchor: Anchor | None = None,
) -> ChainReport:
    """Check rows (ordered by seq) for edits, insertions and deletions; name the first bad row.

    Args:
        rows: every audit row, ordered by seq.
        head: the sealed tip (`Store.audit_head()`): catches deleted last rows and rows
            appended behind the desk's back. Pass None when the head row is missing (a
            broken chain when rows exist); omit it to check the rows only.
        key: HITL_AUDIT_KEY. With a key every row must be sealed with it and the head must
            carry its HMAC: a plain row or a head without a MAC was written by someone
            without the key. Rows up to an `anchor` may be plain (written before the key
            was set; the anchor vouches for them). Without a key, keyed rows are checked
            for their links only (the report says so).
        anchor: a row recorded outside the database (`Anchor`, see `parse_anchor`): that row
            must still be there with that hash, which proves it and every row before it
            unchanged, even if the database's head was rolled back to an older copy.

    A row whose hash matches its content with seq one lower was renumbered to make room
    for a row inserted before it: the inserted row is named. A gap in seq names the
    first deleted row.
    """
    walk = _Walk(key=key, anchor=anchor)
    for row in rows:
        problem = walk.take(row)
        if problem is not None:
            return ChainReport(False, walk.count, *problem)
    if anchor is not None and walk.last_seq < anchor.seq:
        return ChainReport(
            False, walk.count, walk.last_seq + 1,
            f"the anchor {anchor} names row {anchor.seq} but the log ends at row {walk.last_seq}: rows "
            f"{walk.last_seq + 1}..{anchor.seq} were deleted (and the head rolled back to match)",
        )  # fmt: skip
    if head is not _NO_HEAD:
        problem = walk.head_problem(head)  # type: ignore[arg-type]
        if problem is not None:
            return ChainReport(False, walk.count, *problem)
    notes = []
    if anchor is not None:
        notes.append(f"rows 1..{anchor.seq} match the anchor {anchor}")
    if walk.unchecked:
        notes.append(f"{walk.unchecked} keyed rows checked for links only; set HITL_AUDIT_KEY to check their content")
    return ChainReport(True, walk.count, note="; ".join(notes) or None)


@dataclass
class _Walk:
    """A walk down the chain, row by row: what the next row must be and link to."""

    key: bytes | None
    anchor: Anchor | None
    previous_hash: str = GENESIS_HASH
    before_previous: str | None = None
    expected_seq: int = 1
    count: int = 0
    keyed_seen: bool = False
    unchecked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH

    @property
    def anchored_seq(self) -> int:
        return self.anchor.seq if self.anchor is not None else 0

    def take(self, row: Mapping[str, Any]) -> tuple[int, str] | None:
        """Check the next row; (seq to name, problem) when it breaks the chain."""
        self.count += 1
        seq = int(row["seq"])
        stored = str(row["row_hash"])
        keyed = stored.startswith(HMAC_PREFIX)
        problem = self._order_problem(seq, keyed) or self._content_problem(row, seq, stored, keyed)
        if problem is not None:
            return problem
        if row["prev_hash"] != self.previous_hash:
            if self.before_previous is not None and row["prev_hash"] == self.before_previous:
                return seq - 1, "this row was inserted: the row after it still links to the row before it"
            return seq, "its prev_hash does not match the previous row: a row before it was replaced"
        anchor = self.anchor
        if anchor is not None and seq == anchor.seq and stored != anchor.row_hash:
            return seq, (
                f"it does not match the anchor {anchor}: this row, or rows before it, were rewritten "
                "since the anchor was taken"
            )
        self.keyed_seen = self.keyed_seen or keyed
        self.before_previous, self.previous_hash = self.previous_hash, stored
        self.last_seq, self.last_hash = seq, stored
        self.expected_seq += 1
        return None

    def _order_problem(self, seq: int, keyed: bool) -> tuple[int, str] | None:
        expected = self.expected_seq
        if seq > expected:
            missing = f"row {expected} is" if seq == expected + 1 else f"rows {expected}..{seq - 1} are"
            return expected, f"{missing} missing (deleted)"
        if seq < expected:
            return seq, f"seq {seq} is out of order (expected {expected}): inserted"
        if self.keyed_seen and not keyed:
            return seq, "it is not sealed with the audit key while earlier rows are: forged or edited without the key"
        if self.key and not keyed and seq > self.anchored_seq:
            return seq, (
                "it is not sealed with the audit key although HITL_AUDIT_KEY is set: the row was written "
                "or rewritten without the key (if it predates the key, verify with --anchor SEQ:HASH "
                "taken before the key was set)"
            )
        return None

    def _content_problem(self, row: Mapping[str, Any], seq: int, stored: str, keyed: bool) -> tuple[int, str] | None:
        if keyed and not self.key:
            self.unchecked += 1
            return None
        key = self.key if keyed else None
        if row_hash(row, key=key) == stored:
            return None
        if row_hash({**row, "seq": seq - 1}, key=key) == stored:
            return seq - 1, "this row was inserted: the rows after it were renumbered to make room"
        if row_hash({**row, "seq": seq + 1}, key=key) == stored:
            return seq, f"the original row {seq} was deleted and the rows after it renumbered"
        what = "its HMAC (edited, or HITL_AUDIT_KEY is not the key it was written with)" if keyed else "its hash"
        return seq, f"its content does not match {what}: the row was edited"

    def head_problem(self, head: Mapping[str, Any] | None) -> tuple[int, str] | None:
        """What is wrong with the sealed tip, once every row has been taken."""
        last_seq = self.last_seq
        if head is None:
            if not self.count:
                return None
            return last_seq, (
                "the chain's head (hitl_audit_head) is missing: it was deleted, or the log predates "
                "head tracking (the next decision seals it again); rows at the end may have been deleted"
            )
        head_seq, head_hash = int(head["seq"]), str(head["row_hash"])
        if head_seq > last_seq:
            missing = f"row {last_seq + 1} is" if head_seq == last_seq + 1 else f"rows {last_seq + 1}..{head_seq} are"
            return last_seq + 1, f"{missing} missing: the head records {head_seq} rows (deleted from the end)"
        if head_seq < last_seq:
            return head_seq + 1, f"rows after seq {head_seq} are not sealed by the head: inserted"
        if head_hash != self.last_hash:
            return last_seq, "the last row does not match the head's hash: replaced"
        # With a key the head must carry its HMAC, unless the anchor already vouches for
        # every row (a log written before the key was set, anchored, not appended to since).
        if not (self.key and (self.keyed_seen or last_seq > self.anchored_seq)):
            return None
        if not head.get("mac"):
            return last_seq, "the head has no HMAC although HITL_AUDIT_KEY is set: the head was rewritten without the key"
        if not hmac.compare_digest(str(head["mac"]), head_mac(head_seq, head_hash, key=self.key) or ""):
            return last_seq, "the head's HMAC does not match: the head was rewritten"
        return None
