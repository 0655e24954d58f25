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

import fnmatch
import json
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hitl.errors import HitlError, InvalidAnswer, NotAuthorized, ThreadNotFound
from hitl.inbox import Inbox
from hitl.jsondata import json_safe
from hitl.qa import datasets, forks
from hitl.qa.agreement import Rating, RubricAgreement, item_disagreement, rubric_agreement
from hitl.qa.analytics import DecisionAnalytics, DecisionSummary, decision_analytics, summarize_decision
from hitl.qa.queues import QueueSpec, matches, queue_from_dict, sampled
from hitl.qa.rubrics import Rubric
from hitl.qa.storage import AdjudicationRow, ForkRow, ItemRow, QaStorage, SubmissionRow
from hitl.qa.values import (
    Decision,
    Disagreement,
    ItemView,
    Progress,
    QaConfig,
    QueueInfo,
    ReviewerProgress,
    load_qa_config,
)

__all__ = ["QA"]

FINISHED = ("completed", "failed", "resolved")

SYNC_EVERY_SECONDS = 60.0
"""`next_item` samples newly finished threads into its queue at most this often."""


_instances: weakref.WeakKeyDictionary[Any, QA] = weakref.WeakKeyDictionary()
_instances_lock = threading.Lock()


class QA:
    """QA of agent outputs over one desk (`Inbox`)."""

    def __init__(self, inbox: Inbox, *, clock: Callable[[], float] = time.time, config: QaConfig | None = None) -> None:
        self.inbox = inbox
        self.config = config or load_qa_config(inbox.settings.policy)
        self.storage = QaStorage(inbox.store)
        self.clock = clock
        self.storage.ensure_schema()
        if not inbox.store.read_only:
            for spec in self.config.queues.values():
                self.storage.save_queue(spec.name, spec.to_dict(), source="config", created_by="HITL_CONFIG", now=clock(), replace=True)

    @classmethod
    def of(cls, inbox: Inbox) -> QA:
        """The QA desk of `inbox` (one per Inbox, created on first use)."""
        with _instances_lock:
            qa = _instances.get(inbox)
            if qa is None:
                qa = _instances[inbox] = cls(inbox)
            return qa

    # ------------------------------------------------------------------ identity

    def _who(self, reviewer: str, principal: Any) -> str:
        if principal is not None:
            if reviewer and reviewer != principal.identity:
                raise NotAuthorized(f"Reviewer {reviewer!r} is not the signed-in identity {principal.identity!r}; QA scores are recorded under the signed-in identity.")
            return principal.identity
        name = (reviewer or "").strip()
        if not name:
            raise InvalidAnswer("Say who you are (reviewer): every score is recorded with its reviewer.", field_errors={"reviewer": "required"})
        return name

    def can_adjudicate(self, reviewer: str, *, principal: Any = None) -> bool:
        """Whether this identity may record final scores ([qa] adjudicators / adjudicator_roles;
        anyone when neither is set)."""
        if not self.config.adjudicators and not self.config.adjudicator_roles:
            return True
        identity = principal.identity if principal is not None else reviewer
        if any(fnmatch.fnmatch(identity.lower(), pattern.lower()) for pattern in self.config.adjudicators):
            return True
        roles = principal.roles if principal is not None else self.inbox.principal(identity, source="local").roles
        return bool({r.lower() for r in self.config.adjudicator_roles} & set(roles))

    def _require_adjudicator(self, reviewer: str, principal: Any) -> str:
        who = self._who(reviewer, principal)
        if not self.can_adjudicate(who, principal=principal):
            raise NotAuthorized(
                f"{who} may not adjudicate: [qa] allows {', '.join(self.config.adjudicators) or 'no identities'}"
                f" and roles {', '.join(self.config.adjudicator_roles) or 'none'}. Ask a QA lead."
            )
        return who

    # ------------------------------------------------------------------ queues

    def queues(self) -> list[QueueInfo]:
        """Every queue, from HITL_CONFIG and created at run time, by name."""
        out = []
        for name, spec, source, created_by, created_at, synced_at in self.storage.queues():
            try:
                parsed = queue_from_dict(spec, rubrics=self.config.rubrics)
            except HitlError:
                continue  # its rubrics were removed from HITL_CONFIG: hidden until they are back
            out.append(QueueInfo(spec=parsed, source=source, created_by=created_by, created_at=created_at, synced_at=synced_at))
        return out

    def queue(self, name: str) -> QueueSpec:
        """One queue's definition.

        Raises:
            InvalidAnswer: no queue of that name (the message lists the known ones).
        """
        for info in self.queues():
            if info.spec.name == name:
                return info.spec
        known = ", ".join(i.spec.name for i in self.queues()) or "none yet"
        raise InvalidAnswer(f"There is no QA queue {name!r} (queues: {known}). Create it on the QA page or in [[qa.queues]].")

    def create_queue(self, spec: QueueSpec | Mapping[str, Any], *, created_by: str, source: str = "page") -> QueueSpec:
        """Create a queue at run time and sample it; its rubrics must be configured ones.

        Raises:
            HitlError: the definition is malformed.
            InvalidAnswer: a queue of that name exists.
        """
        data = spec.to_dict() if isinstance(spec, QueueSpec) else dict(spec)
        parsed = queue_from_dict(data, rubrics=self.config.rubrics, where="the new queue")
        if not self.storage.save_queue(parsed.name, parsed.to_dict(), source=source, created_by=created_by, now=self.clock(), replace=False):
            raise InvalidAnswer(f"A QA queue named {parsed.name!r} already exists; pick another name.", field_errors={"name": "taken"})
        self.sync(parsed.name)
        return parsed

    def delete_queue(self, name: str, *, reviewer: str, principal: Any = None) -> None:
        """Delete a queue created at run time, with its scores (config queues come back from HITL_CONFIG)."""
        self._require_adjudicator(reviewer, principal)
        if name in self.config.queues:
            raise InvalidAnswer(f"Queue {name!r} is defined in HITL_CONFIG; remove it there instead.")
        self.queue(name)
        self.storage.delete_queue(name)

    def rubrics(self, name: str) -> list[Rubric]:
        return [self.config.rubrics[r] for r in self.queue(name).rubrics]

    # ------------------------------------------------------------------ selection

    def sync(self, name: str) -> int:
        """Add the queue's newly finished, matching, sampled threads; returns how many.

        Reproducible: the same seed picks the same threads (see `hitl.qa.queues.sampled`), and an
        item once in the queue stays, whatever happens to the sample later.
        """
        spec = self.queue(name)
        store = self.inbox.store
        self.inbox.refresh()
        statuses = [o for o in spec.outcomes if o in FINISHED] or list(FINISHED)
        if any(o in ("rejected", "edited") for o in spec.outcomes):
            statuses = list(FINISHED)
        already = self.storage.item_ids(name)
        fork_ids = self.storage.fork_thread_ids()
        candidates = []
        for status in statuses:
            for graph_id in spec.graphs or (None,):
                cursor = None
                while True:
                    rows, cursor, _ = store.list_threads(status=status, graph_id=graph_id, limit=1000, cursor=cursor)
                    candidates.extend(rows)
                    if not cursor:
                        break
        chosen = []
        for row in candidates:
            if row.thread_id in already or not sampled(spec, row.thread_id):
                continue
            if row.thread_id in fork_ids and not spec.include_forks:
                continue
            finished = row.waiting_since
            if (spec.since and finished < spec.since) or (spec.until and finished >= spec.until):
                continue
            chosen.append(row)
        if not chosen:
            self.storage.mark_synced(name, self.clock())
            return 0
        latest = store.latest_checkpoints([r.thread_id for r in chosen])
        chosen = [r for r in chosen if r.thread_id in latest]
        if not spec.include_forks:
            chosen = [r for r in chosen if not forks.is_fork_metadata(latest[r.thread_id][1])]
        if spec.metadata:
            chosen = [r for r in chosen if matches(spec.metadata, latest[r.thread_id][1])]
        if spec.outcomes:
            chosen = self._by_outcome(spec, chosen)
        if spec.nodes or spec.state:
            chosen = [r for r in chosen if self._state_matches(spec, r.thread_id)]
        now = self.clock()
        added = self.storage.add_items(
            {"queue": name, "thread_id": r.thread_id, "graph_id": r.graph_id, "checkpoint_id": latest[r.thread_id][0],
             "status": r.status, "finished_at": r.waiting_since.timestamp(), "is_fork": r.thread_id in fork_ids,
             "added_by": "sample", "added_at": now}  # fmt: skip
            for r in chosen
        )
        self.storage.mark_synced(name, now)
        return added

    def sync_if_stale(self, name: str, *, max_age_seconds: float = SYNC_EVERY_SECONDS) -> int:
        """`sync` when the queue was last sampled more than `max_age_seconds` ago (or never)."""
        synced = next((i.synced_at for i in self.queues() if i.spec.name == name), None)
        if synced is not None and self.clock() - synced < max_age_seconds:
            return 0
        return self.sync(name)

    def _by_outcome(self, spec: QueueSpec, rows: list[Any]) -> list[Any]:
        wanted = set(spec.outcomes)
        verdicts: dict[str, set[str]] = {}
        if wanted & {"rejected", "edited"}:
            ids = {r.thread_id for r in rows}
            audit = self.inbox.store.audit_rows() if len(ids) > 50 else [
                row for thread_id in ids for row in self.inbox.store.audit_rows(thread_id=thread_id)
            ]  # fmt: skip
            for row in audit:
                if row["thread_id"] in ids and row.get("action") in ("decision", "batch", "vote", "timeout"):
                    verdict = summarize_decision(row.get("kind"), row.get("payload"), row.get("answer")).verdict
                    verdicts.setdefault(row["thread_id"], set()).add(verdict)
        keep = []
        for row in rows:
            seen = verdicts.get(row.thread_id, set())
            if row.status in wanted or ("rejected" in wanted and seen & {"rejected", "mixed"}) or (
                "edited" in wanted and seen & {"edited", "mixed"}
            ):
                keep.append(row)
        return keep

    def _state_matches(self, spec: QueueSpec, thread_id: str) -> bool:
        saved = self.inbox.store.saver.get_tuple({"configurable": {"thread_id": thread_id}})
        if saved is None:
            return False
        if spec.nodes and not set(spec.nodes) & set(saved.checkpoint.get("versions_seen", {})):
            return False
        values = {k: v for k, v in saved.checkpoint.get("channel_values", {}).items() if not k.startswith(("branch:", "__"))}
        return matches(spec.state, json_safe(values))

    def add_item(self, name: str, thread_id: str, *, reviewer: str, principal: Any = None) -> bool:
        """Put one thread (a fork, say) into a queue by hand; False if it was already there."""
        who = self._who(reviewer, principal)
        self.queue(name)
        self.inbox.refresh([thread_id])
        rows, _, _ = self.inbox.store.list_threads(status=None, thread_ids=[thread_id], limit=1)
        latest = self.inbox.store.latest_checkpoint(thread_id)
        if not rows or latest is None:
            raise ThreadNotFound(thread_id)
        row = rows[0]
        return bool(self.storage.add_items([{
            "queue": name, "thread_id": thread_id, "graph_id": row.graph_id, "checkpoint_id": latest[0], "status": row.status,
            "finished_at": row.waiting_since.timestamp(), "is_fork": forks.is_fork_metadata(latest[1]),
            "added_by": who, "added_at": self.clock(),
        }]))  # fmt: skip

    def items(self, name: str) -> list[ItemRow]:
        self.queue(name)
        return self.storage.items(name)

    # ------------------------------------------------------------------ reviewing

    def next_item(self, name: str, *, reviewer: str, principal: Any = None) -> ItemView | None:
        """The next item for this reviewer, reserved for them: one they hold already, else one
        they have neither scored nor skipped that still needs scores. None when none is left."""
        who = self._who(reviewer, principal)
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
        who = self._who(reviewer, principal)
        spec = self.queue(name)
        self._item_row(name, thread_id)
        now = self.clock()
        self.storage.reserve(name, thread_id, who, now=now, until=now + spec.reservation_seconds)
        return self.item(name, thread_id, viewer=who, principal=principal)

    def release(self, name: str, thread_id: str, *, reviewer: str, principal: Any = None) -> None:
        self.storage.release(name, thread_id, self._who(reviewer, principal))

    def skip(self, name: str, thread_id: str, *, reviewer: str, principal: Any = None) -> None:
        """Skip an item: released, and not offered to this reviewer again (others still get it)."""
        self.queue(name)
        self.storage.skip(name, thread_id, self._who(reviewer, principal), now=self.clock())

    def _item_row(self, name: str, thread_id: str) -> ItemRow:
        rows = self.storage.items(name, [thread_id])
        if not rows:
            raise InvalidAnswer(f"Thread {thread_id!r} is not in QA queue {name!r}.")
        return rows[0]

    def item(self, name: str, thread_id: str, *, viewer: str, principal: Any = None) -> ItemView:
        """One item as `viewer` may see it (blind queues hide other scores until viewer scored)."""
        who = self._who(viewer, principal)
        spec = self.queue(name)
        row = self._item_row(name, thread_id)
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
            final_output=output, output_source=source, decisions=self._decisions(view.decisions, fork_rows),
            rubrics=[self.config.rubrics[r] for r in spec.rubrics], mine=mine, others=[] if hide else others,
            hidden=len(others) if hide else 0, adjudication=None if hide else adjudication,
            reserved_until=reservations[0] if reservations else None, fork=fork_rows[0] if fork_rows else None,
            forks=self.storage.forks(source_thread_id=thread_id), moved_on=bool(latest and latest[0] != row.checkpoint_id),
        )  # fmt: skip

    @staticmethod
    def _decisions(rows: Sequence[Mapping[str, Any]], fork_rows: Sequence[ForkRow]) -> list[Decision]:
        out = []
        for fork in fork_rows:
            out.append(Decision(
                interrupt_id=fork.interrupt_id or "", kind="fork", reviewer=fork.created_by, decided_at=fork.created_at,
                comment=f"QA fork of {fork.source_thread_id} at checkpoint {fork.source_checkpoint_id}",
                payload=fork.original_answer, answer=fork.answer if fork.mode == "answer" else {"state_update": fork.state_update, "answer": fork.answer},
                outcome=fork.status, summary=DecisionSummary(verdict="other"), fork=True,
            ))  # fmt: skip
        for row in rows:
            if row.get("action") not in ("decision", "batch", "vote", "timeout", "resolve"):
                continue
            payload, answer = _loads(row.get("payload")), _loads(row.get("answer"))
            out.append(Decision(
                interrupt_id=str(row.get("interrupt_id") or ""), kind=str(row.get("kind") or ""), reviewer=str(row.get("reviewer") or ""),
                decided_at=float(row["decided_at"]) if row.get("decided_at") is not None else None, comment=str(row.get("comment") or ""),
                payload=payload, answer=answer, outcome=str(row.get("outcome") or ""),
                summary=summarize_decision(row.get("kind"), payload, answer),
            ))  # fmt: skip
        return out

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
        who = self._who(reviewer, principal)
        self._item_row(name, thread_id)
        clean = self._scores(name, scores, partial=False)
        has_correction = correction is not None and not (isinstance(correction, str) and not correction.strip())
        self.storage.submit(name, thread_id, who, scores=clean, correction=correction if has_correction else None,
                            has_correction=has_correction, comment=comment or "", now=self.clock())  # fmt: skip
        return next(s for s in self.storage.submissions(name, thread_id) if s.reviewer == who)

    def _scores(self, name: str, scores: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        rubrics = {r.name: r for r in self.rubrics(name)}
        if not isinstance(scores, Mapping):
            raise InvalidAnswer(f"scores must be an object of rubric name to value; got {type(scores).__name__}.")
        unknown = sorted(set(scores) - set(rubrics))
        if unknown:
            raise InvalidAnswer(f"Queue {name!r} has no rubric(s) {unknown}; its rubrics are {', '.join(rubrics)}.",
                                field_errors={u: "unknown rubric" for u in unknown})  # fmt: skip
        clean: dict[str, Any] = {}
        errors: dict[str, str] = {}
        messages = []
        for rubric in rubrics.values():
            if partial and rubric.name not in scores:
                continue
            try:
                value = rubric.validate(scores.get(rubric.name))
            except InvalidAnswer as exc:
                errors.update(exc.field_errors)
                messages.append(str(exc))
                continue
            if value is not None:
                clean[rubric.name] = value
        if errors:
            raise InvalidAnswer(" ".join(messages), field_errors=errors)
        return clean

    # ------------------------------------------------------------------ progress and agreement

    def progress(self, name: str) -> Progress:
        spec = self.queue(name)
        items = self.storage.items(name)
        submissions = self.storage.submissions(name)
        adjudications = self.storage.adjudications(name)
        live = self.storage.reservations(name, now=self.clock())
        per_reviewer: dict[str, list[int]] = {}
        for s in submissions:
            per_reviewer.setdefault(s.reviewer, [0, 0, 0])[0] += 1
        for _, reviewer, _ in live:
            per_reviewer.setdefault(reviewer, [0, 0, 0])[2] += 1
        for reviewer in list(per_reviewer):
            per_reviewer[reviewer][1] = len(self.storage.skipped(name, reviewer))
        complete = [i for i in items if i.submissions >= spec.reviewers_per_item or i.thread_id in adjudications]
        return Progress(
            queue=name, items=len(items), target=len(items) * spec.reviewers_per_item, submissions=len(submissions),
            complete=len(complete), in_progress=sum(1 for i in items if 0 < i.submissions < spec.reviewers_per_item and i.thread_id not in adjudications),
            untouched=sum(1 for i in items if i.submissions == 0 and i.thread_id not in adjudications),
            adjudicated=len(adjudications), disagreements=len(self.disagreements(name, include_adjudicated=False)),
            reserved=len(live),
            reviewers=[ReviewerProgress(reviewer=r, submitted=v[0], skipped=v[1], holding=v[2]) for r, v in sorted(per_reviewer.items())],
        )  # fmt: skip

    def ratings(self, name: str) -> dict[str, list[Rating]]:
        """Every reviewer's rating per rubric (adjudications are not ratings)."""
        out: dict[str, list[Rating]] = {r: [] for r in self.queue(name).rubrics}
        for s in self.storage.submissions(name):
            for rubric, value in s.scores.items():
                if rubric in out:
                    out[rubric].append(Rating(item=s.thread_id, reviewer=s.reviewer, value=value))
        return out

    def agreement(self, name: str) -> list[RubricAgreement]:
        """Krippendorff's alpha and pairwise Cohen's kappa per rubric, with item counts."""
        ratings = self.ratings(name)
        return [rubric_agreement(self.config.rubrics[rubric], ratings[rubric]) for rubric in self.queue(name).rubrics]

    def disagreements(self, name: str, *, limit: int | None = None, include_adjudicated: bool = True,
                      reviewer: str = "", principal: Any = None) -> list[Disagreement]:  # fmt: skip
        """Items whose reviewers disagree most, worst first (for the adjudicator).

        With `reviewer` (or `principal`) the caller must be allowed to adjudicate: the list shows
        everyone's scores, which a blind queue hides from reviewers.
        """
        if reviewer or principal is not None:
            self._require_adjudicator(reviewer, principal)
        rubrics = self.rubrics(name)
        adjudications = self.storage.adjudications(name)
        by_item: dict[str, dict[str, dict[str, Any]]] = {}
        for s in self.storage.submissions(name):
            by_item.setdefault(s.thread_id, {})[s.reviewer] = s.scores
        out = []
        for thread_id, scores in by_item.items():
            if len(scores) < 2 or (not include_adjudicated and thread_id in adjudications):
                continue
            per_rubric = {r.name: item_disagreement(r, [v.get(r.name) for v in scores.values()]) for r in rubrics if r.level}
            worst = max(per_rubric.values(), default=0.0)
            if worst > 0:
                out.append(Disagreement(thread_id=thread_id, disagreement=worst, rubrics=per_rubric, scores=scores,
                                        adjudication=adjudications.get(thread_id)))  # fmt: skip
        out.sort(key=lambda d: (d.adjudication is not None, -d.disagreement, d.thread_id))
        return out[:limit] if limit else out

    def adjudicate(
        self,
        name: str,
        thread_id: str,
        *,
        adjudicator: str,
        scores: Mapping[str, Any],
        correction: Any = None,
        comment: str = "",
        principal: Any = None,
    ) -> AdjudicationRow:
        """Record the final scores of an item (the ones exported); rubrics left out keep the
        reviewers' agreed value. A later adjudication replaces this one.

        Raises:
            NotAuthorized: the adjudicator is not allowed by [qa] adjudicators / adjudicator_roles.
            InvalidAnswer: a score does not fit its rubric.
        """
        who = self._require_adjudicator(adjudicator, principal)
        self._item_row(name, thread_id)
        clean = self._scores(name, scores, partial=True)
        if not clean:
            raise InvalidAnswer("Give at least one final score to adjudicate.", field_errors={"scores": "empty"})
        has_correction = correction is not None and not (isinstance(correction, str) and not correction.strip())
        self.storage.adjudicate(name, thread_id, who, scores=clean, correction=correction if has_correction else None,
                                has_correction=has_correction, comment=comment or "", now=self.clock())  # fmt: skip
        return self.storage.adjudications(name)[thread_id]

    @staticmethod
    def final_scores(rubrics: Sequence[Rubric], submissions: Sequence[SubmissionRow], adjudication: AdjudicationRow | None) -> dict[str, Any]:
        """Per rubric: the adjudicated value; else the reviewers' value when they all gave the
        same one; else None (a disagreement nobody resolved)."""
        final: dict[str, Any] = {}
        for rubric in rubrics:
            if adjudication is not None and rubric.name in adjudication.scores:
                final[rubric.name] = adjudication.scores[rubric.name]
                continue
            values = [s.scores[rubric.name] for s in submissions if s.scores.get(rubric.name) is not None]
            distinct = {repr(v) for v in values}
            final[rubric.name] = values[0] if values and len(distinct) == 1 else None
        return final

    # ------------------------------------------------------------------ datasets

    def export_records(self, name: str, *, principal: Any = None) -> list[dict[str, Any]]:
        """The queue's scored items as dataset examples (`hitl.qa.datasets` documents the fields)."""
        rubrics = self.rubrics(name)
        adjudications = self.storage.adjudications(name)
        by_item: dict[str, list[SubmissionRow]] = {}
        for s in self.storage.submissions(name):
            by_item.setdefault(s.thread_id, []).append(s)
        records = []
        for item in self.storage.items(name):
            submissions = by_item.get(item.thread_id, [])
            adjudication = adjudications.get(item.thread_id)
            if not submissions and adjudication is None:
                continue
            view = self.inbox.thread(item.thread_id, principal=principal)
            output, _ = datasets.final_output(view.values)
            first_input = None if view.values.get("messages") else self._first_input(item.thread_id)
            correction, corrected = self._correction(submissions, adjudication)
            records.append(datasets.example_record(
                queue=name, thread_id=item.thread_id, checkpoint_id=item.checkpoint_id, graph_id=item.graph_id,
                inputs=datasets.run_inputs(view.values, first_input), agent_output=output, correction=correction,
                corrected=corrected, final_scores=self.final_scores(rubrics, submissions, adjudication),
                reviewer_scores={s.reviewer: s.scores for s in submissions},
                adjudicator=adjudication.adjudicator if adjudication else None,
                comments={s.reviewer: s.comment for s in submissions if s.comment}, is_fork=item.is_fork,
            ))  # fmt: skip
        return records

    @staticmethod
    def _correction(submissions: Sequence[SubmissionRow], adjudication: AdjudicationRow | None) -> tuple[Any, bool]:
        """The reference output: the adjudicator's correction, else the latest reviewer correction."""
        if adjudication is not None and adjudication.has_correction:
            return adjudication.correction, True
        corrected = [s for s in submissions if s.has_correction]
        if corrected:
            return max(corrected, key=lambda s: s.submitted_at).correction, True
        return None, False

    def _first_input(self, thread_id: str) -> Any:
        history = list(self.inbox.store.saver.list({"configurable": {"thread_id": thread_id}}))
        for saved in reversed(history):
            if not saved.config["configurable"].get("checkpoint_ns"):
                return saved.checkpoint.get("channel_values", {}).get("__start__")
        return None

    def export(self, name: str, *, format: str = "jsonl", principal: Any = None) -> str:  # noqa: A002 - the CLI's word
        """The queue's dataset as text: `jsonl` (LangSmith examples), `csv`, or `openai` (chat fine-tuning)."""
        if format not in datasets.EXPORT_FORMATS:
            raise InvalidAnswer(f"Unknown export format {format!r}; use one of {', '.join(datasets.EXPORT_FORMATS)}.")
        records = self.export_records(name, principal=principal)
        if format == "jsonl":
            return datasets.to_jsonl(records)
        if format == "csv":
            return datasets.to_csv(records, list(self.queue(name).rubrics))
        return datasets.to_openai_jsonl(records)

    # ------------------------------------------------------------------ forks

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
        who = self._who(reviewer, principal)
        self.inbox.thread(thread_id, principal=principal)  # access check
        row = forks.fork_thread(self.inbox, self.storage, thread_id=thread_id, interrupt_id=interrupt_id, reviewer=who,
                                answer=answer, state_update=state_update, as_node=as_node, notify=notify, clock=self.clock)  # fmt: skip
        if queue:
            self.add_item(queue, row.fork_thread_id, reviewer=who, principal=principal)
        return row

    def continue_fork(self, fork_thread_id: str, answers: Mapping[str, Any], *, reviewer: str, principal: Any = None) -> ForkRow:
        return forks.continue_fork(self.inbox, self.storage, fork_thread_id, answers, reviewer=self._who(reviewer, principal))

    def forks(self, thread_id: str | None = None) -> list[ForkRow]:
        """Forks of one thread (or all), oldest first."""
        return self.storage.forks(source_thread_id=thread_id)

    def compare(self, fork_thread_id: str, *, principal: Any = None) -> forks.Comparison:
        return forks.compare(self.inbox, self.storage, fork_thread_id, principal=principal)

    # ------------------------------------------------------------------ analytics

    def decision_analytics(self, rows: Any = None, *, principal: Any = None) -> DecisionAnalytics:
        """Approve / edit / reject rates and median time to decide per graph and tool, and the
        most-edited fields, over production decisions (forks left out)."""
        frame = self.inbox.history(principal=principal) if rows is None else rows
        return decision_analytics(frame, exclude_threads=self.storage.fork_thread_ids())



def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
