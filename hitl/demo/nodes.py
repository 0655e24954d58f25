"""What the demo graphs share: the agent and writer nodes, the tool-running graph, small readers of state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, SystemMessage, ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph

from hitl.demo.model import get_chat_model
from hitl.demo.tools import LedgerState, declined, run_tool_calls


class ToolRunState(LedgerState):
    """Office-tool ledgers plus the calls a reviewer cleared to run next."""

    approved_tool_calls: list[dict[str, Any]]
    """Tool calls (`{"name", "args", "id", "type"}`) the `tools` node runs, then clears."""


# Shared nodes and helpers ------------------------------------------------------------------


def agent_node(
    system_prompt: str, tools: Sequence[BaseTool] = ()
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A node that asks the chat model for the next message, with `tools` bound."""

    def agent(state: dict[str, Any]) -> dict[str, Any]:
        model = get_chat_model()
        runnable = model.bind_tools(list(tools)) if tools else model
        reply = runnable.invoke([SystemMessage(system_prompt), *state["messages"]])
        return {"messages": [reply]}

    return agent


def message_text(message: Any) -> str:
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    return "".join(
        block if isinstance(block, str) else str(block.get("text", "")) for block in content
    )


def pending_tool_calls(state: dict[str, Any]) -> list[ToolCall]:
    """Tool calls of the last message, if it is an AI message asking for tools."""
    messages = state.get("messages") or []
    if messages and isinstance(messages[-1], AIMessage):
        return list(messages[-1].tool_calls)
    return []


def review_if_tool_calls(review_node: str) -> Callable[[dict[str, Any]], str]:
    def route(state: dict[str, Any]) -> str:
        return review_node if pending_tool_calls(state) else END

    return route


def after_tool_review(state: dict[str, Any]) -> str:
    """Run cleared calls; return to the agent to report declines; stop after a cancellation."""
    if state.get("approved_tool_calls"):
        return "tools"
    last = state["messages"][-1]
    return "agent" if isinstance(last, ToolMessage) else END


def run_approved_tools(state: dict[str, Any]) -> dict[str, Any]:
    """Run the tool calls the reviewer cleared, recording results and ledger entries."""
    update: dict[str, Any] = run_tool_calls(state.get("approved_tool_calls") or [])
    update["approved_tool_calls"] = []
    return update


def reason_of(answer: dict[str, Any], default: str = "No reason provided") -> str:
    return str(answer.get("reason") or default)


def cancelled(calls: Sequence[ToolCall], reason: str, summary: str) -> dict[str, Any]:
    """Close every pending call without running it and end with `summary`."""
    results = [declined(call, f"rejected by the reviewer ({reason})") for call in calls]
    return {"messages": [*results, AIMessage(summary)]}


def tool_graph(
    state_schema: type,
    system_prompt: str,
    tools: Sequence[BaseTool],
    review_name: str,
    review: Callable[[dict[str, Any]], dict[str, Any]],
) -> StateGraph:
    """agent -> review -> tools -> agent (summary), the loop the tool-approval demos share."""
    builder = StateGraph(state_schema)
    builder.add_node("agent", agent_node(system_prompt, tools))
    builder.add_node(review_name, review)
    builder.add_node("tools", run_approved_tools)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", review_if_tool_calls(review_name), [review_name, END])
    builder.add_conditional_edges(review_name, after_tool_review, ["tools", "agent", END])
    builder.add_edge("tools", "agent")
    return builder


def writer_node(system_prompt: str, key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An agent node that also keeps its text under `key`."""
    agent = agent_node(system_prompt)

    def write(state: dict[str, Any]) -> dict[str, Any]:
        update = agent(state)
        return {**update, key: message_text(update["messages"][0])}

    return write
