"""SQL dialects: what the desk's SQL says differently on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Dialect", "SQLITE", "POSTGRES", "StoreSettings"]


@dataclass(frozen=True)
class Dialect:
    """What differs between the SQL of SQLite and PostgreSQL, in one object (never an `if` on the name)."""

    name: str
    placeholder: str
    metadata_graph_id: str
    """SQL expression for the graph id in checkpoint metadata, given alias `c`."""
    writes_table: str = "writes"
    """The saver's table of pending writes (`writes` in SQLite, `checkpoint_writes` in PostgreSQL)."""
    write_value: str = "value"
    """The column holding a write's serialized value in `writes_table`."""
    tick: str = "UPDATE hitl_clock SET n = n + 1 WHERE id = 1"
    """Statement advancing the dirty-mark clock before `next_version` is read ("" if none)."""
    next_version: str = "(SELECT n FROM hitl_clock WHERE id = 1)"
    """SQL expression for a new dirty-mark version: unique, never reused."""
    text_holds_nul: bool = True
    """Whether text columns can hold NUL (0x00); where not, the desk's records show it as U+2400."""
    channels_in_checkpoint: bool = True
    """Whether the saver keeps channel values inside the serialized checkpoint (SqliteSaver),
    rather than as JSON and `checkpoint_blobs` rows (PostgresSaver)."""
    unindexed: str = "+"
    """Prefix that keeps the planner off a column's index (`+status = ?`): SQLite's unary `+`.
    PostgreSQL has no unary + on text, and its planner does not need the hint."""
    trigram_like: bool = False
    """Whether substring search is `LIKE` served by a pg_trgm index (PostgreSQL), which reads
    every trigram of the pattern: the queue narrows with a few rare ones instead."""

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)


SQLITE = Dialect("sqlite", "?", "json_extract(CAST(c.metadata AS TEXT), '$.graph_id')", "writes", "value")

POSTGRES = Dialect(
    "postgres",
    "?",  # the adapter below converts `?` to psycopg's `%s`; the store's SQL stays one text
    "(c.metadata->>'graph_id')",
    "checkpoint_writes",
    "blob",
    tick="",
    next_version="nextval('hitl_dirty_clock')",
    text_holds_nul=False,
    channels_in_checkpoint=False,
    unindexed="",
    trigram_like=True,
)


class StoreSettings(Protocol):
    """What a backend's transaction reads of the store that runs it."""

    lock_retry_seconds: float
    display_url: str
