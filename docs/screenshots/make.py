"""Screenshots of every review card kind at 1400x1000, with the action bar in view.

Seeds a temporary SQLite database with one demo thread per demo graph (every card kind),
starts a real `streamlit run app.py`, opens each thread's Review page in headless Chromium
(Debian's /usr/bin/chromium through the playwright package; it never downloads a browser),
scrolls the card's top into view and saves `card_<kind>.png` here. It also saves the
confirmation step of a batched tool-call card (`card_hitl_request_confirm.png`) and prints,
per card, where its first action button is: the sticky bar must keep it inside the window.

    .venv/bin/python docs/screenshots/make.py [--out docs/screenshots] [--port 8597]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: make the repo's `hitl` importable
from tests.e2e.screenshot import CHROMIUM, CHROMIUM_ARGS, wait_until_up  # noqa: E402 - after the sys.path line

VIEWPORT = {"width": 1400, "height": 1000}


def seed(env: dict[str, str]) -> dict[str, tuple[str, str]]:
    """One paused thread per demo graph; returns {graph id: (thread id, kind)}."""
    os.environ.update(env)
    from hitl import Inbox
    from hitl.demo.graphs import DEMO_GRAPH_IDS
    from hitl.demo.seed import seed as seed_demo

    with Inbox.open(create=True) as inbox:
        seed_demo(inbox, len(DEMO_GRAPH_IDS))
        inbox.refresh()
        threads = {}
        for item in inbox.pending(limit=100).items:
            kind = item.interrupts[0].kind if item.interrupts else "?"
            threads.setdefault(item.graph_id or "?", (item.thread_id, kind))
    return threads


def idle(page, timeout: float = 30_000) -> None:
    """Wait until the script is not running, then for late drawing (grids, diagrams)."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')?.dataset?.testScriptState !== 'running'",
        timeout=timeout)
    page.wait_for_timeout(1200)


def set_reviewer(page, name: str) -> None:
    field = page.get_by_role("textbox", name="Your name").first
    field.wait_for()
    if field.input_value() != name:
        field.fill(name)
        field.press("Enter")
        page.wait_for_timeout(500)
        idle(page)


def bar_button(page):
    return page.locator('[class*="st-key-review-actions-"] button').first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--port", type=int, default=8597)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")

    workdir = Path(tempfile.mkdtemp(prefix="hitl-cards-"))
    env = {**os.environ, "HITL_DATABASE_URL": f"sqlite:///{workdir / 'hitl.db'}",
           "HITL_GRAPHS": str(ROOT / "langgraph.json"), "PYTHONPATH": str(ROOT), "HITL_REFRESH_SECONDS": "0"}
    env.pop("HITL_CONFIG", None)
    threads = seed(env)

    url = f"http://localhost:{args.port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(args.port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        wait_until_up(url, timeout=90.0)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url)
            idle(page)
            done: set[str] = set()
            for graph_id, (thread_id, kind) in sorted(threads.items(), key=lambda kv: kv[1][1]):
                if kind in done:
                    continue
                done.add(kind)
                page.goto(f"{url}/review?thread={thread_id}")
                idle(page)
                set_reviewer(page, "alice")
                card = page.locator('[class*="st-key-review-card-"]').first
                card.wait_for()
                # The card's top (its title and the line that says what approving does) just
                # under the app's header; the sticky bar holds the buttons at the bottom.
                card.evaluate("el => el.scrollIntoView({block: 'start'})")
                page.mouse.wheel(0, -70)
                page.wait_for_timeout(600)
                box = bar_button(page).bounding_box()
                card_box = card.bounding_box()
                in_view = bool(box and 0 <= box["y"] and box["y"] + box["height"] <= VIEWPORT["height"])
                rows.append((kind, graph_id, round(card_box["height"]) if card_box else 0,
                             round(box["y"]) if box else -1, in_view))
                page.screenshot(path=str(out / f"card_{kind}.png"))
                if kind == "hitl_request":
                    bar_button(page).click()  # Submit decisions: approves money and a deletion
                    page.get_by_text("Confirm: runs").first.wait_for()
                    idle(page)
                    page.screenshot(path=str(out / f"card_{kind}_confirm.png"))
                    page.get_by_role("button", name="Cancel").first.click()  # nothing is sent
                    idle(page)
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"{'kind':<16} {'graph':<18} {'card height':>11} {'button y':>9}  in view at 1400x1000")
    for kind, graph_id, height, y, in_view in rows:
        print(f"{kind:<16} {graph_id:<18} {height:>11} {y:>9}  {'yes' if in_view else 'NO'}")
    missing = [kind for kind, *_, ok in rows if not ok]
    if missing:
        raise SystemExit(f"the action bar is out of view on: {', '.join(missing)}")


if __name__ == "__main__":
    main()
