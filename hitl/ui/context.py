"""What led to an interrupt: the graph diagram, the conversation, the state, the decision trail.

The pure helpers (`md_escape`, `safe_markdown`, `clip`, `graph_dot`, `diagram_of`,
`chat_turns`, `trail_rows`) hold the logic and are unit-tested without a Streamlit
runtime; the `render_*` functions below them only draw. Untrusted text (messages, payloads,
tool args, error messages) is drawn with `st.text`/`st.code`/`st.json`, or escaped with
`md_escape` wherever Streamlit would parse markdown (labels, captions, alerts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import streamlit as st

from hitl.ui.text import escape_markdown, jsonable, visible_controls

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
    "show_alert",
]

TEXT_LIMIT = 20_000
"""Characters of one text shown inline; the rest is cut with a note (1 MB payloads exist)."""

RECENT_MESSAGES = 12
"""Messages shown expanded; older ones sit in an expander."""

# --------------------------------------------------------------------------- escaping


def md_escape(text: Any) -> str:
    """Escape text for one line of Streamlit markdown (labels, captions, alerts).

    Newlines become spaces; every markdown and HTML special character gets a backslash and
    bidi controls are made visible (`hitl.ui.text.escape_markdown`).
    """
    return escape_markdown(_break_autolinks(" ".join(str(text).split())))


_AUTOLINK_STARTS = re.compile(r"(@|://|(?i:\bwww)(?=\.))")


def _break_autolinks(text: str) -> str:
    # GitHub-flavoured markdown links bare addresses after parsing, so escapes cannot stop it;
    # a word joiner (U+2060, invisible) after "@", "www" and inside "://" does.
    return _AUTOLINK_STARTS.sub(lambda m: {"://": ":\u2060//"}.get(m.group(1), m.group(1) + "\u2060"), text)


_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})")
_HEADING = re.compile(r"^(\s{0,3})#{1,6}(?=\s|$)")
_TARGET = r"\(((?:[^()\n]|\([^()\n]*\))*)\)"
_IMAGE = re.compile(r"!\[([^\]\n]*)\]" + _TARGET)
_LINK = re.compile(r"(?<!\\)\[([^\]\n]*)\]" + _TARGET)
_REF_DEF = re.compile(r"^(\s{0,3})\[([^\]\n]+)\]:", re.MULTILINE)
_BARE_URL = re.compile(
    r"\b((?:https?|ftp|file|data|javascript|mailto):(?://)?[^\s`]+|www\.[^\s`]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
    re.IGNORECASE,
)
_STREAMLIT_DIRECTIVE = re.compile(r":(?=[a-z-]+\[|material/|[a-z_]+:)")


def _inert_url(url: str) -> str:
    url = url.strip().replace("`", "'")
    return f"`{url}`" if url else ""


def _outside_code(line: str, transform: Any) -> str:
    parts = re.split(r"(`[^`\n]*`)", line)  # code spans are shown verbatim: nothing in them is live
    return "".join(part if index % 2 else transform(part) for index, part in enumerate(parts))


def _links_inert(part: str) -> str:
    part = part.replace("&", "&amp;").replace("<", "&lt;")
    part = _IMAGE.sub(lambda m: f"\\[image: {m.group(1)}\\] {_inert_url(m.group(2))}", part)
    part = _LINK.sub(lambda m: f"{m.group(1)} {_inert_url(m.group(2))}", part)
    return _outside_code(part, lambda text: _BARE_URL.sub(lambda m: _inert_url(m.group(1)), text))


def _directives_inert(part: str) -> str:
    part = part.replace("![", "!\\[").replace("$", "\\$")
    return _STREAMLIT_DIRECTIVE.sub(r"\\:", part)


def _inert_line(line: str) -> str:
    return _outside_code(_outside_code(line, _links_inert), _directives_inert)


def safe_markdown(text: Any, *, limit: int = TEXT_LIMIT) -> str:
    """Markdown from an untrusted source, made inert, for `st.markdown` without HTML.

    Formatting (headings, emphasis, lists, quotes, code) survives. Raw HTML is escaped so it
    shows as text; images and links become their text followed by the address as code, so
    nothing loads or is clickable; bare URLs become code; reference definitions are
    escaped; Streamlit's `:color[...]`/`:material/...:` directives are disarmed. Fenced
    code blocks are kept verbatim (Streamlit shows them as code).
    """
    source = visible_controls(clip(str(text), limit))
    out: list[str] = []
    fence: str | None = None
    for line in source.split("\n"):
        match = _FENCE.match(line)
        if fence is not None:
            out.append(line)
            if match and match.group(2)[0] == fence[0] and len(match.group(2)) >= len(fence):
                fence = None
            continue
        if match:
            fence = match.group(2)
            out.append(line)
            continue
        # Headings in a request would outshout the card they sit in: all become level 5.
        out.append(_inert_line(_HEADING.sub(r"\1#####", line)))
    if fence is not None:
        out.append(fence)  # an unclosed fence would swallow whatever the page draws next
    return _REF_DEF.sub(r"\1\\[\2\\]:", "\n".join(out))


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit:,} more characters not shown]"


# --------------------------------------------------------------------------- values


def pretty_json(value: Any) -> str:
    """Indented JSON text of any value, non-ASCII kept readable."""
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False)


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


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif isinstance(block, Mapping) and block.get("type") in ("tool_use", "tool_call"):
                continue  # shown as a tool call
            else:
                parts.append(pretty_json(block))
        return "\n".join(parts)
    return pretty_json(content)


def _field(message: Any, name: str, default: Any = None) -> Any:
    if isinstance(message, Mapping):
        return message.get(name, default)
    return getattr(message, name, default)


def chat_turns(messages: Iterable[Any]) -> list[ChatTurn]:
    """LangChain messages (objects or dicts) as `ChatTurn`s. Never raises."""
    turns = []
    for message in messages:
        try:
            role = str(_field(message, "type") or _field(message, "role") or type(message).__name__)
            role = _ROLE_ALIASES.get(role, role)
            calls = []
            for call in _field(message, "tool_calls") or []:
                calls.append({
                    "name": str(_field(call, "name", "") or _field(_field(call, "function", {}), "name", "")),
                    "args": jsonable(_field(call, "args", {})),
                    "id": str(_field(call, "id", "") or ""),
                })
            turns.append(
                ChatTurn(
                    role=role,
                    text=_content_text(_field(message, "content")),
                    name=str(_field(message, "name") or ""),
                    tool_calls=tuple(calls),
                    tool_call_id=str(_field(message, "tool_call_id") or ""),
                    status=str(_field(message, "status") or ""),
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


def show_text(text: Any, *, limit: int = TEXT_LIMIT) -> None:
    """Untrusted text as plain text (no markdown, no HTML), clipped, bidi controls visible."""
    st.text(visible_controls(clip(text if isinstance(text, str) else pretty_json(text), limit)))


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
            for turn in older:
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
            show_text(turn.text)
        for call in turn.tool_calls:
            st.caption(md_escape(f"Tool call: {call['name']}" + (f" · {call['id']}" if call["id"] else "")))
            st.code(visible_controls(clip(pretty_json(call["args"]))), language="json", wrap_lines=True)


def render_state(values: Mapping[str, Any], *, skip: Iterable[str] = ("messages",)) -> None:
    """The thread's other state keys as collapsible JSON."""
    hidden = set(skip)
    rest = {key: value for key, value in values.items() if key not in hidden}
    if not rest:
        return
    with st.expander(f"State: {len(rest)} other key{'s' if len(rest) != 1 else ''} ({', '.join(md_escape(k) for k in list(rest)[:6])}{', …' if len(rest) > 6 else ''})"):
        st.json(jsonable(rest), expanded=1)


def render_trail(decisions: Sequence[Mapping[str, Any]]) -> None:
    """The thread's decision trail, oldest first."""
    rows = trail_rows(decisions)
    if not rows:
        st.caption("No decisions recorded for this thread yet.")
        return
    st.dataframe(rows, hide_index=True, width="stretch")
