"""The rows QA storage returns, and how their JSON columns are written and read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


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


FORK_COLUMNS = (
    "fork_thread_id", "source_thread_id", "source_checkpoint_id", "interrupt_id", "graph_id", "mode", "answer",
    "original_answer", "state_update", "as_node", "created_by", "created_at", "status", "error", "notify",
)  # fmt: skip


ITEM_COLUMNS = ("queue", "thread_id", "graph_id", "checkpoint_id", "status", "finished_at", "is_fork", "added_by", "added_at")


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def load_json(text: Any) -> Any:
    if text is None:
        return None
    return json.loads(text)
