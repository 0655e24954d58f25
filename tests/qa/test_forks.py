"""Fork and compare on SQLite and PostgreSQL: another answer at a checkpoint, on a new branch."""

from __future__ import annotations

import pytest

from hitl import InvalidAnswer
from hitl.qa.forks import FORK_MARK
from tests.qa.conftest import finish


def _snapshot(inbox, thread_id: str) -> tuple:
    config = {"configurable": {"thread_id": thread_id}}
    checkpoints = [t.config["configurable"]["checkpoint_id"] for t in inbox.store.saver.list(config)]
    return checkpoints, inbox.thread(thread_id).values, [r["seq"] for r in inbox.store.audit_rows(thread_id=thread_id)]


def test_a_rejection_instead_of_the_approval_reaches_the_other_outcome(inbox, make_qa) -> None:
    (thread_id,) = finish(inbox, 1, approve=True)
    qa = make_qa([{"name": "f", "rubrics": ["correct"], "include_forks": False}])
    before = _snapshot(inbox, thread_id)
    assert len(before[1]["sent_emails"]) == 1
    (answered,) = qa.answered_interrupts(thread_id)
    assert (answered.kind, answered.node, answered.answer, answered.reviewer) == ("question", "review_email", {"approved": True}, "desk-reviewer")

    fork = qa.fork(thread_id, answered.interrupt_id, answer={"approved": False, "reason": "Wrong recipient"}, reviewer="qa-alice", queue="f")
    assert (fork.status, fork.source_thread_id, fork.original_answer) == ("completed", thread_id, {"approved": True})
    forked = inbox.thread(fork.fork_thread_id).values
    assert forked.get("sent_emails", []) == []
    assert "Wrong recipient" in forked["messages"][-1].content
    assert _snapshot(inbox, thread_id) == before  # the original thread is untouched

    metadata = [t.metadata for t in inbox.store.saver.list({"configurable": {"thread_id": fork.fork_thread_id}})]
    assert metadata and all(m.get(FORK_MARK) == thread_id for m in metadata)
    assert inbox.store.audit_rows(thread_id=fork.fork_thread_id) == []  # never a production decision
    assert qa.decision_analytics().decisions == 1

    comparison = qa.compare(fork.fork_thread_id)
    assert (comparison.source.status, comparison.branch.status) == ("completed", "completed")
    assert [(c["name"], c["status"]) for c in comparison.source.tool_calls_after_fork] == [("send_email", "success")]
    assert [(c["name"], c["status"]) for c in comparison.branch.tool_calls_after_fork] == [("send_email", "error")]
    assert any(change.path == "sent_emails" for change in comparison.state_changes)

    qa.sync("f")
    assert {i.thread_id: i.is_fork for i in qa.items("f")} == {thread_id: False, fork.fork_thread_id: True}
    view = qa.item("f", fork.fork_thread_id, viewer="bob")
    assert view.fork is not None and view.decisions[0].fork


def test_editing_the_state_at_the_checkpoint_runs_the_node_again(inbox, make_qa) -> None:
    (thread_id,) = finish(inbox, 1, approve=True)
    qa = make_qa()
    (answered,) = qa.answered_interrupts(thread_id)
    last = inbox.thread(thread_id).values["messages"]
    proposal = next(m for m in last if getattr(m, "tool_calls", None))
    call = {**proposal.tool_calls[0], "args": {**proposal.tool_calls[0]["args"], "to": "audit@example.com"}}
    edited = proposal.model_copy(update={"tool_calls": [call]})
    fork = qa.fork(thread_id, answered.interrupt_id, state_update={"messages": [edited]}, reviewer="qa-alice")
    assert fork.mode == "state" and fork.status == "completed"
    sent = inbox.thread(fork.fork_thread_id).values["sent_emails"]
    assert [email["to"] for email in sent] == ["audit@example.com"]
    assert inbox.thread(thread_id).values["sent_emails"][0]["to"] != "audit@example.com"


def test_only_answered_interrupts_can_be_forked(inbox, make_qa) -> None:
    (thread_id,) = finish(inbox, 1)
    qa = make_qa()
    with pytest.raises(InvalidAnswer, match="was not answered"):
        qa.fork(thread_id, "0" * 32, answer={"approved": False}, reviewer="qa-alice")
