"""Review cards, one per payload kind: set the widgets, submit, check the graph's state and the audit row.

Each test seeds a demo thread, opens `pages/review.py?thread=ID` in the app (AppTest), drives the
card's widgets by their keys (`review:<interrupt id>:...`) and asserts what the graph did and
what the audit log recorded. The pure helpers of `hitl.ui.cards` are tested at the bottom.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from hitl import Inbox
from hitl.ui import cards
from tests.ui.conftest import plain, seed, open_review as _open, review_key as _key


ODDBALL_SOURCE = """
import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    topic: str
    log: Annotated[list, operator.add]


def odd_node(state: State) -> dict:
    answer = interrupt({"weird": [1, 2], "note": "a shape the desk does not know"})
    return {"log": [f"odd:{answer}"]}


oddball = StateGraph(State)
oddball.add_node("odd_node", odd_node)
oddball.add_edge(START, "odd_node")
oddball.add_edge("odd_node", END)
"""


@pytest.fixture
def graphs_file(graphs_file, tmp_path):
    """The UI registry plus `oddball`, whose payload has no known shape (the json kind)."""
    data = json.loads(graphs_file.read_text())
    module = tmp_path / "review_oddball.py"
    module.write_text(ODDBALL_SOURCE)
    data["graphs"]["oddball"] = f"{module}:oddball"
    graphs_file.write_text(json.dumps(data))
    return graphs_file


def _only_interrupt(inbox: Inbox, thread_id: str) -> Any:
    (item,) = inbox.thread(thread_id).interrupts
    return item


def _confirm(at: AppTest, interrupt_id: str, *, asks: str = "") -> None:
    """The confirming second step of a decision that moves money, deletes or runs several calls
    (issue 17): nothing was sent yet; Confirm sends it."""
    bar = [plain(str(w.value)) for w in at.warning if plain(str(w.value)).startswith("Confirm: ")]
    assert bar, "no confirmation was asked"
    assert asks in bar[0]
    at.button(key=_key(interrupt_id, "btn", "confirm")).click().run()


def _values(inbox: Inbox, graph_id: str, thread_id: str) -> dict[str, Any]:
    return inbox.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}}).values


def _audit(inbox: Inbox, thread_id: str) -> list[dict[str, Any]]:
    rows = inbox.history(thread_id=thread_id).to_dict("records")
    for row in rows:
        row["answer"] = json.loads(row["answer"]) if isinstance(row["answer"], str) else row["answer"]
    return rows


def _texts(at: AppTest, name: str) -> list[str]:
    """What the reader sees of each element: escapes and invisible word joiners removed."""
    return [plain(str(e.value)).replace("\u2060", "") for e in getattr(at, name)]


def _last_text(inbox: Inbox, graph_id: str, thread_id: str) -> str:
    return str(_values(inbox, graph_id, thread_id)["messages"][-1].content)


# --------------------------------------------------------------------------- hand-made kinds


def test_question_reject_sends_preset_reason_plus_details_and_the_email_is_not_sent(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "email_approval")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    assert "**Approve this email to finance@acme.example?**" in _texts(at, "markdown")

    at.selectbox(key=_key(item.id, "preset")).set_value("Wrong recipient")
    at.text_input(key=_key(item.id, "reason")).input("send it to finance-eu instead")
    at.button(key=_key(item.id, "btn", "reject")).click().run()

    assert not at.exception
    values = _values(inbox, "email_approval", thread_id)
    assert values["sent_emails"] == []
    assert values["messages"][-1].content == "Action cancelled: Wrong recipient: send it to finance-eu instead"
    (row,) = _audit(inbox, thread_id)
    assert row["answer"] == {"approved": False, "reason": "Wrong recipient: send it to finance-eu instead"}
    assert (row["reviewer"], row["kind"], row["outcome"]) == ("alice", "question", "completed")
    assert row["comment"] == "Wrong recipient: send it to finance-eu instead"
    # The banner goes on to say what the graph did (issue 17).
    assert "You rejected. The run completed. The graph reports: send_email was not run: rejected by the reviewer " \
           "(Wrong recipient: send it to finance-eu instead)" in _texts(at, "success")


def test_stage_approve_with_notes_moves_to_the_next_stage_shown_in_place(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "two_stage")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    at.text_area(key=_key(item.id, "reason")).input("Good structure")
    at.button(key=_key(item.id, "btn", "approve")).click().run()

    assert not at.exception
    assert _values(inbox, "two_stage", thread_id)["approved_stages"] == ["outline"]
    (row,) = _audit(inbox, thread_id)
    assert row["answer"] == {"approved": True, "reason": "Good structure"} and row["outcome"] == "waiting"
    # The report stage is the next request, rendered right there with its own widgets.
    (following,) = inbox.thread(thread_id).interrupts
    assert following.value["stage"] == "report"
    assert at.button(key=_key(following.id, "btn", "approve"))
    assert any("paused again: 1 new request below" in t for t in _texts(at, "info"))


def test_confirm_yes_runs_the_deletion(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "simple_confirm")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    assert item.value in _texts(at, "text")
    at.button(key=_key(item.id, "btn", "yes")).click().run()
    assert _values(inbox, "simple_confirm", thread_id).get("deleted_records", []) == []  # asked first
    _confirm(at, item.id, asks="deletes")

    assert [r["record_id"] for r in _values(inbox, "simple_confirm", thread_id)["deleted_records"]] == ["REC-2231"]
    assert _audit(inbox, thread_id)[0]["answer"] is True


def test_edit_approve_sends_the_edited_text(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "draft_edit")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    area = at.text_area(key=_key(item.id, "draft"))
    assert area.value == item.value["draft"]
    assert at.button(key=_key(item.id, "btn", "approve")).label == "Approve draft"
    area.input("Dear Dana,\n\nYour order ships tomorrow.\n\nCustomer Care").run()
    assert at.button(key=_key(item.id, "btn", "approve")).label == "Approve edited draft"
    at.button(key=_key(item.id, "btn", "approve")).click().run()

    values = _values(inbox, "draft_edit", thread_id)
    assert values["status"] == "approved"
    assert values["final_draft"] == "Dear Dana,\n\nYour order ships tomorrow.\n\nCustomer Care"
    assert _audit(inbox, thread_id)[0]["answer"] == {"action": "approve", "edited": values["final_draft"]}


def test_edit_reject_with_reason_and_regenerate(inbox: Inbox, app) -> None:
    first, second = seed(inbox, "draft_edit", 2)
    at = _open(app, first)
    item = _only_interrupt(inbox, first)
    at.selectbox(key=_key(item.id, "preset")).set_value("Needs more context")
    at.button(key=_key(item.id, "btn", "reject")).click().run()
    assert _values(inbox, "draft_edit", first)["messages"][-1].content == "Draft rejected: Needs more context"

    at = _open(app, second)
    item = _only_interrupt(inbox, second)
    at.button(key=_key(item.id, "btn", "regenerate")).click().run()
    assert _values(inbox, "draft_edit", second)["revision"] == 2
    assert _audit(inbox, second)[0]["answer"] == {"action": "regenerate"}
    assert len(inbox.thread(second).interrupts) == 1  # the new draft waits for review


def test_approval_level_records_the_reviewer_as_approver_and_shows_the_next_level(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "approval_chain")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id, reviewer="mgr.jones")
    button = at.button(key=_key(item.id, "btn", "approve"))
    assert button.label == "Approve as manager"
    button.click().run()
    _confirm(at, item.id, asks="52,000.00 EUR")

    assert _values(inbox, "approval_chain", thread_id)["approvers"] == ["mgr.jones"]
    assert _audit(inbox, thread_id)[0]["answer"] == {"approved": True, "approver_id": "mgr.jones"}
    (following,) = inbox.thread(thread_id).interrupts
    assert at.button(key=_key(following.id, "btn", "reject")).label == "Reject as director"
    at.button(key=_key(following.id, "btn", "reject")).click().run()
    assert _values(inbox, "approval_chain", thread_id)["status"] == "rejected"
    assert _audit(inbox, thread_id)[1]["answer"] == {"approved": False, "approver_id": "mgr.jones"}


def test_tool_review_unticked_call_does_not_run_and_edited_args_do(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "tool_review")
    item = _only_interrupt(inbox, thread_id)
    names = [tool["name"] for tool in item.value["tools"]]
    assert names == ["search_records", "send_email", "delete_record"]
    at = _open(app, thread_id)
    at.checkbox(key=_key(item.id, "tick", 2)).uncheck().run()
    at.toggle(key=_key(item.id, "asjson", 1)).set_value(True).run()  # flat args get a form; edit them as JSON here
    email = json.loads(at.text_area(key=_key(item.id, "args", 1)).value)
    at.text_area(key=_key(item.id, "args", 1)).input(json.dumps({**email, "subject": "Signed NDA (final)"})).run()
    button = at.button(key=_key(item.id, "btn", "approve"))
    assert button.label == "Approve selected (2 of 3)"
    button.click().run()
    _confirm(at, item.id, asks="runs 2 tool calls: search_records")

    assert not at.exception
    values = _values(inbox, "tool_review", thread_id)
    assert values["deleted_records"] == []
    assert [mail["subject"] for mail in values["sent_emails"]] == ["Signed NDA (final)"]
    answer = _audit(inbox, thread_id)[0]["answer"]
    assert answer["approved"] is True
    assert [tool["name"] for tool in answer["approved_tools"]] == ["search_records", "send_email"]


def test_tool_review_invalid_json_is_flagged_next_to_its_call_and_blocks_approve(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "tool_review")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    at.toggle(key=_key(item.id, "asjson", 0)).set_value(True).run()
    at.text_area(key=_key(item.id, "args", 0)).input('{"query": "open invoices",}').run()

    assert any(t.startswith("search_records: Not valid JSON") for t in _texts(at, "error"))
    assert at.button(key=_key(item.id, "btn", "approve")).disabled
    # Unticking the broken call makes the rest approvable again.
    at.checkbox(key=_key(item.id, "tick", 0)).uncheck().run()
    assert not at.button(key=_key(item.id, "btn", "approve")).disabled
    assert inbox.history(thread_id=thread_id).empty


def test_tool_review_reject_all(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "tool_review")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    at.selectbox(key=_key(item.id, "preset")).set_value("Policy violation")
    at.button(key=_key(item.id, "btn", "reject")).click().run()
    values = _values(inbox, "tool_review", thread_id)
    assert values["sent_emails"] == [] and values["deleted_records"] == []
    assert values["messages"][-1].content == "Tool execution cancelled by reviewer: Policy violation"
    assert _audit(inbox, thread_id)[0]["answer"] == {"approved": False, "reason": "Policy violation"}


def test_sensitive_tools_reject_with_reason_keeps_the_payment_from_running(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "selective_review")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    at.selectbox(key=_key(item.id, "preset")).set_value("Amount or scope too large")
    at.button(key=_key(item.id, "btn", "reject")).click().run()

    values = _values(inbox, "selective_review", thread_id)
    assert values["payments"] == []
    assert any("Amount or scope too large" in str(m.content) for m in values["messages"])
    assert _audit(inbox, thread_id)[0]["answer"] == {"approved": False, "reason": "Amount or scope too large"}


def test_state_edit_sends_new_output_and_metadata(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "state_edit")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    assert at.button(key=_key(item.id, "btn", "approve")).label == "Approve unchanged"
    at.text_area(key=_key(item.id, "output")).input("A shorter digest entry.")
    metadata = json.loads(at.text_area(key=_key(item.id, "metadata")).value)
    at.text_area(key=_key(item.id, "metadata")).input(json.dumps({**metadata, "audience": "all-staff"})).run()
    assert at.button(key=_key(item.id, "btn", "approve")).label == "Approve with my edits"
    at.button(key=_key(item.id, "btn", "approve")).click().run()

    values = _values(inbox, "state_edit", thread_id)
    assert values["status"] == "published_with_edits"
    assert values["output"] == "A shorter digest entry."
    assert values["metadata"]["audience"] == "all-staff"
    assert _audit(inbox, thread_id)[0]["answer"]["modified"] is True


def test_state_edit_invalid_metadata_json_disables_approve(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "state_edit")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    at.text_area(key=_key(item.id, "metadata")).input("{'audience': 'x'}").run()
    assert any(t.startswith("Metadata: Not valid JSON") for t in _texts(at, "error"))
    assert at.button(key=_key(item.id, "btn", "approve")).disabled


def test_feedback_needs_text_then_starts_another_round(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "feedback_loop")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    at.button(key=_key(item.id, "btn", "feedback")).click().run()
    assert any(t.startswith("feedback: is required when not approving") for t in _texts(at, "error"))
    assert inbox.history(thread_id=thread_id).empty  # nothing was sent

    at.text_area(key=_key(item.id, "feedback")).input("Mention the price.")
    at.button(key=_key(item.id, "btn", "feedback")).click().run()
    assert not [t for t in _texts(at, "error") if "feedback" in t]  # editing cleared the error
    values = _values(inbox, "feedback_loop", thread_id)
    assert values["iteration"] == 1
    assert values["feedback_history"] == [{"iteration": 0, "feedback": "Mention the price."}]
    assert _audit(inbox, thread_id)[0]["answer"] == {"approved": False, "feedback": "Mention the price."}


def test_json_kind_validates_the_typed_answer(inbox: Inbox, app) -> None:
    thread_id = "odd-1"
    inbox.graph("oddball").invoke({"topic": "x"}, {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": "oddball"}})
    item = _only_interrupt(inbox, thread_id)
    assert item.kind == "json"
    at = _open(app, thread_id)
    assert at.button(key=_key(item.id, "btn", "submit")).disabled
    at.text_area(key=_key(item.id, "json")).input('{"go": tru}').run()
    assert any(t.startswith("Not valid JSON") for t in _texts(at, "error"))
    at.text_area(key=_key(item.id, "json")).input('{"go": true, "speed": 3}').run()
    at.button(key=_key(item.id, "btn", "submit")).click().run()
    assert _values(inbox, "oddball", thread_id)["log"] == ["odd:{'go': True, 'speed': 3}"]


# --------------------------------------------------------------------------- LangChain and Agent Inbox


def test_hitl_request_offers_only_allowed_decisions_and_resumes_mixed_decisions_in_order(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "agent_batched")
    item = _only_interrupt(inbox, thread_id)
    assert [a["name"] for a in item.value["action_requests"]] == ["send_email", "make_payment", "delete_record"]
    at = _open(app, thread_id)
    radios = [at.radio(key=_key(item.id, "decision", i)) for i in range(3)]
    assert radios[0].options == ["Approve", "Edit args", "Reject", "Respond instead"]
    assert radios[1].options == ["Approve", "Reject"]  # payments: approve or reject only
    assert radios[2].options == ["Approve", "Edit args", "Reject"]

    # Edit the email's subject through form fields built from the tool's schema.
    radios[0].set_value("edit").run()
    subject = at.text_input(key=_key(item.id, "argsform", 0) + ":subject")
    assert subject.value == "Q3 revenue report"
    subject.input("Q3 revenue report (final)")
    at.radio(key=_key(item.id, "decision", 1)).set_value("reject").run()
    at.selectbox(key=_key(item.id, "preset", 1)).set_value("Amount or scope too large")
    at.text_input(key=_key(item.id, "message", 1)).input("split it in two")
    at.button(key=_key(item.id, "btn", "submit")).click().run()
    _confirm(at, item.id, asks="runs 2 tool calls: send_email")

    assert not at.exception
    answer = _audit(inbox, thread_id)[0]["answer"]
    assert [d["type"] for d in answer["decisions"]] == ["edit", "reject", "approve"]
    assert answer["decisions"][0]["edited_action"]["name"] == "send_email"
    assert answer["decisions"][0]["edited_action"]["args"]["subject"] == "Q3 revenue report (final)"
    assert answer["decisions"][1]["message"] == "Amount or scope too large: split it in two"
    values = _values(inbox, "agent_batched", thread_id)
    assert [mail["subject"] for mail in values["sent_emails"]] == ["Q3 revenue report (final)"]
    assert values["payments"] == []
    assert [r["record_id"] for r in values["deleted_records"]] == ["REC-2231"]


def test_hitl_request_reject_all_needs_reject_allowed_everywhere(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "agent_batched")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    assert not at.button(key=_key(item.id, "btn", "reject")).disabled
    assert at.button(key=_key(item.id, "btn", "reject")).label == "Reject all"
    at.button(key=_key(item.id, "btn", "reject")).click().run()
    values = _values(inbox, "agent_batched", thread_id)
    assert values["sent_emails"] == [] and values["payments"] == [] and values["deleted_records"] == []
    assert [d["type"] for d in _audit(inbox, thread_id)[0]["answer"]["decisions"]] == ["reject"] * 3


def test_hitl_request_respond_needs_a_message(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "agent_batched")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    at.radio(key=_key(item.id, "decision", 0)).set_value("respond").run()
    at.button(key=_key(item.id, "btn", "submit")).click().run()
    assert any("is required for a respond decision" in t for t in _texts(at, "error"))
    assert inbox.history(thread_id=thread_id).empty
    at.text_area(key=_key(item.id, "reply", 0)).input("Already sent it myself.")
    at.button(key=_key(item.id, "btn", "submit")).click().run()
    _confirm(at, item.id, asks="make_payment")
    values = _values(inbox, "agent_batched", thread_id)
    assert values["sent_emails"] == []
    assert any(getattr(m, "type", "") == "tool" and m.content == "Already sent it myself." for m in values["messages"])


def _per_call(inbox: Inbox) -> tuple[str, list[Any]]:
    (thread_id,) = seed(inbox, "agent_per_call")
    items = inbox.thread(thread_id).interrupts
    assert [i.value["name"] for i in items] == ["send_email", "make_payment", "delete_record"]
    return thread_id, items


def test_tool_approval_cards_each_answer_their_own_interrupt(inbox: Inbox, app) -> None:
    thread_id, (email, payment, deletion) = _per_call(inbox)
    at = _open(app, thread_id)
    # One card per call; decisions come from each call's response_schema.
    assert at.radio(key=_key(payment.id, "decision", 0)).options == ["Approve", "Reject"]
    assert at.radio(key=_key(email.id, "decision", 0)).options == ["Approve", "Edit args", "Reject", "Respond instead"]
    # Only the first card owns the keyboard shortcuts.
    assert at.button(key=_key(email.id, "btn", "submit")).proto.shortcut
    assert not at.button(key=_key(payment.id, "btn", "submit")).proto.shortcut

    at.button(key=_key(payment.id, "btn", "reject")).click().run()
    assert not at.exception
    (row,) = _audit(inbox, thread_id)
    assert (row["interrupt_id"], row["answer"], row["outcome"]) == (payment.id, {"type": "reject"}, "waiting")
    assert {i.id for i in inbox.thread(thread_id).interrupts} == {email.id, deletion.id}


def test_tool_approval_invalid_edit_shows_the_field_error_and_stays_pending(inbox: Inbox, app) -> None:
    thread_id, (email, _, _) = _per_call(inbox)
    at = _open(app, thread_id)
    at.radio(key=_key(email.id, "decision", 0)).set_value("edit").run()
    # Form fields come from the response_schema's args definition; switch to raw JSON.
    assert at.text_input(key=_key(email.id, "argsform", 0) + ":to").value == "finance@acme.example"
    at.toggle(key=_key(email.id, "asjson", 0)).set_value(True).run()
    at.text_area(key=_key(email.id, "argsjson", 0)).input('{"to": 42, "subject": "Q3"}').run()
    at.button(key=_key(email.id, "btn", "submit")).click().run()

    assert not at.exception
    errors = _texts(at, "error")
    assert "to: 42 is not of type 'string'" in errors
    assert "body: is required" in errors
    assert len(inbox.thread(thread_id).interrupts) == 3  # nothing resumed, nothing ran
    assert _values(inbox, "agent_per_call", thread_id)["sent_emails"] == []
    assert inbox.history(thread_id=thread_id).empty

    # Still answerable: fix it and the edited email is sent.
    args = {"to": "cfo@acme.example", "subject": "Q3", "body": "Attached."}
    at.text_area(key=_key(email.id, "argsjson", 0)).input(json.dumps(args)).run()
    assert "to: 42 is not of type 'string'" not in _texts(at, "error")  # editing cleared it
    at.button(key=_key(email.id, "btn", "submit")).click().run()
    assert [m["to"] for m in _values(inbox, "agent_per_call", thread_id)["sent_emails"]] == ["cfo@acme.example"]


def test_tool_approval_refused_by_the_graph_shows_pydantic_field_errors(inbox: Inbox, app, monkeypatch) -> None:
    """When only LangGraph catches the bad answer (its pydantic ValidationError), the error
    still lands next to the field and the interrupt stays answerable."""
    from hitl import decisions
    from hitl.kinds import langchain

    # The desk's own schema checks off (in the facade and in the kind), so only LangGraph checks.
    monkeypatch.setattr(decisions, "check_schema", lambda schema, answer: None)
    monkeypatch.setattr(langchain, "check_schema", lambda schema, answer: None)
    thread_id, (email, _, _) = _per_call(inbox)
    at = _open(app, thread_id)
    at.radio(key=_key(email.id, "decision", 0)).set_value("edit").run()
    at.toggle(key=_key(email.id, "asjson", 0)).set_value(True).run()
    at.text_area(key=_key(email.id, "argsjson", 0)).input('{"to": 42, "subject": "Q3", "body": "x"}').run()
    at.button(key=_key(email.id, "btn", "submit")).click().run()

    assert not at.exception
    assert "to: Input should be a valid string" in _texts(at, "error")
    assert any("The graph refused the answer" in t for t in _texts(at, "error"))
    assert len(inbox.thread(thread_id).interrupts) == 3
    assert inbox.history(thread_id=thread_id).empty
    assert (inbox.store.claim_of(thread_id, email.id) or {}).get("state") != "done"  # claim released


def test_agent_inbox_offers_the_allowed_responses_and_sends_a_human_response_list(inbox: Inbox, app) -> None:
    email_thread, payment_thread = seed(inbox, "agent_inbox", 2)
    email = _only_interrupt(inbox, email_thread)
    payment = _only_interrupt(inbox, payment_thread)
    at = _open(app, payment_thread)
    assert at.radio(key=_key(payment.id, "decision", 0)).options == ["Accept", "Respond", "Ignore"]  # allow_edit False

    at = _open(app, email_thread)
    assert at.radio(key=_key(email.id, "decision", 0)).options == ["Accept", "Edit args", "Respond", "Ignore"]
    at.radio(key=_key(email.id, "decision", 0)).set_value("response").run()
    at.text_area(key=_key(email.id, "reply", 0)).input("I will send it after the review meeting.")
    assert at.button(key=_key(email.id, "btn", "submit")).label == "Send response"
    at.button(key=_key(email.id, "btn", "submit")).click().run()

    assert not at.exception
    assert _audit(inbox, email_thread)[0]["answer"] == [{"type": "response", "args": "I will send it after the review meeting."}]
    values = _values(inbox, "agent_inbox", email_thread)
    assert values["sent_emails"] == []
    assert any("the reviewer replied: I will send it after the review meeting." in str(m.content) for m in values["messages"])


def test_agent_inbox_edit_args_as_json_runs_with_the_new_args(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "agent_inbox")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    at.radio(key=_key(item.id, "decision", 0)).set_value("edit").run()
    args = json.loads(at.text_area(key=_key(item.id, "argsjson", 0)).value)
    at.text_area(key=_key(item.id, "argsjson", 0)).input(json.dumps({**args, "to": "sre@initech.example"})).run()
    at.button(key=_key(item.id, "btn", "submit")).click().run()

    answer = _audit(inbox, thread_id)[0]["answer"]
    assert answer == [{"type": "edit", "args": {"action": "send_email", "args": {**args, "to": "sre@initech.example"}}}]
    assert [m["to"] for m in _values(inbox, "agent_inbox", thread_id)["sent_emails"]] == ["sre@initech.example"]


def test_agent_inbox_one_click_ignore(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "agent_inbox")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    at.button(key=_key(item.id, "btn", "ignore")).click().run()
    assert _audit(inbox, thread_id)[0]["answer"] == [{"type": "ignore", "args": None}]
    assert _values(inbox, "agent_inbox", thread_id)["sent_emails"] == []


def test_schema_form_is_validated_per_field_then_resumes_with_typed_data(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "schema_form")
    item = _only_interrupt(inbox, thread_id)
    form = _key(item.id, "form")
    at = _open(app, thread_id)
    at.button(key=_key(item.id, "btn", "submit")).click().run()  # amount 0 and an empty message
    errors = _texts(at, "error")
    assert any(t.startswith("resolution.amount:") for t in errors)
    assert any(t.startswith("reply.message:") for t in errors)
    assert inbox.history(thread_id=thread_id).empty

    at.number_input(key=f"{form}:resolution@refund.amount").set_value(25.5)
    at.selectbox(key=f"{form}:resolution@refund.currency").set_value("EUR")
    at.text_area(key=f"{form}:reply.message").input("Sorry about the jar; a refund is on its way.")
    at.selectbox(key=f"{form}:priority").set_value("high").run()
    at.button(key=_key(item.id, "btn", "submit")).click().run()

    assert not at.exception
    values = _values(inbox, "schema_form", thread_id)
    assert values["refunds"] == [{"ticket_id": "TKT-40211", "amount": 25.5, "currency": "EUR"}]
    assert values["resolution_form"]["priority"] == "high"
    answer = _audit(inbox, thread_id)[0]["answer"]
    assert answer["resolution"] == {"kind": "refund", "amount": 25.5, "currency": "EUR"}


# --------------------------------------------------------------------------- pure helpers


def test_combine_reason() -> None:
    assert cards.combine_reason("Wrong recipient", " use legal@ ") == "Wrong recipient: use legal@"
    assert cards.combine_reason("—", "only text") == "only text"
    assert cards.combine_reason("Policy violation", "") == "Policy violation"
    assert cards.combine_reason(None, None) == ""


def test_neighbours_wrap_around_and_handle_a_thread_that_left_the_queue() -> None:
    assert cards.neighbours(["a", "b", "c"], "b") == ("a", "c")
    assert cards.neighbours(["a", "b", "c"], "c") == ("b", "a")
    assert cards.neighbours(["a", "b", "c"], "gone") == (None, "a")
    assert cards.neighbours(["a"], "a") == (None, None)
    assert cards.neighbours([], "a") == (None, None)


@pytest.mark.parametrize(
    ("path", "kind", "expected"),
    [
        ("decisions[1].edited_action.args.to", "hitl_request", "[1].args.to"),
        ("decisions[0].message", "hitl_request", "[0].message"),
        ("edited_action.args.amount", "tool_approval", "[0].args.amount"),
        ("edit.edited_action.args.to", "tool_approval", "[0].args.to"),
        ("EditDecision.edited_action.args", "tool_approval", "[0].args"),
        ("type", "tool_approval", "[0].type"),
        ("[0].args.args", "agent_inbox", "[0].args"),
        ("tools[2].args", "tool_review", "tools[2].args"),
    ],
)
def test_error_paths_are_mapped_to_the_widget_they_are_about(path: str, kind: str, expected: str) -> None:
    assert cards.normalize_error_path(path, kind) == expected


def test_edit_args_schema_is_found_in_a_per_call_response_schema() -> None:
    schema = {
        "$defs": {
            "Edit": {"properties": {"type": {"const": "edit"}, "edited_action": {"$ref": "#/$defs/Action"}}},
            "Action": {"properties": {"name": {"const": "pay"}, "args": {"$ref": "#/$defs/pay"}}},
            "pay": {"type": "object", "properties": {"amount": {"type": "number"}}, "required": ["amount"]},
            "Approve": {"properties": {"type": {"const": "approve"}}},
        },
        "oneOf": [{"$ref": "#/$defs/Approve"}, {"$ref": "#/$defs/Edit"}],
    }
    found = cards.edit_args_schema(schema)
    assert found["properties"] == {"amount": {"type": "number"}} and "$defs" in found
    assert cards.edit_args_schema({"oneOf": [{"$ref": "#/$defs/Approve"}], "$defs": schema["$defs"]}) is None
    assert cards.edit_args_schema(None) is None


def test_review_actions_read_allowed_decisions_from_each_format() -> None:
    batched = {
        "action_requests": [{"name": "pay", "args": {"amount": 1}, "description": "Pay"}, {"name": "mail", "args": {}}],
        "review_configs": [{"action_name": "pay", "allowed_decisions": ["reject", "approve"]},
                           {"action_name": "mail", "allowed_decisions": ["approve", "edit", "reject", "respond"]}],
    }
    specs = cards.review_actions("hitl_request", batched)
    assert [(s.name, s.allowed) for s in specs] == [("pay", ("approve", "reject")), ("mail", ("approve", "edit", "reject", "respond"))]
    inbox_item = [{"action_request": {"action": "pay", "args": {}}, "config": {"allow_accept": True, "allow_ignore": True,
                                                                            "allow_respond": False, "allow_edit": False}}]
    (spec,) = cards.review_actions("agent_inbox", inbox_item)
    assert spec.allowed == ("accept", "ignore") and spec.markdown
    assert cards.review_actions("hitl_request", "garbage") == []


def test_tool_arg_schemas_come_from_the_graphs_tool_node(inbox: Inbox) -> None:
    schemas = cards.tool_arg_schemas(inbox.graph("agent_batched"))
    assert set(schemas) >= {"send_email", "make_payment", "delete_record"}
    assert schemas["send_email"]["required"] == ["to", "subject", "body"]
    assert cards.tool_arg_schemas(object()) == {}


def _in_order(node: Any) -> list[Any]:
    """The page's elements in the order they are drawn."""
    children = getattr(node, "children", None)
    if not children:
        return [node]
    out: list[Any] = []
    for index in sorted(children):
        out.extend(_in_order(children[index]))
    return out


def test_schema_form_errors_are_shown_once_each_under_its_field(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "schema_form")
    item = _only_interrupt(inbox, thread_id)
    form = _key(item.id, "form")
    at = _open(app, thread_id)
    at.button(key=_key(item.id, "btn", "submit")).click().run()  # amount empty and an empty message

    errors = _texts(at, "error")
    for field in ("resolution.amount", "reply.message"):
        assert len([t for t in errors if field in t]) == 1, errors  # once, not listed again at the bottom
    assert [t for t in errors if "to correct, shown next to them" in t] == [
        "The answer does not fit the interrupt's response schema: 2 fields to correct, shown next to them."]
    drawn = _in_order(at.main)
    keys = [getattr(e, "key", None) for e in drawn]
    for widget, field in ((f"{form}:resolution@refund.amount", "resolution.amount"), (f"{form}:reply.message", "reply.message")):
        after = drawn[keys.index(widget) + 1]
        assert plain(str(after.value)).startswith(f"{field}:"), (widget, after)


def test_state_edit_shows_the_changes_before_submit_and_offers_no_reject_of_its_own(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "state_edit")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    assert not at.code and not at.dataframe  # nothing edited, no diff
    assert not [b for b in at.button if b.key == _key(item.id, "btn", "reject")]  # the kind has no rejection
    old_output = at.text_area(key=_key(item.id, "output")).value
    metadata = json.loads(at.text_area(key=_key(item.id, "metadata")).value)
    at.text_area(key=_key(item.id, "output")).input("A shorter digest entry.")
    assert "reviewed_by" not in metadata and metadata.get("audience") != "all-staff"
    at.text_area(key=_key(item.id, "metadata")).input(json.dumps({**metadata, "audience": "all-staff",
                                                                  "reviewed_by": "alice"})).run()

    table = at.dataframe[0].value.set_index("Field")
    assert table.loc["output", "Current"] == old_output and table.loc["output", "Yours"] == "A shorter digest entry."
    assert table.loc["metadata.audience", "Current"] == metadata["audience"]
    assert table.loc["metadata.audience", "Yours"] == "all-staff"
    assert table.loc["metadata.reviewed_by", "Current"] == "(none)"
    assert list(table.index) == ["output", "metadata.audience", "metadata.reviewed_by"]  # unchanged fields are not listed
    assert inbox.history(thread_id=thread_id).empty  # shown before submit: nothing sent yet


STATE_EDIT_REJECT = """
[answers."state_edit:review_state"]
type = "kind"
reject = { modified = false, rejected = true }
comment_field = "reason"
"""


def test_state_edit_reject_sends_the_contracts_reject_value(inbox: Inbox, app, tmp_path, monkeypatch) -> None:
    from hitl.ui.desk import _open_inbox

    policy = tmp_path / "hitl.toml"
    policy.write_text(STATE_EDIT_REJECT)
    monkeypatch.setenv("HITL_CONFIG", str(policy))
    _open_inbox.clear()
    (thread_id,) = seed(inbox, "state_edit")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    reject = at.button(key=_key(item.id, "btn", "reject"))
    assert reject.label == 'Reject (sends {"modified": false, "rejected": true})'
    at.text_area(key=_key(item.id, "output")).input("An edit the reviewer then drops.").run()  # edits do not leak into it
    at.text_input(key=_key(item.id, "reason")).input("Not ready to publish").run()
    at.button(key=_key(item.id, "btn", "reject")).click().run()

    assert not at.exception
    assert _audit(inbox, thread_id)[0]["answer"] == {"modified": False, "rejected": True, "reason": "Not ready to publish"}


def test_an_edited_draft_is_shown_as_a_diff_before_it_is_sent(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "draft_edit")
    item = _only_interrupt(inbox, thread_id)
    at = _open(app, thread_id)
    assert not at.code  # unedited: no diff
    new = "Dear Dana,\n\nYour order ships tomorrow."
    at.text_area(key=_key(item.id, "draft")).input(new).run()
    (diff,) = [c.value for c in at.code if c.language == "diff"]
    lines = diff.splitlines()
    assert lines[:2] == ["--- draft (current)", "+++ draft (yours)"]
    dropped = [line for line in item.value["draft"].splitlines() if line not in new.splitlines()]
    assert dropped and all(f"-{line}" in lines for line in dropped)
    assert "+Your order ships tomorrow." in lines
    assert inbox.history(thread_id=thread_id).empty


def test_edited_tool_args_are_shown_as_changed_fields_on_tool_review_and_hitl_request(inbox: Inbox, app) -> None:
    (review_thread,) = seed(inbox, "tool_review")
    item = _only_interrupt(inbox, review_thread)
    at = _open(app, review_thread)
    assert not at.dataframe
    at.toggle(key=_key(item.id, "asjson", 1)).set_value(True).run()
    email = json.loads(at.text_area(key=_key(item.id, "args", 1)).value)
    at.text_area(key=_key(item.id, "args", 1)).input(json.dumps({**email, "subject": "Signed NDA (final)"})).run()
    (table,) = [d.value for d in at.dataframe]
    assert table.to_dict("records") == [{"Field": "subject", "Current": email["subject"], "Yours": "Signed NDA (final)"}]

    (batched,) = seed(inbox, "agent_batched")
    item = _only_interrupt(inbox, batched)
    at = _open(app, batched)
    at.radio(key=_key(item.id, "decision", 0)).set_value("edit").run()
    assert not at.dataframe  # the form holds the agent's args: nothing changed yet
    at.text_input(key=_key(item.id, "argsform", 0) + ":subject").input("Q3 revenue report (final)").run()
    (table,) = [d.value for d in at.dataframe]
    assert table.to_dict("records") == [{"Field": "subject", "Current": "Q3 revenue report", "Yours": "Q3 revenue report (final)"}]
    assert inbox.history(thread_id=batched).empty and inbox.history(thread_id=review_thread).empty


def _optional_args_thread(inbox: Inbox) -> tuple[str, Any]:
    thread_id = inbox.start_run("optional_args_agent", {"messages": [{"role": "user", "content": "mail ops"}]},
                                thread_id=f"optional-args-{uuid.uuid4().hex[:6]}")
    inbox.refresh()
    return thread_id, _only_interrupt(inbox, thread_id)


def test_edit_args_form_sends_back_the_agents_own_values_for_fields_left_alone(inbox: Inbox, app) -> None:
    # The call has cc=None and no priority; the tool's schema form shows both (cc as an empty
    # text field, priority as its default 3). Untouched, they go back as the agent sent them.
    from tests.ui.fixture_optional_args import CALL_ARGS

    thread_id, item = _optional_args_thread(inbox)
    assert item.value["action_requests"][0]["args"] == CALL_ARGS
    at = _open(app, thread_id)
    at.radio(key=_key(item.id, "decision", 0)).set_value("edit").run()
    assert at.text_input(key=_key(item.id, "argsform", 0) + ":cc").value == ""
    assert not at.dataframe  # nothing changed: no diff
    at.text_input(key=_key(item.id, "argsform", 0) + ":subject").input("Q3 numbers (final)").run()
    (table,) = [d.value for d in at.dataframe]
    assert table.to_dict("records") == [{"Field": "subject", "Current": "Q3 numbers", "Yours": "Q3 numbers (final)"}]
    at.button(key=_key(item.id, "btn", "submit")).click().run()
    assert not at.exception
    (decision,) = _audit(inbox, thread_id)[0]["answer"]["decisions"]
    assert decision["edited_action"]["args"] == {**CALL_ARGS, "subject": "Q3 numbers (final)"}


def test_edit_args_form_sends_a_field_the_reviewer_filled_in(inbox: Inbox, app) -> None:
    thread_id, item = _optional_args_thread(inbox)
    at = _open(app, thread_id)
    at.radio(key=_key(item.id, "decision", 0)).set_value("edit").run()
    at.text_input(key=_key(item.id, "argsform", 0) + ":cc").input("cfo@acme.example").run()
    at.button(key=_key(item.id, "btn", "submit")).click().run()
    (decision,) = _audit(inbox, thread_id)[0]["answer"]["decisions"]
    assert decision["edited_action"]["args"] == {"to": "ops@acme.example", "subject": "Q3 numbers", "cc": "cfo@acme.example"}


def test_tool_review_flat_args_are_edited_in_a_form_and_unedited_fields_are_sent_as_they_were(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "tool_review")
    item = _only_interrupt(inbox, thread_id)
    email = item.value["tools"][1]["args"]
    assert all(isinstance(v, str) for v in email.values())
    at = _open(app, thread_id)
    assert not [a for a in at.text_area if a.key == _key(item.id, "args", 1)]  # no raw JSON for flat args
    fields = {name: i for i, name in enumerate(email)}
    subject = at.text_input(key=_key(item.id, "arg", 1, fields["subject"]))
    assert subject.value == email["subject"] and subject.label == "subject"
    if "body" in fields:  # a multi-line body is a text area holding its line breaks, not "\n" escapes
        body = [a for a in at.text_area if a.key == _key(item.id, "arg", 1, fields["body"])]
        assert not body or body[0].value == email["body"]
    subject.input("Signed NDA (final)").run()
    (table,) = [d.value for d in at.dataframe]
    assert table.to_dict("records") == [{"Field": "subject", "Current": email["subject"], "Yours": "Signed NDA (final)"}]
    at.checkbox(key=_key(item.id, "tick", 2)).uncheck().run()
    at.button(key=_key(item.id, "btn", "approve")).click().run()
    _confirm(at, item.id, asks="runs 2 tool calls")

    assert not at.exception
    sent = _audit(inbox, thread_id)[0]["answer"]["approved_tools"]
    assert sent[1] == {"name": "send_email", "args": {**email, "subject": "Signed NDA (final)"}}
    assert sent[0] == item.value["tools"][0]  # untouched call: the checkpoint's args


def test_only_flat_args_get_a_form() -> None:
    from hitl.ui.cards.calls import flat_args

    assert flat_args({"a": "x", "n": 5, "ok": True, "f": 0.1})
    assert not flat_args({"a": {"nested": 1}}) and not flat_args({}) and not flat_args({"d": [1]})
    assert not flat_args({"n": None}) and not flat_args("text")
