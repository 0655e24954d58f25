"""What every QA use case shares: the desk, its [qa] config and storage, who is scoring, one item's row and scores."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hitl.errors import InvalidAnswer, NotAuthorized
from hitl.inbox import Inbox
from hitl.jsondata import from_json_text
from hitl.qa.analytics import DecisionSummary, summarize_decision
from hitl.qa.values import Decision, QaConfig, load_qa_config
from hitl.storage.qa import ForkRow, ItemRow, QaStorage


class QaCore:
    """QA's state over one desk, and the checks every use case makes."""

    def __init__(self, inbox: Inbox, *, clock: Callable[[], float] = time.time, config: QaConfig | None = None) -> None:
        self.inbox = inbox
        self.config = config or load_qa_config(inbox.settings.policy)
        self.storage = QaStorage(inbox.store)
        self.clock = clock
        self.storage.ensure_schema()
        if not inbox.store.read_only:
            for spec in self.config.queues.values():
                self.storage.save_queue(spec.name, spec.to_dict(), source="config", created_by="HITL_CONFIG", now=clock(), replace=True)

    def who_of(self, reviewer: str, principal: Any) -> str:
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

    def require_adjudicator(self, reviewer: str, principal: Any) -> str:
        who = self.who_of(reviewer, principal)
        if not self.can_adjudicate(who, principal=principal):
            raise NotAuthorized(
                f"{who} may not adjudicate: [qa] allows {', '.join(self.config.adjudicators) or 'no identities'}"
                f" and roles {', '.join(self.config.adjudicator_roles) or 'none'}. Ask a QA lead."
            )
        return who

    def item_row(self, name: str, thread_id: str) -> ItemRow:
        rows = self.storage.items(name, [thread_id])
        if not rows:
            raise InvalidAnswer(f"Thread {thread_id!r} is not in QA queue {name!r}.")
        return rows[0]

    @staticmethod
    def decisions_of(rows: Sequence[Mapping[str, Any]], fork_rows: Sequence[ForkRow]) -> list[Decision]:
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
            payload, answer = from_json_text(row.get("payload")), from_json_text(row.get("answer"))
            out.append(Decision(
                interrupt_id=str(row.get("interrupt_id") or ""), kind=str(row.get("kind") or ""), reviewer=str(row.get("reviewer") or ""),
                decided_at=float(row["decided_at"]) if row.get("decided_at") is not None else None, comment=str(row.get("comment") or ""),
                payload=payload, answer=answer, outcome=str(row.get("outcome") or ""),
                summary=summarize_decision(row.get("kind"), payload, answer),
            ))  # fmt: skip
        return out

    def scores_of(self, name: str, scores: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
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
