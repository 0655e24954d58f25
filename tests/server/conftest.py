"""A real `langgraph dev` for the server-backend tests, started offline on a free local port.

The server runs from `.venv/langgraph-server`, a venv built here on first use from
tests/server/requirements-server.txt. It sees the desk's own packages (langgraph, langchain:
the test graphs' code is the same) through a .pth file and adds only the server, whose
jsonschema-rs pin conflicts with schemathesis in requirements.txt. The tests skip, saying why,
only when that install fails (no package index reachable).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REQUIREMENTS = HERE / "requirements-server.txt"
SERVER_VENV = Path(os.environ.get("HITL_TEST_LANGGRAPH_VENV") or (Path(sys.prefix) / "langgraph-server"))
GRAPH_NAMES = ("approve", "profile", "agent", "docs_approve", "docs_prompts", "docs_parallel", "docs_send", "docs_nested",
               "docs_hotel")
GRAPHS = {name: f"{HERE / 'graphs.py'}:{name}" for name in GRAPH_NAMES}
STARTUP_SECONDS = 90.0


def _server_python() -> Path:
    """The server venv's interpreter, installing the venv when missing or out of date."""
    import fcntl

    SERVER_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(SERVER_VENV.parent / ".langgraph-server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers build it once, not at once
        return _install_server_venv()


def _install_server_venv() -> Path:
    python = SERVER_VENV / "bin" / "python"
    stamp = SERVER_VENV / ".installed"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        _see_desk_packages(python)  # the desk's venv may have moved (a worktree's symlinked .venv)
        return python
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(SERVER_VENV)], check=True, capture_output=True, timeout=120)
        _see_desk_packages(python)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
            check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        pytest.skip(
            f"langgraph CLI is not installable here ({' '.join(map(str, exc.cmd[:4]))}... failed): "
            f"{(exc.stderr or '')[-400:]}"
        )
    except subprocess.TimeoutExpired as exc:
        pytest.skip(f"langgraph CLI is not installable here: {exc.cmd[:4]} timed out")
    stamp.write_text(wanted)
    return python


def _see_desk_packages(python: Path) -> None:
    """Point the server venv's .pth at this desk venv's packages (its real path, not a symlink)."""
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "hitl-desk.pth").write_text(str(Path(sysconfig.get_paths()["purelib"]).resolve()) + "\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One `langgraph dev` process; `stop()` ends it, `start()` brings it back on the same port and files."""

    python: Path
    workdir: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        config = self.workdir / "langgraph.json"
        config.write_text(json.dumps({"dependencies": [str(ROOT)], "graphs": GRAPHS}))
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("LANGSMITH_", "LANGCHAIN_", "LANGGRAPH_API_KEY", "HITL_LANGGRAPH"))
        }  # fmt: skip
        env.update(
            LANGSMITH_TRACING="false", LANGCHAIN_TRACING_V2="false", LANGGRAPH_CLI_NO_ANALYTICS="1",
            LANGSMITH_LANGGRAPH_API_VARIANT="local_dev", PYTHONPATH=str(ROOT),
        )  # fmt: skip
        log = open(self.workdir / "server.log", "ab")
        self.process = subprocess.Popen(
            [str(self.python), "-m", "langgraph_cli", "dev", "--no-browser", "--no-reload", "--allow-blocking",
             "--port", str(self.port), "--config", str(config), "--n-jobs-per-worker", "10"],
            cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"langgraph dev exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/ok", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"langgraph dev did not answer /ok within {STARTUP_SECONDS:.0f}s: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def kill(self) -> None:
        """Go away at once, as a crashed server does."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def log_tail(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


@pytest.fixture(scope="session")
def server_python() -> Path:
    return _server_python()


@pytest.fixture(scope="session")
def server(server_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `langgraph dev` shared by the tests that only add threads to it."""
    running = Server(server_python, tmp_path_factory.mktemp("langgraph-dev"), _free_port()).start()
    yield running
    running.stop()


@pytest.fixture
def own_server(server_python: Path, tmp_path: Path) -> Iterator[Server]:
    """A `langgraph dev` of this test alone (it may stop it)."""
    workdir = tmp_path / "langgraph-dev"
    workdir.mkdir()
    running = Server(server_python, workdir, _free_port()).start()
    yield running
    running.stop()


@pytest.fixture
def client(server: Server):
    from langgraph_sdk import get_sync_client

    return get_sync_client(url=server.url, api_key=None)


@pytest.fixture
def desk_url(tmp_path: Path) -> str:
    """The desk's own database (claims, audit, index): a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'desk.db'}"


def open_desk(url: str, desk_url: str, *, graphs_path: str | None = None, config_path: str | None = None):
    """`Inbox.open` as a deployment would: HITL_LANGGRAPH_API_URL set, no graphs file unless
    `graphs_path` lends the graphs' source (for answer contracts read from their code)."""
    from hitl import Inbox

    return Inbox.open(database_url=desk_url, graphs_path=graphs_path or str(HERE / "no-graphs.json"),
                      config_path=config_path, create=True, langgraph_api_url=url)  # fmt: skip


def source_graphs(directory: Path) -> str:
    """A langgraph.json naming the server's graphs by the same ids, for the desk to read their code."""
    path = directory / "source-graphs.json"
    path.write_text(json.dumps({"graphs": GRAPHS}))
    return str(path)


@pytest.fixture
def desk(server: Server, desk_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    opened = open_desk(server.url, desk_url)
    yield opened
    opened.close()


@pytest.fixture
def source_desk(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Open a desk on the shared server that has the graphs' source (HITL_GRAPHS) and the
    HITL_CONFIG given (a TOML text, or none); closed after the test."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    opened = []

    def make(config: str | None = None, *, name: str = "desk"):
        config_path = None
        if config is not None:
            config_path = tmp_path / f"{name}.toml"
            config_path.write_text(config)
        opened.append(open_desk(server.url, f"sqlite:///{tmp_path / (name + '.db')}", graphs_path=source_graphs(tmp_path),
                                config_path=str(config_path) if config_path else None))  # fmt: skip
        return opened[-1]

    yield make
    for one in opened:
        one.close()


@pytest.fixture
def desk_factory(db_url: str):
    """Open desks over one desk database (SQLite, and PostgreSQL when HITL_TEST_POSTGRES_URL is
    set), as several desk processes would; closed after the test."""
    desk_url = db_url
    opened = []

    def make(url: str):
        opened.append(open_desk(url, desk_url))
        return opened[-1]

    yield make
    for one in opened:
        one.close()


@pytest.fixture
def sqlite_desk(desk_url: str):
    """Open a desk over a fresh SQLite desk database, on the server given; closed after the test."""
    opened = []

    def make(url: str):
        opened.append(open_desk(url, desk_url))
        return opened[-1]

    yield make
    for one in opened:
        one.close()
