"""A LangChain agent paused by the real HumanInTheLoopMiddleware, for payload and decision tests."""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

__all__ = ["paused_agent", "send_email", "make_payment"]


@tool
def send_email(to: str, subject: str) -> str:
    """Send an email."""
    return f"sent to {to}: {subject}"


@tool
def make_payment(amount: float, payee: str) -> str:
    """Pay someone."""
    return f"paid {amount} to {payee}"


class _ToolCallingFake(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **kwargs: Any) -> _ToolCallingFake:
        return self


def paused_agent(mode: str) -> tuple[Any, dict[str, Any], list[Any]]:
    """A LangChain agent paused by HumanInTheLoopMiddleware on two tool calls."""
    model = _ToolCallingFake(
        messages=iter(
            [
                AIMessage(
                    content="",
                    tool_calls=[
                        {"name": "send_email", "args": {"to": "a@example.com", "subject": "Q3"},
                         "id": "c1"},
                        {"name": "make_payment", "args": {"amount": 5, "payee": "ACME"},
                         "id": "c2"},
                    ],
                ),
                AIMessage(content="done"),
            ]
        )
    )
    middleware = HumanInTheLoopMiddleware(
        interrupt_on={
            "send_email": {"allowed_decisions": ["approve", "edit", "reject"]},
            "make_payment": {"allowed_decisions": ["approve", "reject"]},
        },
        interrupt_mode=mode,
    )
    agent = create_agent(model, [send_email, make_payment], middleware=[middleware],
                         checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t1"}}
    out = agent.invoke({"messages": [{"role": "user", "content": "go"}]}, config)
    return agent, config, list(out["__interrupt__"])
