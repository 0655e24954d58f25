"""QA use cases: queues, next item, scores, agreement, adjudication, exports, forks, analytics.

    from hitl import Inbox
    from hitl.qa import QA

    qa = QA.of(Inbox.open())                       # reads [qa] of HITL_CONFIG (validated here)
    qa.sync("email-weekly")                        # sample finished threads into the queue
    item = qa.next_item("email-weekly", reviewer="alice")   # reserved for alice
    qa.submit("email-weekly", item.thread_id, reviewer="alice", scores={"correct": True, "tone": "friendly"})
    qa.agreement("email-weekly")                   # Krippendorff's alpha + Cohen's kappa per rubric
    qa.adjudicate("email-weekly", thread_id, adjudicator="carol", scores={"tone": "neutral"})
    text = qa.export("email-weekly", format="jsonl")
    fork = qa.fork(thread_id, interrupt_id, answer={"approved": False}, reviewer="alice")
    qa.compare(fork.fork_thread_id)

Configuration (HITL_CONFIG):

    [qa]
    adjudicators = ["carol@example.com", "*@qa-leads.example.com"]   # identity globs
    adjudicator_roles = ["qa_lead"]          # or roles from [access]; neither set: anyone (local mode)
    [[qa.rubrics]]  ...                      # hitl.qa.rubrics; without any, DEFAULT_RUBRICS
    [[qa.queues]]   ...                      # hitl.qa.queues; queues can also be created at run time

Sampling: `sync` adds the newly finished threads that match and fall in the sample;
`next_item` runs it when the queue was last sampled over a minute ago, so items keep coming.

Blind review: in a blind queue a reviewer sees no other reviewer's scores of an item (nor its
adjudication) until they have submitted their own; `item()` leaves them out and says how many
were hidden. Reservations: `next_item` holds the item for the queue's `reservation_minutes`, so
with N reviewers per item no more than N people work on it at once; a reservation nobody submits
simply lapses and the item is offered again.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from hitl.inbox import Inbox
from hitl.qa.forking import ForkUseCases
from hitl.qa.results import ResultUseCases
from hitl.qa.reviewing import ReviewUseCases

__all__ = ["QA"]


_instances: weakref.WeakKeyDictionary[Any, QA] = weakref.WeakKeyDictionary()
_instances_lock = threading.Lock()


class QA(ReviewUseCases, ResultUseCases, ForkUseCases):
    """QA of agent outputs over one desk (`Inbox`).

    The use cases are grouped by responsibility: queues and sampling (`hitl.qa.queueing`),
    scoring (`hitl.qa.reviewing`), results and exports (`hitl.qa.results`), forks
    (`hitl.qa.forking`); what they share is `hitl.qa.core.QaCore`.
    """

    @classmethod
    def of(cls, inbox: Inbox) -> QA:
        """The QA desk of `inbox` (one per Inbox, created on first use)."""
        with _instances_lock:
            qa = _instances.get(inbox)
            if qa is None:
                qa = _instances[inbox] = cls(inbox)
            return qa
