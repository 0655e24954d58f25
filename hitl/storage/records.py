"""What the storage layer reads and writes: a checkpoint's pending interrupts, a row of the
desk's index, the queue's cursors, and the id-to-time rule of LangGraph's checkpoint ids."""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hitl.errors import InvalidAnswer

__all__ = [
    "RawInterrupt",
    "ThreadRow",
    "IndexEntry",
    "Indexer",
    "checkpoint_time",
    "SPECIAL_CHANNELS",
    "INTERRUPT",
    "ERROR",
    "encode_cursor",
    "decode_cursor",
    "like_escape",
    "dumps_record",
    "no_nul",
]

INTERRUPT = "__interrupt__"
ERROR = "__error__"
SPECIAL_CHANNELS = ("__interrupt__", "__error__", "__resume__", "__scheduled__")
"""Write channels that do not mean the task completed."""

_GREGORIAN_OFFSET_100NS = 0x01B21DD213814000


def checkpoint_time(checkpoint_id: str) -> datetime:
    """The creation time encoded in a LangGraph checkpoint id (a UUIDv6)."""
    try:
        if len(checkpoint_id) == 36 and checkpoint_id[8] == checkpoint_id[13] == checkpoint_id[18] == checkpoint_id[23] == "-":
            # uuid.UUID's own parse of its canonical form, without building the object
            raw = int(checkpoint_id[:8] + checkpoint_id[9:13] + checkpoint_id[14:18] + checkpoint_id[19:23] + checkpoint_id[24:], 16)
        else:
            raw = uuid.UUID(checkpoint_id).int
    except (ValueError, TypeError):
        return datetime.now(timezone.utc)
    time_high = raw >> 96
    time_mid = (raw >> 80) & 0xFFFF
    time_low = (raw >> 64) & 0x0FFF
    ticks = (time_high << 28) | (time_mid << 12) | time_low
    seconds = (ticks - _GREGORIAN_OFFSET_100NS) / 1e7
    if not 0 < seconds < 32503680000:  # not a v6 id: fall back to "now"
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(seconds, timezone.utc)


@dataclass(frozen=True, kw_only=True)
class RawInterrupt:
    """One pending interrupt as stored by the checkpointer, decoded."""

    thread_id: str
    checkpoint_id: str
    task_id: str
    node: str | None
    id: str
    value: Any
    response_schema: dict[str, Any] | None
    decode_error: str | None = None
    task_path: str = ""
    failed_error: str | None = None
    """Set when this interrupt was answered but the node then raised: LangGraph keeps the
    answer, so the interrupt can be retried with it (or resolved), not answered anew."""

    @property
    def answerable(self) -> bool:
        """Whether a reviewer can answer it now."""
        return self.failed_error is None


@dataclass(frozen=True, kw_only=True)
class ThreadRow:
    """One row of `hitl_threads`: the desk's summary of a thread."""

    thread_id: str
    status: str
    checkpoint_id: str
    graph_id: str | None
    graph_note: str | None
    kinds: tuple[str, ...]
    summary: str
    n_interrupts: int
    waiting_since: datetime
    nodes: tuple[str, ...]
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class IndexEntry:
    """What the indexer (the Inbox) computes for one thread from its raw interrupts."""

    graph_id: str | None
    graph_note: str | None
    kinds: tuple[str, ...]
    summary: str
    search_text: str


Indexer = Callable[[str, dict[str, Any], list[RawInterrupt]], IndexEntry]
"""(thread_id, latest root checkpoint metadata, pending interrupts) -> IndexEntry."""





def no_nul(text: str | None) -> str | None:
    """Payload text for the desk's own tables: NUL shown as U+2400 (PostgreSQL text cannot hold NUL)."""
    return text.replace("\x00", "\u2400") if text else text


_PAYLOAD_LIMIT = 200_000


def dumps_record(value: Any) -> str:
    """JSON for the audit log: never raises, bounded in size."""
    try:
        text = json.dumps(value, default=_json_default, ensure_ascii=False)
    except (ValueError, RecursionError) as exc:
        text = json.dumps({"unserializable": f"{type(value).__name__}: {exc}"})
    if len(text) > _PAYLOAD_LIMIT:
        text = json.dumps({"truncated": True, "size": len(text), "head": text[:_PAYLOAD_LIMIT]})
    return text


def _json_default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return repr(value)



def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_cursor(since: float, thread_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([since, thread_id]).encode()).decode()


_CURSOR_MAX_CHARS = 4096
"""Far above any cursor the desk issues (a timestamp and a thread id, base64)."""


def decode_cursor(cursor: str) -> tuple[float, str]:
    """A `next_cursor` this desk issued, as (waiting_since, thread_id).

    Raises:
        InvalidAnswer: anything else (not base64 JSON, another shape, deeply nested JSON that
            would exhaust the parser's recursion, a huge string); the message shows its start.
    """
    shown = repr(cursor[:40] + ("..." if len(cursor) > 40 else "")) if isinstance(cursor, str) else repr(type(cursor).__name__)

    def refused(why: str) -> InvalidAnswer:
        return InvalidAnswer(
            f"Cursor {shown} is not one this desk issued ({why}); pass the next_cursor of the previous "
            "page as it was, or leave cursor out to start from the first page.",
            field_errors={"cursor": why},
        )

    if not isinstance(cursor, str) or len(cursor) > _CURSOR_MAX_CHARS:
        raise refused(f"longer than {_CURSOR_MAX_CHARS} characters" if isinstance(cursor, str) else "not a string")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except RecursionError:
        raise refused("JSON nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise refused(f"not base64 JSON: {exc}") from None
    if not (isinstance(decoded, list) and len(decoded) == 2):
        raise refused("expected [waiting_since, thread_id]")
    since, thread_id = decoded
    if isinstance(since, bool) or not isinstance(since, (int, float)) or not math.isfinite(since):
        raise refused("waiting_since is not a finite number")
    if not isinstance(thread_id, str):
        raise refused("thread_id is not a string")
    return float(since), thread_id


