"""How a finished resume ended: completed, waiting, failed, refused or outcome unknown, and the errors that say so."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from langgraph.errors import is_invalid_resume
from hitl.errors import HitlError, InvalidAnswer
from hitl.outcome import OutcomeUnknown, UnknownOutcome
from hitl.domain import OutcomeStatus, PendingInterrupt


def ran_to_end(
    store: Any, items: Mapping[str, Mapping[str, PendingInterrupt]], errors: Mapping[str, BaseException]
) -> set[str]:
    """The threads whose run raised (`errors`) after the checkpointer had saved it to its
    end: the latest checkpoint is newer than the answered interrupts' and has nothing left
    (no interrupt, failed task or scheduled node). What the nodes did is saved, so the
    outcome is known: completed, with the error noted. A run stopped anywhere short of END
    stays "outcome unknown"."""
    errors = {t: e for t, e in errors.items() if not is_invalid_resume(e) and not nothing_ran(e)}
    if not errors:
        return set()
    try:
        finished = store.finished(list(errors))
    except HitlError:  # where the threads live cannot be read now: nothing proves the end
        return set()
    return {
        thread_id
        for thread_id, checkpoint_id in finished.items()
        if all(item.checkpoint_id and checkpoint_id > item.checkpoint_id for item in items[thread_id].values())
    }


def after_end_text(error: BaseException) -> str:
    return f"The run reached its end and was saved; then it raised {describe_error(error)}"


def recorded_failures(store: Any, errors: Mapping[str, BaseException]) -> set[str]:
    """The threads whose run's error LangGraph recorded (an `__error__` write at the latest
    checkpoint with that error's text): the node raised, and the checkpointer says so."""
    if not errors:
        return set()
    try:
        raw = store.pending_interrupts(list(errors))
        tasks = store.failed_tasks_of(list(errors))
    except HitlError:  # where the threads live cannot be read (a server gone): nothing proves a record
        return set()
    recorded = set()
    for thread_id, error in errors.items():
        texts = [item.failed_error for item in raw[thread_id] if item.failed_error] + [text for _, text in tasks[thread_id]]
        # The saver keeps the error as text (its repr, or "Type: message"): this error is
        # recorded when a text names its type and message; an older attempt's error is not.
        message = str(error)
        if any(type(error).__name__ in text and (message in text or repr(message)[1:-1] in text) for text in texts):
            recorded.add(thread_id)
    return recorded


def unknown_text(nodes: Sequence[str], error: BaseException) -> str:
    names = ", ".join(nodes) or "a node"
    return (
        f"outcome unknown: {names} started, then the run failed ({describe_error(error)}) without its result being "
        f"saved, so {names} may have run"
    )


def unknown_of(
    thread_id: str, validated: Mapping[str, Any], reviewer: str, started: float, result: Mapping[str, Any], error_text: str,
    *, state: str = "unknown",
) -> UnknownOutcome:
    return UnknownOutcome(
        thread_id=thread_id,
        interrupt_ids=tuple(validated),
        reviewer=reviewer,
        answers=dict(validated),
        decided_at=datetime.fromtimestamp(started, timezone.utc),
        state=state,  # type: ignore[arg-type]
        may_run_twice=tuple(result.get("nodes") or ()),
        error=error_text,
    )


def unrecorded(
    thread_id: str, validated: Mapping[str, Any], reviewer: str, started: float, result: Mapping[str, Any], exc: HitlError
) -> OutcomeUnknown | None:
    """The error for a run whose outcome the desk could not record (`exc`): `OutcomeUnknown`
    ("unrecorded") when the graph ran or may have (never "nothing changed"), else None."""
    error = result.get("error")
    if error is not None and (not result.get("nodes") or is_invalid_resume(error)):
        return None  # no node ran: nothing changed, the caller's StoreError says so
    what = f"the run failed ({describe_error(error)})" if error is not None else "the run finished"
    # The driver's own words: the StoreError's "nothing was changed" is not true here.
    cause = getattr(exc, "cause", None)
    why = describe_error(cause) if isinstance(cause, BaseException) else str(exc)
    return OutcomeUnknown(unknown_of(thread_id, validated, reviewer, started, result, f"{what}; then recording it failed: {why}",
                                   state="unrecorded"))  # fmt: skip


def nothing_ran(error: BaseException) -> bool:
    """Whether the graph refused the run before starting anything (a server backend's
    `nothing_ran` error: the thread moved on, it is busy, the server is unreachable): the
    claims are released and the error is the caller's."""
    return isinstance(error, HitlError) and getattr(error, "nothing_ran", False) is True


def outcome_status(remaining: list[PendingInterrupt], failed_tasks: list[tuple[str, str]]) -> tuple[OutcomeStatus, str | None]:
    """A finished resume's outcome: interrupts still pending, else failed tasks, else completed."""
    if remaining:
        return "waiting", None
    error_text = "; ".join(f"{node}: {text}" for node, text in failed_tasks) or None
    return ("failed" if failed_tasks else "completed"), error_text


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def refused_answer(error: BaseException) -> InvalidAnswer:
    """The graph's own validation refused the answer (`is_invalid_resume`): nothing was saved."""
    return InvalidAnswer(
        f"The graph refused the answer: {_pydantic_summary(error)}. Nothing was saved; "
        "correct the answer and submit again.",
        field_errors=_pydantic_field_errors(error),
    )


def _pydantic_summary(error: BaseException) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        try:
            return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in errors())
        except Exception:
            pass
    return str(error)


def _pydantic_field_errors(error: BaseException) -> dict[str, str]:
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return {"": str(error)}
    try:
        return {".".join(str(p) for p in e["loc"]): e["msg"] for e in errors()}
    except Exception:
        return {"": str(error)}
