"""schemathesis against the API's own OpenAPI document: no server error, no schema violation.

The app runs in-process (ASGI) over a fresh database seeded with the demo threads `make api`
seeds, so the document's examples (`demo-email_approval-0000`, ...) reach real threads, and
generated requests hit real 404s, 409s and 422s. Examples are bounded to keep the run short.

`schemathesis.pytest.from_fixture` fails under pytest 9 (schemathesis 4.32.5 sets the removed
`Function._nodeid`), so the schema is loaded once from a small ASGI front whose target app is
swapped per test by a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from hitl import Inbox
from hitl.api import create_app
from hitl.demo.seed import seed

TOKEN = "schemathesis-token"


class _Front:
    """An ASGI app forwarding to `target`; the document is read from an app with no desk."""

    def __init__(self) -> None:
        self.target: Any = create_app(tokens={TOKEN: "fuzzer@example.com"})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


front = _Front()
schema = schemathesis.openapi.from_asgi("/openapi.json", front)


@pytest.fixture(autouse=True)
def seeded_app(inbox: Inbox) -> Iterator[None]:
    seed(inbox, 28)  # two threads per demo graph, ids as in the document's examples
    inbox.refresh()
    document_only = front.target
    front.target = create_app(inbox, tokens={TOKEN: "fuzzer@example.com"})
    yield
    front.target = document_only


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_without_a_token_answers_in_the_documented_shape(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
