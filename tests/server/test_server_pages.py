"""The Streamlit pages on a desk whose threads live on a real `langgraph dev` (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.server.conftest import source_graphs
from tests.server.test_server_backend import start_thread, token

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
