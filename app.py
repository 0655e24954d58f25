"""The HITL review desk: routes to the pages and draws the shared sidebar."""

from pathlib import Path

import streamlit as st

from hitl.ui import auth
from hitl.ui.sidebar import render_sidebar

st.set_page_config(page_title="HITL review desk", page_icon=":material/fact_check:", layout="wide")

pages = [
    st.Page("pages/inbox.py", title="Inbox", icon=":material/inbox:", default=True),
    st.Page("pages/review.py", title="Review", icon=":material/rate_review:", url_path="review"),
    st.Page("pages/threads.py", title="Threads", icon=":material/account_tree:"),
    st.Page("pages/start.py", title="Start a run", icon=":material/play_arrow:"),
    st.Page("pages/history.py", title="History", icon=":material/history:"),
    st.Page("pages/qa.py", title="QA", icon=":material/grading:", url_path="qa"),
]
if (Path(__file__).parent / "pages" / "deliveries.py").exists():
    pages.append(st.Page("pages/deliveries.py", title="Webhooks", icon=":material/webhook:"))

# Login mode ([auth] in secrets.toml): only the sign-in page until signed in, then the desk acts
# as the signed-in identity on every call. Local mode: both do nothing.
auth.gate()
principal = auth.install()
page = st.navigation(pages)
if principal is not None:
    with st.sidebar:
        auth.render_identity(principal)
if render_sidebar():
    page.run()
