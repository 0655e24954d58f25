"""Screenshots of the Review page, one per interrupt kind, from the running app in headless Chromium.

    .venv/bin/python tests/e2e/review_screens.py [--out docs/screenshots] [--kind question ...]

Seeds a temporary database with one thread per demo graph (`python -m hitl.demo seed`),
starts `streamlit run app.py` on a free port against it, opens `/review?thread=<id>` for each
kind in Debian's Chromium (driven by the playwright package; no browser download), types a
reviewer name in the sidebar, and saves `review_<kind>.png` (1400 px wide, full page). It
then approves the first approval_level request to capture the outcome banner with the next
level's request rendered in place (`review_outcome_waiting.png`).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: make `hitl` importable
PYTHON = sys.executable
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
WIDTH, HEIGHT = 1400, 1000

KIND_GRAPHS = {
    "question": "email_approval",
    "stage": "two_stage",
    "confirm": "simple_confirm",
    "edit": "draft_edit",
    "approval_level": "approval_chain",
    "tool_review": "tool_review",
    "sensitive_tools": "selective_review",
    "state_edit": "state_edit",
    "feedback": "feedback_loop",
    "hitl_request": "agent_batched",
    "tool_approval": "agent_per_call",
    "agent_inbox": "agent_inbox",
    "schema": "schema_form",
}
"""The demo graph whose first pause shows each kind."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(env: dict[str, str]) -> dict[str, str]:
    """One thread per demo graph; returns {graph_id: thread_id}."""
    from hitl.demo.graphs import DEMO_GRAPH_IDS

    subprocess.run([PYTHON, "-m", "hitl.demo", "seed", "--threads", str(len(DEMO_GRAPH_IDS))],
                   cwd=ROOT, env=env, check=True)
    return {graph_id: f"demo-{graph_id}-{index:04d}" for index, graph_id in enumerate(DEMO_GRAPH_IDS)}


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (localhost)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout:g} s")


def _settle(page) -> None:
    """Wait until the script run finished and the diagram is drawn."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') || "
        "!document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=60_000,
    )
    try:
        page.wait_for_selector('[data-testid="stGraphVizChart"] svg', timeout=15_000)
    except Exception:  # pages without a diagram (read-only threads)
        pass
    page.wait_for_timeout(800)


def _goto(page, url: str, attempts: int = 3) -> None:
    """Open `url` and wait for the page; a run that never finishes is reloaded."""
    for attempt in range(attempts):
        page.goto(url)
        try:
            _settle(page)
            return
        except Exception:
            if attempt == attempts - 1:
                failed = Path(tempfile.gettempdir()) / "review_screens_failed.png"
                page.screenshot(path=str(failed))
                print(f"page did not settle; see {failed}", file=sys.stderr)
                raise


def _sign_in(page, name: str) -> None:
    box = page.locator('[data-testid="stSidebar"] input[type="text"]').first
    box.fill(name)
    box.press("Enter")
    page.wait_for_timeout(600)
    _settle(page)


def _full_page(page, path: Path) -> None:
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], [data-testid=\"stAppScrollToBottomContainer\"], body')]"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, int(height) + 40)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--kind", action="append", choices=sorted(KIND_GRAPHS), help="only these kinds (repeatable)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium).", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    kinds = args.kind or list(KIND_GRAPHS)
    with tempfile.TemporaryDirectory(prefix="hitl-screens-") as tmp:
        env = {**os.environ, "HITL_DATABASE_URL": f"sqlite:///{tmp}/hitl.db",
               "HITL_GRAPHS": str(ROOT / "langgraph.json"), "PYTHONPATH": str(ROOT)}
        env.pop("HITL_CONFIG", None)
        env.pop("OPENAI_API_KEY", None)  # the scripted model: same payloads on every run
        threads = _seed(env)
        port = _free_port()
        server = subprocess.Popen(
            [PYTHON, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_http(f"{base}/_stcore/health")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                # Load the root first: until one session has run app.py (st.navigation), Streamlit
                # serves a deep link in its legacy pages/ mode, without the shared sidebar.
                page.goto(base)
                page.wait_for_selector('[data-testid="stSidebar"] input[type="text"]', timeout=60_000)
                for kind in kinds:
                    thread_id = threads[KIND_GRAPHS[kind]]
                    _goto(page, f"{base}/review?thread={thread_id}")
                    _sign_in(page, "alice")
                    _full_page(page, args.out / f"review_{kind}.png")
                if "approval_level" in kinds:
                    _goto(page, f"{base}/review?thread={threads['approval_chain']}")
                    _sign_in(page, "alice")
                    page.get_by_role("button", name="Approve as manager").click()
                    page.wait_for_timeout(800)
                    _settle(page)
                    page.get_by_text("paused again").wait_for(timeout=30_000)
                    _full_page(page, args.out / "review_outcome_waiting.png")
                browser.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
