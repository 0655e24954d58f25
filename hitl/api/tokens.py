"""API bearer tokens: `[[api.tokens]]` in HITL_CONFIG and `HITL_API_TOKENS`, kept as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hitl.errors import HitlError

__all__ = ["TokenScope", "ALL_SCOPES", "ApiToken", "ApiPrincipal", "Tokens", "load_tokens", "token_digest"]

TokenScope = Literal["read", "decide"]
ALL_SCOPES: tuple[TokenScope, ...] = ("read", "decide")


@dataclass(frozen=True, kw_only=True)
class ApiToken:
    """One configured bearer token, stored as its SHA-256 digest."""

    token_sha256: str
    reviewer: str
    roles: tuple[str, ...] = ()
    scopes: tuple[TokenScope, ...] = ALL_SCOPES

    @classmethod
    def from_secret(
        cls, token: str, reviewer: str, *, roles: Sequence[str] = (), scopes: Sequence[TokenScope] = ALL_SCOPES
    ) -> ApiToken:
        """A token given in clear text (tests, HITL_API_TOKENS)."""
        return cls(token_sha256=token_digest(token), reviewer=reviewer, roles=tuple(roles), scopes=tuple(scopes))


@dataclass(frozen=True, kw_only=True)
class ApiPrincipal:
    """Who is calling: the reviewer recorded on decisions, with roles and scopes."""

    reviewer: str
    roles: tuple[str, ...]
    scopes: tuple[TokenScope, ...]
    token_id: str
    """The first 8 hex digits of the token's digest: names the token in logs, reveals nothing."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def load_tokens(policy: Mapping[str, Any], env: Mapping[str, str] | None = None) -> list[ApiToken]:
    """Tokens from `[[api.tokens]]` in the policy file and from `HITL_API_TOKENS`.

    Raises:
        HitlError: an entry is malformed; the message names it (never the token) and the fix.
    """
    env = os.environ if env is None else env
    tokens: list[ApiToken] = []
    entries = (policy.get("api") or {}).get("tokens", []) if isinstance(policy.get("api", {}), Mapping) else None
    if not isinstance(entries, list):
        raise HitlError('api.tokens in HITL_CONFIG must be an array of tables: [[api.tokens]]\\nreviewer = "...".')
    for number, entry in enumerate(entries, start=1):
        where = f"[[api.tokens]] entry #{number}"
        if not isinstance(entry, Mapping):
            raise HitlError(f"{where} in HITL_CONFIG must be a table with token_sha256 (or token) and reviewer.")
        reviewer = str(entry.get("reviewer") or "").strip()
        if not reviewer:
            raise HitlError(f"{where} has no reviewer; every decision is recorded with the token's reviewer.")
        if bool(entry.get("token")) == bool(entry.get("token_sha256")):
            raise HitlError(f"{where} ({reviewer}) needs exactly one of token = \"...\" or token_sha256 = \"<64 hex>\".")
        digest = str(entry.get("token_sha256") or token_digest(str(entry["token"]))).lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise HitlError(
                f"{where} ({reviewer}) has a token_sha256 that is not 64 hex digits; compute it with "
                "`printf %s \"$TOKEN\" | sha256sum`."
            )
        roles = entry.get("roles", [])
        scopes = entry.get("scopes", list(ALL_SCOPES))
        if not isinstance(roles, list) or not isinstance(scopes, list) or not set(scopes) <= set(ALL_SCOPES):
            raise HitlError(f"{where} ({reviewer}): roles must be a list of names, scopes a list drawn from {list(ALL_SCOPES)}.")
        tokens.append(ApiToken(token_sha256=digest, reviewer=reviewer, roles=tuple(map(str, roles)), scopes=tuple(scopes)))
    for number, pair in enumerate(filter(None, (p.strip() for p in env.get("HITL_API_TOKENS", "").split(","))), start=1):
        token, sep, reviewer = pair.partition(":")
        if not sep or not token.strip() or not reviewer.strip():
            raise HitlError(f"HITL_API_TOKENS item #{number} is not token:reviewer; use \"token1:alice,token2:bob\".")
        tokens.append(ApiToken.from_secret(token.strip(), reviewer.strip()))
    return tokens


class Tokens:
    """Resolves a presented token to its principal in constant time."""

    def __init__(self, tokens: Sequence[ApiToken]) -> None:
        self.tokens = list(tokens)

    def principal(self, presented: str) -> ApiPrincipal | None:
        digest = token_digest(presented)
        found: ApiToken | None = None
        for token in self.tokens:  # no early exit: the time spent does not depend on which token matched
            if hmac.compare_digest(digest, token.token_sha256) and found is None:
                found = token
        if found is None:
            return None
        return ApiPrincipal(reviewer=found.reviewer, roles=found.roles, scopes=found.scopes, token_id=digest[:8])
