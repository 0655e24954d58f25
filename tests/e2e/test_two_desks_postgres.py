"""Two desk processes (`streamlit run app.py` on two ports) over one PostgreSQL database.

Both list the same queue; a decision in one leaves the other's inbox on its next run; a
reviewer clicking on a page that went stale meanwhile gets "already decided", and the graph
was resumed once. Needs HITL_TEST_POSTGRES_URL (`.ci/run` sets it) and Chromium.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hitl.demo.inputs import DEMO_INPUTS
from tests.e2e.conftest import ROOT, wait_for_app
from tests.e2e.test_review_flow import go_to, grid_rows, open_from_inbox, type_name

BASE_URL = os.environ.get("HITL_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not BASE_URL, reason="HITL_TEST_POSTGRES_URL is not set (.ci/run sets it)")
APPROVE = re.compile(r"^Approve\b")  # the button's name carries its keyboard shortcut


@pytest.fixture
def desk_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The e2e desk environment, on a fresh PostgreSQL schema instead of an SQLite file."""
    from tests.pg import fresh_schema_url

    monkeypatch.delenv("HITL_CONFIG", raising=False)
    with fresh_schema_url(BASE_URL) as url:
        yield {"HITL_DATABASE_URL": url, "HITL_GRAPHS": str(ROOT / "langgraph.json"), "LANGGRAPH_STRICT_MSGPACK": "true"}


def _queue(page) -> set[str]:
    go_to(page, "Inbox")
    return {row[0] for row in grid_rows(page)}


def _queue_becomes(page, expected: set[str], *, timeout: float = 20.0) -> set[str]:
    """The queue as the page shows it once it equals `expected` (or at the timeout).

    A rerun can still be painting the previous table when the rows are read, so one read
    may see the queue of a moment ago; the desk's answer is what the page settles on.
    """
    deadline = time.monotonic() + timeout
    seen = _queue(page)
    while seen != expected and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        seen = _queue(page)
    return seen


def test_two_streamlit_desks_share_one_queue_and_never_double_resume(app_server, desk, new_page) -> None:
    inbox = desk()
    for n in range(3):
        inbox.start_run("email_approval", DEMO_INPUTS["email_approval"](n), thread_id=f"mail-{n}")
    first, second = app_server(), app_server()
    assert first.port != second.port
    alice, bob = new_page(), new_page()
    for page, app, name in ((alice, first, "alice-e2e"), (bob, second, "bob-e2e")):
        page.goto(app.url)
        wait_for_app(page)
        type_name(page, name)
    assert _queue(alice) == _queue(bob) == {"mail-0", "mail-1", "mail-2"}

    # A decision in one desk leaves the other's inbox on its next run.
    open_from_inbox(alice, "mail-0")
    alice.get_by_role("button", name=APPROVE).click()
    wait_for_app(alice)
    assert list(inbox.history(thread_id="mail-0")["reviewer"]) == ["alice-e2e"]
    assert _queue_becomes(bob, {"mail-1", "mail-2"}) == {"mail-1", "mail-2"}

    # Both open mail-1; Alice approves; Bob's page is now stale and his click is refused.
    open_from_inbox(alice, "mail-1")
    open_from_inbox(bob, "mail-1")
    alice.get_by_role("button", name=APPROVE).click()
    wait_for_app(alice)
    bob.get_by_role("button", name=APPROVE).click()
    wait_for_app(bob)
    bob.get_by_text("already decided by alice-e2e").first.wait_for()
    assert list(inbox.history(thread_id="mail-1")["reviewer"]) == ["alice-e2e"]
    state = inbox.graph("email_approval").get_state({"configurable": {"thread_id": "mail-1"}})
    assert not state.interrupts and not state.next
    assert _queue_becomes(alice, {"mail-2"}) == _queue_becomes(bob, {"mail-2"}) == {"mail-2"}
