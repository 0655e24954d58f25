"""Shared fixtures: a fresh SQLite database per test and a registry of test graphs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixture_graphs.py"

TEST_GRAPHS = {
    "parallel": f"{FIXTURES}:parallel",
    "two_in_one": f"{FIXTURES}:two_in_one",
    "fragile": f"{FIXTURES}:fragile",
    "slow": f"{FIXTURES}:slow",
    "twin_a": f"{FIXTURES}:twin_a",
    "twin_b": f"{FIXTURES}:twin_b",
    "compiled_with": f"{FIXTURES}:compiled_with",
    "broken": f"{FIXTURES.parent / 'fixture_broken.py'}:graph",
}


@pytest.fixture
def graphs_file(tmp_path: Path) -> Path:
    """A langgraph.json registering the test graphs and the demo graphs."""
    demo = json.loads((ROOT / "langgraph.json").read_text())["graphs"] if (ROOT / "langgraph.json").exists() else {}
    graphs = {gid: str((ROOT / target.split(":")[0]).resolve()) + ":" + target.split(":")[1] for gid, target in demo.items()}
    graphs.update(TEST_GRAPHS)
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps({"graphs": graphs}))
    return path


BACKENDS = ["sqlite", *(["postgres"] if os.environ.get("HITL_TEST_POSTGRES_URL") else [])]
"""Every test taking `db_url` (or `inbox`) runs on SQLite, and on PostgreSQL when
HITL_TEST_POSTGRES_URL names a database the tests may create schemas in (`.ci/run` does)."""


@pytest.fixture(autouse=True)
def _fresh_test_graph_counters() -> None:
    """Test graphs count attempts per topic in module globals; every test (which runs once per
    backend in one process) starts from none."""
    import sys

    for module in list(sys.modules.values()):  # the registry may import the file under its own name
        if getattr(module, "__file__", None) == str(FIXTURES):
            module.FLAKY_ATTEMPTS.clear()


@pytest.fixture(autouse=True)
def _keep_main_module() -> object:
    """Restore `sys.modules["__main__"]` after each test.

    AppTest leaves it pointing at the last script it ran (app.py or a page); a later test that
    starts processes with multiprocessing's `spawn` would then re-run that Streamlit script in
    every child instead of importing pytest's entry point.
    """
    import sys

    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh database: an SQLite file, or a PostgreSQL schema of its own (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hitl.db'}"
        return
    from tests.pg import fresh_schema_url

    with fresh_schema_url(os.environ["HITL_TEST_POSTGRES_URL"]) as url:
        yield url


@pytest.fixture
def inbox(db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch):
    """A desk over a fresh database with test and demo graphs registered."""
    from hitl import Inbox

    monkeypatch.delenv("HITL_CONFIG", raising=False)
    desk = Inbox.open(database_url=db_url, graphs_path=str(graphs_file), create=True)
    yield desk
    desk.close()


def start(inbox, graph_id: str, graph_input: dict | None = None, *, thread_id: str | None = None, tag: bool = True) -> str:
    """Run a registered graph until it pauses; returns the thread id."""
    thread_id = thread_id or f"{graph_id}-t"
    config: dict = {"configurable": {"thread_id": thread_id}}
    if tag:
        config["metadata"] = {"graph_id": graph_id}
    inbox.graph(graph_id).invoke(graph_input if graph_input is not None else {"topic": "q3"}, config)
    return thread_id
