"""QA of agent outputs: score finished threads, correct them, measure agreement, fork a thread.

    from hitl import Inbox
    from hitl.qa import QA

    qa = QA.of(Inbox.open())
    item = qa.next_item("weekly", reviewer="alice")
    qa.submit("weekly", item.item.thread_id, reviewer="alice", scores={"correct": True})

Layers, top down: `api` (REST router) and `cli` (`python -m hitl qa ...`) -> `service` (the use
cases, `QA`) -> `forks` (branching threads) and `storage` (every hitl_qa_* SQL statement) ->
`rubrics`, `queues`, `agreement`, `analytics`, `datasets` (pure: no SQL, no Streamlit).
"""

from __future__ import annotations

from hitl.qa.agreement import PairKappa, Rating, RubricAgreement
from hitl.qa.analytics import DecisionAnalytics, DecisionSummary, FieldChange, summarize_decision
from hitl.qa.datasets import EXPORT_FORMATS, ExportFormat
from hitl.qa.forks import AnsweredInterrupt, Branch, Comparison
from hitl.qa.queues import QueueSpec
from hitl.qa.rubrics import Rubric
from hitl.qa.service import QA
from hitl.qa.values import (
    DEFAULT_RUBRICS,
    Decision,
    Disagreement,
    ItemView,
    Progress,
    QaConfig,
    QueueInfo,
    ReviewerProgress,
    load_qa_config,
)
from hitl.storage.qa import AdjudicationRow, ForkRow, ItemRow, SubmissionRow

__all__ = [
    "QA",
    "QaConfig",
    "load_qa_config",
    "DEFAULT_RUBRICS",
    "Rubric",
    "QueueSpec",
    "QueueInfo",
    "ItemRow",
    "ItemView",
    "Decision",
    "SubmissionRow",
    "AdjudicationRow",
    "Progress",
    "ReviewerProgress",
    "Disagreement",
    "Rating",
    "RubricAgreement",
    "PairKappa",
    "DecisionAnalytics",
    "DecisionSummary",
    "FieldChange",
    "summarize_decision",
    "ForkRow",
    "AnsweredInterrupt",
    "Branch",
    "Comparison",
    "EXPORT_FORMATS",
    "ExportFormat",
]
