"""Demo graphs that propose tool calls for review: tool_review, selective_review, agent_inbox."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langgraph.prebuilt.interrupt import HumanInterrupt, HumanInterruptConfig, HumanResponse
from langgraph.types import interrupt

from hitl.demo.nodes import ToolRunState, cancelled, pending_tool_calls, reason_of, tool_graph
from hitl.demo.tools import OFFICE_TOOLS, SENSITIVE_TOOL_NAMES, declined, describe_tool_call, make_payment, send_email


# tool_review (kind: tool_review) -----------------------------------------------------------

OPERATIONS_PROMPT = (
    "You are an operations assistant with tools for email, payments, record deletion and "
    "search. Carry out every part of the user's request with tool calls, then report back."
)


def _match_approved(
    calls: Sequence[ToolCall], approved_tools: Sequence[dict[str, Any]]
) -> tuple[list[ToolCall], list[ToolCall]]:
    """Pair each approved `{name, args}` with a proposed call of that name, keeping its id.

    Returns the calls to run (with the reviewer's args) and the proposed calls left out.
    """
    unused = list(calls)
    to_run: list[ToolCall] = []
    for approved in approved_tools:
        original = next((call for call in unused if call["name"] == approved.get("name")), None)
        if original is None:
            proposed = ", ".join(call["name"] for call in calls)
            msg = (
                f"Approved tool {approved.get('name')!r} was not proposed by the agent "
                f"(proposed: {proposed}). Approve only proposed tool calls, with edited args."
            )
            raise ValueError(msg)
        unused.remove(original)
        to_run.append({**original, "args": dict(approved.get("args") or {})})
    return to_run, unused


def review_tool_calls(state: ToolRunState) -> dict[str, Any]:
    """Show every proposed call; run only the ticked (possibly edited) ones."""
    calls = pending_tool_calls(state)
    proposed = [{"name": call["name"], "args": call["args"]} for call in calls]
    answer = interrupt(
        {
            "type": "tool_review",
            "tools": proposed,
            "message": "Review these tool calls before execution. Untick or edit any you "
            "do not want run as proposed.",
        }
    )
    if not answer.get("approved"):
        reason = reason_of(answer, "cancelled")
        return cancelled(calls, reason, f"Tool execution cancelled by reviewer: {reason}")
    approved_tools = answer.get("approved_tools")
    if approved_tools is None:
        approved_tools = proposed
    to_run, left_out = _match_approved(calls, approved_tools)
    return {
        "approved_tool_calls": to_run,
        "messages": [declined(call, "not approved by the reviewer") for call in left_out],
    }


tool_review = tool_graph(
    ToolRunState, OPERATIONS_PROMPT, OFFICE_TOOLS, "review_tool_calls", review_tool_calls
)
"""tool_review: `{"type": "tool_review", "tools", "message"}` -> `{"approved", "approved_tools"}`"""


# selective_review (kind: sensitive_tools) --------------------------------------------------


def review_sensitive_calls(state: ToolRunState) -> dict[str, Any]:
    """Ask about sensitive calls only; other calls run without review."""
    calls = pending_tool_calls(state)
    sensitive = [call for call in calls if call["name"] in SENSITIVE_TOOL_NAMES]
    if not sensitive:
        return {"approved_tool_calls": calls}
    names = ", ".join(call["name"] for call in sensitive)
    answer = interrupt(
        {
            "sensitive_tools": [dict(call) for call in sensitive],
            "message": f"Sensitive operations require approval: {names}.",
        }
    )
    if answer.get("approved"):
        return {"approved_tool_calls": calls}
    reason = reason_of(answer)
    return {
        "approved_tool_calls": [call for call in calls if call not in sensitive],
        "messages": [
            declined(call, f"sensitive operation denied by the reviewer ({reason})")
            for call in sensitive
        ],
    }


selective_review = tool_graph(
    ToolRunState, OPERATIONS_PROMPT, OFFICE_TOOLS, "review_sensitive_calls", review_sensitive_calls
)
"""sensitive_tools: `{"sensitive_tools": [tool calls], "message"}` -> `{"approved", "reason"?}`."""


# agent_inbox (kind: agent_inbox) -----------------------------------------------------------

INBOX_PROMPT = (
    "You are an executive assistant with tools for email and payments. Carry out the "
    "user's request with tool calls, then report back."
)

INBOX_CONFIGS: dict[str, HumanInterruptConfig] = {
    "send_email": {
        "allow_ignore": True,
        "allow_respond": True,
        "allow_edit": True,
        "allow_accept": True,
    },
    "make_payment": {
        "allow_ignore": True,
        "allow_respond": True,
        "allow_edit": False,
        "allow_accept": True,
    },
}
"""Agent Inbox `HumanInterruptConfig` per tool: payments may not be edited, only accepted."""

_ALLOW_KEY = {
    "accept": "allow_accept",
    "edit": "allow_edit",
    "response": "allow_respond",
    "ignore": "allow_ignore",
}


def _markdown_description(call: ToolCall) -> str:
    lines = [f"### {describe_tool_call(call)}", ""]
    for key, value in call["args"].items():
        text = value if isinstance(value, str) else json.dumps(value)
        if "\n" in str(text):
            quoted = "\n".join(f"> {line}" for line in str(text).splitlines())
            lines.extend(["", f"**{key}**:", "", quoted, ""])
        else:
            lines.append(f"- **{key}**: {text}")
    return "\n".join(lines).rstrip()


def inbox_review(state: ToolRunState) -> dict[str, Any]:
    """One Agent Inbox `HumanInterrupt` per tool call, acting on accept/edit/response/ignore."""
    to_run: list[ToolCall] = []
    results: list[ToolMessage] = []
    for call in pending_tool_calls(state):
        config = INBOX_CONFIGS.get(call["name"], INBOX_CONFIGS["make_payment"])
        request: HumanInterrupt = {
            "action_request": {"action": call["name"], "args": call["args"]},
            "config": config,
            "description": _markdown_description(call),
        }
        answer = interrupt([request])
        response: HumanResponse = answer[0] if isinstance(answer, list) else answer
        kind = response.get("type")
        if kind not in _ALLOW_KEY or not config[_ALLOW_KEY[kind]]:
            allowed = [name for name, key in _ALLOW_KEY.items() if config[key]]
            msg = f"Response type {kind!r} is not allowed for {call['name']}; allowed: {allowed}."
            raise ValueError(msg)
        if kind == "accept":
            to_run.append(call)
        elif kind == "edit":
            # The edited ActionRequest's args replace the call's; the tool stays the proposed one.
            edited = response.get("args") or {}
            to_run.append({**call, "args": dict(edited.get("args") or {})})
        elif kind == "response":
            results.append(
                ToolMessage(
                    f"{call['name']} was not run; the reviewer replied: {response.get('args')}",
                    name=call["name"],
                    tool_call_id=call["id"],
                )
            )
        else:
            results.append(declined(call, "ignored by the reviewer"))
    update: dict[str, Any] = {"approved_tool_calls": to_run, "messages": results}
    if not to_run and all(result.status == "error" for result in results):
        update["messages"] = [*results, AIMessage("Ignored by the reviewer; nothing was done.")]
    return update


agent_inbox = tool_graph(
    ToolRunState, INBOX_PROMPT, [send_email, make_payment], "human_review", inbox_review
)
"""agent_inbox: `[HumanInterrupt]` -> `[{"type": "accept"|"edit"|"response"|"ignore", "args"}]`."""
