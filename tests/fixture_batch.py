"""A counted graph and a child-process entry point for the batch tests (tests/services/test_batch.py).

`ledger` pauses at a payment question, then counts its side effect in the side-effects file
of `tests.fixture_race` (HITL_TEST_SIDE_EFFECTS). The thread's topic picks a misbehaviour:
"boom…" raises in the resumed node, "refuse…" raises the error `interrupt()` raises when the
graph refuses a resume value (`is_invalid_resume`), "odd…" asks with a payload whose answer the
code passes on unread (no answer contract, so no one-click answer), "slow…" takes half a second after the answer.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.errors import is_invalid_resume
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from tests.fixture_race import State, _record_side_effect

GRAPH_ID = "ledger"


class RefusedResume(ValueError):
    """Carries the marker `is_invalid_resume` looks for, as pydantic's error from `interrupt()` does."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        import langgraph.errors as errors

        setattr(self, errors._INVALID_RESUME, True)


def _pay(state: State, config: RunnableConfig) -> dict:
    topic = str(state.get("topic", ""))
    if topic.startswith("odd"):
        note = interrupt({"blob": topic})  # passed on unread: the desk cannot tell what approving is
        return {"log": [note]}
    answer = interrupt({"action": "make_payment", "details": f"pay invoice {topic}", "question": "Pay it?"})
    if topic.startswith("slow"):
        time.sleep(0.5)
    if topic.startswith("boom"):
        raise RuntimeError(f"payment API down for {topic}")
    if topic.startswith("refuse"):
        error = RefusedResume(f"answer refused for {topic}")
        assert is_invalid_resume(error)
        raise error
    _record_side_effect(config["configurable"]["thread_id"], bool(answer.get("approved")))
    return {"log": [f"paid:{answer.get('approved')}"]}


ledger = StateGraph(State)
ledger.add_node("pay", _pay)
ledger.add_edge(START, "pay")
ledger.add_edge("pay", END)


def batch_worker(index: int, database_url: str, graphs_path: str, thread_ids: list[str], barrier: Any, results: Any) -> None:
    """One desk process: wait at the barrier, then batch-approve `thread_ids`; puts
    `(index, [(thread_id, result), ...] | None, error text)` on `results`."""
    try:
        from hitl import Inbox

        inbox = Inbox.open(database_url=database_url, graphs_path=graphs_path)
        inbox.graph(GRAPH_ID)
        barrier.wait(timeout=120)
        outcome = inbox.batch(thread_ids, approve=True, reviewer=f"desk-{index}", comment="race", chunk_size=16)
        results.put((index, [(r.thread_id, r.result) for r in outcome], ""))
        inbox.close()
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put((index, None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
