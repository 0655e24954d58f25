"""Login mode and local mode for the Streamlit desk.

Login mode is on when `.streamlit/secrets.toml` has an `[auth]` section (see
`.streamlit/secrets.toml.example`): every page requires `st.login` (OIDC, through Authlib), and
the reviewer is the signed-in identity, never a typed name. The shared desk then acts as that
identity on every call (`Inbox.require_principal`), so roles, four eyes and quorum from
HITL_CONFIG `[access]` apply on every page, including widget callbacks.

The identity is the `email` claim only when the provider says it verified it
(`email_verified` is true); otherwise it is the subject (`sub`), and the email is dropped from
the claims `[access]` sees, so an address someone typed into their account at a provider that
does not verify emails can neither match `*@fin.example` globs or `claim = "email"` mappings,
nor pose as another reviewer for four eyes or quorum. A provider whose emails are trustworthy
without the claim (a company directory) can be trusted explicitly in secrets.toml:

    [auth]
    trust_unverified_email = false     # the default, for every provider
    [auth.corp]
    trust_unverified_email = true      # this provider's email claim is used as sent

Local mode (no `[auth]`): no login; the reviewer types a name in the sidebar, and the sidebar
says that anyone who can reach the URL can decide.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import sys

import streamlit as st
from streamlit import config
from streamlit.runtime.pages_manager import PagesManager

from hitl.access import Principal, ReviewItem
from hitl.errors import HitlError
from hitl.ui.desk import get_inbox
from hitl.ui.context import md_escape

__all__ = [
    "login_configured",
    "signed_in_identity",
    "login_required",
    "render_login_page",
    "gate",
    "route_through_app",
    "identity_of",
    "trusts_unverified_email",
    "trusted_claims",
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


def _email_verified(claims: Mapping[str, Any]) -> bool:
    # Some providers (AWS Cognito, older Okta) send the boolean as the string "true".
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def trusts_unverified_email(auth_section: Mapping[str, Any] | None, provider: str | None) -> bool:
    """Whether secrets.toml trusts `provider`'s email claim without `email_verified`.

    `[auth.<provider>] trust_unverified_email` wins over `[auth] trust_unverified_email`; both
    default to false. A value that is not a boolean counts as false (fail closed), with a warning.
    """
    section = auth_section or {}
    candidates = []
    provider_section = section.get(provider) if provider and provider != "default" else None
    if isinstance(provider_section, Mapping):
        candidates.append((f"[auth.{provider}]", provider_section))
    candidates.append(("[auth]", section))
    for where, table in candidates:
        if "trust_unverified_email" not in table:
            continue
        value = table["trust_unverified_email"]
        if isinstance(value, bool):
            return value
        logging.getLogger(__name__).warning(
            "%s trust_unverified_email = %r in .streamlit/secrets.toml is not true or false; "
            "unverified emails are not trusted.", where, value
        )
        return False
    return False


def _email_usable(claims: Mapping[str, Any], trust_unverified_email: bool) -> bool:
    email = claims.get("email")
    return isinstance(email, str) and bool(email.strip()) and (trust_unverified_email or _email_verified(claims))


def identity_of(claims: Any, *, trust_unverified_email: bool = False) -> str | None:
    """The identity recorded on decisions: the email claim when the provider verified it (or
    is trusted without `email_verified`), else the subject."""
    if not hasattr(claims, "get"):
        return None
    if _email_usable(claims, trust_unverified_email):
        return str(claims["email"]).strip()
    subject = claims.get("sub")
    if isinstance(subject, str) and subject.strip():
        return subject.strip()
    return None


def trusted_claims(claims: Mapping[str, Any], *, trust_unverified_email: bool = False) -> dict[str, Any]:
    """The claims `[access]` may map to roles: without an email the provider did not verify."""
    if _email_usable(claims, trust_unverified_email) or "email" not in claims:
        return dict(claims)
    return {key: value for key, value in claims.items() if key != "email"}


def _auth_section() -> Mapping[str, Any] | None:
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return None
    return section if isinstance(section, Mapping) else None


def _trust(claims: Mapping[str, Any]) -> bool:
    provider = claims.get("provider")
    return trusts_unverified_email(_auth_section(), provider if isinstance(provider, str) else None)


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
    claims = _signed_in_claims() or {}
    trust = _trust(claims)
    identity = identity_of(claims, trust_unverified_email=trust)
    if not identity:
        return None
    return get_inbox().principal(identity, claims=trusted_claims(claims, trust_unverified_email=trust), source="oidc")


def signed_in_identity() -> str | None:
    """The signed-in identity (verified email, else subject); None in local mode or when signed out."""
    if not login_configured():
        return None
    claims = _signed_in_claims() or {}
    return identity_of(claims, trust_unverified_email=_trust(claims))


def login_required() -> bool:
    """Login mode and nobody (usable) is signed in: only the sign-in page may be shown."""
    return login_configured() and signed_in_identity() is None


def render_login_page() -> None:
    """The sign-in page: what the desk is and a Log in button (st.login)."""
    st.title("HITL review desk")
    if _signed_in_claims() is not None:
        st.error(
            "Your identity provider sent neither an email nor a subject claim, so decisions could not be "
            "recorded under your name. Ask the administrator to release the `email` claim to this app."
        )
        st.button("Log out", on_click=st.logout, key="auth:logout-empty")
        return
    st.write("This desk approves payments and emails on behalf of agents. Sign in to see your queue.")
    st.button("Log in", type="primary", icon=":material/login:", on_click=st.login, key="auth:login")


def route_through_app() -> None:
    """Make sure this page runs under app.py's routing (and so behind `gate()`); call it at the
    top of every page.

    Until some session first calls st.navigation, Streamlit runs `pages/<name>.py` straight from
    the URL (its multipage-v1 fallback for apps with a `pages/` folder), skipping app.py: the
    first request after a restart could open `/review?thread=...` without signing in, and in
    local mode it rendered an unrouted app (file names in the nav, no name field, no counts).
    When this run is such a run, switch the process to app.py routing and rerun: only the first
    run of the process can be one, so only that run is repeated.

    AppTest runs a page through the same fallback on every run, so there it routes only in login
    mode (AppTest tests of local mode drive app.py's navigation instead).
    """
    if config.get_option("global.appTest") and not login_configured():
        return

    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_mpa_v1" and "scriptrunner" in frame.f_code.co_filename:
            PagesManager.uses_pages_directory = False
            st.rerun()
        frame = frame.f_back


def gate() -> None:
    """Login mode without a signed-in reviewer: run only the sign-in page, then stop.

    It must run *as the navigation*: a script that stopped before calling st.navigation would
    let Streamlit fall back to running `pages/*.py` straight from the URL, unchecked.
    """
    if not login_required():
        return
    st.navigation([st.Page(render_login_page, title="Sign in", url_path="login", default=True)], position="hidden").run()
    st.stop()


def install() -> Principal | None:
    """Wire the signed-in reviewer into the shared desk; call once per run, after `gate()`.

    Login mode: the desk acts as the principal on every call, and the session's reviewer is
    the identity. Local mode: nothing is enforced (a previously installed provider is removed).
    """
    identity = signed_in_identity()
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
    st.markdown(f"Signed in as **{md_escape(principal.identity)}**")
    claims = _signed_in_claims() or {}
    email = claims.get("email")
    if isinstance(email, str) and email.strip() and email.strip() != principal.identity:
        st.caption(
            md_escape(
                f"Your provider did not verify the email {email.strip()}, so decisions are recorded under "
                "your account's subject id instead."
            )
        )
    st.caption(md_escape(f"Roles: {principal.describe_roles()}"))
    try:
        page = get_inbox().pending(limit=1, principal=principal, refresh=False)
    except Exception as exc:  # noqa: BLE001 - the sidebar must still draw
        st.caption(md_escape(f"My queue: not available ({exc})"))
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
                st.markdown("- " + md_escape(line))
