"""Demo graphs that show state or output for a person to correct: state_edit, feedback_loop,
timed_approval, schema_form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt

from hitl.demo.forms import TicketResolution
from hitl.demo.nodes import ToolRunState, after_tool_review, agent_node, cancelled, message_text, pending_tool_calls, reason_of, review_if_tool_calls, run_approved_tools, writer_node
from hitl.demo.tools import describe_tool_call, make_payment


APPROVAL_WINDOW_SECONDS = 86_400
"""How long a `timed_approval` request stays valid after `requested_at`."""


MAX_FEEDBACK_ROUNDS = 5
"""`feedback_loop` finalizes the latest version after this many rounds of feedback."""


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
    update = agent_node(DIGEST_PROMPT)(state)
    output = message_text(update["messages"][0])
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
feedback_loop.add_node("write", writer_node(ANNOUNCEMENT_PROMPT, "output"))
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
    update = agent_node(PAYMENT_PROMPT, [make_payment])(state)
    return {**update, "requested_at": state.get("requested_at") or _iso(_utc_now())}


def timed_review(state: TimedApprovalState) -> dict[str, Any]:
    """Ask for approval; an approval given after the window closed does not run the payment."""
    calls = pending_tool_calls(state)
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
        reason = reason_of(answer)
        return cancelled(calls, reason, f"Action cancelled: {reason}")
    deadline = datetime.fromisoformat(requested_at) + timedelta(seconds=APPROVAL_WINDOW_SECONDS)
    if _utc_now() > deadline:
        summary = (
            f"Approval timed out: requested at {requested_at}, the window closed at "
            f"{_iso(deadline)}. Nothing was run; ask again to proceed."
        )
        return {**cancelled(calls, "approval timed out", summary), "timed_out": True}
    return {"approved_tool_calls": calls, "timed_out": False}


timed_approval = StateGraph(TimedApprovalState)
"""question + `requested_at`, `expires_after_seconds` -> `{"approved", "reason"?}`."""
timed_approval.add_node("agent", propose_payment)
timed_approval.add_node("review_payment", timed_review)
timed_approval.add_node("tools", run_approved_tools)
timed_approval.add_edge(START, "agent")
timed_approval.add_conditional_edges(
    "agent", review_if_tool_calls("review_payment"), ["review_payment", END]
)
timed_approval.add_conditional_edges("review_payment", after_tool_review, ["tools", "agent", END])
timed_approval.add_edge("tools", "agent")


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
schema_form.add_node("triage", writer_node(TRIAGE_PROMPT, "summary"))
schema_form.add_node("resolve_ticket", resolve_ticket)
schema_form.add_edge(START, "triage")
schema_form.add_edge("triage", "resolve_ticket")
schema_form.add_edge("resolve_ticket", END)
