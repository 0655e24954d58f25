"""The desk survives a PostgreSQL restart: its pooled connections are checked on checkout.

Each test starts a throwaway PostgreSQL 15 server of its own (initdb + pg_ctl, as the
`postgres` user when the tests run as root, as `.ci/run` does), because it restarts it.
Skipped when the PostgreSQL binaries are not installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hitl import Inbox
from hitl.api import create_app
from tests.conftest import start

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
pytestmark = pytest.mark.skipif(
    not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists(),
    reason=f"PostgreSQL binaries not found in {PG_BIN} (apt-get install postgresql-15, or set PG_BIN)",
)
ALICE = {"Authorization": "Bearer alice-secret"}


@dataclass
class Server:
    """A PostgreSQL server in a temporary directory, on a free port."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-l", str(self.directory / "server.log"), "-w", "-t", "60", *args])

    def restart(self) -> None:
        """Stop the server (killing every session, as a crash or a failover would) and start it again."""
        self.ctl("-m", "immediate", "stop")
        self.ctl("start", "-o", self._options())

    def _options(self) -> str:
        return f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"


def _as_postgres(command: list[str]) -> None:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stdout}{done.stderr}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server() -> Iterator[Server]:
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as the postgres user")
    directory = Path(tempfile.mkdtemp(prefix="hitl-pg-restart-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    pg = Server(directory, _free_port())
    try:
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(directory / "data"), "-U", "postgres", "-A", "trust", "--no-sync"])
        pg.ctl("start", "-o", pg._options())
        yield pg
    finally:
        try:
            pg.ctl("-m", "immediate", "stop")
        except AssertionError:
            pass  # never started
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def desk(server: Server, graphs_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    inbox = Inbox.open(database_url=server.url, graphs_path=str(graphs_file), create=True)
    yield inbox
    inbox.close()


def test_the_first_api_request_after_a_restart_is_served_not_503(server: Server, desk: Inbox) -> None:
    first, second = start(desk, "fragile", thread_id="before-1"), start(desk, "fragile", {"topic": "q4"}, thread_id="before-2")
    client = TestClient(create_app(desk, tokens={"alice-secret": "alice@example.com"}))
    assert client.get("/pending", headers=ALICE).json()["total"] == 2  # the pool now holds used connections

    server.restart()  # every pooled connection is now dead

    listed = client.get("/pending", headers=ALICE)
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == 2
    decided = client.post("/approve", headers=ALICE, json={"thread_id": first, "approved": True})
    assert decided.status_code == 200 and decided.json()["status"] == "completed"
    assert client.get("/healthz").json()["status"] == "ok"
    assert list(desk.history()["thread_id"]) == [first]
    assert desk.pending().total == 1 and desk.pending().items[0].thread_id == second


def test_the_library_reads_and_decides_right_after_a_restart(server: Server, desk: Inbox) -> None:
    thread_id = start(desk, "fragile", thread_id="lib")
    assert desk.pending().total == 1
    server.restart()
    assert desk.thread(thread_id).status == "waiting"  # through the saver's pooled connection
    assert desk.decide(thread_id, approve=False, reviewer="alice").status == "completed"
