"""Cards drawn from the answer contract: a string question gets a text answer, yes/no only when the
graph's code tests truth, and an unknown contract gets a typed editor that shows what it will send."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hitl import Inbox
from tests import docs_graphs
from tests.ui.conftest import plain, seed, open_review as _open, review_key as _key


@pytest.fixture
def graphs_file(graphs_file: Path) -> Path:
    data = json.loads(graphs_file.read_text())
    data["graphs"].update(docs_graphs.GRAPHS)
    graphs_file.write_text(json.dumps(data))
    return graphs_file


def _captions(at) -> str:
    return " ".join(plain(str(c.value)) for c in at.caption)


def test_string_question_is_answered_with_text_not_yes_no(inbox: Inbox, app) -> None:
    inbox.start_run("age_loop", {}, thread_id="age-ui")
    (item,) = inbox.thread("age-ui").interrupts
    at = _open(app, "age-ui")
    assert "answer expected: text" in _captions(at)
    labels = [b.label for b in at.button]
    assert not any(label.startswith(("Yes", "No")) for label in labels)
    at.text_area(key=_key(item.id, "typed", "text")).input("thirty").run()
    assert 'Will send: "thirty"' in _captions(at)
    at.button(key=_key(item.id, "btn", "submit")).click().run()
    (again,) = inbox.thread("age-ui").interrupts
    assert again.value.startswith("'thirty' is not a valid age")
    at = _open(app, "age-ui")
    at.text_area(key=_key(again.id, "typed", "text")).input("30").run()
    at.button(key=_key(again.id, "btn", "submit")).click().run()
    assert inbox.thread("age-ui").values["age"] == 30


def test_boolean_contract_offers_yes_no_and_no_sends_false(inbox: Inbox, app) -> None:
    inbox.start_run("approve_or_reject", {"action_details": "wire 50,000"}, thread_id="aor-ui")
    (item,) = inbox.thread("aor-ui").interrupts
    at = _open(app, "aor-ui")
    assert "answer expected: yes/no" in _captions(at) and "read from the graph's code" in _captions(at)
    at.button(key=_key(item.id, "btn", "no")).click().run()
    view = inbox.thread("aor-ui")
    assert view.values["status"] == "rejected" and not view.values.get("effects")
    assert json.loads(inbox.history(thread_id="aor-ui").iloc[0]["answer"]) is False


def test_unknown_contract_gets_a_typed_editor_and_no_one_click(inbox: Inbox, app) -> None:
    inbox.start_run("passthrough", {"action_details": "the launch post"}, thread_id="pt-ui")
    (item,) = inbox.thread("pt-ui").interrupts
    at = _open(app, "pt-ui")
    assert "could not tell" in _captions(at)
    assert not any(b.label.startswith(("Approve", "Reject")) for b in at.button)
    editor = at.radio(key=_key(item.id, "typed", "editor"))
    assert editor.options == ["Text", "Number", "Yes/No", "JSON"] and editor.value == "JSON"
    editor.set_value("Number").run()
    at.text_input(key=_key(item.id, "typed", "number")).input("12.5").run()
    assert "Will send: 12.5" in _captions(at)
    at.button(key=_key(item.id, "btn", "submit")).click().run()
    assert inbox.thread("pt-ui").values["received"] == 12.5


def test_state_edit_approved_unchanged_sends_modified_false(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "state_edit")
    (item,) = inbox.thread(thread_id).interrupts
    at = _open(app, thread_id)
    at.button(key=_key(item.id, "btn", "approve")).click().run()
    assert json.loads(inbox.history(thread_id=thread_id).iloc[0]["answer"]) == {"modified": False}


def test_a_tool_without_a_reject_branch_offers_approve_and_says_why_there_is_no_reject(inbox: Inbox, app) -> None:
    inbox.start_run("hotel_agent", {}, thread_id="hotel-ui")
    (item,) = inbox.thread("hotel-ui").interrupts
    at = _open(app, "hotel-ui")
    labels = [b.label for b in at.button]
    assert any(label.startswith("Approve (sends") for label in labels)
    assert not any(label.startswith("Reject") for label in labels)
    assert "No one-click reject" in _captions(at)
    at.button(key=_key(item.id, "btn", "approve")).click().run()
    assert inbox.thread("hotel-ui").values["messages"][-1].content == "Successfully booked a stay at McKittrick Hotel."
