"""Benchmark: text search over the desk's index at 1,000,000 threads (issue 18), SQLite and PostgreSQL.

    .venv/bin/python bench/search.py --rows 1000000                       # SQLite, a temporary file
    .venv/bin/python bench/search.py --rows 100000 --backend postgres --pg-url postgresql://...
    .venv/bin/python bench/search.py --rows 1000000 --dir /tmp/b --keep   # keep the file; --reuse next time

It fills `hitl_threads` of a desk database (created by `Store.open(url, create=True)`, so by the
desk's own migrations) with `--rows` waiting threads whose columns copy what a real desk indexes
for bench/inbox.py's threads (graph rotation, customers drawn from its FIRST_NAMES x LAST_NAMES,
amounts, refs; the search text of each graph has the shape of a real row's). The rows go in with
plain INSERTs, so the desk's own triggers keep `hitl_counts` and the search index, as they do when
the desk indexes. No checkpoints are written: what is timed is `Store.list_threads(search=...)`,
the storage call under `Inbox.pending(search=...)` (which then decodes the 50 listed threads only).

For each needle it times, in the same run and alternating, the old way (the FTS5 trigram phrase
`MATCH '"needle"'` for at most `search_matches_max` + 1 ids, then the page and total from those
ids, else the phrase joined in the page and count queries: the code of ebff689, reproduced here)
and the desk's current `list_threads`, median of `--repeat` runs, and checks both give the same
page and total.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.inbox import FIRST_NAMES, GRAPH_IDS, LAST_NAMES  # noqa: E402

COLUMNS = (
    "thread_id", "status", "checkpoint_id", "graph_id", "graph_note", "kinds", "summary", "search_text",
    "n_interrupts", "interrupt_ids", "nodes", "waiting_since", "updated_at",
)  # fmt: skip
KINDS = {"refund": "question", "deploy": "confirm", "newsletter": "edit", "crm_tools": "tool_review"}


def thread_id(index: int) -> str:
    return f"bench-{index:06d}"


def texts(index: int, rng: random.Random) -> tuple[str, str, str]:
    """(graph_id, summary, search_text) of thread `index`, as the desk indexes bench/inbox.py's
    threads (copied from the rows of a 8-thread desk built by bench/inbox.py)."""
    gid = GRAPH_IDS[index % len(GRAPH_IDS)]
    tid, name = thread_id(index), f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    amount, ref = rng.randint(5, 5000), f"R{index:06d}"
    if gid == "refund":
        summary = f"refund: Refund {amount} EUR to {name} for order {ref}"
        text = f"{tid} refund refund {amount} eur to {name} for order {ref} approve the refund of {amount} eur?"
    elif gid == "deploy":
        summary = f"Deploy build {ref} requested by {name} to production?"
        text = f"{tid} deploy build {ref} requested by {name} to production?"
    elif gid == "newsletter":
        summary = f"Edit draft: Dear {name}, your order {ref} ships today. Total: {amount} EUR."
        text = (
            f"{tid} edit dear {name}, your order {ref} ships today. total: {amount} eur. "
            "check the tone and the amount before sending."
        )
    else:
        summary = "2 tool calls: update_crm, issue_credit"
        text = (
            f"{tid} tool_review the agent wants to update {name}'s record and issue a credit. "
            f"update_crm issue_credit {name} {ref} {name} {amount}"
        )
    return gid, summary, text.lower()


def rows(start: int, count: int, seed: int) -> Iterator[tuple]:
    rng = random.Random(seed * 1_000_003 + start)
    base = 1_700_000_000.0
    for index in range(start, start + count):
        gid, summary, text = texts(index, rng)
        yield (
            thread_id(index), "waiting", f"1f1ef14c-{index:08x}-6000-8000-000000000000", gid, None,
            f",{KINDS[gid]},", summary, text, 1, f"{rng.getrandbits(128):032x}", f"{gid}_review",
            base + index * 0.01, base + index * 0.01,
        )  # fmt: skip


def fill(url: str, total: int, batch: int = 20_000) -> float:
    """Create the desk's schema and insert `total` rows into `hitl_threads`. Returns seconds."""
    from hitl.store import Store

    Store.open(url, create=True).close()
    sql = f"INSERT INTO hitl_threads ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    started = time.perf_counter()
    if url.startswith("sqlite:///"):
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        for start in range(0, total, batch):
            conn.execute("BEGIN")
            conn.executemany(sql, rows(start, min(batch, total - start), 1))
            conn.execute("COMMIT")
            progress(start + batch, total, started)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            for start in range(0, total, batch):
                with conn.transaction(), conn.cursor().copy(f"COPY hitl_threads ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows(start, min(batch, total - start), 1):
                        copy.write_row(row)
                progress(start + batch, total, started)
            conn.execute("VACUUM ANALYZE hitl_threads")
    return time.perf_counter() - started


def progress(done: int, total: int, started: float) -> None:
    done = min(done, total)
    elapsed = time.perf_counter() - started
    print(f"\r  filled {done:,} / {total:,} ({done / max(elapsed, 1e-9):,.0f} rows/s)", end="", file=sys.stderr, flush=True)
    if done == total:
        print(file=sys.stderr)


# --------------------------------------------------------------------------- the old way


PAGE_COLUMNS = (
    "thread_id, status, checkpoint_id, graph_id, graph_note, kinds, summary, n_interrupts, waiting_since, nodes, updated_at"
)
OLD_IN_INDEX = (
    "thread_id IN (SELECT d.thread_id FROM hitl_search s JOIN hitl_search_docs d ON d.id = s.rowid "
    "WHERE hitl_search MATCH ?)"
)


def old_search(store: Any, needle: str, limit: int = 50) -> tuple[list[str], int]:
    """The SQLite search of ebff689: the phrase of the whole needle for at most 5,001 ids, then
    page and total by those ids; else the phrase joined in the page and the count."""
    phrase = '"' + needle.lower().replace('"', '""') + '"'
    ids = [row[0] for row in store.query(
        "SELECT d.thread_id FROM hitl_search s JOIN hitl_search_docs d ON d.id = s.rowid WHERE hitl_search MATCH ? LIMIT ?",
        (phrase, 5001),
    )]  # fmt: skip
    if len(ids) <= 5000:
        if not ids:
            return [], 0
        rows, _, total = store.list_threads(status="waiting", thread_ids=ids, limit=limit)
        return [row.thread_id for row in rows], total
    count = f"SELECT COUNT(*) FROM hitl_threads WHERE +status = ? AND {OLD_IN_INDEX}"
    rows = store.query(
        f"SELECT {PAGE_COLUMNS}, ({count}) FROM hitl_threads WHERE +status = ? AND {OLD_IN_INDEX} "
        "ORDER BY waiting_since, thread_id LIMIT ?",
        ("waiting", phrase, "waiting", phrase, limit + 1),
    )
    return [row[0] for row in rows[:limit]], int(rows[0][11]) if rows else 0


# --------------------------------------------------------------------------- measuring


def needles(total: int) -> list[tuple[str, str]]:
    """(label, needle): a customer (1 of 1,000), a last name (1 of 40), a thread id, a fragment."""
    return [
        ("customer full name", "ada lovelace"),
        ("last name", "lovelace"),
        ("thread id", thread_id(total // 2 + 12345 % max(total // 2, 1))),
        ("fragment of a common word", "reque"),
    ]


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return (time.perf_counter() - started) * 1000, result


def measure(url: str, total: int, repeat: int) -> dict[str, Any]:
    from hitl.store import Store

    store = Store.open(url)
    backend = store.backend
    result: dict[str, Any] = {"backend": backend, "rows": total, "load_before": os.getloadavg()[0], "needles": []}
    for label, needle in needles(total):
        new_runs, old_runs = [], []
        for _ in range(repeat):  # alternating, so both meet the same load
            ms, (rows, _, found) = timed(lambda: store.list_threads(status="waiting", limit=50, search=needle))
            new_runs.append(ms)
            if backend == "sqlite":
                ms, (old_ids, old_total) = timed(lambda: old_search(store, needle))
                old_runs.append(ms)
                assert old_total == found and old_ids == [row.thread_id for row in rows], (needle, old_total, found)
        entry = {
            "label": label,
            "needle": needle,
            "total": found,
            "new_ms": statistics.median(new_runs),
            "new_min_ms": min(new_runs),
            "old_ms": statistics.median(old_runs) if old_runs else None,
            "old_min_ms": min(old_runs) if old_runs else None,
        }
        if backend == "sqlite":
            entry["expression"] = store._search_expression(needle.lower())[0]
        result["needles"].append(entry)
        print(f"  {label}: {needle!r} {found:,} matches, new {entry['new_ms']:.1f} ms"
              + (f", old {entry['old_ms']:.1f} ms" if old_runs else ""), file=sys.stderr)  # fmt: skip
    result["load_after"] = os.getloadavg()[0]
    store.close()
    return result


def table(result: dict[str, Any]) -> str:
    lines = [
        f"| {result['rows']:,} waiting threads, {result['backend']}, load {result['load_before']:.1f}-{result['load_after']:.1f} "
        "| matches | old way, median (min) | `list_threads`, median (min) |",
        "|---|---|---|---|",
    ]
    for e in result["needles"]:
        old = f"{e['old_ms']:.1f} ms ({e['old_min_ms']:.1f})" if e["old_ms"] is not None else "same code"
        lines.append(f"| {e['label']} {e['needle']!r} | {e['total']:,} | {old} | {e['new_ms']:.1f} ms ({e['new_min_ms']:.1f}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("HITL_BENCH_POSTGRES_URL") or os.environ.get("HITL_TEST_POSTGRES_URL"))
    parser.add_argument("--dir", help="directory for the SQLite file (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file / PostgreSQL schema")
    parser.add_argument("--reuse", action="store_true", help="time the kept database of an earlier --keep run")
    parser.add_argument("--repeat", type=int, default=9, help="runs of each way per needle (median)")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    args = parser.parse_args()
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="hitl-search-"))
    workdir.mkdir(parents=True, exist_ok=True)
    schema = f"bench_search_{args.rows}"
    if args.backend == "sqlite":
        path = workdir / f"search-{args.rows}.db"
        url = f"sqlite:///{path}"
        if not args.reuse:
            path.unlink(missing_ok=True)
    else:
        import psycopg

        if not args.pg_url:
            raise SystemExit("--backend postgres needs --pg-url (or HITL_BENCH_POSTGRES_URL)")
        with psycopg.connect(args.pg_url, autocommit=True) as conn:
            if not args.reuse:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        url = args.pg_url + ("&" if "?" in args.pg_url else "?") + f"options=-csearch_path%3D{schema}"
    fill_s = None
    if not args.reuse:
        fill_s = fill(url, args.rows)
    result = measure(url, args.rows, args.repeat)
    result["fill_s"] = fill_s
    print(table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if not args.keep:
        if args.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            with psycopg.connect(args.pg_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
