"""Demo agents built with `langchain.agents.create_agent` and `HumanInTheLoopMiddleware`.

Both agents use the same office tools and per-tool review policy; they differ only in how
they pause. `agent_batched` raises one interrupt per model turn whose value lists every gated
call (`{"action_requests", "review_configs"}`, answered with `{"decisions": [...]}`);
`agent_per_call` raises one interrupt per gated call (`{"type": "tool_approval", ...}` with a
`response_schema`, answered with a single decision that LangGraph validates).
"""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware, InterruptOnConfig
from langchain_core.messages import ToolCall
from langgraph.types import Checkpointer

from hitl.demo.model import get_chat_model
from hitl.demo.tools import OFFICE_TOOLS, OfficeAgentState, describe_tool_call

__all__ = ["AGENT_PROMPT", "INTERRUPT_ON", "agent_batched", "agent_per_call"]

AGENT_PROMPT = (
    "You are an operations assistant. Carry out the user's request with the tools "
    "send_email, delete_record, make_payment and search_records. Request every tool call the "
    "request needs in one turn, then summarise what was done."
)


def _describe(tool_call: ToolCall, state: Any, runtime: Any) -> str:
    """What the reviewer reads above the arguments: the action in one sentence."""
    return f"{describe_tool_call(tool_call)}."


INTERRUPT_ON: dict[str, bool | InterruptOnConfig] = {
    "send_email": InterruptOnConfig(
        allowed_decisions=["approve", "edit", "reject", "respond"], description=_describe
    ),
    "delete_record": InterruptOnConfig(
        allowed_decisions=["approve", "reject", "edit"], description=_describe
    ),
    "make_payment": InterruptOnConfig(
        allowed_decisions=["approve", "reject"], description=_describe
    ),
    "search_records": False,
}
"""Review policy: payments are approve/reject only; searches run without review."""


def _office_agent(mode: str, name: str, checkpointer: Checkpointer) -> Any:
    return create_agent(
        get_chat_model(),
        tools=OFFICE_TOOLS,
        system_prompt=AGENT_PROMPT,
        middleware=[HumanInTheLoopMiddleware(interrupt_on=INTERRUPT_ON, interrupt_mode=mode)],
        state_schema=OfficeAgentState,
        checkpointer=checkpointer,
        name=name,
    )


def agent_batched(checkpointer: Checkpointer = None) -> Any:
    """The office agent with one batched HITL interrupt per model turn."""
    return _office_agent("batched", "agent_batched", checkpointer)


def agent_per_call(checkpointer: Checkpointer = None) -> Any:
    """The office agent with one typed HITL interrupt per gated tool call."""
    return _office_agent("per_call", "agent_per_call", checkpointer)
