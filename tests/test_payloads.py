"""hitl.payloads: every payload kind is named, summarised and indexed; nothing raises."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain.agents.middleware.human_in_the_loop import (
    ActionRequest,
    HITLRequest,
    ReviewConfig,
    ToolApprovalRequest,
)
from langchain_core.messages import AIMessage

from hitl.payloads import KINDS, classify, review_request, search_text, summarize, tool_calls
from tests.hitl_agent import paused_agent

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the prebuilt Agent Inbox types are deprecated aliases
    from langgraph.prebuilt.interrupt import (
        ActionRequest as InboxActionRequest,
    )
    from langgraph.prebuilt.interrupt import (
        HumanInterrupt,
        HumanInterruptConfig,
    )

DECISION_SCHEMA = {
    "$defs": {
        "ApproveDecision": {
            "properties": {"type": {"const": "approve", "type": "string"}},
            "required": ["type"],
            "type": "object",
        },
        "RejectDecision": {
            "properties": {
                "type": {"const": "reject", "type": "string"},
                "message": {"type": "string"},
            },
            "required": ["type"],
            "type": "object",
        },
    },
    "discriminator": {
        "mapping": {"approve": "#/$defs/ApproveDecision", "reject": "#/$defs/RejectDecision"},
        "propertyName": "type",
    },
    "oneOf": [{"$ref": "#/$defs/ApproveDecision"}, {"$ref": "#/$defs/RejectDecision"}],
}


def human_interrupt(action: str = "run_command", **args: Any) -> HumanInterrupt:
    return HumanInterrupt(
        action_request=InboxActionRequest(action=action, args=args),
        config=HumanInterruptConfig(
            allow_ignore=True, allow_respond=True, allow_edit=False, allow_accept=True
        ),
        description="Please review the command before execution",
    )


HITL_REQUEST = HITLRequest(
    action_requests=[
        ActionRequest(name="send_email", args={"to": "finance@example.com"}, description="Mail"),
        ActionRequest(name="make_payment", args={"amount": 120.5}),
    ],
    review_configs=[
        ReviewConfig(action_name="send_email", allowed_decisions=["approve", "edit", "reject"]),
        ReviewConfig(action_name="make_payment", allowed_decisions=["approve", "reject"]),
    ],
)

TOOL_APPROVAL = ToolApprovalRequest(
    type="tool_approval",
    tool_call_id="call_1",
    name="make_payment",
    args={"amount": 120.5, "payee": "ACME"},
    description="Pay ACME",
)

EXAMPLES: dict[str, Any] = {
    "confirm": "Proceed with this action?",
    "question": {
        "action": "send_email",
        "details": "Q3 report to finance@example.com",
        "question": "Approve this email?",
    },
    "edit": {"type": "edit", "draft": "Dear team,", "instructions": "Edit the draft or approve"},
    "stage": {"stage": "one", "result": {"rows": 3}, "message": "Review stage one output"},
    "approval_level": {"level": "manager", "message": "Approval needed from manager"},
    "tool_review": {
        "type": "tool_review",
        "tools": [
            {"name": "send_email", "args": {"to": "a@example.com"}},
            {"name": "make_payment", "args": {"amount": 10}},
            {"name": "lookup", "args": {}},
        ],
        "message": "Review these tool calls before execution",
    },
    "sensitive_tools": {
        "sensitive_tools": [
            {"name": "delete_record", "args": {"id": 7}, "id": "c1", "type": "tool_call"}
        ],
        "message": "Sensitive operations require approval",
    },
    "state_edit": {
        "type": "state_edit",
        "current_state": {"output": "Draft answer", "metadata": {"lang": "en"}},
        "message": "Review and modify state if needed",
    },
    "feedback": {"output": "Version 1", "iteration": 2, "message": "Provide feedback or approve"},
    "hitl_request": HITL_REQUEST,
    "tool_approval": TOOL_APPROVAL,
    "agent_inbox": [human_interrupt(command="ls")],
    "json": {"something": "else"},
}


def test_kinds_are_the_design_table():
    assert KINDS == (
        "confirm", "question", "edit", "stage", "approval_level", "tool_review",
        "sensitive_tools", "state_edit", "feedback", "hitl_request", "tool_approval",
        "agent_inbox", "schema", "json",
    )  # fmt: skip


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_classify_names_each_kind(kind):
    assert classify(EXAMPLES[kind]) == kind


def test_classify_single_human_interrupt_is_agent_inbox():
    assert classify(human_interrupt(command="ls")) == "agent_inbox"


def test_classify_tool_approval_wins_over_its_response_schema():
    assert classify(TOOL_APPROVAL, DECISION_SCHEMA) == "tool_approval"


def test_classify_unknown_value_with_a_schema_is_schema():
    assert classify({"draft": "x"}, {"type": "object"}) == "schema"


def test_classify_known_shape_keeps_its_kind_with_a_schema():
    assert classify(EXAMPLES["question"], {"type": "object"}) == "question"
    assert classify("Proceed?", {"type": "boolean"}) == "confirm"


def test_classify_non_dict_schema_is_ignored():
    assert classify({"a": 1}, "not a schema") == "json"
    assert classify({"a": 1}, {}) == "json"


@pytest.mark.parametrize(
    "value",
    [
        {"type": "edit"},  # no draft
        {"type": "tool_review", "tools": "send_email"},  # tools not a list
        {"type": "tool_approval"},  # no name
        {"action_requests": []},  # no review_configs
        [],  # empty list is not an agent inbox batch
        [human_interrupt(), {"action_request": {}}],  # one bad item
        {"question": "Really?"},  # no action/details
    ],
)
def test_classify_near_misses_fall_back_to_json(value):
    assert classify(value) == "json"


# --------------------------------------------------------------------------- real interrupts


def real_interrupts(mode: str) -> list[Any]:
    """Run a LangChain agent with HumanInTheLoopMiddleware until it pauses."""
    return paused_agent(mode)[2]


def test_real_batched_middleware_interrupt_is_hitl_request():
    (pending,) = real_interrupts("batched")
    assert classify(pending.value, pending.response_schema) == "hitl_request"
    assert tool_calls(pending.value, "hitl_request") == [
        {"name": "send_email", "args": {"to": "a@example.com", "subject": "Q3"}},
        {"name": "make_payment", "args": {"amount": 5, "payee": "ACME"}},
    ]
    assert summarize(pending.value, "hitl_request") == "2 tool calls: send_email, make_payment"


def test_real_per_call_middleware_interrupts_are_tool_approval():
    pending = real_interrupts("per_call")
    assert [classify(p.value, p.response_schema) for p in pending] == ["tool_approval"] * 2
    (payment,) = [p for p in pending if p.value["name"] == "make_payment"]
    assert isinstance(payment.response_schema, dict)
    assert tool_calls(payment.value, "tool_approval") == [
        {"name": "make_payment", "args": {"amount": 5, "payee": "ACME"}}
    ]
    assert summarize(payment.value, "tool_approval").startswith(
        "make_payment: Tool execution requires approval Tool: make_payment"
    )


# --------------------------------------------------------------------------- summarize


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("confirm", "Proceed with this action?"),
        ("question", "send_email: Q3 report to finance@example.com"),
        ("edit", "Edit draft: Dear team,"),
        ("stage", "Approve stage one: rows=3"),
        ("approval_level", "manager approval: Approval needed from manager"),
        ("tool_review", "3 tool calls: send_email, make_payment, lookup"),
        ("sensitive_tools", "delete_record: id=7"),
        ("state_edit", "Edit state: Draft answer"),
        ("feedback", "Feedback on iteration 2: Version 1"),
        ("hitl_request", "2 tool calls: send_email, make_payment"),
        ("tool_approval", "make_payment: Pay ACME"),
        ("agent_inbox", "run_command: Please review the command before execution"),
        ("json", "something=else"),
    ],
)
def test_summarize_each_kind(kind, expected):
    assert summarize(EXAMPLES[kind], kind) == expected


def test_summarize_truncates_with_ellipsis():
    text = summarize(EXAMPLES["question"], "question", width=20)
    assert text == "send_email: Q3 repo…"
    assert len(text) == 20


def test_summarize_is_one_line_without_control_characters():
    hostile = "line1\nline2\r\n\x1b[31mred\x00\u202eevil\u2028end\t!"
    text = summarize(hostile, "confirm")
    assert text == "line1 line2 [31mred evil end !"


def test_summarize_classifies_when_kind_is_omitted():
    assert summarize(EXAMPLES["approval_level"]) == "manager approval: Approval needed from manager"


def test_summarize_many_tool_calls_lists_five_names():
    value = {"type": "tool_review", "tools": [{"name": f"t{i}", "args": {}} for i in range(8)]}
    assert summarize(value, "tool_review") == "8 tool calls: t0, t1, t2, t3, t4, …"


def test_summarize_wrong_kind_does_not_raise():
    assert summarize("plain text", "hitl_request") == "0 tool calls:"
    assert summarize(None, "stage") == "Approve stage null: null"


# --------------------------------------------------------------------------- tool_calls


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        ("tool_review", ["send_email", "make_payment", "lookup"]),
        ("sensitive_tools", ["delete_record"]),
        ("hitl_request", ["send_email", "make_payment"]),
        ("tool_approval", ["make_payment"]),
        ("agent_inbox", ["run_command"]),
        ("question", []),
        ("confirm", []),
        ("json", []),
    ],
)
def test_tool_calls_per_kind(kind, names):
    calls = tool_calls(EXAMPLES[kind], kind)
    assert [call["name"] for call in calls] == names
    assert all(set(call) == {"name", "args"} for call in calls)


def test_tool_calls_skip_nameless_entries_and_blank_bad_args():
    value = {"sensitive_tools": [{"args": {}}, {"name": "make_payment", "args": "oops"}, 3]}
    assert tool_calls(value, "sensitive_tools") == [{"name": "make_payment", "args": {}}]


# --------------------------------------------------------------------------- search_text


def test_search_text_flattens_values_not_keys():
    text = search_text(EXAMPLES["hitl_request"])
    assert "finance@example.com" in text
    assert "make_payment" in text
    assert "120.5" in text
    assert "action_requests" not in text


def test_search_text_is_bounded():
    assert len(search_text(["x" * 10_000])) == 4000
    assert 3990 <= len(search_text(["word " * 10_000, "more"])) <= 4000
    assert len(search_text("x" * 100, limit=10)) == 10


# --------------------------------------------------------------------------- robustness


class Hostile:
    def __str__(self) -> str:
        raise RuntimeError("boom")

    def __repr__(self) -> str:
        raise RuntimeError("boom")


class HostileMapping(dict):
    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    def items(self) -> Any:
        raise RuntimeError("boom")


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"k": [value]}
    return value


ODD_VALUES = [
    None,
    0,
    3.14,
    float("nan"),
    True,
    b"bytes",
    [],
    [1, [2, [3]]],
    (1, 2),
    {1: 2, None: "x"},
    object(),
    Hostile(),
    HostileMapping(a=1),
    {"tools": Hostile(), "type": "tool_review"},
    {"type": "tool_review", "tools": [Hostile()]},
    AIMessage(content="a message object"),
    deep(500),
    "x" * 10_000_000,
    "<script>alert(1)</script>\x00\u202e",
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=lambda v: type(v).__name__)
def test_odd_values_never_raise(value):
    kind = classify(value)
    assert kind in KINDS
    for any_kind in KINDS:
        text = summarize(value, any_kind, width=60)
        assert "\n" not in text and len(text) <= 60
        assert isinstance(tool_calls(value, any_kind), list)
    assert len(search_text(value)) <= 4000
    assert review_request(value).kind == kind


def test_ten_megabyte_string_is_confirm_and_summarised_quickly():
    value = "a" * 10_000_000
    assert classify(value) == "confirm"
    assert summarize(value, "confirm", width=10) == "aaaaaaaaa…"


def test_deeply_nested_value_is_json():
    assert classify(deep(500)) == "json"
    assert search_text(deep(500)) == ""  # deeper than the walk goes
    assert search_text(deep(10)) == "bottom"


def test_message_object_text_is_searchable():
    assert search_text({"m": AIMessage(content="hello there")}) == "hello there"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["type", "tools", "name", "args", "action_requests", "review_configs",
                         "action_request", "config", "stage", "result", "level", "message",
                         "output", "iteration", "question", "action", "draft", "x"]),
        children,
        max_size=5,
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values, schema=st.none() | st.just({"type": "object"}))
def test_any_json_value_is_handled(value, schema):
    kind = classify(value, schema)
    assert kind in KINDS
    summary = summarize(value, kind)
    assert "\n" not in summary and len(summary) <= 120
    tool_calls(value, kind)
    search_text(value)
