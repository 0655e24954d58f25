"""Benchmark: reviewing 20 approvals of one kind by keyboard, in Chromium, against the naive way.

    .venv/bin/python bench/review_keyboard.py                    # 150 mixed demo threads, kind stage, 20 decisions
    .venv/bin/python bench/review_keyboard.py --undo-seconds 5   # with the undo window on (the default in production)
    .venv/bin/python bench/review_keyboard.py --json bench/results-review-keyboard.json

Each way gets a fresh SQLite database seeded with `python -m hitl.demo seed --threads N` and its own
`streamlit run app.py`, driven by Debian's Chromium (tests/e2e/keyboard_flow.py, the same driver
as tests/e2e/test_keyboard_flow.py):

* **queue** (the desk as it ships): one navigation to the Inbox filtered to the kind
  (`/?kind=stage`), then keys only: j, Enter, and A once each card is ready. Review walks the
  filtered queue and opens the next thread of it after each decision.
* **naive** (the way the issue measured it): Review without a queue scope, J through every pending
  thread, A on each card of the kind (`--naive-decisions`, default 5: it is slow; compared per decision).

A decision's time runs from its key press to the next card being ready. It prints seconds per
decision (median, mean), keys pressed, keys the desk refused, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, stop  # noqa: E402
from tests.e2e import keyboard_flow as flow  # noqa: E402

REVIEWER = "bench-keys"


class TimedLog(flow.KeyLog):
    """A KeyLog that notes when each decision's key was pressed and when the next card was ready."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[float] = []

    def press(self, page: Any, key: str) -> None:
        if key == "a":
            self.marks.append(time.perf_counter())
        super().press(page, key)


def _serve(db: Path, undo_seconds: float, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "HITL_DATABASE_URL": f"sqlite:///{db}", "HITL_GRAPHS": str(ROOT / "langgraph.json"),
           "HITL_REFRESH_SECONDS": "0", "HITL_UNDO_SECONDS": f"{undo_seconds:g}", "PYTHONPATH": str(ROOT),
           "LANGGRAPH_STRICT_MSGPACK": "true"}  # fmt: skip
    env.pop("HITL_CONFIG", None)
    subprocess.run([sys.executable, "-m", "hitl.demo", "seed", "--threads", str(ARGS.threads)], cwd=ROOT, env=env,
                   check=True, capture_output=True)  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    return process, f"http://localhost:{port}"


def _audit_rows(db: Path) -> int:
    from hitl import Inbox

    inbox = Inbox.open(database_url=f"sqlite:///{db}", graphs_path=str(ROOT / "langgraph.json"))
    try:
        return len(inbox.history())
    finally:
        inbox.close()


def _oldest(db: Path) -> str:
    from hitl import Inbox

    inbox = Inbox.open(database_url=f"sqlite:///{db}", graphs_path=str(ROOT / "langgraph.json"))
    try:
        return inbox.pending(limit=1).items[0].thread_id
    finally:
        inbox.close()


def run(way: str, browser: Any, workdir: Path) -> dict[str, Any]:
    count = ARGS.decisions if way == "queue" else ARGS.naive_decisions
    db = workdir / f"{way}.db"
    process, url = _serve(db, ARGS.undo_seconds, workdir / f"{way}.log")
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        context.add_cookies([{"name": "hitl_reviewer", "value": REVIEWER, "url": url}])
        page = context.new_page()
        log = TimedLog()
        started = time.perf_counter()
        first_load = None
        if way == "queue":
            flow.open_filtered_inbox(page, url, ARGS.kind)
            first_load = time.perf_counter() - started
            flow.inbox_to_review(page, log)
            begin = time.perf_counter()
            flow.approve_in_queue(page, count, log)
        else:
            oldest = _oldest(db)
            begin = time.perf_counter()
            flow.approve_walking_everything(page, ARGS.kind, count, log, url, oldest)
        end = time.perf_counter()
        refused = flow.refused_keys(page)
        drain_started = time.perf_counter()
        while _audit_rows(db) < count and time.perf_counter() - drain_started < ARGS.undo_seconds + 60:
            time.sleep(0.2)
        drained = time.perf_counter() - drain_started
        rows = _audit_rows(db)
        context.close()
    finally:
        stop(process)
    per_decision = (end - begin) / count
    gaps = [b - a for a, b in zip(log.marks, [*log.marks[1:], end])]
    return {"way": way, "decisions": log.decisions, "audit_rows": rows, "seconds_total": end - begin,
            "seconds_per_decision": per_decision, "median_decision": statistics.median(gaps) if gaps else None,
            "presses": log.presses, "refused": refused, "first_inbox_load": first_load,
            "seconds_until_all_sent": drained}  # fmt: skip


def main() -> None:
    from playwright.sync_api import sync_playwright

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for way in ("queue", "naive"):
            results.append(run(way, browser, Path(tmp)))
            r = results[-1]
            print(f"{way:6} {r['seconds_per_decision']:6.2f} s/decision (median {r['median_decision']:.2f} s)  "
                  f"total {r['seconds_total']:6.1f} s  keys {r['presses']}  refused {r['refused']}  "
                  f"audit rows {r['audit_rows']}"
                  + (f"  first Inbox load {r['first_inbox_load']:.1f} s" if r["first_inbox_load"] else ""), flush=True)
        browser.close()
    queue, naive = results
    print(f"\n{ARGS.decisions} approvals (naive: {ARGS.naive_decisions}) of kind {ARGS.kind} on {ARGS.threads} mixed demo threads, "
          f"HITL_UNDO_SECONDS={ARGS.undo_seconds:g}, load average {os.getloadavg()[0]:.1f}")
    print(f"queue: {queue['seconds_per_decision']:.2f} s per decision (target <= 1.5 s); naive: "
          f"{naive['seconds_per_decision']:.2f} s; naive / queue = {naive['seconds_per_decision'] / queue['seconds_per_decision']:.1f}x; "
          f"J presses {naive['presses'].get('j', 0)} vs {queue['presses'].get('j', 0)}")
    if ARGS.json:
        Path(ARGS.json).write_text(json.dumps({"args": vars(ARGS), "results": results}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=150)
    parser.add_argument("--kind", default="stage", help="the kind reviewed (stage: 2 one-click approvals per thread)")
    parser.add_argument("--decisions", type=int, default=20)
    parser.add_argument("--naive-decisions", type=int, default=5,
                        help="decisions the naive way takes (it walks the whole queue: slow; the figure is per decision)")
    parser.add_argument("--undo-seconds", type=float, default=0.0)
    parser.add_argument("--json", default="")
    ARGS = parser.parse_args()
    main()
