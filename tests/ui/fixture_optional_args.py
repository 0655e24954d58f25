"""A `create_agent` whose tool has optional arguments, paused by HumanInTheLoopMiddleware.

The model's call sends `cc` as None and leaves `priority` out (its default), the way models
write calls: an edit form drawn from the tool's schema shows both, and must send back what the
agent sent for every field the reviewer left alone.
"""

from __future__ import annotations

import itertools
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

CALL_ARGS = {"to": "ops@acme.example", "subject": "Q3 numbers", "cc": None}
SENT: list[dict[str, Any]] = []


@tool
def send_email(to: str, subject: str, cc: str | None = None, priority: int = 3) -> str:
    """Send an email.

    Args:
        to: Recipient.
        subject: Subject line.
        cc: Copy to, if anyone.
        priority: 1 (urgent) to 5.
    """
    SENT.append({"to": to, "subject": subject, "cc": cc, "priority": priority})
    return f"sent to {to}"


class _ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **kwargs: Any) -> _ScriptedModel:
        return self


_model = _ScriptedModel(messages=itertools.cycle([
    AIMessage(content="", tool_calls=[{"name": "send_email", "args": CALL_ARGS, "id": "call-1"}]),
    AIMessage(content="Done."),
]))

optional_args_agent = create_agent(
    _model, [send_email], middleware=[HumanInTheLoopMiddleware(interrupt_on={"send_email": True})]
)
