"""History: the audit log, filters, CSV export and charts (logic in hitl.ui.history_view)."""

from hitl.ui.history_view import render_history_page

render_history_page()
