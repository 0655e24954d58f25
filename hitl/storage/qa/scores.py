"""The SQL of QA scores: reviewers' submissions and adjudicators' final scores."""

from __future__ import annotations

import json
from typing import Any

from hitl.errors import InvalidAnswer
from hitl.storage.qa.rows import AdjudicationRow, SubmissionRow, dump_json, load_json
from hitl.storage.qa.schema import QaSchema


class ScoreTables(QaSchema):
    """Submissions and adjudications."""

    def submit(
        self, queue: str, thread_id: str, reviewer: str, *, scores: dict[str, Any], correction: Any, has_correction: bool,
        comment: str, now: float,
    ) -> None:  # fmt: skip
        """Record a reviewer's scores for an item and release their reservation, in one transaction.

        Raises:
            InvalidAnswer: the reviewer already submitted scores for this item (scores are final).
        """
        sql = self.store.dialect.sql
        with self.store.connection(write=True) as conn:
            done = conn.execute(
                sql("SELECT submitted_at FROM hitl_qa_submissions WHERE queue = ? AND thread_id = ? AND reviewer = ?"),
                (queue, thread_id, reviewer),
            ).fetchone()
            if done is not None:
                from datetime import datetime, timezone

                when = datetime.fromtimestamp(float(done[0]), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                raise InvalidAnswer(
                    f"{reviewer} already scored {thread_id!r} in queue {queue!r} (at {when}); scores are final. "
                    "Ask an adjudicator to set the final score if it needs changing."
                )
            conn.execute(
                sql(
                    "INSERT INTO hitl_qa_submissions (queue, thread_id, reviewer, scores, correction, comment, submitted_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
                (queue, thread_id, reviewer, dump_json(scores), dump_json(correction) if has_correction else None, comment, now),
            )
            conn.execute(
                sql("DELETE FROM hitl_qa_reservations WHERE queue = ? AND thread_id = ? AND reviewer = ?"), (queue, thread_id, reviewer)
            )

    def submissions(self, queue: str, thread_id: str | None = None) -> list[SubmissionRow]:
        sql = "SELECT queue, thread_id, reviewer, scores, correction, comment, submitted_at FROM hitl_qa_submissions WHERE queue = ?"
        params: list[Any] = [queue]
        if thread_id is not None:
            sql += " AND thread_id = ?"
            params.append(thread_id)
        rows = self.store.query(sql + " ORDER BY submitted_at, reviewer", params)
        return [
            SubmissionRow(queue=r[0], thread_id=r[1], reviewer=r[2], scores=json.loads(r[3]), correction=load_json(r[4]),
                          has_correction=r[4] is not None, comment=r[5], submitted_at=float(r[6]))  # fmt: skip
            for r in rows
        ]

    def adjudicate(
        self, queue: str, thread_id: str, adjudicator: str, *, scores: dict[str, Any], correction: Any, has_correction: bool,
        comment: str, now: float,
    ) -> None:  # fmt: skip
        """Set an item's final scores (and correction); a later adjudication replaces it."""
        self.store.execute_write(
            "INSERT INTO hitl_qa_adjudications (queue, thread_id, adjudicator, scores, correction, comment, decided_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (queue, thread_id) DO UPDATE SET adjudicator = excluded.adjudicator, "
            "scores = excluded.scores, correction = excluded.correction, comment = excluded.comment, decided_at = excluded.decided_at",
            (queue, thread_id, adjudicator, dump_json(scores), dump_json(correction) if has_correction else None, comment, now),
        )

    def adjudications(self, queue: str) -> dict[str, AdjudicationRow]:
        rows = self.store.query(
            "SELECT queue, thread_id, adjudicator, scores, correction, comment, decided_at FROM hitl_qa_adjudications WHERE queue = ?",
            (queue,),
        )
        return {
            r[1]: AdjudicationRow(queue=r[0], thread_id=r[1], adjudicator=r[2], scores=json.loads(r[3]), correction=load_json(r[4]),
                                  has_correction=r[4] is not None, comment=r[5], decided_at=float(r[6]))  # fmt: skip
            for r in rows
        }
