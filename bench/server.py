"""Listing a LangGraph server's interrupted threads: the desk's index vs the naive way.

    .venv/bin/python bench/server.py --threads 1000 10000

Starts a `langgraph dev` (from .venv/langgraph-server, as the server tests do), seeds it with
interrupted threads of the `approve` test graph (background runs, 50 distinct payloads; a
`threads.copy` of an interrupted thread would be faster but is `idle`, not `interrupted`), and
times, against the same server:

- desk: `Inbox.open(langgraph_api_url=...)` (the `ServerStore` backend) over a fresh SQLite desk
  database. `index build` is the first refresh (every thread read once, without values, into
  the desk's own index); `first page + total` and `search` are `Inbox.pending(...)`, each
  including its incremental refresh (one `threads.search` call when nothing changed).
- naive: what a client without an index does: `threads.search(status="interrupted")` pages
  of 1000 to count and order them, then `threads.get_state` per thread shown (first page),
  or per thread (search: the payload is only known from the state).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE = 50
DISTINCT = 50


def _support():
    spec = importlib.util.spec_from_file_location("server_fixture", ROOT / "tests" / "server" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["server_fixture"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def seed(client, total: int) -> None:
    """Background runs of `approve` until `total` threads are interrupted (payloads cycle
    through DISTINCT invoices)."""
    have = client.threads.count(status="interrupted")

    def one(n: int) -> None:
        thread = client.threads.create(metadata={"graph_id": "approve"})
        client.runs.create(thread["thread_id"], "approve", input={"action_details": f"invoice-{n % DISTINCT:03d} pay ACME"})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(have, total)))
    while client.threads.count(status="interrupted") < total:
        time.sleep(0.5)


def timed(call, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def naive_interrupted(client) -> list[dict]:
    threads, offset = [], 0
    while True:
        batch = client.threads.search(status="interrupted", limit=1000, offset=offset, sort_by="updated_at", sort_order="asc")
        threads += batch
        if len(batch) < 1000:
            return threads
        offset += len(batch)


def naive_first_page(client) -> tuple[int, list]:
    threads = naive_interrupted(client)
    return len(threads), [client.threads.get_state(t["thread_id"]) for t in threads[:PAGE]]


def naive_search(client, word: str) -> int:
    hits = 0
    for thread in naive_interrupted(client):
        state = client.threads.get_state(thread["thread_id"])
        if word in json.dumps([task.get("interrupts") for task in state.get("tasks", [])]):
            hits += 1
    return hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1000])
    parser.add_argument(
        "--naive-search-max", type=int, default=1000,
        help="run the naive search (one get_state per thread) only up to this many threads",
    )
    parser.add_argument("--url", help="measure this running server (e.g. one kept from an earlier run) instead of starting one")
    args = parser.parse_args()

    support = _support()
    from langgraph_sdk import get_sync_client

    from hitl import Inbox

    workdir = Path(tempfile.mkdtemp(prefix="bench-langgraph-"))
    server = None if args.url else support.Server(support._server_python(), workdir, support._free_port()).start()
    url = args.url or server.url
    client = get_sync_client(url=url, api_key=None)
    rows = []
    try:
        for total in sorted(args.threads):
            started = time.perf_counter()
            seed(client, total)
            seeded = time.perf_counter() - started
            desk = Inbox.open(database_url=f"sqlite:///{workdir / f'desk-{total}.db'}", graphs_path=str(workdir / "none.json"),
                              config_path=None, langgraph_api_url=url)  # fmt: skip
            build, _ = timed(desk.refresh, repeat=1)
            idle_refresh, _ = timed(desk.refresh)
            page_s, page = timed(lambda: desk.pending(limit=PAGE))
            page_only_s, _ = timed(lambda: desk.pending(limit=PAGE, refresh=False))
            search_s, found = timed(lambda: desk.pending(limit=PAGE, search="invoice-007"))
            naive_page_s, (naive_total, _) = timed(lambda: naive_first_page(client), repeat=1)
            if total <= args.naive_search_max:
                naive_search_s, naive_hits = timed(lambda: naive_search(client, "invoice-007"), repeat=1)
            else:
                naive_search_s, naive_hits = float("nan"), found.total
            assert page.total == naive_total == total, (page.total, naive_total, total)
            assert found.total == naive_hits, (found.total, naive_hits)
            rows.append({
                "threads": total, "seed_s": round(seeded, 1), "index_build_s": round(build, 2),
                "idle_refresh_ms": round(idle_refresh * 1000, 1),
                "desk_first_page_total_ms": round(page_s * 1000, 1), "desk_page_without_refresh_ms": round(page_only_s * 1000, 1), "naive_first_page_total_ms": round(naive_page_s * 1000, 1),
                "desk_search_ms": round(search_s * 1000, 1), "naive_search_ms": round(naive_search_s * 1000, 1),
                "page_ratio": round(naive_page_s / page_s, 1), "search_ratio": round(naive_search_s / search_s, 1),
                "search_hits": found.total,
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
            desk.close()
    finally:
        if server is not None:
            server.stop()
    print()
    print("| threads | index build | first page + total: desk / naive (ratio) | search: desk / naive (ratio) |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['threads']:,} | {r['index_build_s']} s | {r['desk_first_page_total_ms']} ms / "
            f"{r['naive_first_page_total_ms']} ms ({r['page_ratio']}x) | {r['desk_search_ms']} ms / "
            f"{r['naive_search_ms']} ms ({r['search_ratio']}x) |"
        )


if __name__ == "__main__":
    main()
