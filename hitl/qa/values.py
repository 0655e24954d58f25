"""The QA service's configuration (`[qa]` of HITL_CONFIG) and the views it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hitl.errors import HitlError
from hitl.qa.analytics import DecisionSummary
from hitl.qa.queues import QueueSpec, parse_queues
from hitl.qa.rubrics import Rubric, parse_rubrics
from hitl.storage.qa import AdjudicationRow, ForkRow, ItemRow, SubmissionRow

__all__ = [
    "QaConfig",
    "load_qa_config",
    "DEFAULT_RUBRICS",
    "QueueInfo",
    "ItemView",
    "Decision",
    "Progress",
    "ReviewerProgress",
    "Disagreement",
]

DEFAULT_RUBRICS = (
    {"name": "correct", "type": "boolean", "instructions": "Is the agent's final output right and complete?"},
    {"name": "quality", "type": "numeric", "min": 1, "max": 5, "instructions": "Overall quality, 1 (poor) to 5 (excellent)."},
    {"name": "notes", "type": "text", "instructions": "Anything the agent should have done differently."},
)
"""Rubrics used when HITL_CONFIG defines no [[qa.rubrics]] (so the demo works out of the box)."""

@dataclass(frozen=True, kw_only=True)
class QaConfig:
    """The `[qa]` section of HITL_CONFIG, validated."""

    rubrics: dict[str, Rubric]
    queues: dict[str, QueueSpec]
    adjudicators: tuple[str, ...] = ()
    adjudicator_roles: tuple[str, ...] = ()
    default_rubrics: bool = False
    """No [[qa.rubrics]] were configured: `DEFAULT_RUBRICS` are in use."""


def load_qa_config(policy: Mapping[str, Any]) -> QaConfig:
    """Read and check `[qa]`, `[[qa.rubrics]]` and `[[qa.queues]]`.

    Raises:
        HitlError: anything malformed; the message names the entry, the bad value and the fix.
    """
    section = policy.get("qa", {}) or {}
    if not isinstance(section, Mapping):
        raise HitlError('[qa] in HITL_CONFIG must be a table, e.g. [qa]\\nadjudicators = ["lead@example.com"].')
    unknown = sorted(set(section) - {"rubrics", "queues", "adjudicators", "adjudicator_roles"})
    if unknown:
        raise HitlError(f"[qa] has unknown key(s) {', '.join(unknown)}; allowed: adjudicators, adjudicator_roles, rubrics, queues.")
    configured = section.get("rubrics")
    rubrics = parse_rubrics(configured) if configured else parse_rubrics(list(DEFAULT_RUBRICS), where="DEFAULT_RUBRICS")
    queues = parse_queues(section.get("queues"), rubrics=rubrics)
    lists = {}
    for key in ("adjudicators", "adjudicator_roles"):
        value = section.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise HitlError(f"[qa] {key} must be a list of names, e.g. {key} = [\"lead@example.com\"]; got {value!r}.")
        lists[key] = tuple(v.strip() for v in value)
    return QaConfig(rubrics=rubrics, queues=queues, default_rubrics=not configured, **lists)


@dataclass(frozen=True, kw_only=True)
class QueueInfo:
    spec: QueueSpec
    source: str
    """"config" (HITL_CONFIG) or who created it at run time ("page", "api", "cli")."""
    created_by: str
    created_at: float
    synced_at: float | None


@dataclass(frozen=True, kw_only=True)
class Decision:
    """A HITL decision taken on the item's thread, read against what the agent proposed."""

    interrupt_id: str
    kind: str
    reviewer: str
    decided_at: float | None
    comment: str
    payload: Any
    answer: Any
    outcome: str
    summary: DecisionSummary
    fork: bool = False
    """True for the answer a QA fork gave instead of the original (not a production decision)."""


@dataclass(frozen=True, kw_only=True)
class ItemView:
    """Everything the QA page shows for one item, as `viewer` may see it."""

    queue: QueueSpec
    item: ItemRow
    status: str
    graph_id: str | None
    messages: list[Any]
    values: dict[str, Any]
    final_output: Any
    output_source: str
    decisions: list[Decision]
    rubrics: list[Rubric]
    mine: SubmissionRow | None
    others: list[SubmissionRow]
    hidden: int
    """Other reviewers' submissions left out because the queue is blind and `viewer` has not scored yet."""
    adjudication: AdjudicationRow | None
    reserved_until: float | None
    fork: ForkRow | None
    forks: list[ForkRow] = field(default_factory=list)
    moved_on: bool = False
    """The thread has a newer checkpoint than the one sampled (it was retried or continued)."""


@dataclass(frozen=True, kw_only=True)
class ReviewerProgress:
    reviewer: str
    submitted: int
    skipped: int
    holding: int


@dataclass(frozen=True, kw_only=True)
class Progress:
    queue: str
    items: int
    target: int
    """Submissions wanted: items x reviewers_per_item."""
    submissions: int
    complete: int
    """Items with reviewers_per_item submissions (or adjudicated)."""
    in_progress: int
    untouched: int
    adjudicated: int
    disagreements: int
    """Complete items whose reviewers disagree on a compared rubric and that nobody adjudicated yet."""
    reserved: int
    reviewers: list[ReviewerProgress]


@dataclass(frozen=True, kw_only=True)
class Disagreement:
    thread_id: str
    disagreement: float
    """0 (all agree) .. 1 (as far apart as the rubrics allow), the worst rubric's."""
    rubrics: dict[str, float]
    scores: dict[str, dict[str, Any]]
    """{reviewer: {rubric: value}}."""
    adjudication: AdjudicationRow | None = None
