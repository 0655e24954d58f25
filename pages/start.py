"""Start a run: launch any registered graph (logic in hitl.ui.start_form)."""

from hitl.ui.start_form import render_start_page

render_start_page()
