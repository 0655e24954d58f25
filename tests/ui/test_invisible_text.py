"""Invisible characters in payloads are shown, flagged, and never applied (issue 13, item 10).

A reviewer must not read `make_pay\u200bment` as `make_payment`, nor a draft whose right-to-left
override reverses what it says. Text, labels and table cells write each invisible character
out as `[U+200B]`; JSON views and editors as `\\u200b` escapes, which parse back to the exact
string; editors that must hold the agent's exact text (the draft) keep it and show a visible
rendering next to it; and every place says "contains invisible characters".
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from hitl import Inbox
from hitl.ui import context, tables
from hitl.ui.text import hidden_characters, hidden_in, hidden_note, json_escape_hidden, visible_controls
from tests.ui.confirming import confirm
from tests.ui.conftest import inert_texts, markdown_texts, plain, review_key as _key

ZWSP, RLO, WJ, BOM, SHY, LRI = "\u200b", "\u202e", "\u2060", "\ufeff", "\u00ad", "\u2066"
NAME = f"make_pay{ZWSP}ment"

# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (NAME, "make_pay[U+200B]ment"),
        (f"invoice{RLO}fdp.exe", "invoice[U+202E]fdp.exe"),
        (f"a{WJ}b{BOM}c{SHY}d", "a[U+2060]b[U+FEFF]c[U+00AD]d"),
        (f"{LRI}x\u2069 \u200e\u200f\u061c", "[U+2066]x[U+2069] [U+200E][U+200F][U+061C]"),
        ("f\u2061(x) tag\U000e0041\U000e0042", "f[U+2061](x) tag[U+E0041][U+E0042]"),  # other Cf: invisible times, tags
        ("\u3164filler \u2800 blank", "[U+3164]filler [U+2800] blank"),
        ("pay\ufe0fment", "pay[U+FE0F]ment"),  # a variation selector hiding in a word
        ("bell\x07 esc\x1b[31m", "bell[U+0007] esc[U+001B][31m"),
        ("line\u2028sep", "line[U+2028]sep"),
    ],
)
def test_invisible_characters_are_written_out(text: str, shown: str) -> None:
    assert visible_controls(text) == shown
    assert hidden_characters(text)


@pytest.mark.parametrize(
    "text",
    [
        "tab\tand\nnewline\r\n",
        "warning ⚠️ heart ❤️ keycap 1️⃣",  # emoji presentation selectors
        "family 👨\u200d👩\u200d👧 rainbow 🏳️\u200d🌈 skin 👋🏽",  # ZWJ sequences
        "England 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # a tag sequence that is a flag
        "Persian می\u200cخواهم, Hindi क्\u200dष",  # joiners that spelling needs
        "שלום مرحبا עברית",  # right-to-left letters are letters
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert visible_controls(text) == text
    assert hidden_characters(text) == [] and hidden_note(text) is None


def test_a_joiner_between_latin_letters_is_shown() -> None:
    assert visible_controls("make\u200dpay\u200cment") == "make[U+200D]pay[U+200C]ment"


def test_hidden_note_names_each_character_and_warns_about_direction() -> None:
    note = hidden_note({"tools": [{"name": NAME, "args": {f"to{RLO}": "x"}}]}, what="This payload")
    assert note == ("This payload contains invisible characters (U+200B ZERO WIDTH SPACE, U+202E RIGHT-TO-LEFT "
                    "OVERRIDE), shown where they stand as [U+code]. Direction overrides are not applied, so the text "
                    "reads in the order it is stored.")
    assert hidden_in([{"k": ["a", {"b": f"c{WJ}"}]}]) == [WJ]
    assert hidden_note("plain") is None


def test_json_views_escape_invisible_characters_and_still_parse_to_the_exact_strings() -> None:
    value = {f"key{RLO}": [NAME, f"{BOM}x", "emoji ❤️ ok"], "n": 1}
    text = context.pretty_json(value)
    assert "\\u200b" in text and "\\u202e" in text and "\\ufeff" in text
    assert ZWSP not in text and RLO not in text and "❤️" in text
    assert json.loads(text) == value == context.json_view(value)
    astral = json_escape_hidden(json.dumps({"t": "x\U000e0041"}, ensure_ascii=False))
    assert astral == '{"t": "x\\udb40\\udc41"}' and json.loads(astral) == {"t": "x\U000e0041"}
    # The tree view (st.json) shows markers instead: it draws strings, not JSON text.
    assert context.jsonable(value) == {"key[U+202E]": ["make_pay[U+200B]ment", "[U+FEFF]x", "emoji ❤️ ok"], "n": 1}


def test_md_escape_writes_hidden_characters_out() -> None:
    assert plain(context.md_escape(f"Run {NAME}")) == "Run make_pay[U+200B]ment"


def test_queue_and_threads_rows_show_and_flag_invisible_characters() -> None:
    from hitl.inbox import PendingInterrupt, PendingThread
    from hitl.store import ThreadRow

    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    interrupt = PendingInterrupt(id="i1", node="gate", value={"tools": [{"name": NAME, "args": {}}]}, response_schema=None,
                                 kind="tool_review")
    clean = PendingThread(thread_id="t-clean", graph_id="g", checkpoint_id="c", waiting_since=moment, interrupts=[],
                          kinds=("confirm",), summary="Proceed?")
    sneaky = PendingThread(thread_id=f"t{RLO}1", graph_id=f"g{ZWSP}", checkpoint_id="c", waiting_since=moment,
                           interrupts=[interrupt], kinds=("tool_review",), summary="1 tool call")
    frame = tables.queue_frame([clean, sneaky], now=moment)
    assert list(frame["Thread"]) == ["t-clean", "t[U+202E]1"]
    assert list(frame["Graph"]) == ["g", "g[U+200B]"]
    assert list(frame["Note"]) == ["", "contains invisible characters"]  # the name is only in the payload

    row = ThreadRow(thread_id="t2", status="waiting", checkpoint_id="c", graph_id="g", graph_note="read-only",
                    kinds=("tool_review",), summary=f"Run {NAME}", n_interrupts=1, waiting_since=moment, nodes=("gate",),
                    updated_at=moment)
    threads = tables.threads_frame([row], now=moment)
    assert threads["Summary"][0] == "Run make_pay[U+200B]ment"
    assert threads["Note"][0] == "read-only; contains invisible characters"


# --------------------------------------------------------------------------- the review page

SNEAKY_SOURCE = f'''
import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

NAME = {NAME!r}
RLO = {RLO!r}


class State(TypedDict, total=False):
    answers: Annotated[list, operator.add]


def tools_gate(state):
    answer = interrupt({{"type": "tool_review", "message": "Check " + NAME,
                        "tools": [{{"name": NAME, "args": {{"recipient": "mallory" + RLO + "moc.live", "amount": 5}}}}]}})
    if answer.get("approved"):
        return {{"answers": [answer.get("approved_tools")]}}
    return {{"answers": ["rejected"]}}


def draft_gate(state):
    answer = interrupt({{"type": "edit", "draft": "Pay " + RLO + "001 EUR\\u200b to bob", "instructions": "Check it"}})
    return {{"answers": [answer.get("edited") if answer.get("action") == "approve" else answer.get("action")]}}


def sensitive_gate(state):
    answer = interrupt({{"sensitive_tools": [{{"name": NAME, "args": {{"amount": 1}}}}], "message": "Sensitive"}})
    return {{"answers": ["sensitive:" + str(answer.get("approved"))]}}


def odd_gate(state):
    answer = interrupt({{"oddly": {{"shaped" + RLO: "payload\\ufeff"}}, "n": [1, 2]}})
    return {{"answers": [answer.get("ok")]}}


sneaky = StateGraph(State)
for name, node in (("tools_gate", tools_gate), ("draft_gate", draft_gate), ("sensitive_gate", sensitive_gate),
                   ("odd_gate", odd_gate)):
    sneaky.add_node(name, node)
    sneaky.add_edge(START, name)
    sneaky.add_edge(name, END)
'''


@pytest.fixture
def graphs_file(graphs_file, tmp_path):
    """The UI registry plus `sneaky`: four parallel gates whose payloads hide characters."""
    data = json.loads(graphs_file.read_text())
    module = tmp_path / "sneaky_graph.py"
    module.write_text(SNEAKY_SOURCE)
    data["graphs"]["sneaky"] = f"{module}:sneaky"
    graphs_file.write_text(json.dumps(data))
    return graphs_file


def _open(inbox: Inbox, app) -> tuple[AppTest, dict[str, Any]]:
    inbox.graph("sneaky").invoke({}, {"configurable": {"thread_id": "sneaky-1"}, "metadata": {"graph_id": "sneaky"}})
    items = {item.node: item for item in inbox.thread("sneaky-1").interrupts}
    at = app("pages/review.py", query={"thread": "sneaky-1"})
    assert not at.exception, [e.value for e in at.exception]
    return at, items


def test_the_review_page_shows_and_flags_every_hidden_character(inbox: Inbox, app) -> None:
    at, items = _open(inbox, app)
    shown = markdown_texts(at) + inert_texts(at) + [str(w.label) for w in at.checkbox] + [str(w.label) for w in at.text_area]
    for text in shown:
        assert ZWSP not in text and RLO not in text and "\ufeff" not in text, text[:200]
    seen = [plain(t).replace(WJ, "") for t in markdown_texts(at)]
    warnings = [plain(w.value) for w in at.warning]

    # Tool names: in the checkbox label and the card's heading, with a flag.
    tick = at.checkbox(key=_key(items["tools_gate"].id, "tick", 0))
    assert plain(tick.label) == "Run **make_pay[U+200B]ment**".replace("**", "**")
    assert any(w.startswith("This tool name contains invisible characters (U+200B ZERO WIDTH SPACE)") for w in warnings)
    assert "**make_pay[U+200B]ment**" in seen  # the sensitive call's heading
    # The args editor holds JSON with escapes: visible, and parsed back to the exact strings.
    at.toggle(key=_key(items["tools_gate"].id, "asjson", 0)).set_value(True).run()  # flat args: a form unless JSON
    args = at.text_area(key=_key(items["tools_gate"].id, "args", 0)).value
    assert '"recipient": "mallory\\u202emoc.live"' in args

    # The draft editor keeps the agent's exact text; next to it, a warning and the text with them shown.
    draft = at.text_area(key=_key(items["draft_gate"].id, "draft"))
    assert draft.value == f"Pay {RLO}001 EUR{ZWSP} to bob"
    assert any(w.startswith("The draft contains invisible characters (U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH "
                            "SPACE)") and "The editor holds the exact text" in w for w in warnings)
    assert "Pay [U+202E]001 EUR[U+200B] to bob" in [t.value for t in at.text]

    # An unrecognised payload (answered through its contract): names and values written out, flagged.
    assert "shaped[U+202E]" in seen and "payload[U+FEFF]" in [t.value for t in at.text]
    assert any(w.startswith("This field name contains invisible characters (U+202E RIGHT-TO-LEFT OVERRIDE)") for w in warnings)
    assert any(w.startswith("The value of shaped") and "U+FEFF ZERO WIDTH NO-BREAK SPACE" in w for w in warnings)


def _json_card(value):  # runs as a script: no annotations
    from types import SimpleNamespace

    from hitl.ui import cards

    item = SimpleNamespace(id="i-json", node="odd", kind="json", value=value, response_schema=None, decode_error=None,
                           failed_error=None)
    cards.render_card(item, cards.CardOptions(thread_id="t-json"))


def test_the_json_card_never_shows_a_raw_override() -> None:
    at = AppTest.from_function(_json_card, args=({f"shaped{RLO}": f"payload{BOM}", "n": [1, 2]},), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (tree,) = at.json
    assert RLO not in tree.value and BOM not in tree.value
    assert json.loads(tree.value) == {"shaped[U+202E]": "payload[U+FEFF]", "n": [1, 2]}
    (warning,) = [plain(w.value) for w in at.warning]
    assert warning.startswith("This payload contains invisible characters (U+202E RIGHT-TO-LEFT OVERRIDE, U+FEFF ZERO "
                              "WIDTH NO-BREAK SPACE)")


def test_an_unedited_call_is_approved_with_its_exact_hidden_characters(inbox: Inbox, app) -> None:
    at, items = _open(inbox, app)
    gate = items["tools_gate"]
    at.button(key=_key(gate.id, "btn", "approve")).click().run()
    confirm(at, gate.id, asks="moves money")  # a payment: a second step (issue 17)
    assert not at.exception, [e.value for e in at.exception]
    answers = inbox.graph("sneaky").get_state({"configurable": {"thread_id": "sneaky-1"}}).values["answers"]
    assert answers == [[{"name": NAME, "args": {"recipient": f"mallory{RLO}moc.live", "amount": 5}}]]


def test_an_edited_call_keeps_the_hidden_characters_of_fields_left_alone(inbox: Inbox, app) -> None:
    at, items = _open(inbox, app)
    gate = items["tools_gate"]
    at.toggle(key=_key(gate.id, "asjson", 0)).set_value(True).run()
    editor = at.text_area(key=_key(gate.id, "args", 0))
    editor.input(editor.value.replace('"amount": 5', '"amount": 6'))
    at.button(key=_key(gate.id, "btn", "approve")).click().run()
    confirm(at, gate.id, asks="moves money")
    assert not at.exception, [e.value for e in at.exception]
    answers = inbox.graph("sneaky").get_state({"configurable": {"thread_id": "sneaky-1"}}).values["answers"]
    assert answers == [[{"name": NAME, "args": {"recipient": f"mallory{RLO}moc.live", "amount": 6}}]]


def test_the_inbox_flags_a_thread_whose_payload_hides_characters(inbox: Inbox, app) -> None:
    inbox.graph("sneaky").invoke({}, {"configurable": {"thread_id": "sneaky-1"}, "metadata": {"graph_id": "sneaky"}})
    inbox.refresh()
    at = app()
    (queue,) = [frame.value for frame in at.dataframe if "Note" in frame.value.columns]
    assert queue.set_index("Thread")["Note"]["sneaky-1"] == "contains invisible characters"


def test_the_args_form_keeps_the_exact_text_of_a_field_left_alone_and_checks_a_typed_number(inbox: Inbox, app) -> None:
    at, items = _open(inbox, app)
    gate = items["tools_gate"]
    recipient = at.text_input(key=_key(gate.id, "arg", 0, 0))
    assert recipient.value == f"mallory{RLO}moc.live"  # the exact text, flagged next to it
    assert any(plain(w.value).startswith("The value of recipient contains invisible characters") for w in at.warning)
    amount = at.text_input(key=_key(gate.id, "arg", 0, 1))
    assert amount.value == "5"
    amount.input("five").run()
    assert any("amount: 'five' is not a number." in plain(e.value) for e in at.error)
    assert at.button(key=_key(gate.id, "btn", "approve")).disabled
    at.text_input(key=_key(gate.id, "arg", 0, 1)).input("6").run()
    at.button(key=_key(gate.id, "btn", "approve")).click().run()
    confirm(at, gate.id, asks="moves money")
    assert not at.exception, [e.value for e in at.exception]
    answers = inbox.graph("sneaky").get_state({"configurable": {"thread_id": "sneaky-1"}}).values["answers"]
    assert answers == [[{"name": NAME, "args": {"recipient": f"mallory{RLO}moc.live", "amount": 6}}]]
    assert type(answers[0][0]["args"]["amount"]) is int
