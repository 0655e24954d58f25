"""Graphs written the way the LangGraph and LangChain docs write them, registered without metadata
conventions of the desk: the answer contract must come from their code, never from the payload.

Every "action" that should only happen on approval appends to `state["effects"]`, so a test can
tell which path the graph took.
"""

from __future__ import annotations

import operator
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AIMessage, AnyMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode
from langgraph.types import Command, Send, interrupt


class State(TypedDict, total=False):
    action_details: str
    status: str
    effects: Annotated[list, operator.add]
    age: int
    profile: str
    answers: Annotated[list, operator.add]
    received: Any
    messages: Annotated[list[AnyMessage], add_messages]


# ------------------------------------------------------------------ approve or reject (docs)


def approval_node(state: State) -> Command[Literal["proceed", "cancel"]]:
    decision = interrupt({"question": "Approve this action?", "details": state.get("action_details", "")})
    return Command(goto="proceed" if decision else "cancel")


def proceed_node(state: State) -> dict:
    return {"status": "approved", "effects": ["performed"]}


def cancel_node(state: State) -> dict:
    return {"status": "rejected"}


approve_or_reject = StateGraph(State)
approve_or_reject.add_node("approval", approval_node)
approve_or_reject.add_node("proceed", proceed_node)
approve_or_reject.add_node("cancel", cancel_node)
approve_or_reject.add_edge(START, "approval")
approve_or_reject.add_edge("proceed", END)
approve_or_reject.add_edge("cancel", END)


# ------------------------------------------------------------------ validation loops


def get_age_node(state: State) -> dict:
    prompt = "What is your age?"
    while True:
        answer = interrupt(prompt)
        try:
            age = int(answer)
        except (TypeError, ValueError):
            prompt = f"'{answer}' is not a valid age. What is your age?"
            continue
        if age > 0:
            break
        prompt = f"'{answer}' is not a valid age. What is your age?"
    return {"age": age}


age_loop = StateGraph(State)
age_loop.add_node("get_age", get_age_node)
age_loop.add_edge(START, "get_age")
age_loop.add_edge("get_age", END)


def get_age_strict(state: State) -> dict:
    prompt = "What is your age?"
    while True:
        answer = interrupt(prompt)
        if isinstance(answer, int) and answer > 0:
            break
        prompt = f"'{answer}' is not a valid age. What is your age?"
    return {"age": answer}


age_number = StateGraph(State)
age_number.add_node("get_age", get_age_strict)
age_number.add_edge(START, "get_age")
age_number.add_edge("get_age", END)


# ------------------------------------------------------------------ several string prompts


def profile_node(state: State) -> dict:
    name = interrupt("What is your name?")
    city = interrupt("Which city do you live in?")
    colour = interrupt("What is your favourite colour?")
    return {"profile": f"{name.strip()} from {city.strip()} likes {colour.lower()}"}


three_prompts = StateGraph(State)
three_prompts.add_node("profile", profile_node)
three_prompts.add_edge(START, "profile")
three_prompts.add_edge("profile", END)


def _branch(name: str):
    def node(state: State) -> dict:
        answer = interrupt(f"Question for {name}: what should we do?")
        return {"answers": [f"{name}={answer.strip()}"]}

    return node


parallel_prompts = StateGraph(State)
parallel_prompts.add_node("left", _branch("left"))
parallel_prompts.add_node("right", _branch("right"))
parallel_prompts.add_edge(START, "left")
parallel_prompts.add_edge(START, "right")
parallel_prompts.add_edge("left", END)
parallel_prompts.add_edge("right", END)


def _fan_out(state: State) -> list[Send]:
    return [Send("confirm_item", {"action_details": item}) for item in ("a", "b")]


def confirm_item(state: State) -> dict:
    ok = interrupt(f"Ship item {state['action_details']}?")
    if ok:
        return {"effects": [f"shipped {state['action_details']}"]}
    return {"answers": [f"held {state['action_details']}"]}


send_confirms = StateGraph(State)
send_confirms.add_node("confirm_item", confirm_item)
send_confirms.add_conditional_edges(START, _fan_out, ["confirm_item"])
send_confirms.add_edge("confirm_item", END)


# ------------------------------------------------------------------ nested subgraph


_inner = StateGraph(State)
_inner.add_node("inner_approval", approval_node)
_inner.add_node("proceed", proceed_node)
_inner.add_node("cancel", cancel_node)
_inner.add_edge(START, "inner_approval")
_inner.add_edge("proceed", END)
_inner.add_edge("cancel", END)

nested = StateGraph(State)
nested.add_node("outer", _inner.compile())
nested.add_edge(START, "outer")
nested.add_edge("outer", END)


# ------------------------------------------------------------------ react-agent tool interrupt


@tool
def book_hotel(hotel_name: str) -> str:
    """Book a hotel."""
    response = interrupt(
        f"Trying to call `book_hotel` with args {{'hotel_name': {hotel_name}}}. Please approve or suggest edits."
    )
    if response["type"] == "accept":
        pass
    elif response["type"] == "edit":
        hotel_name = response["args"]["hotel_name"]
    else:
        raise ValueError(f"Unknown response type: {response['type']}")
    return f"Successfully booked a stay at {hotel_name}."


def _plan_booking(state: State) -> dict:
    call = {"name": "book_hotel", "args": {"hotel_name": "McKittrick Hotel"}, "id": "call-1", "type": "tool_call"}
    return {"messages": [AIMessage(content="", tool_calls=[call])]}


hotel_agent = StateGraph(State)
hotel_agent.add_node("agent", _plan_booking)
hotel_agent.add_node("tools", ToolNode([book_hotel]))
hotel_agent.add_edge(START, "agent")
hotel_agent.add_edge("agent", "tools")
hotel_agent.add_edge("tools", END)


# ------------------------------------------------------------------ async nodes


async def async_review(state: State) -> dict:
    answer = interrupt({"action": "send_email", "details": state.get("action_details", ""), "question": "Send it?"})
    if answer.get("approved"):
        return {"status": "approved", "effects": ["sent"]}
    return {"status": "rejected"}


async_graph = StateGraph(State)
async_graph.add_node("review", async_review)
async_graph.add_edge(START, "review")
async_graph.add_edge("review", END)


# ------------------------------------------------------------------ typed tool args


TYPED_ARGS = {
    "amount": Decimal("50000.00"),
    "due": datetime(2026, 12, 24, 9, 30),
    "memo": b"\x00\x01invoice",
    "tags": {"urgent"},
    "lines": {1: "first", 2: "second"},
}


def typed_review(state: State) -> dict:
    answer = interrupt(
        {"type": "tool_review", "tools": [{"name": "make_payment", "args": dict(TYPED_ARGS)}], "message": "Review"}
    )
    if answer.get("approved"):
        return {"received": answer.get("approved_tools"), "effects": ["paid"]}
    return {"status": "rejected"}


typed_tool_review = StateGraph(State)
typed_tool_review.add_node("review", typed_review)
typed_tool_review.add_edge(START, "review")
typed_tool_review.add_edge("review", END)


# ------------------------------------------------------------------ contract from a schema / a declaration


def schema_node(state: State) -> dict:
    ok = interrupt("Deploy to production?", response_schema={"type": "boolean"})
    return {"effects": ["deployed"]} if ok else {"status": "rejected"}


schema_bool = StateGraph(State)
schema_bool.add_node("deploy", schema_node)
schema_bool.add_edge(START, "deploy")
schema_bool.add_edge("deploy", END)


def schema_question_node(state: State) -> dict:
    reply = interrupt(
        {"question": "Refund this order?", "details": state.get("action_details", "")},
        response_schema={"type": "object", "properties": {"refund": {"type": "boolean"}, "note": {"type": "string"}},
                         "required": ["refund"]},
    )
    return {"effects": ["refunded"]} if reply["refund"] else {"status": "rejected"}


schema_question = StateGraph(State)
schema_question.add_node("refund", schema_question_node)
schema_question.add_edge(START, "refund")
schema_question.add_edge("refund", END)


def _opaque(value: Any) -> Any:
    return value


def declared_node(state: State) -> dict:
    verdict = _opaque(interrupt({"question": "Wire the money?", "details": state.get("action_details", "")}))
    return {"effects": ["wired"]} if verdict == {"decision": "go"} else {"status": "rejected"}


declared = StateGraph(State)
declared.add_node("wire", declared_node)
declared.add_edge(START, "wire")
declared.add_edge("wire", END)


def passthrough_node(state: State) -> dict:
    reviewed = interrupt({"question": "Review this content", "details": state.get("action_details", "")})
    return {"received": reviewed}


passthrough = StateGraph(State)
passthrough.add_node("review", passthrough_node)
passthrough.add_edge(START, "review")
passthrough.add_edge("review", END)


def payment_gate(state: State) -> dict:
    ok = interrupt({
        "sensitive_tools": [{"name": "make_payment", "args": {"recipient": "mallory", "amount": 50000}}],
        "message": "Sensitive operations require approval",
    })
    return {"effects": ["paid"]} if ok else {"status": "rejected"}


truthy_payment = StateGraph(State)
truthy_payment.add_node("gate", payment_gate)
truthy_payment.add_edge(START, "gate")
truthy_payment.add_edge("gate", END)


async def make_async_graph():
    """An async factory, as `langgraph.json` allows: returns the uncompiled async graph."""
    return async_graph


GRAPHS = {
    name: f"{__file__}:{name}"
    for name in (
        "approve_or_reject", "age_loop", "age_number", "three_prompts", "parallel_prompts", "send_confirms",
        "nested", "hotel_agent", "async_graph", "typed_tool_review", "schema_bool", "declared", "passthrough", "truthy_payment", "schema_question",
    )
} | {"async_factory": f"{__file__}:make_async_graph"}  # fmt: skip
