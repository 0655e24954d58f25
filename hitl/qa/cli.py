"""`python -m hitl qa ...`: QA queues, agreement, exports and forks from the command line.

    python -m hitl qa queues
    python -m hitl qa sync QUEUE
    python -m hitl qa progress QUEUE
    python -m hitl qa agreement QUEUE [--json]
    python -m hitl qa export QUEUE --format jsonl|csv|openai [--output FILE]
    python -m hitl qa answered THREAD
    python -m hitl qa fork THREAD --interrupt ID --answer JSON --reviewer NAME [--state JSON] [--as-node N] [--queue Q] [--notify]
    python -m hitl qa analytics [--json]

A thin adapter over `hitl.qa.service.QA`: desk errors (`HitlError`) reach `hitl.__main__`,
which prints them as one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hitl.errors import InvalidAnswer
from hitl.qa.datasets import EXPORT_FORMATS
from hitl.qa.service import QA

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `qa` subcommands, on the parser `hitl.__main__` made for `qa`."""
    sub = parser.add_subparsers(dest="qa_command", required=True)
    sub.add_parser("queues", help="list QA queues with their progress")
    for name, text in (("sync", "sample newly finished threads into a queue"), ("progress", "items and scores per reviewer")):
        sub.add_parser(name, help=text).add_argument("queue")
    agreement = sub.add_parser("agreement", help="Krippendorff's alpha and Cohen's kappa per rubric")
    agreement.add_argument("queue")
    agreement.add_argument("--json", action="store_true")
    export = sub.add_parser("export", help="the queue's scored items as a dataset")
    export.add_argument("queue")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="jsonl",
                        help="jsonl: LangSmith examples; csv; openai: chat fine-tuning file")  # fmt: skip
    export.add_argument("--output", "-o", help="write to this file instead of standard output")
    answered = sub.add_parser("answered", help="a thread's answered interrupts (where it can be forked)")
    answered.add_argument("thread")
    fork = sub.add_parser("fork", help="run a thread again from an answered interrupt with another answer")
    fork.add_argument("thread")
    fork.add_argument("--interrupt", required=True, help="an interrupt id from `qa answered THREAD`")
    fork.add_argument("--answer", help="the other answer, as JSON (default with --state: the original answer)")
    fork.add_argument("--state", help="state values to write at the fork point first, as a JSON object")
    fork.add_argument("--as-node", help="the node --state is written as (inferred when left out)")
    fork.add_argument("--reviewer", required=True)
    fork.add_argument("--queue", help="also add the fork to this QA queue")
    fork.add_argument("--notify", action="store_true", help="send a decision_made webhook for the fork's answer")
    analytics = sub.add_parser("analytics", help="approve/edit/reject rates per graph and tool, most-edited fields")
    analytics.add_argument("--json", action="store_true")


def _json_argument(text: str | None, flag: str) -> Any:
    try:
        return json.loads(text) if text is not None else None
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"{flag} is not valid JSON ({exc}).") from None


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def run(inbox: Any, args: argparse.Namespace) -> int:
    """Run one `qa` subcommand; returns the exit status."""
    qa = QA.of(inbox)
    command = args.qa_command
    if command == "queues":
        for info in qa.queues():
            progress = qa.progress(info.spec.name)
            print(f"{info.spec.name}\t{progress.items} items\t{progress.submissions}/{progress.target} scores\t"
                  f"N={info.spec.reviewers_per_item}{' blind' if info.spec.blind else ''}\t{info.source}")  # fmt: skip
        return 0
    if command == "sync":
        print(f"{qa.sync(args.queue)} item(s) added to {args.queue}")
        return 0
    if command == "progress":
        p = qa.progress(args.queue)
        print(f"{p.items} items, {p.submissions}/{p.target} scores, {p.complete} complete, {p.in_progress} in progress, "
              f"{p.untouched} untouched, {p.adjudicated} adjudicated, {p.disagreements} to adjudicate, {p.reserved} reserved")  # fmt: skip
        for r in p.reviewers:
            print(f"  {r.reviewer}\t{r.submitted} scored\t{r.skipped} skipped\t{r.holding} holding")
        return 0
    if command == "agreement":
        figures = qa.agreement(args.queue)
        if args.json:
            print(json.dumps([_agreement_json(f) for f in figures], indent=2))
            return 0
        for f in figures:
            print(f"{f.rubric} ({f.level or 'not compared'}): alpha {_figure(f.alpha)} over {f.n_items} items"
                  + (f" ({f.reason})" if f.reason else ""))  # fmt: skip
            for p in f.pairs:
                print(f"  kappa {p.reviewer_a} / {p.reviewer_b}: {_figure(p.kappa)} over {p.n_items} items" + (f" ({p.reason})" if p.reason else ""))
        return 0
    if command == "export":
        text = qa.export(args.queue, format=args.format)
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            print(f"{len(text.splitlines()) - (1 if args.format == 'csv' else 0)} example(s) written to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    if command == "answered":
        for a in qa.answered_interrupts(args.thread):
            print(f"{a.interrupt_id}\t{a.node or '?'}\t{a.kind}\t{a.reviewer or '(not via the desk)'}\t{json.dumps(a.answer, default=str)}")
        return 0
    if command == "fork":
        options: dict[str, Any] = {}
        if args.answer is not None:
            options["answer"] = _json_argument(args.answer, "--answer")
        state = _json_argument(args.state, "--state")
        row = qa.fork(args.thread, args.interrupt, reviewer=args.reviewer, state_update=state, as_node=args.as_node,
                      notify=args.notify, queue=args.queue, **options)  # fmt: skip
        print(f"fork {row.fork_thread_id}: {row.status}" + (f" ({row.error})" if row.error else ""))
        return 0 if row.status != "failed" else 1
    if command == "analytics":
        result = qa.decision_analytics()
        frames = {"by_graph": result.by_graph, "by_tool": result.by_tool, "edited_fields": result.edited_fields}
        if args.json:
            print(json.dumps({k: json.loads(v.to_json(orient="records")) for k, v in frames.items()}, indent=2))
            return 0
        for title, frame in frames.items():
            print(f"\n{title}:\n{frame.to_string(index=False) if len(frame) else '(none)'}")
        return 0
    return 2


def _agreement_json(figure: Any) -> dict[str, Any]:
    return {
        "rubric": figure.rubric, "level": figure.level, "alpha": figure.alpha, "n_items": figure.n_items,
        "n_ratings": figure.n_ratings, "reason": figure.reason,
        "pairs": [{"reviewers": [p.reviewer_a, p.reviewer_b], "kappa": p.kappa, "n_items": p.n_items,
                   "observed_agreement": p.observed_agreement, "reason": p.reason} for p in figure.pairs],
    }  # fmt: skip
