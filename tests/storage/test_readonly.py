"""A read-only SQLite database (WAL mode, as every desk and SqliteSaver leave it) is opened
read-only: listed and shown, decisions refused with a clear error, never called corrupt.

The desk runs in a child process that really cannot write the file or its directory: as root
(where file modes do not bite), the child drops CAP_DAC_OVERRIDE and friends with `setpriv`,
so the kernel applies the modes to it; as another user the modes apply anyway.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hitl import Inbox
from tests.conftest import ROOT, TEST_GRAPHS, start

DROP_ROOT_OVERRIDES = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def _as_unprivileged(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make file modes apply to the desk")
    return [*DROP_ROOT_OVERRIDES, *command]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_unprivileged([sys.executable, *args]), cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def wal_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A WAL-mode checkpoint database with one waiting thread, written and closed by a desk."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    graphs = tmp_path / "langgraph.json"
    graphs.write_text(json.dumps({"graphs": TEST_GRAPHS}))
    folder = tmp_path / "data"
    db = folder / "hitl.db"
    desk = Inbox.open(database_url=f"sqlite:///{db}", graphs_path=str(graphs), create=True)
    thread_id = start(desk, "fragile", thread_id="ro-1")
    desk.refresh()
    desk.close()
    assert db.read_bytes()[18:20] == b"\x02\x02"  # WAL mode, recorded in the file header
    assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists()  # a clean close removes them
    yield {"db": str(db), "folder": str(folder), "graphs": str(graphs), "thread": thread_id}
    os.chmod(folder, stat.S_IRWXU)
    for file in folder.iterdir():
        os.chmod(file, stat.S_IRUSR | stat.S_IWUSR)


def _read_only(paths: dict[str, str], *, folder_too: bool) -> bytes:
    os.chmod(paths["db"], stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    if folder_too:
        os.chmod(paths["folder"], stat.S_IRUSR | stat.S_IXUSR)
    return Path(paths["db"]).read_bytes()


def _desk_in_child(paths: dict[str, str]) -> dict:
    done = _run("-m", "tests.fixture_readonly", paths["db"], paths["graphs"], paths["thread"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["can_write_file"]:
        pytest.skip("the child process can still write the database file: file modes do not apply here")
    return report


def test_a_wal_database_in_a_read_only_directory_opens_as_an_immutable_snapshot(wal_database: dict[str, str]) -> None:
    before = _read_only(wal_database, folder_too=True)
    report = _desk_in_child(wal_database)
    assert "open_error" not in report, report.get("open_error")
    assert report["read_only"] is True
    assert "not writable by this user" in report["read_only_reason"] and "immutable snapshot" in report["read_only_reason"]
    assert report["pending"] == [wal_database["thread"]] and report["status"] == "waiting" and report["audit_ok"]
    assert "is read-only: decisions cannot be recorded. Nothing was changed." in report["decide_error"]
    assert "corrupt" not in report["decide_error"]
    assert report["healthz"] == {
        "status": "ok", "backend": "sqlite", "read_only": True, "read_only_reason": report["read_only_reason"],
        "indexing": {"done": 0, "total": 0, "seconds_left": None},
    }  # fmt: skip
    assert report["api_pending_total"] == 1
    status, body = report["api_approve"]
    assert status == 503 and body["error"] == "store_unavailable" and "is read-only" in body["message"]
    assert Path(wal_database["db"]).read_bytes() == before
    assert sorted(p.name for p in Path(wal_database["folder"]).iterdir()) == ["hitl.db"]


def test_a_read_only_wal_database_beside_a_live_writer_opens_read_only_and_sees_commits_still_in_the_wal(
    wal_database: dict[str, str],
) -> None:
    # An agent keeps writing (its commits stay in hitl.db-wal, not yet checkpointed into the file).
    writer = Inbox.open(database_url=f"sqlite:///{wal_database['db']}", graphs_path=wal_database["graphs"])
    try:
        writer.store._conn.execute("PRAGMA wal_autocheckpoint = 0")
        start(writer, "fragile", {"topic": "q4"}, thread_id="ro-2")
        writer.refresh()
        assert Path(f"{wal_database['db']}-wal").stat().st_size > 0
        _read_only(wal_database, folder_too=True)
        for leftover in ("-wal", "-shm"):
            os.chmod(f"{wal_database['db']}{leftover}", stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        report = _desk_in_child(wal_database)
    finally:
        os.chmod(wal_database["folder"], stat.S_IRWXU)
        writer.close()
    assert "open_error" not in report, report.get("open_error")
    assert report["read_only"] is True and "it is open read-only" in report["read_only_reason"]
    assert "immutable" not in report["read_only_reason"]  # mode=ro with the writer's -shm: nothing is missed
    assert sorted(report["pending"]) == ["ro-1", "ro-2"]
    assert "is read-only: decisions cannot be recorded" in report["decide_error"]
    assert report["api_approve"][0] == 503


def test_the_cli_lists_and_shows_a_read_only_wal_database_and_refuses_decisions_clearly(wal_database: dict[str, str]) -> None:
    _read_only(wal_database, folder_too=True)
    common = ["-m", "hitl", "--database-url", f"sqlite:///{wal_database['db']}", "--graphs", wal_database["graphs"]]
    listed = _run(*common, "pending")
    if "not writable by this user" not in listed.stderr and listed.returncode == 0:
        pytest.skip("the child process can still write the database: file modes do not apply here")
    assert listed.returncode == 0, listed.stderr
    assert "1 thread(s) waiting" in listed.stdout and wal_database["thread"] in listed.stdout
    assert "note: The database file" in listed.stderr and "immutable snapshot" in listed.stderr
    assert "corrupt" not in listed.stderr and "restore it from a backup" not in listed.stderr
    shown = _run(*common, "show", wal_database["thread"])
    assert shown.returncode == 0 and "status waiting" in shown.stdout
    refused = _run(*common, "approve", wal_database["thread"], "--reviewer", "alice")
    assert refused.returncode == 2
    assert "is read-only: decisions cannot be recorded. Nothing was changed." in refused.stderr
