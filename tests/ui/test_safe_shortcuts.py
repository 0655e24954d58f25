"""Shortcuts that can't hurt (issue 17): A sends what the card shows as chosen, and decisions that
move money, delete or run several calls wait for a confirming second step before anything is sent.

The button a key presses is found by its shortcut (the `shortcut` Streamlit gives the browser),
so the tests press "A" as the reviewer does, not a button picked by key.
"""

from __future__ import annotations

import json
from typing import Any

from streamlit.testing.v1 import AppTest

from hitl import Inbox
from hitl.ui import cards
from tests.ui.conftest import plain as _plain, open_review as _open, review_key as _key
from tests.ui.conftest import seed


def plain(markdown: str) -> str:
    """What the reader sees: escapes and the invisible word joiners (against autolinks) removed."""
    return _plain(markdown).replace("\u2060", "")


def _press(at: AppTest, key: str):
    """The button the keyboard shortcut `key` clicks (exactly one on the page)."""
    matches = [b for b in at.button if (b.proto.shortcut or "").lower() == key.lower()]
    assert len(matches) == 1, [(b.label, b.proto.shortcut) for b in at.button]
    return matches[0]


def _values(inbox: Inbox, graph_id: str, thread_id: str) -> dict[str, Any]:
    return inbox.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}}).values


def _answers(inbox: Inbox, thread_id: str) -> list[Any]:
    rows = inbox.history(thread_id=thread_id).to_dict("records")
    return [json.loads(r["answer"]) if isinstance(r["answer"], str) else r["answer"] for r in rows]


def _confirm_bar(at: AppTest) -> list[str]:
    return [plain(str(w.value)) for w in at.warning if plain(str(w.value)).startswith("Confirm: ")]


def test_a_on_a_batch_with_per_call_rejections_never_approves_a_rejected_call(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "agent_batched")
    (item,) = inbox.thread(thread_id).interrupts
    at = _open(app, thread_id)
    at.radio(key=_key(item.id, "decision", 1)).set_value("reject").run()  # make_payment
    at.radio(key=_key(item.id, "decision", 2)).set_value("reject").run()  # delete_record
    button = _press(at, "a")
    assert button.label.startswith("Submit decisions")  # A is never "Approve all"
    assert not (at.button(key=_key(item.id, "btn", "approve")).proto.shortcut or "")
    button.click().run()
    assert not at.exception

    (answer,) = _answers(inbox, thread_id)
    assert [d["type"] for d in answer["decisions"]] == ["approve", "reject", "reject"]
    values = _values(inbox, "agent_batched", thread_id)
    assert values["payments"] == [] and values["deleted_records"] == []
    assert len(values["sent_emails"]) == 1
    # The graph received the same decisions: its tool messages say the two were not run.
    tool_texts = [m.content for m in values["messages"] if getattr(m, "type", "") == "tool"]
    assert sum("not run" in t or "reject" in t.lower() for t in tool_texts) == 2
    banner = [plain(str(s.value)) for s in [*at.success, *at.info] if plain(str(s.value)).startswith("You ")]
    assert banner and banner[0].startswith("You approved send_email, rejected make_payment, rejected delete_record.")


def test_a_on_a_batch_that_approves_money_asks_first_and_cancel_sends_nothing(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "agent_batched")
    (item,) = inbox.thread(thread_id).interrupts
    at = _open(app, thread_id)
    _press(at, "a").click().run()
    assert inbox.history(thread_id=thread_id).empty  # nothing sent yet
    (line,) = _confirm_bar(at)
    assert line.startswith("Confirm: runs 3 tool calls: send_email to finance@acme.example; make_payment: 1,250.00 EUR "
                           "to Acme GmbH; delete_record on REC-2231")
    assert "moves money" in line and "deletes" in line
    assert _press(at, "Escape").label == "Cancel" and _press(at, "y").label == "Confirm and send"
    _press(at, "Escape").click().run()
    assert inbox.history(thread_id=thread_id).empty
    assert not _confirm_bar(at)
    assert _values(inbox, "agent_batched", thread_id).get("payments", []) == []


def test_a_money_decision_is_sent_only_after_the_confirmation(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "selective_review")
    (item,) = inbox.thread(thread_id).interrupts
    at = _open(app, thread_id)
    impact = [plain(str(m.value)) for m in at.markdown if plain(str(m.value)).startswith("**Approving ")]
    assert impact == ["**Approving runs make_payment: 1,250.00 EUR to Acme GmbH · moves money · irreversible**"]
    _press(at, "a").click().run()
    assert inbox.history(thread_id=thread_id).empty
    assert _values(inbox, "selective_review", thread_id).get("payments", []) == []
    (line,) = _confirm_bar(at)
    assert line == "Confirm: runs make_payment: 1,250.00 EUR to Acme GmbH · moves money · irreversible"
    _press(at, "y").click().run()
    assert _answers(inbox, thread_id) == [{"approved": True}]
    assert [p["recipient"] for p in _values(inbox, "selective_review", thread_id)["payments"]] == ["Acme GmbH"]


def test_a_reject_of_a_money_decision_is_sent_at_once(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "selective_review")
    at = _open(app, thread_id)
    _press(at, "x").click().run()
    assert not _confirm_bar(at)
    assert _answers(inbox, thread_id) == [{"approved": False}]
    assert _values(inbox, "selective_review", thread_id).get("payments", []) == []


def test_editing_the_card_drops_a_waiting_confirmation(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "tool_review")
    (item,) = inbox.thread(thread_id).interrupts
    at = _open(app, thread_id)
    _press(at, "a").click().run()
    assert _confirm_bar(at)
    at.checkbox(key=_key(item.id, "tick", 2)).uncheck().run()  # untick delete_record after pressing A
    assert not _confirm_bar(at)
    assert inbox.history(thread_id=thread_id).empty
    _press(at, "a").click().run()
    (line,) = _confirm_bar(at)
    assert "delete_record" not in line and "runs 2 tool calls" in line
    _press(at, "y").click().run()
    (answer,) = _answers(inbox, thread_id)
    assert [t["name"] for t in answer["approved_tools"]] == ["search_records", "send_email"]
    assert _values(inbox, "tool_review", thread_id)["deleted_records"] == []


def test_one_email_is_sent_without_a_second_step(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "email_approval")
    at = _open(app, thread_id)
    _press(at, "a").click().run()
    assert not _confirm_bar(at)
    assert _answers(inbox, thread_id) == [{"approved": True}]
    banner = [plain(str(s.value)) for s in at.success]
    assert banner and banner[0].startswith("You approved. The run completed. The graph reports: ")
    assert "finance@acme.example" in banner[0]


def test_confirmation_line_is_read_from_the_answer_not_the_payload() -> None:
    value = {"action_requests": [{"name": "send_email", "args": {"to": "a@b"}},
                                 {"name": "make_payment", "args": {"recipient": "X", "amount": 5, "currency": "EUR"}}],
             "review_configs": []}
    only_email = {"decisions": [{"type": "approve"}, {"type": "reject"}]}
    assert cards.confirmation_line("hitl_request", value, None, only_email, approving=None) == ""
    both = {"decisions": [{"type": "approve"}, {"type": "approve"}]}
    assert cards.confirmation_line("hitl_request", value, None, both, approving=None).startswith(
        "Confirm: runs 2 tool calls")
    edited = {"decisions": [{"type": "reject"}, {"type": "edit", "edited_action": {"name": "make_payment",
                                                                               "args": {"recipient": "Y", "amount": 9000}}}]}
    assert "9,000.00 to Y" in cards.confirmation_line("hitl_request", value, None, edited, approving=None)
    assert cards.confirmation_line("hitl_request", value, None, both, approving=False) == ""
    # A contract the kind's shape does not describe: judged from the payload when approving.
    assert cards.confirmation_line("question", {"question": "Wire the money?"}, None, True, approving=True,
                                   kind_shape=False).startswith("Confirm: answers yes to: Wire the money?")
