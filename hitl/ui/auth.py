"""Login mode and local mode for the Streamlit desk.

Login mode is on when `.streamlit/secrets.toml` has an `[auth]` section (see
`.streamlit/secrets.toml.example`): every page requires `st.login` (OIDC, through Authlib), and
the reviewer is the signed-in identity (email, else subject), never a typed name. The shared
desk then acts as that identity on every call (`Inbox.require_principal`), so roles, four eyes
and quorum from HITL_CONFIG `[access]` apply on every page, including widget callbacks.

Local mode (no `[auth]`): no login; the reviewer types a name in the sidebar, and the sidebar
says that anyone who can reach the URL can decide.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from hitl.access import Principal
from hitl.errors import HitlError
from hitl.ui.desk import get_inbox
from hitl.ui.text import escape_markdown

__all__ = [
    "login_configured",
    "require_login",
    "identity_of",
    "current_principal",
    "install",
    "render_identity",
    "render_votes",
]


def login_configured() -> bool:
    """Whether `[auth]` is configured in the app's secrets (login mode)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: local mode
        return False


def identity_of(claims: Any) -> str | None:
    """The identity recorded on decisions: the email claim, else the subject."""
    for key in ("email", "sub"):
        value = claims.get(key) if hasattr(claims, "get") else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _signed_in_claims() -> dict[str, Any] | None:
    try:
        user = st.user
        if not user.is_logged_in:
            return None
        return dict(user.to_dict())
    except Exception:  # outside a Streamlit session (a background thread): nobody
        return None


def current_principal() -> Principal | None:
    """The signed-in reviewer with the roles HITL_CONFIG maps to them; None in local mode
    or when nobody is signed in."""
    if not login_configured():
        return None
    claims = _signed_in_claims()
    identity = identity_of(claims or {})
    if not identity:
        return None
    return get_inbox().principal(identity, claims=claims, source="oidc")


def require_login() -> str | None:
    """Login mode: the sign-in page (and stop) unless signed in; returns the identity.

    Local mode: returns None and shows nothing.
    """
    if not login_configured():
        return None
    claims = _signed_in_claims()
    identity = identity_of(claims or {})
    if identity:
        return identity
    st.title("HITL review desk")
    if claims is not None:
        st.error(
            "Your identity provider sent neither an email nor a subject claim, so decisions could not be "
            "recorded under your name. Ask the administrator to release the `email` claim to this app."
        )
        st.button("Log out", on_click=st.logout)
        st.stop()
    st.write("This desk approves payments and emails on behalf of agents. Sign in to see your queue.")
    st.button("Log in", type="primary", icon=":material/login:", on_click=st.login, key="auth:login")
    st.stop()
    return None  # unreachable: st.stop() raises


def install() -> Principal | None:
    """Wire the signed-in reviewer into the shared desk; call once per run, before pages.

    Login mode: stops with the sign-in page when nobody is signed in; otherwise the desk acts
    as the principal on every call, and the session's reviewer is the identity. Local mode:
    nothing is enforced (a previously installed provider is removed).
    """
    identity = require_login()
    if identity is not None:
        st.session_state["reviewer"] = identity
    try:
        inbox = get_inbox()
    except HitlError:
        return None  # the sidebar explains the database problem and stops the page
    if identity is None:
        inbox.require_principal(None)
        return None
    inbox.require_principal(current_principal)
    return current_principal()


def render_identity(principal: Principal | None) -> bool:
    """The sidebar's identity block. Login mode: who is signed in, their roles, their queue
    and a logout button; returns True. Local mode: returns False (the sidebar shows the name
    field and the local-mode warning)."""
    if principal is None:
        return False
    st.markdown(f"Signed in as **{escape_markdown(principal.identity)}**")
    st.caption(escape_markdown(f"Roles: {principal.describe_roles()}"))
    try:
        page = get_inbox().pending(limit=1, principal=principal, refresh=False)
    except Exception as exc:  # noqa: BLE001 - the sidebar must still draw
        st.caption(escape_markdown(f"My queue: not available ({exc})"))
    else:
        st.metric("My queue", f"{page.total:,}")
        st.caption(f"{page.waiting_on_others:,} waiting on others")
    st.button("Log out", icon=":material/logout:", on_click=st.logout, key="auth:logout")
    return True


def render_votes(inbox: Any, view: Any) -> None:
    """Quorum votes recorded on the thread's pending interrupts, with how many approvals each
    still needs."""
    if not getattr(view, "votes", None):
        return
    from hitl.access import ReviewItem

    requester = (view.metadata or {}).get("requested_by")
    for item in view.interrupts:
        cast = [vote for vote in view.votes if vote.interrupt_id == item.id]
        if not cast:
            continue
        rule = inbox.access.quorum_for(ReviewItem.of(view.thread_id, view.graph_id, item, requester))
        approvals = [vote for vote in cast if vote.vote == "approve"]
        needed = f" of {rule.approvals} approvals" if rule else " approvals"
        with st.container(border=True):
            st.markdown(f"**Quorum vote: {len(approvals)}{needed} so far**")
            for vote in cast:
                line = f"{vote.voter}: {vote.vote}" + (f" ({vote.comment})" if vote.comment else "")
                st.markdown("- " + escape_markdown(line))
