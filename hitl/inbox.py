"""`Inbox`: the desk's public facade over the store, the registry and the resume logic."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from hitl import runner
from hitl.services.resolve import resolve as resolve_thread
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
from hitl.errors import HitlError, InvalidAnswer, NotAuthorized, ThreadNotFound
from hitl.outcome import UnknownOutcome
from hitl.reading import pending_interrupt, waiting_page
from hitl.services.access import my_queue
from hitl.services.batch import BATCH_CHUNK, decide_many
from hitl.services.one_click import one_click_answers
from hitl.services.thread_view import read_thread
from hitl.services.visibility import redacted
from hitl.store import ThreadRow

__all__ = [
    "Inbox",
    "Page",
    "PendingThread",
    "PendingInterrupt",
    "ThreadView",
    "CheckpointInfo",
    "ResumeOutcome",
    "BatchResult",
    "ActingInbox",
]


class Inbox(Desk):
    """The review queue over one checkpointer database and one graph registry.

    Open with `Inbox.open()`; it reads the environment (HITL_DATABASE_URL, HITL_GRAPHS,
    HITL_CONFIG) at call time, and keyword arguments override it. The listing, reading and
    deciding use cases live here; what they share (store, registry, index, hooks) is `Desk`.
    """

    def as_principal(self, principal: Principal) -> ActingInbox:
        """This desk's use cases as `principal`, explicitly: `inbox.as_principal(p).pending()`.

        Every listing, reading and deciding call of the returned facade passes `principal`, so
        its roles, four eyes and quorum apply whatever `require_principal` installed on this
        (shared, cached) Inbox. The API adapter and background code use this.
        """
        if principal is None:
            raise NotAuthorized("as_principal needs a principal; for local mode call the Inbox itself.")
        return ActingInbox(self, principal)

    def require_principal(self, provider: Callable[[], Any] | None) -> None:
        """Login mode: calls that pass no `principal` act as `provider()` (the signed-in reviewer).

        The UI installs this so every page is checked without threading the principal through
        each call; when `provider()` returns None (nobody signed in) those calls raise
        `NotAuthorized` instead of falling back to local mode. `None` uninstalls it. Code that
        knows its principal uses `as_principal` instead.
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
            rows = redacted(self, rows, principal)
        return rows, next_cursor, total

    # ------------------------------------------------------------------ one thread

    def thread(self, thread_id: str, *, history: int = 50, principal: Principal | None = None) -> ThreadView:
        """State, messages, pending interrupts and checkpoint timeline of one thread.

        Raises:
            ThreadNotFound: the thread has no checkpoint.
            NotAuthorized: `principal` may not see any of the thread's pending interrupts
                (nothing of the thread is returned).
        """
        return read_thread(self, thread_id, history=history, principal=self._acting(principal))

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
        answers = one_click_answers(self, thread_id, raw, approve=approve, reviewer=reviewer, comment=comment,
                                    interrupt_id=interrupt_id)  # fmt: skip
        return self.resume(thread_id, answers, reviewer=reviewer, comment=comment, action=action, principal=principal)

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
        return decide_many(
            self, thread_ids, approve=approve, reviewer=reviewer, comment=comment, progress=progress, principal=principal,
            seen=seen or {}, chunk_size=chunk_size,
        )  # fmt: skip

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


class ActingInbox:
    """An `Inbox` acting as one principal (`Inbox.as_principal`): the same use cases, each
    called with that principal; everything else (store, registry, settings, refresh, hooks)
    is the Inbox's own."""

    def __init__(self, inbox: Inbox, principal: Principal) -> None:
        self._inbox = inbox
        self.principal = principal

    @property
    def inbox(self) -> Inbox:
        """The Inbox this facade acts on."""
        return self._inbox

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inbox, name)

    def review_items(self, thread_id: str) -> list[ReviewItem]:
        return self._inbox.review_items(thread_id, principal=self.principal)

    def pending(self, limit: int = 50, cursor: str | None = None, graph_id: str | None = None, kind: str | None = None,
                search: str | None = None, **options: Any) -> Page:  # fmt: skip
        return self._inbox.pending(limit, cursor, graph_id, kind, search, principal=self.principal, **options)

    def threads(self, status: str | None = None, **options: Any) -> tuple[list[ThreadRow], str | None, int]:
        return self._inbox.threads(status, principal=self.principal, **options)

    def thread(self, thread_id: str, *, history: int = 50) -> ThreadView:
        return self._inbox.thread(thread_id, history=history, principal=self.principal)

    def resume(self, thread_id: str, answers: dict[str, Any], **options: Any) -> ResumeOutcome:
        return self._inbox.resume(thread_id, answers, principal=self.principal, **options)

    def decide(self, thread_id: str, *, approve: bool, **options: Any) -> ResumeOutcome:
        return self._inbox.decide(thread_id, approve=approve, principal=self.principal, **options)

    def batch(self, thread_ids: Sequence[str], *, approve: bool, **options: Any) -> list[BatchResult]:
        return self._inbox.batch(thread_ids, approve=approve, principal=self.principal, **options)

    def retry(self, thread_id: str, **options: Any) -> ResumeOutcome:
        return self._inbox.retry(thread_id, principal=self.principal, **options)

    def resolve(self, thread_id: str, *, reason: str, reviewer: str = "") -> None:
        self._inbox.resolve(thread_id, reviewer=reviewer, reason=reason, principal=self.principal)

    def history(self, **filters: Any) -> pd.DataFrame:
        return self._inbox.history(principal=self.principal, **filters)

