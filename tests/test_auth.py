"""Login identities (hitl/ui/auth.py): the email claim counts only when the provider verified it.

A provider that lets anyone type any address into their account (no email verification) must
not let them match `*@fin.example` role globs, `claim = "email"` mappings, or pose as another
reviewer for four eyes or quorum: the identity is then the subject.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hitl import Inbox
from hitl.ui import auth

ACCESS = {
    "access": {
        "identities": [
            {"match": "*@fin.example", "roles": ["finance"]},
            {"claim": "email", "value": "cfo@fin.example", "roles": ["cfo"]},
        ]
    }
}


@pytest.mark.parametrize(
    ("claims", "identity"),
    [
        ({"sub": "u-123", "email": "cfo@fin.example"}, "u-123"),  # no email_verified: not verified
        ({"sub": "u-123", "email": "cfo@fin.example", "email_verified": False}, "u-123"),
        ({"sub": "u-123", "email": "cfo@fin.example", "email_verified": "false"}, "u-123"),
        ({"sub": "u-123", "email": "cfo@fin.example", "email_verified": 1}, "u-123"),  # only true is true
        ({"sub": "u-123", "email": "cfo@fin.example", "email_verified": True}, "cfo@fin.example"),
        ({"sub": "u-123", "email": " cfo@fin.example ", "email_verified": "True"}, "cfo@fin.example"),  # Cognito sends a string
        ({"sub": "u-123", "email": "", "email_verified": True}, "u-123"),
        ({"sub": "u-123"}, "u-123"),
        ({"email": "cfo@fin.example"}, None),
        ({}, None),
    ],
)
def test_the_identity_is_the_verified_email_else_the_subject(claims: dict, identity: str | None) -> None:
    assert auth.identity_of(claims) == identity


def test_a_trusted_provider_s_email_is_used_without_email_verified() -> None:
    claims = {"sub": "u-123", "email": "alice@corp.example"}
    assert auth.identity_of(claims, trust_unverified_email=True) == "alice@corp.example"
    assert auth.trusted_claims(claims, trust_unverified_email=True) == claims
    assert auth.trusted_claims(claims) == {"sub": "u-123"}


@pytest.mark.parametrize(
    ("section", "provider", "trusted"),
    [
        ({}, "default", False),
        ({}, None, False),
        ({"trust_unverified_email": True}, "default", True),
        ({"trust_unverified_email": True}, "google", True),
        ({"trust_unverified_email": True, "google": {"client_id": "x", "trust_unverified_email": False}}, "google", False),
        ({"corp": {"client_id": "x", "trust_unverified_email": True}}, "corp", True),
        ({"corp": {"client_id": "x", "trust_unverified_email": True}}, "google", False),
        ({"corp": {"client_id": "x", "trust_unverified_email": True}}, "default", False),
    ],
)
def test_trusting_unverified_emails_is_off_by_default_and_set_per_provider(section: dict, provider: str | None, trusted: bool) -> None:
    assert auth.trusts_unverified_email(section, provider) is trusted


def test_a_trust_setting_that_is_not_a_boolean_fails_closed_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hitl.ui.auth"):
        assert auth.trusts_unverified_email({"corp": {"trust_unverified_email": "yes"}}, "corp") is False
    assert "[auth.corp] trust_unverified_email = 'yes'" in caplog.text


@pytest.fixture
def signed_in(tmp_path: Path, graphs_file: Path, monkeypatch: pytest.MonkeyPatch):
    """Login mode over a desk with [access] mapping fin.example addresses to roles; returns a
    function that signs in with the given claims and secrets [auth] section."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    desk = Inbox.open(database_url=f"sqlite:///{tmp_path / 'hitl.db'}", graphs_path=str(graphs_file), create=True, policy=ACCESS)
    monkeypatch.setattr(auth, "login_configured", lambda: True)
    monkeypatch.setattr(auth, "get_inbox", lambda: desk)

    def sign_in(claims: dict, section: dict | None = None):
        monkeypatch.setattr(auth, "_signed_in_claims", lambda: dict(claims))
        monkeypatch.setattr(auth, "_auth_section", lambda: section or {"redirect_uri": "x", "cookie_secret": "y"})
        return auth.current_principal()

    yield sign_in
    desk.close()


def test_an_unverified_email_matches_no_role_and_is_not_the_identity(signed_in) -> None:
    principal = signed_in({"sub": "u-123", "email": "cfo@fin.example", "email_verified": False, "provider": "default"})
    assert principal.identity == "u-123"
    assert principal.roles == frozenset()  # neither the *@fin.example glob nor the claim = "email" mapping
    assert "email" not in principal.claims
    assert auth.signed_in_identity() == "u-123"


def test_a_verified_email_is_the_identity_and_maps_its_roles(signed_in) -> None:
    principal = signed_in({"sub": "u-123", "email": "cfo@fin.example", "email_verified": True, "provider": "default"})
    assert principal.identity == "cfo@fin.example"
    assert principal.roles == frozenset({"finance", "cfo"})


def test_a_provider_trusted_in_secrets_keeps_its_unverified_email(signed_in) -> None:
    claims = {"sub": "u-9", "email": "cfo@fin.example", "provider": "corp"}
    section = {"redirect_uri": "x", "cookie_secret": "y", "corp": {"client_id": "c", "trust_unverified_email": True}}
    assert signed_in(claims, section).identity == "cfo@fin.example"
    assert signed_in({**claims, "provider": "google"}, section).identity == "u-9"
