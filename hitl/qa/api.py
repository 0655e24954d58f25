"""REST endpoints for QA of agent outputs: an `APIRouter` that `hitl.api.create_app` includes.

Every route is under `/qa` (tag `qa`) and uses the desk's bearer tokens: reading needs the
`read` scope; scoring, adjudicating, syncing, creating queues and forking need `decide`. The
token's reviewer is the one recorded on scores. Blind queues hide other reviewers' scores from
a token until it has submitted its own; `/disagreements` and `/adjudication` need an adjudicator
(`[qa] adjudicators` / `adjudicator_roles`). Errors share the desk's one body
(`{"error", "message", "details"}`).

    POST /qa/queues/{queue}/next                       -> the next item for me, reserved (item null when none)
    POST /qa/queues/{queue}/items/{thread_id}/scores   {"scores": {...}, "correction"?, "comment"?}
    GET  /qa/queues/{queue}/agreement                  -> alpha and kappa per rubric, with item counts
    GET  /qa/queues/{queue}/export?format=jsonl|csv|openai
    POST /qa/threads/{thread_id}/forks                 {"interrupt_id", "answer" | "state_update", ...}
"""

# No `from __future__ import annotations`: FastAPI reads these routes' annotations when the
# router is built, and they name the dependencies passed to `qa_router`.

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response

from hitl.jsondata import json_safe
from hitl.qa.bodies import AdjudicationIn, AdjudicationOut, AgreementOut, AnalyticsOut, AnsweredOut, BranchOut, CompareOut, DecisionOut, DisagreementOut, ForkIn, ForkOut, ItemOut, NextOut, ProgressOut, QueueIn, QueueOut, RubricOut, ScoresIn, SubmissionOut
from hitl.qa.datasets import message_dicts
from hitl.qa.forks import AnsweredInterrupt, Comparison
from hitl.qa.service import QA
from hitl.qa.values import ItemView
from hitl.storage.qa import AdjudicationRow, ForkRow, SubmissionRow

__all__ = ["qa_router"]

_MEDIA = {"jsonl": "application/x-ndjson", "openai": "application/x-ndjson", "csv": "text/csv"}


def _submission(row: SubmissionRow) -> SubmissionOut:
    return SubmissionOut(reviewer=row.reviewer, scores=row.scores, correction=json_safe(row.correction), has_correction=row.has_correction,
                         comment=row.comment, submitted_at=row.submitted_at)  # fmt: skip


def _adjudication(row: AdjudicationRow | None) -> AdjudicationOut | None:
    if row is None:
        return None
    return AdjudicationOut(adjudicator=row.adjudicator, scores=row.scores, correction=json_safe(row.correction),
                           has_correction=row.has_correction, comment=row.comment, decided_at=row.decided_at)  # fmt: skip


def _fork(row: ForkRow | None) -> ForkOut | None:
    return None if row is None else ForkOut(**json_safe(asdict(row)))


def _rubric(rubric: Any) -> RubricOut:
    return RubricOut(**{**rubric.to_dict(), "required": rubric.required, "level": rubric.level})


def _rubrics(qa: QA, spec: Any) -> list[RubricOut]:
    return [_rubric(qa.config.rubrics[name]) for name in spec.rubrics]


def _item(view: ItemView) -> ItemOut:
    rubrics = [_rubric(r) for r in view.rubrics]
    return ItemOut(
        queue=view.queue.name, thread_id=view.item.thread_id, graph_id=view.graph_id, checkpoint_id=view.item.checkpoint_id,
        status=view.status, is_fork=view.item.is_fork, final_output=json_safe(view.final_output), output_source=view.output_source,
        messages=message_dicts(view.messages), values=json_safe(view.values),
        decisions=[DecisionOut(
            interrupt_id=d.interrupt_id, kind=d.kind, reviewer=d.reviewer, decided_at=d.decided_at, comment=d.comment,
            payload=json_safe(d.payload), answer=json_safe(d.answer), outcome=d.outcome, verdict=d.summary.verdict,
            changes=[json_safe(asdict(c)) for c in d.summary.changes], fork=d.fork,
        ) for d in view.decisions],
        rubrics=rubrics, mine=_submission(view.mine) if view.mine else None, others=[_submission(s) for s in view.others],
        hidden=view.hidden, adjudication=_adjudication(view.adjudication), reserved_until=view.reserved_until,
        fork=_fork(view.fork), forks=[_fork(f) for f in view.forks],
    )  # fmt: skip


Queue = Annotated[str, Path(min_length=1, description="The QA queue's name.")]
Thread = Annotated[str, Path(min_length=1, description="The LangGraph thread id (a fork's too).")]


@dataclass(frozen=True)
class _Deps:
    """What the routes depend on: the calling token with the read / decide scope, and the desk."""

    reader: Any
    decider: Any
    desk: Callable[[Request, Any], tuple[QA, Any]]


def qa_router(
    *,
    inbox_of: Callable[[Request], Any],
    reader: Callable[..., Any],
    decider: Callable[..., Any],
    acting: Callable[[Any, Any], Any],
    responses: Mapping[int | str, dict[str, Any]] | None = None,
) -> APIRouter:
    """The `/qa` routes over the desk `inbox_of(request)` returns.

    Args:
        inbox_of: the request's desk (`Inbox`).
        reader, decider: dependencies giving the calling token (`hitl.api.ApiPrincipal`) with
            the read / decide scope.
        acting: `(inbox, token) -> hitl.access.Principal`, the identity scores are recorded under.
        responses: the desk's documented error responses (one error body for every route).
    """
    router = APIRouter(prefix="/qa", tags=["qa"], responses=dict(responses or {}))

    def desk(request: Request, who: Any) -> tuple[QA, Any]:
        inbox = inbox_of(request)
        return QA.of(inbox), acting(inbox, who)

    deps = _Deps(reader=Annotated[Any, Depends(reader)], decider=Annotated[Any, Depends(decider)], desk=desk)
    for add_routes in (_queue_routes, _item_routes, _result_routes, _fork_routes):
        add_routes(router, deps)
    return router


def _queue_routes(router: APIRouter, deps: _Deps) -> None:
    """Queues: list, create, sync, progress, the next item, the items."""
    Reader, Decider, desk = deps.reader, deps.decider, deps.desk

    @router.get("/queues", response_model=list[QueueOut])
    def queues(request: Request, who: Reader) -> list[QueueOut]:
        """Every QA queue with its item and score counts."""
        qa, _ = desk(request, who)
        out = []
        for info in qa.queues():
            p = qa.progress(info.spec.name)
            out.append(QueueOut(name=info.spec.name, rubrics=_rubrics(qa, info.spec), source=info.source, spec=info.spec.to_dict(),
                                items=p.items, submissions=p.submissions, target=p.target))  # fmt: skip
        return out

    @router.post("/queues", response_model=QueueOut, status_code=201)
    def create_queue(request: Request, body: Annotated[QueueIn, Body()], who: Decider) -> QueueOut:
        """Create a queue (its rubrics must be configured ones) and sample it now."""
        qa, principal = desk(request, who)
        spec = qa.create_queue(body.model_dump(), created_by=principal.identity, source="api")
        p = qa.progress(spec.name)
        return QueueOut(name=spec.name, rubrics=_rubrics(qa, spec), source="api", spec=spec.to_dict(), items=p.items,
                        submissions=p.submissions, target=p.target)  # fmt: skip

    @router.post("/queues/{queue}/sync")
    def sync(request: Request, queue: Queue, who: Decider) -> dict[str, int]:
        """Sample newly finished threads into the queue; returns how many were added."""
        qa, _ = desk(request, who)
        return {"added": qa.sync(queue)}

    @router.get("/queues/{queue}/progress", response_model=ProgressOut)
    def progress(request: Request, queue: Queue, who: Reader) -> ProgressOut:
        qa, _ = desk(request, who)
        p = qa.progress(queue)
        return ProgressOut(**{**asdict(p), "reviewers": [asdict(r) for r in p.reviewers]})

    @router.post("/queues/{queue}/next", response_model=NextOut)
    def next_item(request: Request, queue: Queue, who: Decider) -> NextOut:
        """The next item for you (never one you scored or skipped), reserved for the queue's reservation time."""
        qa, principal = desk(request, who)
        view = qa.next_item(queue, reviewer="", principal=principal)
        return NextOut(item=_item(view) if view else None)

    @router.get("/queues/{queue}/items")
    def items(request: Request, queue: Queue, who: Reader) -> list[dict[str, Any]]:
        """The queue's items with how many reviewers scored each."""
        qa, _ = desk(request, who)
        return [asdict(i) for i in qa.items(queue)]


def _item_routes(router: APIRouter, deps: _Deps) -> None:
    """One item: read it, score it, release or skip it, adjudicate it."""
    Reader, Decider, desk = deps.reader, deps.decider, deps.desk

    @router.get("/queues/{queue}/items/{thread_id}", response_model=ItemOut)
    def item(request: Request, queue: Queue, thread_id: Thread, who: Reader) -> ItemOut:
        """One item: conversation, final output, HITL decisions with diffs, your scores (others' once you scored, in a blind queue)."""
        qa, principal = desk(request, who)
        return _item(qa.item(queue, thread_id, viewer="", principal=principal))

    @router.post("/queues/{queue}/items/{thread_id}/scores", response_model=SubmissionOut, status_code=201)
    def submit(request: Request, queue: Queue, thread_id: Thread, body: Annotated[ScoresIn, Body()], who: Decider) -> SubmissionOut:
        """Your scores for the item (every required rubric), an optional correction of the output and a comment. Final."""
        qa, principal = desk(request, who)
        return _submission(qa.submit(queue, thread_id, reviewer="", scores=body.scores, correction=body.correction,
                                     comment=body.comment, principal=principal))  # fmt: skip

    @router.post("/queues/{queue}/items/{thread_id}/release", status_code=204)
    def release(request: Request, queue: Queue, thread_id: Thread, who: Decider,
                skip: Annotated[bool, Query(description="Also skip it: never offer it to you again.")] = False) -> Response:  # fmt: skip
        """Give your reservation back without scoring (with `skip=true`, and do not offer the item to you again)."""
        qa, principal = desk(request, who)
        if skip:
            qa.skip(queue, thread_id, reviewer="", principal=principal)
        else:
            qa.release(queue, thread_id, reviewer="", principal=principal)
        return Response(status_code=204)

    @router.post("/queues/{queue}/items/{thread_id}/adjudication", response_model=AdjudicationOut, status_code=201)
    def adjudicate(request: Request, queue: Queue, thread_id: Thread, body: Annotated[AdjudicationIn, Body()], who: Decider) -> AdjudicationOut:
        """Record the item's final scores (the ones exported) and, optionally, its reference output."""
        qa, principal = desk(request, who)
        row = qa.adjudicate(queue, thread_id, adjudicator="", scores=body.scores, correction=body.correction,
                            comment=body.comment, principal=principal)  # fmt: skip
        return _adjudication(row)  # type: ignore[return-value]


def _result_routes(router: APIRouter, deps: _Deps) -> None:
    """What a queue found: agreement, disagreements, the dataset export, decision analytics."""
    Reader, desk = deps.reader, deps.desk

    @router.get("/queues/{queue}/agreement", response_model=list[AgreementOut])
    def agreement(request: Request, queue: Queue, who: Reader) -> list[AgreementOut]:
        """Krippendorff's alpha and pairwise Cohen's kappa per rubric, with the number of items behind each."""
        qa, _ = desk(request, who)
        return [AgreementOut(**{**asdict(a), "pairs": [asdict(p) for p in a.pairs]}) for a in qa.agreement(queue)]

    @router.get("/queues/{queue}/disagreements", response_model=list[DisagreementOut])
    def disagreements(request: Request, queue: Queue, who: Reader,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[DisagreementOut]:  # fmt: skip
        """Items whose reviewers disagree most, worst first (adjudicators only: shows everyone's scores)."""
        qa, principal = desk(request, who)
        return [
            DisagreementOut(thread_id=d.thread_id, disagreement=d.disagreement, rubrics=d.rubrics, scores=d.scores,
                            adjudication=_adjudication(d.adjudication))  # fmt: skip
            for d in qa.disagreements(queue, limit=limit, principal=principal)
        ]

    @router.get(
        "/queues/{queue}/export",
        responses={200: {"description": "jsonl: LangSmith examples {inputs, outputs, metadata} per line; openai: "
                         "{messages} per line; csv: one row per item.",
                         "content": {"application/x-ndjson": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}}}},
    )  # fmt: skip
    def export(request: Request, queue: Queue, who: Reader,
               export_format: Annotated[Literal["jsonl", "csv", "openai"], Query(alias="format")] = "jsonl") -> Response:  # fmt: skip
        """The queue's scored items as a dataset (adjudicated scores and corrections win)."""
        qa, principal = desk(request, who)
        text = qa.export(queue, format=export_format, principal=principal)
        extension = "csv" if export_format == "csv" else "jsonl"
        return Response(content=text, media_type=_MEDIA[export_format],
                        headers={"Content-Disposition": f'attachment; filename="qa-{queue}-{export_format}.{extension}"'})  # fmt: skip

    @router.get("/analytics", response_model=AnalyticsOut)
    def analytics(request: Request, who: Reader) -> AnalyticsOut:
        """Approve / edit / reject rates and median time to decide per graph and tool; the most-edited fields."""
        qa, principal = desk(request, who)
        result = qa.decision_analytics(principal=principal)
        records = lambda frame: json_safe(frame.to_dict("records"))  # noqa: E731
        return AnalyticsOut(decisions=result.decisions, by_graph=records(result.by_graph), by_tool=records(result.by_tool),
                            edited_fields=records(result.edited_fields))  # fmt: skip


def _fork_routes(router: APIRouter, deps: _Deps) -> None:
    """Forks: where a thread can be forked, a fork, a fork beside its source."""
    Reader, Decider, desk = deps.reader, deps.decider, deps.desk

    @router.get("/threads/{thread_id}/answered-interrupts", response_model=list[AnsweredOut])
    def answered(request: Request, thread_id: Thread, who: Reader) -> list[AnsweredOut]:
        """Interrupts of the thread that were answered: where it can be forked."""
        qa, principal = desk(request, who)
        return [AnsweredOut(**json_safe(_answered(a))) for a in qa.answered_interrupts(thread_id, principal=principal)]

    @router.post("/threads/{thread_id}/forks", response_model=ForkOut, status_code=201)
    def fork(request: Request, thread_id: Thread, body: Annotated[ForkIn, Body()], who: Decider) -> ForkOut:
        """Run the thread again from an answered interrupt with another answer (or edited state), on a new thread."""
        qa, principal = desk(request, who)
        options: dict[str, Any] = {} if body.answer is None and body.state_update is not None else {"answer": body.answer}
        row = qa.fork(thread_id, body.interrupt_id, reviewer="", state_update=body.state_update, as_node=body.as_node,
                      notify=body.notify, queue=body.queue, principal=principal, **options)  # fmt: skip
        return _fork(row)  # type: ignore[return-value]

    @router.get("/forks/{thread_id}/compare", response_model=CompareOut)
    def compare(request: Request, thread_id: Thread, who: Reader) -> CompareOut:
        """A fork beside its source: outcome, messages and tool calls after the fork point, state keys that differ."""
        qa, principal = desk(request, who)
        return _comparison(qa.compare(thread_id, principal=principal))


def _answered(a: AnsweredInterrupt) -> Mapping[str, Any]:
    data = asdict(a)
    data.pop("task_id", None)
    return data


def _comparison(c: Comparison) -> CompareOut:
    branch = lambda b: BranchOut(**json_safe({k: v for k, v in asdict(b).items() if k != "values"}))  # noqa: E731
    return CompareOut(fork=_fork(c.fork), source=branch(c.source), branch=branch(c.branch),  # type: ignore[arg-type]
                      state_changes=[json_safe(asdict(x)) for x in c.state_changes])  # fmt: skip
