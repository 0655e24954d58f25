"""Child process for tests/storage/test_readonly.py: open a desk on a database it may not write.

Run as `python -m tests.fixture_readonly DB_PATH GRAPHS_PATH THREAD_ID`, as a user who cannot
write the file or its directory (the test drops root's CAP_DAC_OVERRIDE with setpriv, so the
file modes really bite). Prints one JSON object: what the library and the REST API did.
"""

from __future__ import annotations

import json
import os
import sys


def main(db_path: str, graphs_path: str, thread_id: str) -> dict:
    from fastapi.testclient import TestClient

    from hitl import Inbox, StoreError
    from hitl.api import create_app

    report: dict = {"can_write_file": os.access(db_path, os.W_OK), "can_write_dir": os.access(os.path.dirname(db_path), os.W_OK)}
    try:
        inbox = Inbox.open(database_url=f"sqlite:///{db_path}", graphs_path=graphs_path)
    except Exception as exc:  # noqa: BLE001 - reported to the test
        report["open_error"] = f"{type(exc).__name__}: {exc}"
        return report
    try:
        report["read_only"] = inbox.store.read_only
        report["read_only_reason"] = inbox.store.read_only_reason
        page = inbox.pending()
        report["pending"] = [item.thread_id for item in page.items]
        report["status"] = inbox.thread(thread_id).status
        report["audit_ok"] = inbox.verify_audit().ok
        try:
            inbox.decide(thread_id, approve=True, reviewer="alice")
        except StoreError as exc:
            report["decide_error"] = str(exc)
        client = TestClient(create_app(inbox, tokens={"alice-secret": "alice@example.com"}))
        headers = {"Authorization": "Bearer alice-secret"}
        report["healthz"] = client.get("/healthz").json()
        report["api_pending_total"] = client.get("/pending", headers=headers).json()["total"]
        approve = client.post("/approve", headers=headers, json={"thread_id": thread_id, "approved": True})
        report["api_approve"] = [approve.status_code, approve.json()]
    finally:
        inbox.close()
    return report


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
