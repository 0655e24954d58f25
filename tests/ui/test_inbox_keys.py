"""The Inbox's keyboard (`hitl.ui.queue._apply_key`, fed by hitl/ui/keys.js): j/k move a cursor
row, x ticks it, o with nothing to open says so; and the key trigger values are parsed strictly."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from hitl.ui.keys import parse_key, sections


def _script(presses: list[str]) -> None:
    import streamlit as st

    from hitl.ui import queue

    queue._init_state()
    ids = ["t-1", "t-2", "t-3"]
    trail = []
    for pressed in presses:
        queue._apply_key(pressed, ids)
        trail.append((st.session_state["inbox_cursor"], tuple(st.session_state["inbox_selected"])))
    st.session_state["trail"] = trail


def _trail(presses: list[str]) -> list:
    at = AppTest.from_function(_script, args=(presses,))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at.session_state["trail"]


def test_j_and_k_move_the_cursor_within_the_rows_and_x_ticks_it() -> None:
    assert _trail(["j", "j", "x", "j", "j", "k", "x", "x"]) == [
        ("t-1", ()), ("t-2", ()), ("t-2", ("t-2",)), ("t-3", ("t-2",)), ("t-3", ("t-2",)),  # stops at the last row
        ("t-2", ("t-2",)), ("t-2", ()), ("t-2", ("t-2",)),
    ]
    assert _trail(["k"]) == [("t-3", ())]  # k without a cursor starts from the bottom


def test_o_without_a_cursor_or_one_ticked_row_explains_instead_of_guessing() -> None:
    at = AppTest.from_function(_script, args=(["o"],))
    at.run()
    assert not at.exception
    assert at.session_state["trail"] == [(None, ())]
    assert "Move the cursor to a row" in at.toast[0].value


def test_trigger_values_are_parsed_strictly() -> None:
    assert parse_key("j:1733150000000") == "j" and parse_key("o:1") == "o"
    assert parse_key("a:1") is None and parse_key("") is None and parse_key(None) is None and parse_key(3) is None


def test_the_overlay_lists_the_page_s_keys_first() -> None:
    assert [name for name, _ in sections("inbox")] == ["Inbox", "Review", "Everywhere"]
    review = dict(sections("review"))["Review"]
    assert {keys for keys, _ in review} == {"A", "X", "S", "Y", "J", "K", "U"}
