"""Every demo graph through the desk: seeded → listed with its kind → answered → final state + audit."""

from __future__ import annotations

from typing import Any

import pytest

from hitl import Inbox, InvalidAnswer
from hitl.demo.seed import seed

EXPECTED_KINDS = {
    "email_approval": "question",
    "two_stage": "stage",
    "simple_confirm": "confirm",
    "draft_edit": "edit",
    "approval_chain": "approval_level",
    "tool_review": "tool_review",
    "selective_review": "sensitive_tools",
    "state_edit": "state_edit",
    "feedback_loop": "feedback",
    "timed_approval": "question",
    "agent_batched": "hitl_request",
    "agent_per_call": "tool_approval",
    "agent_inbox": "agent_inbox",
    "schema_form": "schema",
}


def _seed_one(inbox: Inbox, graph_id: str) -> tuple[str, list]:
    (thread_id,) = seed(inbox, 1, graph_ids=[graph_id], prefix="flow")
    page = inbox.pending(graph_id=graph_id)
    assert page.total == 1
    item = page.items[0]
    assert item.thread_id == thread_id
    assert {i.kind for i in item.interrupts} == {EXPECTED_KINDS[graph_id]}
    return thread_id, item.interrupts


def _values(inbox: Inbox, graph_id: str, thread_id: str) -> dict[str, Any]:
    return inbox.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}}).values


def _only(interrupts: list) -> Any:
    assert len(interrupts) == 1
    return interrupts[0]


def _answer_once(inbox: Inbox, thread_id: str, interrupt: Any, answer: Any, **kw: Any):
    return inbox.resume(thread_id, {interrupt.id: answer}, reviewer=kw.pop("reviewer", "qa@example.com"), **kw)


def _audit(inbox: Inbox, thread_id: str) -> list[dict]:
    return inbox.history(thread_id=thread_id).to_dict("records")


def test_every_demo_graph_is_listed_with_its_kind(inbox: Inbox) -> None:
    seed(inbox, len(EXPECTED_KINDS), prefix="all")
    page = inbox.pending(limit=100)
    assert page.total == len(EXPECTED_KINDS)
    for item in page.items:
        assert item.read_only_reason is None
        assert set(item.kinds) == {EXPECTED_KINDS[item.graph_id]}, item.graph_id
        assert item.summary


@pytest.mark.parametrize("approve", [True, False])
def test_email_approval(inbox: Inbox, approve: bool) -> None:
    thread_id, interrupts = _seed_one(inbox, "email_approval")
    answer = {"approved": True} if approve else {"approved": False, "reason": "Wrong recipient"}
    outcome = _answer_once(inbox, thread_id, _only(interrupts), answer, comment="checked")
    assert outcome.status == "completed"
    values = _values(inbox, "email_approval", thread_id)
    assert len(values.get("sent_emails", [])) == (1 if approve else 0)
    if not approve:
        assert "Wrong recipient" in values["messages"][-1].content
    (row,) = _audit(inbox, thread_id)
    assert (row["kind"], row["outcome"], row["reviewer"], row["comment"]) == ("question", "completed", "qa@example.com", "checked")
    assert ('"approved": true' in row["answer"]) is approve


def test_two_stage_review_at_each_stage(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "two_stage")
    outcome = _answer_once(inbox, thread_id, _only(interrupts), {"approved": True})
    assert outcome.status == "waiting"
    second = _only(outcome.new_interrupts)
    assert second.kind == "stage" and second.value["stage"] != interrupts[0].value["stage"]
    assert _answer_once(inbox, thread_id, second, {"approved": True}).status == "completed"
    values = _values(inbox, "two_stage", thread_id)
    assert values["status"] == "published" and len(values["approved_stages"]) == 2
    assert [r["outcome"] for r in _audit(inbox, thread_id)] == ["waiting", "completed"]


def test_two_stage_rejected_at_first_stage(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "two_stage")
    outcome = _answer_once(inbox, thread_id, _only(interrupts), {"approved": False, "reason": "thin"})
    assert outcome.status == "completed"
    assert _values(inbox, "two_stage", thread_id)["status"] == "rejected"


@pytest.mark.parametrize("approve", [True, False])
def test_simple_confirm(inbox: Inbox, approve: bool) -> None:
    thread_id, interrupts = _seed_one(inbox, "simple_confirm")
    assert _answer_once(inbox, thread_id, _only(interrupts), approve).status == "completed"
    assert len(_values(inbox, "simple_confirm", thread_id).get("deleted_records", [])) == (1 if approve else 0)


def test_draft_edit_regenerate_then_approve_with_edits(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "draft_edit")
    first = _only(interrupts)
    outcome = _answer_once(inbox, thread_id, first, {"action": "regenerate"})
    assert outcome.status == "waiting"
    second = _only(outcome.new_interrupts)
    assert second.id != first.id and second.kind == "edit"
    edited = second.value["draft"] + "\n\nP.S. Edited by QA."
    assert _answer_once(inbox, thread_id, second, {"action": "approve", "edited": edited}).status == "completed"
    values = _values(inbox, "draft_edit", thread_id)
    assert values["final_draft"] == edited and values["messages"][-1].content == edited


def test_draft_edit_reject(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "draft_edit")
    assert _answer_once(inbox, thread_id, _only(interrupts), {"action": "reject"}).status == "completed"
    assert _values(inbox, "draft_edit", thread_id)["status"] == "rejected"
    with pytest.raises(InvalidAnswer):
        seed_thread, seeded = _seed_one(inbox, "draft_edit")
        _answer_once(inbox, seed_thread, _only(seeded), {"action": "publish"})


def test_approval_chain_records_each_approver(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "approval_chain")
    current = _only(interrupts)
    for level, approver in (("manager", "mia"), ("director", "dan"), ("vp", "val")):
        assert current.value["level"] == level
        outcome = inbox.decide(thread_id, approve=True, reviewer=approver)
        current = outcome.new_interrupts[0] if outcome.new_interrupts else None
    assert current is None and outcome.status == "completed"
    values = _values(inbox, "approval_chain", thread_id)
    assert values["approvers"] == ["mia", "dan", "val"] and values["status"] == "ordered"


def test_approval_chain_rejected_by_director(inbox: Inbox) -> None:
    thread_id, _ = _seed_one(inbox, "approval_chain")
    inbox.decide(thread_id, approve=True, reviewer="mia")
    assert inbox.decide(thread_id, approve=False, reviewer="dan", comment="over budget").status == "completed"
    values = _values(inbox, "approval_chain", thread_id)
    assert values["status"] == "rejected" and values["approvers"] == ["mia"]


def test_tool_review_runs_only_the_ticked_and_edited_tools(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "tool_review")
    interrupt = _only(interrupts)
    tools = interrupt.value["tools"]
    email = next(t for t in tools if t["name"] == "send_email")
    edited = {**email, "args": {**email["args"], "subject": "Edited subject"}}
    outcome = _answer_once(inbox, thread_id, interrupt, {"approved": True, "approved_tools": [edited]})
    assert outcome.status == "completed"
    values = _values(inbox, "tool_review", thread_id)
    assert [e["subject"] for e in values["sent_emails"]] == ["Edited subject"]
    assert not values.get("deleted_records")


def test_tool_review_reject_all(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "tool_review")
    outcome = inbox.decide(thread_id, approve=False, reviewer="qa", comment="not now")
    assert outcome.status == "completed"
    values = _values(inbox, "tool_review", thread_id)
    assert not values.get("sent_emails") and not values.get("deleted_records")


@pytest.mark.parametrize("approve", [True, False])
def test_selective_review_gates_the_payment(inbox: Inbox, approve: bool) -> None:
    thread_id, interrupts = _seed_one(inbox, "selective_review")
    assert _answer_once(inbox, thread_id, _only(interrupts), {"approved": approve}).status == "completed"
    assert len(_values(inbox, "selective_review", thread_id).get("payments", [])) == (1 if approve else 0)


def test_state_edit_modifies_output_and_metadata(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "state_edit")
    answer = {"modified": True, "new_output": "Shorter summary.", "new_metadata": {"audience": "board"}}
    assert _answer_once(inbox, thread_id, _only(interrupts), answer).status == "completed"
    values = _values(inbox, "state_edit", thread_id)
    assert values["output"] == "Shorter summary." and values["metadata"]["audience"] == "board"
    assert values["status"] == "published_with_edits"


def test_state_edit_unmodified(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "state_edit")
    assert inbox.decide(thread_id, approve=True, reviewer="qa").status == "completed"
    assert _values(inbox, "state_edit", thread_id)["status"] == "published"


def test_feedback_loop_feedback_then_approve(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "feedback_loop")
    outcome = _answer_once(inbox, thread_id, _only(interrupts), {"approved": False, "feedback": "Mention the price."})
    assert outcome.status == "waiting"
    again = _only(outcome.new_interrupts)
    assert again.value["iteration"] == 1
    assert _answer_once(inbox, thread_id, again, {"approved": True}).status == "completed"
    values = _values(inbox, "feedback_loop", thread_id)
    assert values["status"] == "approved" and values["feedback_history"][0]["feedback"] == "Mention the price."


@pytest.mark.parametrize("approve", [True, False])
def test_timed_approval(inbox: Inbox, approve: bool) -> None:
    thread_id, interrupts = _seed_one(inbox, "timed_approval")
    interrupt = _only(interrupts)
    assert "requested_at" in interrupt.value
    assert inbox.decide(thread_id, approve=approve, reviewer="qa", comment="ok").status == "completed"
    assert len(_values(inbox, "timed_approval", thread_id).get("payments", [])) == (1 if approve else 0)


def test_agent_batched_mixed_decisions(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "agent_batched")
    interrupt = _only(interrupts)
    decisions = []
    for action in interrupt.value["action_requests"]:
        if action["name"] == "send_email":
            args = {**action["args"], "subject": "Reviewed subject"}
            decisions.append({"type": "edit", "edited_action": {"name": "send_email", "args": args}})
        elif action["name"] == "make_payment":
            decisions.append({"type": "reject", "message": "Payment needs a PO number"})
        else:
            decisions.append({"type": "approve"})
    outcome = _answer_once(inbox, thread_id, interrupt, {"decisions": decisions})
    assert outcome.status == "completed"
    values = _values(inbox, "agent_batched", thread_id)
    assert [e["subject"] for e in values["sent_emails"]] == ["Reviewed subject"]
    assert not values.get("payments")
    assert len(values.get("deleted_records", [])) == 1
    tool_texts = " ".join(str(m.content) for m in values["messages"] if m.type == "tool")
    assert "Payment needs a PO number" in tool_texts


def test_agent_batched_refuses_a_decision_the_review_config_does_not_allow(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "agent_batched")
    interrupt = _only(interrupts)
    decisions = [
        {"type": "edit", "edited_action": {"name": a["name"], "args": a["args"]}} for a in interrupt.value["action_requests"]
    ]
    with pytest.raises(InvalidAnswer, match="make_payment"):
        _answer_once(inbox, thread_id, interrupt, {"decisions": decisions})
    assert inbox.pending(graph_id="agent_batched").total == 1


def test_agent_per_call_invalid_edit_is_refused_then_valid_answers_complete(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "agent_per_call")
    by_name = {i.value["name"]: i for i in interrupts}
    assert set(by_name) == {"send_email", "make_payment", "delete_record"}
    bad = {"type": "edit", "edited_action": {"name": "delete_record", "args": {"record_id": 12345}}}
    with pytest.raises(InvalidAnswer) as refused:
        inbox.resume(thread_id, {by_name["delete_record"].id: bad}, reviewer="qa")
    assert refused.value.field_errors
    assert inbox.pending(graph_id="agent_per_call").items[0].interrupts.__len__() == 3
    answers = {
        by_name["send_email"].id: {"type": "approve"},
        by_name["make_payment"].id: {"type": "reject", "message": "No PO"},
        by_name["delete_record"].id: {"type": "approve"},
    }
    outcome = inbox.resume(thread_id, answers, reviewer="qa")
    assert outcome.status == "completed"
    values = _values(inbox, "agent_per_call", thread_id)
    assert len(values["sent_emails"]) == 1 and not values.get("payments") and len(values["deleted_records"]) == 1
    assert len(_audit(inbox, thread_id)) == 3


@pytest.mark.parametrize("approve", [True, False])
def test_agent_inbox_accept_or_ignore(inbox: Inbox, approve: bool) -> None:
    thread_id, interrupts = _seed_one(inbox, "agent_inbox")
    assert inbox.decide(thread_id, approve=approve, reviewer="qa", comment="no").status == "completed"
    values = _values(inbox, "agent_inbox", thread_id)
    acted = len(values.get("sent_emails", [])) + len(values.get("payments", []))
    assert acted == (1 if approve else 0)


def test_schema_form_valid_answer_and_per_field_errors(inbox: Inbox) -> None:
    thread_id, interrupts = _seed_one(inbox, "schema_form")
    interrupt = _only(interrupts)
    with pytest.raises(InvalidAnswer) as refused:
        _answer_once(inbox, thread_id, interrupt, {"resolution": {"kind": "refund", "amount": -5}, "reply": {"message": ""}})
    assert refused.value.field_errors
    answer = {
        "resolution": {"kind": "replace", "sku": "BLD-200", "expedited": True},
        "priority": "high",
        "reply": {"channel": "email", "message": "A new jar is on its way.", "cc": []},
        "tags": ["damaged"],
    }
    assert _answer_once(inbox, thread_id, interrupt, answer).status == "completed"
    values = _values(inbox, "schema_form", thread_id)
    assert values["status"] == "resolved"
    assert values["resolution_form"]["resolution"]["sku"] == "BLD-200"


def test_send_task_interrupts_are_named_by_their_node_without_metadata(inbox: Inbox) -> None:
    from hitl.demo import DEMO_INPUTS

    config = {"configurable": {"thread_id": "untagged-per-call"}}
    inbox.graph("agent_per_call").invoke(DEMO_INPUTS["agent_per_call"](0), config)
    item = inbox.pending().items[0]
    assert {i.node for i in item.interrupts} == {"tools"}
    # Both create_agent graphs have a "tools" node: the desk says so instead of guessing.
    assert item.graph_id is None and "agent_batched" in item.read_only_reason and "agent_per_call" in item.read_only_reason
