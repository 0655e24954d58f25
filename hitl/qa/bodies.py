"""The REST bodies of QA (pydantic): what `hitl.qa.api` reads and returns."""

from __future__ import annotations

from typing import Any, Literal
from pydantic import BaseModel, ConfigDict, Field


class RubricOut(BaseModel):
    name: str
    type: str
    instructions: str
    labels: list[str] = []
    ordered: bool = False
    min: float | None = None
    max: float | None = None
    integer: bool = False
    required: bool = True
    level: str | None = Field(description="nominal | ordinal | interval: how agreement is computed; null for text.")


class QueueOut(BaseModel):
    name: str
    rubrics: list[RubricOut]
    source: str = Field(description='"config" (HITL_CONFIG) or who created it at run time ("page", "api", "cli").')
    spec: dict[str, Any]
    items: int
    submissions: int
    target: int


class QueueIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "weekly", "graphs": ["email_approval"], "sample_rate": 0.2, "seed": 7, "rubrics": ["correct"],
         "reviewers_per_item": 2, "blind": True}]})  # fmt: skip

    name: str
    description: str = ""
    graphs: list[str] = []
    nodes: list[str] = []
    outcomes: list[Literal["completed", "failed", "resolved", "rejected", "edited"]] = []
    since: str | None = None
    until: str | None = None
    metadata: dict[str, Any] = {}
    state: dict[str, Any] = {}
    sample_rate: float = 1.0
    seed: int = 0
    rubrics: list[str] = []
    reviewers_per_item: int = 1
    blind: bool = True
    reservation_minutes: float = 15.0
    include_forks: bool = False


class SubmissionOut(BaseModel):
    reviewer: str
    scores: dict[str, Any]
    correction: Any = None
    has_correction: bool
    comment: str
    submitted_at: float


class AdjudicationOut(BaseModel):
    adjudicator: str
    scores: dict[str, Any]
    correction: Any = None
    has_correction: bool
    comment: str
    decided_at: float


class DecisionOut(BaseModel):
    interrupt_id: str
    kind: str
    reviewer: str
    decided_at: float | None
    comment: str
    payload: Any
    answer: Any
    outcome: str
    verdict: str
    changes: list[dict[str, Any]] = Field(description="Fields the reviewer changed: {path, before, after}.")
    fork: bool


class ForkOut(BaseModel):
    fork_thread_id: str
    source_thread_id: str
    source_checkpoint_id: str
    interrupt_id: str | None
    graph_id: str | None
    mode: str
    answer: Any
    original_answer: Any
    state_update: Any
    as_node: str | None
    created_by: str
    created_at: float
    status: str
    error: str | None
    notify: bool


class ItemOut(BaseModel):
    queue: str
    thread_id: str
    graph_id: str | None
    checkpoint_id: str
    status: str
    is_fork: bool
    final_output: Any
    output_source: str
    messages: list[dict[str, Any]]
    values: dict[str, Any]
    decisions: list[DecisionOut]
    rubrics: list[RubricOut]
    mine: SubmissionOut | None
    others: list[SubmissionOut]
    hidden: int = Field(description="Other reviewers' submissions hidden because the queue is blind and you have not scored yet.")
    adjudication: AdjudicationOut | None
    reserved_until: float | None
    fork: ForkOut | None
    forks: list[ForkOut]


class NextOut(BaseModel):
    item: ItemOut | None = Field(description="The item reserved for you; null when nothing is left for you in this queue.")


class ScoresIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"scores": {"correct": True, "tone": "friendly"}, "correction": "Dear Dana, ...", "comment": "tone ok"}]})  # fmt: skip

    scores: dict[str, Any]
    correction: Any = None
    comment: str = ""


class PairOut(BaseModel):
    reviewer_a: str
    reviewer_b: str
    kappa: float | None
    n_items: int
    observed_agreement: float | None
    reason: str | None


class AgreementOut(BaseModel):
    rubric: str
    level: str | None
    alpha: float | None = Field(description="Krippendorff's alpha (the `krippendorff` package); null when undefined (see reason).")
    n_items: int
    n_ratings: int
    n_reviewers: int
    pairs: list[PairOut] = Field(description="Cohen's kappa per pair of reviewers (scikit-learn), over the items both scored.")
    reason: str | None


class ProgressOut(BaseModel):
    queue: str
    items: int
    target: int
    submissions: int
    complete: int
    in_progress: int
    untouched: int
    adjudicated: int
    disagreements: int
    reserved: int
    reviewers: list[dict[str, Any]]


class DisagreementOut(BaseModel):
    thread_id: str
    disagreement: float
    rubrics: dict[str, float]
    scores: dict[str, dict[str, Any]]
    adjudication: AdjudicationOut | None


class AdjudicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[str, Any]
    correction: Any = None
    comment: str = ""


class ForkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"interrupt_id": "<id from answered-interrupts>", "answer": {"approved": False, "reason": "Wrong recipient"}}]})  # fmt: skip

    interrupt_id: str
    answer: Any = Field(default=None, description="The other answer; with state_update, omit it to reuse the original.")
    state_update: dict[str, Any] | None = None
    as_node: str | None = None
    queue: str | None = Field(default=None, description="Also add the fork to this QA queue.")
    notify: bool = Field(default=False, description="Send a decision_made webhook for the fork's answer (off: forks are experiments).")


class AnsweredOut(BaseModel):
    checkpoint_id: str
    interrupt_id: str
    node: str | None
    kind: str
    value: Any
    answer: Any
    reviewer: str | None
    comment: str
    decided_at: float | None


class BranchOut(BaseModel):
    thread_id: str
    status: str
    final_output: Any
    messages_after_fork: list[dict[str, Any]]
    tool_calls_after_fork: list[dict[str, Any]]
    answer: Any


class CompareOut(BaseModel):
    fork: ForkOut
    source: BranchOut
    branch: BranchOut
    state_changes: list[dict[str, Any]]


class AnalyticsOut(BaseModel):
    decisions: int
    by_graph: list[dict[str, Any]]
    by_tool: list[dict[str, Any]]
    edited_fields: list[dict[str, Any]]
