"""The plumbing every card shares: keys, kept errors, buttons, reasons, argument views."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from hitl.contracts import Contract
from hitl.errors import InvalidAnswer
from hitl.ui.cards.helpers import (
    CALLS_PER_PAGE,
    CLICK_KEY,
    FIELDS_SHOWN,
    NO_REASON,
    OUTCOME_KEY,
    SHORTCUTS,
    changed_fields,
    combine_reason,
    diff_cell,
    errors_key,
    get,
    normalize_error_path,
    text_diff,
)
from hitl.ui.context import calls_frame, clip, md_escape, show_alert, show_code_json, show_hidden_note, show_text
from hitl.ui.text import hidden_note, jsonable, visible_controls



@dataclass(frozen=True, kw_only=True)
class CardOptions:
    """What a card needs besides the interrupt."""

    thread_id: str
    reject_reasons: Sequence[str] = ()
    reviewer: str = ""
    shortcuts: bool = False
    """This card takes the page's keyboard shortcuts (only one card per page does)."""
    tool_schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Argument schemas of the graph's tools, by tool name."""
    position: str = ""
    """"1 of 3" when the thread has several pending interrupts."""
    contract: Contract | None = None
    """What the graph expects back (`Inbox.contract`); None draws the kind's own card."""
    decisions: Sequence[Mapping[str, Any]] | None = None
    """The thread's audit rows so far (`ThreadView.decisions`), for separation-of-duties
    warnings; None: the card reads them itself (one small thread read)."""
    metadata: Mapping[str, Any] | None = None
    """The run's metadata (`ThreadView.metadata`: requested_by); None: read with the decisions."""
    login_mode: bool | None = None
    """Login is configured (four eyes is then enforced by HITL_CONFIG, not warned about); None:
    read from the app's secrets."""


@dataclass(frozen=True, kw_only=True)
class Submission:
    """A reviewer's built answer to one interrupt."""

    interrupt_id: str
    answer: Any
    comment: str = ""
    verb: str = "decided"
    """What the reviewer did, in the past tense ("approved send_email", "rejected"), for the banner."""
    approving: bool | None = None
    """The reviewer chose an approving button (True), a rejecting one (False), or the card cannot
    tell (None: typed answers, per-call choices; what the answer approves is read from it)."""
    confirm_line: str = ""
    """What a confirmation asks about ("Confirm: runs make_payment: 1,250.00 EUR to …"); set
    when the decision waits for its confirming second step."""


class Card:
    """Keys, errors and buttons of one card."""

    def __init__(self, item: Any, options: CardOptions) -> None:
        self.item = item
        self.id = str(item.id)
        self.options = options
        stored = st.session_state.get(errors_key(self.id)) or {}
        self.message: str = stored.get("message", "")
        self.errors: dict[str, str] = {
            normalize_error_path(path, item.kind): text for path, text in (stored.get("fields") or {}).items()
        }
        self.shown: set[str] = set()
        self.schemas: dict[str, Mapping[str, Any]] = dict(options.tool_schemas)
        self.broken = False
        """A JSON editor on this card holds invalid JSON (submit stays disabled)."""
        self.pending: Submission | None = st.session_state.get(confirm_key(self.id))
        """A decision waiting for its confirming second step (`hitl.ui.cards.render_card`)."""
        self.confirmed = False
        """The reviewer confirmed `pending` on this run."""
        self.bars = 0
        self.will_run = ""
        """What the card's current choices let run, shown in the action bar (per-call cards)."""

    def key(self, *parts: Any) -> str:
        return ":".join(["review", self.id, *(str(p) for p in parts)])

    def clear_errors(self) -> None:
        st.session_state.pop(errors_key(self.id), None)

    def on_change(self) -> dict[str, Any]:
        """Widget kwargs that clear this card's errors when the reviewer edits anything."""
        return {"on_change": forget_errors, "args": (self.id,)}

    def take(self, prefix: str) -> dict[str, str]:
        """Errors at `prefix` or below it, not shown yet."""
        out = {}
        for path, text in self.errors.items():
            if path in self.shown:
                continue
            if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[") or (
                not prefix
            ):
                out[path] = text
                self.shown.add(path)
        return out

    def field_errors(self, prefix: str, *, strip: str | None = None) -> None:
        """Draw the errors at `prefix` next to the widget about to follow or just drawn."""
        for path, text in self.take(prefix).items():
            where = path[len(strip):].lstrip(".") if strip is not None and path.startswith(strip) else path
            show_alert("error", f"{where}: {text}" if where else text)

    def rest(self) -> None:
        """The overall message and any error not shown next to a field.

        When every field error was drawn next to its field and the message only lists them
        again, one summary line takes its place ("The answer does not fit …: 2 fields to
        correct, shown next to them"): each message is shown once.
        """
        drawn = dict(self.errors)
        leftover = self.take("")
        message = self.message
        if message and drawn and not leftover:
            message = summary_line(message, drawn)
        if message or leftover:
            lines = [message] if message else []
            lines += [f"{path}: {text}" if path else text for path, text in leftover.items() if text not in message]
            st.error("\n\n".join(md_escape(line) for line in lines), icon="⚠️")

    def buttons(self, specs: Sequence[tuple[str, str, str, bool]]) -> str | None:
        """The card's action bar (sticky: always in view): a row of buttons (action, label,
        shortcut action, disabled); the clicked action.

        While a decision waits for its confirmation, the bar holds Confirm and Cancel instead,
        and no decision button is drawn (a second click cannot send something else).
        """
        self.bars += 1  # a card with two button rows gets two bars, each its own key
        with st.container(key=f"review-actions-{self.id}" + (f"-{self.bars}" if self.bars > 1 else "")):
            if self.pending is not None:
                self._confirm_bar(self.pending)
                return None
            if self.will_run:
                st.caption(md_escape(self.will_run))
            return self._row(specs)

    def _confirm_bar(self, pending: Submission) -> None:
        st.warning(md_escape(pending_line(pending)), icon=":material/priority_high:")
        with st.container(horizontal=True, gap="small"):
            shortcuts = self.options.shortcuts
            if st.button("Confirm and send", key=self.key("btn", "confirm"), type="primary",
                         shortcut=CONFIRM_SHORTCUT if shortcuts else None,
                         help=f"Keyboard shortcut: {CONFIRM_SHORTCUT}" if shortcuts else None):
                self.confirmed = True
            if st.button("Cancel", key=self.key("btn", "cancel"), shortcut="Escape" if shortcuts else None,
                         help="Keyboard shortcut: Esc. Nothing is sent." if shortcuts else "Nothing is sent.",
                         on_click=forget_confirmation, args=(self.id,)):
                pass

    def _row(self, specs: Sequence[tuple[str, str, str, bool]]) -> str | None:
        clicked = None
        with st.container(horizontal=True, gap="small"):
            for index, (action, label, shortcut_for, disabled) in enumerate(specs):
                shortcut = SHORTCUTS.get(shortcut_for) if self.options.shortcuts and shortcut_for else None
                if st.button(
                    label,
                    key=self.key("btn", action),
                    type="primary" if index == 0 else "secondary",
                    shortcut=shortcut.upper() if shortcut else None,
                    help=f"Keyboard shortcut: {shortcut.upper()}" if shortcut else None,
                    disabled=disabled,
                    on_click=_note_click,
                    args=(self.options.thread_id, self.id, label),
                ):
                    clicked = action
        return clicked

    def reason(self, *, label: str = "Reason", details_label: str = "Details (optional)", area: bool = False) -> str:
        """Preset reasons in a select plus free text; the combined reason."""
        left, right = st.columns([2, 3])
        presets = [NO_REASON, *self.options.reject_reasons]
        preset = left.selectbox(label, presets, key=self.key("preset"), help="Preset reasons come from HITL_CONFIG [review] reject_reasons.", **self.on_change())
        widget = right.text_area if area else right.text_input
        details = widget(details_label, key=self.key("reason"), **self.on_change())
        return combine_reason(preset, details)


def summary_line(message: str, shown: Mapping[str, str]) -> str:
    """`message`, or one summary line when it only repeats field errors already shown next to
    their fields (every one of them appears in it): its lead-in and how many fields to correct."""
    if not shown or not all(text in message for text in shown.values()):
        return message
    head = message.split(":", 1)[0].strip() if ":" in message else ""
    count = len(shown)
    where = f"{count} field{'s' if count > 1 else ''} to correct, shown next to {'them' if count > 1 else 'it'}."
    return f"{head}: {where}" if head else where[:1].upper() + where[1:]


CONFIRM_SHORTCUT = "Y"
"""The second key that sends a decision waiting for confirmation (Esc cancels it)."""


def confirm_key(interrupt_id: str) -> str:
    """session_state key of a decision waiting for its confirmation."""
    return f"review:{interrupt_id}:confirm"


def pending_line(pending: Submission) -> str:
    return pending.confirm_line or "Confirm this decision."


def forget_confirmation(interrupt_id: str) -> None:
    st.session_state.pop(confirm_key(interrupt_id), None)


def _note_click(thread_id: str, interrupt_id: str, label: str) -> None:
    st.session_state[CLICK_KEY] = {"thread_id": thread_id, "interrupt_id": interrupt_id, "label": label}


def settle_stale_click(view: Any) -> None:
    """Explain a decision click whose request is no longer pending (answered elsewhere).

    Call at the top of the page, before the cards: a click on a card that is still pending
    is left to that card.
    """
    click = st.session_state.pop(CLICK_KEY, None)
    if not click or click.get("thread_id") != view.thread_id:
        return
    if any(item.id == click["interrupt_id"] and not item.failed_error for item in view.interrupts):
        return
    rows = [row for row in view.decisions if row.get("interrupt_id") == click["interrupt_id"]]
    last = rows[-1] if rows else {}
    st.session_state[OUTCOME_KEY] = {
        "thread_id": view.thread_id,
        "status": "already",
        "reviewer": last.get("reviewer"),
        "decided_at": float(last["decided_at"]) if last.get("decided_at") is not None else None,
        "verb": str(click.get("label", "decided")).lower(),
        "at": time.time(),
    }


def forget_errors(interrupt_id: str) -> None:
    """A widget of the card changed: its kept errors and any decision waiting for confirmation
    (which was built from the widgets as they were) are dropped."""
    st.session_state.pop(errors_key(interrupt_id), None)
    forget_confirmation(interrupt_id)


def keep_errors(interrupt_id: str, error: InvalidAnswer) -> None:
    st.session_state[errors_key(interrupt_id)] = {"message": str(error), "fields": dict(error.field_errors)}


def show_args(args: Any) -> None:
    """Tool arguments one per row, strings as plain text (line breaks kept), others as JSON.

    Invisible characters in names and values are shown and flagged. At most `FIELDS_SHOWN`
    rows are drawn; the rest of a larger object follows as one JSON block, and the card says so.
    """
    if not isinstance(args, Mapping) or not args:
        show_code_json(args, what="These arguments")
        return
    items = list(args.items())
    for name, value in items[:FIELDS_SHOWN]:
        left, right = st.columns([1, 4], gap="small")
        left.caption(md_escape(name))
        with right:
            show_hidden_note(str(name), what="This field name")
            if isinstance(value, str):
                show_text(value, what=f"The value of {name}")
            elif isinstance(value, (dict, list, tuple)):
                show_code_json(value, what=f"The value of {name}")
            else:
                show_text(json.dumps(jsonable(value), ensure_ascii=False))  # numbers, true/false, null as JSON spells them
    if len(items) > FIELDS_SHOWN:
        st.caption(f"Showing {FIELDS_SHOWN} of {len(items):,} fields one per row; the other {len(items) - FIELDS_SHOWN:,} "
                   "follow as JSON.")
        show_code_json(dict(items[FIELDS_SHOWN:]), what="These fields")


def editor_hidden(text: str, *, what: str) -> None:
    """Under an editor that holds the agent's exact text: when the text has invisible characters
    (a text area applies bidi overrides and hides zero-width ones), say so and show it with them
    written out. The editor's value is never altered: unedited, it is sent as it was."""
    note = hidden_note(text, what=what)
    if note:
        st.warning(md_escape(f"{note} The editor holds the exact text; here it is with them shown:"),
                   icon=":material/visibility:")
        st.text(visible_controls(clip(text)))


def kept_choices(card: Card, name: str, **parts: dict[int, Any]) -> dict[str, dict[int, Any]]:
    """Per-call choices of a card that outlive the widgets drawn for them (paged lists)."""
    kept = st.session_state.setdefault(card.key("kept", name), {})
    for part, empty in parts.items():
        kept.setdefault(part, empty)
    return kept


def call_row(call: Any) -> dict[str, Any]:
    return {"name": str(get(call, "name", "?")), "args": get(call, "args", {}), "id": str(get(call, "id", "") or "")}


def calls_page(card: Card, rows: Sequence[Mapping[str, Any]], *, total: int, scope: Callable[[int], str]) -> range:
    """The indices of the calls to draw: all of them, or one page of `CALLS_PER_PAGE`.

    A longer list gets a page picker, "Showing 100 of 10,000 tool calls", what the card's
    decisions do to the calls not shown (`scope(not_shown)`), and every call in one table.
    """
    if total <= CALLS_PER_PAGE:
        return range(total)
    pages = [range(first, min(first + CALLS_PER_PAGE, total)) for first in range(0, total, CALLS_PER_PAGE)]
    with st.container(border=True):
        page = st.selectbox(f"Page ({len(pages):,} pages of {CALLS_PER_PAGE} calls)", range(len(pages)),
                            format_func=lambda i: f"calls {pages[i].start + 1:,}–{pages[i].stop:,}", key=card.key("page"))
        shown = pages[page or 0]
        st.caption(f"Showing {len(shown):,} of {total:,} tool calls (calls {shown.start + 1:,}–{shown.stop:,}); the card "
                   f"draws at most {CALLS_PER_PAGE} at a time.")
        show_alert("info", scope(total - len(shown)))
        with st.expander(f"All {total:,} tool calls as a table"):
            st.dataframe(calls_frame(rows), hide_index=True, width="stretch", height=320)
    return shown


def field_label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize() or key


def show_fields(value: Mapping[str, Any], *, skip: Sequence[str] = ()) -> None:
    """A payload's other fields, each under its name; invisible characters shown and flagged."""
    for key, item in value.items():
        if key in skip or item is None or item == "":
            continue
        st.caption(md_escape(field_label(str(key))))
        show_hidden_note(str(key), what="This field name")
        if isinstance(item, str):
            show_text(item, what=f"The {field_label(str(key)).lower()}")
        else:
            show_args(item)


def json_errors(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
    return None


def editor_height(text: str, *, low: int = 120, high: int = 420) -> int:
    return max(low, min(high, 26 * (text.count("\n") + 2)))



def show_changes(before: Any, after: Any, *, what: str) -> None:
    """What an edit changes, before it is sent: a unified diff for a text, a table of changed
    fields (field, current, yours) for an object, with a line diff under it for each changed
    multi-line text. Nothing is drawn when nothing changed. Invisible characters are written out."""
    if isinstance(before, str) and isinstance(after, str):
        if before != after:
            st.caption(md_escape(f"Your changes to the {what}"))
            st.code(visible_controls(clip(text_diff(before, after, what=what))), language="diff")
        return
    rows = changed_fields(before, after)
    if not rows:
        return
    st.caption(md_escape(f"Your changes to the {what}: {len(rows):,} field{'s' if len(rows) > 1 else ''}"))
    st.dataframe([{"Field": visible_controls(path or what), "Current": visible_controls(clip(diff_cell(old), 300)),
                   "Yours": visible_controls(clip(diff_cell(new), 300))} for path, old, new in rows],
                 hide_index=True, width="stretch")
    for path, old, new in rows:
        if isinstance(old, str) and isinstance(new, str) and ("\n" in old or "\n" in new):
            st.code(visible_controls(clip(text_diff(old, new, what=path or what))), language="diff")


def show_edit(before: Any, edited: Any, *, what: str) -> None:
    """`show_changes` for an editor's value: JSON text typed over a non-text value is compared
    parsed (invalid JSON draws nothing: the editor's own error says why)."""
    if isinstance(edited, str) and not isinstance(before, str):
        if json_errors(edited) or not edited.strip():
            return
        edited = json.loads(edited)
    show_changes(before, edited, what=what)
