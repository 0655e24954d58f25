"""A LangGraph API server as the desk's backend (`HITL_LANGGRAPH_API_URL`), through langgraph-sdk.

The server owns the checkpoints (`langgraph dev` keeps them in files, the platform in its own
PostgreSQL); the desk cannot read a table of it. So:

- **Listing** comes from a desk-side index (`hitl_server_threads`, in the desk's database)
  of the server's interrupted threads, refreshed incrementally: `threads.search` sorted by
  `updated_at` descending, read only down to the last refresh's watermark, without `values`.
  Pages are keyset cursors over (waiting_since, thread_id); totals, graph/kind filters and
  search are SQL over the index; only the visible page's interrupts are decoded.
- **Reading** one thread is `threads.get` + `threads.get_state` (values, messages, next).
- **Resuming** is at most once although the server does not enforce it (a second resume of an
  answered interrupt is accepted there as a silent no-op): the interrupt is claimed in the
  desk's `hitl_claims` first (`Store.claim`, unique per (thread, interrupt)); right before the
  run the thread is read again and must still be interrupted at that interrupt id; the run is
  created with `multitask_strategy="reject"` (the server refuses it while another run is
  busy); its run id is recorded in `hitl_server_runs`; the claim is closed and the audit row
  appended in one transaction of the desk's database.

A server that goes away before the run was created leaves nothing changed (the claim is
released: the interrupt can be answered again); once the run was created but its end could
not be seen, the claim is marked `unknown` and the audit says so, as the SQL backends do for
an outcome they cannot tell.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any

import httpx

from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer, StoreError, ThreadNotFound
from hitl.domain import Page, PendingInterrupt, PendingThread, ResumeOutcome, ThreadView
from hitl.payloads import classify, search_text, summarize
from hitl.store import Store, decode_cursor, encode_cursor, like_escape

__all__ = ["ServerBackend", "ServerUnreachable", "SEARCH_PAGE"]

SEARCH_PAGE = 1000
"""Threads per `threads.search` call while refreshing (the server's maximum)."""

FIRST_SEARCH_PAGE = 50
"""Threads the first `threads.search` call of a refresh asks for; later calls ask for 4x more."""

SKEW_SECONDS = 2.0
"""A refresh re-reads threads updated this long before its watermark: the server's clock and
updated_at granularity may put a later write at an earlier time."""

_THREAD_FIELDS = ["thread_id", "created_at", "updated_at", "status", "metadata", "interrupts"]

_TABLES = (
    """CREATE TABLE IF NOT EXISTS hitl_server_threads (
        thread_id TEXT PRIMARY KEY,
        graph_id TEXT,
        waiting_since DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        kinds TEXT NOT NULL,
        summary TEXT NOT NULL,
        search_text TEXT NOT NULL,
        interrupts TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS hitl_server_threads_wait ON hitl_server_threads (waiting_since, thread_id)",
    """CREATE TABLE IF NOT EXISTS hitl_server_sync (
        id INTEGER PRIMARY KEY,
        watermark DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS hitl_server_runs (
        thread_id TEXT NOT NULL,
        interrupt_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        reviewer TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        status TEXT,
        PRIMARY KEY (thread_id, interrupt_id)
    )""",
)


class ServerUnreachable(StoreError):
    """The LangGraph server did not answer; what this says happened to the decision is all that did."""


class ServerBackend:
    """The desk over a LangGraph API server; its own records in `store` (the desk's database)."""

    name = "langgraph-server"

    def __init__(self, store: Store, client: Any, *, url: str, lease_seconds: float = 300.0) -> None:
        self.store = store
        self.client = client
        self.url = url
        self.lease_seconds = lease_seconds
        self._refresh_lock = threading.Lock()
        with store.connection(write=True) as conn:
            for statement in _TABLES:
                conn.execute(statement)

    @classmethod
    def connect(cls, store: Store, url: str, *, api_key: str | None = None, lease_seconds: float = 300.0) -> ServerBackend:
        """A backend talking to the server at `url`, `api_key` sent as `x-api-key` when given."""
        from langgraph_sdk.client import SyncLangGraphClient

        # The SDK's own factory retries a refused connection five times with backoff (~15 s)
        # and reads LANGSMITH_API_KEY & co. from the environment; the desk wants a prompt
        # "server unreachable" and sends exactly the key it was configured with.
        http = httpx.Client(
            base_url=url,
            transport=httpx.HTTPTransport(retries=1),
            timeout=httpx.Timeout(10.0, read=300.0),
            headers={"x-api-key": api_key} if api_key else {},
        )
        return cls(store, SyncLangGraphClient(http), url=url, lease_seconds=lease_seconds)

    def close(self) -> None:
        """Close the HTTP client (the store belongs to the desk)."""
        http = getattr(self.client, "http", None)
        inner = getattr(http, "client", None)
        if inner is not None:
            inner.close()

    # ------------------------------------------------------------------ index

    def changed_since(self, updated_after: float) -> list[str]:
        """Thread ids the server changed after `updated_after`, newest first (any status)."""
        return [t["thread_id"] for t in self._changed(updated_after)]

    def _changed(self, updated_after: float) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        offset, limit = 0, FIRST_SEARCH_PAGE  # a refresh with little news reads one small page
        while True:
            batch = self._call(
                "list the server's threads",
                lambda: self.client.threads.search(
                    limit=limit, offset=offset, sort_by="updated_at", sort_order="desc", select=_THREAD_FIELDS
                ),
            )
            fresh = [t for t in batch if _epoch(t["updated_at"]) > updated_after]
            found.extend(fresh)
            if len(fresh) < len(batch) or len(batch) < limit:
                return found
            offset += len(batch)
            limit = min(limit * 4, SEARCH_PAGE)

    def refresh(self) -> int:
        """Index the threads the server changed since the last refresh; returns how many."""
        with self._refresh_lock:
            rows = self.store.query("SELECT watermark FROM hitl_server_sync WHERE id = 1")
            watermark = float(rows[0][0]) if rows else 0.0
            changed = self._changed(watermark - SKEW_SECONDS if watermark else 0.0)
            if not changed:
                return 0
            upserts, gone = [], []
            for thread in changed:
                if thread.get("status") == "interrupted" and _interrupts_of(thread):
                    upserts.append(_index_row(thread))
                else:
                    gone.append((thread["thread_id"],))
            newest = max([watermark, *(_epoch(t["updated_at"]) for t in changed)])
            sql = self.store.dialect.sql
            with self.store.connection(write=True) as conn:
                if upserts:
                    conn.executemany(
                        sql(
                            "INSERT INTO hitl_server_threads (thread_id, graph_id, waiting_since, updated_at, kinds, "
                            "summary, search_text, interrupts) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id) "
                            "DO UPDATE SET graph_id = excluded.graph_id, waiting_since = excluded.waiting_since, "
                            "updated_at = excluded.updated_at, kinds = excluded.kinds, summary = excluded.summary, "
                            "search_text = excluded.search_text, interrupts = excluded.interrupts"
                        ),
                        upserts,
                    )
                if gone:
                    conn.executemany(sql("DELETE FROM hitl_server_threads WHERE thread_id = ?"), gone)
                conn.execute(
                    sql(
                        "INSERT INTO hitl_server_sync (id, watermark) VALUES (1, ?) "
                        "ON CONFLICT (id) DO UPDATE SET watermark = excluded.watermark"
                    ),
                    (newest,),
                )
            # The skew window re-reads a few threads already indexed; they are not news.
            return sum(1 for t in changed if _epoch(t["updated_at"]) > watermark)

    def _forget(self, thread_id: str) -> None:
        self.store.execute_write("DELETE FROM hitl_server_threads WHERE thread_id = ?", (thread_id,))

    def graph_ids(self) -> list[str]:
        """Graph ids seen on indexed threads."""
        rows = self.store.query("SELECT DISTINCT graph_id FROM hitl_server_threads WHERE graph_id IS NOT NULL ORDER BY 1")
        return [row[0] for row in rows]

    # ------------------------------------------------------------------ listing

    def pending(
        self,
        limit: int = 50,
        cursor: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        search: str | None = None,
        *,
        newest_first: bool = False,
        refresh: bool = True,
    ) -> Page:
        """One page of the server's interrupted threads, oldest first, and the total."""
        if not 1 <= limit <= 1000:
            raise InvalidAnswer(f"limit={limit} is out of range; use 1 to 1000.")
        if refresh:
            self.refresh()
        where, params = [], []
        if graph_id:
            where.append("graph_id = ?")
            params.append(graph_id)
        if kind:
            where.append("kinds LIKE ? ESCAPE '\\'")
            params.append(f"%,{like_escape(kind)},%")
        if search:
            where.append("search_text LIKE ? ESCAPE '\\'")
            params.append("%" + like_escape(search.lower()) + "%")
        filters = " AND ".join(where) or "1 = 1"
        total = int(self.store.query(f"SELECT COUNT(*) FROM hitl_server_threads WHERE {filters}", params)[0][0])
        order = "DESC" if newest_first else "ASC"
        page_where, page_params = filters, list(params)
        if cursor:
            since, after = decode_cursor(cursor)
            op = "<" if newest_first else ">"
            page_where += f" AND (waiting_since {op} ? OR (waiting_since = ? AND thread_id {op} ?))"
            page_params += [since, since, after]
        rows = self.store.query(
            f"SELECT thread_id, graph_id, waiting_since, kinds, summary, interrupts FROM hitl_server_threads "
            f"WHERE {page_where} ORDER BY waiting_since {order}, thread_id {order} LIMIT ?",
            [*page_params, limit + 1],
        )
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            PendingThread(
                thread_id=row[0],
                graph_id=row[1],
                checkpoint_id="",
                waiting_since=datetime.fromtimestamp(float(row[2]), timezone.utc),
                interrupts=[_pending_interrupt(item) for item in json.loads(row[5])],
                kinds=tuple(k for k in row[3].split(",") if k),
                summary=row[4],
            )
            for row in rows
        ]
        next_cursor = encode_cursor(float(rows[-1][2]), rows[-1][0]) if more and rows else None
        return Page(items=items, next_cursor=next_cursor, total=total)

    # ------------------------------------------------------------------ one thread

    def _get_thread(self, thread_id: str) -> dict[str, Any]:
        try:
            return self._call("read the thread", lambda: self.client.threads.get(thread_id))
        except _NotFound:
            raise ThreadNotFound(thread_id) from None

    def thread(self, thread_id: str) -> ThreadView:
        """The thread's state, messages and pending interrupts, read from the server."""
        thread = self._get_thread(thread_id)
        state = self._call("read the thread's state", lambda: self.client.threads.get_state(thread_id))
        values = state.get("values") or {}
        if not isinstance(values, dict):
            values = {"value": values}
        interrupts = [_pending_interrupt(item) for item in _interrupts_of(thread)]
        messages = values.get("messages") or []
        waiting = thread.get("status") == "interrupted" and bool(interrupts)
        checkpoint = state.get("checkpoint") or {}
        return ThreadView(
            thread_id=thread_id,
            graph_id=_graph_id(thread),
            status=_STATUS.get(thread.get("status") or "", "completed") if not waiting else "waiting",
            values=values,
            messages=list(messages) if isinstance(messages, list) else [],
            interrupts=interrupts,
            next_nodes=tuple(state.get("next") or ()),
            checkpoints=[],
            metadata={**(thread.get("metadata") or {}), "checkpoint_id": checkpoint.get("checkpoint_id")},
            read_only_reason=None,
            errors=[("run", str(thread["error"]))] if thread.get("error") else [],
            waiting_since=datetime.fromtimestamp(_epoch(thread["updated_at"]), timezone.utc) if waiting else None,
            decisions=self.store.audit_rows(thread_id=thread_id),
        )

    # ------------------------------------------------------------------ resuming

    def resume(self, thread_id: str, answers: dict[str, Any], *, reviewer: str = "", comment: str = "") -> ResumeOutcome:
        """Answer interrupts by id and resume the thread on the server, at most once.

        Raises:
            ThreadNotFound: the server has no such thread.
            InvalidAnswer: no answers, an id not pending and never decided, or an answer that
                is not JSON; nothing claimed.
            AlreadyDecided: the desk already claimed or decided one of the interrupts, or the
                thread moved on before the run; the server ran nothing for this call.
            ServerUnreachable: the server did not answer (before the run: nothing ran, the
                claim is released; after it was created: the claim is `unknown`).
        """
        if not answers:
            raise InvalidAnswer(f"No answers given for thread {thread_id!r}; pass {{interrupt_id: answer}}.")
        for interrupt_id, answer in answers.items():
            try:
                json.dumps(answer)
            except (TypeError, ValueError) as exc:
                raise InvalidAnswer(f"The answer to {interrupt_id!r} is not JSON ({exc}); send plain data.") from None
        thread = self._get_thread(thread_id)
        pending = {item["id"]: item for item in _interrupts_of(thread)} if thread.get("status") == "interrupted" else {}
        ids = list(answers)
        for interrupt_id in ids:
            if interrupt_id not in pending:
                self._refuse_not_pending(thread_id, interrupt_id)
        started = time.time()
        self.store.claim(
            thread_id, ids, reviewer=reviewer, answers=answers, lease_seconds=self.lease_seconds,
            still_pending=lambda iid: iid in pending, runs_graph=True,
        )  # fmt: skip
        graph_id = _graph_id(thread)
        items = {iid: _pending_interrupt(pending[iid]) for iid in ids}
        waiting_since = _epoch(thread["updated_at"])

        def close(state: str | None, outcome: str | None, error: str | None = None) -> None:
            with self.store.connection(write=True):
                self.store.close_claims([(thread_id, ids, state)])
                if outcome is not None:
                    self.store.append_audit(
                        [
                            {
                                "thread_id": thread_id, "interrupt_id": iid, "graph_id": graph_id,
                                "kind": items[iid].kind, "action": "decision", "payload": items[iid].value,
                                "answer": answers[iid], "reviewer": reviewer, "comment": comment,
                                "decided_at": started, "waited_seconds": max(0.0, started - waiting_since),
                                "outcome": outcome, "error": error,
                            }  # fmt: skip
                            for iid in ids
                        ]
                    )

        # Checked again right before the run: an answer given outside the desk (Studio, another
        # client) since the first read would otherwise be repeated by the server as a no-op
        # "success".
        try:
            current = self._get_thread(thread_id)
        except HitlError:
            close(None, None)
            raise
        still = {item["id"] for item in _interrupts_of(current)} if current.get("status") == "interrupted" else set()
        if not set(ids) <= still:
            close(None, None)
            self._forget(thread_id)
            moved = next(iid for iid in ids if iid not in still)
            raise AlreadyDecided(moved, reviewer="someone outside the desk", decided_at=None, thread_id=thread_id)
        try:
            run = self.client.runs.create(
                thread_id, (current.get("metadata") or {}).get("assistant_id") or graph_id,
                command={"resume": {iid: answers[iid] for iid in ids}}, multitask_strategy="reject",
            )  # fmt: skip
        except httpx.HTTPStatusError as exc:
            close(None, None)
            if exc.response.status_code == 409:
                raise HitlError(
                    f"Thread {thread_id!r} is busy on the server (another run is in progress); nothing was run. "
                    "Try again when it has paused or finished."
                ) from None
            raise HitlError(f"The server refused the resume of thread {thread_id!r}: {_http_error(exc)}; nothing was run.") from None
        except httpx.TransportError as exc:
            # The request may have reached the server: only a run we can see proves it did.
            if self._run_exists(thread_id, started):
                close("unknown", "unknown", f"lost the server after creating the run: {exc}")
                raise ServerUnreachable(
                    f"The LangGraph server at {self.url} went away after the resume of thread {thread_id!r} "
                    "was sent; its outcome is unknown (recorded as such). Check the thread when the server is back."
                ) from None
            close(None, None)
            raise ServerUnreachable(
                f"The LangGraph server at {self.url} did not answer ({type(exc).__name__}); nothing was run and "
                "the claim was released. Start the server (or fix HITL_LANGGRAPH_API_URL) and answer again."
            ) from None
        run_id = run["run_id"]
        self.store.execute_write(
            "INSERT INTO hitl_server_runs (thread_id, interrupt_id, run_id, reviewer, created_at) VALUES "
            + ", ".join("(?, ?, ?, ?, ?)" for _ in ids),
            [value for iid in ids for value in (thread_id, iid, run_id, reviewer, started)],
        )
        try:
            finished = self._wait_for(thread_id, run_id)
            after = self.client.threads.get(thread_id)
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            close("unknown", "unknown", f"lost the server while run {run_id} ran: {exc}")
            raise ServerUnreachable(
                f"The LangGraph server at {self.url} went away while run {run_id} resumed thread {thread_id!r}; "
                "its outcome is unknown (recorded as such, the claim is kept). Check the thread when the server is back."
            ) from None
        run_status = finished.get("status")
        self.store.execute_write(
            "UPDATE hitl_server_runs SET status = ? WHERE run_id = ?", (run_status, run_id)
        )
        new = [_pending_interrupt(item) for item in _interrupts_of(after)] if after.get("status") == "interrupted" else []
        if run_status == "error" or after.get("status") == "error":
            error = str(after.get("error") or finished.get("error") or "the run failed on the server")
            close("failed", "failed", error)
            self._forget(thread_id)
            return ResumeOutcome(status="failed", error=error, thread_id=thread_id)
        status = "waiting" if new else "completed"
        close("done", status)
        if not new:
            self._forget(thread_id)
        return ResumeOutcome(status=status, new_interrupts=new, thread_id=thread_id)

    def _wait_for(self, thread_id: str, run_id: str) -> dict[str, Any]:
        """The run once it has ended. Polled (not `runs.join`, whose reconnects wait up to a
        minute on a server that went away): a lost server is seen within one poll."""
        delay, deadline = 0.02, time.monotonic() + self.lease_seconds
        while True:
            run = self.client.runs.get(thread_id, run_id)
            if run.get("status") not in ("pending", "running"):
                return run
            if time.monotonic() > deadline:  # the claim's lease: past it the decision is unknown
                raise httpx.ReadTimeout(f"run {run_id} still {run.get('status')} after {self.lease_seconds:g} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def run_ids(self, thread_id: str) -> list[str]:
        """Run ids the desk created on a thread, oldest first."""
        rows = self.store.query(
            "SELECT DISTINCT run_id, created_at FROM hitl_server_runs WHERE thread_id = ? ORDER BY created_at", (thread_id,)
        )
        return [row[0] for row in rows]

    def _run_exists(self, thread_id: str, since: float) -> bool:
        try:
            runs = self.client.runs.list(thread_id, limit=5)
        except (httpx.TransportError, httpx.HTTPStatusError):
            return True  # cannot tell: assume it may have run
        return any(_epoch(r["created_at"]) >= since - SKEW_SECONDS for r in runs)

    def _refuse_not_pending(self, thread_id: str, interrupt_id: str) -> None:
        claim = self.store.claim_of(thread_id, interrupt_id)
        if claim is not None and claim["state"] in ("claimed", "done", "recovered", "failed", "unknown"):
            decided = claim.get("finished_at") or claim.get("claimed_at")
            when = decided if isinstance(decided, datetime) else datetime.fromtimestamp(float(decided), timezone.utc)
            raise AlreadyDecided(interrupt_id, reviewer=claim.get("reviewer"), decided_at=when, thread_id=thread_id)
        raise InvalidAnswer(f"Interrupt {interrupt_id!r} is not pending on thread {thread_id!r}; reload the thread.")

    def _call(self, what: str, call: Any) -> Any:
        try:
            return call()
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:
                raise _NotFound() from None
            raise HitlError(f"The LangGraph server at {self.url} refused to {what}: {_http_error(exc)}.") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(
                f"The LangGraph server at {self.url} did not answer ({type(exc).__name__}: {exc}); could not {what}. "
                "Nothing was changed. Start the server or fix HITL_LANGGRAPH_API_URL."
            ) from None


class _NotFound(Exception):
    pass


_STATUS = {"idle": "completed", "busy": "running", "error": "failed", "interrupted": "waiting"}


def _interrupts_of(thread: dict[str, Any]) -> list[dict[str, Any]]:
    """The thread's pending interrupts, flattened from `{task_id: [{id, value}]}`, task ids kept."""
    return [
        {**item, "task_id": task_id}
        for task_id, items in (thread.get("interrupts") or {}).items()
        for item in items or []
    ]


def _pending_interrupt(item: dict[str, Any]) -> PendingInterrupt:
    value = item.get("value")
    schema = item.get("response_schema")
    kind = classify(value, schema)
    return PendingInterrupt(
        id=item["id"], node=item.get("node"), value=value, response_schema=schema, kind=kind,
        summary=summarize(value, kind), task_id=item.get("task_id", ""),
    )  # fmt: skip


def _graph_id(thread: dict[str, Any]) -> str | None:
    metadata = thread.get("metadata") or {}
    return metadata.get("graph_id") or metadata.get("assistant_id")


def _index_row(thread: dict[str, Any]) -> tuple:
    items = _interrupts_of(thread)
    kinds, summaries, texts = [], [], []
    for item in items:
        kind = classify(item.get("value"), item.get("response_schema"))
        kinds.append(kind)
        summaries.append(summarize(item.get("value"), kind))
        texts.append(search_text(item.get("value")))
    summary = summaries[0] if len(summaries) == 1 else f"{len(summaries)} decisions: " + " | ".join(summaries)
    updated = _epoch(thread["updated_at"])
    return (
        thread["thread_id"],
        _graph_id(thread),
        updated,
        updated,
        "," + ",".join(dict.fromkeys(kinds)) + ",",
        summary[:300],
        " ".join([thread["thread_id"], *texts])[:8000].lower(),
        json.dumps(items, default=str),
    )


def _epoch(stamp: Any) -> float:
    if isinstance(stamp, (int, float)):
        return float(stamp)
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()




def _http_error(exc: httpx.HTTPStatusError) -> str:
    return f"HTTP {exc.response.status_code} {exc.response.text[:200]}"
