"""Command line: `python -m hitl pending | show | resume | approve | resolve | audit verify|anchor | recover | qa ...`.

For QA scripts and for checking the core without the UI. Honours HITL_DATABASE_URL and
HITL_GRAPHS like the app. Errors print one clear line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import hitl
from hitl.audit import Anchor, audit_key, parse_anchor, verify_chain
from hitl.durations import humanize_age
from hitl.errors import HitlError
from hitl.notify import run_watcher
from hitl.policy import sweep
from hitl.qa import cli as qa_cli
from hitl.services.recovery import recover_stale_claims

__all__ = ["main"]


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


def _anchor_argument(text: str) -> Any:
    try:
        return parse_anchor(text)
    except HitlError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hitl", description=__doc__)
    parser.add_argument("--database-url", help="overrides HITL_DATABASE_URL")
    parser.add_argument("--graphs", help="overrides HITL_GRAPHS (langgraph.json)")
    sub = parser.add_subparsers(dest="command", required=True)

    pending = sub.add_parser("pending", help="list threads waiting for a human")
    pending.add_argument("--graph")
    pending.add_argument("--kind")
    pending.add_argument("--search")
    pending.add_argument("--limit", type=int, default=50)
    pending.add_argument("--cursor")
    pending.add_argument("--json", action="store_true", help="machine-readable output")

    show = sub.add_parser("show", help="show one thread's pending interrupts and state")
    show.add_argument("thread")

    resume = sub.add_parser("resume", help="answer interrupts and resume the graph")
    resume.add_argument("thread")
    resume.add_argument(
        "--answer",
        required=True,
        help="JSON answer; for several interrupts a JSON object {interrupt_id: answer}",
    )
    resume.add_argument("--interrupt", help="the interrupt id (default: the only pending one)")
    resume.add_argument("--reviewer", required=True)
    resume.add_argument("--comment", default="")

    approve = sub.add_parser("approve", help="one-click approve (or --reject) of the pending interrupt")
    approve.add_argument("thread")
    approve.add_argument("--reject", action="store_true")
    approve.add_argument("--reviewer", required=True)
    approve.add_argument("--comment", default="")

    resolve = sub.add_parser("resolve", help="close a thread without resuming it")
    resolve.add_argument("thread")
    resolve.add_argument("--reviewer", required=True)
    resolve.add_argument("--reason", required=True)

    audit = sub.add_parser(
        "audit",
        help="audit log tools: verify the hash chain, or print an anchor to keep outside the database",
        description="verify: check the audit log's hash chain (exit 0 intact, 1 broken). anchor: verify, "
        "then print the chain head as SEQ:HASH; keep it outside the database (a ticket, a log, "
        "another system) and later run `audit verify --anchor SEQ:HASH` to prove that no row up "
        "to it was removed or rewritten.",
    )
    audit.add_argument("action", choices=["verify", "anchor"])
    audit.add_argument(
        "--anchor",
        type=_anchor_argument,
        metavar="SEQ:HASH",
        help="an anchor printed earlier by `audit anchor` (or sent in a decision_made webhook): "
        "that row and every row before it must still be there, unchanged",
    )

    sub.add_parser("recover", help="settle claims left by a desk that died mid-resume")

    sweep = sub.add_parser("sweep", help="apply timeout policies (expire, escalate)")
    sweep.add_argument("--dry-run", action="store_true")

    notify = sub.add_parser("notify", help="deliver webhook notifications (a watcher)")
    notify.add_argument("--once", action="store_true", help="one pass, then exit")
    notify.add_argument("--interval", type=float, default=2.0)

    qa_cli.add_arguments(sub.add_parser("qa", help="QA of agent outputs: queues, agreement, exports, forks"))

    args = parser.parse_args(argv)
    try:
        return _run(args)
    except HitlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: --answer is not valid JSON ({exc}).", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    # Looked up on the package at call time: tests stand a fake desk in for `hitl.Inbox`.
    inbox = hitl.Inbox.open(database_url=args.database_url, graphs_path=args.graphs)
    if inbox.store.read_only:
        print(f"note: {inbox.store.read_only_reason or 'the database is read-only.'}", file=sys.stderr)
    command = _COMMANDS.get(args.command)
    return command(inbox, args) if command is not None else 2


def _pending(inbox: Any, args: argparse.Namespace) -> int:
    page = inbox.pending(limit=args.limit, cursor=args.cursor, graph_id=args.graph, kind=args.kind, search=args.search)
    if args.json:
        items = [
            {
                "thread_id": t.thread_id,
                "graph_id": t.graph_id,
                "waiting_since": t.waiting_since.isoformat(),
                "interrupts": [{"id": i.id, "node": i.node, "kind": i.kind, "summary": i.summary} for i in t.interrupts],
            }
            for t in page.items
        ]
        print(_json({"total": page.total, "next_cursor": page.next_cursor, "items": items}))
        return 0
    print(f"{page.total} thread(s) waiting")
    for item in page.items:
        kinds = ",".join(item.kinds)
        print(f"{item.thread_id}\t{item.graph_id or '?'}\t{kinds}\t{humanize_age(item.waiting_since)}\t{item.summary}")
    if page.next_cursor:
        print(f"more: --cursor {page.next_cursor}")
    return 0


def _show(inbox: Any, args: argparse.Namespace) -> int:
    view = inbox.thread(args.thread)
    print(f"thread {view.thread_id}  graph {view.graph_id or '?'}  status {view.status}")
    if view.read_only_reason:
        print(f"read-only: {view.read_only_reason}")
    for item in view.interrupts:
        print(f"\ninterrupt {item.id}  node {item.node}  kind {item.kind}")
        print(_json(item.value))
        if item.response_schema:
            print("response_schema:", _json(item.response_schema))
    for node, error in view.errors:
        print(f"\nerror in {node}: {error}")
    return 0


def _resume(inbox: Any, args: argparse.Namespace) -> int:
    answer = json.loads(args.answer)
    view = inbox.thread(args.thread)
    ids = {item.id for item in view.interrupts}
    if not ids and not args.interrupt:
        decisions = inbox.history(thread_id=args.thread)
        last = (f"; already decided by {decisions.iloc[-1]['reviewer']} at {decisions.iloc[-1]['decided_at']}"
                if len(decisions) else "")
        raise HitlError(f"Thread {args.thread!r} is not pending (status {view.status}){last}. Nothing was sent.")
    if args.interrupt:
        answers = {args.interrupt: answer}
    elif isinstance(answer, dict) and answer and set(answer) <= ids:
        answers = answer
    elif len(ids) == 1:
        answers = {next(iter(ids)): answer}
    else:
        raise HitlError(
            f"Thread {args.thread!r} has {len(ids)} pending interrupts; pass --interrupt ID or an "
            "--answer object keyed by interrupt id."
        )
    outcome = inbox.resume(args.thread, answers, reviewer=args.reviewer, comment=args.comment)
    _print_outcome(outcome)
    return 0 if outcome.status != "failed" else 1


def _approve(inbox: Any, args: argparse.Namespace) -> int:
    outcome = inbox.decide(args.thread, approve=not args.reject, reviewer=args.reviewer, comment=args.comment)
    _print_outcome(outcome)
    return 0 if outcome.status != "failed" else 1


def _resolve(inbox: Any, args: argparse.Namespace) -> int:
    inbox.resolve(args.thread, reviewer=args.reviewer, reason=args.reason)
    print(f"thread {args.thread} marked resolved")
    return 0


def _recover(inbox: Any, args: argparse.Namespace) -> int:
    settled = recover_stale_claims(inbox)
    for thread_id, interrupt_id, result in settled:
        print(f"{thread_id}\t{interrupt_id}\t{result}")
    print(f"{len(settled)} stale claim(s) settled")
    return 0


def _sweep(inbox: Any, args: argparse.Namespace) -> int:
    for line in sweep(inbox, dry_run=args.dry_run):
        print(line)
    return 0


def _notify(inbox: Any, args: argparse.Namespace) -> int:
    run_watcher(inbox, once=args.once, interval=args.interval)
    return 0


def _audit(inbox: Any, args: argparse.Namespace) -> int:
    head = inbox.store.audit_head()
    report = verify_chain(inbox.store.audit_rows(), head=head, key=audit_key(), anchor=args.anchor)
    if args.action == "verify":
        print(report)
        return 0 if report.ok else 1
    if not report.ok:
        print(report)
        print("error: the audit chain is broken; an anchor taken now would vouch for tampered rows.", file=sys.stderr)
        return 1
    if head is None or not report.rows:
        print("error: the audit log is empty: there is no row to anchor yet.", file=sys.stderr)
        return 1
    anchor = Anchor(seq=int(head["seq"]), row_hash=str(head["row_hash"]))
    print(anchor)
    print(
        f"{report}. Keep this anchor outside the database; later, "
        f"`python -m hitl audit verify --anchor {anchor}` proves rows 1..{anchor.seq} were neither "
        "removed nor rewritten.",
        file=sys.stderr,
    )
    return 0


def _print_outcome(outcome: Any) -> None:
    print(f"outcome: {outcome.status}")
    if outcome.error:
        print(f"error: {outcome.error}")
    for item in outcome.new_interrupts:
        print(f"now waiting: {item.id} ({item.kind}) {item.summary}")


_COMMANDS: dict[str, Callable[[Any, argparse.Namespace], int]] = {
    "pending": _pending,
    "show": _show,
    "resume": _resume,
    "approve": _approve,
    "resolve": _resolve,
    "audit": _audit,
    "recover": _recover,
    "sweep": _sweep,
    "qa": lambda inbox, args: qa_cli.run(inbox, args),
    "notify": _notify,
}


if __name__ == "__main__":
    sys.exit(main())
