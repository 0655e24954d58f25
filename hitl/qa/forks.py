"""Fork and compare: answer an interrupt of a finished thread differently, on a new branch.

LangGraph's time travel resumes a past checkpoint in place, which moves the thread's head: the
desk would then show the experiment as the thread's outcome. A fork here leaves the source thread
untouched and puts the branch in a thread of its own (`<thread>~fork-<hex>`):

1. The source checkpoint — the one at which the chosen interrupt was waiting — and its ancestors
   are copied into the fork thread with the saver's own `put` / `put_writes` (same checkpoint
   ids, so task and interrupt ids are the same), every copy's metadata marked `hitl_fork_of`.
   The answered task's writes on that checkpoint (its resume value and what it wrote after)
   and the resuming command's writes are left out; other tasks' writes are kept, so the fork
   starts exactly where the source thread waited for its reviewer.
2. The registered graph is resumed on the fork thread (`hitl.runner.invoke`, sync or async):
   with `Command(resume={interrupt_id: other_answer})`, or, to edit the state instead,
   `update_state(values, as_node=...)` first and then `Command(resume=answer)`.

Every checkpoint of a fork carries `hitl_fork_of` (the source thread), `hitl_fork_checkpoint`
and `hitl_fork_interrupt`; `hitl_qa_forks` records who forked what with which answer. A fork's
answers never go through the desk's claim and audit log, so they never count as production
decisions and never send `decision_made` webhooks — unless `notify=True` asks for one (sent with
`action: "qa_fork"`). A fork that pauses at a later interrupt waits in its own thread; continue it
with `continue_fork`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langgraph.types import Command

from hitl import runner
from hitl.errors import HitlError, InvalidAnswer, ThreadNotFound, UnknownGraph
from hitl.inbox import Inbox
from hitl.jsondata import from_json_text, json_safe
from hitl.notify import enqueue_decisions
from hitl.payloads import classify
from hitl.qa.analytics import FieldChange, diff_values
from hitl.qa.datasets import final_output, message_dicts, tool_calls_made
from hitl.storage.qa import ForkRow, QaStorage

__all__ = [
    "AnsweredInterrupt",
    "Branch",
    "Comparison",
    "answered_interrupts",
    "fork_thread",
    "continue_fork",
    "compare",
    "FORK_MARK",
    "is_fork_metadata",
]

FORK_MARK = "hitl_fork_of"
"""Checkpoint metadata key naming the thread a fork branched off."""

NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"
INTERRUPT = "__interrupt__"
RESUME = "__resume__"
_UNSET: Any = object()


def is_fork_metadata(metadata: Mapping[str, Any] | None) -> bool:
    """Whether checkpoint metadata marks a QA fork."""
    return bool(metadata and metadata.get(FORK_MARK))


@dataclass(frozen=True, kw_only=True)
class AnsweredInterrupt:
    """An interrupt of a thread that was answered, and where it waited."""

    checkpoint_id: str
    """The checkpoint at which it waited (the fork point)."""
    interrupt_id: str
    task_id: str
    node: str | None
    kind: str
    value: Any
    answer: Any
    reviewer: str | None = None
    comment: str = ""
    decided_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class Branch:
    """One side of a comparison."""

    thread_id: str
    status: str
    final_output: Any
    messages_after_fork: list[dict[str, Any]]
    tool_calls_after_fork: list[dict[str, Any]]
    values: dict[str, Any]
    answer: Any


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """A fork beside the thread it branched off."""

    fork: ForkRow
    source: Branch
    branch: Branch
    state_changes: list[FieldChange] = field(default_factory=list)
    """Final state keys (messages aside) that differ, source -> fork."""


def _history(inbox: Inbox, thread_id: str) -> list[Any]:
    config = {"configurable": {"thread_id": thread_id}}
    return [t for t in inbox.store.saver.list(config) if not t.config["configurable"].get("checkpoint_ns")]


def _node_of(task_path: str) -> str | None:
    parts = [p.strip() for p in (task_path or "").split(",")]
    if len(parts) >= 2 and parts[0] == "~__pregel_pull":
        return parts[1] or None
    return None


def answered_interrupts(inbox: Inbox, storage: QaStorage, thread_id: str) -> list[AnsweredInterrupt]:
    """Every interrupt of the thread that was answered, oldest first, with the answer sent
    (from the desk's audit log when it was decided there, else from the checkpoint).

    Raises:
        HitlError: the threads live on a LangGraph server (forks copy checkpoints in the
            desk's own database, which a server's threads are not in).
    """
    if inbox.store.threads_at:
        raise HitlError(
            f"QA forks are not available for threads on the LangGraph server at {inbox.store.threads_at}: a fork copies "
            "the thread's checkpoints into the desk's own database and runs the graph there, and this server's "
            "checkpoints belong to the server. Fork on the server instead (LangGraph Studio, or the SDK's threads.copy "
            "and runs.create with a checkpoint_id); QA queues, scores, agreement and exports work here as usual."
        )
    if not inbox.store.thread_exists(thread_id):
        raise ThreadNotFound(thread_id)
    decided = {}
    for row in inbox.store.audit_rows(thread_id=thread_id):
        if row.get("outcome") in ("completed", "waiting") and row.get("action") in ("decision", "batch", "vote", "timeout"):
            decided[row["interrupt_id"]] = row
    found: list[AnsweredInterrupt] = []
    for saved in reversed(_history(inbox, thread_id)):
        writes = saved.pending_writes or []
        checkpoint_id = saved.config["configurable"]["checkpoint_id"]
        paths = None
        for task_id, channel, value in writes:
            if channel != INTERRUPT:
                continue
            task_writes = [(c, v) for t, c, v in writes if t == task_id and c != INTERRUPT]
            if not task_writes:
                continue  # still waiting at this checkpoint: not answered
            resumes = [v for c, v in task_writes if c == RESUME]
            if paths is None:
                paths = storage.task_paths(thread_id, checkpoint_id)
            for index, item in enumerate(value if isinstance(value, (list, tuple)) else [value]):
                interrupt_id = getattr(item, "id", None)
                if not interrupt_id:
                    continue
                payload = getattr(item, "value", item)
                row = decided.get(interrupt_id)
                answer = from_json_text(row["answer"]) if row else (resumes[0][index] if resumes and isinstance(resumes[0], list) and len(resumes[0]) > index else None)
                found.append(AnsweredInterrupt(
                    checkpoint_id=checkpoint_id, interrupt_id=interrupt_id, task_id=task_id, node=_node_of(paths.get(task_id, "")),
                    kind=classify(payload), value=payload, answer=answer, reviewer=row["reviewer"] if row else None,
                    comment=(row or {}).get("comment") or "", decided_at=float(row["decided_at"]) if row else None,
                ))  # fmt: skip
    return found


def fork_thread(
    inbox: Inbox,
    storage: QaStorage,
    *,
    thread_id: str,
    interrupt_id: str,
    reviewer: str,
    answer: Any = _UNSET,
    state_update: Mapping[str, Any] | None = None,
    as_node: str | None = None,
    notify: bool = False,
    clock: Callable[[], float],
) -> ForkRow:
    """Branch `thread_id` off at the checkpoint where `interrupt_id` waited and run it with
    another answer (or with `state_update` applied first); returns the recorded fork.

    Args:
        answer: the other answer; with `state_update` it defaults to the original answer.
        state_update: state values to write at the fork point (as `as_node` would write them:
            reducers apply); the interrupted node then runs again on the edited state.
        as_node: the node `state_update` is written as (LangGraph infers it when None).
        notify: also queue a `decision_made` webhook for the fork's answer (off by default).

    Raises:
        InvalidAnswer: the interrupt was never answered on this thread, or no answer was given.
        UnknownGraph: the thread's graph is not registered (a fork needs its code to run).
    """
    if not reviewer.strip():
        raise InvalidAnswer("Say who forks the thread (reviewer); forks are recorded with their author.")
    choices = {a.interrupt_id: a for a in answered_interrupts(inbox, storage, thread_id)}
    chosen = choices.get(interrupt_id)
    if chosen is None:
        known = ", ".join(choices) or "none"
        raise InvalidAnswer(
            f"Interrupt {interrupt_id!r} was not answered on thread {thread_id!r}, so there is no decision to replay "
            f"differently. Answered interrupts: {known}."
        )
    if state_update is None and answer is _UNSET:
        raise InvalidAnswer("Give the other answer to send (or a state_update to apply) for the fork.")
    if state_update is not None and not isinstance(state_update, Mapping):
        raise InvalidAnswer(f"state_update must be an object of state keys to values, got {type(state_update).__name__}.")
    if answer is _UNSET:
        answer = chosen.answer
    history = {t.config["configurable"]["checkpoint_id"]: t for t in _history(inbox, thread_id)}
    source = history[chosen.checkpoint_id]
    latest = inbox.store.latest_checkpoint(thread_id)
    graph_id = (source.metadata or {}).get("graph_id") or (latest[1].get("graph_id") if latest else None)
    match = inbox.registry.match(graph_id, [chosen.node])
    if match.graph_id is None or match.note:
        raise UnknownGraph(f"Thread {thread_id!r} cannot be forked: {match.note or 'its graph is unknown'}.")
    graph = inbox.registry.graph(match.graph_id)

    fork_id = f"{thread_id}~fork-{uuid.uuid4().hex[:8]}"
    marks = {"graph_id": match.graph_id, FORK_MARK: thread_id, "hitl_fork_checkpoint": chosen.checkpoint_id,
             "hitl_fork_interrupt": interrupt_id, "hitl_forked_by": reviewer}  # fmt: skip
    _copy_chain(inbox, storage, history, source, chosen.task_id, fork_id, marks)
    storage.add_fork({
        "fork_thread_id": fork_id, "source_thread_id": thread_id, "source_checkpoint_id": chosen.checkpoint_id,
        "interrupt_id": interrupt_id, "graph_id": match.graph_id, "mode": "state" if state_update is not None else "answer",
        "answer": answer, "original_answer": chosen.answer, "state_update": dict(state_update) if state_update is not None else None,
        "as_node": as_node, "created_by": reviewer, "created_at": clock(), "status": "running", "error": None, "notify": notify,
    })  # fmt: skip
    config = {"configurable": {"thread_id": fork_id}, "metadata": marks}
    try:
        if state_update is not None:
            graph.update_state(config, dict(state_update), as_node=as_node)
            runner.invoke(graph, Command(resume=answer), config, database_url=inbox.store.url)
        else:
            runner.invoke(graph, Command(resume={interrupt_id: answer}), config, database_url=inbox.store.url)
    except HitlError:
        storage.set_fork_status(fork_id, "failed", "the desk refused the run")
        raise
    except Exception as exc:  # the node raised: the fork failed, which is an outcome to compare too
        storage.set_fork_status(fork_id, "failed", f"{type(exc).__name__}: {exc}")
    else:
        storage.set_fork_status(fork_id, _status(inbox, fork_id))
    if notify:
        _notify(inbox, fork_id, chosen, answer, reviewer, clock)
    return storage.forks(fork_thread_id=fork_id)[0]


def continue_fork(
    inbox: Inbox, storage: QaStorage, fork_thread_id: str, answers: Mapping[str, Any], *, reviewer: str
) -> ForkRow:
    """Answer a fork that paused at a later interrupt (`{interrupt_id: answer}`), outside the
    desk's claims and audit log like the fork itself."""
    rows = storage.forks(fork_thread_id=fork_thread_id)
    if not rows:
        raise InvalidAnswer(f"{fork_thread_id!r} is not a QA fork; decide real threads on the Review page.")
    fork = rows[0]
    pending = {i.id for i in inbox.store.pending_interrupts([fork_thread_id])[fork_thread_id] if i.answerable}
    unknown = sorted(set(answers) - pending)
    if not answers or unknown:
        raise InvalidAnswer(f"Fork {fork_thread_id!r} is not waiting at {unknown or 'any interrupt you answered'}; pending: {sorted(pending) or 'none'}.")
    graph = inbox.registry.graph(fork.graph_id or "")
    config = {"configurable": {"thread_id": fork_thread_id},
              "metadata": {"graph_id": fork.graph_id, FORK_MARK: fork.source_thread_id, "hitl_forked_by": reviewer}}  # fmt: skip
    try:
        runner.invoke(graph, Command(resume=dict(answers)), config, database_url=inbox.store.url)
    except Exception as exc:
        storage.set_fork_status(fork_thread_id, "failed", f"{type(exc).__name__}: {exc}")
    else:
        storage.set_fork_status(fork_thread_id, _status(inbox, fork_thread_id))
    return storage.forks(fork_thread_id=fork_thread_id)[0]


def _status(inbox: Inbox, thread_id: str) -> str:
    inbox.refresh([thread_id])
    rows, _, _ = inbox.store.list_threads(status=None, thread_ids=[thread_id], limit=1)
    return rows[0].status if rows else "completed"


def _copy_chain(
    inbox: Inbox, storage: QaStorage, history: dict[str, Any], source: Any, task_id: str, fork_id: str, marks: dict[str, Any]
) -> None:
    chain = [source]
    while chain[-1].parent_config:
        parent = history.get(chain[-1].parent_config["configurable"].get("checkpoint_id"))
        if parent is None:
            break
        chain.append(parent)
    saver = inbox.store.saver
    parent_id = None
    for saved in reversed(chain):
        config = {"configurable": {"thread_id": fork_id, "checkpoint_ns": ""}}
        if parent_id:
            config["configurable"]["checkpoint_id"] = parent_id
        checkpoint = saved.checkpoint
        stored = saver.put(config, checkpoint, {**(saved.metadata or {}), **marks}, dict(checkpoint.get("channel_versions", {})))
        parent_id = stored["configurable"]["checkpoint_id"]
        writes = saved.pending_writes or []
        if saved is source:
            writes = [w for w in writes if w[0] != NULL_TASK_ID and (w[0] != task_id or w[1] == INTERRUPT)]
        paths = storage.task_paths(saved.config["configurable"]["thread_id"], saved.config["configurable"]["checkpoint_id"])
        by_task: dict[str, list[tuple[str, Any]]] = {}
        for write_task, channel, value in writes:
            by_task.setdefault(write_task, []).append((channel, value))
        for write_task, task_writes in by_task.items():
            saver.put_writes(stored, task_writes, write_task, paths.get(write_task, ""))


def _notify(inbox: Inbox, fork_id: str, chosen: AnsweredInterrupt, answer: Any, reviewer: str, clock: Callable[[], float]) -> None:
    enqueue_decisions(inbox, [{
        "thread_id": fork_id, "interrupt_id": chosen.interrupt_id, "graph_id": None, "kind": chosen.kind,
        "action": "qa_fork", "reviewer": reviewer, "comment": f"QA fork of {chosen.checkpoint_id}", "answer": answer,
        "outcome": "fork", "decided_at": clock(),
    }])  # fmt: skip


def _branch(inbox: Inbox, thread_id: str, fork_point_messages: set[str], answer: Any, principal: Any) -> Branch:
    view = inbox.thread(thread_id, principal=principal)
    output, _ = final_output(view.values)
    after = [m for m in view.messages if _message_id(m) not in fork_point_messages]
    return Branch(
        thread_id=thread_id, status=view.status, final_output=output, messages_after_fork=message_dicts(after),
        tool_calls_after_fork=tool_calls_made(view.messages, skip_ids=fork_point_messages), values=dict(view.values),
        answer=answer,
    )  # fmt: skip


def _message_id(message: Any) -> str:
    return str((message.get("id") if isinstance(message, Mapping) else getattr(message, "id", None)) or "")


def compare(inbox: Inbox, storage: QaStorage, fork_thread_id: str, *, principal: Any = None) -> Comparison:
    """The fork and its source side by side: status, final output, messages and tool calls
    after the fork point, and the final state keys that differ."""
    rows = storage.forks(fork_thread_id=fork_thread_id)
    if not rows:
        raise ThreadNotFound(fork_thread_id)
    fork = rows[0]
    saved = inbox.store.saver.get_tuple(
        {"configurable": {"thread_id": fork.source_thread_id, "checkpoint_ns": "", "checkpoint_id": fork.source_checkpoint_id}}
    )
    messages = (saved.checkpoint.get("channel_values", {}).get("messages") if saved else None) or []
    ids = {_message_id(m) for m in messages}
    ids.discard("")
    source = _branch(inbox, fork.source_thread_id, ids, fork.original_answer, principal)
    branch = _branch(inbox, fork_thread_id, ids, fork.answer, principal)
    strip = lambda values: {k: v for k, v in values.items() if k != "messages"}  # noqa: E731
    changes = diff_values(json_safe(strip(source.values)), json_safe(strip(branch.values)), "")
    return Comparison(fork=fork, source=source, branch=branch, state_changes=changes)

