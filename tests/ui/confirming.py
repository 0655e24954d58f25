"""The confirming second step of a review decision (issue 17), for AppTest tests.

A decision that moves money, deletes or lets more than one call run waits in the card's action
bar ("Confirm: runs …") until Confirm (key Y) is pressed; nothing is sent before.
"""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest


def confirm_line(at: AppTest) -> str:
    """The text of the confirmation waiting on the page ("" when none)."""
    for warning in at.warning:
        text = re.sub(r"\\(.)", r"\1", str(warning.value)).replace("\u2060", "")
        if text.startswith("Confirm: "):
            return text
    return ""


def confirm(at: AppTest, interrupt_id: str, *, asks: str = "") -> AppTest:
    """Press Confirm on the decision waiting for it; `asks` must be part of what it asks."""
    line = confirm_line(at)
    assert line, "no confirmation was asked"
    assert asks in line, line
    at.button(key=f"review:{interrupt_id}:btn:confirm").click().run()
    return at
