"""Demo graphs: one per human-in-the-loop pattern the desk reviews, each pausing at `interrupt()`.

Hand-made graphs are exposed as uncompiled `StateGraph` builders (the desk compiles them with
its own checkpointer); `create_agent` graphs as functions taking a checkpointer. Every graph
starts with an agent node backed by `get_chat_model()`, so it runs offline with the scripted
model and against OpenAI when `OPENAI_API_KEY` is set.

Model calls happen in nodes that never interrupt, and review nodes only read state before
`interrupt()`: a node re-runs from its start on resume, and the reviewer must be answering
about exactly what they were shown. Side effects (the office tools) run after the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.graph import StateGraph

from hitl.demo.agents import agent_batched, agent_per_call
from hitl.demo.approval_graphs import APPROVAL_LEVELS, approval_chain, draft_edit, email_approval, simple_confirm, two_stage
from hitl.demo.state_graphs import APPROVAL_WINDOW_SECONDS, MAX_FEEDBACK_ROUNDS, feedback_loop, schema_form, state_edit, timed_approval
from hitl.demo.tool_graphs import agent_inbox, selective_review, tool_review

__all__ = [
    "DEMO_GRAPH_IDS",
    "DEMO_GRAPHS",
    "APPROVAL_LEVELS",
    "APPROVAL_WINDOW_SECONDS",
    "MAX_FEEDBACK_ROUNDS",
    "email_approval",
    "two_stage",
    "simple_confirm",
    "draft_edit",
    "approval_chain",
    "tool_review",
    "selective_review",
    "state_edit",
    "feedback_loop",
    "timed_approval",
    "agent_batched",
    "agent_per_call",
    "agent_inbox",
    "schema_form",
]


# Registry ----------------------------------------------------------------------------------

DEMO_GRAPHS: dict[str, StateGraph | Callable[..., Any]] = {
    "email_approval": email_approval,
    "two_stage": two_stage,
    "simple_confirm": simple_confirm,
    "draft_edit": draft_edit,
    "approval_chain": approval_chain,
    "tool_review": tool_review,
    "selective_review": selective_review,
    "state_edit": state_edit,
    "feedback_loop": feedback_loop,
    "timed_approval": timed_approval,
    "agent_batched": agent_batched,
    "agent_per_call": agent_per_call,
    "agent_inbox": agent_inbox,
    "schema_form": schema_form,
}
"""Each demo graph by id: an uncompiled `StateGraph`, or a function taking a checkpointer."""

DEMO_GRAPH_IDS: list[str] = list(DEMO_GRAPHS)
"""Demo graph ids in seeding order."""
