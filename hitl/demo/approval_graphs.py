"""Demo graphs that ask a person to approve, confirm, edit or sign off: email_approval, two_stage,
simple_confirm, draft_edit, approval_chain."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt

from hitl.demo.nodes import ToolRunState, agent_node, cancelled, message_text, pending_tool_calls, reason_of, tool_graph, writer_node
from hitl.demo.tools import delete_record, describe_tool_call, send_email


APPROVAL_LEVELS = ("manager", "director", "vp")
"""Who signs off in `approval_chain`, in order."""


# email_approval (kind: question) -----------------------------------------------------------

EMAIL_PROMPT = (
    "You are an assistant that sends emails for the user with the send_email tool. "
    "Write a clear subject line and a complete, polite body."
)


def review_email(state: ToolRunState) -> dict[str, Any]:
    """Ask whether the proposed email may be sent; send it or cancel with the reason."""
    calls = pending_tool_calls(state)
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
    reason = reason_of(answer)
    return cancelled(calls, reason, f"Action cancelled: {reason}")


email_approval = tool_graph(
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


def _stage_review(stage: str, key: str, message: str, next_stage: str) -> Callable[..., Any]:
    def review(state: TwoStageState) -> dict[str, Any]:
        answer = interrupt({"stage": stage, "result": state[key], "message": message})
        if not answer.get("approved"):
            reason = reason_of(answer)
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
two_stage.add_node("write_outline", writer_node(OUTLINE_PROMPT, "outline"))
two_stage.add_node(
    "review_outline",
    _stage_review(
        "outline", "outline", "Review the outline before the report is written", "report"
    ),
)
two_stage.add_node("write_report", writer_node(REPORT_PROMPT, "report"))
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
    calls = pending_tool_calls(state)
    actions = "; ".join(describe_tool_call(call) for call in calls)
    if interrupt(f"Proceed with this action? {actions}."):
        return {"approved_tool_calls": calls}
    return cancelled(calls, "declined", "Action cancelled by user")


simple_confirm = tool_graph(
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
    update = agent_node(DRAFT_PROMPT)(state)
    return {
        **update,
        "draft": message_text(update["messages"][0]),
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
            "messages": [AIMessage(f"Rejected by {role}: {reason_of(answer)}")],
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
approval_chain.add_node("draft_request", writer_node(PURCHASE_PROMPT, "purchase_request"))
approval_chain.add_node("request_approval", request_approval)
approval_chain.add_node("place_order", place_order)
approval_chain.add_edge(START, "draft_request")
approval_chain.add_edge("draft_request", "request_approval")
approval_chain.add_conditional_edges(
    "request_approval", _after_approval, ["request_approval", "place_order", END]
)
approval_chain.add_edge("place_order", END)
