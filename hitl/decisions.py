"""Answer builders: a reviewer's input -> the resume value in a payload kind's own answer shape.

The builders, validation and one-click answers live with their kind in `hitl.kinds`; this module
is their public facade: the builder functions the cards call, `validate_answer` (a raw JSON
answer checked against the kind's shape and the response schema) and `quick_answer` (what a
one-click approve/reject means in the kind's shape). Whether the graph reads that shape at all is
the interrupt's contract (`hitl.contracts`), which calls these only when it does.

Everything here is pure and raises only `InvalidAnswer`, whose message names the field,
the bad value and the fix, and whose `field_errors` maps field paths to messages.
"""

from __future__ import annotations

from typing import Any

from hitl.kinds import kind_of
from hitl.kinds.agent_inbox import AGENT_INBOX_TYPES, agent_inbox_answer
from hitl.kinds.common import as_bool, check_schema, show
from hitl.kinds.generic import json_answer, schema_answer
from hitl.kinds.handmade import (
    EDIT_ACTIONS,
    approval_level_answer,
    confirm_answer,
    edit_answer,
    feedback_answer,
    question_answer,
    stage_answer,
    state_edit_answer,
)
from hitl.kinds.call_review import restore_types, sensitive_tools_answer, tool_review_answer
from hitl.kinds.langchain import DECISION_TYPES, allowed_decisions, hitl_request_answer, tool_approval_answer

__all__ = [
    "DECISION_TYPES",
    "EDIT_ACTIONS",
    "AGENT_INBOX_TYPES",
    "confirm_answer",
    "question_answer",
    "edit_answer",
    "stage_answer",
    "approval_level_answer",
    "tool_review_answer",
    "restore_types",
    "sensitive_tools_answer",
    "state_edit_answer",
    "feedback_answer",
    "json_answer",
    "hitl_request_answer",
    "tool_approval_answer",
    "agent_inbox_answer",
    "schema_answer",
    "allowed_decisions",
    "check_schema",
    "show_value",
    "validate_answer",
    "quick_answer",
]


def show_value(value: Any) -> str:
    """A short JSON rendering of a value for an error message."""
    return show(value)


def validate_answer(kind: str, value: Any, answer: Any, response_schema: Any = None) -> Any:
    """Check a raw (JSON) answer against the kind's answer shape and the response schema.

    Args:
        kind: the payload kind.
        value: the interrupt value (needed for hitl_request, tool_approval, agent_inbox).
        answer: the proposed resume value.
        response_schema: the interrupt's JSON Schema, validated with jsonschema when a dict.

    Returns:
        The answer, normalised (e.g. decisions with their tool names pinned).

    Raises:
        InvalidAnswer: naming each bad field in `field_errors`.
    """
    normalized = kind_of(kind).validate(value, answer, response_schema)
    check_schema(response_schema, normalized)
    return normalized


def quick_answer(
    kind: str,
    value: Any,
    *,
    approve: bool,
    comment: str = "",
    reviewer: str = "",
    response_schema: Any = None,
) -> Any:
    """The answer a one-click approve or reject means in this kind's answer shape.

    Args:
        kind: the payload kind.
        value: the interrupt value.
        approve: True for approve, False for reject.
        comment: the reviewer's comment; used as the reject reason/feedback/message.
        reviewer: the reviewer's name; used as approval_level's approver_id.
        response_schema: the interrupt's JSON Schema; the answer is validated against it.

    Raises:
        InvalidAnswer: when this kind (or this request's configuration) cannot be
            answered in one click, saying what to do instead.
    """
    answer = kind_of(kind).quick(
        value, approve=as_bool(approve, "approve"), comment=(comment or "").strip(), reviewer=reviewer or "",
        response_schema=response_schema,
    )  # fmt: skip
    return validate_answer(kind, value, answer, response_schema)
