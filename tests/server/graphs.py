"""Graphs the server-backend tests deploy on `langgraph dev` (compiled without a checkpointer:
the server owns state). Each is a different payload kind."""

from __future__ import annotations

import time
from typing import Any, Literal, TypedDict

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt


class State(TypedDict, total=False):
    action_details: str
    status: str
    name: str
    city: str


# ------------------------------------------------------------------ docs-style approve or reject


def approval_node(state: State) -> Command[Literal["proceed", "cancel"]]:
    decision = interrupt({"question": "Approve this action?", "details": state.get("action_details", "")})
    return Command(goto="proceed" if decision else "cancel")


def proceed_node(state: State) -> dict:
    if state.get("action_details") == "boom":
        raise RuntimeError("the payment provider refused the transfer")
    if state.get("action_details") == "slow":
        time.sleep(3)
    return {"status": "approved"}


def cancel_node(state: State) -> dict:
    return {"status": "rejected"}


_approve = StateGraph(State)
_approve.add_node("approval", approval_node)
_approve.add_node("proceed", proceed_node)
_approve.add_node("cancel", cancel_node)
_approve.add_edge(START, "approval")
_approve.add_edge("proceed", END)
_approve.add_edge("cancel", END)
approve = _approve.compile()

# ------------------------------------------------------------------ two questions in a row


def profile_node(state: State) -> dict:
    name = interrupt("What is your name?")
    city = interrupt("Which city do you live in?")
    return {"name": name, "city": city}


_profile = StateGraph(State)
_profile.add_node("profile", profile_node)
_profile.add_edge(START, "profile")
_profile.add_edge("profile", END)
profile = _profile.compile()

# ------------------------------------------------------------------ LangChain agent + HITL middleware


@tool
def send_email(to: str, subject: str) -> str:
    """Send an email."""
    return f"sent to {to}: {subject}"


class ScriptedToolModel(BaseChatModel):
    """Proposes one send_email call; once a tool answered, says it is done. Stateless, so one
    instance serves every thread of the server."""

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-model"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedToolModel:
        return self

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        if any(isinstance(m, ToolMessage) for m in messages):
            reply = AIMessage(content="done")
        else:
            reply = AIMessage(
                content="",
                tool_calls=[{"name": "send_email", "args": {"to": "a@example.com", "subject": "Q3"}, "id": "c1"}],
            )
        return ChatResult(generations=[ChatGeneration(message=reply)])


agent = create_agent(
    ScriptedToolModel(),
    [send_email],
    middleware=[HumanInTheLoopMiddleware(interrupt_on={"send_email": {"allowed_decisions": ["approve", "edit", "reject"]}})],
)

# ------------------------------------------------------------------ docs-style graphs (tests/docs_graphs.py)
# Written as the LangGraph docs write them, compiled here without a checkpointer: a boolean
# `if decision:` approval, string prompts in a row, two parallel branches paused at once (resumed
# by interrupt id), `Send` fan-out, an interrupt inside a subgraph, a tool that interrupts.

from tests import docs_graphs as _docs  # noqa: E402

docs_approve = _docs.approve_or_reject.compile()
docs_prompts = _docs.three_prompts.compile()
docs_parallel = _docs.parallel_prompts.compile()
docs_send = _docs.send_confirms.compile()
docs_nested = _docs.nested.compile()
docs_hotel = _docs.hotel_agent.compile()
