"""Bad input and bad days: the desk keeps listing, showing, answering and auditing.

Payloads that are not JSON (datetime, set, bytes, a dataclass, an object msgpack cannot
write), 10 MB, nested 500 deep, hostile text; writes from a newer checkpointer; a read-only
database; a database locked by another writer; a graph module that fails to import; a node
that hangs on resume. These run on SQLite: several tamper with its files and locks directly.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import ormsgpack
import pytest
from langgraph.types import Interrupt

import hitl.storage.sqlite
from hitl import AlreadyDecided, Inbox, InvalidAnswer, StoreError, UnknownGraph
from hitl.__main__ import main
from tests.conftest import TEST_GRAPHS, start
from tests.fixture_bad_input import BIG_BYTES, HOSTILE

PROBE = f"{Path(__file__).parent / 'fixture_bad_input.py'}:probe"


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    graphs = tmp_path / "langgraph.json"
    graphs.write_text(json.dumps({"graphs": {**TEST_GRAPHS, "probe": PROBE}}))
    return {"db": str(tmp_path / "data" / "hitl.db"), "graphs": str(graphs), "tmp": str(tmp_path)}


@pytest.fixture
def open_desk(paths: dict[str, str]) -> Iterator[Callable[..., Inbox]]:
    """Open desks on one SQLite file, with settings overridden per call."""
    opened: list[Inbox] = []

    def opener(**settings) -> Inbox:
        inbox = Inbox.open(database_url=f"sqlite:///{paths['db']}", graphs_path=paths["graphs"], create=True, **settings)
        opened.append(inbox)
        return inbox

    yield opener
    for inbox in opened:
        inbox.close()


@pytest.fixture
def desk(open_desk: Callable[..., Inbox]) -> Inbox:
    return open_desk()


def _raw(paths: dict[str, str], statement: str, params: tuple = ()) -> None:
    conn = sqlite3.connect(paths["db"])
    with conn:
        conn.execute(statement, params)
    conn.close()


def _only_interrupt(inbox: Inbox, thread_id: str):
    view = inbox.thread(thread_id)
    assert len(view.interrupts) == 1
    return view.interrupts[0]


# --------------------------------------------------------------------------- payloads


@pytest.mark.parametrize(
    ("mode", "shown", "audited"),
    [
        ("datetime", "due=2026-12-01 09:30:00+00:00", '"due": "2026-12-01T09:30:00+00:00"'),
        ("set", "urgent", '"tags": ['),
        ("bytes", "blob=", '"blob": "AP9iaW5hcnk="'),
        ("dataclass", "number=INV-7", '"number": "INV-7"'),
    ],
)
def test_payloads_that_are_not_json_are_listed_shown_answered_and_audited(
    desk: Inbox, mode: str, shown: str, audited: str
) -> None:
    thread_id = start(desk, "probe", {"mode": mode}, thread_id=f"probe-{mode}")
    page = desk.pending()
    assert page.total == 1 and page.items[0].kinds == ("question",)
    assert shown in page.items[0].summary
    assert desk.pending(search="proceed" if mode == "plain" else page.items[0].interrupts[0].value["action"]).total == 1
    interrupt = _only_interrupt(desk, thread_id)
    assert interrupt.decode_error is None
    outcome = desk.resume(thread_id, {interrupt.id: {"approved": True}}, reviewer="alice", comment="ok")
    assert outcome.status == "completed"
    assert desk.thread(thread_id).values["log"] == [f"{mode}:approved"]
    row = desk.history(thread_id=thread_id).iloc[-1]
    assert audited in row["payload"]
    json.loads(row["payload"])
    assert desk.verify_audit().ok


def test_a_custom_class_the_desk_may_not_load_is_shown_as_its_fields_with_strict_msgpack(desk: Inbox) -> None:
    # With LANGGRAPH_STRICT_MSGPACK the saver refuses to rebuild classes it was not told
    # about; it hands back their fields instead of failing, and the desk shows those.
    assert os.environ.get("LANGGRAPH_STRICT_MSGPACK") == "true"
    thread_id = start(desk, "probe", {"mode": "dataclass"})
    value = _only_interrupt(desk, thread_id).value
    assert value["details"] == {"number": "INV-7", "amount": 99.5}


@pytest.mark.parametrize("mode", ["opaque", "deep"])
def test_a_payload_the_checkpointer_cannot_write_fails_in_the_agent_and_the_desk_carries_on(desk: Inbox, mode: str) -> None:
    # A plain object, or nesting deeper than msgpack writes (500), cannot be checkpointed:
    # LangGraph raises in the agent's process and nothing reaches the database to review.
    with pytest.raises(TypeError, match="not msgpack serializable"):
        start(desk, "probe", {"mode": mode}, thread_id=f"agent-{mode}")
    start(desk, "probe", {"mode": "plain"}, thread_id="fine")
    assert [t.thread_id for t in desk.pending().items] == ["fine"]
    view = desk.thread(f"agent-{mode}")  # the stalled run is visible, not a crash
    assert view.status == "running" and view.next_nodes == ("ask_human",) and view.interrupts == []
    assert desk.counts(refresh=True) == {"running": 1, "waiting": 1}


def _interrupt_blob(interrupt_id: str, raw_details: bytes, serde) -> bytes:
    """A msgpack interrupt write whose `details` are `raw_details` (pre-packed bytes).

    Lets the test store payloads the saver itself refuses to write (500 levels deep), as
    another writer or a newer serializer could.
    """
    placeholder = "__details_placeholder__"
    _, blob = serde.dumps_typed([Interrupt(value={"action": "review_tree", "details": placeholder, "question": "Accept?"}, id=interrupt_id)])
    assert blob[0] == 0x91 and blob[1] == 0xC7  # [ext8(Interrupt)]
    size, code, data = blob[2], blob[3], blob[4 : 4 + blob[2]]
    assert len(data) == size
    data = data.replace(ormsgpack.packb(placeholder), raw_details)
    return b"\x91\xc9" + struct.pack(">I", len(data)) + bytes([code]) + data


def test_a_payload_nested_500_deep_is_listed_shown_answered_and_audited(desk: Inbox, paths: dict[str, str]) -> None:
    thread_id = start(desk, "probe", {"mode": "plain"}, thread_id="deep")
    interrupt_id = _only_interrupt(desk, thread_id).id
    deep = b"\x81\xa1d" * 500 + ormsgpack.packb("bottom")  # {"d": {"d": ... "bottom"}}, 500 levels
    _raw(paths, "UPDATE writes SET value = ? WHERE thread_id = ? AND channel = '__interrupt__'",
         (_interrupt_blob(interrupt_id, deep, desk.store.saver.serde), thread_id))  # fmt: skip
    desk.store.mark_dirty([thread_id])

    item = desk.pending().items[0]
    assert item.kinds == ("question",) and item.summary.startswith("review_tree: d={d=")
    details, depth = _only_interrupt(desk, thread_id).value["details"], 0
    while isinstance(details, dict):
        details, depth = details["d"], depth + 1
    assert (depth, details) == (500, "bottom")
    assert desk.pending(search="review_tree").total == 1
    outcome = desk.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="alice")
    assert outcome.status == "completed"
    payload = desk.history(thread_id=thread_id).iloc[-1]["payload"]
    assert payload.count('{"d": ') == 500
    assert desk.verify_audit().ok


def test_a_payload_too_deep_to_decode_is_listed_read_only_with_the_reason(desk: Inbox, paths: dict[str, str]) -> None:
    thread_id = start(desk, "probe", {"mode": "plain"}, thread_id="too-deep")
    interrupt_id = _only_interrupt(desk, thread_id).id
    deeper = b"\x81\xa1d" * 5000 + ormsgpack.packb("bottom")
    _raw(paths, "UPDATE writes SET value = ? WHERE thread_id = ? AND channel = '__interrupt__'",
         (_interrupt_blob(interrupt_id, deeper, desk.store.saver.serde), thread_id))  # fmt: skip
    desk.store.mark_dirty([thread_id])
    item = desk.pending().items[0]
    assert item.summary == "undecodable payload"
    assert "could not be decoded" in item.interrupts[0].decode_error


def test_a_10_mb_payload_is_listed_shown_answered_and_audited_in_bounded_size(desk: Inbox) -> None:
    started = time.perf_counter()
    thread_id = start(desk, "probe", {"mode": "big"}, thread_id="big")
    page = desk.pending()
    assert page.items[0].summary.startswith("send_email: big-payload-start xxx") and len(page.items[0].summary) <= 300
    assert desk.pending(search="big-payload-start").total == 1
    interrupt = _only_interrupt(desk, thread_id)
    assert len(interrupt.value["details"]) > BIG_BYTES
    assert desk.resume(thread_id, {interrupt.id: {"approved": False, "reason": "too big"}}, reviewer="alice").status == "completed"
    payload = desk.history(thread_id=thread_id).iloc[-1]["payload"]
    assert json.loads(payload)["truncated"] is True and len(payload) < 300_000
    assert desk.verify_audit().ok
    assert time.perf_counter() - started < 30


def test_hostile_text_is_kept_verbatim_everywhere_and_breaks_nothing(desk: Inbox, paths: dict[str, str], capsys) -> None:
    thread_id = start(desk, "probe", {"mode": "hostile"}, thread_id="hostile")
    page = desk.pending()
    assert page.items[0].summary.startswith('<script>alert("x")</script>')
    for needle in ("drop table", "100%_off", "gnp.exe", "onerror=alert"):
        assert desk.pending(search=needle).total == 1, needle
    assert desk.pending(search="100%_offX").total == 0 and desk.pending(search="%").total == 1
    interrupt = _only_interrupt(desk, thread_id)
    assert interrupt.value["details"] == HOSTILE  # text is data: nothing stripped or unescaped
    comment = HOSTILE["sql"] + HOSTILE["control"]
    outcome = desk.resume(thread_id, {interrupt.id: {"approved": False, "reason": HOSTILE["html"]}}, reviewer="alice", comment=comment)
    assert outcome.status == "completed"
    row = desk.history(thread_id=thread_id).iloc[-1]
    assert row["comment"] == comment and json.loads(row["payload"])["details"] == HOSTILE
    assert json.loads(row["answer"])["reason"] == HOSTILE["html"]
    assert desk.verify_audit().ok
    assert desk.store.query("SELECT COUNT(*) FROM hitl_audit")[0][0] == 1  # the "DROP TABLE" stayed text
    start(desk, "probe", {"mode": "hostile"}, thread_id="hostile-2")
    assert main(["--database-url", f"sqlite:///{paths['db']}", "--graphs", paths["graphs"], "pending"]) == 0
    assert "hostile-2" in capsys.readouterr().out


# --------------------------------------------------------------------------- newer checkpointer


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("UPDATE writes SET type = 'cbor' WHERE thread_id = ? AND channel = '__interrupt__'", "Unknown serialization type: cbor"),
        ("UPDATE writes SET value = X'c70306667574757265' WHERE thread_id = ? AND channel = '__interrupt__'", "not an Interrupt"),
    ],
    ids=["unknown-serializer-tag", "unknown-msgpack-ext"],
)
def test_a_write_from_a_newer_checkpointer_is_listed_with_the_decode_error(desk: Inbox, paths: dict[str, str], tamper: str, reason: str) -> None:
    thread_id = start(desk, "probe", {"mode": "plain"}, thread_id="newer")
    start(desk, "probe", {"mode": "plain"}, thread_id="older")
    _raw(paths, tamper, (thread_id,))
    desk.store.mark_dirty([thread_id])
    page = desk.pending()
    assert page.total == 2
    newer = next(t for t in page.items if t.thread_id == thread_id)
    assert newer.summary == "undecodable payload" and reason in newer.interrupts[0].decode_error
    assert "newer checkpointer version" in newer.interrupts[0].decode_error
    view = desk.thread(thread_id)
    assert view.status == "waiting" and reason in view.interrupts[0].decode_error
    with pytest.raises(InvalidAnswer, match="cannot be answered: This interrupt could not be decoded"):
        desk.resume(thread_id, {newer.interrupts[0].id: {"approved": True}}, reviewer="alice")
    assert desk.history().empty
    older = next(t for t in page.items if t.thread_id == "older")
    assert desk.resume("older", {older.interrupts[0].id: {"approved": True}}, reviewer="alice").status == "completed"


def test_a_checkpoint_from_a_newer_checkpointer_shows_the_thread_read_only(desk: Inbox, paths: dict[str, str]) -> None:
    thread_id = start(desk, "probe", {"mode": "plain"}, thread_id="newer-checkpoint")
    _raw(paths, "UPDATE checkpoints SET type = 'cbor' WHERE thread_id = ?", (thread_id,))
    desk.store.mark_dirty([thread_id])
    assert desk.pending().total == 1
    view = desk.thread(thread_id)
    assert "could not be decoded (NotImplementedError: Unknown serialization type: cbor)" in view.read_only_reason
    assert view.values == {} and view.checkpoints == []


# --------------------------------------------------------------------------- bad days


def test_a_read_only_database_lists_and_shows_but_refuses_decisions_changing_nothing(
    open_desk: Callable[..., Inbox], paths: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    writable = open_desk()
    thread_id = start(writable, "probe", {"mode": "plain"}, thread_id="ro")
    interrupt_id = writable.pending().items[0].interrupts[0].id
    writable.close()
    before = Path(paths["db"]).read_bytes()
    folder = Path(paths["db"]).parent
    os.chmod(paths["db"], stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0:  # root ignores file modes: report the file as a user would see it
        monkeypatch.setattr(hitl.storage.sqlite, "writable", lambda path: False)
    try:
        desk = open_desk()
        assert desk.store.read_only
        page = desk.pending()
        assert page.total == 1 and page.items[0].summary == "plain: plain"
        assert desk.thread(thread_id).status == "waiting"
        assert desk.verify_audit().ok and desk.history().empty
        with pytest.raises(StoreError, match="is read-only: decisions cannot be recorded. Nothing was changed"):
            desk.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="alice")
        with pytest.raises(StoreError, match="read-only"):
            desk.decide(thread_id, approve=False, reviewer="alice")
        desk.close()
    finally:
        monkeypatch.undo()
        os.chmod(folder, stat.S_IRWXU)
        os.chmod(paths["db"], stat.S_IRUSR | stat.S_IWUSR)
    assert Path(paths["db"]).read_bytes() == before
    writable = open_desk()
    assert writable.store.claim_of(thread_id, interrupt_id) is None
    assert writable.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="alice").status == "completed"


class _Writer:
    """Another process's writer holding the SQLite write lock (BEGIN EXCLUSIVE) in a thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.locked = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        self.locked.set()
        self.release.wait(60)
        conn.execute("ROLLBACK")
        conn.close()

    def __enter__(self) -> _Writer:
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


def _locking_desk(open_desk: Callable[..., Inbox], paths: dict[str, str], retry_seconds: float) -> Inbox:
    config = Path(paths["tmp"]) / "hitl.toml"
    config.write_text(f"[database]\nlock_retry_seconds = {retry_seconds}\n")
    return open_desk(config_path=str(config), busy_timeout_ms=100)


def test_a_database_locked_too_long_gives_a_clear_error_and_loses_no_decision(open_desk, paths: dict[str, str]) -> None:
    desk = _locking_desk(open_desk, paths, 2)
    assert desk.store.lock_retry_seconds == 2
    thread_id = start(desk, "probe", {"mode": "plain"}, thread_id="locked")
    interrupt_id = desk.pending().items[0].interrupts[0].id
    with _Writer(paths["db"]):
        assert desk.pending(refresh=False).total == 1  # reads still work (WAL)
        started = time.monotonic()
        with pytest.raises(StoreError, match="stayed locked by another writer for 2 s. Nothing was changed and your answer was not sent"):
            desk.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="alice")
        waited = time.monotonic() - started
    assert 1.9 <= waited < 6  # retried with backoff for lock_retry_seconds, then gave up
    assert desk.store.claim_of(thread_id, interrupt_id) is None
    assert desk.pending().total == 1 and desk.history().empty
    # The same answer can be sent again once the writer is gone.
    assert desk.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="alice").status == "completed"
    assert desk.thread(thread_id).values["log"] == ["plain:approved"]


def test_a_lock_released_within_the_retry_window_is_waited_out(open_desk, paths: dict[str, str]) -> None:
    desk = _locking_desk(open_desk, paths, 2)
    thread_id = start(desk, "probe", {"mode": "plain"}, thread_id="briefly-locked")
    interrupt_id = desk.pending().items[0].interrupts[0].id
    writer = _Writer(paths["db"])
    with writer:
        threading.Timer(1.0, writer.release.set).start()
        started = time.monotonic()
        outcome = desk.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="alice")
        waited = time.monotonic() - started
    assert outcome.status == "completed" and waited >= 0.9
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "done"


def test_a_graph_module_that_fails_to_import_leaves_its_threads_read_only_and_the_rest_working(desk: Inbox, paths: dict[str, str], capsys) -> None:
    config = {"configurable": {"thread_id": "tagged-broken"}, "metadata": {"graph_id": "broken"}}
    desk.graph("probe").invoke({"mode": "plain"}, config)
    start(desk, "probe", {"mode": "plain"}, thread_id="healthy")
    page = desk.pending()
    broken = next(t for t in page.items if t.thread_id == "tagged-broken")
    assert "ModuleNotFoundError: No module named 'module_that_does_not_exist'" in broken.read_only_reason
    view = desk.thread("tagged-broken")
    assert "ModuleNotFoundError" in view.read_only_reason and view.values["mode"] == "plain"
    with pytest.raises(UnknownGraph, match="cannot be resumed from the desk: .*ModuleNotFoundError"):
        desk.resume("tagged-broken", {broken.interrupts[0].id: {"approved": True}}, reviewer="alice")
    with pytest.raises(UnknownGraph, match="ModuleNotFoundError"):
        desk.decide("tagged-broken", approve=True, reviewer="alice")
    assert desk.store.claim_of("tagged-broken", broken.interrupts[0].id) is None
    assert desk.decide("healthy", approve=True, reviewer="alice").status == "completed"
    assert main(["--database-url", f"sqlite:///{paths['db']}", "--graphs", paths["graphs"], "show", "tagged-broken"]) == 0
    assert "read-only: " in capsys.readouterr().out


def test_a_node_hanging_on_resume_times_out_is_recorded_and_its_late_completion_too(open_desk) -> None:
    desk = open_desk(resume_timeout_seconds=0.5)
    thread_id = start(desk, "slow")
    interrupt_id = desk.pending().items[0].interrupts[0].id
    started = time.monotonic()
    outcome = desk.resume(thread_id, {interrupt_id: True}, reviewer="alice")
    assert time.monotonic() - started < 2.5
    assert outcome.status == "failed" and "did not finish within 0.5 s" in outcome.error
    row = desk.history(thread_id=thread_id).iloc[-1]
    assert (row["outcome"], row["reviewer"]) == ("timeout", "alice") and "still running" in row["error"]
    # Still running: the claim holds, so nobody can answer it again meanwhile.
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "claimed"
    with pytest.raises(AlreadyDecided, match="already decided by alice"):
        desk.resume(thread_id, {interrupt_id: False}, reviewer="bob")
    deadline = time.monotonic() + 15
    while len(desk.history(thread_id=thread_id)) < 2:
        assert time.monotonic() < deadline, "the late completion was never recorded"
        time.sleep(0.1)
    assert list(desk.history(thread_id=thread_id)["outcome"]) == ["timeout", "completed"]
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "done"
    assert desk.thread(thread_id).values["log"] == ["slow:True"]
    assert desk.verify_audit().ok
