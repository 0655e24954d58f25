"""QA results: progress, agreement, adjudication, final scores and exports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hitl.errors import InvalidAnswer
from hitl.qa import datasets
from hitl.qa.agreement import Rating, RubricAgreement, item_disagreement, rubric_agreement
from hitl.qa.core import QaCore
from hitl.qa.rubrics import Rubric
from hitl.qa.values import Disagreement, Progress, ReviewerProgress
from hitl.storage.qa import AdjudicationRow, SubmissionRow


class ResultUseCases(QaCore):
    """What the scores add up to."""

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
            self.require_adjudicator(reviewer, principal)
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
        who = self.require_adjudicator(adjudicator, principal)
        self.item_row(name, thread_id)
        clean = self.scores_of(name, scores, partial=True)
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
