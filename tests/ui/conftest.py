"""AppTest fixtures: the desk's pages over a fresh SQLite database with the demo graphs.

Reuses tests/conftest.py's `db_url`, `graphs_file` and `inbox` (a second connection to the
same file, used to seed and to check results). `graphs_file` is extended here with the demo
graphs (until the repo's langgraph.json lists them) and with `explosive`, a graph whose node
raises once approved, so a batch can honestly contain a failure.
"""

from __future__ import annotations

import json
import re
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"

EXPLOSIVE_SOURCE = textwrap.dedent(
    '''
    """A question gate whose node raises once the answer approves it (a failing side effect)."""
    import operator
    from typing import Annotated, TypedDict

    from langgraph.graph import END, START, StateGraph
    from langgraph.types import interrupt


    class State(TypedDict, total=False):
        topic: str
        log: Annotated[list, operator.add]


    def restart_gate(state: State) -> dict:
        answer = interrupt({
            "action": "restart_cluster",
            "details": f"restart the {state.get('topic')} cluster",
            "question": "Restart the cluster?",
        })
        if answer.get("approved"):
            raise RuntimeError("cluster API refused the restart")
        return {"log": ["restart cancelled"]}


    explosive = StateGraph(State)
    explosive.add_node("restart_gate", restart_gate)
    explosive.add_edge(START, "restart_gate")
    explosive.add_edge("restart_gate", END)
    '''
)


@pytest.fixture
def graphs_file(graphs_file: Path, tmp_path: Path) -> Path:
    """The shared registry plus the demo graphs and `explosive`."""
    data = json.loads(graphs_file.read_text())
    graphs = data["graphs"]
    try:
        from hitl.demo.graphs import DEMO_GRAPH_IDS
    except ImportError:  # the demo package is optional
        DEMO_GRAPH_IDS = ()
    for graph_id in DEMO_GRAPH_IDS:
        graphs.setdefault(graph_id, f"{ROOT / 'hitl' / 'demo' / 'graphs.py'}:{graph_id}")
    module = tmp_path / "ui_fixture_graphs.py"
    module.write_text(EXPLOSIVE_SOURCE)
    graphs["explosive"] = f"{module}:explosive"
    graphs["optional_args_agent"] = f"{Path(__file__).parent / 'fixture_optional_args.py'}:optional_args_agent"
    graphs_file.write_text(json.dumps(data))
    return graphs_file


@pytest.fixture
def desk_env(inbox, db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the Streamlit desk at the test database, with fresh caches."""
    from hitl.ui.desk import _open_inbox

    monkeypatch.setenv("HITL_DATABASE_URL", db_url)
    monkeypatch.setenv("HITL_GRAPHS", str(graphs_file))
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    monkeypatch.setenv("HITL_REFRESH_SECONDS", "0")
    monkeypatch.setenv("HITL_UNDO_SECONDS", "0")  # decisions resume at once; the undo tests set their own window
    _open_inbox.clear()
    st.cache_data.clear()
    yield
    _open_inbox.clear()
    st.cache_data.clear()


@pytest.fixture
def app(desk_env) -> Callable[..., AppTest]:
    """`app(page=None, reviewer="alice")` -> an AppTest of app.py that has run once (on `page`)."""

    def make(page: str | None = None, *, reviewer: str = "alice", query: dict | None = None) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.session_state["reviewer"] = reviewer
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if page:
            at.switch_page(page)
            if query:
                at.query_params.update(query)
            at.run()
        return at

    return make


def open_review(app, thread_id: str | None = None, reviewer: str = "alice") -> AppTest:
    """The Review page of `thread_id` (the queue's first thread when None), run once, with no exception."""
    at = app("pages/review.py", reviewer=reviewer, query={"thread": thread_id} if thread_id else None)
    assert not at.exception, [e.value for e in at.exception]
    return at


def review_key(interrupt_id: str, *parts: object) -> str:
    """A Review card widget's key: `review:<interrupt id>:<part>:...`."""
    return ":".join(["review", interrupt_id, *map(str, parts)])


def seed(inbox, graph_id: str, count: int = 1, *, start: int = 0) -> list[str]:
    """Run a demo graph `count` times until each pauses; returns the thread ids.

    The desk's index is refreshed afterwards, as a reviewer's Inbox would before deciding.
    """
    from hitl.demo.inputs import DEMO_INPUTS

    thread_ids = [
        inbox.start_run(graph_id, DEMO_INPUTS[graph_id](index), thread_id=f"{graph_id}-{index}")
        for index in range(start, start + count)
    ]
    inbox.refresh()
    return thread_ids


def wait_for(predicate: Callable[[], bool], *, timeout: float = 20.0) -> bool:
    """Poll until `predicate()` is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


MARKDOWN_ELEMENTS = ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader")


def markdown_texts(at: AppTest) -> list[str]:
    """Every string AppTest shows through an element that renders markdown."""
    texts = []
    for name in MARKDOWN_ELEMENTS:
        texts.extend(str(element.value) for element in getattr(at, name))
    texts.extend(str(expander.label) for expander in at.expander)
    texts.extend(str(tab.label) for tab in at.tabs)
    texts.extend(str(element.value) for element in at.html)
    return texts


def inert_texts(at: AppTest) -> list[str]:
    """Every string shown as plain text: st.text, st.code, st.json and dataframe cells."""
    texts = [str(e.value) for e in at.text] + [str(e.value) for e in at.code] + [str(e.value) for e in at.json]
    for frame in at.dataframe:
        texts.extend(str(cell) for cell in frame.value.to_numpy().ravel())
    return texts


def plain(markdown: str) -> str:
    """Markdown text with backslash escapes removed: what the reader sees."""
    return re.sub(r"\\(.)", r"\1", markdown)
