"""Four small graphs for bench/inbox.py: prepare -> review (interrupt) -> act.

Each pauses once, with a payload of a different kind (question, confirm, edit, tool_review)
built from the thread's `request`, so copied threads carry their own searchable text.
"""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

__all__ = ["GRAPHS", "refund", "deploy", "newsletter", "crm_tools", "payload"]


class State(TypedDict, total=False):
    request: dict
    log: Annotated[list, operator.add]


def payload(graph_id: str, request: dict) -> object:
    """The interrupt value a graph raises for a request."""
    customer, amount, ref = request["customer"], request["amount"], request["ref"]
    if graph_id == "refund":
        return {
            "action": "refund",
            "details": f"Refund {amount} EUR to {customer} for order {ref}",
            "question": f"Approve the refund of {amount} EUR?",
        }
    if graph_id == "deploy":
        return f"Deploy build {ref} requested by {customer} to production?"
    if graph_id == "newsletter":
        return {
            "type": "edit",
            "draft": f"Dear {customer}, your order {ref} ships today. Total: {amount} EUR.",
            "instructions": "Check the tone and the amount before sending.",
        }
    return {
        "type": "tool_review",
        "tools": [
            {"name": "update_crm", "args": {"customer": customer, "ref": ref}},
            {"name": "issue_credit", "args": {"customer": customer, "amount": amount}},
        ],
        "message": f"The agent wants to update {customer}'s record and issue a credit.",
    }


def _review_refund(state: State) -> dict:
    answer = interrupt(payload("refund", state["request"]))
    return {"log": ["refunded" if answer.get("approved") else f"refused: {answer.get('reason', '')}"]}


def _review_deploy(state: State) -> dict:
    go = interrupt(payload("deploy", state["request"]))
    return {"log": ["deployed" if go else "held"]}


def _review_newsletter(state: State) -> dict:
    answer = interrupt(payload("newsletter", state["request"]))
    if answer.get("action") == "approve":
        return {"log": [f"sent: {answer.get('edited', '')[:40]}"]}
    return {"log": ["rejected" if answer.get("action") == "reject" else "regenerate"]}


def _review_crm_tools(state: State) -> dict:
    answer = interrupt(payload("crm_tools", state["request"]))
    if not answer.get("approved"):
        return {"log": [f"cancelled: {answer.get('reason', '')}"]}
    return {"log": [f"ran {len(answer.get('approved_tools') or [])} calls"]}


_REVIEWS = {"refund": _review_refund, "deploy": _review_deploy, "newsletter": _review_newsletter,
            "crm_tools": _review_crm_tools}
"""Each graph reads its answer the way a real graph of its kind does (the desk reads its contract from this)."""


def _build(graph_id: str) -> StateGraph:
    def prepare(state: State) -> dict:
        return {"log": [f"prepared {state['request']['ref']}"]}

    review = _REVIEWS[graph_id]

    def act(state: State) -> dict:
        return {"log": ["done"]}

    graph = StateGraph(State)
    graph.add_node("prepare", prepare)
    graph.add_node(f"{graph_id}_review", review)
    graph.add_node("act", act)
    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", f"{graph_id}_review")
    graph.add_edge(f"{graph_id}_review", "act")
    graph.add_edge("act", END)
    return graph


refund = _build("refund")
deploy = _build("deploy")
newsletter = _build("newsletter")
crm_tools = _build("crm_tools")

GRAPHS = {"refund": refund, "deploy": deploy, "newsletter": newsletter, "crm_tools": crm_tools}
