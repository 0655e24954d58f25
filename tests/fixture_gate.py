"""A graph whose work after the review waits at a gate the test opens: a resume held in flight.

`ask` pauses at a question; once answered, `work` (the next step, so the checkpoint after
`ask` no longer shows the interrupt) sets `ENTERED` and waits for `GATE`. While it waits, the
winner's claim is open and its audit row is not written yet: the window in which a second
`/approve` of the same thread used to get 422 "no pending interrupt" instead of 409.
"""

from __future__ import annotations

import operator
import threading
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

ENTERED = threading.Event()
GATE = threading.Event()
GATE_TIMEOUT_SECONDS = 60.0
"""A guard against a hung test run, never reached when the test opens the gate."""


class State(TypedDict, total=False):
    topic: str
    log: Annotated[list, operator.add]


def _ask(state: State) -> dict:
    answer = interrupt({"action": "pay", "details": f"pay for {state.get('topic')}", "question": "Pay?"})
    return {"log": [f"asked:{answer.get('approved')}"]}


def _work(state: State) -> dict:
    ENTERED.set()
    GATE.wait(GATE_TIMEOUT_SECONDS)
    return {"log": ["worked"]}


gated = StateGraph(State)
gated.add_node("ask", _ask)
gated.add_node("work", _work)
gated.add_edge(START, "ask")
gated.add_edge("ask", "work")
gated.add_edge("work", END)
