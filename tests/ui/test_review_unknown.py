"""The Review page shows an outcome-unknown decision with its original answer and reviewer, and
offers Retry (only after the warning is ticked) or Mark resolved instead of the decision cards."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from hitl import Inbox
from hitl.outcome import OutcomeUnknown
from tests.conftest import start
from tests.ui.conftest import plain, open_review as _open


def _texts(at: AppTest, name: str) -> list[str]:
    return [plain(str(e.value)).replace("\u2060", "") for e in getattr(at, name)]


def _unknown(inbox: Inbox, monkeypatch: pytest.MonkeyPatch, topic: str) -> tuple[str, str]:
    """A `fragile` thread whose node ran, then LangGraph could not save its writes."""
    thread_id = start(inbox, "fragile", {"topic": topic}, thread_id=f"unknown-{topic}")
    interrupt_id = inbox.thread(thread_id).interrupts[0].id
    saver = inbox.graph("fragile").checkpointer

    def locked(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(saver, "put_writes", locked)
        patch.setattr(saver, "put", locked)
        with pytest.raises(OutcomeUnknown):
            inbox.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="carol", comment="ship it")
    return thread_id, interrupt_id


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_review_page_shows_the_unknown_outcome_and_retries_only_once_the_warning_is_ticked(
    inbox: Inbox, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id, interrupt_id = _unknown(inbox, monkeypatch, "retry")
    at = _open(app, thread_id)

    assert "Outcome unknown: the node may have run" in [t.strip("# ") for t in _texts(at, "markdown")]
    [warning] = [t for t in _texts(at, "warning") if "carol decided this" in t]
    assert "started node fragile_deploy" in warning and "not offered as a new decision" in warning
    assert any("The original decision, by carol" in t for t in _texts(at, "caption"))
    assert any("database is locked" in t for t in _texts(at, "caption"))
    assert any(interrupt_id in str(e.value) and "approved" in str(e.value) for e in at.json)  # the original answer
    assert not [b for b in at.button if b.key and b.key.startswith(f"review:{interrupt_id}:")]  # no decision card
    retry = at.button(key=f"review:{thread_id}:unknown:retry")
    assert retry.disabled

    at.checkbox(key=f"review:{thread_id}:unknown:accept").check().run()
    at.button(key=f"review:{thread_id}:unknown:retry").click().run()

    assert not at.exception
    assert "You retried the outcome-unknown decision. The run completed." in _texts(at, "success")
    assert inbox.outcome_unknown(thread_id) is None
    history = inbox.history(thread_id=thread_id)
    assert list(zip(history["action"], history["reviewer"], history["outcome"])) == [
        ("decision", "carol", "unknown"), ("retry", "alice", "completed"),
    ]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_review_page_resolves_an_unknown_outcome_with_a_reason(inbox: Inbox, app, monkeypatch: pytest.MonkeyPatch) -> None:
    thread_id, _ = _unknown(inbox, monkeypatch, "resolve")
    at = _open(app, thread_id)
    assert at.button(key=f"review:{thread_id}:unknown:resolve").disabled

    at.text_input(key=f"review:{thread_id}:unknown:reason").input("deployed by hand").run()
    at.button(key=f"review:{thread_id}:unknown:resolve").click().run()

    assert not at.exception
    assert "You marked the thread resolved; it was closed without resuming the graph." in _texts(at, "success")
    assert inbox.thread(thread_id).status == "resolved"
    assert list(inbox.history(thread_id=thread_id)["outcome"]) == ["unknown", "resolved"]
