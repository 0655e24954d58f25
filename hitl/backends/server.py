"""A LangGraph API server as the desk's backend (`HITL_LANGGRAPH_API_URL`), through langgraph-sdk.

The server owns the checkpoints (`langgraph dev` keeps them in files, the platform in its own
PostgreSQL); the desk cannot read a table of it. Three pieces implement the seam of
`hitl.backends.base` over it, so every service of the desk (claims, four eyes, quorum, access
rules, timeouts, webhooks, History, the REST API) runs unchanged:

- `ServerStore` is the desk's `Store` (its own records stay in `HITL_DATABASE_URL`) whose
  thread side asks the server: a fresh read of a thread is `threads.get` + `threads.get_state`
  (pending interrupts with their node, failed tasks, metadata); the listing is the desk's own
  index (`hitl_threads`, the same table, counts and search the SQL backends use), refreshed
  incrementally by `updated_at` (`threads.search` sorted newest first, read only down to the
  last refresh's watermark), with the page's interrupts kept beside it
  (`hitl_server_interrupts`) so a page never calls the server per thread.
- `ServerRegistry` (`hitl.backends.server_graphs`) hands out the server's assistants as graphs (`ServerGraph`).
- `ServerGraph.invoke(` (`hitl.backends.server_graphs`)Command(resume={id: value}), config)` is the run, at most once although
  the server does not enforce it (a second resume of an answered interrupt is accepted there
  as a silent no-op): the desk has already claimed the interrupt in its own database
  (`hitl.resume`); right before the run the thread is read again and must still be
  interrupted at that interrupt id (else `AlreadyDecided`, nothing run); the run is created
  with `multitask_strategy="reject"`; its run id is recorded in `hitl_server_runs` before
  it is waited for.

A server that goes away before the run was created raises `ServerUnreachable` marked
`nothing_ran` (the claim is released); once the run was created, losing the server makes the
decision outcome unknown, as the SQL backends do for a node that may have run.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from hitl.backends.server_wire import (
    SKEW_SECONDS,
    NotFound,
    ServerUnreachable,
    connect_client,
    epoch,
    http_error,
    interrupts_of,
    latest_of,
    metadata_of,
    pending_of,
    raw_interrupt,
)
from hitl.errors import HitlError
from hitl.storage import server_mirror as mirror
from hitl.store import Indexer, RawInterrupt, Store

__all__ = ["ServerStore", "ServerUnreachable", "connect_client", "SEARCH_PAGE"]

SEARCH_PAGE = 1000
"""Threads per `threads.search` call while refreshing (the server's maximum)."""

FIRST_SEARCH_PAGE = 50
"""Threads the first `threads.search` call of a refresh asks for; later calls ask for 4x more."""

RECONCILE_EVERY = 20
"""Every this many refreshes (and whenever the server's count of interrupted threads differs
from the index's), the index is checked against the server's thread ids, so threads deleted
on the server leave the Inbox: `updated_at` never reports a deletion."""

READ_WORKERS = 8
"""Threads read from the server at once when many are read fresh (a batch chunk)."""

_THREAD_FIELDS = ["thread_id", "created_at", "updated_at", "status", "metadata", "interrupts"]

_STATUS = {"idle": "completed", "busy": "running", "error": "failed", "interrupted": "waiting", "timeout": "failed"}


class ServerStore(Store):
    """The desk's database for its own records, with the thread side read from a LangGraph server."""

    client: Any = None
    server_url: str = ""

    @classmethod
    def connect(cls, database_url: str, api_url: str, *, api_key: str | None = None, **open_kwargs: Any) -> ServerStore:
        """Open the desk's database at `database_url` (created when missing) over the server at `api_url`."""
        store = cls.open(database_url, create=True, **open_kwargs)
        try:
            return store.attach(connect_client(api_url, api_key), api_url)
        except BaseException:
            store.close()
            raise

    def attach(self, client: Any, url: str) -> ServerStore:
        """Talk to the server through `client` (a langgraph-sdk sync client) at `url`."""
        self.client = client
        self.server_url = url
        self._server_refresh = threading.Lock()
        self._refreshes = 0
        return self

    def close(self) -> None:
        inner = getattr(getattr(self.client, "http", None), "client", None)
        if inner is not None:
            inner.close()
        super().close()

    @property
    def display_url(self) -> str:
        return f"{self.records_url} + LangGraph server {self.server_url}"

    @property
    def threads_at(self) -> str | None:
        return self.server_url

    # ------------------------------------------------------------------ reading, fresh

    def call(self, what: str, call: Any) -> Any:
        """`call()` against the server, its failures as the desk's errors (404: `NotFound`)."""
        try:
            return call()
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:
                raise NotFound() from None
            raise HitlError(f"The LangGraph server at {self.server_url} refused to {what}: {http_error(exc)}.") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(
                f"The LangGraph server at {self.server_url} did not answer ({type(exc).__name__}: {exc}); could not "
                f"{what}. Nothing was changed. Start the server or fix HITL_LANGGRAPH_API_URL."
            ) from None

    def server_thread(self, thread_id: str) -> dict[str, Any] | None:
        """The server's thread (`threads.get`), or None when it has none by that id."""
        try:
            return self.call("read the thread", lambda: self.client.threads.get(thread_id))
        except NotFound:
            return None

    def _snapshot(self, thread_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        thread = self.server_thread(thread_id)
        if thread is None:
            return None
        try:
            state = self.call("read the thread's state", lambda: self.client.threads.get_state(thread_id))
        except NotFound:
            state = {}
        return thread, state or {}

    def _snapshots(self, thread_ids: Iterable[str]) -> dict[str, tuple[dict[str, Any], dict[str, Any]] | None]:
        ids = list(dict.fromkeys(thread_ids))
        if len(ids) <= 1:
            return {tid: self._snapshot(tid) for tid in ids}
        with ThreadPoolExecutor(max_workers=min(READ_WORKERS, len(ids))) as pool:
            return dict(zip(ids, pool.map(self._snapshot, ids)))

    def thread_exists(self, thread_id: str) -> bool:
        return self.server_thread(thread_id) is not None

    def latest_checkpoint(self, thread_id: str) -> tuple[str, dict[str, Any]] | None:
        snapshot = self._snapshot(thread_id)
        return None if snapshot is None else latest_of(*snapshot)

    def latest_checkpoints(self, thread_ids: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        return {tid: latest_of(*snap) for tid, snap in self._snapshots(thread_ids).items() if snap is not None}

    def pending_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        return {tid: pending_of(tid, *snap) if snap else [] for tid, snap in self._snapshots(thread_ids).items()}

    def failed_tasks_of(self, thread_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        result: dict[str, list[tuple[str, str]]] = {}
        for tid, snap in self._snapshots(thread_ids).items():
            tasks = (snap[1].get("tasks") or []) if snap else []
            result[tid] = [(task.get("name") or "?", str(task["error"])) for task in tasks if task.get("error")]
        return result

    def finished(self, thread_ids: Iterable[str]) -> dict[str, str]:
        finished: dict[str, str] = {}
        for tid, snap in self._snapshots(thread_ids).items():
            if snap is None or snap[0].get("status") != "idle" or snap[1].get("next") or interrupts_of(snap[0]):
                continue
            if any(task.get("error") for task in snap[1].get("tasks") or []):
                continue
            finished[tid] = latest_of(*snap)[0]
        return finished

    def listed_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        """The page's interrupts as the last refresh indexed them (no call to the server)."""
        ids = list(dict.fromkeys(thread_ids))
        result: dict[str, list[RawInterrupt]] = {tid: [] for tid in ids}
        for thread_id, blob in mirror.mirrored_interrupts(self, ids).items():
            result[thread_id] = [raw_interrupt(thread_id, "", item) for item in json.loads(blob)]
        return result

    def listed_metadata(self, thread_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The threads' metadata as the last refresh mirrored it (`requested_by`, `graph_id`...)."""
        return {tid: json.loads(blob) for tid, blob in mirror.mirrored_metadata(self, list(dict.fromkeys(thread_ids))).items()}

    def run_ids(self, thread_id: str) -> list[str]:
        """Run ids the desk created on a thread, oldest first."""
        return mirror.run_ids(self, thread_id)

    # ------------------------------------------------------------------ the index

    def backfill_pending(self) -> bool:
        return False  # a refresh pages the server newest first; there is no separate first index

    def indexing(self) -> dict[str, Any]:
        done = mirror.indexed_count(self)
        return {"done": done, "total": done, "owner": None, "lease_until": None}

    def changed_since(self, updated_after: float) -> list[str]:
        """Thread ids the server changed after `updated_after`, newest first (any status)."""
        return [t["thread_id"] for t in self._changed(updated_after)]

    def _changed(self, updated_after: float) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        offset, limit = 0, FIRST_SEARCH_PAGE  # a refresh with little news reads one small page
        while True:
            batch = self.call(
                "list the server's threads",
                lambda: self.client.threads.search(
                    limit=limit, offset=offset, sort_by="updated_at", sort_order="desc", select=_THREAD_FIELDS
                ),
            )
            fresh = [t for t in batch if epoch(t["updated_at"]) > updated_after]
            found.extend(fresh)
            if len(fresh) < len(batch) or len(batch) < limit:
                return found
            offset += len(batch)
            limit = min(limit * 4, SEARCH_PAGE)

    def refresh(self, indexer: Indexer, *, thread_ids: Sequence[str] | None = None, **_: Any) -> int:
        """Index the threads the server changed since the last refresh (these, read fresh, when
        `thread_ids` is given); returns how many changed. Threads the server no longer has
        leave the index (see `RECONCILE_EVERY`)."""
        with self._server_refresh:
            if thread_ids is not None:
                wanted = list(dict.fromkeys(thread_ids))
                found = {tid: self.server_thread(tid) for tid in wanted}
                gone = [tid for tid, thread in found.items() if thread is None]
                if gone:
                    mirror.forget_threads(self, gone)
                threads = [thread for thread in found.values() if thread is not None]
                self._index(threads, indexer)
                return len(threads)
            watermark = mirror.watermark(self)
            changed = self._changed(watermark - SKEW_SECONDS if watermark else 0.0)
            news = self._unseen(changed) if changed else []
            newest = max([watermark, *(epoch(t["updated_at"]) for t in changed)])
            # The skew window re-reads threads already indexed at that version: not news.
            if news or newest > watermark:
                self._index(news, indexer, watermark=newest)
            self._refreshes += 1
            if self._refreshes % RECONCILE_EVERY == 1:
                self.reconcile()
            return len(news)

    def reconcile(self) -> list[str]:
        """Drop from the index the threads the server no longer has (deleted there); returns them.

        Lists the server's thread ids (oldest first, pages of `SEARCH_PAGE`), and confirms each
        missing one with `threads.get` before dropping it: a thread that paging skipped while
        others were deleted stays."""
        server: set[str] = set()
        offset = 0
        while True:
            batch = self.call(
                "list the server's threads",
                lambda: self.client.threads.search(limit=SEARCH_PAGE, offset=offset, sort_by="created_at",
                                                   sort_order="asc", select=["thread_id"]),  # fmt: skip
            )
            server.update(t["thread_id"] for t in batch)
            if len(batch) < SEARCH_PAGE:
                break
            offset += len(batch)
        missing = sorted(mirror.indexed_ids(self) - server)
        gone = [tid for tid in missing if self.server_thread(tid) is None]
        if gone:
            mirror.forget_threads(self, gone)
        return gone

    def _unseen(self, threads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The threads whose `updated_at` differs from the one indexed."""
        seen = mirror.indexed_updated_at(self, [t["thread_id"] for t in threads])
        return [t for t in threads if seen.get(t["thread_id"]) != epoch(t["updated_at"])]

    def _index(self, threads: list[dict[str, Any]], indexer: Indexer, *, watermark: float | None = None) -> None:
        now = time.time()
        rows, side = [], []
        for thread in threads:
            thread_id = thread["thread_id"]
            metadata = metadata_of(thread)
            status = _STATUS.get(thread.get("status") or "", "completed")
            items = interrupts_of(thread) if status == "waiting" else []
            if status == "waiting" and not items:
                status = "running"
            if metadata.get("hitl_resolved") and status == "completed":
                status = "resolved"
            raw = [raw_interrupt(thread_id, "", item) for item in items]
            entry = indexer(thread_id, metadata, raw)
            updated = epoch(thread["updated_at"])
            rows.append((
                thread_id, status, "", entry.graph_id, entry.graph_note, "," + ",".join(entry.kinds) + ",",
                entry.summary, entry.search_text.lower(), len(raw), ",".join(i.id for i in raw), "", updated, now,
            ))  # fmt: skip
            side.append((thread_id, updated, json.dumps(metadata, default=str), json.dumps(items, default=str)))
        if rows:
            self._write_rows(rows)
        # Seen only once indexed: a refresh that failed above re-reads these threads next time.
        mirror.save_mirror(self, side, watermark)

    def _write_rows(self, rows: list[tuple]) -> None:
        """Write index rows through the store's own index writer (counts, search), which writes
        the threads whose dirty marks it clears."""
        ids = [row[0] for row in rows]
        self.mark_dirty(ids)
        self._write_index(rows, mirror.dirty_versions(self, ids))
