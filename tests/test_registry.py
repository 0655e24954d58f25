"""The graph registry: a graph module that breaks at import leaves the rest of the desk working.

`tests/fixture_sysexit.py` parses the command line at import, as a script turned into a graph
module would: `SystemExit(2)`, which `except Exception` does not catch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import hitl.registry
from hitl import Inbox, UnknownGraph
from hitl.api import create_app
from tests.conftest import TEST_GRAPHS, start

SYSEXIT = f"{Path(__file__).parent / 'fixture_sysexit.py'}:graph"
TOKENS = {"alice-secret": "alice@example.com"}
ALICE = {"Authorization": "Bearer alice-secret"}


@pytest.fixture
def desk(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    graphs = tmp_path / "langgraph.json"
    graphs.write_text(json.dumps({"graphs": {**TEST_GRAPHS, "scripted": SYSEXIT}}))
    inbox = Inbox.open(database_url=db_url, graphs_path=str(graphs), create=True)
    yield inbox
    inbox.close()


def _scripted_thread(inbox: Inbox, thread_id: str = "scripted-1") -> str:
    """A thread of the `scripted` graph, written by its agent process (where it imports fine)."""
    inbox.graph("fragile").invoke(
        {"topic": "eu"}, {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": "scripted"}}
    )
    return thread_id


def test_a_module_raising_systemexit_at_import_is_a_load_error_naming_the_line_and_the_fix(desk: Inbox) -> None:
    error = desk.registry.error("scripted")
    assert error is not None and error.startswith("SystemExit(2): the module exited while being imported")
    source = (Path(__file__).parent / "fixture_sysexit.py").read_text().splitlines()
    line = next(number for number, text in enumerate(source, start=1) if text.startswith("args = parser.parse_args()"))
    assert f"fixture_sysexit.py:{line})" in error  # the parse_args() line, not argparse's own code
    assert "argparse `parse_args()`" in error and 'if __name__ == "__main__":' in error
    with pytest.raises(UnknownGraph, match=r"Graph 'scripted' could not be loaded: SystemExit\(2\)"):
        desk.registry.graph("scripted")
    assert desk.registry.graph("fragile") is not None  # the rest of the registry works


def test_the_failed_import_is_kept_not_retried_on_every_refresh(desk: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    imports = []
    real = hitl.registry._import_path

    def counting(path: Path):
        imports.append(path.name)
        return real(path)

    monkeypatch.setattr(hitl.registry, "_import_path", counting)
    _scripted_thread(desk)
    for _ in range(3):
        desk.refresh()
        desk.pending()
        desk.registry.error("scripted")
    assert imports.count("fixture_sysexit.py") == 1


def test_threads_of_that_graph_are_listed_read_only_and_other_graphs_are_decided(desk: Inbox) -> None:
    scripted = _scripted_thread(desk)
    healthy = start(desk, "fragile", thread_id="healthy")
    page = desk.pending()
    assert page.total == 2
    row = next(item for item in page.items if item.thread_id == scripted)
    assert "graph 'scripted' failed to load: SystemExit(2)" in row.read_only_reason
    assert "SystemExit(2)" in desk.thread(scripted).read_only_reason
    with pytest.raises(UnknownGraph, match="SystemExit"):
        desk.decide(scripted, approve=True, reviewer="alice")
    assert desk.store.claim_of(scripted, row.interrupts[0].id) is None
    assert desk.decide(healthy, approve=True, reviewer="alice").status == "completed"


def test_the_api_keeps_answering_json_with_that_graph_registered(desk: Inbox) -> None:
    scripted = _scripted_thread(desk)
    healthy = start(desk, "fragile", thread_id="healthy")
    client = TestClient(create_app(desk, tokens=TOKENS))
    listed = client.get("/pending", headers=ALICE)
    assert listed.status_code == 200
    assert {item["thread_id"]: bool(item["read_only_reason"]) for item in listed.json()["items"]} == {scripted: True, healthy: False}
    refused = client.post("/approve", headers=ALICE, json={"thread_id": scripted, "approved": True})
    assert refused.status_code == 409 and refused.json()["error"] == "unknown_graph"
    assert "SystemExit(2)" in refused.json()["message"]
    assert client.post("/approve", headers=ALICE, json={"thread_id": healthy, "approved": True}).json()["status"] == "completed"


class _NotAnException(BaseException):
    """Something that is a BaseException but neither SystemExit nor KeyboardInterrupt."""


@pytest.mark.parametrize("raised", [SystemExit(2), _NotAnException("from deep inside a graph")], ids=["SystemExit", "BaseException"])
def test_a_base_exception_inside_a_request_is_the_json_500_body(desk: Inbox, monkeypatch: pytest.MonkeyPatch, raised: BaseException) -> None:
    def exits(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(desk, "pending", exits)
    client = TestClient(create_app(desk, tokens=TOKENS))
    response = client.get("/pending", headers=ALICE)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == "internal_error" and body["details"]["reference"] in body["message"]
    assert client.get("/healthz").status_code == 200  # the app still serves
