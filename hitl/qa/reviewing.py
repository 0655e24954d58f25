"""Scoring: the next item for a reviewer, its view, and a submitted score."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hitl.qa import datasets
from hitl.qa.queueing import QueueUseCases
from hitl.qa.values import ItemView
from hitl.storage.qa import SubmissionRow


class ReviewUseCases(QueueUseCases):
    """Reserving, showing and scoring items."""

    def next_item(self, name: str, *, reviewer: str, principal: Any = None) -> ItemView | None:
        """The next item for this reviewer, reserved for them: one they hold already, else one
        they have neither scored nor skipped that still needs scores. None when none is left."""
        who = self.who_of(reviewer, principal)
        spec = self.queue(name)
        if not self.inbox.store.read_only:
            self.sync_if_stale(name)  # threads keep finishing: sample them as reviewers ask for work
        now = self.clock()
        thread_id = self.storage.reserve_next(name, who, per_item=spec.reviewers_per_item, now=now, until=now + spec.reservation_seconds)
        if thread_id is None:
            return None
        return self.item(name, thread_id, viewer=who, principal=principal)

    def open_item(self, name: str, thread_id: str, *, reviewer: str, principal: Any = None) -> ItemView:
        """Open a given item for scoring (reserving it), e.g. from a link."""
        who = self.who_of(reviewer, principal)
        spec = self.queue(name)
        self.item_row(name, thread_id)
        now = self.clock()
        self.storage.reserve(name, thread_id, who, now=now, until=now + spec.reservation_seconds)
        return self.item(name, thread_id, viewer=who, principal=principal)

    def release(self, name: str, thread_id: str, *, reviewer: str, principal: Any = None) -> None:
        self.storage.release(name, thread_id, self.who_of(reviewer, principal))

    def skip(self, name: str, thread_id: str, *, reviewer: str, principal: Any = None) -> None:
        """Skip an item: released, and not offered to this reviewer again (others still get it)."""
        self.queue(name)
        self.storage.skip(name, thread_id, self.who_of(reviewer, principal), now=self.clock())

    def item(self, name: str, thread_id: str, *, viewer: str, principal: Any = None) -> ItemView:
        """One item as `viewer` may see it (blind queues hide other scores until viewer scored)."""
        who = self.who_of(viewer, principal)
        spec = self.queue(name)
        row = self.item_row(name, thread_id)
        view = self.inbox.thread(thread_id, principal=principal)
        submissions = self.storage.submissions(name, thread_id)
        mine = next((s for s in submissions if s.reviewer == who), None)
        others = [s for s in submissions if s.reviewer != who]
        hide = spec.blind and mine is None
        adjudication = self.storage.adjudications(name).get(thread_id)
        output, source = datasets.final_output(view.values)
        fork_rows = self.storage.forks(fork_thread_id=thread_id)
        reservations = [until for tid, reviewer, until in self.storage.reservations(name, now=self.clock()) if tid == thread_id and reviewer == who]
        latest = self.inbox.store.latest_checkpoint(thread_id)
        return ItemView(
            queue=spec, item=row, status=view.status, graph_id=view.graph_id, messages=view.messages, values=view.values,
            final_output=output, output_source=source, decisions=self.decisions_of(view.decisions, fork_rows),
            rubrics=[self.config.rubrics[r] for r in spec.rubrics], mine=mine, others=[] if hide else others,
            hidden=len(others) if hide else 0, adjudication=None if hide else adjudication,
            reserved_until=reservations[0] if reservations else None, fork=fork_rows[0] if fork_rows else None,
            forks=self.storage.forks(source_thread_id=thread_id), moved_on=bool(latest and latest[0] != row.checkpoint_id),
        )  # fmt: skip

    def submit(
        self,
        name: str,
        thread_id: str,
        *,
        reviewer: str,
        scores: Mapping[str, Any],
        correction: Any = None,
        comment: str = "",
        principal: Any = None,
    ) -> SubmissionRow:
        """Record a reviewer's scores (every required rubric of the queue) and optional correction.

        Raises:
            InvalidAnswer: a score does not fit its rubric (`field_errors` per rubric), a rubric
                is unknown, the thread is not in the queue, or the reviewer already scored it.
        """
        who = self.who_of(reviewer, principal)
        self.item_row(name, thread_id)
        clean = self.scores_of(name, scores, partial=False)
        has_correction = correction is not None and not (isinstance(correction, str) and not correction.strip())
        self.storage.submit(name, thread_id, who, scores=clean, correction=correction if has_correction else None,
                            has_correction=has_correction, comment=comment or "", now=self.clock())  # fmt: skip
        return next(s for s in self.storage.submissions(name, thread_id) if s.reviewer == who)
