"""A desk process for tests/storage/test_first_index.py: runs the background first index.

    python -m tests.first_index_desk URL GRAPHS BATCH LEASE_SECONDS

Opens the desk, waits for a line on stdin, starts the background first index, and prints
"started" once it holds the lease; then indexes one batch per line it reads, so the test can
kill it (SIGKILL: no cleanup, the lease left to expire) with the index exactly half done.
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    url, graphs, batch, lease = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    from hitl import Inbox

    inbox = Inbox.open(database_url=url, graphs_path=graphs)
    inbox.first_index_in_call = 0
    inbox.index_batch = batch
    inbox.index_lease_seconds = lease
    backfill = inbox.store.backfill

    def stepped_backfill(*args, **kwargs):
        sys.stdin.readline()  # one batch per line from the test
        return backfill(*args, **kwargs)

    inbox.store.backfill = stepped_backfill  # type: ignore[method-assign]
    print("ready", flush=True)
    sys.stdin.readline()
    inbox.refresh()
    while inbox.store.indexing()["owner"] is None:
        time.sleep(0.01)
    print("started", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
