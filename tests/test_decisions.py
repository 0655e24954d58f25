"""hitl.decisions: answer builders, raw-answer validation and one-click answers."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph.types import Command
from pydantic import BaseModel

from hitl.decisions import (
    agent_inbox_answer,
    allowed_decisions,
    approval_level_answer,
    confirm_answer,
    edit_answer,
    feedback_answer,
    hitl_request_answer,
    json_answer,
    question_answer,
    quick_answer,
    schema_answer,
    sensitive_tools_answer,
    stage_answer,
    state_edit_answer,
    tool_approval_answer,
    tool_review_answer,
    validate_answer,
)
from hitl.errors import InvalidAnswer
from tests.hitl_agent import paused_agent

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from langgraph.prebuilt.interrupt import ActionRequest, HumanInterrupt, HumanInterruptConfig


# --------------------------------------------------------------------------- fixtures


def tool_results(state: dict[str, Any]) -> dict[str, str]:
    return {m.name: m.content for m in state["messages"] if isinstance(m, ToolMessage)}


HITL_REQUEST = {
    "action_requests": [
        {"name": "send_email", "args": {"to": "a@example.com", "subject": "Q3"}},
        {"name": "make_payment", "args": {"amount": 5, "payee": "ACME"}},
    ],
    "review_configs": [
        {"action_name": "send_email", "allowed_decisions": ["approve", "edit", "reject"]},
        {"action_name": "make_payment", "allowed_decisions": ["approve", "respond"]},
    ],
}

TOOL_APPROVAL = {
    "type": "tool_approval",
    "tool_call_id": "c1",
    "name": "send_email",
    "args": {"to": "a@example.com", "subject": "Q3"},
    "description": "Send?",
}


def inbox_interrupt(**flags: bool) -> HumanInterrupt:
    config = {"allow_accept": True, "allow_ignore": True, "allow_respond": True,
              "allow_edit": True}
    config.update(flags)
    return HumanInterrupt(
        action_request=ActionRequest(action="run_command", args={"command": "ls"}),
        config=HumanInterruptConfig(**config),
        description="Run it?",
    )


@pytest.fixture(scope="module")
def per_call_schema() -> dict[str, Any]:
    _, _, pending = paused_agent("per_call")
    (email,) = [p for p in pending if p.value["name"] == "send_email"]
    return email.response_schema  # approve / edit / reject


# --------------------------------------------------------------------------- simple kinds


def test_confirm_answer():
    assert confirm_answer(True) is True
    assert confirm_answer(False) is False
    with pytest.raises(InvalidAnswer, match=r'approved: must be true or false, got "yes"'):
        confirm_answer("yes")


def test_question_answer_keeps_reason_when_given():
    assert question_answer(approved=True) == {"approved": True}
    assert question_answer(approved=False, reason="  wrong recipient ") == {
        "approved": False,
        "reason": "wrong recipient",
    }
    with pytest.raises(InvalidAnswer, match="reason: must be text, got 3"):
        question_answer(approved=False, reason=3)


def test_stage_and_sensitive_tools_answers():
    assert stage_answer(approved=True) == {"approved": True}
    assert sensitive_tools_answer(approved=False, reason="no") == {"approved": False,
                                                                    "reason": "no"}
    with pytest.raises(InvalidAnswer, match="approved: must be true or false, got null"):
        stage_answer(approved=None)


def test_edit_answer():
    assert edit_answer(action="approve", edited="Dear team,", draft="Dear team,") == {
        "action": "approve"
    }
    assert edit_answer(action="approve", edited="Hi all,", draft="Dear team,") == {
        "action": "approve",
        "edited": "Hi all,",
    }
    assert edit_answer(action="regenerate", edited="ignored", draft="x") == {
        "action": "regenerate"
    }
    with pytest.raises(InvalidAnswer, match="action: must be one of approve, reject, regenerate"):
        edit_answer(action="publish")
    with pytest.raises(InvalidAnswer, match="edited: is empty. Write the text, or reject"):
        edit_answer(action="approve", edited="  ", draft="Dear team,")


def test_approval_level_answer_needs_approver_to_approve():
    assert approval_level_answer(approved=True, approver_id="alice") == {
        "approved": True,
        "approver_id": "alice",
    }
    assert approval_level_answer(approved=False, approver_id="") == {
        "approved": False,
        "approver_id": "",
    }
    with pytest.raises(InvalidAnswer, match="approver_id: is required to approve") as caught:
        approval_level_answer(approved=True, approver_id=" ")
    assert caught.value.field_errors == {"approver_id": "is required to approve"}


TOOLS = [
    {"name": "send_email", "args": {"to": "a@example.com"}},
    {"name": "make_payment", "args": {"amount": 10}},
]


def test_tool_review_answer_ticks_and_edits():
    answer = tool_review_answer(
        tools=TOOLS, selected=[True, False], edited_args=['{"to": "b@example.com"}', "{}"]
    )
    assert answer == {
        "approved": True,
        "approved_tools": [{"name": "send_email", "args": {"to": "b@example.com"}}],
    }


def test_tool_review_answer_nothing_ticked_is_not_approved():
    assert tool_review_answer(tools=TOOLS, selected=[False, False]) == {
        "approved": False,
        "approved_tools": [],
    }


def test_tool_review_answer_keeps_args_without_edits():
    answer = tool_review_answer(tools=TOOLS, selected=[True, True])
    assert answer["approved_tools"] == TOOLS


def test_tool_review_answer_invalid_json_names_the_tool():
    match = r"tools\[1\]\.args: is not valid JSON .*line 1, column 12"
    with pytest.raises(InvalidAnswer, match=match) as caught:
        tool_review_answer(tools=TOOLS, selected=[True, True],
                           edited_args=[{"to": "x"}, '{"amount": }'])
    assert list(caught.value.field_errors) == ["tools[1].args"]


def test_tool_review_answer_args_must_be_an_object():
    with pytest.raises(InvalidAnswer, match=r"tools\[0\]\.args: must be a JSON object .*got \[1\]"):
        tool_review_answer(tools=TOOLS, selected=[True, False], edited_args=["[1]", "{}"])


def test_tool_review_answer_needs_one_tick_per_tool():
    with pytest.raises(InvalidAnswer, match="got 1 ticks for 2 tool calls"):
        tool_review_answer(tools=TOOLS, selected=[True])


def test_state_edit_answer_computes_modified():
    state = {"output": "Draft", "metadata": {"lang": "en"}}
    assert state_edit_answer(current_state=state, new_output="Draft",
                             new_metadata='{"lang": "en"}') == {"modified": False}
    assert state_edit_answer(current_state=state, new_output="Final",
                             new_metadata=None) == {
        "modified": True,
        "new_output": "Final",
        "new_metadata": {"lang": "en"},
    }
    assert state_edit_answer(current_state=state, new_output="Draft",
                             new_metadata={"lang": "de"})["modified"] is True


def test_state_edit_answer_bad_metadata():
    state = {"output": "Draft", "metadata": {}}
    with pytest.raises(InvalidAnswer, match="new_metadata: is not valid JSON"):
        state_edit_answer(current_state=state, new_output="x", new_metadata="{lang: en}")
    with pytest.raises(InvalidAnswer, match=r"new_metadata: must be a JSON object, got \[\]"):
        state_edit_answer(current_state=state, new_output="x", new_metadata="[]")


def test_feedback_answer_requires_feedback_when_not_approving():
    assert feedback_answer(approved=True) == {"approved": True}
    assert feedback_answer(approved=False, feedback="shorter") == {
        "approved": False,
        "feedback": "shorter",
    }
    with pytest.raises(InvalidAnswer, match="feedback: is required when not approving"):
        feedback_answer(approved=False, feedback="  ")


def test_json_answer():
    assert json_answer('{"a": [1, 2]}') == {"a": [1, 2]}
    assert json_answer("true") is True
    with pytest.raises(InvalidAnswer, match=r"not valid JSON \(Expecting value at line 2, col"):
        json_answer('{\n "a": }')
    with pytest.raises(InvalidAnswer, match="The answer is empty"):
        json_answer("   ")


class Refund(BaseModel):
    amount: float
    reason: str


def test_schema_answer_coerces_and_validates():
    schema = Refund.model_json_schema()
    assert schema_answer(schema, {"amount": "12.5", "reason": "late"}) == {
        "amount": 12.5,
        "reason": "late",
    }
    with pytest.raises(InvalidAnswer, match="reason: is required") as caught:
        schema_answer(schema, {"amount": "abc"})
    assert caught.value.field_errors == {
        "amount": "'abc' is not of type 'number'",
        "reason": "is required",
    }


# --------------------------------------------------------------------------- hitl_request


def test_hitl_request_answer_normalises_decisions():
    answer = hitl_request_answer(
        HITL_REQUEST,
        [
            {"type": "edit", "args": '{"to": "b@example.com", "subject": "Q3"}'},
            {"type": "respond", "message": " paid already "},
        ],
    )
    assert answer == {
        "decisions": [
            {"type": "edit", "edited_action": {"name": "send_email",
                                               "args": {"to": "b@example.com", "subject": "Q3"}}},
            {"type": "respond", "message": "paid already"},
        ]
    }


def test_hitl_request_answer_reject_message_is_optional():
    answer = hitl_request_answer(HITL_REQUEST, [{"type": "reject"}, {"type": "approve"}])
    assert answer["decisions"][0] == {"type": "reject"}


def test_hitl_request_answer_rejects_disallowed_type():
    with pytest.raises(
        InvalidAnswer,
        match=r"decisions\[1\]\.type: 'reject' is not allowed for action 2 \(make_payment\)\. "
        "Allowed: approve, respond",
    ):
        hitl_request_answer(HITL_REQUEST, [{"type": "approve"}, {"type": "reject"}])


def test_hitl_request_answer_edit_keeps_the_tool_name():
    with pytest.raises(InvalidAnswer, match=r"edited_action\.name: must stay 'send_email'"):
        hitl_request_answer(
            HITL_REQUEST,
            [{"type": "edit", "edited_action": {"name": "delete_all", "args": {}}},
             {"type": "approve"}],
        )


def test_hitl_request_answer_respond_needs_a_message():
    with pytest.raises(InvalidAnswer, match=r"decisions\[1\]\.message: is required"):
        hitl_request_answer(HITL_REQUEST, [{"type": "approve"}, {"type": "respond"}])


def test_hitl_request_answer_needs_one_decision_per_action():
    with pytest.raises(InvalidAnswer, match="got 1 decisions for 2 actions"):
        hitl_request_answer(HITL_REQUEST, [{"type": "approve"}])


def test_hitl_request_answer_resumes_the_real_middleware():
    agent, config, (pending,) = paused_agent("batched")
    answer = hitl_request_answer(
        pending.value,
        [{"type": "edit", "args": {"to": "b@example.com", "subject": "Q4"}},
         {"type": "reject", "message": "not now"}],
    )
    state = agent.invoke(Command(resume={pending.id: answer}), config)
    results = tool_results(state)
    assert results["send_email"].endswith("sent to b@example.com: Q4")
    assert "not now" in results["make_payment"]


# --------------------------------------------------------------------------- tool_approval


def test_allowed_decisions_from_per_call_schema(per_call_schema):
    assert allowed_decisions(per_call_schema) == ("approve", "edit", "reject")
    assert allowed_decisions(None) == ("approve", "edit", "reject", "respond")
    single = {"properties": {"type": {"const": "approve"}}, "type": "object"}
    assert allowed_decisions(single) == ("approve",)


def test_tool_approval_answer_edit_pins_name_and_checks_args(per_call_schema):
    assert tool_approval_answer(
        TOOL_APPROVAL, per_call_schema,
        {"type": "edit", "args": '{"to": "b@x.org", "subject": "s"}'},
    ) == {"type": "edit", "edited_action": {"name": "send_email",
                                            "args": {"to": "b@x.org", "subject": "s"}}}
    with pytest.raises(InvalidAnswer, match=r"edited_action\.args\.subject: is required") as caught:
        tool_approval_answer(TOOL_APPROVAL, per_call_schema,
                             {"type": "edit", "args": {"to": 3}})
    assert caught.value.field_errors == {
        "edited_action.args.to": "3 is not of type 'string'",
        "edited_action.args.subject": "is required",
    }


def test_tool_approval_answer_rejects_type_not_in_schema(per_call_schema):
    with pytest.raises(InvalidAnswer, match="type: 'respond' is not allowed for the tool call "
                                            "send_email. Allowed: approve, edit, reject"):
        tool_approval_answer(TOOL_APPROVAL, per_call_schema, {"type": "respond", "message": "x"})


def test_tool_approval_answers_resume_the_real_middleware():
    agent, config, pending = paused_agent("per_call")
    by_name = {p.value["name"]: p for p in pending}
    email, payment = by_name["send_email"], by_name["make_payment"]
    resume = {
        email.id: tool_approval_answer(
            email.value, email.response_schema,
            {"type": "edit", "args": {"to": "c@x.org", "subject": "Hi"}},
        ),
        payment.id: quick_answer("tool_approval", payment.value, approve=False, comment="too much",
                                 response_schema=payment.response_schema),
    }
    state = agent.invoke(Command(resume=resume), config)
    results = tool_results(state)
    assert results["send_email"].endswith("sent to c@x.org: Hi")
    assert "too much" in results["make_payment"]


# --------------------------------------------------------------------------- agent_inbox


def test_agent_inbox_answer_each_type():
    value = [inbox_interrupt()] * 4
    answer = agent_inbox_answer(
        value,
        [
            {"type": "accept"},
            {"type": "ignore", "args": "dropped"},
            {"type": "response", "args": " use -la "},
            {"type": "edit", "args": '{"command": "ls -la"}'},
        ],
    )
    assert answer == [
        {"type": "accept", "args": None},
        {"type": "ignore", "args": None},
        {"type": "response", "args": "use -la"},
        {"type": "edit", "args": {"action": "run_command", "args": {"command": "ls -la"}}},
    ]


def test_agent_inbox_answer_single_interrupt_gives_a_list():
    assert agent_inbox_answer(inbox_interrupt(), {"type": "accept"}) == [
        {"type": "accept", "args": None}
    ]


def test_agent_inbox_answer_checks_allow_flags():
    with pytest.raises(InvalidAnswer, match=r"\[0\]\.type: 'edit' is not allowed for 'run_command' "
                                            r"\(allow_edit is false\)"):
        agent_inbox_answer([inbox_interrupt(allow_edit=False)], [{"type": "edit", "args": {}}])


def test_agent_inbox_answer_edit_keeps_the_action():
    with pytest.raises(InvalidAnswer, match=r"\[0\]\.args\.action: must stay 'run_command'"):
        agent_inbox_answer([inbox_interrupt()],
                           [{"type": "edit", "args": {"action": "rm", "args": {}}}])


def test_agent_inbox_answer_response_needs_text():
    with pytest.raises(InvalidAnswer, match=r"\[0\]\.args: is required for a response"):
        agent_inbox_answer([inbox_interrupt()], [{"type": "response", "args": ""}])


# --------------------------------------------------------------------------- validate_answer


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("confirm", True),
        ("question", {"approved": False, "reason": "no"}),
        ("edit", {"action": "approve", "edited": "x"}),
        ("stage", {"approved": True}),
        ("approval_level", {"approved": True, "approver_id": "alice"}),
        ("tool_review", {"approved": True, "approved_tools": TOOLS}),
        ("sensitive_tools", {"approved": True}),
        ("state_edit", {"modified": True, "new_output": "x", "new_metadata": {}}),
        ("feedback", {"approved": False, "feedback": "more"}),
        ("json", {"anything": [1, 2]}),
    ],
)
def test_validate_answer_accepts_documented_shapes(kind, answer):
    # A tool review approves (possibly edited) calls the payload proposed, so it needs the payload.
    value = {"type": "tool_review", "tools": TOOLS, "message": "Review"} if kind == "tool_review" else None
    assert validate_answer(kind, value, answer) == answer


@pytest.mark.parametrize(
    ("kind", "answer", "match"),
    [
        ("confirm", "true", r'approved: must be true or false, got "true"'),
        ("question", True, "must be a JSON object for a question request, got true"),
        ("question", {"reason": "x"}, "approved: must be true or false, got null"),
        ("edit", {"action": "ok"}, "action: must be one of approve, reject, regenerate"),
        ("approval_level", {"approved": True}, "approver_id: is required to approve"),
        ("tool_review", {"approved": True, "approved_tools": [{"args": {}}]},
         r"approved_tools\[0\]: must be"),
        ("state_edit", {"modified": True}, "new_output: is required when modified is true"),
        ("feedback", {"approved": "no"}, "approved: must be true or false"),
    ],
)
def test_validate_answer_rejects_wrong_shapes(kind, answer, match):
    with pytest.raises(InvalidAnswer, match=match):
        validate_answer(kind, None, answer)


def test_validate_answer_hitl_request():
    assert validate_answer("hitl_request", HITL_REQUEST,
                           {"decisions": [{"type": "approve"}, {"type": "approve"}]}) == {
        "decisions": [{"type": "approve"}, {"type": "approve"}]
    }
    with pytest.raises(InvalidAnswer, match="decisions: must be a list, got null"):
        validate_answer("hitl_request", HITL_REQUEST, {})
    with pytest.raises(InvalidAnswer, match="got 3 decisions for 2 actions"):
        validate_answer("hitl_request", HITL_REQUEST, {"decisions": [{"type": "approve"}] * 3})


def test_validate_answer_applies_response_schema_to_any_kind():
    schema = {
        "type": "object",
        "properties": {"approved": {"type": "boolean"},
                       "reason": {"type": "string", "minLength": 5}},
        "required": ["approved", "reason"],
    }
    with pytest.raises(InvalidAnswer, match="reason: 'no' is too short") as caught:
        validate_answer("question", None, {"approved": False, "reason": "no"}, schema)
    assert caught.value.field_errors == {"reason": "'no' is too short"}


def test_validate_answer_schema_kind_reports_json_paths():
    class Args(BaseModel):
        amount: float

    class Edit(BaseModel):
        args: Args

    with pytest.raises(InvalidAnswer) as caught:
        validate_answer("schema", {}, {"args": {"amount": "lots"}}, Edit.model_json_schema())
    assert caught.value.field_errors == {"args.amount": "'lots' is not of type 'number'"}


def test_validate_answer_tool_approval(per_call_schema):
    assert validate_answer("tool_approval", TOOL_APPROVAL, {"type": "approve"},
                           per_call_schema) == {"type": "approve"}
    with pytest.raises(InvalidAnswer, match="type: must be one of approve, edit, reject"):
        validate_answer("tool_approval", TOOL_APPROVAL, {"type": "maybe"}, per_call_schema)


# --------------------------------------------------------------------------- quick_answer


@pytest.mark.parametrize(
    ("kind", "value", "approve", "expected"),
    [
        ("confirm", "Proceed?", True, True),
        ("confirm", "Proceed?", False, False),
        ("question", {}, True, {"approved": True}),
        ("question", {}, False, {"approved": False, "reason": "wrong person"}),
        ("edit", {}, True, {"action": "approve"}),
        ("edit", {}, False, {"action": "reject"}),
        ("stage", {}, True, {"approved": True}),
        ("approval_level", {}, True, {"approved": True, "approver_id": "alice"}),
        ("approval_level", {}, False, {"approved": False, "approver_id": "alice"}),
        ("tool_review", {"tools": TOOLS}, True, {"approved": True, "approved_tools": TOOLS}),
        ("tool_review", {"tools": TOOLS}, False, {"approved": False, "approved_tools": []}),
        ("sensitive_tools", {}, False, {"approved": False, "reason": "wrong person"}),
        ("state_edit", {}, True, {"modified": False}),
        ("feedback", {}, True, {"approved": True}),
        ("feedback", {}, False, {"approved": False, "feedback": "wrong person"}),
        ("hitl_request", HITL_REQUEST, True,
         {"decisions": [{"type": "approve"}, {"type": "approve"}]}),
        ("tool_approval", TOOL_APPROVAL, True, {"type": "approve"}),
        ("tool_approval", TOOL_APPROVAL, False, {"type": "reject", "message": "wrong person"}),
        ("agent_inbox", [inbox_interrupt()], True, [{"type": "accept", "args": None}]),
        ("agent_inbox", [inbox_interrupt()], False, [{"type": "ignore", "args": None}]),
        ("agent_inbox", [inbox_interrupt(allow_ignore=False)], False,
         [{"type": "response", "args": "wrong person"}]),
    ],
)
def test_quick_answer(kind, value, approve, expected):
    answer = quick_answer(kind, value, approve=approve, comment="wrong person", reviewer="alice")
    assert answer == expected
    assert validate_answer(kind, value, answer) == answer  # resume re-validates: idempotent


def test_quick_answer_hitl_request_reject_names_the_action_that_cannot_be_rejected():
    with pytest.raises(InvalidAnswer, match=r"action 2 \(make_payment\) cannot be rejected in "
                                            "batch: it allows only approve, respond"):
        quick_answer("hitl_request", HITL_REQUEST, approve=False)


def test_quick_answer_hitl_request_reject_where_allowed():
    value = {**HITL_REQUEST, "review_configs": [
        {"action_name": "send_email", "allowed_decisions": ["approve", "reject"]},
        {"action_name": "make_payment", "allowed_decisions": ["reject"]},
    ]}
    assert quick_answer("hitl_request", value, approve=False, comment="no") == {
        "decisions": [{"type": "reject", "message": "no"}, {"type": "reject", "message": "no"}]
    }


def test_quick_answer_tool_approval_respects_schema(per_call_schema):
    only_approve = {"properties": {"type": {"const": "approve", "type": "string"}},
                    "required": ["type"], "type": "object"}
    with pytest.raises(InvalidAnswer, match="send_email cannot be rejected in one click"):
        quick_answer("tool_approval", TOOL_APPROVAL, approve=False, response_schema=only_approve)
    assert quick_answer("tool_approval", TOOL_APPROVAL, approve=False,
                        response_schema=per_call_schema) == {"type": "reject"}


def test_quick_answer_approval_level_needs_a_reviewer():
    with pytest.raises(InvalidAnswer, match="approver_id: is required to approve"):
        quick_answer("approval_level", {}, approve=True)


def test_quick_answer_feedback_reject_needs_a_comment():
    with pytest.raises(InvalidAnswer, match="feedback: is required when not approving"):
        quick_answer("feedback", {}, approve=False)


def test_quick_answer_state_edit_cannot_be_rejected():
    with pytest.raises(InvalidAnswer, match="a state edit cannot be rejected in one click"):
        quick_answer("state_edit", {}, approve=False)


def test_quick_answer_agent_inbox_without_accept():
    with pytest.raises(InvalidAnswer, match=r"'run_command' cannot be accepted \(allow_accept is"):
        quick_answer("agent_inbox", [inbox_interrupt(allow_accept=False)], approve=True)
    with pytest.raises(InvalidAnswer, match="responding needs a comment"):
        quick_answer("agent_inbox", [inbox_interrupt(allow_ignore=False)], approve=False)


@pytest.mark.parametrize("kind", ["schema", "json"])
def test_quick_answer_typed_kinds_need_opening(kind):
    with pytest.raises(InvalidAnswer, match="needs a typed answer; open it to answer"):
        quick_answer(kind, {"x": 1}, approve=True,
                     response_schema=Refund.model_json_schema() if kind == "schema" else None)


def test_quick_answer_schema_with_approved_field():
    class Approval(BaseModel):
        approved: bool
        comment: str = ""

    schema = Approval.model_json_schema()
    assert quick_answer("schema", {}, approve=False, comment="late",
                        response_schema=schema) == {"approved": False, "comment": "late"}


def test_quick_answer_schema_with_other_required_fields_needs_opening():
    class Approval(BaseModel):
        approved: bool
        amount: float

    with pytest.raises(InvalidAnswer, match="needs more than approve/reject"):
        quick_answer("schema", {}, approve=True, response_schema=Approval.model_json_schema())


def test_quick_answer_validates_against_response_schema_of_known_kinds():
    schema = {"type": "object", "properties": {"approved": {"const": True}}}
    with pytest.raises(InvalidAnswer, match="approved: True was expected"):
        quick_answer("question", {}, approve=False, response_schema=schema)
