"""A graph that asks a reviewer about whatever payload its input carries, for the access tests.

`ask_reviewer` calls `interrupt(state["payload"])` and keeps the answer (`approved`, and a
tool_review's `approved_tools`); `act` then records each tool
call the answer lets run (`ran`), the way the demo agents execute approved calls. The tests
choose the payload: tool names with invisible characters, `Decimal` amounts, and so on.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    payload: Any
    answer: Any
    ran: Annotated[list, operator.add]


def _ask(state: State) -> dict:
    answer = interrupt(state["payload"])
    if not answer.get("approved"):
        return {"answer": {"approved": False, "reason": answer.get("reason")}}
    return {"answer": {"approved": True, "approved_tools": answer.get("approved_tools")}}


def _act(state: State) -> dict:
    from hitl.access import approved_calls
    from hitl.payloads import classify

    payload, answer = state["payload"], dict(state.get("answer") or {})
    if answer.get("approved_tools") is None:
        answer.pop("approved_tools", None)
    calls = approved_calls(classify(payload, None), payload, answer) or []
    return {"ran": [{"name": call["name"], "args": call["args"]} for call in calls]}


asks = StateGraph(State)
"""ask (interrupt with the input's payload) -> act (runs the approved calls)."""
asks.add_node("ask_reviewer", _ask)
asks.add_node("act", _act)
asks.add_edge(START, "ask_reviewer")
asks.add_edge("ask_reviewer", "act")
asks.add_edge("act", END)
