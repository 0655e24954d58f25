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

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt.interrupt import HumanInterrupt, HumanInterruptConfig, HumanResponse
from langgraph.types import interrupt

from hitl.demo.agents import agent_batched, agent_per_call
from hitl.demo.forms import TicketResolution
from hitl.demo.model import get_chat_model
from hitl.demo.tools import (
    OFFICE_TOOLS,
    SENSITIVE_TOOL_NAMES,
    LedgerState,
    declined,
    delete_record,
    describe_tool_call,
    make_payment,
    run_tool_calls,
    send_email,
)

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

APPROVAL_LEVELS = ("manager", "director", "vp")
"""Who signs off in `approval_chain`, in order."""

APPROVAL_WINDOW_SECONDS = 86_400
"""How long a `timed_approval` request stays valid after `requested_at`."""

MAX_FEEDBACK_ROUNDS = 5
"""`feedback_loop` finalizes the latest version after this many rounds of feedback."""


class ToolRunState(LedgerState):
    """Office-tool ledgers plus the calls a reviewer cleared to run next."""

    approved_tool_calls: list[dict[str, Any]]
    """Tool calls (`{"name", "args", "id", "type"}`) the `tools` node runs, then clears."""


# Shared nodes and helpers ------------------------------------------------------------------


def _agent_node(
    system_prompt: str, tools: Sequence[BaseTool] = ()
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A node that asks the chat model for the next message, with `tools` bound."""

    def agent(state: dict[str, Any]) -> dict[str, Any]:
        model = get_chat_model()
        runnable = model.bind_tools(list(tools)) if tools else model
        reply = runnable.invoke([SystemMessage(system_prompt), *state["messages"]])
        return {"messages": [reply]}

    return agent


def _text(message: Any) -> str:
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    return "".join(
        block if isinstance(block, str) else str(block.get("text", "")) for block in content
    )


def _pending_tool_calls(state: dict[str, Any]) -> list[ToolCall]:
    """Tool calls of the last message, if it is an AI message asking for tools."""
    messages = state.get("messages") or []
    if messages and isinstance(messages[-1], AIMessage):
        return list(messages[-1].tool_calls)
    return []


def _review_if_tool_calls(review_node: str) -> Callable[[dict[str, Any]], str]:
    def route(state: dict[str, Any]) -> str:
        return review_node if _pending_tool_calls(state) else END

    return route


def _after_tool_review(state: dict[str, Any]) -> str:
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


def _reason(answer: dict[str, Any], default: str = "No reason provided") -> str:
    return str(answer.get("reason") or default)


def _cancelled(calls: Sequence[ToolCall], reason: str, summary: str) -> dict[str, Any]:
    """Close every pending call without running it and end with `summary`."""
    results = [declined(call, f"rejected by the reviewer ({reason})") for call in calls]
    return {"messages": [*results, AIMessage(summary)]}


def _tool_graph(
    state_schema: type,
    system_prompt: str,
    tools: Sequence[BaseTool],
    review_name: str,
    review: Callable[[dict[str, Any]], dict[str, Any]],
) -> StateGraph:
    """agent -> review -> tools -> agent (summary), the loop the tool-approval demos share."""
    builder = StateGraph(state_schema)
    builder.add_node("agent", _agent_node(system_prompt, tools))
    builder.add_node(review_name, review)
    builder.add_node("tools", run_approved_tools)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", _review_if_tool_calls(review_name), [review_name, END])
    builder.add_conditional_edges(review_name, _after_tool_review, ["tools", "agent", END])
    builder.add_edge("tools", "agent")
    return builder


# email_approval (kind: question) -----------------------------------------------------------

EMAIL_PROMPT = (
    "You are an assistant that sends emails for the user with the send_email tool. "
    "Write a clear subject line and a complete, polite body."
)


def review_email(state: ToolRunState) -> dict[str, Any]:
    """Ask whether the proposed email may be sent; send it or cancel with the reason."""
    calls = _pending_tool_calls(state)
    details: Any = calls[0]["args"] if len(calls) == 1 else [call["args"] for call in calls]
    recipients = ", ".join(str(call["args"].get("to")) for call in calls)
    answer = interrupt(
        {
            "action": calls[0]["name"],
            "details": details,
            "question": f"Approve this email to {recipients}?",
        }
    )
    if answer.get("approved"):
        return {"approved_tool_calls": calls}
    reason = _reason(answer)
    return _cancelled(calls, reason, f"Action cancelled: {reason}")


email_approval = _tool_graph(
    ToolRunState, EMAIL_PROMPT, [send_email], "review_email", review_email
)
"""question: `{"action", "details", "question"}` -> `{"approved", "reason"?}`."""


# two_stage (kind: stage) -------------------------------------------------------------------


class TwoStageState(MessagesState):
    """A report written in two reviewed stages: outline, then full text."""

    stage: str
    outline: str
    report: str
    approved_stages: list[str]
    status: str


OUTLINE_PROMPT = (
    "You are an analyst. Write a short numbered outline, five points at most, "
    "for the document the user asks for."
)
REPORT_PROMPT = (
    "You are an analyst. Write the full report the user asked for, following the plan "
    "approved earlier in the conversation, in under 200 words."
)


def _writer_node(system_prompt: str, key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An agent node that also keeps its text under `key`."""
    agent = _agent_node(system_prompt)

    def write(state: dict[str, Any]) -> dict[str, Any]:
        update = agent(state)
        return {**update, key: _text(update["messages"][0])}

    return write


def _stage_review(stage: str, key: str, message: str, next_stage: str) -> Callable[..., Any]:
    def review(state: TwoStageState) -> dict[str, Any]:
        answer = interrupt({"stage": stage, "result": state[key], "message": message})
        if not answer.get("approved"):
            reason = _reason(answer)
            return {
                "status": "rejected",
                "messages": [AIMessage(f"Stage '{stage}' rejected: {reason}")],
            }
        approved = [*state.get("approved_stages", []), stage]
        if next_stage == "published":
            return {
                "stage": next_stage,
                "approved_stages": approved,
                "status": "published",
                "messages": [AIMessage("Report approved at every stage and published.")],
            }
        return {
            "stage": next_stage,
            "approved_stages": approved,
            "messages": [HumanMessage(f"The {stage} is approved. Continue with the {next_stage}.")],
        }

    return review


def _unless_rejected(next_node: str) -> Callable[[dict[str, Any]], str]:
    def route(state: dict[str, Any]) -> str:
        return END if state.get("status") == "rejected" else next_node

    return route


two_stage = StateGraph(TwoStageState)
"""stage: `{"stage", "result", "message"}` for "outline", then "report" -> `{"approved", ...}`."""
two_stage.add_node("write_outline", _writer_node(OUTLINE_PROMPT, "outline"))
two_stage.add_node(
    "review_outline",
    _stage_review(
        "outline", "outline", "Review the outline before the report is written", "report"
    ),
)
two_stage.add_node("write_report", _writer_node(REPORT_PROMPT, "report"))
two_stage.add_node(
    "review_report",
    _stage_review("report", "report", "Review the report before it is published", "published"),
)
two_stage.add_edge(START, "write_outline")
two_stage.add_edge("write_outline", "review_outline")
two_stage.add_conditional_edges(
    "review_outline", _unless_rejected("write_report"), ["write_report", END]
)
two_stage.add_edge("write_report", "review_report")
two_stage.add_edge("review_report", END)


# simple_confirm (kind: confirm) ------------------------------------------------------------

CONFIRM_PROMPT = (
    "You are a data steward. Use delete_record to delete the records the user names, "
    "giving the reason they state."
)


def confirm_action(state: ToolRunState) -> dict[str, Any]:
    """Ask a plain yes/no question; a truthy answer runs the action."""
    calls = _pending_tool_calls(state)
    actions = "; ".join(describe_tool_call(call) for call in calls)
    if interrupt(f"Proceed with this action? {actions}."):
        return {"approved_tool_calls": calls}
    return _cancelled(calls, "declined", "Action cancelled by user")


simple_confirm = _tool_graph(
    ToolRunState, CONFIRM_PROMPT, [delete_record], "confirm_action", confirm_action
)
"""confirm: a plain question string -> `True` / `False`."""


# draft_edit (kind: edit) -------------------------------------------------------------------


class DraftState(MessagesState):
    """A reply draft that a reviewer edits, approves, rejects or sends back."""

    draft: str
    revision: int
    final_draft: str
    status: str


DRAFT_PROMPT = (
    "You are a customer-care agent. Draft a reply email to the customer the user names. "
    "When asked for a new version, write a fresh one."
)


def write_draft(state: DraftState) -> dict[str, Any]:
    """Write (or rewrite) the draft."""
    update = _agent_node(DRAFT_PROMPT)(state)
    return {
        **update,
        "draft": _text(update["messages"][0]),
        "revision": state.get("revision", 0) + 1,
        "status": "in_review",
    }


def review_draft(state: DraftState) -> dict[str, Any]:
    """Approve (possibly edited), reject, or ask for a regenerated draft."""
    draft = state["draft"]
    answer = interrupt(
        {
            "type": "edit",
            "draft": draft,
            "instructions": "Edit the draft and approve it, reject it, or ask for a new version.",
        }
    )
    action = answer.get("action")
    edited = answer.get("edited") or ""
    if action == "approve":
        final = edited or draft
        return {"final_draft": final, "status": "approved", "messages": [AIMessage(final)]}
    if action == "reject":
        reason = answer.get("reason")
        text = f"Draft rejected: {reason}" if reason else "Draft rejected"
        return {"status": "rejected", "messages": [AIMessage(text)]}
    if action == "regenerate":
        request = "Please write a new version of the draft."
        if edited:
            request += f" Use this as a starting point:\n\n{edited}"
        return {"status": "regenerating", "messages": [HumanMessage(request)]}
    msg = (
        f"Unknown edit action {action!r}. Expected 'approve', 'reject' or 'regenerate'; "
        "send one of those as the answer's 'action'."
    )
    raise ValueError(msg)


def _after_draft_review(state: DraftState) -> str:
    return "write_draft" if state.get("status") == "regenerating" else END


draft_edit = StateGraph(DraftState)
"""edit: `{"type": "edit", "draft", "instructions"}` -> `{"action", "edited"?}`."""
draft_edit.add_node("write_draft", write_draft)
draft_edit.add_node("review_draft", review_draft)
draft_edit.add_edge(START, "write_draft")
draft_edit.add_edge("write_draft", "review_draft")
draft_edit.add_conditional_edges("review_draft", _after_draft_review, ["write_draft", END])


# approval_chain (kind: approval_level) -----------------------------------------------------


class ApprovalChainState(MessagesState):
    """A purchase request that needs manager, director and VP sign-off."""

    purchase_request: str
    approval_level: int
    approvers: list[str]
    purchase_order: dict[str, Any]
    status: str


PURCHASE_PROMPT = (
    "You are a procurement assistant. Turn the user's need into a short purchase request: "
    "item, budget, justification and vendor."
)


def request_approval(state: ApprovalChainState) -> dict[str, Any]:
    """Ask the next level for sign-off; record who approved, or stop on a rejection."""
    level = state.get("approval_level", 0)
    role = APPROVAL_LEVELS[level]
    answer = interrupt(
        {
            "level": role,
            "message": (
                f"Approval needed from {role} (step {level + 1} of {len(APPROVAL_LEVELS)}).\n\n"
                f"{state['purchase_request']}"
            ),
        }
    )
    if not answer.get("approved"):
        return {
            "status": "rejected",
            "messages": [AIMessage(f"Rejected by {role}: {_reason(answer)}")],
        }
    approver_id = str(answer.get("approver_id") or f"unknown-{role}")
    return {"approval_level": level + 1, "approvers": [*state.get("approvers", []), approver_id]}


def _after_approval(state: ApprovalChainState) -> str:
    if state.get("status") == "rejected":
        return END
    if state.get("approval_level", 0) >= len(APPROVAL_LEVELS):
        return "place_order"
    return "request_approval"


def place_order(state: ApprovalChainState) -> dict[str, Any]:
    """Issue the purchase order once every level approved."""
    request = state["purchase_request"]
    approvers = state["approvers"]
    number = hashlib.sha256(f"{request}|{approvers}".encode()).hexdigest()[:6].upper()
    order = {
        "po_number": f"PO-{number}",
        "request": request.splitlines()[0],
        "approvers": approvers,
    }
    return {
        "purchase_order": order,
        "status": "ordered",
        "messages": [
            AIMessage(f"Purchase order PO-{number} placed, approved by {', '.join(approvers)}.")
        ],
    }


approval_chain = StateGraph(ApprovalChainState)
"""approval_level: `{"level", "message"}` x3 -> `{"approved", "approver_id", "reason"?}`."""
approval_chain.add_node("draft_request", _writer_node(PURCHASE_PROMPT, "purchase_request"))
approval_chain.add_node("request_approval", request_approval)
approval_chain.add_node("place_order", place_order)
approval_chain.add_edge(START, "draft_request")
approval_chain.add_edge("draft_request", "request_approval")
approval_chain.add_conditional_edges(
    "request_approval", _after_approval, ["request_approval", "place_order", END]
)
approval_chain.add_edge("place_order", END)


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
    calls = _pending_tool_calls(state)
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
        reason = _reason(answer, "cancelled")
        return _cancelled(calls, reason, f"Tool execution cancelled by reviewer: {reason}")
    approved_tools = answer.get("approved_tools")
    if approved_tools is None:
        approved_tools = proposed
    to_run, left_out = _match_approved(calls, approved_tools)
    return {
        "approved_tool_calls": to_run,
        "messages": [declined(call, "not approved by the reviewer") for call in left_out],
    }


tool_review = _tool_graph(
    ToolRunState, OPERATIONS_PROMPT, OFFICE_TOOLS, "review_tool_calls", review_tool_calls
)
"""tool_review: `{"type": "tool_review", "tools", "message"}` -> `{"approved", "approved_tools"}`"""


# selective_review (kind: sensitive_tools) --------------------------------------------------


def review_sensitive_calls(state: ToolRunState) -> dict[str, Any]:
    """Ask about sensitive calls only; other calls run without review."""
    calls = _pending_tool_calls(state)
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
    reason = _reason(answer)
    return {
        "approved_tool_calls": [call for call in calls if call not in sensitive],
        "messages": [
            declined(call, f"sensitive operation denied by the reviewer ({reason})")
            for call in sensitive
        ],
    }


selective_review = _tool_graph(
    ToolRunState, OPERATIONS_PROMPT, OFFICE_TOOLS, "review_sensitive_calls", review_sensitive_calls
)
"""sensitive_tools: `{"sensitive_tools": [tool calls], "message"}` -> `{"approved", "reason"?}`."""


# state_edit (kind: state_edit) -------------------------------------------------------------


class StateEditState(MessagesState):
    """A digest entry whose text and metadata a reviewer may rewrite before publishing."""

    output: str
    metadata: dict[str, Any]
    status: str


DIGEST_PROMPT = (
    "You are an internal-communications writer. Write a two-sentence digest summary of "
    "the topic the user gives."
)


def write_summary(state: StateEditState) -> dict[str, Any]:
    """Write the digest entry and describe it in `metadata`."""
    update = _agent_node(DIGEST_PROMPT)(state)
    output = _text(update["messages"][0])
    words = len(output.split())
    metadata = {
        **(state.get("metadata") or {}),
        "word_count": words,
        "reading_time_seconds": max(5, round(words / 4)),
    }
    return {**update, "output": output, "metadata": metadata, "status": "in_review"}


def review_state(state: StateEditState) -> dict[str, Any]:
    """Let the reviewer replace the output and/or metadata, then publish."""
    output, metadata = state["output"], state.get("metadata") or {}
    answer = interrupt(
        {
            "type": "state_edit",
            "current_state": {"output": output, "metadata": metadata},
            "message": "Review and modify the summary or its metadata before it is published.",
        }
    )
    if not answer.get("modified"):
        return {"status": "published"}
    new_output = answer.get("new_output")
    new_metadata = answer.get("new_metadata")
    update: dict[str, Any] = {"status": "published_with_edits"}
    if new_output is not None and new_output != output:
        update["output"] = new_output
        update["messages"] = [AIMessage(new_output)]
    if new_metadata is not None:
        update["metadata"] = new_metadata
    return update


state_edit = StateGraph(StateEditState)
"""state_edit: `{"type": "state_edit", "current_state", "message"}` -> `{"modified", ...}`."""
state_edit.add_node("write_summary", write_summary)
state_edit.add_node("review_state", review_state)
state_edit.add_edge(START, "write_summary")
state_edit.add_edge("write_summary", "review_state")
state_edit.add_edge("review_state", END)


# feedback_loop (kind: feedback) ------------------------------------------------------------


class FeedbackState(MessagesState):
    """An announcement rewritten from reviewer feedback until approved."""

    output: str
    iteration: int
    feedback_history: list[dict[str, Any]]
    final_output: str
    status: str


ANNOUNCEMENT_PROMPT = (
    "You are a product marketer. Write a one-paragraph product announcement. When the user "
    "gives feedback, rewrite the announcement to address it."
)


def review_output(state: FeedbackState) -> dict[str, Any]:
    """Approve the current version or send feedback for another round."""
    iteration = state.get("iteration", 0)
    answer = interrupt(
        {
            "output": state["output"],
            "iteration": iteration,
            "message": (
                f"Approve this version or give feedback "
                f"(round {iteration + 1} of {MAX_FEEDBACK_ROUNDS})."
            ),
        }
    )
    if answer.get("approved"):
        return {"final_output": state["output"], "status": "approved"}
    feedback = str(answer.get("feedback") or "Please improve it.")
    return {
        "iteration": iteration + 1,
        "feedback_history": [
            *state.get("feedback_history", []),
            {"iteration": iteration, "feedback": feedback},
        ],
        "messages": [HumanMessage(feedback)],
    }


def _after_feedback(state: FeedbackState) -> str:
    if state.get("status") == "approved":
        return END
    if state.get("iteration", 0) >= MAX_FEEDBACK_ROUNDS:
        return "finalize"
    return "write"


def finalize(state: FeedbackState) -> dict[str, Any]:
    """Stop after the last feedback round and keep the latest version."""
    return {
        "final_output": state["output"],
        "status": "max_iterations",
        "messages": [
            AIMessage(
                f"Stopped after {MAX_FEEDBACK_ROUNDS} rounds of feedback; "
                f"the latest version is final:\n\n{state['output']}"
            )
        ],
    }


feedback_loop = StateGraph(FeedbackState)
"""feedback: `{"output", "iteration", "message"}` -> `{"approved", "feedback"?}`."""
feedback_loop.add_node("write", _writer_node(ANNOUNCEMENT_PROMPT, "output"))
feedback_loop.add_node("review_output", review_output)
feedback_loop.add_node("finalize", finalize)
feedback_loop.add_edge(START, "write")
feedback_loop.add_edge("write", "review_output")
feedback_loop.add_conditional_edges("review_output", _after_feedback, ["write", "finalize", END])
feedback_loop.add_edge("finalize", END)


# timed_approval (kind: question, with requested_at) ----------------------------------------


class TimedApprovalState(ToolRunState):
    """A payment whose approval expires `APPROVAL_WINDOW_SECONDS` after `requested_at`."""

    requested_at: str
    timed_out: bool


PAYMENT_PROMPT = (
    "You are an accounts-payable assistant. Use make_payment for the payment the user asks for."
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def propose_payment(state: TimedApprovalState) -> dict[str, Any]:
    """Ask the model for the payment and stamp when approval was first requested."""
    update = _agent_node(PAYMENT_PROMPT, [make_payment])(state)
    return {**update, "requested_at": state.get("requested_at") or _iso(_utc_now())}


def timed_review(state: TimedApprovalState) -> dict[str, Any]:
    """Ask for approval; an approval given after the window closed does not run the payment."""
    calls = _pending_tool_calls(state)
    requested_at = state["requested_at"]
    answer = interrupt(
        {
            "action": calls[0]["name"],
            "details": calls[0]["args"] if len(calls) == 1 else [c["args"] for c in calls],
            "question": "Approve? " + "; ".join(describe_tool_call(call) for call in calls) + ".",
            "requested_at": requested_at,
            "expires_after_seconds": APPROVAL_WINDOW_SECONDS,
        }
    )
    if not answer.get("approved"):
        reason = _reason(answer)
        return _cancelled(calls, reason, f"Action cancelled: {reason}")
    deadline = datetime.fromisoformat(requested_at) + timedelta(seconds=APPROVAL_WINDOW_SECONDS)
    if _utc_now() > deadline:
        summary = (
            f"Approval timed out: requested at {requested_at}, the window closed at "
            f"{_iso(deadline)}. Nothing was run; ask again to proceed."
        )
        return {**_cancelled(calls, "approval timed out", summary), "timed_out": True}
    return {"approved_tool_calls": calls, "timed_out": False}


timed_approval = StateGraph(TimedApprovalState)
"""question + `requested_at`, `expires_after_seconds` -> `{"approved", "reason"?}`."""
timed_approval.add_node("agent", propose_payment)
timed_approval.add_node("review_payment", timed_review)
timed_approval.add_node("tools", run_approved_tools)
timed_approval.add_edge(START, "agent")
timed_approval.add_conditional_edges(
    "agent", _review_if_tool_calls("review_payment"), ["review_payment", END]
)
timed_approval.add_conditional_edges("review_payment", _after_tool_review, ["tools", "agent", END])
timed_approval.add_edge("tools", "agent")


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
    for call in _pending_tool_calls(state):
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


agent_inbox = _tool_graph(
    ToolRunState, INBOX_PROMPT, [send_email, make_payment], "human_review", inbox_review
)
"""agent_inbox: `[HumanInterrupt]` -> `[{"type": "accept"|"edit"|"response"|"ignore", "args"}]`."""


# schema_form (kind: schema) ----------------------------------------------------------------


class SchemaFormState(MessagesState):
    """A support ticket resolved through a typed form."""

    ticket_id: str
    customer: str
    complaint: str
    summary: str
    resolution_form: dict[str, Any]
    refunds: list[dict[str, Any]]
    replacements: list[dict[str, Any]]
    status: str


TRIAGE_PROMPT = (
    "You are a support lead. Write a short triage of the customer's ticket: what happened, "
    "what the order history shows, and a suggested resolution."
)


def resolve_ticket(state: SchemaFormState) -> dict[str, Any]:
    """Ask for a `TicketResolution` form and carry out the refund or replacement it names."""
    form = interrupt(
        {
            "ticket_id": state["ticket_id"],
            "customer": state["customer"],
            "complaint": state["complaint"],
            "summary": state["summary"],
            "instructions": "Choose a refund or a replacement and write the reply to the customer.",
        },
        response_schema=TicketResolution,
    )
    resolution_form = form.model_dump(mode="json")
    resolution = resolution_form["resolution"]
    channel = resolution_form["reply"]["channel"]
    ticket_id = state["ticket_id"]
    update: dict[str, Any] = {"resolution_form": resolution_form, "status": "resolved"}
    if resolution["kind"] == "refund":
        update["refunds"] = [
            *state.get("refunds", []),
            {
                "ticket_id": ticket_id,
                "amount": resolution["amount"],
                "currency": resolution["currency"],
            },
        ]
        done = f"Refund of {resolution['amount']:,.2f} {resolution['currency']} issued"
    else:
        update["replacements"] = [
            *state.get("replacements", []),
            {
                "ticket_id": ticket_id,
                "sku": resolution["sku"],
                "expedited": resolution["expedited"],
            },
        ]
        done = f"Replacement {resolution['sku']} shipped"
    update["messages"] = [
        AIMessage(f"{done} for {ticket_id}; reply sent to {state['customer']} by {channel}.")
    ]
    return update


schema_form = StateGraph(SchemaFormState)
"""schema: a ticket summary with `response_schema=TicketResolution` -> a form value."""
schema_form.add_node("triage", _writer_node(TRIAGE_PROMPT, "summary"))
schema_form.add_node("resolve_ticket", resolve_ticket)
schema_form.add_edge(START, "triage")
schema_form.add_edge("triage", "resolve_ticket")
schema_form.add_edge("resolve_ticket", END)


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
