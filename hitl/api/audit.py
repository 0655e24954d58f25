"""The audit log route: `/history`, in cursor pages, JSON or CSV."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from hitl.api.convert import as_utc, decision_out
from hitl.api.deps import Desk, Reader, as_caller
from hitl.api.models import AUTH_ERRORS, HistoryPage, HistoryRow
from hitl.errors import InvalidAnswer

__all__ = ["router", "history_cursor", "history_after"]

router = APIRouter()


HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 1000
HISTORY_CURSOR_MAX_CHARS = 200


def history_cursor(after_seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after_seq": int(after_seq)}).encode()).decode()


def history_after(cursor: str | None) -> int:
    """The seq a `/history` `next_cursor` continues after (0 without a cursor).

    Raises:
        InvalidAnswer: not a cursor `/history` issued; the message shows its start and the fix.
    """
    if cursor is None:
        return 0

    def refused(why: str) -> InvalidAnswer:
        shown = repr(cursor[:40] + ("..." if len(cursor) > 40 else ""))
        return InvalidAnswer(
            f"History cursor {shown} is not one /history issued ({why}); pass the next_cursor of the "
            "previous page as it was, or leave cursor out to start from the oldest row.",
            field_errors={"cursor": why},
        )

    if len(cursor) > HISTORY_CURSOR_MAX_CHARS:
        raise refused(f"longer than {HISTORY_CURSOR_MAX_CHARS} characters")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except RecursionError:
        raise refused("JSON nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise refused(f"not base64 JSON: {exc}") from None
    after = decoded.get("after_seq") if isinstance(decoded, dict) and set(decoded) == {"after_seq"} else None
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise refused('expected {"after_seq": <row seq>}')
    return after


@router.get(
    "/history",
    response_model=HistoryPage,
    tags=["audit"],
    responses={
        **AUTH_ERRORS,
        200: {
            "description": "The audit log, oldest first, one page: JSON, or CSV with `format=csv` (the next "
            "page's cursor is then in the `X-Next-Cursor` header).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "headers": {
                "X-Next-Cursor": {
                    "description": "With `format=csv`: pass as `cursor` for the next page; absent on the last page.",
                    "schema": {"type": "string"},
                }
            },
        },
    },
)
def history(
    desk: Desk,
    who: Reader,
    reviewer: str | None = None,
    graph_id: str | None = None,
    kind: str | None = None,
    outcome: str | None = None,
    thread_id: str | None = None,
    since: Annotated[
        datetime | None, Query(description="decided_at >= since: ISO 8601 (UTC when no offset is given) or Unix seconds.")
    ] = None,
    until: Annotated[datetime | None, Query(description="decided_at < until.")] = None,
    include_payload: bool = False,
    output_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    limit: Annotated[
        int,
        Query(
            ge=1, le=HISTORY_MAX_LIMIT,
            description=f"Rows per page (default {HISTORY_DEFAULT_LIMIT}, at most {HISTORY_MAX_LIMIT}).",
        ),
    ] = HISTORY_DEFAULT_LIMIT,  # fmt: skip
    cursor: Annotated[
        str | None,
        Query(description="`next_cursor` of the previous page (JSON) or its `X-Next-Cursor` header (CSV)."),
    ] = None,
) -> Any:
    """The audit log: one row per decision, with filters, in pages of `limit` rows; JSON or CSV."""
    after_seq = history_after(cursor)
    inbox = desk.inbox()
    frame = as_caller(inbox, who).history(  # [access]: rows about items the token may not see are left out
        thread_id=thread_id,
        reviewer=reviewer,
        graph_id=graph_id,
        kind=kind,
        outcome=outcome,
        since=as_utc(since, "since"),
        until=as_utc(until, "until"),
    )
    # Rows are oldest first by seq; a page is the `limit` rows after the cursor's seq, so
    # decisions recorded while a client pages never shift the pages it has not read yet.
    frame = frame[frame["seq"].astype("int64") > after_seq]
    page = frame.head(limit)
    next_cursor = history_cursor(int(page["seq"].iloc[-1])) if len(frame) > limit else None
    if output_format == "csv":
        if not include_payload:
            page = page.drop(columns=["payload"])
        return Response(
            content=page.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ"),
            media_type="text/csv",
            headers={
                "Content-Disposition": 'attachment; filename="hitl-history.csv"',
                **({"X-Next-Cursor": next_cursor} if next_cursor else {}),
            },
        )
    rows = [decision_out(row, model=HistoryRow, payload=include_payload) for row in page.to_dict("records")]
    return HistoryPage(items=rows, count=len(rows), next_cursor=next_cursor)
