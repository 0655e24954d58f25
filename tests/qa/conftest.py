"""QA fixtures: finished demo threads on a fresh desk, and a QA desk with a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hitl import Inbox
from hitl.demo.seed import seed
from hitl.qa import QA, load_qa_config

RUBRICS = [
    {"name": "correct", "type": "boolean", "instructions": "Right?"},
    {"name": "tone", "type": "categorical", "labels": ["rude", "neutral", "friendly"], "ordered": True},
    {"name": "quality", "type": "numeric", "min": 1, "max": 5},
    {"name": "notes", "type": "text"},
]


class Clock:
    """time.time stand-in that tests move forward."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def finish(inbox: Inbox, count: int, *, graph_id: str = "email_approval", approve: bool = True, prefix: str = "qa") -> list[str]:
    """Seed `count` threads of a demo graph and answer each once, so they finish."""
    thread_ids = seed(inbox, count, graph_ids=[graph_id], prefix=prefix)
    results = inbox.batch(thread_ids, approve=approve, reviewer="desk-reviewer", comment="seeded")
    assert {r.result for r in results} == {"completed"}, results
    return thread_ids


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_qa(inbox: Inbox, clock: Clock) -> Callable[..., QA]:
    """`make_qa(queues=[...], **qa_section)`: a QA desk over the test's inbox with RUBRICS."""

    def make(queues: list[dict[str, Any]] | None = None, **section: Any) -> QA:
        policy = {"qa": {"rubrics": RUBRICS, "queues": queues or [], **section}}
        return QA(inbox, clock=clock, config=load_qa_config(policy))

    return make
