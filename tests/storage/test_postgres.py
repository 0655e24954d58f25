"""The desk on PostgreSQL: the core flows, several desk processes on one queue, clear errors.

The rest of the suite also runs on PostgreSQL (conftest parametrizes `db_url`); these tests
are about what only a shared server has: two desks (objects, processes) on one database,
the saver's real tables and triggers, and connection errors.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hitl import AlreadyDecided, Inbox, StoreError
from tests.conftest import ROOT, start

BASE_URL = os.environ.get("HITL_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not BASE_URL, reason="HITL_TEST_POSTGRES_URL is not set (.ci/run sets it)")


@pytest.fixture
def pg_url() -> Iterator[str]:
    from tests.pg import fresh_schema_url

    with fresh_schema_url(BASE_URL) as url:
        yield url


@pytest.fixture
def desk(pg_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    inbox = Inbox.open(database_url=pg_url, graphs_path=str(graphs_file), create=True)
    yield inbox
    inbox.close()


@pytest.fixture
def second_desk(desk: Inbox, pg_url: str, graphs_file: Path) -> Iterator[Inbox]:
    """Another desk on the same database, as a second desk process would open it."""
    inbox = Inbox.open(database_url=pg_url, graphs_path=str(graphs_file))
    yield inbox
    inbox.close()


def _log(inbox: Inbox, graph_id: str, thread_id: str) -> list[str]:
    return inbox.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}}).values.get("log", [])


# ---------------------------------------------------------------------------- the backend


def test_postgres_url_selects_postgres_saver_and_desk_tables_with_triggers(desk: Inbox) -> None:
    from langgraph.checkpoint.postgres import PostgresSaver

    assert desk.store.backend == "postgres"
    assert isinstance(desk.store.saver, PostgresSaver)
    tables = {r[0] for r in desk.store.query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
    assert {"checkpoints", "checkpoint_writes", "checkpoint_blobs", "hitl_threads", "hitl_dirty", "hitl_claims", "hitl_audit"} <= tables
    triggers = {
        (r[0], r[1])
        for r in desk.store.query(
            "SELECT event_object_table, event_manipulation FROM information_schema.triggers "
            "WHERE trigger_schema = current_schema() AND trigger_name LIKE 'hitl_dirty_%'"
        )
    }
    assert triggers == {(t, e) for t in ("checkpoints", "checkpoint_writes") for e in ("INSERT", "UPDATE", "DELETE")}


def test_desk_tables_have_the_same_columns_as_on_sqlite(desk: Inbox, tmp_path: Path, graphs_file: Path) -> None:
    lite = Inbox.open(database_url=f"sqlite:///{tmp_path / 'x.db'}", graphs_path=str(graphs_file), create=True)
    try:
        lite_tables = {
            r[0] for r in lite.store.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'hitl_%'")
        }
        # PostgreSQL uses a sequence for the dirty clock and pg_trgm for search.
        lite_tables = {t for t in lite_tables if t != "hitl_clock" and not t.startswith("hitl_search")}
        for table in lite_tables:
            lite_columns = {r[1] for r in lite.store.query(f"PRAGMA table_info({table})")}
            pg_columns = {
                r[0]
                for r in desk.store.query(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
                    (table,),
                )
            }
            assert pg_columns == lite_columns, table
    finally:
        lite.close()


def test_timestamps_are_double_precision_so_audit_hashes_survive_the_round_trip(desk: Inbox) -> None:
    thread_id = start(desk, "fragile")
    desk.decide(thread_id, approve=True, reviewer="alice")
    types = dict(
        desk.store.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'hitl_audit'"
        )
    )
    assert types["decided_at"] == "double precision"
    assert desk.verify_audit().ok


def test_saver_upserts_fire_the_trigger(desk: Inbox) -> None:
    thread_id = start(desk, "fragile")
    desk.refresh()
    assert desk.store.dirty_count() == 0
    # PostgresSaver rewrites special writes with INSERT ... ON CONFLICT DO UPDATE, which runs
    # UPDATE triggers, not INSERT ones.
    desk.store.execute_write("UPDATE checkpoint_writes SET idx = idx WHERE thread_id = ?", (thread_id,))
    assert desk.store.dirty_count() == 1
    desk.store.saver.delete_thread(thread_id)
    assert desk.pending().total == 0


# ---------------------------------------------------------------------------- core flows


def test_list_filter_search_paginate_resume_and_audit_on_postgres(desk: Inbox) -> None:
    for n in range(7):
        start(desk, "fragile", {"topic": f"topic-{n}"}, thread_id=f"f-{n}")
    for n in range(3):
        start(desk, "two_in_one", thread_id=f"t-{n}")
    page = desk.pending()
    assert page.total == 10
    assert desk.pending(graph_id="fragile").total == 7
    assert desk.pending(kind="confirm").total == 3
    found = desk.pending(search="TOPIC-4")
    assert found.total == 1 and found.items[0].thread_id == "f-4"
    assert desk.pending(search="100%_sure").total == 0
    seen, cursor = [], None
    while True:
        part = desk.pending(limit=3, cursor=cursor)
        seen += [t.thread_id for t in part.items]
        cursor = part.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(t.thread_id for t in page.items)

    first = desk.pending(search="topic-4").items[0].interrupts[0]
    assert desk.resume("f-4", {first.id: {"approved": True}}, reviewer="alice", comment="ok").status == "completed"
    assert _log(desk, "fragile", "f-4") == ["deployed:True"]
    with pytest.raises(AlreadyDecided, match=r"already decided by alice at \d{4}-\d\d-\d\d"):
        desk.resume("f-4", {first.id: {"approved": False}}, reviewer="bob")
    assert desk.pending().total == 9

    outcome = desk.decide("t-0", approve=True, reviewer="bob")
    assert outcome.status == "waiting" and [i.kind for i in outcome.new_interrupts] == ["edit"]
    report = desk.verify_audit()
    assert report.ok and report.rows == 2
    history = desk.history()
    assert list(history["reviewer"]) == ["alice", "bob"] and list(history["seq"]) == [1, 2]


# ---------------------------------------------------------------------------- two desks, one queue


def test_a_decision_in_one_desk_leaves_the_other_desks_queue_on_its_next_refresh(desk: Inbox, second_desk: Inbox) -> None:
    for n in range(3):
        start(desk, "fragile", {"topic": f"t{n}"}, thread_id=f"shared-{n}")
    assert {t.thread_id for t in second_desk.pending().items} == {"shared-0", "shared-1", "shared-2"}
    item = desk.pending(search="shared-1").items[0]
    desk.resume(item.thread_id, {item.interrupts[0].id: {"approved": True}}, reviewer="alice")
    assert {t.thread_id for t in second_desk.pending().items} == {"shared-0", "shared-2"}
    # The other desk's own answer now meets the first desk's claim.
    with pytest.raises(AlreadyDecided, match="already decided by alice"):
        second_desk.resume(item.thread_id, {item.interrupts[0].id: {"approved": False}}, reviewer="bob")
    # And a thread started by an agent after both desks opened shows up in both.
    start(second_desk, "two_in_one", thread_id="late")
    assert desk.pending(graph_id="two_in_one").items[0].thread_id == "late"


def test_concurrent_answers_from_two_desks_resume_once(desk: Inbox, second_desk: Inbox) -> None:
    thread_id = start(desk, "fragile", {"topic": "race"}, thread_id="race")
    interrupt_id = desk.pending().items[0].interrupts[0].id
    second_desk.pending()
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def answer(inbox: Inbox, reviewer: str) -> None:
        barrier.wait()
        try:
            results[reviewer] = inbox.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer=reviewer).status
        except AlreadyDecided:
            results[reviewer] = "already decided"

    workers = [threading.Thread(target=answer, args=(d, r)) for d, r in ((desk, "alice"), (second_desk, "bob"))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sorted(results.values()) == ["already decided", "completed"]
    assert _log(desk, "fragile", thread_id) == ["deployed:True"]
    decisions = desk.history(thread_id=thread_id)
    assert len(decisions) == 1 and decisions.iloc[0]["reviewer"] in ("alice", "bob")


def _cli(url: str, graphs_file: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "HITL_DATABASE_URL": url, "HITL_GRAPHS": str(graphs_file), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "hitl", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_desk_processes_see_one_queue_and_never_double_resume(desk: Inbox, pg_url: str, graphs_file: Path) -> None:
    for n in range(4):
        start(desk, "fragile", {"topic": f"p{n}"}, thread_id=f"proc-{n}")
    listings = [_cli(pg_url, graphs_file, "pending", "--json") for _ in range(2)]
    seen = [json.loads(p.communicate(timeout=60)[0]) for p in listings]
    assert [s["total"] for s in seen] == [4, 4]
    assert {t["thread_id"] for t in seen[0]["items"]} == {t["thread_id"] for t in seen[1]["items"]}

    # Both processes answer proc-2 at once (slow graph step or not, one claim wins).
    racers = [
        _cli(pg_url, graphs_file, "resume", "proc-2", "--answer", json.dumps({"approved": ok}), "--reviewer", who)
        for ok, who in ((True, "alice"), (False, "bob"))
    ]
    outputs = [p.communicate(timeout=120) for p in racers]
    codes = sorted(p.returncode for p in racers)
    if codes != [0, 2]:  # the whole output: pytest would cut the middle of a long message
        pytest.fail(f"exit codes {codes}:\n" + "\n---\n".join(f"stdout: {out}\nstderr: {err}" for out, err in outputs))
    loser = outputs[[p.returncode for p in racers].index(2)][1]
    assert "already decided by" in loser or "is not pending" in loser
    log = _log(desk, "fragile", "proc-2")
    assert log in (["deployed:True"], ["deployed:False"])
    assert len(desk.history(thread_id="proc-2")) == 1

    after = _cli(pg_url, graphs_file, "pending", "--json")
    listed = json.loads(after.communicate(timeout=60)[0])
    assert listed["total"] == 3 and "proc-2" not in {t["thread_id"] for t in listed["items"]}


def test_audit_appends_from_many_processes_form_one_chain(desk: Inbox, pg_url: str) -> None:
    script = (
        "import sys\n"
        "from hitl.store import Store\n"
        "store = Store.open(sys.argv[1])\n"
        "for n in range(15):\n"
        "    store.append_audit([{'thread_id': f'w{sys.argv[2]}-{n}', 'interrupt_id': 'i', 'reviewer': sys.argv[2], "
        "'outcome': 'completed'}, {'thread_id': f'w{sys.argv[2]}-{n}', 'interrupt_id': 'j', 'reviewer': sys.argv[2], "
        "'outcome': 'completed'}])\n"
        "store.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen([sys.executable, "-c", script, pg_url, str(n)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for n in range(4)
    ]
    for worker in workers:
        assert worker.wait(120) == 0, worker.stderr.read()
    rows = desk.store.audit_rows()
    assert [r["seq"] for r in rows] == list(range(1, 121))
    report = desk.verify_audit()
    assert report.ok, str(report)
    # Each transaction's two rows are adjacent: appends never interleave.
    for first, second in zip(rows[::2], rows[1::2]):
        assert first["thread_id"] == second["thread_id"]


# ---------------------------------------------------------------------------- errors


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_names_host_and_database_but_not_the_password(graphs_file: Path) -> None:
    url = f"postgresql://desk:s3cret-pw@127.0.0.1:{_closed_port()}/agents"
    with pytest.raises(StoreError, match=r"Cannot connect to PostgreSQL database 'agents' on 127\.0\.0\.1:\d+ as user 'desk'") as caught:
        Inbox.open(database_url=url, graphs_path=str(graphs_file))
    assert "s3cret" not in str(caught.value)


def test_missing_database_and_missing_tables_are_clear_errors(pg_url: str, graphs_file: Path) -> None:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(BASE_URL)
    missing = urlunsplit(parts._replace(path="/no_such_database_here"))
    with pytest.raises(StoreError, match="database 'no_such_database_here'.*does not exist"):
        Inbox.open(database_url=missing, graphs_path=str(graphs_file))
    with pytest.raises(StoreError, match="has no LangGraph checkpoint tables"):
        Inbox.open(database_url=pg_url, graphs_path=str(graphs_file))


def test_display_url_hides_the_password(pg_url: str) -> None:
    from hitl.store import Store

    with_password = pg_url.replace("://postgres@", "://postgres:s3cret-pw@", 1)
    assert "s3cret-pw" in with_password, "the test database URL should name the postgres user"
    with Store.open(with_password, create=True) as store:
        assert "s3cret" not in store.display_url
        assert store.display_url.startswith("postgresql://postgres@")
