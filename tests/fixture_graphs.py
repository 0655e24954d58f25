"""Small graphs built the way people build them, for the core tests (not demo data)."""

from __future__ import annotations

import operator
import time
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    topic: str
    log: Annotated[list, operator.add]


def _plan(state: State) -> dict:
    return {"log": [f"planned {state.get('topic', '')}"]}


def _review(name: str):
    def node(state: State) -> dict:
        answer = interrupt({"action": f"{name}_action", "details": f"{name} for {state.get('topic')}", "question": f"Approve {name}?"})
        return {"log": [f"{name}:{'approved' if answer.get('approved') else 'rejected'}"]}

    return node


def _inner(state: State) -> dict:
    answer = interrupt("Proceed inside the subgraph?")
    return {"log": [f"inner:{bool(answer)}"]}


_sub = StateGraph(State)
_sub.add_node("inner_confirm", _inner)
_sub.add_edge(START, "inner_confirm")
_sub.add_edge("inner_confirm", END)

parallel = StateGraph(State)
"""plan → (left_review, right_review, nested) in parallel; nested is a subgraph that interrupts."""
parallel.add_node("plan", _plan)
parallel.add_node("left_review", _review("left"))
parallel.add_node("right_review", _review("right"))
parallel.add_node("nested", _sub.compile())
parallel.add_edge(START, "plan")
for _node in ("left_review", "right_review", "nested"):
    parallel.add_edge("plan", _node)
    parallel.add_edge(_node, END)


def _two_questions(state: State) -> dict:
    first = interrupt("First: ship it?")
    second = interrupt({"type": "edit", "draft": "Release notes v1", "instructions": "Edit the notes"})
    return {"log": [f"first:{bool(first)}", f"second:{second.get('action')}:{second.get('edited', '')}"]}


two_in_one = StateGraph(State)
"""One node calling interrupt() twice."""
two_in_one.add_node("double_check", _two_questions)
two_in_one.add_edge(START, "double_check")
two_in_one.add_edge("double_check", END)


FLAKY_ATTEMPTS: dict[str, int] = {}


def _fragile(state: State) -> dict:
    answer = interrupt({"action": "deploy", "details": f"deploy {state.get('topic')} to prod", "question": "Deploy?"})
    if answer.get("reason") == "boom":
        raise RuntimeError("deploy script exploded")
    if answer.get("reason") == "flaky":
        topic = str(state.get("topic"))
        FLAKY_ATTEMPTS[topic] = FLAKY_ATTEMPTS.get(topic, 0) + 1
        if FLAKY_ATTEMPTS[topic] == 1:
            raise ConnectionError("deploy API timed out")
    return {"log": [f"deployed:{answer.get('approved')}"]}


fragile = StateGraph(State)
"""Raises on resume when the reason is 'boom'."""
fragile.add_node("fragile_deploy", _fragile)
fragile.add_edge(START, "fragile_deploy")
fragile.add_edge("fragile_deploy", END)


def _slow(state: State) -> dict:
    answer = interrupt("Run the slow job?")
    time.sleep(3)
    return {"log": [f"slow:{answer}"]}


slow = StateGraph(State)
slow.add_node("slow_job", _slow)
slow.add_edge(START, "slow_job")
slow.add_edge("slow_job", END)


def _shared_review(state: State) -> dict:
    answer = interrupt("Shared review?")
    return {"log": [f"shared:{answer}"]}


def _ambiguous() -> StateGraph:
    graph = StateGraph(State)
    graph.add_node("review", _shared_review)
    graph.add_edge(START, "review")
    graph.add_edge("review", END)
    return graph


twin_a = _ambiguous()
twin_b = _ambiguous()


def compiled_with(checkpointer=None):
    """A function taking a checkpointer, as some projects register graphs."""
    return two_in_one.compile(checkpointer=checkpointer)


broken = "tests/fixture_broken.py:graph"
