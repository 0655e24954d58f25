"""Tables the pages show, built as pandas DataFrames (no streamlit here, so plain tests work).

Every cell holding payload, state or reviewer text stays a plain string: dataframe cells are
never rendered as markdown or HTML. Invisible characters in them are written out as `[U+200B]`
(`hitl.ui.text.visible_controls`), and a queue or thread row whose payload holds any says so in
its Note column ("contains invisible characters").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pandas as pd

from hitl.durations import humanize_seconds
from hitl.inbox import BatchResult, PendingThread, ThreadView
from hitl.kinds import kind_of
from hitl.kinds.impact import Impact, format_amount, read_impact
from hitl.qa.analytics import summarize_decision
from hitl.store import ThreadRow
from hitl.ui.text import hidden_in, visible_controls

__all__ = [
    "QUEUE_COLUMNS",
    "QUEUE_COLUMN_HELP",
    "queue_frame",
    "batch_preview",
    "batch_confirm_line",
    "threads_frame",
    "last_decision",
    "timeline_frame",
    "batch_frame",
    "batch_blockers",
    "verdict",
    "with_verdicts",
    "filter_history",
    "history_table",
    "approval_rates",
    "csv_bytes",
]

QUEUE_COLUMNS = ("Thread", "Graph", "Kind", "Waiting", "Time left", "Tool", "Target", "Amount", "Currency",
                 "Interrupts", "Summary", "Note")
"""Short columns first, so the waiting time stays on screen and the summary takes the rest. Tool,
Target and Amount say what approving does (`hitl.kinds.impact`); Amount is a number, so it sorts."""


def _impacts(item: PendingThread) -> list[Impact]:
    return [read_impact(getattr(i, "value", None), getattr(i, "response_schema", None), kind=getattr(i, "kind", None))
            for i in item.interrupts]


def _impact_cells(item: PendingThread) -> dict[str, Any]:
    impacts = _impacts(item)
    amounts = [(i.amount, i.currency) for i in impacts if i.amount is not None]
    currencies = {c for _, c in amounts}
    return {
        "Tool": visible_controls(", ".join(dict.fromkeys(i.tool for i in impacts if i.tool))),
        "Target": visible_controls(", ".join(dict.fromkeys(i.target for i in impacts if i.target))),
        "Amount": sum(a for a, _ in amounts) if amounts and len(currencies) == 1 else (None if not amounts else float("nan")),
        "Currency": currencies.pop() if amounts and len(currencies) == 1 else ("mixed" if amounts else ""),
    }


def _age(since: datetime | None, now: datetime) -> str:
    return "—" if since is None else humanize_seconds((now - since).total_seconds())


HIDDEN_NOTE = "contains invisible characters"
"""The Note of a row whose thread id, graph, summary or payload holds invisible characters."""


def _note(note: str | None, *, hidden: bool) -> str:
    parts = [visible_controls(note)] if note else []
    if hidden:
        parts.append(HIDDEN_NOTE)
    return "; ".join(parts)


def queue_frame(
    items: Sequence[PendingThread], *, now: datetime | None = None, time_left: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per pending thread, in the order given; `time_left` labels by thread id."""
    now = now or datetime.now(timezone.utc)
    time_left = time_left or {}
    rows = [
        {
            "Thread": visible_controls(item.thread_id),
            "Graph": visible_controls(item.graph_id or "—"),
            "Kind": ", ".join(item.kinds) or "—",
            "Summary": visible_controls(item.summary),
            "Waiting": _age(item.waiting_since, now),
            "Time left": time_left.get(item.thread_id, ""),
            "Interrupts": len(item.interrupts),
            **_impact_cells(item),
            "Note": _note(item.read_only_reason, hidden=bool(hidden_in(
                [item.thread_id, item.graph_id, item.summary, *(getattr(i, "value", None) for i in item.interrupts)]
            ))),
        }
        for item in items
    ]
    return pd.DataFrame(rows, columns=list(QUEUE_COLUMNS))


QUEUE_COLUMN_HELP = {
    "Tool": "The tool(s) approving runs",
    "Target": "Who or what the call acts on: recipient, account, record",
    "Amount": "The amount approving moves (sortable); its currency is beside it",
    "Summary": "What the agent asks; open the review for all of it",
}
"""Column help for the Inbox table (shown on hover over the header)."""


def batch_preview(items: Sequence[PendingThread]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """What "Approve all N" would let run, one row per thread (tool, target, amount, what it
    does), and a tally: {"threads", "money", "deletes", "calls", "totals": {currency: sum}}."""
    rows = []
    tally: dict[str, Any] = {"threads": 0, "money": 0, "deletes": 0, "calls": 0, "totals": {}}
    for item in items:
        impacts = _impacts(item)
        cells = _impact_cells(item)
        rows.append({"Thread": visible_controls(item.thread_id), "Tool": cells["Tool"], "Target": cells["Target"],
                     "Amount": cells["Amount"], "Currency": cells["Currency"],
                     "Approving": visible_controls(" / ".join(i.line for i in impacts))})
        tally["threads"] += 1
        tally["money"] += any(i.moves_money for i in impacts)
        tally["deletes"] += any(i.deletes for i in impacts)
        tally["calls"] += sum(max(1, len(i.calls)) for i in impacts)
        for impact in impacts:
            for call in impact.calls or ():
                if call.amount is not None:
                    tally["totals"][call.currency] = tally["totals"].get(call.currency, 0.0) + call.amount
            if not impact.calls and impact.amount is not None:
                tally["totals"][impact.currency] = tally["totals"].get(impact.currency, 0.0) + impact.amount
    return pd.DataFrame(rows, columns=["Thread", "Tool", "Target", "Amount", "Currency", "Approving"]), tally


def batch_confirm_line(count: int, tally: dict[str, Any]) -> str:
    """ "Confirm: approving all 40 threads runs 40 calls · deletes in 40 threads · moves 12,000.00 EUR"."""
    parts = [f"Confirm: approving all {count} threads runs {tally['calls']:,} call{'s' if tally['calls'] != 1 else ''}"]
    if tally["deletes"]:
        parts.append(f"deletes in {tally['deletes']:,} thread{'s' if tally['deletes'] != 1 else ''}")
    if tally["money"]:
        totals = ", ".join(format_amount(total, currency) for currency, total in tally["totals"].items())
        parts.append(f"moves money in {tally['money']:,} thread{'s' if tally['money'] != 1 else ''}"
                     + (f" ({totals})" if totals else ""))
    return " · ".join(parts) + ". Check the preview above; nothing is sent until you confirm."


def last_decision(row: Mapping[str, Any]) -> dict[str, str]:
    """Kind, summary and where it ended for a thread no longer paused, from its last audit row."""
    kind = str(row.get("kind") or "")
    payload = row.get("payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            pass
    try:
        summary = kind_of(kind).summary(payload) if kind else ""
    except Exception:  # a hostile payload: the row still draws
        summary = ""
    reviewer = str(row.get("reviewer") or "someone")
    action = str(row.get("action") or "decided")
    return {"kind": kind, "summary": summary, "node": f"ended · last {action} by {reviewer}"}


def threads_frame(rows: Sequence[ThreadRow], *, now: datetime | None = None,
                  last: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """One row per thread for the Threads page; `last` (`last_decision` by thread id) fills
    Kind, Summary and Paused at for threads that are no longer paused."""
    now = now or datetime.now(timezone.utc)
    last = last or {}
    data = [
        {
            "Thread": visible_controls(row.thread_id),
            "Graph": visible_controls(row.graph_id or "—"),
            "Status": row.status,
            "Kind": ", ".join(row.kinds) or last.get(row.thread_id, {}).get("kind", "") or "—",
            "Summary": visible_controls(row.summary or last.get(row.thread_id, {}).get("summary", "")) or "—",
            "Updated": _age(row.updated_at, now) + " ago",
            "Node": visible_controls(", ".join(row.nodes) or last.get(row.thread_id, {}).get("node", "")) or "—",
            "Note": _note(row.graph_note, hidden=bool(hidden_in([row.thread_id, row.graph_id, row.summary, *row.nodes]))),
        }
        for row in rows
    ]
    return pd.DataFrame(data, columns=["Thread", "Graph", "Status", "Kind", "Updated", "Node", "Summary", "Note"])


def batch_blockers(items: Iterable[PendingThread]) -> list[str]:
    """Why these threads cannot be decided together in one batch (empty when they can)."""
    items = list(items)
    reasons = []
    kinds = sorted({", ".join(item.kinds) or "unknown" for item in items})
    if len(kinds) > 1:
        reasons.append(
            f"The selection mixes kinds ({'; '.join(kinds)}). A batch answers every thread the same way, "
            "so select threads of one kind (use the Kind filter)."
        )
    several = [item.thread_id for item in items if len(item.interrupts) > 1]
    if several:
        reasons.append(
            f"{len(several)} selected thread(s) wait on several interrupts at once ({', '.join(several[:3])}"
            f"{'…' if len(several) > 3 else ''}); open each one to answer its interrupts."
        )
    read_only = [item.thread_id for item in items if item.read_only_reason]
    if read_only:
        reasons.append(
            f"{len(read_only)} selected thread(s) are read-only here ({', '.join(read_only[:3])}): "
            "the desk cannot tell which registered graph to resume."
        )
    return reasons


_RESULT_EXPLAINED = {
    "completed": "the graph ran to its end",
    "waiting": "the graph paused again at a new interrupt; it is back in the inbox",
    "failed": "the graph raised after the answer; nothing is lost, retry or resolve it from Threads",
    "already decided": "someone else answered it first; nothing was sent",
    "invalid": "this request cannot be answered in one click; open it to answer",
    "not found": "the thread no longer exists",
    "not authorized": "your role may not decide this request",
    "changed": "it moved on to a new request since you selected it; nothing was sent",
}


def batch_frame(results: Sequence[BatchResult | dict[str, Any]]) -> pd.DataFrame:
    """The per-thread result table shown after a batch."""
    rows = []
    for result in results:
        data = result if isinstance(result, dict) else {
            "thread_id": result.thread_id, "result": result.result, "message": result.message,
        }  # fmt: skip
        rows.append(
            {
                "Thread": visible_controls(data["thread_id"]),
                "Result": data["result"],
                "What it means": _RESULT_EXPLAINED.get(data["result"], ""),
                "Details": visible_controls(data.get("message") or ""),
            }
        )
    return pd.DataFrame(rows, columns=["Thread", "Result", "What it means", "Details"])


def timeline_frame(view: ThreadView) -> pd.DataFrame:
    """Checkpoints and decisions of one thread, interleaved by time, oldest first."""
    rows: list[dict[str, Any]] = []
    for checkpoint in view.checkpoints:
        written = ", ".join(checkpoint.channels_written)
        rows.append(
            {
                "When": checkpoint.created_at,
                "Event": "checkpoint",
                "Step": checkpoint.step,
                "Source": checkpoint.source or "",
                "By": "",
                "Detail": f"tasks wrote: {written}" if written else "",
                "Id": checkpoint.checkpoint_id,
            }
        )
    for decision in view.decisions:
        action = decision.get("action") or "decision"
        answer = decision.get("answer")
        detail = f"{decision.get('outcome')}: {_compact_json(answer)}" if answer not in (None, "", "null") else str(decision.get("outcome"))
        if decision.get("comment"):
            detail += f" — {decision['comment']}"
        if decision.get("error"):
            detail += f" — error: {decision['error']}"
        rows.append(
            {
                "When": datetime.fromtimestamp(float(decision["decided_at"]), timezone.utc),
                "Event": action if action != "decision" else f"decision ({decision.get('kind') or '?'})",
                "Step": None,
                "Source": "reviewer",
                "By": visible_controls(decision.get("reviewer") or ""),
                "Detail": visible_controls(detail),
                "Id": decision.get("interrupt_id") or "",
            }
        )
    frame = pd.DataFrame(rows, columns=["When", "Event", "Step", "Source", "By", "Detail", "Id"])
    if not frame.empty:
        frame = frame.sort_values("When", kind="stable").reset_index(drop=True)
        frame["Step"] = frame["Step"].astype("Int64")
    return frame


def _compact_json(text: Any, width: int = 200) -> str:
    if not isinstance(text, str):
        text = json.dumps(text, default=str)
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


# --------------------------------------------------------------------------- history


def verdict(kind: str | None, answer: Any, *, action: str | None = None, payload: Any = None) -> str:
    """What a recorded answer meant: approved, edited, rejected, feedback, mixed, resolved or
    other (`hitl.qa.analytics.summarize_decision`, which the History analytics use too).

    `answer` and `payload` may be the audit log's JSON text. Used for the approval-rate chart,
    never to decide anything.
    """
    if action == "resolve":
        return "resolved"
    return summarize_decision(kind, payload, answer).verdict


def with_verdicts(frame: pd.DataFrame) -> pd.DataFrame:
    """The audit frame with a `verdict` column."""
    frame = frame.copy()
    frame["verdict"] = [
        verdict(kind, answer, action=action, payload=payload)
        for kind, answer, action, payload in zip(frame["kind"], frame["answer"], frame["action"], frame["payload"], strict=True)
    ] if len(frame) else pd.Series(dtype="object")  # fmt: skip
    return frame


def filter_history(
    frame: pd.DataFrame,
    *,
    reviewers: Sequence[str] = (),
    graphs: Sequence[str] = (),
    kinds: Sequence[str] = (),
    outcomes: Sequence[str] = (),
    date_from: date | None = None,
    date_to: date | None = None,
) -> pd.DataFrame:
    """Rows matching every filter; an empty filter keeps everything. Dates are UTC days, inclusive."""
    mask = pd.Series(True, index=frame.index)
    for column, wanted in (("reviewer", reviewers), ("graph_id", graphs), ("kind", kinds), ("outcome", outcomes)):
        if wanted:
            mask &= frame[column].isin(list(wanted))
    if date_from is not None:
        mask &= frame["decided_at"] >= pd.Timestamp(datetime.combine(date_from, time.min, timezone.utc))
    if date_to is not None:
        mask &= frame["decided_at"] < pd.Timestamp(datetime.combine(date_to + timedelta(days=1), time.min, timezone.utc))
    return frame[mask]


def history_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The audit columns a reviewer reads, newest first."""
    shown = frame.sort_values("seq", ascending=False)
    return pd.DataFrame(
        {
            "Decided at (UTC)": shown["decided_at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "Thread": shown["thread_id"].map(visible_controls),
            "Graph": shown["graph_id"].fillna("—").map(visible_controls),
            "Kind": shown["kind"].fillna("—"),
            "Action": shown["action"],
            "Verdict": shown["verdict"] if "verdict" in shown else "",
            "Reviewer": shown["reviewer"].map(visible_controls),
            "Comment": shown["comment"].fillna("").map(visible_controls),
            "Outcome": shown["outcome"],
            "Waited": [humanize_seconds(s) for s in shown["waited_seconds"]],
            "Answer": [visible_controls(_compact_json(a)) if a not in (None, "null") else "" for a in shown["answer"]],
            "Error": shown["error"].fillna("").map(visible_controls),
            "Seq": shown["seq"],
        }
    ).reset_index(drop=True)


_DECISIVE = ("approved", "edited", "rejected", "feedback", "mixed")


def approval_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Per graph: decisions, approved (incl. edited) and the approval rate, over real verdicts."""
    decided = frame[frame["verdict"].isin(_DECISIVE)] if len(frame) else frame
    if decided.empty:
        return pd.DataFrame(columns=["graph", "decisions", "approved", "approval_rate"])
    grouped = decided.assign(graph=decided["graph_id"].fillna("(unknown)")).groupby("graph")
    out = pd.DataFrame(
        {
            "decisions": grouped.size(),
            "approved": grouped["verdict"].agg(lambda v: int(v.isin(["approved", "edited"]).sum())),
        }
    ).reset_index()
    out["approval_rate"] = out["approved"] / out["decisions"]
    return out.sort_values("graph").reset_index(drop=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV, safe to open in a spreadsheet.

    Text cells starting with = + - @ (or a tab/CR) get a leading apostrophe, so a payload
    cannot plant a formula that a spreadsheet would run (OWASP "CSV injection").
    """
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
            )
    if "decided_at" in safe:
        safe["decided_at"] = safe["decided_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return safe.to_csv(index=False).encode("utf-8")
