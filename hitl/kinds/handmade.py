"""The hand-made payload shapes of the LangGraph HITL patterns (see DESIGN.md's kinds table);
those that propose tool calls (tool_review, sensitive_tools) are `hitl.kinds.call_review`.

Each class is one kind: how it is recognised, summarised, answered (builders, validation,
one-click answers) and what its answers approve.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from hitl.kinds.base import PayloadKind, register
from hitl.kinds.common import as_bool, as_dict, as_text, compact, fail, get, parse_json, show

__all__ = [
    "EDIT_ACTIONS",
    "confirm_answer",
    "question_answer",
    "edit_answer",
    "stage_answer",
    "approval_level_answer",
    "Approval",
    "approved_flag",
    "state_edit_answer",
    "feedback_answer",
]

EditAction = Literal["approve", "reject", "regenerate"]
EDIT_ACTIONS: tuple[EditAction, ...] = ("approve", "reject", "regenerate")
"""Actions of the `edit` kind's answer."""


# --------------------------------------------------------------------------- builders


def confirm_answer(approved: bool) -> bool:
    """Answer a plain-string confirmation: True to proceed, False to cancel."""
    return as_bool(approved, "approved", hint="Send true to proceed or false to cancel")


def question_answer(*, approved: bool, reason: str = "") -> dict[str, Any]:
    """Answer an `{"action", "details", "question"}` payload; the reason is kept when given."""
    answer: dict[str, Any] = {"approved": as_bool(approved, "approved")}
    if as_text(reason, "reason").strip():
        answer["reason"] = reason.strip()
    return answer


def edit_answer(*, action: str, edited: Any = None, draft: Any = None) -> dict[str, Any]:
    """Answer an edit payload: approve (possibly edited), reject, or regenerate.

    Args:
        action: "approve", "reject" or "regenerate".
        edited: the reviewer's version of the draft; sent only when approving a change.
        draft: the payload's draft, to tell whether `edited` changed anything.
    """
    if action not in EDIT_ACTIONS:
        raise fail("action", f"must be one of {', '.join(EDIT_ACTIONS)}, got {show(action)}")
    answer: dict[str, Any] = {"action": action}
    if action == "approve" and edited is not None:
        if isinstance(draft, str) and not isinstance(edited, str):
            raise fail("edited", f"must be text like the draft, got {show(edited)}")
        if isinstance(edited, str) and isinstance(draft, str) and not edited.strip():
            raise fail("edited", "is empty", hint="Write the text, or reject the draft instead")
        if edited != draft:
            answer["edited"] = edited
    return answer


def stage_answer(*, approved: bool, reason: str = "") -> dict[str, Any]:
    """Answer a stage review (`{"stage", "result", "message"}`)."""
    return question_answer(approved=approved, reason=reason)


def approval_level_answer(*, approved: bool, approver_id: str) -> dict[str, Any]:
    """Answer one level of a multi-level approval; approving needs the approver's id."""
    approved = as_bool(approved, "approved")
    approver_id = as_text(approver_id, "approver_id").strip()
    if approved and not approver_id:
        raise fail("approver_id", "is required to approve",
                   hint="Enter who approves at this level (your reviewer name)")
    return {"approved": approved, "approver_id": approver_id}


def state_edit_answer(
    *,
    current_state: Mapping[str, Any],
    new_output: Any,
    new_metadata: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Answer a state edit; `modified` is computed by comparing with the current state.

    Args:
        current_state: the payload's `current_state` ({"output", "metadata"}).
        new_output: the reviewer's output.
        new_metadata: the reviewer's metadata, a dict or its JSON text; None keeps it.
    """
    state = current_state if isinstance(current_state, Mapping) else {}
    old_output = state.get("output")
    old_metadata = state.get("metadata", {})
    if isinstance(old_output, str) and not isinstance(new_output, str):
        raise fail("new_output", f"must be text, got {show(new_output)}")
    if new_metadata is None:
        metadata = old_metadata
    elif isinstance(new_metadata, str):
        metadata = parse_json(new_metadata, "new_metadata") if new_metadata.strip() else {}
    else:
        metadata = new_metadata
    if not isinstance(metadata, Mapping):
        raise fail("new_metadata", f"must be a JSON object, got {show(metadata)}")
    metadata = dict(metadata)
    if new_output == old_output and metadata == (old_metadata or {}):
        return {"modified": False}
    return {"modified": True, "new_output": new_output, "new_metadata": metadata}


def feedback_answer(*, approved: bool, feedback: str = "") -> dict[str, Any]:
    """Answer a feedback loop: approve the output, or send feedback for another round."""
    approved = as_bool(approved, "approved")
    feedback = as_text(feedback, "feedback").strip()
    if not approved and not feedback:
        raise fail("feedback", "is required when not approving",
                   hint="Say what the next iteration should change")
    answer: dict[str, Any] = {"approved": approved}
    if feedback:
        answer["feedback"] = feedback
    return answer


# --------------------------------------------------------------------------- kinds


def approved_flag(answer: Any, kind: str) -> dict[str, Any]:
    """An `{"approved": bool, "reason"?}` answer, normalised."""
    data = as_dict(answer, kind, '{"approved": true}')
    normalized = dict(data)
    normalized["approved"] = as_bool(data.get("approved"), "approved")
    as_text(data.get("reason"), "reason")
    return normalized


class Approval(PayloadKind):
    """A kind answered with `{"approved": bool, "reason"?}`."""

    decision_key = "approved"
    answer_keys = frozenset({"approved", "reason"})

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        return approved_flag(answer, self.name)

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        return {"approved": True} if approve else question_answer(approved=False, reason=comment)

    def approves(self, value: Any, answer: Any) -> bool:
        calls = self.approved_calls(value, answer)  # kinds with tool calls: whether any may run
        if calls is not None:
            return bool(calls)
        return isinstance(answer, Mapping) and bool(answer.get("approved"))


@register
class Confirm(PayloadKind):
    """A plain string (`"Proceed with this action?"`)."""

    name = "confirm"
    title = "Confirm"
    priority = 60

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, str)

    def summary(self, value: Any) -> str:
        return compact(value)

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        return confirm_answer(answer)

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        return approve

    def approves(self, value: Any, answer: Any) -> bool:
        return answer is True


@register
class Question(Approval):
    """`{"action", "details", "question"}`."""

    name = "question"
    title = "Approve an action"
    priority = 30

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, Mapping) and "question" in value and ("action" in value or "details" in value)

    def summary(self, value: Any) -> str:
        action = compact(get(value, "action", ""))
        details = compact(get(value, "details", ""))
        question = compact(get(value, "question", ""))
        if action:
            return f"{action}: {details or question}"
        return details or question


@register
class Stage(Approval):
    """`{"stage", "result", "message"}`."""

    name = "stage"
    title = "Approve a stage"
    priority = 31

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, Mapping) and "stage" in value and "result" in value

    def summary(self, value: Any) -> str:
        return f"Approve stage {compact(get(value, 'stage'))}: {compact(get(value, 'result'))}"


@register
class Edit(PayloadKind):
    """`{"type": "edit", "draft", "instructions"}`."""

    name = "edit"
    title = "Edit a draft"
    priority = 20
    decision_key = "action"
    answer_keys = frozenset({"action", "edited"})

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, Mapping) and value.get("type") == "edit" and "draft" in value

    def summary(self, value: Any) -> str:
        return f"Edit draft: {compact(get(value, 'draft', ''))}"

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        data = as_dict(answer, self.name, '{"action": "approve"}')
        if data.get("action") not in EDIT_ACTIONS:
            raise fail("action", f"must be one of {', '.join(EDIT_ACTIONS)}, got {show(data.get('action'))}")
        return dict(data)

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        return {"action": "approve" if approve else "reject"}

    def approves(self, value: Any, answer: Any) -> bool:
        return isinstance(answer, Mapping) and answer.get("action") == "approve"


@register
class ApprovalLevel(Approval):
    """`{"level", "message"}`: one level of a multi-level approval."""

    name = "approval_level"
    title = "Sign off"
    priority = 32
    answer_keys = frozenset({"approved", "approver_id", "reason"})

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, Mapping) and "level" in value and "message" in value

    def summary(self, value: Any) -> str:
        return f"{compact(get(value, 'level'))} approval: {compact(get(value, 'message', ''))}"

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        data = as_dict(answer, self.name, '{"approved": true, "approver_id": "alice"}')
        normalized = dict(data)
        normalized.update(approval_level_answer(approved=data.get("approved"), approver_id=data.get("approver_id", "")))
        return normalized

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        if approve and not reviewer.strip():
            raise fail("approver_id", "is required to approve",
                       hint="Pass the reviewer's name so it is recorded as approver_id")
        return {"approved": approve, "approver_id": reviewer.strip()}

    def stamp_approver(self, answer: Any, identity: str) -> Any:
        if isinstance(answer, dict) and answer.get("approved"):
            return {**answer, "approver_id": identity}
        return answer


@register
class StateEdit(PayloadKind):
    """`{"type": "state_edit", "current_state": {...}, "message"}`."""

    name = "state_edit"
    title = "Edit the state"
    priority = 22
    decision_key = "modified"
    answer_keys = frozenset({"modified", "new_output", "new_metadata"})

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, Mapping) and value.get("type") == "state_edit"

    def summary(self, value: Any) -> str:
        state = get(value, "current_state")
        output = get(state, "output")
        if output is not None:
            return f"Edit state: {compact(output)}"
        return f"Edit state: {compact(get(value, 'message', state))}"

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        data = as_dict(answer, self.name, '{"modified": false}')
        normalized = dict(data)
        normalized["modified"] = as_bool(data.get("modified"), "modified")
        if normalized["modified"]:
            if "new_output" not in data:
                raise fail("new_output", "is required when modified is true",
                           hint="Send the new output, or modified: false")
            if "new_metadata" in data and not isinstance(data["new_metadata"], Mapping):
                raise fail("new_metadata", f"must be a JSON object, got {show(data['new_metadata'])}")
        return normalized

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        if approve:
            return {"modified": False}
        raise fail("modified", "a state edit cannot be rejected in one click",
                   hint="Open it to change the state, or approve it unchanged")


@register
class Feedback(Approval):
    """`{"output", "iteration", "message"}`: approve, or send feedback for another round."""

    name = "feedback"
    title = "Approve or give feedback"
    priority = 34
    answer_keys = frozenset({"approved", "feedback"})

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, Mapping) and "output" in value and "iteration" in value

    def summary(self, value: Any) -> str:
        return f"Feedback on iteration {compact(get(value, 'iteration'))}: {compact(get(value, 'output'))}"

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        data = as_dict(answer, self.name, '{"approved": false, "feedback": "..."}')
        normalized = dict(data)
        normalized["approved"] = as_bool(data.get("approved"), "approved")
        as_text(data.get("feedback"), "feedback")
        return normalized

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        return feedback_answer(approved=approve, feedback="" if approve else comment)
