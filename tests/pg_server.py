"""A throwaway PostgreSQL 15 server of a test's own, for tests that stop or restart it.

initdb + pg_ctl from PG_BIN (default /usr/lib/postgresql/15/bin) in a temporary directory on
a free port, run as the `postgres` user when the tests run as root (initdb and postgres refuse
root), as `.ci/run` does. `pg_server` skips the test when the binaries (or `runuser`) are missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["PG_BIN", "Server", "pg_server"]

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass
class Server:
    """A PostgreSQL server in `directory`, listening on 127.0.0.1:`port`."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("start", "-o", options)

    def stop(self) -> None:
        """Stop at once (`-m immediate`): every session is cut, as in a crash or a failover."""
        self._ctl("-m", "immediate", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def _ctl(self, *args: str) -> None:
        data, log = self.directory / "data", self.directory / "server.log"
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", *args])


def _as_postgres(command: list[str]) -> None:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stdout}{done.stderr}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def pg_server() -> Iterator[Server]:
    """A running server, stopped and removed afterwards; skips the test when it cannot be had."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (apt-get install postgresql-15, or set PG_BIN)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as the postgres user")
    directory = Path(tempfile.mkdtemp(prefix="hitl-pg-faults-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = Server(directory, _free_port())
    try:
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(directory / "data"), "-U", "postgres", "-A", "trust", "--no-sync"])
        server.start()
        yield server
    finally:
        try:
            server.stop()
        except AssertionError:
            pass  # never started, or already stopped
        shutil.rmtree(directory, ignore_errors=True)
