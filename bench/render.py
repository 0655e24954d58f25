"""Benchmark: how long the review page takes to render a payload of many tool calls.

    .venv/bin/python bench/render.py                          # 100 / 1,000 / 10,000 calls, tool_review
    .venv/bin/python bench/render.py --calls 10000 --kind hitl_request --naive-limit 60
    .venv/bin/python bench/render.py --json bench/results-render.json

For each size it starts a fresh process that seeds one thread on a temporary SQLite database
(an agent message with N tool calls, then an interrupt listing them), opens
`pages/review.py?thread=...` in Streamlit's AppTest and times `run()`: the whole page (context,
conversation, card), plus the card's own share (`render_card`). "capped" is the desk as it
ships (the card draws `CALLS_PER_PAGE` calls and one table of all of them; the conversation
draws `TOOL_CALLS_INLINE`); "naive" sets both caps to infinity, so every call is drawn, the way
the card worked before. A naive run that outlives `--naive-limit` seconds is stopped and shown as
"> limit". AppTest runs the script in-process and decodes every element it gets, as a browser
session would receive them; it does not measure the browser's own layout.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KINDS = ("tool_review", "sensitive_tools", "hitl_request")


# --------------------------------------------------------------------------- the graphs (loaded by the registry)


def _calls() -> list[dict[str, Any]]:
    count = int(os.environ.get("HITL_BENCH_CALLS", "100"))
    return [{"name": "make_payment" if i % 10 == 0 else "lookup", "args": {"invoice": f"INV-{i:05d}", "amount": i},
             "id": f"call-{i}"} for i in range(count)]  # fmt: skip


def _payload(kind: str) -> dict[str, Any]:
    calls = _calls()
    if kind == "tool_review":
        return {"type": "tool_review", "message": "Review the calls", "tools": [{"name": c["name"], "args": c["args"]} for c in calls]}
    if kind == "sensitive_tools":
        return {"sensitive_tools": calls, "message": "Approve the payments"}
    return {
        "action_requests": [{"name": c["name"], "args": c["args"], "description": "pay"} for c in calls],
        "review_configs": [{"action_name": name, "allowed_decisions": ["approve", "edit", "reject"]}
                           for name in ("make_payment", "lookup")],
    }  # fmt: skip


def _graph(kind: str) -> Any:
    from langchain_core.messages import AIMessage
    from langgraph.graph import END, START, MessagesState, StateGraph
    from langgraph.types import interrupt

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("Running these.", tool_calls=_calls())]}

    def gate(state: MessagesState) -> dict[str, Any]:
        answer = interrupt(_payload(kind))
        return {"messages": []} if answer.get("approved") or answer.get("decisions") else {}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("gate", gate)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", "gate")
    builder.add_edge("gate", END)
    return builder


def __getattr__(name: str) -> Any:  # the registry asks for "bench/render.py:bench_<kind>"
    if name.startswith("bench_") and name[len("bench_"):] in KINDS:
        return _graph(name[len("bench_"):])
    raise AttributeError(name)


# --------------------------------------------------------------------------- one measurement (a child process)


def measure(calls: int, kind: str, mode: str) -> dict[str, Any]:
    """Seed one thread with `calls` tool calls and time the review page in AppTest."""
    os.environ["HITL_BENCH_CALLS"] = str(calls)
    work = Path(tempfile.mkdtemp(prefix="hitl-render-"))
    graphs = work / "langgraph.json"
    graphs.write_text(json.dumps({"graphs": {f"bench_{kind}": f"{Path(__file__).resolve()}:bench_{kind}"}}))
    database_url = f"sqlite:///{work / 'desk.db'}"
    os.environ.update(HITL_DATABASE_URL=database_url, HITL_GRAPHS=str(graphs), HITL_REFRESH_SECONDS="0",
                      LANGGRAPH_STRICT_MSGPACK="true")
    os.environ.pop("HITL_CONFIG", None)

    from streamlit.testing.v1 import AppTest

    from hitl import Inbox
    from hitl.ui import cards, context
    from hitl.ui.cards import calls as call_cards
    from hitl.ui.cards import card as card_module

    if mode == "naive":  # every module that reads the caps holds its own binding of them
        for module in (cards, call_cards, card_module):
            module.CALLS_PER_PAGE = 10**9
        context.TOOL_CALLS_INLINE = 10**9
    card_seconds = 0.0
    render_card = cards.render_card

    def timed_card(*args: Any, **kwargs: Any) -> Any:
        nonlocal card_seconds
        started = time.perf_counter()
        try:
            return render_card(*args, **kwargs)
        finally:
            card_seconds += time.perf_counter() - started

    cards.render_card = timed_card
    started = time.perf_counter()
    with Inbox.open(database_url=database_url, graphs_path=str(graphs), create=True) as inbox:
        inbox.graph(f"bench_{kind}").invoke(
            {"messages": []}, {"configurable": {"thread_id": "big-1"}, "metadata": {"graph_id": f"bench_{kind}"}}
        )
        inbox.refresh()
    seeded = time.perf_counter() - started

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=24 * 3600)
    at.session_state["reviewer"] = "alice"
    at.run()  # the home page: imports and the desk's caches, outside the timing
    at.switch_page("pages/review.py")
    at.query_params["thread"] = "big-1"
    started = time.perf_counter()
    at.run()
    page_seconds = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"the review page raised: {[e.value for e in at.exception]}")
    capped = [c.value for c in at.caption if c.value.startswith("Showing ") and "the card draws" in c.value]
    return {"calls": calls, "kind": kind, "mode": mode, "seed_s": round(seeded, 3), "page_s": round(page_seconds, 3),
            "card_s": round(card_seconds, 3), "nodes": sum(1 for _ in at.main), "cap_message": capped[-1] if capped else ""}


# --------------------------------------------------------------------------- the driver


def _child(calls: int, kind: str, mode: str, limit: float | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--one", str(calls), "--kind", kind, "--mode", mode]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        return {"calls": calls, "kind": kind, "mode": mode, "timeout": limit}
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cell(result: dict[str, Any], field: str) -> str:
    if "timeout" in result:
        return f"> {result['timeout']:.0f} s (stopped)"
    return f"{result[field]:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--kind", choices=KINDS, default="tool_review")
    parser.add_argument("--repeat", type=int, default=3, help="capped runs per size (the median is shown)")
    parser.add_argument("--naive-limit", type=float, default=300.0, help="seconds before a naive run is stopped")
    parser.add_argument("--no-naive", action="store_true", help="time the capped card only")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("capped", "naive"), default="capped", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.kind, args.mode)))
        return

    print(f"review page render, kind {args.kind}, AppTest, one fresh process per run "
          f"(capped: median of {args.repeat}; naive stopped after {args.naive_limit:.0f} s)")
    print(f"{'calls':>8} | {'capped page':>12} | {'capped card':>12} | {'naive page':>20} | {'naive card':>20} | cap message")
    results: list[dict[str, Any]] = []
    naive_blocked = False
    for calls in args.calls:
        runs = [_child(calls, args.kind, "capped", None) for _ in range(max(1, args.repeat))]
        capped = dict(runs[0], page_s=statistics.median(r["page_s"] for r in runs),
                      card_s=statistics.median(r["card_s"] for r in runs), runs=[r["page_s"] for r in runs])
        naive: dict[str, Any] = {"calls": calls, "kind": args.kind, "mode": "naive", "skipped": True}
        if not args.no_naive and not naive_blocked:
            naive = _child(calls, args.kind, "naive", args.naive_limit)
            naive_blocked = "timeout" in naive  # a bigger payload would take longer still
        naive_page = "skipped" if naive.get("skipped") else _cell(naive, "page_s")
        naive_card = "skipped" if naive.get("skipped") else _cell(naive, "card_s")
        print(f"{calls:>8,} | {_cell(capped, 'page_s'):>12} | {_cell(capped, 'card_s'):>12} | {naive_page:>20} | "
              f"{naive_card:>20} | {capped['cap_message'] or '(all drawn)'}", flush=True)
        results += [capped, naive]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
