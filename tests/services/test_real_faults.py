"""Issue 13 item 4 with real faults: the node ran, its checkpoint write failed, and it must not run again.

* SQLite: another process holds the database's write lock (`BEGIN IMMEDIATE`, held open)
  longer than the desk's busy timeout while the resumed node runs. The node completes, the
  saver's write fails with "database is locked". Before: the claim became `failed`, the thread
  showed a fresh-looking interrupt and a second approval ran the node again.
* PostgreSQL: the test's own server is stopped (immediate shutdown) or restarted while the
  node runs. Before: 503 `store_unavailable` ("nothing changed"), no audit row, and after the
  lease `recover` recorded "abandoned" and the next approval re-ran the node.

Now the reviewer gets 409 `outcome_unknown` with the original decision, the audit log says
`unknown`, a second approval is refused, and only an explicit retry or a resolve moves on.
The resumed node (`tests.fixture_faults.charge`) waits at a gate file the test opens once the
fault is in place, and counts its side effect in a table of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hitl import Inbox, StoreError
from hitl.api import create_app
from hitl.services.recovery import recover_stale_claims
from tests.conftest import start
from tests.fixture_faults import ENTERED_ENV, GATE_ENV, GRAPH_ID, RAISE_IN_NODE_ENV, SIDE_EFFECTS_ENV, side_effect_count
from tests.pg_server import Server, pg_server

ALICE = {"Authorization": "Bearer alice-secret"}
BOB = {"Authorization": "Bearer bob-secret"}
TOKENS = {"alice-secret": "alice@example.com", "bob-secret": "bob@example.com"}

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")  # the database's write lock, held by this other process
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The `charge` graph registered, its side-effect table, and its entered/gate files."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    monkeypatch.delenv(RAISE_IN_NODE_ENV, raising=False)
    paths = {"side_effects": tmp_path / "side_effects.db", "entered": tmp_path / "entered", "gate": tmp_path / "gate",
             "graphs": tmp_path / "langgraph.json", "db": tmp_path / "hitl.db"}  # fmt: skip
    monkeypatch.setenv(SIDE_EFFECTS_ENV, str(paths["side_effects"]))
    monkeypatch.setenv(ENTERED_ENV, str(paths["entered"]))
    monkeypatch.setenv(GATE_ENV, str(paths["gate"]))
    paths["graphs"].write_text(json.dumps({"graphs": {GRAPH_ID: f"{Path(__file__).resolve().parent.parent / 'fixture_faults.py'}:charge"}}))
    return paths


class _Approval:
    """alice's `POST /approve`, sent from a thread (the node holds it at the gate)."""

    def __init__(self, client: TestClient, thread_id: str) -> None:
        self.response: Any = None
        self._thread = threading.Thread(
            target=lambda: setattr(self, "response", client.post("/approve", headers=ALICE,
                                                                 json={"thread_id": thread_id, "approved": True})),
            daemon=True,
        )  # fmt: skip
        self._thread.start()

    def wait(self, seconds: float = 90) -> Any:
        self._thread.join(seconds)
        assert not self._thread.is_alive(), "the approval never returned"
        return self.response


def _wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


def _hold_write_lock(db: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _trail(desk: Inbox, thread_id: str) -> list[tuple[str, str, str]]:
    return [(row["action"], row["reviewer"], row["outcome"]) for row in desk.store.audit_rows(thread_id=thread_id)]


def _wait_until_stale(desk: Inbox, thread_id: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not desk.store.stale_claims([thread_id]):
        assert time.monotonic() < deadline, "the claim never went stale"
        time.sleep(0.05)


def _wait_until_reachable(desk: Inbox, seconds: float = 90) -> None:
    """After a restart the pool reconnects with backoff (it grew while the server was down)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            desk.store.query("SELECT 1")
            return
        except StoreError:
            assert time.monotonic() < deadline, "the desk never reconnected to the restarted server"


def _assert_outcome_unknown(response: Any, state: str, thread_id: str) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "outcome_unknown", body
    assert "nothing changed" not in body["message"].lower() and "nothing was changed" not in body["message"].lower()
    details = body["details"]
    assert (details["state"], details["thread_id"], details["decided_by"]) == (state, thread_id, "alice@example.com")
    assert list(details["answers"].values()) == [{"approved": True}]
    return details


# --------------------------------------------------------------------------- SQLite


def test_sqlite_locked_by_another_process_after_the_node_ran_is_outcome_unknown_not_answerable_again(
    files: dict[str, Path],
) -> None:
    url = f"sqlite:///{files['db']}"
    with Inbox.open(database_url=url, graphs_path=str(files["graphs"]), create=True, busy_timeout_ms=200,
                    claim_lease_seconds=30) as desk:  # fmt: skip
        thread_id = start(desk, GRAPH_ID, {"topic": "INV-7"}, thread_id="locked")
        client = TestClient(create_app(desk, tokens=TOKENS))
        approval = _Approval(client, thread_id)
        _wait_for(files["entered"])  # the node runs: alice's answer is in
        holder = _hold_write_lock(files["db"], 4.0)  # far longer than the 0.2 s busy timeout
        files["gate"].touch()  # the node does its work, then LangGraph's write meets the lock

        details = _assert_outcome_unknown(approval.wait(), "unknown", thread_id)
        holder.wait(30)
        assert details["may_run_twice"] == ["charge"] and "database is locked" in details["error"]
        assert set(details["choices"]) == {"retry", "resolve"}
        assert side_effect_count(files["side_effects"], thread_id) == 1
        assert _trail(desk, thread_id) == [("decision", "alice@example.com", "unknown")]
        # The checkpointer still shows the interrupt as if nobody had answered...
        assert desk.thread(thread_id).status == "waiting"
        # ...but a second approval is refused, and runs nothing.
        again = client.post("/approve", headers=BOB, json={"thread_id": thread_id, "approved": True})
        _assert_outcome_unknown(again, "unknown", thread_id)
        assert side_effect_count(files["side_effects"], thread_id) == 1

        desk.resolve(thread_id, reviewer="bob@example.com", reason="the charge went through")
        assert _trail(desk, thread_id)[-1] == ("resolve", "bob@example.com", "resolved")
        assert desk.thread(thread_id).status == "resolved" and side_effect_count(files["side_effects"], thread_id) == 1


def test_sqlite_locked_past_the_desks_own_retries_is_unrecorded_then_recovered_as_outcome_unknown(
    files: dict[str, Path],
) -> None:
    url = f"sqlite:///{files['db']}"
    with Inbox.open(database_url=url, graphs_path=str(files["graphs"]), create=True, busy_timeout_ms=200,
                    claim_lease_seconds=2) as desk:  # fmt: skip
        desk.store.lock_retry_seconds = 1.0  # [database] lock_retry_seconds: the desk gives up before the holder
        thread_id = start(desk, GRAPH_ID, {"topic": "INV-8"}, thread_id="locked-long")
        client = TestClient(create_app(desk, tokens=TOKENS))
        approval = _Approval(client, thread_id)
        _wait_for(files["entered"])
        holder = _hold_write_lock(files["db"], 8.0)
        files["gate"].touch()

        details = _assert_outcome_unknown(approval.wait(), "unrecorded", thread_id)
        assert "wait" in details["choices"]
        holder.wait(30)
        assert desk.store.claim_of(thread_id, details["interrupt_ids"][0])["state"] == "claimed"  # held, nothing recorded
        assert _trail(desk, thread_id) == []
        assert side_effect_count(files["side_effects"], thread_id) == 1

        _wait_until_stale(desk, thread_id)
        # A plain approval after the lease records the dead run as unknown, and runs nothing.
        again = client.post("/approve", headers=BOB, json={"thread_id": thread_id, "approved": True})
        _assert_outcome_unknown(again, "unknown", thread_id)
        assert _trail(desk, thread_id) == [("recovery", "alice@example.com", "unknown")]
        assert side_effect_count(files["side_effects"], thread_id) == 1

        assert desk.retry(thread_id, reviewer="bob@example.com", accept_repeat=True).status == "completed"
        assert side_effect_count(files["side_effects"], thread_id) == 2  # the repeat bob accepted, once
        assert _trail(desk, thread_id)[-1] == ("retry", "bob@example.com", "completed")


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def server() -> Iterator[Server]:
    with pg_server() as running:
        yield running


def test_postgres_down_when_the_node_finishes_is_outcome_unknown_not_503_nothing_changed(
    files: dict[str, Path], server: Server
) -> None:
    with Inbox.open(database_url=server.url, graphs_path=str(files["graphs"]), create=True, claim_lease_seconds=2) as desk:
        # The pool waits for a connection this long (30 s by default) before the saver gives up.
        desk.store.saver.conn.timeout = 3.0
        thread_id = start(desk, GRAPH_ID, {"topic": "INV-9"}, thread_id="pg-down")
        client = TestClient(create_app(desk, tokens=TOKENS))
        approval = _Approval(client, thread_id)
        _wait_for(files["entered"])
        server.stop()  # every session cut mid-node
        files["gate"].touch()

        response = approval.wait()
        server.start()
        details = _assert_outcome_unknown(response, "unrecorded", thread_id)
        assert side_effect_count(files["side_effects"], thread_id) == 1
        _wait_until_reachable(desk)

        _wait_until_stale(desk, thread_id)
        assert recover_stale_claims(desk) == [(thread_id, details["interrupt_ids"][0], "unknown")]  # not "abandoned"
        again = client.post("/approve", headers=BOB, json={"thread_id": thread_id, "approved": True})
        details = _assert_outcome_unknown(again, "unknown", thread_id)
        assert details["may_run_twice"] == ["charge"]
        assert side_effect_count(files["side_effects"], thread_id) == 1
        assert _trail(desk, thread_id) == [("recovery", "alice@example.com", "unknown")]


def test_postgres_restarted_mid_node_runs_the_node_once_and_never_answers_503(files: dict[str, Path], server: Server) -> None:
    with Inbox.open(database_url=server.url, graphs_path=str(files["graphs"]), create=True, claim_lease_seconds=2) as desk:
        thread_id = start(desk, GRAPH_ID, {"topic": "INV-10"}, thread_id="pg-restart")
        interrupt_id = desk.store.pending_interrupts([thread_id])[thread_id][0].id
        client = TestClient(create_app(desk, tokens=TOKENS))
        approval = _Approval(client, thread_id)
        _wait_for(files["entered"])
        server.restart()  # the pooled connections the run holds are dead now
        files["gate"].touch()

        response = approval.wait()
        # Either the saver reconnected (the pool checks connections) and the run was saved, or
        # it was not: never 503 "nothing changed" after the node ran.
        if response.status_code == 200:
            assert response.json()["status"] == "completed"
        else:
            _assert_outcome_unknown(response, response.json()["details"]["state"], thread_id)
        if desk.store.claim_of(thread_id, interrupt_id)["state"] == "claimed":
            _wait_until_stale(desk, thread_id)
            recover_stale_claims(desk)
        again = client.post("/approve", headers=BOB, json={"thread_id": thread_id, "approved": True})
        assert again.status_code == 409 and again.json()["error"] in ("already_decided", "outcome_unknown"), again.text
        assert side_effect_count(files["side_effects"], thread_id) == 1
        [(action, reviewer, outcome)] = _trail(desk, thread_id)
        assert reviewer == "alice@example.com"
        assert outcome in ("completed", "recovered", "unknown")
        assert (desk.thread(thread_id).status == "completed") == (outcome != "unknown")


def test_postgres_down_before_the_claim_is_503_nothing_changed_and_the_next_approval_runs_once(
    files: dict[str, Path], server: Server
) -> None:
    with Inbox.open(database_url=server.url, graphs_path=str(files["graphs"]), create=True) as desk:
        thread_id = start(desk, GRAPH_ID, {"topic": "INV-11"}, thread_id="pg-down-first")
        files["gate"].touch()
        client = TestClient(create_app(desk, tokens=TOKENS))
        server.stop()
        refused = client.post("/approve", headers=ALICE, json={"thread_id": thread_id, "approved": True})
        assert refused.status_code == 503 and refused.json()["error"] == "store_unavailable", refused.text
        server.start()
        assert desk.store.audit_rows(thread_id=thread_id) == []
        decided = client.post("/approve", headers=ALICE, json={"thread_id": thread_id, "approved": True})
        assert decided.status_code == 200 and decided.json()["status"] == "completed", decided.text
        assert side_effect_count(files["side_effects"], thread_id) == 1
        assert _trail(desk, thread_id) == [("decision", "alice@example.com", "completed")]
