"""What led to an interrupt: the graph diagram, the conversation, the state, the decision trail.

The pure helpers (`md_escape`, `safe_markdown`, `clip`, `pretty_json`, `graph_dot`, `diagram_of`,
`chat_turns`, `calls_frame`, `trail_rows`) hold the logic and are unit-tested without a Streamlit
runtime; the `render_*` functions below them only draw. Untrusted text (messages, payloads,
tool args, error messages) is drawn with `st.text`/`st.code`/`st.json` (`show_text`,
`show_code_json`, `show_json`), or escaped with `md_escape` wherever Streamlit would parse
markdown (labels, captions, alerts); invisible characters are shown and flagged in all of them
(`hitl.ui.text`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import streamlit as st

from hitl.messages import content_text, message_field
from hitl.ui.text import (
    escape_markdown,
    hidden_in,
    hidden_note,
    json_escape_hidden,
    jsonable,
    may_hold_hidden,
    visible_controls,
)

__all__ = [
    "DiagramNode",
    "DiagramEdge",
    "ChatTurn",
    "md_escape",
    "safe_markdown",
    "clip",
    "pretty_json",
    "graph_dot",
    "diagram_of",
    "chat_turns",
    "trail_rows",
    "render_diagram",
    "render_conversation",
    "render_state",
    "render_trail",
    "show_text",
    "show_hidden_note",
    "show_json",
    "show_code_json",
    "calls_frame",
    "json_view",
    "show_alert",
]

TEXT_LIMIT = 20_000
"""Characters of one text shown inline; the rest is cut with a note (1 MB payloads exist)."""

RECENT_MESSAGES = 12
"""Messages shown expanded; older ones sit in an expander."""

OLDER_MESSAGES = 100
"""Older messages drawn in that expander (the most recent of them)."""

TOOL_CALLS_INLINE = 10
"""Tool calls of one message drawn as JSON blocks; the rest of a long list is one table."""

# --------------------------------------------------------------------------- escaping


def md_escape(text: Any) -> str:
    """Escape text for one line of Streamlit markdown (labels, captions, alerts).

    Newlines become spaces; the rest is `hitl.ui.text.escape_markdown`: every markdown and HTML
    character shown literally, autolinks and icons broken, invisible characters made visible.
    """
    return escape_markdown(text, single_line=True)


def safe_markdown(text: Any, *, limit: int = TEXT_LIMIT) -> str:
    """Text from an untrusted source (an Agent Inbox description, say) for `st.markdown`, as text.

    Clipped to `limit` characters, then `hitl.ui.text.escape_markdown`: the words, line breaks
    and indentation as written, and nothing live (no link, image, heading, list, table, HTML,
    math, icon or colour). Markdown formatting in the text is shown, not applied: a sanitiser
    that keeps some of it has to agree with Streamlit's parser on every construct, and the
    line-by-line one this replaces did not (links split over two lines, reference definitions
    inside lists and quotes, setext headings, `www.` and e-mail autolinks, icons).
    """
    return escape_markdown(clip(str(text), limit))


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit:,} more characters not shown]"


# --------------------------------------------------------------------------- values


def pretty_json(value: Any) -> str:
    """Indented JSON text of any value, non-ASCII kept readable, invisible characters written
    as `\\u200b` escapes: what a reviewer reads is exactly what `json.loads` gives back
    (`json_view`), so an editor holding it round-trips the agent's strings unchanged."""
    return json_escape_hidden(json.dumps(jsonable(value, mark=False), indent=2, ensure_ascii=False))


def json_view(value: Any) -> Any:
    """`json.loads(pretty_json(value))`, without the round trip: how a JSON editor showed `value`
    (for `hitl.decisions.restore_types(display=...)`)."""
    return jsonable(value, mark=False)


# --------------------------------------------------------------------------- graph diagram


@dataclass(frozen=True, kw_only=True)
class DiagramNode:
    """One node of the graph diagram."""

    id: str
    label: str
    subgraph: bool = False
    """The node is itself a compiled graph (drawn doubled; its edges dashed)."""


@dataclass(frozen=True, kw_only=True)
class DiagramEdge:
    """One edge of the graph diagram."""

    source: str
    target: str
    conditional: bool = False
    label: str = ""


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def graph_dot(
    nodes: Sequence[DiagramNode], edges: Sequence[DiagramEdge], *, highlight: Iterable[str] = ()
) -> str:
    """Graphviz DOT of a graph with the paused node(s) highlighted.

    Start and end are small circles; highlighted nodes are filled orange with a bold
    border; subgraph nodes have a double border; conditional edges and edges into or out of
    a subgraph are dashed.
    """
    marked = set(highlight)
    subgraphs = {node.id for node in nodes if node.subgraph}
    lines = [
        "digraph G {",
        '  graph [rankdir=TB, bgcolor="transparent", nodesep=0.3, ranksep=0.35];',
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f5f7", color="#9aa0a6", '
        'fontname="Helvetica", fontsize=13, height=0.36];',
        '  edge [color="#80868b", arrowsize=0.6];',
    ]
    for node in nodes:
        attrs: list[str] = [f"label={_dot_string(node.label)}"]
        if node.id in ("__start__", "__end__"):
            attrs = ['label=""', "shape=circle", "width=0.18", "height=0.18", "fixedsize=true",
                     'fillcolor="#5f6368"' if node.id == "__start__" else 'fillcolor="#ffffff"',
                     'color="#5f6368"', "tooltip=" + _dot_string(node.label)]
        if node.subgraph:
            attrs.append("peripheries=2")
        if node.id in marked:
            attrs += ['fillcolor="#ffb347"', 'color="#d35400"', "penwidth=2.5", 'fontname="Helvetica-Bold"']
        lines.append(f"  {_dot_string(node.id)} [{', '.join(attrs)}];")
    for edge in edges:
        attrs = []
        if edge.conditional or edge.source in subgraphs or edge.target in subgraphs:
            attrs.append("style=dashed")
        if edge.label:
            attrs.append(f"label={_dot_string(edge.label)}")
            attrs.append("fontsize=9")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_dot_string(edge.source)} -> {_dot_string(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines)


def _is_graph(data: Any) -> bool:
    # A compiled (sub)graph is a Pregel; checked by duck type to avoid importing internals.
    return hasattr(data, "get_graph") and hasattr(data, "stream") and hasattr(data, "checkpointer")


def diagram_of(drawable: Any) -> tuple[list[DiagramNode], list[DiagramEdge]]:
    """Nodes and edges of a `graph.get_graph()` result (a langchain_core `Graph`)."""
    nodes = [
        DiagramNode(
            id=str(key),
            label={"__start__": "start", "__end__": "end"}.get(str(key), str(getattr(node, "name", key))),
            subgraph=_is_graph(getattr(node, "data", None)),
        )
        for key, node in dict(getattr(drawable, "nodes", {}) or {}).items()
    ]
    edges = []
    for edge in list(getattr(drawable, "edges", []) or []):
        data = getattr(edge, "data", None)
        edges.append(
            DiagramEdge(
                source=str(edge.source),
                target=str(edge.target),
                conditional=bool(getattr(edge, "conditional", False)),
                label=str(data) if isinstance(data, str) and data != edge.target else "",
            )
        )
    return nodes, edges


# --------------------------------------------------------------------------- conversation


@dataclass(frozen=True, kw_only=True)
class ChatTurn:
    """One message of the conversation, reduced to what the page shows."""

    role: str
    """"human", "ai", "tool", "system" or another type name."""
    text: str
    name: str = ""
    tool_calls: tuple[dict[str, Any], ...] = ()
    """`{"name", "args", "id"}` per call the AI message asks for."""
    tool_call_id: str = ""
    status: str = ""
    """A tool message's status ("error" when the tool failed or was declined)."""


_ROLE_ALIASES = {"user": "human", "assistant": "ai", "function": "tool", "developer": "system"}


def _block_text(block: Any) -> str | None:
    """A content block that is not text: tool calls are shown as tool calls, the rest as JSON."""
    if isinstance(block, Mapping) and block.get("type") in ("tool_use", "tool_call"):
        return None
    return pretty_json(block)


def chat_turns(messages: Iterable[Any]) -> list[ChatTurn]:
    """LangChain messages (objects or dicts) as `ChatTurn`s. Never raises."""
    turns = []
    for message in messages:
        try:
            role = str(message_field(message, "type") or message_field(message, "role") or type(message).__name__)
            role = _ROLE_ALIASES.get(role, role)
            calls = []
            for call in message_field(message, "tool_calls") or []:
                calls.append({
                    "name": str(message_field(call, "name", "") or message_field(message_field(call, "function", {}), "name", "")),
                    "args": jsonable(message_field(call, "args", {}), mark=False),
                    "id": str(message_field(call, "id", "") or ""),
                })
            turns.append(
                ChatTurn(
                    role=role,
                    text=content_text(message_field(message, "content"), block=_block_text, whole=pretty_json),
                    name=str(message_field(message, "name") or ""),
                    tool_calls=tuple(calls),
                    tool_call_id=str(message_field(message, "tool_call_id") or ""),
                    status=str(message_field(message, "status") or ""),
                )
            )
        except Exception:
            turns.append(ChatTurn(role="unknown", text=repr(message)[:TEXT_LIMIT]))
    return turns


_AVATARS = {"human": "user", "ai": "assistant", "tool": ":material/build:", "system": ":material/settings:"}


def _chat_name(role: str) -> str:
    return {"human": "user", "ai": "assistant"}.get(role, role)


# --------------------------------------------------------------------------- decision trail


def _when(value: Any) -> str:
    try:
        return datetime.fromtimestamp(float(value), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (TypeError, ValueError, OverflowError):
        return str(value or "")


def _answer_text(answer: Any) -> str:
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            return answer[:300]
    text = json.dumps(jsonable(answer), ensure_ascii=False)
    return text if len(text) <= 300 else text[:299] + "…"


def trail_rows(decisions: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Audit rows as table rows: when, who, what was sent, and what came of it."""
    return [
        {
            "decided at": _when(row.get("decided_at")),
            "reviewer": str(row.get("reviewer") or ""),
            "action": str(row.get("action") or ""),
            "kind": str(row.get("kind") or ""),
            "outcome": str(row.get("outcome") or ""),
            "answer": _answer_text(row.get("answer")),
            "comment": str(row.get("comment") or ""),
            "error": str(row.get("error") or ""),
            "interrupt": str(row.get("interrupt_id") or "")[:12],
        }
        for row in decisions
    ]


# --------------------------------------------------------------------------- rendering


def show_text(text: Any, *, limit: int = TEXT_LIMIT, what: str = "This text") -> None:
    """Untrusted text as plain text (no markdown, no HTML), clipped, invisible characters shown
    as `[U+200B]` and flagged (`show_hidden_note`)."""
    shown = clip(text if isinstance(text, str) else pretty_json(text), limit)
    st.text(visible_controls(shown))
    show_hidden_note(shown, what=what)


def show_hidden_note(value: Any, *, what: str = "This text") -> bool:
    """Flag the invisible characters in `value` (a string or a nested value), if any; whether it had some."""
    note = hidden_note(value, what=what)
    if note:
        st.warning(md_escape(note), icon=":material/visibility:")
    return note is not None


def show_json(value: Any, *, expanded: bool | int = 2, what: str = "This value") -> None:
    """A value as a collapsible JSON tree (`st.json`): invisible characters in its strings and
    keys shown as `[U+200B]`, never applied, and flagged."""
    data = jsonable(value)
    # st.json reads a string as JSON text: a scalar goes in as its JSON spelling.
    st.json(data if isinstance(data, (dict, list)) else json.dumps(data, ensure_ascii=False), expanded=expanded)
    show_hidden_note(value, what=what)


def show_code_json(value: Any, *, what: str = "This value") -> None:
    """A value as JSON text (`st.code`), clipped, invisible characters as `\\u200b` escapes, flagged."""
    st.code(clip(pretty_json(value)), language="json", wrap_lines=True)
    show_hidden_note(value, what=what)


def show_alert(kind: str, message: Any) -> None:
    """`st.error`/`st.warning`/`st.info`/`st.success` with the message escaped."""
    getattr(st, kind)(md_escape(message))


def render_diagram(drawable: Any, *, highlight: Iterable[str], caption: str = "") -> None:
    """The graph as a diagram, the paused node(s) highlighted."""
    nodes, edges = diagram_of(drawable)
    highlight = set(highlight)
    missing = highlight - {node.id for node in nodes}
    st.graphviz_chart(graph_dot(nodes, edges, highlight=highlight), width="content",
                      alt="Diagram of the graph; the paused node is highlighted")
    if caption:
        st.caption(caption)
    if missing:
        st.caption(md_escape(f"Paused at {', '.join(sorted(missing))}, which the registered graph does not have: "
                             "the graph may have changed since this thread paused."))


def render_conversation(messages: Sequence[Any], *, key: str) -> None:
    """The conversation as chat bubbles; tool calls with their args as JSON."""
    turns = chat_turns(messages)
    if not turns:
        st.caption("No messages in this thread's state.")
        return
    older, recent = turns[:-RECENT_MESSAGES], turns[-RECENT_MESSAGES:]
    if older:
        with st.expander(f"{len(older)} earlier messages", key=f"{key}:older"):
            if len(older) > OLDER_MESSAGES:
                st.caption(f"Showing the last {OLDER_MESSAGES:,} of {len(older):,} earlier messages; the full state is in "
                           "the Threads page.")
            for turn in older[-OLDER_MESSAGES:]:
                _bubble(turn)
    for turn in recent:
        _bubble(turn)


def _bubble(turn: ChatTurn) -> None:
    with st.chat_message(_chat_name(turn.role), avatar=_AVATARS.get(turn.role)):
        heading = {"human": "User", "ai": "Agent", "tool": "Tool result", "system": "System"}.get(turn.role, turn.role)
        if turn.name:
            heading += f" · {turn.name}"
        if turn.status == "error":
            heading += " · error"
        st.caption(md_escape(heading))
        if turn.text.strip():
            show_text(turn.text, what="This message")
        calls = turn.tool_calls
        for call in calls[:TOOL_CALLS_INLINE]:
            st.caption(md_escape(f"Tool call: {call['name']}" + (f" · {call['id']}" if call["id"] else "")))
            show_hidden_note(call["name"], what="This tool name")
            show_code_json(call["args"], what="These arguments")
        if len(calls) > TOOL_CALLS_INLINE:
            st.caption(f"Showing {TOOL_CALLS_INLINE} of {len(calls):,} tool calls; all {len(calls):,} are in the table.")
            st.dataframe(calls_frame(calls), hide_index=True, width="stretch", height=300)


def calls_frame(calls: Sequence[Mapping[str, Any]], *, start: int = 0) -> list[dict[str, Any]]:
    """Tool calls as table rows (number, name, id, args as one line of JSON); names and args
    with invisible characters shown as `[U+200B]`/`\\u200b` and flagged in a column."""
    rows = []
    for number, call in enumerate(calls, start=start + 1):
        name, args = str(call.get("name", "")), call.get("args", {})
        try:
            args_text = json.dumps(args, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):  # not plain JSON: the display copy
            args_text = json.dumps(jsonable(args, mark=False), ensure_ascii=False)
        hidden = bool(hidden_in(name)) or (may_hold_hidden(args_text) and bool(hidden_in(args)))
        args_text = json_escape_hidden(args_text) if hidden else args_text
        rows.append({
            "#": number,
            "tool": visible_controls(name),
            "id": visible_controls(call.get("id", "") or ""),
            "args": args_text if len(args_text) <= 300 else args_text[:299] + "…",
            "note": "contains invisible characters" if hidden else "",
        })
    return rows


def render_state(values: Mapping[str, Any], *, skip: Iterable[str] = ("messages",)) -> None:
    """The thread's other state keys as collapsible JSON."""
    hidden = set(skip)
    rest = {key: value for key, value in values.items() if key not in hidden}
    if not rest:
        return
    with st.expander(f"State: {len(rest)} other key{'s' if len(rest) != 1 else ''} ({', '.join(md_escape(k) for k in list(rest)[:6])}{', …' if len(rest) > 6 else ''})"):
        show_json(rest, expanded=1, what="The state")


def render_trail(decisions: Sequence[Mapping[str, Any]]) -> None:
    """The thread's decision trail, oldest first."""
    rows = trail_rows(decisions)
    if not rows:
        st.caption("No decisions recorded for this thread yet.")
        return
    st.dataframe(rows, hide_index=True, width="stretch")
