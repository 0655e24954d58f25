"""QA queues: defining them, and sampling finished threads into them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hitl.errors import HitlError, InvalidAnswer, ThreadNotFound
from hitl.jsondata import json_safe
from hitl.qa import forks
from hitl.qa.analytics import summarize_decision
from hitl.qa.core import QaCore
from hitl.qa.queues import QueueSpec, matches, queue_from_dict, sampled
from hitl.qa.rubrics import Rubric
from hitl.qa.values import QueueInfo
from hitl.storage.qa import ItemRow


FINISHED = ("completed", "failed", "resolved")


SYNC_EVERY_SECONDS = 60.0
"""`next_item` samples newly finished threads into its queue at most this often."""


class QueueUseCases(QaCore):
    """Queues and their items."""

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
        self.require_adjudicator(reviewer, principal)
        if name in self.config.queues:
            raise InvalidAnswer(f"Queue {name!r} is defined in HITL_CONFIG; remove it there instead.")
        self.queue(name)
        self.storage.delete_queue(name)

    def rubrics(self, name: str) -> list[Rubric]:
        return [self.config.rubrics[r] for r in self.queue(name).rubrics]

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
        who = self.who_of(reviewer, principal)
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
