"""The QA page and History's decision analytics in AppTest (SQLite): take an item, score it, see agreement."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from hitl import Inbox
from hitl.qa import QA
from tests.qa.conftest import finish

APP = Path(__file__).resolve().parents[2] / "app.py"
POLICY = """
[qa]
adjudicators = ["carol"]

[[qa.rubrics]]
name = "correct"
type = "boolean"
instructions = "Is the final answer right?"

[[qa.rubrics]]
name = "quality"
type = "numeric"
min = 1
max = 5

[[qa.queues]]
name = "page"
reviewers_per_item = 2
"""


@pytest.fixture
def desk(tmp_path: Path, graphs_file: Path, monkeypatch: pytest.MonkeyPatch):
    from hitl.ui.desk import _open_inbox

    url = f"sqlite:///{tmp_path / 'page.db'}"
    policy = tmp_path / "hitl.toml"
    policy.write_text(POLICY)
    for name, value in {"HITL_DATABASE_URL": url, "HITL_GRAPHS": str(graphs_file), "HITL_CONFIG": str(policy),
                        "HITL_REFRESH_SECONDS": "0", "HITL_SWEEP_SECONDS": "0"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    _open_inbox.clear()
    st.cache_data.clear()
    inbox = Inbox.open(database_url=url, graphs_path=str(graphs_file), create=True)
    yield inbox
    inbox.close()
    _open_inbox.clear()


def _page(reviewer: str, page: str = "pages/qa.py") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["reviewer"] = reviewer
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_take_score_and_see_progress_and_analytics(desk: Inbox) -> None:
    threads = finish(desk, 2)
    QA.of(desk).sync("page")
    at = _page("alice")
    at.button(key="qa_next").click().run()
    assert not at.exception, [e.value for e in at.exception]
    header = at.subheader[0].value.replace("\\", "")
    thread_id = next(t for t in threads if t in header)
    prefix = f"qa_score:page:{thread_id}"
    at.radio(key=f"{prefix}:correct").set_value("Yes")
    at.radio(key=f"{prefix}:quality").set_value(4)
    at.button(key=f"FormSubmitter:{prefix}:form-Submit scores").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (submission,) = QA.of(desk).storage.submissions("page", thread_id)
    assert (submission.reviewer, submission.scores, submission.has_correction) == ("alice", {"correct": True, "quality": 4}, False)
    assert any("recorded" in s.value for s in at.success)
    assert any(t in at.subheader[0].value.replace("\\", "") for t in threads if t != thread_id)  # the next item is open
    at.session_state["qa_tab"] = "Progress & agreement"
    at.run()
    assert any(m.label == "Scores" and m.value == "1 / 4" for m in at.metric)

    history = _page("alice", "pages/history.py")
    assert any("Decision analytics" in s.value for s in history.subheader)
