"""The Streamlit pages on a desk whose threads live on a real `langgraph dev` (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from hitl.errors import HitlError
from hitl.qa import QA
from tests.server.conftest import source_graphs
from tests.server.test_server_backend import start_thread, token
from tests.ui.conftest import plain

APP = Path(__file__).resolve().parent.parent.parent / "app.py"


@pytest.fixture
def server_app(server, tmp_path, monkeypatch):
    """`server_app(page, **state)` -> an AppTest of app.py over the shared server, run on `page`."""
    from hitl.ui.desk import _open_inbox

    monkeypatch.setenv("HITL_LANGGRAPH_API_URL", server.url)
    monkeypatch.setenv("HITL_DATABASE_URL", f"sqlite:///{tmp_path / 'desk.db'}")
    monkeypatch.setenv("HITL_GRAPHS", source_graphs(tmp_path))
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    monkeypatch.setenv("HITL_REFRESH_SECONDS", "0")
    _open_inbox.clear()
    st.cache_data.clear()

    def make(page: str, **state) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.session_state["reviewer"] = "alice"
        at.run()
        for key, value in state.items():
            at.session_state[key] = value
        at.switch_page(page).run()
        assert not at.exception, [e.stack_trace for e in at.exception]
        return at

    yield make
    _open_inbox.clear()
    st.cache_data.clear()


def test_review_shows_the_servers_diagram_with_the_paused_node(server_app, client) -> None:
    thread_id = start_thread(client, "docs_approve", {"action_details": f"pay {token()}"})
    at = server_app("pages/review.py", review_thread=thread_id)
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "approval" in dot and "proceed" in dot and "cancel" in dot
    header = next(c.value for c in at.caption if c.value.startswith("Thread "))
    assert "paused at approval" in header and "status waiting" in header
    assert any("read from the graph's code" in c.value for c in at.caption)  # the contract, from HITL_GRAPHS


def test_the_inbox_lists_the_servers_threads(server_app, client) -> None:
    word = token()
    thread_id = start_thread(client, "docs_approve", {"action_details": f"pay {word}"})
    at = server_app("pages/inbox.py")
    (grid,) = [e for e in at.main if e.type == "dataframe"]
    assert thread_id in set(grid.value.iloc[:, 0])


def test_start_a_run_offers_the_servers_assistants(server_app) -> None:
    at = server_app("pages/start.py")
    (graphs,) = [box for box in at.selectbox if box.label == "Graph"]
    options = graphs.options
    assert {"docs_approve", "agent"} <= set(options)
    assert any(c.value.startswith("Steps:") for c in at.caption)  # the outline, from the server's diagram


def _texts(at: AppTest) -> str:
    return " ".join(plain(str(e.value)).replace("\u2060", "") for kind in ("markdown", "caption", "code", "error", "warning") for e in getattr(at, kind))


def test_every_page_says_the_threads_live_on_the_server(server, server_app) -> None:
    start = server_app("pages/start.py")
    assert f"on the LangGraph server at {server.url}" in _texts(start)
    assert "this desk's database" not in _texts(start)
    landing = AppTest.from_file(str(APP), default_timeout=60)  # the sidebar of a first run (AppTest drops it on a switched page)
    landing.session_state["reviewer"] = "alice"
    landing.run()
    sidebar = [plain(c.value) for c in landing.sidebar.caption]
    assert "Threads: LangGraph server" in sidebar and server.url in [c.value for c in landing.sidebar.code]
    assert any(c.startswith("Desk records (claims, audit, votes)") for c in sidebar)
    threads = server_app("pages/threads.py")
    assert f"Every thread on the LangGraph server at {server.url}" in _texts(threads)


def test_qa_forks_say_they_need_the_desks_own_database(source_desk, client) -> None:
    desk = source_desk()
    thread_id = start_thread(client, "docs_approve", {"action_details": f"pay {token()}"})
    with pytest.raises(HitlError, match="QA forks are not available for threads on the LangGraph server"):
        QA(desk).answered_interrupts(thread_id)
