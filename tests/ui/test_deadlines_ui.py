"""Deadlines on the pages: time left per inbox row (tinted when soon) and extend-once on review."""

from __future__ import annotations

from pathlib import Path

import pytest

from hitl import Inbox
from tests.ui.conftest import seed

POLICY = """
[[timeouts]]
graph = "email_approval"
expire_after = "1h"
warn_before = "2h"

[[timeouts]]
graph = "simple_confirm"
expire_after = "3d"
"""


@pytest.fixture
def with_policy(desk_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from hitl.ui.desk import _open_inbox

    path = tmp_path / "hitl.toml"
    path.write_text(POLICY)
    monkeypatch.setenv("HITL_CONFIG", str(path))
    monkeypatch.setenv("HITL_SWEEP_SECONDS", "0")
    _open_inbox.clear()
    return path


def test_inbox_shows_time_left_and_flags_items_about_to_expire(inbox: Inbox, app, with_policy: Path) -> None:
    seed(inbox, "email_approval", 1)
    seed(inbox, "simple_confirm", 1)
    seed(inbox, "tool_review", 1)
    at = app()
    table = at.main.dataframe[0].value.set_index("Thread")
    assert table.loc["email_approval-0", "Time left"].endswith("left · soon")
    assert table.loc["simple_confirm-0", "Time left"].endswith("left")
    assert "soon" not in table.loc["simple_confirm-0", "Time left"]
    assert table.loc["tool_review-0", "Time left"] == ""


def test_review_page_extends_a_deadline_once_with_a_reason(inbox: Inbox, app, with_policy: Path) -> None:
    (thread_id,) = seed(inbox, "email_approval", 1)
    at = app("pages/review.py", query={"thread": thread_id})
    assert any("Deadline" in w.value for w in at.warning)
    at.button(key=f"deadline:{thread_id}:extend").click().run()
    assert any("needs a reason" in e.value for e in at.error)
    at.text_input(key=f"deadline:{thread_id}:reason").input("waiting for the invoice copy")
    at.button(key=f"deadline:{thread_id}:extend").click().run()
    assert any("Deadline moved" in s.value for s in at.success)
    rows = inbox.history(thread_id=thread_id)
    extend = rows[rows["action"] == "extend"]
    assert list(extend["comment"]) == ["waiting for the invoice copy"] and list(extend["reviewer"]) == ["alice"]
    at.run()
    assert any("already extended" in c.value for c in at.caption)
