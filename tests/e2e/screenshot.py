"""Screenshots of every desk page, taken from the running app in headless Chromium.

Seeds a temporary SQLite database with the demo graphs, records a few decisions so Threads and
History have something to show, starts `streamlit run app.py`, and saves one 1400x900 PNG per
page under docs/screenshots/. Uses Debian's Chromium (`apt-get install chromium`) through the
playwright package; it never downloads a browser.

    .venv/bin/python tests/e2e/screenshot.py [--out docs/screenshots] [--port 8599]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: make the repo's `hitl` importable
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
VIEWPORT = {"width": 1400, "height": 900}


def seed(env: dict[str, str]) -> dict[str, str]:
    """Demo threads of every kind, plus decided, resolved and failed ones; returns notable ids."""
    subprocess.run([sys.executable, "-m", "hitl.demo", "seed", "--threads", "42"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    from hitl import Inbox

    with Inbox.open() as inbox:
        waiting = inbox.pending(limit=100).items
        by_graph: dict[str, list[str]] = {}
        for item in waiting:
            by_graph.setdefault(item.graph_id or "", []).append(item.thread_id)
        decisions = [
            ("email_approval", True, "alice", "recipient checked"),
            ("simple_confirm", True, "bob", ""),
            ("two_stage", False, "carol", "outline misses the cost section"),
            ("selective_review", True, "alice", "invoice matches the PO"),
            ("email_approval", False, "bob", "wrong recipient"),
            ("approval_chain", True, "carol", "within budget"),
            ("timed_approval", True, "alice", ""),
            ("simple_confirm", False, "alice", "record still referenced by an order"),
        ]
        notable: dict[str, str] = {}
        for graph_id, approve, reviewer, comment in decisions:
            if by_graph.get(graph_id):
                thread_id = by_graph[graph_id].pop()
                outcome = inbox.decide(thread_id, approve=approve, reviewer=reviewer, comment=comment)
                if outcome.status == "completed":
                    notable.setdefault("completed", thread_id)
        if by_graph.get("feedback_loop"):
            resolved = by_graph["feedback_loop"].pop()
            inbox.resolve(resolved, reviewer="carol", reason="announcement cancelled by marketing")
        notable["review"] = next(t for t in by_graph.get("tool_review", []) or [waiting[0].thread_id])
    return notable


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"streamlit did not answer on {url} within {timeout:.0f} s")


def settle(page, text: str, *, timeout: float = 30_000) -> None:
    """Wait for `text` on the page and for Streamlit to finish running."""
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')?.innerText?.includes('Running')",
        timeout=timeout,
    )
    page.wait_for_timeout(1500)  # charts and data grids draw after the script finished


def set_reviewer(page, name: str) -> None:
    field = page.get_by_role("textbox", name="Your name")
    field.fill(name)
    field.press("Enter")
    page.wait_for_timeout(800)


def select_rows(page, rows: list[int]) -> None:
    """Tick queue rows by clicking the data grid's row-marker column (it is a canvas)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    for row in rows:
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * row + 17)
        page.wait_for_timeout(700)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--port", type=int, default=8599)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")

    workdir = Path(tempfile.mkdtemp(prefix="hitl-shots-"))
    env = {
        **os.environ,
        "HITL_DATABASE_URL": f"sqlite:///{workdir / 'hitl.db'}",
        "HITL_GRAPHS": str(ROOT / "langgraph.json"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HITL_CONFIG", None)
    notable = seed(env)

    url = f"http://localhost:{args.port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(args.port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(url)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)

            page.goto(url)
            settle(page, "Showing")
            set_reviewer(page, "alice")  # each page.goto is a new session: the name is typed again
            page.get_by_role("combobox", name="Kind").first.click()
            page.get_by_role("option", name="question", exact=True).click()
            settle(page, "Showing")
            select_rows(page, [0, 1, 2])
            settle(page, "Approve all")
            page.mouse.move(5, 5)  # no hover toolbar over the filters
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / "inbox.png"))

            if (ROOT / "pages" / "review.py").exists():
                page.goto(f"{url}/review?thread={notable['review']}")
                settle(page, notable["review"])
                set_reviewer(page, "alice")
                page.screenshot(path=str(out / "review.png"))

            page.goto(f"{url}/threads?thread={notable.get('completed', notable['review'])}")
            settle(page, "Timeline")
            set_reviewer(page, "alice")
            # Scroll the main area so the thread's detail starts at the top of the shot.
            page.get_by_text("Thread detail").evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(800)
            page.screenshot(path=str(out / "threads.png"))

            page.goto(f"{url}/start")
            settle(page, "How it works")
            set_reviewer(page, "alice")
            page.screenshot(path=str(out / "start.png"))

            page.goto(f"{url}/history")
            settle(page, "Audit chain")
            set_reviewer(page, "alice")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / "history.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"screenshots saved in {out}")


if __name__ == "__main__":
    main()
