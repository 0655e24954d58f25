"""Approve or reject many threads with one comment, a chunk at a time (`Inbox.batch`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hitl.desk import Desk
from hitl.domain import BatchResult, Principal, ResumeOutcome
from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer, NotAuthorized, ThreadNotFound
from hitl.outcome import OutcomeUnknown
from hitl.services.one_click import one_click_answers
from hitl.services.resume_batch import resume_many
from hitl.store import RawInterrupt

__all__ = ["BATCH_CHUNK", "decide_many"]

BATCH_CHUNK = 100
"""Threads `Inbox.batch` decides per claim transaction, audit transaction and index refresh."""


def decide_many(
    desk: Desk,
    thread_ids: Sequence[str],
    *,
    approve: bool,
    reviewer: str,
    comment: str,
    progress: Callable[[int, int, BatchResult], None] | None,
    principal: Principal | None,
    seen: Mapping[str, str],
    chunk_size: int,
) -> list[BatchResult]:
    """See `Inbox.batch`."""
    results: list[BatchResult] = []
    for chunk in _chunks(thread_ids, max(1, chunk_size)):
        raw = desk.store.pending_interrupts(chunk)
        latest = desk.store.latest_checkpoints(chunk)
        outcomes: dict[str, BatchResult | ResumeOutcome | HitlError] = {}
        requests: dict[str, dict[str, Any]] = {}
        for thread_id in chunk:
            answers = _answers(desk, thread_id, raw[thread_id], seen.get(thread_id), approve=approve, reviewer=reviewer,
                               comment=comment, metadata=latest.get(thread_id, ("", {}))[1])  # fmt: skip
            if isinstance(answers, dict):
                requests[thread_id] = answers
            else:
                outcomes[thread_id] = answers
        if requests:
            outcomes.update(
                resume_many(
                    desk, requests, raw=raw, metadata={t: latest.get(t, ("", {}))[1] for t in requests},
                    reviewer=reviewer, comment=comment, action="batch", principal=principal,
                )  # fmt: skip
            )
        for thread_id in chunk:
            result = _batch_result(thread_id, outcomes[thread_id])
            results.append(result)
            if progress:
                progress(len(results), len(thread_ids), result)
    return results


def _answers(
    desk: Desk,
    thread_id: str,
    raw: list[RawInterrupt],
    shown: str | None,
    *,
    approve: bool,
    reviewer: str,
    comment: str,
    metadata: dict[str, Any],
) -> dict[str, Any] | BatchResult | HitlError:
    """The thread's one-click answers, or why it is not answered."""
    answerable = [i for i in raw if i.answerable]
    if shown is not None and answerable and shown not in {i.id for i in answerable}:
        return BatchResult(
            thread_id=thread_id,
            result="changed",
            message="It moved on to a new request after you selected it; nothing was sent. Review it again.",
        )
    try:
        return one_click_answers(desk, thread_id, answerable, approve=approve, reviewer=reviewer, comment=comment,
                                 interrupt_id=shown, metadata=metadata)  # fmt: skip
    except InvalidAnswer as exc:
        # Nothing pending and no decision in the audit log yet: another desk may be
        # resuming it right now (its audit row comes when its resume ends).
        claim = None if answerable else desk.store.decided_claim(thread_id)
        return exc if claim is None else AlreadyDecided(
            claim["interrupt_id"], reviewer=claim["reviewer"], decided_at=claim["claimed_at"], thread_id=thread_id
        )  # fmt: skip
    except HitlError as exc:
        return exc


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
