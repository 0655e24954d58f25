"""The first index of a big database on every core: worker processes decode and summarise.

The desk process reads a batch of threads with one set-based query (`Store.backfill`) and
writes their rows; what lies between, per thread (decoding the interrupt writes with the
saver's serializer, classifying and summarising the payloads, the search text, which graph
it belongs to), is pure Python, so `IndexPool` hands it to worker processes, chunk by chunk:
while the desk writes one chunk, the workers compute the next ones.

The workers run the same functions as the desk (`hitl.store.thread_state`,
`hitl.store.index_rows`, `hitl.reading.index_entry`) over a snapshot of the graph registry
(`hitl.registry.GraphMatcher`); they load no graph code and open no database. Threads whose
interrupts were raised in `Send` tasks (their node is named from the checkpoint) are handed
back and indexed by the desk itself.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from hitl.reading import index_entry
from hitl.registry import GraphMatcher, memo_match
from hitl.store import IndexEntry, RawInterrupt, index_rows, thread_state

__all__ = ["IndexPool", "pool_can_decode", "default_workers", "serve"]

_worker: dict[str, Any] = {}


def pool_can_decode(serde: Any) -> bool:
    """Whether a worker's own `JsonPlusSerializer()` decodes as `serde` does (the savers'
    default serializer, with the same settings); otherwise the desk indexes alone."""
    if type(serde) is not JsonPlusSerializer or getattr(serde, "_custom_unpack_ext_hook", False):
        return False
    fresh = JsonPlusSerializer()
    settings = ("pickle_fallback", "_allowed_json_modules", "_allowed_msgpack_modules")
    return all(getattr(serde, name, None) == getattr(fresh, name, None) for name in settings)


def _start(matcher: GraphMatcher, keep_nul: bool) -> None:
    _worker.update(serde=JsonPlusSerializer(), match=memo_match(matcher.match), keep_nul=keep_nul)


def _entry(thread_id: str, metadata: dict[str, Any], pending: list[RawInterrupt]) -> IndexEntry:
    match = _worker["match"](metadata.get("graph_id"), [i.node for i in pending])
    return index_entry(match, thread_id, pending)


def _rows(found: list[tuple]) -> tuple[list[tuple], list[str]]:
    """A chunk's `hitl_threads` rows, and the threads left to the desk (`Send` tasks)."""
    latest, interrupts, errors, pushed = thread_state(_worker["serde"], found)
    if pushed:
        left = set(pushed)
        latest = [row for row in latest if row[0] not in left]
    return index_rows((latest, interrupts, errors), _entry, keep_nul=_worker["keep_nul"]), pushed


class IndexPool:
    """Worker processes computing the first index's rows; `map(chunks)` yields, in order,
    `(rows, threads left to the desk)` per chunk of `Store._state_sql` rows.

    The workers are Python subprocesses running `serve()`, fed pickles over a pipe (not a
    multiprocessing pool: that would re-import the desk's main script in each worker, and
    forking a process that runs threads is unsafe). A feeder thread per worker writes its
    chunks while this process reads the results in order.
    """

    def __init__(self, matcher: GraphMatcher, *, keep_nul: bool, workers: int) -> None:
        package_root = str(Path(__file__).resolve().parent.parent)
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
        self._workers = [
            subprocess.Popen(
                [sys.executable, "-c", "from hitl.indexing import serve; serve()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": path},
            )
            for _ in range(max(1, workers))
        ]
        for worker in self._workers:
            _send(worker.stdin, (matcher, keep_nul))
        self.indexed: list[str] = []
        """Thread ids whose rows the workers computed (for the desk's after-index hooks)."""

    def map(self, chunks: list[list[tuple]]) -> Iterator[tuple[list[tuple], list[str]]]:
        n = len(self._workers)

        def feed(index: int) -> None:
            worker = self._workers[index]
            try:
                for chunk in chunks[index::n]:
                    _send(worker.stdin, chunk)
            except (OSError, ValueError):  # the worker died: its reader below says so
                pass

        feeders = [threading.Thread(target=feed, args=(i,), daemon=True, name="hitl-index-feed") for i in range(n)]
        for feeder in feeders:
            feeder.start()
        for number in range(len(chunks)):
            result = _receive(self._workers[number % n].stdout)
            if result is None:
                raise RuntimeError("an index worker process exited; the first index goes on at the next listing")
            rows, pushed = result
            self.indexed.extend(row[0] for row in rows)
            yield rows, pushed
        for feeder in feeders:
            feeder.join()

    def close(self) -> None:
        for worker in self._workers:
            try:
                worker.stdin.close()
            except OSError:
                pass
        for worker in self._workers:
            try:
                worker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _send(pipe: Any, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(len(data).to_bytes(8, "little") + data)
    pipe.flush()


def _receive(pipe: Any) -> Any:
    header = pipe.read(8)
    if len(header) < 8:
        return None
    return pickle.loads(pipe.read(int.from_bytes(header, "little")))


def serve() -> None:
    """A worker: the matcher and NUL setting first, then one chunk after another until EOF."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the result pipe
    setup = _receive(stdin)
    if setup is None:
        return
    _start(*setup)
    while (chunk := _receive(stdin)) is not None:
        _send(stdout, _rows(chunk))


def default_workers() -> int:
    """Worker processes for a big first index: the machine's cores (at most 4), none on one core."""
    cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(cores, 4)
