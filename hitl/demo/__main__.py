"""`python -m hitl.demo seed [--threads N] [--if-empty]`: fill the desk with demo threads."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import hitl
from hitl.demo.graphs import DEMO_GRAPH_IDS
from hitl.demo.seed import seed
from hitl.errors import HitlError

DEFAULT_THREADS = 2 * len(DEMO_GRAPH_IDS)
"""Two pending threads per demo graph."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hitl.demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    seed_command = commands.add_parser(
        "seed",
        help="start demo threads that wait for review",
        description="Start demo threads in the desk's database (HITL_DATABASE_URL), "
        "using the graphs registered in HITL_GRAPHS.",
    )
    seed_command.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"how many threads to start (default: {DEFAULT_THREADS})",
    )
    seed_command.add_argument(
        "--if-empty", action="store_true", help="seed only when nothing is pending"
    )
    seed_command.add_argument(
        "--graph", action="append", dest="graph_ids", metavar="GRAPH_ID",
        help="seed only this demo graph (repeatable; default: all)",
    )
    seed_command.add_argument(
        "--prefix", default="demo", help="first part of every thread id (default: demo)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        # Seeding is how a new desk gets its database, so a missing SQLite file is created.
        with hitl.Inbox.open(create=True) as inbox:  # looked up at call time (tests stand in a fake)
            if args.if_empty and inbox.pending(limit=1).total > 0:
                print("Desk already has pending threads; nothing seeded.")
                return 0
            thread_ids = seed(inbox, args.threads, graph_ids=args.graph_ids, prefix=args.prefix)
    except (HitlError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    graphs = len({thread_id.rsplit("-", 1)[0] for thread_id in thread_ids})
    print(f"Seeded {len(thread_ids)} pending threads across {graphs} demo graphs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
