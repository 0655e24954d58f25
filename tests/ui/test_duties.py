"""Separation of duties, visible (issue 17): one name signing successive levels, approving its own
run, and the last round of a feedback loop."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from hitl import Inbox
from hitl.ui.duties import duty_warnings, last_round
from tests.ui.confirming import confirm, confirm_line
from tests.ui.conftest import plain, seed, open_review as _open


def _warnings(at: AppTest) -> list[str]:
    return [plain(str(w.value)).replace("\u2060", "") for w in at.warning]


def test_the_same_name_on_the_next_level_of_a_chain_is_warned(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "approval_chain")
    inbox.decide(thread_id, approve=True, reviewer="walker")
    at = _open(app, thread_id, "walker")
    assert any(w.startswith("You (walker) already approved 1 earlier level of this approval chain") for w in _warnings(at))
    other = _open(app, thread_id, "bob")
    assert not any("already approved" in w for w in _warnings(other))


def test_approving_a_run_you_requested_is_warned(inbox: Inbox, app) -> None:
    from hitl.demo.inputs import DEMO_INPUTS

    thread_id = inbox.start_run("email_approval", DEMO_INPUTS["email_approval"](0), thread_id="own-1",
                                requested_by="walker")
    inbox.refresh()
    at = _open(app, thread_id, "Walker")
    assert any(w.startswith("You (Walker) requested this run.") for w in _warnings(at))
    assert not any("requested this run" in w for w in _warnings(_open(app, thread_id, "bob")))


def test_the_last_feedback_round_warns_and_asks_before_sending_feedback(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "feedback_loop")
    for _ in range(4):
        (item,) = inbox.thread(thread_id).interrupts
        inbox.resume(thread_id, {item.id: {"approved": False, "feedback": "shorter"}}, reviewer="bob")
    (item,) = inbox.thread(thread_id).interrupts
    assert "round 5 of 5" in item.value["message"]
    at = _open(app, thread_id, "alice")
    assert any(w.startswith("Last round (5 of 5): sending feedback ends the loop with revision 5 unapproved")
               for w in _warnings(at))
    at.text_area(key=f"review:{item.id}:feedback").input("even shorter")
    at.button(key=f"review:{item.id}:btn:feedback").click().run()
    assert "ends the loop with revision 5 unapproved" in confirm_line(at)
    assert len(inbox.history(thread_id=thread_id)) == 4  # nothing sent yet
    confirm(at, item.id)
    assert len(inbox.history(thread_id=thread_id)) == 5
    values = inbox.graph("feedback_loop").get_state({"configurable": {"thread_id": thread_id}}).values
    assert values["status"] == "max_iterations"


def test_an_earlier_feedback_round_is_sent_at_once(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "feedback_loop")
    (item,) = inbox.thread(thread_id).interrupts
    at = _open(app, thread_id, "alice")
    assert not any(w.startswith("Last round") for w in _warnings(at))
    at.text_area(key=f"review:{item.id}:feedback").input("shorter")
    at.button(key=f"review:{item.id}:btn:feedback").click().run()
    assert not confirm_line(at)
    assert len(inbox.history(thread_id=thread_id)) == 1


def test_duty_warnings_are_local_mode_only_and_need_an_approval() -> None:
    rows = [{"kind": "approval_level", "reviewer": "walker", "answer": '{"approved": true, "approver_id": "walker"}'}]
    assert duty_warnings(kind="approval_level", reviewer="walker", decisions=rows)
    assert duty_warnings(kind="approval_level", reviewer="walker", decisions=rows, login_mode=True) == []
    rejected = [{**rows[0], "answer": {"approved": False}}]
    assert duty_warnings(kind="approval_level", reviewer="walker", decisions=rejected) == []
    assert duty_warnings(kind="question", reviewer="walker", decisions=rows) == []
    assert duty_warnings(kind="question", reviewer="", metadata={"requested_by": ""}) == []


def test_last_round_reads_the_message_or_the_iteration() -> None:
    assert last_round({"message": "Approve this version (round 5 of 5)."}).is_last
    assert not last_round({"message": "round 2 of 5"}).is_last
    assert last_round({"iteration": 2, "output": "x"}, max_rounds=3).is_last
    assert last_round({"iteration": 2, "output": "x"}) is None
    assert last_round("text") is None
