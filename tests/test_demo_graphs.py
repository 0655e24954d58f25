"""The demo graphs pause with the documented payloads and do what the reviewer's answer asks."""

from __future__ import annotations

import os

os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph._internal import _serde
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde import _msgpack
from langgraph.graph import StateGraph
from langgraph.types import Command, Interrupt
from pydantic import ValidationError

from hitl.demo import DEMO_GRAPH_IDS, DEMO_GRAPHS, DEMO_INPUTS, ScriptedChatModel, get_chat_model
from hitl.demo import __main__ as demo_cli
from hitl.demo import graphs as demo_graphs
from hitl.demo.seed import seed
from hitl.demo.tools import OFFICE_TOOLS

ROOT = Path(__file__).resolve().parent.parent

EXPECTED_IDS = [
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
AGENT_FACTORIES = {"agent_batched", "agent_per_call"}


@pytest.fixture(autouse=True)
def offline_and_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OpenAI key (the scripted model answers) and strict checkpoint deserialisation.

    The strict flags are read when langgraph is imported; patching them keeps the tests strict
    even if another module imported langgraph before the environment variable was set.
    """
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(_msgpack, "STRICT_MSGPACK_ENABLED", True)
    monkeypatch.setattr(_serde, "STRICT_MSGPACK_ENABLED", True)


class Run:
    """One demo thread on a fresh in-memory checkpointer."""

    def __init__(self, graph_id: str, graph_input: dict[str, Any] | None = None) -> None:
        definition = DEMO_GRAPHS[graph_id]
        saver = InMemorySaver()
        if isinstance(definition, StateGraph):
            self.graph = definition.compile(checkpointer=saver)
        else:
            self.graph = definition(saver)
        self.config = {"configurable": {"thread_id": f"test-{graph_id}"}}
        self.result = self.graph.invoke(
            graph_input if graph_input is not None else DEMO_INPUTS[graph_id](0), self.config
        )

    @property
    def interrupts(self) -> list[Interrupt]:
        return list(self.result.get("__interrupt__", []))

    @property
    def interrupt(self) -> Interrupt:
        assert len(self.interrupts) == 1, self.interrupts
        return self.interrupts[0]

    def answer(self, value: Any) -> dict[str, Any]:
        """Answer the single pending interrupt."""
        return self.resume({self.interrupt.id: value})

    def resume(self, answers: dict[str, Any]) -> dict[str, Any]:
        self.result = self.graph.invoke(Command(resume=answers), self.config)
        return self.result

    @property
    def state(self) -> dict[str, Any]:
        return self.graph.get_state(self.config).values

    @property
    def finished(self) -> bool:
        return not self.interrupts and not self.graph.get_state(self.config).next

    def last_text(self) -> str:
        return str(self.state["messages"][-1].content)

    def tool_messages(self, name: str | None = None) -> list[ToolMessage]:
        return [
            message
            for message in self.state["messages"]
            if isinstance(message, ToolMessage) and (name is None or message.name == name)
        ]


def ledger(run: Run, key: str) -> list[dict[str, Any]]:
    return list(run.state.get(key) or [])


# Registry, inputs and state hygiene --------------------------------------------------------


def test_demo_graph_ids_are_the_documented_ones_in_order() -> None:
    assert DEMO_GRAPH_IDS == EXPECTED_IDS
    assert list(DEMO_INPUTS) == EXPECTED_IDS


def test_hand_made_graphs_are_builders_and_agents_are_factories() -> None:
    for graph_id, definition in DEMO_GRAPHS.items():
        if graph_id in AGENT_FACTORIES:
            assert callable(definition) and not isinstance(definition, StateGraph), graph_id
        else:
            assert isinstance(definition, StateGraph), graph_id


def test_langgraph_json_points_at_every_demo_graph() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["dependencies"] == ["."]
    assert list(config["graphs"]) == EXPECTED_IDS
    for graph_id, target in config["graphs"].items():
        path, attribute = target.split(":")
        assert (ROOT / path).resolve() == Path(demo_graphs.__file__).resolve()
        assert getattr(demo_graphs, attribute) is DEMO_GRAPHS[graph_id]


@pytest.mark.parametrize("graph_id", EXPECTED_IDS)
def test_inputs_vary_with_the_index(graph_id: str) -> None:
    contents = {DEMO_INPUTS[graph_id](index)["messages"][0]["content"] for index in range(6)}
    assert len(contents) >= 4, contents
    json.dumps(DEMO_INPUTS[graph_id](123))


@pytest.mark.parametrize("graph_id", EXPECTED_IDS)
def test_every_graph_pauses_with_plain_json_state(graph_id: str) -> None:
    run = Run(graph_id)

    assert run.interrupts, f"{graph_id} did not pause"
    for pending in run.interrupts:
        json.dumps(pending.value)
        assert pending.response_schema is None or isinstance(pending.response_schema, dict)
    for key, value in run.state.items():
        if key != "messages":
            json.dumps(value)


# email_approval: question ------------------------------------------------------------------


def test_email_approval_asks_a_question_about_the_email() -> None:
    run = Run("email_approval")

    value = run.interrupt.value
    assert set(value) == {"action", "details", "question"}
    assert value["action"] == "send_email"
    assert value["details"]["to"] == "finance@acme.example"
    assert value["details"]["subject"] == "Q3 revenue report"
    assert "finance@acme.example" in value["question"]


def test_email_approval_sends_the_email_when_approved() -> None:
    run = Run("email_approval")

    run.answer({"approved": True})

    assert run.finished
    assert [email["to"] for email in ledger(run, "sent_emails")] == ["finance@acme.example"]
    assert run.last_text().startswith("Email sent to finance@acme.example")


def test_email_approval_cancels_with_the_reason_when_rejected() -> None:
    run = Run("email_approval")

    run.answer({"approved": False, "reason": "Wrong recipient"})

    assert run.finished
    assert ledger(run, "sent_emails") == []
    assert run.last_text() == "Action cancelled: Wrong recipient"


# two_stage: stage --------------------------------------------------------------------------


def test_two_stage_reviews_outline_then_report_and_records_both() -> None:
    run = Run("two_stage")
    first = run.interrupt.value
    assert set(first) == {"stage", "result", "message"}
    assert first["stage"] == "outline"
    assert first["result"].startswith("Outline:")

    run.answer({"approved": True})
    second = run.interrupt.value
    assert second["stage"] == "report"
    assert second["result"].startswith("Report:")

    run.answer({"approved": True})
    assert run.finished
    assert run.state["approved_stages"] == ["outline", "report"]
    assert run.state["status"] == "published"


def test_two_stage_stops_when_the_outline_is_rejected() -> None:
    run = Run("two_stage")

    run.answer({"approved": False, "reason": "Missing the cost section"})

    assert run.finished
    assert "report" not in run.state
    assert run.state.get("approved_stages", []) == []
    assert run.last_text() == "Stage 'outline' rejected: Missing the cost section"


def test_two_stage_keeps_the_first_approval_when_the_report_is_rejected() -> None:
    run = Run("two_stage")
    run.answer({"approved": True})

    run.answer({"approved": False})

    assert run.state["approved_stages"] == ["outline"]
    assert run.state["status"] == "rejected"


# simple_confirm: confirm -------------------------------------------------------------------


def test_simple_confirm_asks_a_plain_question_and_runs_on_true() -> None:
    run = Run("simple_confirm")
    assert isinstance(run.interrupt.value, str)
    assert run.interrupt.value.startswith("Proceed with this action?")
    assert "REC-2231" in run.interrupt.value

    run.answer(True)

    assert run.finished
    assert ledger(run, "deleted_records") == [
        {"record_id": "REC-2231", "reason": "Duplicate record"}
    ]
    assert run.last_text().startswith("Record REC-2231 deleted")


def test_simple_confirm_does_nothing_on_false() -> None:
    run = Run("simple_confirm")

    run.answer(False)

    assert ledger(run, "deleted_records") == []
    assert run.last_text() == "Action cancelled by user"


# draft_edit: edit --------------------------------------------------------------------------


def test_draft_edit_publishes_the_edited_text() -> None:
    run = Run("draft_edit")
    value = run.interrupt.value
    assert set(value) == {"type", "draft", "instructions"}
    assert value["type"] == "edit"
    assert value["draft"].startswith("Dear Dana Whitfield")
    edited = value["draft"].replace("two business days", "one business day")

    run.answer({"action": "approve", "edited": edited})

    assert run.finished
    assert run.state["final_draft"] == edited
    assert run.last_text() == edited


def test_draft_edit_publishes_the_draft_as_is_without_an_edit() -> None:
    run = Run("draft_edit")
    draft = run.interrupt.value["draft"]

    run.answer({"action": "approve"})

    assert run.state["final_draft"] == draft


def test_draft_edit_regenerate_loops_to_a_new_draft_then_reject_stops() -> None:
    run = Run("draft_edit")
    first = run.interrupt

    run.answer({"action": "regenerate"})

    second = run.interrupt
    assert second.id != first.id
    assert second.value["type"] == "edit"
    assert second.value["draft"] != first.value["draft"]
    assert run.state["revision"] == 2

    run.answer({"action": "reject"})
    assert run.finished
    assert run.state["status"] == "rejected"
    assert run.last_text() == "Draft rejected"


# approval_chain: approval_level ------------------------------------------------------------


def test_approval_chain_asks_three_levels_and_records_approvers() -> None:
    run = Run("approval_chain")
    levels = []
    for approver_id in ("mgr-ana", "dir-ben", "vp-cho"):
        value = run.interrupt.value
        assert set(value) == {"level", "message"}
        levels.append(value["level"])
        run.answer({"approved": True, "approver_id": approver_id})

    assert levels == ["manager", "director", "vp"]
    assert run.finished
    assert run.state["approvers"] == ["mgr-ana", "dir-ben", "vp-cho"]
    assert run.state["purchase_order"]["po_number"].startswith("PO-")
    assert run.state["status"] == "ordered"


def test_approval_chain_stops_at_the_rejecting_level() -> None:
    run = Run("approval_chain")
    run.answer({"approved": True, "approver_id": "mgr-ana"})

    run.answer({"approved": False, "approver_id": "dir-ben", "reason": "Over budget"})

    assert run.finished
    assert run.state["approvers"] == ["mgr-ana"]
    assert "purchase_order" not in run.state
    assert run.last_text() == "Rejected by director: Over budget"


# tool_review: tool_review ------------------------------------------------------------------


def test_tool_review_lists_every_proposed_call() -> None:
    run = Run("tool_review")

    value = run.interrupt.value
    assert set(value) == {"type", "tools", "message"}
    assert value["type"] == "tool_review"
    assert [tool["name"] for tool in value["tools"]] == [
        "search_records",
        "send_email",
        "delete_record",
    ]
    assert all(set(tool) == {"name", "args"} for tool in value["tools"])


def test_tool_review_runs_only_the_approved_and_edited_calls() -> None:
    run = Run("tool_review")
    search, email, _delete = run.interrupt.value["tools"]
    edited_email = {**email, "args": {**email["args"], "to": "legal-team@globex.example"}}

    run.answer({"approved": True, "approved_tools": [search, edited_email]})

    assert run.finished
    assert [sent["to"] for sent in ledger(run, "sent_emails")] == ["legal-team@globex.example"]
    assert ledger(run, "deleted_records") == []
    assert run.tool_messages("search_records")[0].status == "success"
    assert run.tool_messages("delete_record")[0].status == "error"
    assert "not approved" in run.tool_messages("delete_record")[0].content
    assert isinstance(run.state["messages"][-1], AIMessage)
    assert "2 of 3 actions completed" in run.last_text()


def test_tool_review_rejection_runs_nothing() -> None:
    run = Run("tool_review")

    run.answer({"approved": False, "approved_tools": []})

    assert run.finished
    assert ledger(run, "sent_emails") == ledger(run, "deleted_records") == []
    assert all(message.status == "error" for message in run.tool_messages())
    assert run.last_text().startswith("Tool execution cancelled by reviewer")


def test_tool_review_refuses_a_tool_the_agent_did_not_propose() -> None:
    run = Run("tool_review")
    payment = {"name": "make_payment", "args": {"recipient": "X", "amount": 1.0}}

    with pytest.raises(ValueError, match="was not proposed by the agent"):
        run.answer({"approved": True, "approved_tools": [payment]})


# selective_review: sensitive_tools ---------------------------------------------------------


def test_selective_review_asks_only_about_sensitive_calls() -> None:
    run = Run("selective_review")

    value = run.interrupt.value
    assert set(value) == {"sensitive_tools", "message"}
    assert [call["name"] for call in value["sensitive_tools"]] == ["make_payment"]
    assert {"name", "args", "id"} <= set(value["sensitive_tools"][0])


def test_selective_review_runs_everything_when_approved() -> None:
    run = Run("selective_review")

    run.answer({"approved": True})

    assert run.finished
    assert [payment["recipient"] for payment in ledger(run, "payments")] == ["Acme GmbH"]
    assert run.tool_messages("search_records")[0].status == "success"


def test_selective_review_denial_still_runs_the_harmless_calls() -> None:
    run = Run("selective_review")

    run.answer({"approved": False, "reason": "Invoice already paid"})

    assert run.finished
    assert ledger(run, "payments") == []
    assert run.tool_messages("search_records")[0].status == "success"
    denial = run.tool_messages("make_payment")[0]
    assert denial.status == "error"
    assert "sensitive operation denied" in denial.content
    assert "Invoice already paid" in denial.content


def test_selective_review_does_not_pause_without_sensitive_calls() -> None:
    run = Run(
        "selective_review",
        {"messages": [{"role": "user", "content": "Look up open invoices for Acme GmbH."}]},
    )

    assert run.finished
    assert run.tool_messages("search_records")[0].status == "success"


# state_edit: state_edit --------------------------------------------------------------------


def test_state_edit_applies_the_new_output_and_metadata() -> None:
    run = Run("state_edit")
    value = run.interrupt.value
    assert set(value) == {"type", "current_state", "message"}
    assert value["type"] == "state_edit"
    assert set(value["current_state"]) == {"output", "metadata"}
    assert value["current_state"]["metadata"]["channel"] == "weekly-digest"
    new_metadata = {**value["current_state"]["metadata"], "audience": "all-staff"}

    run.answer({"modified": True, "new_output": "Shorter summary.", "new_metadata": new_metadata})

    assert run.finished
    assert run.state["output"] == "Shorter summary."
    assert run.state["metadata"] == new_metadata
    assert run.last_text() == "Shorter summary."
    assert run.state["status"] == "published_with_edits"


def test_state_edit_keeps_the_output_when_not_modified() -> None:
    run = Run("state_edit")
    output = run.interrupt.value["current_state"]["output"]

    run.answer({"modified": False})

    assert run.state["output"] == output
    assert run.state["status"] == "published"


# feedback_loop: feedback -------------------------------------------------------------------


def test_feedback_loop_regenerates_until_approved() -> None:
    run = Run("feedback_loop")
    first = run.interrupt.value
    assert set(first) == {"output", "iteration", "message"}
    assert first["iteration"] == 0

    run.answer({"approved": False, "feedback": "Mention the price"})
    second = run.interrupt.value
    assert second["iteration"] == 1
    assert second["output"] != first["output"]
    assert "Mention the price" in second["output"]

    run.answer({"approved": True})
    assert run.finished
    assert run.state["final_output"] == second["output"]
    assert run.state["status"] == "approved"
    assert run.state["feedback_history"] == [{"iteration": 0, "feedback": "Mention the price"}]


def test_feedback_loop_finalizes_after_five_rounds() -> None:
    run = Run("feedback_loop")
    iterations = []
    while run.interrupts:
        iterations.append(run.interrupt.value["iteration"])
        last_output = run.interrupt.value["output"]
        run.answer({"approved": False, "feedback": f"Round {len(iterations)}: punchier"})

    assert iterations == [0, 1, 2, 3, 4]
    assert run.finished
    assert run.state["status"] == "max_iterations"
    assert run.state["final_output"] == last_output
    assert len(run.state["feedback_history"]) == 5


# timed_approval: question with requested_at ------------------------------------------------


def test_timed_approval_carries_its_request_time_and_window() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    run = Run("timed_approval")

    value = run.interrupt.value
    assert set(value) == {"action", "details", "question", "requested_at", "expires_after_seconds"}
    assert value["expires_after_seconds"] == 86400
    requested_at = datetime.fromisoformat(value["requested_at"])
    assert requested_at.tzinfo is not None
    assert before <= requested_at <= datetime.now(UTC)


def test_timed_approval_pays_when_approved_in_time() -> None:
    run = Run("timed_approval")

    run.answer({"approved": True})

    assert run.finished
    assert [payment["recipient"] for payment in ledger(run, "payments")] == ["Globex Ltd"]
    assert run.state["timed_out"] is False


def test_timed_approval_does_not_pay_after_the_window_closed() -> None:
    graph_input = DEMO_INPUTS["timed_approval"](0)
    stale = datetime.now(UTC) - timedelta(hours=25)
    graph_input["requested_at"] = stale.strftime("%Y-%m-%dT%H:%M:%SZ")
    run = Run("timed_approval", graph_input)
    assert run.interrupt.value["requested_at"] == graph_input["requested_at"]

    run.answer({"approved": True})

    assert ledger(run, "payments") == []
    assert run.state["timed_out"] is True
    assert run.last_text().startswith("Approval timed out")


def test_timed_approval_cancels_when_rejected() -> None:
    run = Run("timed_approval")

    run.answer({"approved": False, "reason": "Duplicate invoice"})

    assert ledger(run, "payments") == []
    assert run.last_text() == "Action cancelled: Duplicate invoice"


# agent_batched: hitl_request ---------------------------------------------------------------


def test_agent_batched_asks_about_all_gated_calls_in_one_interrupt() -> None:
    run = Run("agent_batched")

    value = run.interrupt.value
    assert set(value) == {"action_requests", "review_configs"}
    assert [request["name"] for request in value["action_requests"]] == [
        "send_email",
        "make_payment",
        "delete_record",
    ]
    allowed = {
        config["action_name"]: config["allowed_decisions"] for config in value["review_configs"]
    }
    assert allowed == {
        "send_email": ["approve", "edit", "reject", "respond"],
        "make_payment": ["approve", "reject"],
        "delete_record": ["approve", "reject", "edit"],
    }
    assert all(request["description"] for request in value["action_requests"])


def test_agent_batched_applies_each_decision() -> None:
    run = Run("agent_batched")
    email = run.interrupt.value["action_requests"][0]
    edited_args = {**email["args"], "to": "controller@acme.example"}

    run.answer(
        {
            "decisions": [
                {"type": "edit", "edited_action": {"name": "send_email", "args": edited_args}},
                {"type": "reject", "message": "Invoice is disputed"},
                {"type": "approve"},
            ]
        }
    )

    assert run.finished
    assert [sent["to"] for sent in ledger(run, "sent_emails")] == ["controller@acme.example"]
    assert ledger(run, "payments") == []
    assert [record["record_id"] for record in ledger(run, "deleted_records")] == ["REC-2231"]
    assert "Invoice is disputed" in run.tool_messages("make_payment")[0].content
    assert run.tool_messages("search_records")[0].status == "success"
    assert isinstance(run.state["messages"][-1], AIMessage)


def test_agent_batched_respond_answers_for_the_tool_without_running_it() -> None:
    run = Run("agent_batched")

    run.answer(
        {
            "decisions": [
                {"type": "respond", "message": "Finance already has the report."},
                {"type": "approve"},
                {"type": "reject"},
            ]
        }
    )

    assert ledger(run, "sent_emails") == []
    assert [payment["amount"] for payment in ledger(run, "payments")] == [1250.0]
    assert ledger(run, "deleted_records") == []
    assert run.tool_messages("send_email")[0].content == "Finance already has the report."


# agent_per_call: tool_approval -------------------------------------------------------------


def _per_call(run: Run) -> dict[str, Interrupt]:
    return {pending.value["name"]: pending for pending in run.interrupts}


def test_agent_per_call_raises_one_typed_interrupt_per_gated_call() -> None:
    run = Run("agent_per_call")

    pending = _per_call(run)
    assert set(pending) == {"send_email", "make_payment", "delete_record"}
    for name, item in pending.items():
        assert set(item.value) == {"type", "tool_call_id", "name", "args", "description"}
        assert item.value["type"] == "tool_approval"
        assert item.response_schema["discriminator"]["propertyName"] == "type"
    payment_types = set(pending["make_payment"].response_schema["discriminator"]["mapping"])
    assert payment_types == {"approve", "reject"}
    email_schema = pending["send_email"].response_schema["$defs"]["send_email"]
    assert email_schema["required"] == ["to", "subject", "body"]


def test_agent_per_call_applies_one_decision_per_call() -> None:
    run = Run("agent_per_call")
    pending = _per_call(run)
    delete_args = {**pending["delete_record"].value["args"], "reason": "Merged into REC-2230"}

    run.resume(
        {
            pending["send_email"].id: {"type": "approve"},
            pending["make_payment"].id: {"type": "reject", "message": "Wrong amount"},
            pending["delete_record"].id: {
                "type": "edit",
                "edited_action": {"name": "delete_record", "args": delete_args},
            },
        }
    )

    assert run.finished
    assert [sent["to"] for sent in ledger(run, "sent_emails")] == ["finance@acme.example"]
    assert ledger(run, "payments") == []
    assert ledger(run, "deleted_records") == [
        {"record_id": "REC-2231", "reason": "Merged into REC-2230"}
    ]


def test_agent_per_call_rejects_an_edit_the_tool_does_not_allow() -> None:
    run = Run("agent_per_call")
    payment = _per_call(run)["make_payment"]
    edited_action = {"name": "make_payment", "args": payment.value["args"]}
    edit = {"type": "edit", "edited_action": edited_action}

    with pytest.raises(ValidationError):
        run.graph.invoke(Command(resume={payment.id: edit}), run.config)

    assert ledger(run, "payments") == []
    assert run.tool_messages("make_payment") == []


def test_agent_per_call_rejects_edited_args_that_do_not_fit_the_tool() -> None:
    run = Run("agent_per_call")
    email = _per_call(run)["send_email"]
    bad_args = {"to": "finance@acme.example", "subject": "Q3"}
    edit = {"type": "edit", "edited_action": {"name": "send_email", "args": bad_args}}

    with pytest.raises(ValidationError, match="body"):
        run.graph.invoke(Command(resume={email.id: edit}), run.config)

    assert ledger(run, "sent_emails") == []
    run.resume({email.id: {"type": "approve"}})
    assert [sent["subject"] for sent in ledger(run, "sent_emails")] == ["Q3 revenue report"]


# agent_inbox: agent_inbox ------------------------------------------------------------------


def test_agent_inbox_uses_the_human_interrupt_schema() -> None:
    run = Run("agent_inbox")

    value = run.interrupt.value
    assert isinstance(value, list) and len(value) == 1
    request = value[0]
    assert set(request) == {"action_request", "config", "description"}
    assert request["action_request"]["action"] == "send_email"
    assert set(request["config"]) == {"allow_ignore", "allow_respond", "allow_edit", "allow_accept"}
    assert request["description"].startswith("### ")


def test_agent_inbox_accept_runs_the_tool() -> None:
    run = Run("agent_inbox")

    run.answer([{"type": "accept", "args": None}])

    assert run.finished
    assert [sent["to"] for sent in ledger(run, "sent_emails")] == ["sre-leads@initech.example"]


def test_agent_inbox_edit_runs_the_tool_with_the_edited_args() -> None:
    run = Run("agent_inbox")
    action = run.interrupt.value[0]["action_request"]
    edited = {"action": action["action"], "args": {**action["args"], "subject": "Postmortem"}}

    run.answer([{"type": "edit", "args": edited}])

    assert [sent["subject"] for sent in ledger(run, "sent_emails")] == ["Postmortem"]


def test_agent_inbox_response_skips_the_tool_and_reports_the_reply() -> None:
    run = Run("agent_inbox")

    run.answer([{"type": "response", "args": "Wait until legal signs off."}])

    assert run.finished
    assert ledger(run, "sent_emails") == []
    assert "Wait until legal signs off." in run.last_text()


def test_agent_inbox_ignore_ends_without_acting() -> None:
    run = Run("agent_inbox")

    run.answer([{"type": "ignore", "args": None}])

    assert run.finished
    assert ledger(run, "sent_emails") == []
    assert run.last_text() == "Ignored by the reviewer; nothing was done."


def test_agent_inbox_refuses_a_response_type_the_config_disallows() -> None:
    run = Run("agent_inbox", DEMO_INPUTS["agent_inbox"](1))
    request = run.interrupt.value[0]
    assert request["action_request"]["action"] == "make_payment"
    assert request["config"]["allow_edit"] is False

    with pytest.raises(ValueError, match="not allowed for make_payment"):
        run.answer([{"type": "edit", "args": request["action_request"]}])


# schema_form: schema -----------------------------------------------------------------------


def test_schema_form_publishes_a_rich_json_schema() -> None:
    run = Run("schema_form")

    schema = run.interrupt.response_schema
    properties = schema["properties"]
    assert set(schema["required"]) == {"resolution", "reply"}
    assert properties["resolution"]["discriminator"]["propertyName"] == "kind"
    assert set(properties["resolution"]["discriminator"]["mapping"]) == {"refund", "replace"}
    assert schema["$defs"]["Priority"]["enum"] == ["low", "normal", "high", "urgent"]
    assert properties["tags"]["type"] == "array"
    assert properties["internal_note"]["default"] is None
    assert "description" in properties["follow_up_days"]
    assert schema["$defs"]["CustomerReply"]["properties"]["channel"]["enum"] == [
        "email",
        "sms",
        "phone",
    ]


def test_schema_form_refund_is_issued_and_the_form_stored_as_plain_data() -> None:
    run = Run("schema_form")

    run.answer(
        {
            "resolution": {"kind": "refund", "amount": 89.99},
            "priority": "high",
            "reply": {"message": "Sorry about the jar; your refund is on its way."},
            "tags": ["damaged"],
        }
    )

    assert run.finished
    form = run.state["resolution_form"]
    assert form["resolution"] == {"kind": "refund", "amount": 89.99, "currency": "USD"}
    assert form["priority"] == "high"
    assert form["reply"]["channel"] == "email"
    assert run.state["refunds"] == [{"ticket_id": "TKT-40211", "amount": 89.99, "currency": "USD"}]
    assert run.last_text().startswith("Refund of 89.99 USD issued for TKT-40211")


def test_schema_form_replacement_ships_the_sku() -> None:
    run = Run("schema_form")

    run.answer(
        {
            "resolution": {"kind": "replace", "sku": "BLD-JAR-2L", "expedited": True},
            "reply": {"channel": "sms", "message": "A new jar ships tomorrow."},
        }
    )

    assert run.state["replacements"] == [
        {"ticket_id": "TKT-40211", "sku": "BLD-JAR-2L", "expedited": True}
    ]
    assert "refunds" not in run.state


def test_schema_form_invalid_answer_is_refused_and_can_be_answered_again() -> None:
    run = Run("schema_form")
    pending = run.interrupt

    with pytest.raises(ValidationError, match="voucher"):
        run.graph.invoke(
            Command(resume={pending.id: {"resolution": {"kind": "voucher"}, "reply": {}}}),
            run.config,
        )

    run.resume(
        {pending.id: {"resolution": {"kind": "refund", "amount": 5}, "reply": {"message": "Done"}}}
    )
    assert run.state["status"] == "resolved"


# The scripted model ------------------------------------------------------------------------


def test_get_chat_model_is_scripted_without_an_openai_key() -> None:
    assert isinstance(get_chat_model(), ScriptedChatModel)


def test_get_chat_model_is_chat_openai_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_openai import ChatOpenAI

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    monkeypatch.setenv("HITL_OPENAI_MODEL", "gpt-4.1-mini")

    model = get_chat_model()

    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-4.1-mini"


def test_scripted_model_is_deterministic_and_calls_only_bound_tools() -> None:
    request = [
        SystemMessage("You are an operations assistant."),
        HumanMessage("Email the Q3 report to finance@acme.example and pay Acme GmbH $1,200.50"),
    ]
    model = ScriptedChatModel().bind_tools(OFFICE_TOOLS)

    first, second = model.invoke(request), model.invoke(request)

    assert first.tool_calls == second.tool_calls
    assert [call["name"] for call in first.tool_calls] == ["send_email", "make_payment"]
    assert first.tool_calls[0]["args"]["to"] == "finance@acme.example"
    assert first.tool_calls[1]["args"]["amount"] == 1200.5
    assert first.tool_calls[1]["args"]["currency"] == "USD"
    only_email = ScriptedChatModel().bind_tools(OFFICE_TOOLS[:1]).invoke(request)
    assert [call["name"] for call in only_email.tool_calls] == ["send_email"]


def test_scripted_model_summarizes_tool_results() -> None:
    messages = [
        HumanMessage("Email the Q3 report to finance@acme.example"),
        AIMessage("", tool_calls=[{"name": "send_email", "args": {}, "id": "c1"}]),
        ToolMessage("Email sent to finance@acme.example (subject: Q3 report)", tool_call_id="c1"),
    ]

    reply = ScriptedChatModel().bind_tools(OFFICE_TOOLS).invoke(messages)

    assert reply.tool_calls == []
    assert reply.content == "Email sent to finance@acme.example (subject: Q3 report)."


def test_scripted_model_explains_when_no_tool_fits_the_request() -> None:
    reply = ScriptedChatModel().bind_tools(OFFICE_TOOLS).invoke([HumanMessage("Hello there")])

    assert reply.tool_calls == []
    assert "found nothing in your request" in reply.content


# Seeding -----------------------------------------------------------------------------------


class FakeDesk:
    """Stands in for `hitl.Inbox`: compiles demo graphs on one shared checkpointer."""

    def __init__(self) -> None:
        self.saver = InMemorySaver()
        self.compiled: dict[str, Any] = {}

    def graph(self, graph_id: str) -> Any:
        if graph_id not in self.compiled:
            definition = DEMO_GRAPHS[graph_id]
            self.compiled[graph_id] = (
                definition.compile(checkpointer=self.saver)
                if isinstance(definition, StateGraph)
                else definition(self.saver)
            )
        return self.compiled[graph_id]


def test_seed_starts_pending_threads_round_robin_over_every_graph() -> None:
    desk = FakeDesk()

    thread_ids = seed(desk, 2 * len(EXPECTED_IDS))

    assert thread_ids[:2] == ["demo-email_approval-0000", "demo-two_stage-0001"]
    assert thread_ids[len(EXPECTED_IDS)] == f"demo-email_approval-{len(EXPECTED_IDS):04d}"
    for thread_id in thread_ids:
        graph_id = thread_id.removeprefix("demo-").rsplit("-", 1)[0]
        snapshot = desk.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}})
        assert snapshot.interrupts, thread_id
        assert snapshot.metadata["graph_id"] == graph_id


def test_seed_uses_the_chosen_graphs_and_prefix() -> None:
    thread_ids = seed(FakeDesk(), 3, graph_ids=["draft_edit", "schema_form"], prefix="t")

    assert thread_ids == ["t-draft_edit-0000", "t-schema_form-0001", "t-draft_edit-0002"]


def test_seed_refuses_unknown_graph_ids() -> None:
    with pytest.raises(ValueError, match="Unknown demo graph ids \\['nope'\\]"):
        seed(FakeDesk(), 1, graph_ids=["nope"])


class FakeInboxForCli(FakeDesk):
    """`hitl.Inbox` as the CLI uses it: `open`, a context manager, `pending` and `graph`."""

    pending_total = 0

    @classmethod
    def open(cls, **options: Any) -> FakeInboxForCli:
        assert options == {"create": True}
        return cls()

    def __enter__(self) -> FakeInboxForCli:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def pending(self, limit: int) -> Any:
        return type("Page", (), {"total": self.pending_total})()


def test_cli_seeds_and_prints_a_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hitl

    monkeypatch.setattr(hitl, "Inbox", FakeInboxForCli)

    assert demo_cli.main(["seed", "--threads", "3"]) == 0

    assert capsys.readouterr().out.strip() == "Seeded 3 pending threads across 3 demo graphs."


def test_cli_if_empty_skips_a_desk_with_pending_threads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hitl

    monkeypatch.setattr(hitl, "Inbox", type("Busy", (FakeInboxForCli,), {"pending_total": 4}))

    assert demo_cli.main(["seed", "--if-empty"]) == 0

    assert "nothing seeded" in capsys.readouterr().out


EXPECTED_KINDS = {
    "email_approval": {"question"},
    "two_stage": {"stage"},
    "simple_confirm": {"confirm"},
    "draft_edit": {"edit"},
    "approval_chain": {"approval_level"},
    "tool_review": {"tool_review"},
    "selective_review": {"sensitive_tools"},
    "state_edit": {"state_edit"},
    "feedback_loop": {"feedback"},
    "timed_approval": {"question"},
    "agent_batched": {"hitl_request"},
    "agent_per_call": {"tool_approval"},
    "agent_inbox": {"agent_inbox"},
    "schema_form": {"schema"},
}


def test_seeded_desk_classifies_every_demo_payload_as_its_documented_kind(inbox: Any) -> None:
    thread_ids = seed(inbox, len(EXPECTED_IDS))

    page = inbox.pending(limit=50)
    assert page.total == len(thread_ids)
    kinds = {item.graph_id: {pending.kind for pending in item.interrupts} for item in page.items}
    assert kinds == EXPECTED_KINDS
