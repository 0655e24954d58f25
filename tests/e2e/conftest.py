"""Browser tests: the real app (`streamlit run app.py`) in a subprocess, driven by Chromium.

Chromium is Debian's (`/usr/bin/chromium`, installed by `.ci/run` when missing), started by the
playwright package with `executable_path`; no browser is ever downloaded. Without it (or
without playwright) these tests skip with the reason.

Each test gets its own app over a fresh SQLite file seeded in-process, so tests never share
state. `app_server(...)` starts one: with `secrets=` it writes a secrets.toml in a temporary
directory and points Streamlit at it (`--secrets.files`), so the repository's
`.streamlit/secrets.toml` is never read or written.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
STARTUP_SECONDS = 60.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen, *, timeout: float = STARTUP_SECONDS, log: Path | None = None) -> None:
    """Poll `url` until it answers 200; fail with the process's log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            pytest.fail(f"{process.args!r} exited with {process.returncode} before answering {url}:\n{text}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    text = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"{url} did not answer within {timeout:g} s:\n{text}")


def stop(process: subprocess.Popen) -> None:
    """Terminate a process we started, then kill it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium; skip the browser tests when it (or playwright) is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)")
    pytest.importorskip("playwright.sync_api", reason="the playwright python package is not installed")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[Any]:
    """One headless Chromium for the session; tests open their own contexts (cookie jars)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """`new_page()` opens a page in a fresh browser context (its own cookies: one user each).

    When the test fails, each page's screenshot and HTML are saved in the test's tmp_path.
    """
    contexts = []
    pages = []

    def make() -> Any:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield make
    if request.node.stash.get(_FAILED, False):
        for number, page in enumerate(pages):
            try:
                page.screenshot(path=str(tmp_path / f"failure-{number}.png"), full_page=True)
                (tmp_path / f"failure-{number}.html").write_text(page.content())
                print(f"failure screenshot: {tmp_path / f'failure-{number}.png'} ({page.url})")
            except Exception as exc:  # noqa: BLE001 - best effort
                print(f"could not save the failure screenshot of page {number}: {exc}")
    for context in contexts:
        context.close()


@dataclass
class App:
    """A running desk: its URL, database and environment."""

    url: str
    port: int
    database_url: str
    env: dict[str, str]


@pytest.fixture
def desk_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """HITL_ environment for a fresh SQLite database and the repo's graph registry."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    return {
        "HITL_DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
        "HITL_GRAPHS": str(ROOT / "langgraph.json"),
        "LANGGRAPH_STRICT_MSGPACK": "true",
    }


@pytest.fixture
def desk(desk_env: dict[str, str]) -> Callable[..., Any]:
    """`desk(policy=...)`: an Inbox on the test's database, to seed threads or check results."""
    from hitl import Inbox

    opened = []

    def make(**kwargs: Any) -> Any:
        inbox = Inbox.open(database_url=desk_env["HITL_DATABASE_URL"], graphs_path=desk_env["HITL_GRAPHS"], create=True, **kwargs)
        opened.append(inbox)
        return inbox

    yield make
    for inbox in opened:
        inbox.close()


@pytest.fixture
def app_server(tmp_path: Path, desk_env: dict[str, str]) -> Iterator[Callable[..., App]]:
    """`app_server(secrets=None, config=None, port=None)` starts `streamlit run app.py`.

    Args (of the returned function):
        secrets: the text of a secrets.toml (e.g. an [auth] section) for login mode.
        config: the text of a HITL_CONFIG file ([access] and friends).
        port: the port to listen on (a free one by default).
        undo_seconds: HITL_UNDO_SECONDS (0 by default: decisions resume at once).
    """
    processes: list[subprocess.Popen] = []

    def start(*, secrets: str | None = None, config: str | None = None, port: int | None = None,
              undo_seconds: float = 0) -> App:
        port = port or free_port()
        env = {**os.environ, **desk_env, "PYTHONPATH": str(ROOT), "HITL_REFRESH_SECONDS": "0",
               "HITL_UNDO_SECONDS": f"{undo_seconds:g}"}
        env.pop("HITL_CONFIG", None)
        if config is not None:
            policy = tmp_path / f"hitl-{port}.toml"
            policy.write_text(config)
            env["HITL_CONFIG"] = str(policy)
        secrets_file = tmp_path / f"secrets-{port}.toml"
        secrets_file.write_text(secrets or "# local mode: no [auth]\n")
        log = tmp_path / f"streamlit-{port}.log"
        command = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--secrets.files", str(secrets_file),
        ]  # fmt: skip
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        processes.append(process)
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", process, log=log)
        return App(url=f"http://localhost:{port}", port=port, database_url=desk_env["HITL_DATABASE_URL"], env=env)

    yield start
    for process in processes:
        stop(process)


@pytest.fixture
def oidc_provider(tmp_path: Path) -> Iterator[Callable[[list[dict[str, Any]]], str]]:
    """`oidc_provider(users)` starts `python -m oidc_provider_mock` with predefined users
    (`--user-claims` each) and returns its base URL."""
    pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is not installed")
    processes: list[subprocess.Popen] = []

    def start(users: list[dict[str, Any]]) -> str:
        port = free_port()
        log = tmp_path / f"oidc-{port}.log"
        command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
        for user in users:
            command += ["--user-claims", json.dumps(user)]
        process = subprocess.Popen(command, cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT)
        processes.append(process)
        base = f"http://localhost:{port}"
        wait_for_http(f"http://127.0.0.1:{port}/.well-known/openid-configuration", process, log=log)
        return base

    yield start
    for process in processes:
        stop(process)


# --------------------------------------------------------------------------- page helpers


def wait_for_app(page: Any, *, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no "Running..." status)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                && !document.querySelector('[data-testid="stSkeleton"]');
        }""",
        timeout=timeout,
    )
    page.wait_for_timeout(300)


def screenshot(page: Any, name: str, fallback_dir: Path) -> Path:
    """Save a PNG of the page: under docs/screenshots/ when HITL_SCREENSHOTS=1 (to refresh the
    documentation), else in `fallback_dir` (a test run leaves the repository untouched)."""
    folder = SCREENSHOTS if os.environ.get("HITL_SCREENSHOTS") == "1" else fallback_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=False)
    return path

