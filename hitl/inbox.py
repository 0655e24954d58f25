"""`Inbox`: the desk's public facade over the store, the registry and the resume logic."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from hitl import contracts, runner
from hitl.services.resolve import resolve as resolve_thread
from hitl.services.resume_batch import resume_many
from hitl.services.resume_one import resume as resume_thread
from hitl.services.retry import retry as retry_thread
from hitl.services.unknown import unknown_outcome
from hitl.access import ReviewItem, hidden_rows, thread_requesters, votes
from hitl.audit import ChainReport, audit_key, verify_chain
from hitl.desk import Desk
from hitl.domain import (
    BatchResult,
    CheckpointInfo,
    Page,
    PendingInterrupt,
    PendingThread,
    Principal,
    ResumeOutcome,
    ThreadView,
)
from hitl.errors import (
    AlreadyDecided,
    HitlError,
    InvalidAnswer,
    NotAuthorized,
    ThreadNotFound,
    UnknownGraph,
)
from hitl.outcome import OutcomeUnknown, UnknownOutcome
from hitl.reading import pending_interrupt, waiting_page
from hitl.services.access import my_queue
from hitl.store import RawInterrupt, ThreadRow, checkpoint_time

__all__ = [
    "Inbox",
    "Page",
    "PendingThread",
    "PendingInterrupt",
    "ThreadView",
    "CheckpointInfo",
    "ResumeOutcome",
    "BatchResult",
]

BATCH_CHUNK = 100
"""Threads `Inbox.batch` decides per claim transaction, audit transaction and index refresh."""


class Inbox(Desk):
    """The review queue over one checkpointer database and one graph registry.

    Open with `Inbox.open()`; it reads the environment (HITL_DATABASE_URL, HITL_GRAPHS,
    HITL_CONFIG) at call time, and keyword arguments override it. The listing, reading and
    deciding use cases live here; what they share (store, registry, index, hooks) is `Desk`.
    """

    def require_principal(self, provider: Callable[[], Any] | None) -> None:
        """Login mode: calls that pass no `principal` act as `provider()` (the signed-in reviewer).

        The UI installs this so every page is checked without threading the principal through
        each call; when `provider()` returns None (nobody signed in) those calls raise
        `NotAuthorized` instead of falling back to local mode. `None` uninstalls it.
        """
        self.__dict__["_principal_provider"] = provider

    def _acting(self, principal: Principal | None) -> Principal | None:
        if principal is not None:
            return principal
        provider = self.__dict__.get("_principal_provider")
        if provider is None:
            return None
        current = provider()
        if current is None:
            raise NotAuthorized("This desk requires signing in: log in to see or decide review items.")
        return current

    def review_items(self, thread_id: str, *, principal: Principal | None = None) -> list[ReviewItem]:
        """The thread's pending interrupts as `hitl.access.ReviewItem`s (what the rules see)."""
        latest = self.store.latest_checkpoint(thread_id)
        if latest is None:
            raise ThreadNotFound(thread_id)
        raw = [i for i in self.store.pending_interrupts([thread_id])[thread_id] if i.answerable]
        graph_id = self.match_graph(thread_id, latest[1], raw).graph_id
        requester = thread_requesters(self.store, [thread_id], latest={thread_id: latest[1]}).get(thread_id)
        return [ReviewItem.of(thread_id, graph_id, pending_interrupt(i), requester) for i in raw]

    def start_run(
        self,
        graph_id: str,
        graph_input: Any,
        *,
        thread_id: str | None = None,
        requested_by: str | None = None,
        background: bool = False,
    ) -> str:
        """Start a new run of a registered graph; returns the thread id.

        With `background=True` the run executes in a daemon thread and this returns at once.
        """
        graph = self.graph(graph_id)
        thread_id = thread_id or self.registry.new_thread_id(graph_id)
        if self.store.thread_exists(thread_id):
            raise InvalidAnswer(f"Thread {thread_id!r} already exists; pick another id or leave it empty.")
        metadata = {"graph_id": graph_id}
        if requested_by:
            metadata["requested_by"] = requested_by
        config = {"configurable": {"thread_id": thread_id}, "metadata": metadata}

        def run() -> None:
            try:
                runner.invoke(graph, graph_input, config, database_url=self.store.url)
            except Exception:  # the failure is in the checkpoint's error writes
                pass

        if background:
            threading.Thread(target=run, name=f"hitl-run-{thread_id}", daemon=True).start()
        else:
            try:
                runner.invoke(graph, graph_input, config, database_url=self.store.url)
            except HitlError:
                raise
            except Exception as exc:
                raise HitlError(f"The run of {graph_id!r} on thread {thread_id!r} failed: {type(exc).__name__}: {exc}") from exc
        return thread_id

    # ------------------------------------------------------------------ listing

    def pending(
        self,
        limit: int = 50,
        cursor: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        search: str | None = None,
        *,
        waiting_longer_than: float | None = None,
        newest_first: bool = False,
        refresh: bool = True,
        principal: Principal | None = None,
    ) -> Page:
        """One page of threads waiting for a human, oldest first, with the total count.

        Only the returned page's interrupts are decoded. With `principal` (a signed-in
        `hitl.access.Principal`) this is "my queue": threads with an interrupt the principal
        may decide, and `Page.waiting_on_others` counts the rest.
        """
        if not 1 <= limit <= 1000:
            raise InvalidAnswer(f"limit={limit} is out of range; use 1 to 1000.")
        if refresh:
            self.refresh()
        principal = self._acting(principal)
        if principal is not None:
            return my_queue(
                self, principal, limit=limit, cursor=cursor, graph_id=graph_id, kind=kind, search=search,
                waiting_longer_than=waiting_longer_than, newest_first=newest_first,
            )  # fmt: skip
        return waiting_page(
            self.store, limit=limit, cursor=cursor, graph_id=graph_id, kind=kind, search=search,
            waiting_longer_than=waiting_longer_than, newest_first=newest_first,
        )  # fmt: skip

    def threads(
        self,
        status: str | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        graph_id: str | None = None,
        search: str | None = None,
        refresh: bool = True,
        principal: Principal | None = None,
    ) -> tuple[list[ThreadRow], str | None, int]:
        """Threads of any status (waiting, running, completed, failed, resolved), newest first.

        With `principal` (or a signed-in reviewer, see `require_principal`), a thread whose
        interrupts the principal may not see is listed with its id, status and graph only:
        its summary says why it is hidden instead of what it asks.
        """
        if refresh:
            self.refresh()
        rows, next_cursor, total = self.store.list_threads(
            status=status, limit=limit, cursor=cursor, graph_id=graph_id, search=search, newest_first=True
        )
        principal = self._acting(principal)
        if principal is not None:
            rows = self._redacted(rows, principal)
        return rows, next_cursor, total

    def _redacted(self, rows: list[ThreadRow], principal: Principal) -> list[ThreadRow]:
        """`rows` with the summary of each thread the principal may not see replaced by why."""
        ids = [row.thread_id for row in rows if row.summary]
        if not ids:
            return rows
        raw = self.store.pending_interrupts(ids)
        requesters = thread_requesters(self.store, ids)
        hidden: dict[str, str] = {}
        for row in rows:
            requested_by = requesters.get(row.thread_id)
            reason = self._hidden_by(principal, row.thread_id, row.graph_id, raw.get(row.thread_id) or [], requested_by)
            if reason is not None:
                hidden[row.thread_id] = reason
        return [
            replace(row, summary=f"(hidden: {_why_hidden(hidden[row.thread_id])})") if row.thread_id in hidden else row
            for row in rows
        ]

    def _hidden_by(
        self, principal: Principal, thread_id: str, graph_id: str | None, raw: list[RawInterrupt], requested_by: str | None
    ) -> str | None:
        """Why the principal may not see the thread, judged by its interrupts `raw`: hidden
        when it may see none of them (the first refusal's reason); None when it may see one,
        or when there are none to judge by."""
        seen = [self.access.can_see(principal, ReviewItem.of(thread_id, graph_id, pending_interrupt(i), requested_by)) for i in raw]
        if seen and not any(allowed for allowed, _ in seen):
            return next(reason for allowed, reason in seen if not allowed)
        return None

    # ------------------------------------------------------------------ one thread

    def thread(self, thread_id: str, *, history: int = 50, principal: Principal | None = None) -> ThreadView:
        """State, messages, pending interrupts and checkpoint timeline of one thread.

        Raises:
            ThreadNotFound: the thread has no checkpoint.
            NotAuthorized: `principal` may not see any of the thread's pending interrupts
                (nothing of the thread is returned).
        """
        latest = self.store.latest_checkpoint(thread_id)
        if latest is None:
            raise ThreadNotFound(thread_id)
        checkpoint_id, metadata = latest
        raw = self.store.pending_interrupts([thread_id])[thread_id]
        match = self.match_graph(thread_id, metadata, raw)
        principal = self._acting(principal)
        if principal is not None:
            requester = thread_requesters(self.store, [thread_id], latest={thread_id: metadata}).get(thread_id)
            reason = self._hidden_by(principal, thread_id, match.graph_id, raw, requester)
            if reason is not None:
                raise NotAuthorized(reason)
            if not raw:  # nothing pending: what was decided on it says what it is
                hidden = hidden_rows(self.access, principal, self.store.audit_rows(thread_id=thread_id), store=self.store)
                if hidden:
                    raise NotAuthorized(hidden[0][1])
        config = {"configurable": {"thread_id": thread_id}}
        values: dict[str, Any] = {}
        next_nodes: tuple[str, ...] = ()
        undecodable: str | None = None
        try:
            if match.graph_id and not match.note:
                state = self.registry.graph(match.graph_id).get_state(config)
                values = dict(state.values) if isinstance(state.values, dict) else {"value": state.values}
                next_nodes = tuple(state.next)
            else:
                saved = self.store.saver.get_tuple(config)
                if saved is not None:
                    values = {
                        k: v for k, v in saved.checkpoint.get("channel_values", {}).items() if not k.startswith(("branch:", "__"))
                    }
            # Materialise the listing before anything else touches the saver: SqliteSaver.list
            # holds its non-reentrant lock while the generator is open.
            saved_history = list(self.store.saver.list(config, limit=history))
        except HitlError:
            raise
        except Exception as exc:  # a checkpoint or write from a newer or foreign serializer
            undecodable = (
                f"The thread's saved state could not be decoded ({type(exc).__name__}: {exc}); it may have been "
                "written by a newer checkpointer version. It is shown read-only: upgrade the desk's langgraph "
                "packages to read it."
            )
            saved_history = []
        checkpoints = []
        for saved in saved_history:
            cfg = saved.config["configurable"]
            if cfg.get("checkpoint_ns", ""):
                continue
            meta = dict(saved.metadata or {})
            writers = tuple(dict.fromkeys(_node_of_write(w) for w in (saved.pending_writes or []) if _node_of_write(w)))
            checkpoints.append(
                CheckpointInfo(
                    checkpoint_id=cfg["checkpoint_id"],
                    created_at=checkpoint_time(cfg["checkpoint_id"]),
                    step=meta.get("step"),
                    source=meta.get("source"),
                    channels_written=writers,
                    metadata=meta,
                )
            )
        errors = self.store.failed_tasks(thread_id)
        if any(item.answerable for item in raw):
            status = "waiting"
        elif metadata.get("hitl_resolved"):
            status = "resolved"
        elif errors or raw:
            status = "failed"
        elif next_nodes:
            status = "running"
        else:
            status = "completed"
        messages = values.get("messages") or []
        return ThreadView(
            thread_id=thread_id,
            graph_id=match.graph_id,
            status=status,
            values=values,
            messages=list(messages) if isinstance(messages, list) else [],
            interrupts=[pending_interrupt(item) for item in raw],
            next_nodes=next_nodes,
            checkpoints=checkpoints,
            metadata=metadata,
            read_only_reason=match.note or undecodable,
            errors=errors,
            waiting_since=checkpoint_time(checkpoint_id) if raw else None,
            decisions=self.store.audit_rows(thread_id=thread_id),
            votes=self.votes(thread_id),
        )

    def votes(self, thread_id: str) -> list[Any]:
        """Quorum votes recorded on a thread (`hitl.access.Vote`), oldest first."""
        return votes(self.store, thread_id)

    # ------------------------------------------------------------------ deciding

    def resume(
        self,
        thread_id: str,
        answers: dict[str, Any],
        *,
        reviewer: str = "",
        comment: str = "",
        action: str = "decision",
        principal: Principal | None = None,
    ) -> ResumeOutcome:
        """Answer pending interrupts of one thread and resume its graph once.

        Args:
            thread_id: the thread.
            answers: `{interrupt_id: answer}`; answering some of several pending interrupts
                is allowed.
            reviewer: who decides (recorded in the audit log); with `principal`, empty or
                equal to its identity.
            comment: free text recorded with the decision.
            action: the audit action name ("decision", "batch", ...).
            principal: the signed-in `hitl.access.Principal`; its roles, four eyes and quorum
                are enforced. None is local mode: the typed `reviewer`, no checks.

        Raises:
            ThreadNotFound: no such thread.
            InvalidAnswer: an id is not pending, or an answer does not fit; nothing saved.
            AlreadyDecided: another reviewer answered one of these interrupts first.
            UnknownGraph: the thread's graph is not registered or does not load.
            StoreError: the database is read-only or stayed locked; nothing resumed.
            NotAuthorized: `principal` may not decide one of these interrupts (role, four
                eyes, a second vote by the same identity); nothing saved.
            OutcomeUnknown: an earlier resume of this decision may have run a node without
                its result being saved (nothing was run now: `retry(..., accept_repeat=True)`
                or `resolve` it), or this resume did (a node started, then saving failed).
        """
        return resume_thread(
            self, thread_id, answers, reviewer=reviewer, comment=comment, action=action, principal=self._acting(principal)
        )

    def decide(
        self,
        thread_id: str,
        *,
        approve: bool,
        reviewer: str = "",
        comment: str = "",
        interrupt_id: str | None = None,
        action: str = "decision",
        principal: Principal | None = None,
    ) -> ResumeOutcome:
        """One-click approve or reject of a thread's (only, or given) pending interrupt."""
        principal = self._acting(principal)
        if principal is not None:
            reviewer = reviewer or principal.identity

        raw = [i for i in self.store.pending_interrupts([thread_id])[thread_id] if i.answerable]
        answers = self._one_click(thread_id, raw, approve=approve, reviewer=reviewer, comment=comment, interrupt_id=interrupt_id)
        return self.resume(thread_id, answers, reviewer=reviewer, comment=comment, action=action, principal=principal)

    def _one_click(
        self, thread_id: str, raw: list[RawInterrupt], *, approve: bool, reviewer: str, comment: str, interrupt_id: str | None
    ) -> dict[str, Any]:
        """`decide`'s answer, {interrupt_id: answer}, for a thread's answerable pending interrupts `raw`."""
        if not raw:
            if not self.store.thread_exists(thread_id):
                raise ThreadNotFound(thread_id)
            unknown = self.outcome_unknown(thread_id)
            if unknown is not None:
                raise OutcomeUnknown(unknown)
            last = _last_decision(self.store.audit_rows(thread_id=thread_id))
            if last:
                raise AlreadyDecided(
                    last["interrupt_id"],
                    reviewer=last["reviewer"],
                    decided_at=datetime.fromtimestamp(float(last["decided_at"]), timezone.utc),
                    thread_id=thread_id,
                )
            # A resume still in flight (its node ran, its audit row not yet written) holds the claim.
            claim = self.store.decided_claim(thread_id)
            if claim is not None:
                raise AlreadyDecided(claim["interrupt_id"], reviewer=claim["reviewer"], decided_at=claim["claimed_at"],
                                     thread_id=thread_id)
            raise InvalidAnswer(f"Thread {thread_id!r} has no pending interrupt to decide.")
        if interrupt_id is None and len(raw) > 1:
            raise InvalidAnswer(
                f"Thread {thread_id!r} has {len(raw)} pending interrupts; name the one to decide "
                f"(one of {', '.join(i.id for i in raw)})."
            )
        target = next((i for i in raw if interrupt_id in (None, i.id)), None)
        if target is None:
            raise InvalidAnswer(f"Interrupt {interrupt_id!r} is not pending on thread {thread_id!r}.")
        item = pending_interrupt(target)
        latest = self.store.latest_checkpoint(thread_id)
        match = self.match_graph(thread_id, latest[1] if latest else {}, raw)
        if match.graph_id is None or match.note:
            raise UnknownGraph(f"Thread {thread_id!r} cannot be resumed from the desk: {match.note}.")
        graph_id = match.graph_id
        answer = contracts.quick(
            self.contract(item, graph_id), item.kind, item.value, approve=approve, comment=comment, reviewer=reviewer,
            response_schema=item.response_schema,
        )  # fmt: skip
        return {item.id: answer}

    def batch(
        self,
        thread_ids: Sequence[str],
        *,
        approve: bool,
        reviewer: str = "",
        comment: str = "",
        progress: Callable[[int, int, BatchResult], None] | None = None,
        principal: Principal | None = None,
        seen: Mapping[str, str] | None = None,
        chunk_size: int = BATCH_CHUNK,
    ) -> list[BatchResult]:
        """Approve or reject many threads with one comment; one result per thread.

        Each thread is decided as `decide` would (same checks, claims, audit rows and
        outcomes), but `chunk_size` threads at a time share their database work: one read
        of their pending interrupts, one transaction claiming them all, one closing the
        claims and appending the audit rows, one refresh of the index (see
        `hitl.services.resume_batch.resume_many`). `progress(done, total, result)` is called per thread,
        in order, once its chunk is recorded.

        Args:
            seen: thread id -> the interrupt id the reviewer was shown. A thread that has
                moved on to another interrupt since is reported "changed" and not answered:
                a batch never approves a request nobody saw. (The claim and the resume
                re-check the id against the checkpointer, so there is no window between
                check and answer.)
        """
        principal = self._acting(principal)
        if principal is not None:
            reviewer = reviewer or principal.identity
        seen = seen or {}
        results: list[BatchResult] = []
        for chunk in _chunks(thread_ids, max(1, chunk_size)):
            raw = self.store.pending_interrupts(chunk)
            latest = self.store.latest_checkpoints(chunk)
            outcomes: dict[str, BatchResult | ResumeOutcome | HitlError] = {}
            requests: dict[str, dict[str, Any]] = {}
            for thread_id in chunk:
                answerable = [i for i in raw[thread_id] if i.answerable]
                shown = seen.get(thread_id)
                if shown is not None and answerable and shown not in {i.id for i in answerable}:
                    outcomes[thread_id] = BatchResult(
                        thread_id=thread_id,
                        result="changed",
                        message="It moved on to a new request after you selected it; nothing was sent. Review it again.",
                    )
                    continue
                try:
                    requests[thread_id] = self._one_click(
                        thread_id, answerable, approve=approve, reviewer=reviewer, comment=comment, interrupt_id=shown
                    )
                except InvalidAnswer as exc:
                    # Nothing pending and no decision in the audit log yet: another desk may be
                    # resuming it right now (its audit row comes when its resume ends).
                    claim = None if answerable else self.store.decided_claim(thread_id)
                    outcomes[thread_id] = exc if claim is None else AlreadyDecided(
                        claim["interrupt_id"], reviewer=claim["reviewer"], decided_at=claim["claimed_at"], thread_id=thread_id
                    )  # fmt: skip
                except HitlError as exc:
                    outcomes[thread_id] = exc
            if requests:
                outcomes.update(
                    resume_many(
                        self, requests, raw=raw, metadata={t: latest.get(t, ("", {}))[1] for t in requests},
                        reviewer=reviewer, comment=comment, action="batch", principal=principal,
                    )  # fmt: skip
                )
            for thread_id in chunk:
                result = _batch_result(thread_id, outcomes[thread_id])
                results.append(result)
                if progress:
                    progress(len(results), len(thread_ids), result)
        return results

    def retry(
        self, thread_id: str, *, reviewer: str = "", comment: str = "", principal: Principal | None = None, accept_repeat: bool = False
    ) -> ResumeOutcome:
        """Run a failed thread again; interrupts answered before the failure keep their answers.

        A thread whose decision is outcome unknown (`outcome_unknown`) is resumed again with
        that decision's answers only with `accept_repeat=True`: the nodes it started may then
        run twice (`UnknownOutcome.warning` says which). Without it, `InvalidAnswer` says so.
        """
        reviewer = self._authorize_thread(thread_id, reviewer, principal)

        return retry_thread(self, thread_id, reviewer=reviewer, comment=comment, accept_repeat=accept_repeat)

    def outcome_unknown(self, thread_id: str) -> UnknownOutcome | None:
        """The thread's outcome-unknown decision, or None: a resume that may have run a node
        whose result was not saved; plain decisions on it are refused until it is retried
        (`retry(..., accept_repeat=True)`) or resolved. See `hitl.outcome`."""
        return unknown_outcome(self, thread_id)

    def resolve(self, thread_id: str, *, reviewer: str = "", reason: str, principal: Principal | None = None) -> None:
        """Close a thread without resuming it (`update_state(..., as_node=END)`), with a reason."""
        reviewer = self._authorize_thread(thread_id, reviewer, principal)

        resolve_thread(self, thread_id, reviewer=reviewer, reason=reason)

    def _authorize_thread(self, thread_id: str, reviewer: str, principal: Principal | None) -> str:
        """For retry/resolve: the principal must be allowed to decide every pending interrupt."""
        principal = self._acting(principal)
        if principal is None:
            return reviewer
        if reviewer and reviewer != principal.identity:
            raise NotAuthorized(
                f"Reviewer {reviewer!r} is not the signed-in identity {principal.identity!r}; "
                "decisions are recorded under the signed-in identity."
            )
        self.access.authorize(principal, self.review_items(thread_id))
        return principal.identity

    # ------------------------------------------------------------------ history

    def history(
        self,
        *,
        thread_id: str | None = None,
        reviewer: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        principal: Principal | None = None,
    ) -> pd.DataFrame:
        """The audit log as a DataFrame, one row per decision, oldest first.

        With `principal` (or in login mode), rows about items it may not see are left out,
        except its own decisions.
        """
        rows = self.store.audit_rows(
            thread_id=thread_id, reviewer=reviewer, graph_id=graph_id, kind=kind, outcome=outcome, since=since, until=until
        )
        principal = self._acting(principal)
        if principal is not None and self.access.enabled:
            hidden = {id(row) for row, _ in hidden_rows(self.access, principal, rows, store=self.store)}
            rows = [row for row in rows if id(row) not in hidden]
        frame = pd.DataFrame(rows, columns=list(_HISTORY_COLUMNS))
        frame["decided_at"] = pd.to_datetime(frame["decided_at"].astype("float64"), unit="s", utc=True)
        return frame

    def verify_audit(self) -> ChainReport:
        """Check the audit log's hash chain and head; returns an `audit.ChainReport`.

        Names the first edited, inserted or deleted row; rows sealed with HITL_AUDIT_KEY are
        checked with it when it is set.
        """
        return verify_chain(self.store.audit_rows(), head=self.store.audit_head(), key=audit_key())


_HISTORY_COLUMNS = (
    "seq", "thread_id", "interrupt_id", "graph_id", "kind", "action", "reviewer", "comment",
    "answer", "payload", "decided_at", "waited_seconds", "outcome", "error", "prev_hash", "row_hash",
)  # fmt: skip


def _why_hidden(reason: str) -> str:
    """The core of an access refusal, short enough for a table cell:
    "bob (roles: none) may not decide X: tool X needs one of the roles finance. Ask ..." ->
    "tool X needs one of the roles finance"."""
    decided = reason.split(" may not decide ", 1)[-1]
    why = decided.split(": ", 1)[1] if ": " in decided else decided
    return why.split(". Ask ", 1)[0].rstrip(".")


def _chunks(thread_ids: Sequence[str], size: int) -> list[list[str]]:
    """Consecutive chunks of at most `size` ids; a repeated id starts a new chunk, so it is
    decided after (and sees) its first occurrence, as one-by-one decisions would."""
    chunks: list[list[str]] = [[]]
    members: set[str] = set()
    for thread_id in thread_ids:
        if len(chunks[-1]) >= size or thread_id in members:
            chunks.append([])
            members = set()
        chunks[-1].append(thread_id)
        members.add(thread_id)
    return [chunk for chunk in chunks if chunk]


def _batch_result(thread_id: str, outcome: BatchResult | ResumeOutcome | HitlError) -> BatchResult:
    if isinstance(outcome, BatchResult):
        return outcome
    if isinstance(outcome, ResumeOutcome):
        return BatchResult(thread_id=thread_id, result=outcome.status, message=outcome.error or outcome.note or "")
    labels = ((AlreadyDecided, "already decided"), (ThreadNotFound, "not found"), (InvalidAnswer, "invalid"),
              (NotAuthorized, "not authorized"), (OutcomeUnknown, "outcome unknown"))  # fmt: skip
    label = next((label for kind, label in labels if isinstance(outcome, kind)), "failed")
    return BatchResult(thread_id=thread_id, result=label, message=str(outcome))  # type: ignore[arg-type]


def _last_decision(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    decided = [r for r in rows if r["outcome"] in ("completed", "waiting", "resolved")]
    return decided[-1] if decided else None


def _node_of_write(write: Any) -> str | None:
    # pending_writes are (task_id, channel, value); the channel names what was written.
    try:
        _, channel, _ = write
    except (TypeError, ValueError):
        return None
    if channel.startswith("branch:to:"):
        return None
    return None if channel.startswith("__") else channel
