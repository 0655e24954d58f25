"""Start a run: launch any registered graph (logic in hitl.ui.start_form)."""

from hitl.ui import auth
from hitl.ui.start_form import render_start_page

if auth.login_configured():
    auth.route_through_app()  # never run unrouted (and so unguarded) from a first-request URL
render_start_page()
