"""Forks: rerun a finished thread from one of its decisions with another answer, and compare."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hitl.qa import forks
from hitl.qa.analytics import DecisionAnalytics, decision_analytics
from hitl.qa.core import QaCore
from hitl.storage.qa import ForkRow


class ForkUseCases(QaCore):
    """Forking threads from their decisions."""

    def answered_interrupts(self, thread_id: str, *, principal: Any = None) -> list[forks.AnsweredInterrupt]:
        """The thread's answered interrupts: the points it can be forked at."""
        self.inbox.thread(thread_id, principal=principal)  # access check
        return forks.answered_interrupts(self.inbox, self.storage, thread_id)

    def fork(
        self,
        thread_id: str,
        interrupt_id: str,
        *,
        reviewer: str,
        answer: Any = forks._UNSET,
        state_update: Mapping[str, Any] | None = None,
        as_node: str | None = None,
        notify: bool = False,
        queue: str | None = None,
        principal: Any = None,
    ) -> ForkRow:
        """Run the thread again from where `interrupt_id` waited, with another answer (or edited
        state), on a new thread; the source thread is left untouched. With `queue`, the fork is
        added to that QA queue so reviewers score it beside the original."""
        who = self.who_of(reviewer, principal)
        self.inbox.thread(thread_id, principal=principal)  # access check
        row = forks.fork_thread(self.inbox, self.storage, thread_id=thread_id, interrupt_id=interrupt_id, reviewer=who,
                                answer=answer, state_update=state_update, as_node=as_node, notify=notify, clock=self.clock)  # fmt: skip
        if queue:
            self.add_item(queue, row.fork_thread_id, reviewer=who, principal=principal)
        return row

    def continue_fork(self, fork_thread_id: str, answers: Mapping[str, Any], *, reviewer: str, principal: Any = None) -> ForkRow:
        return forks.continue_fork(self.inbox, self.storage, fork_thread_id, answers, reviewer=self.who_of(reviewer, principal))

    def forks(self, thread_id: str | None = None) -> list[ForkRow]:
        """Forks of one thread (or all), oldest first."""
        return self.storage.forks(source_thread_id=thread_id)

    def compare(self, fork_thread_id: str, *, principal: Any = None) -> forks.Comparison:
        return forks.compare(self.inbox, self.storage, fork_thread_id, principal=principal)

    def decision_analytics(self, rows: Any = None, *, principal: Any = None) -> DecisionAnalytics:
        """Approve / edit / reject rates and median time to decide per graph and tool, and the
        most-edited fields, over production decisions (forks left out)."""
        frame = self.inbox.history(principal=principal) if rows is None else rows
        return decision_analytics(frame, exclude_threads=self.storage.fork_thread_ids())
