"""The undo window (`hitl.ui.held`, Review's undo bar): a decision is held before its resume
starts; Undo within the window sends and records nothing; the hold never resumes twice."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from hitl import Inbox
from hitl.errors import AlreadyDecided
from hitl.ui.held import HELD, HeldDecisions, undo_seconds
from tests.ui.confirming import confirm
from tests.ui.conftest import plain, seed


class CountingInbox:
    """Counts resumes; the first answer wins, a second one is AlreadyDecided (like the claim)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def resume(self, thread_id: str, answers: dict, **_: Any) -> Any:
        with self.lock:
            self.calls.append((thread_id, answers))
            if len(self.calls) > 1:
                raise AlreadyDecided("i-1", reviewer="someone", decided_at=None, thread_id=thread_id)
        return SimpleNamespace(status="completed", error=None, new_interrupts=[], note=None)


def _hold(held: HeldDecisions, inbox: Any, seconds: float = 60.0):
    return held.hold(inbox, thread_id="t-1", interrupt_id="i-1", answer=True, reviewer="alice", seconds=seconds)


def test_undo_seconds_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HITL_UNDO_SECONDS", raising=False)
    assert undo_seconds() == 5.0
    for raw, expected in (("0", 0.0), ("2.5", 2.5), ("soon", 5.0), ("-1", 5.0)):
        monkeypatch.setenv("HITL_UNDO_SECONDS", raw)
        assert undo_seconds() == expected


def test_undo_in_the_window_resumes_nothing() -> None:
    held, inbox = HeldDecisions(), CountingInbox()
    hold = _hold(held, inbox)
    assert held.undo(hold.key) is True
    assert held.send(hold.key).state == "undone"  # Send now after Undo does nothing
    assert inbox.calls == []
    assert held.undo(hold.key) is False


def test_a_hold_is_resumed_exactly_once_whoever_sends_it() -> None:
    held, inbox = HeldDecisions(), CountingInbox()
    hold = _hold(held, inbox, seconds=0.05)  # the timer fires while "Send now" is pressed twice
    senders = [threading.Thread(target=held.send, args=(hold.key,)) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert held.wait(hold.key, timeout=10).state == "sent"
    assert len(inbox.calls) == 1 and hold.outcome["status"] == "completed"
    assert held.undo(hold.key) is False  # too late
    again = _hold(held, inbox)  # a new hold of a sent decision is a new decision: the claim refuses it
    held.send(again.key)
    assert again.outcome["status"] == "already"


def test_holding_the_same_interrupt_twice_keeps_the_first_hold() -> None:
    held, inbox = HeldDecisions(), CountingInbox()
    first = _hold(held, inbox)
    second = held.hold(inbox, thread_id="t-1", interrupt_id="i-1", answer=False, reviewer="bob", seconds=60)
    assert second is first and second.answer is True
    held.undo(first.key)


def _approve(at, inbox: Inbox, thread_id: str):
    item = inbox.thread(thread_id).interrupts[0]
    at.button(key=f"review:{item.id}:btn:yes").click().run()
    confirm(at, item.id, asks="deletes")  # a deletion waits for its confirming step; then it is held
    assert not at.exception, [e.value for e in at.exception]
    return item


def _held_buttons(at, name: str):
    return [b for b in at.button if b.key and b.key.startswith("review:held:") and b.key.endswith(f":{name}")]


def test_undo_on_review_leaves_the_graph_pending_with_no_audit_row_and_no_side_effect(
    inbox: Inbox, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HITL_UNDO_SECONDS", "60")
    first, second = seed(inbox, "simple_confirm", 2)
    at = app("pages/review.py", query={"thread": first})
    item = _approve(at, inbox, first)
    # Held: the next thread of the queue is open, the decision is not sent yet.
    assert any(f"Thread {second}" in plain(c.value) for c in at.main.caption)
    assert any("sending in 60 s" in plain(m.value) for m in at.main.markdown)
    (undo,) = _held_buttons(at, "undo")
    assert undo.proto.shortcut == "u"
    assert inbox.history(thread_id=first).empty
    undo.click().run()
    assert not at.exception
    # Undone: the thread is back, still pending at the same interrupt, nothing recorded or run.
    assert any(f"Thread {first}" in plain(c.value) for c in at.main.caption)
    assert any("Undone: nothing was sent" in plain(i.value) for i in at.info)
    assert [i.id for i in inbox.thread(first).interrupts] == [item.id]
    assert inbox.history(thread_id=first).empty
    values = inbox.graph("simple_confirm").get_state({"configurable": {"thread_id": first}}).values
    assert not values.get("deleted_records")
    assert not HELD.pending()


def test_send_now_resumes_once_and_the_outcome_is_shown(inbox: Inbox, app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_UNDO_SECONDS", "60")
    first, _second = seed(inbox, "simple_confirm", 2)
    at = app("pages/review.py", query={"thread": first})
    _approve(at, inbox, first)
    (send,) = _held_buttons(at, "send")
    send.click().run()
    assert list(inbox.history(thread_id=first)["outcome"]) == ["completed"]
    assert any("The run completed." in plain(s.value) for s in at.success)
    assert not HELD.pending()


def test_a_second_reviewer_answering_meanwhile_wins_and_the_hold_is_not_resumed_again(
    inbox: Inbox, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HITL_UNDO_SECONDS", "60")
    first, _second = seed(inbox, "simple_confirm", 2)
    at = app("pages/review.py", query={"thread": first})
    _approve(at, inbox, first)
    inbox.decide(first, approve=False, reviewer="bob", comment="not this one")
    (send,) = _held_buttons(at, "send")
    send.click().run()
    history = inbox.history(thread_id=first)
    assert list(history["reviewer"]) == ["bob"]
    assert any("Already decided by bob" in plain(w.value) for w in at.warning)
