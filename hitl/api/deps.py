"""What every route depends on: the app's desk (opened on first use) and the caller's token."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from hitl.api.failures import DeskUnavailable
from hitl.api.models import EXAMPLE_THREAD
from hitl.api.tokens import ApiPrincipal, ApiToken, Tokens, load_tokens
from hitl.config import Settings
from hitl.errors import HitlError, NotAuthorized, StoreError
from hitl.inbox import ActingInbox, Inbox
from hitl.notify import start_background_notifier, stop_background_notifier

__all__ = [
    "DeskHandle", "Desk", "Reader", "Decider", "ThreadId", "desk_of", "principal", "reader", "decider", "acting", "as_caller",
    "start_notifier", "webhooks_configured",
]

log = logging.getLogger(__name__)


class DeskHandle:
    """The app's Inbox and tokens, opened on first use."""

    def __init__(self, inbox: Inbox | None, tokens: Sequence[ApiToken] | Mapping[str, str] | None) -> None:
        self._inbox = inbox
        self._owns_inbox = inbox is None
        if isinstance(tokens, Mapping):
            tokens = [ApiToken.from_secret(token, reviewer) for token, reviewer in tokens.items()]
        self._tokens = Tokens(tokens) if tokens is not None else None
        self._lock = threading.Lock()

    def inbox(self) -> Inbox:
        if self._inbox is None:
            with self._lock:
                if self._inbox is None:
                    try:
                        inbox = Inbox.open()
                    except StoreError:
                        raise
                    except HitlError as exc:  # a bad HITL_CONFIG or registry: the server's problem
                        raise DeskUnavailable(str(exc)) from None
                    start_notifier(inbox)
                    self._inbox = inbox
        return self._inbox

    def tokens(self) -> Tokens:
        if self._tokens is None:
            policy = self.inbox().settings.policy
            with self._lock:
                if self._tokens is None:
                    try:
                        self._tokens = Tokens(load_tokens(policy))
                    except HitlError as exc:
                        raise DeskUnavailable(str(exc)) from None
        return self._tokens

    def close(self) -> None:
        """Stop the notifier; close the Inbox if this app opened it."""
        if self._inbox is not None:
            stop_background_notifier(self._inbox)
            if self._owns_inbox:
                self._inbox.close()
                self._inbox = None


def webhooks_configured() -> bool:
    try:
        return bool(Settings.from_env().policy.get("webhooks"))
    except HitlError:
        return False


def start_notifier(inbox: Inbox) -> None:
    try:
        start_background_notifier(inbox)
    except HitlError as exc:
        log.error("Webhook notifications are off: %s", exc)


_bearer = HTTPBearer(auto_error=False, description="A token from [[api.tokens]] in HITL_CONFIG or HITL_API_TOKENS.")


def desk_of(request: Request) -> DeskHandle:
    desk: DeskHandle = request.app.state.desk
    return desk


def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> ApiPrincipal:
    """The caller, from the bearer token (401 without a configured one)."""
    tokens = desk_of(request).tokens()
    if not tokens.tokens:
        raise StarletteHTTPException(
            401,
            "No API tokens are configured on this desk. Add [[api.tokens]] entries to the HITL_CONFIG "
            "file or set HITL_API_TOKENS=\"token:reviewer\", then restart the API.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise StarletteHTTPException(401, "Send Authorization: Bearer <token>.", headers={"WWW-Authenticate": "Bearer"})
    found = tokens.principal(credentials.credentials)
    if found is None:
        raise StarletteHTTPException(
            401,
            "This bearer token is not configured on the desk; check it, or ask for one.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return found


def reader(who: Annotated[ApiPrincipal, Depends(principal)]) -> ApiPrincipal:
    if "read" not in who.scopes:
        raise NotAuthorized(f"The token of {who.reviewer} (…{who.token_id}) has no 'read' scope.")
    return who


def decider(who: Annotated[ApiPrincipal, Depends(principal)]) -> ApiPrincipal:
    if "decide" not in who.scopes:
        raise NotAuthorized(
            f"The token of {who.reviewer} (…{who.token_id}) may only read: its scopes are "
            f"{list(who.scopes)}. Ask for a token with the 'decide' scope to answer interrupts."
        )
    return who


def acting(inbox: Inbox, who: ApiPrincipal) -> Any:
    """The token as a `hitl.access.Principal`: its reviewer, its roles plus those [access] maps.

    Roles, four eyes and quorum then apply to API calls as they do to signed-in reviewers.
    """
    try:
        return inbox.principal(who.reviewer, roles=who.roles, source="api")
    except NotAuthorized:
        raise
    except HitlError as exc:  # a bad [access] section: the server's configuration, not the request
        raise DeskUnavailable(str(exc)) from None


def as_caller(inbox: Inbox, who: ApiPrincipal) -> ActingInbox:
    """The Inbox acting as the token's principal (`Inbox.as_principal`): every call the route
    makes through it is checked as that principal, never as an identity installed on the
    shared Inbox."""
    return inbox.as_principal(acting(inbox, who))


Desk = Annotated[DeskHandle, Depends(desk_of)]
Reader = Annotated[ApiPrincipal, Depends(reader)]
Decider = Annotated[ApiPrincipal, Depends(decider)]
ThreadId = Annotated[str, Path(min_length=1, description="The LangGraph thread id.", examples=[EXAMPLE_THREAD])]
