"""The demo agents' chat model: ChatOpenAI when a key is set, a scripted offline model otherwise.

`ScriptedChatModel` reads the conversation and answers with fixed rules, so the demo graphs
pause at the same interrupts with the same payloads on every run and never touch the network:

- after tool results it writes a short summary of what the tools reported;
- with tools bound, it turns each clause of the user's request ("email the Q3 report to
  finance@acme.example, pay Acme GmbH 1,250.00 EUR for invoice INV-1042") into a tool call;
- otherwise it writes text for the task its system prompt names (an outline, a report, a
  draft reply, an announcement, a digest summary, a purchase request, a ticket triage).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

__all__ = ["ScriptedChatModel", "get_chat_model", "DEFAULT_OPENAI_MODEL"]

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
"""Model name used with ChatOpenAI unless `HITL_OPENAI_MODEL` names another."""

_EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_RECORD_ID = re.compile(r"\b[A-Z]{2,5}-\d{2,7}\b")
_AMOUNT = re.compile(
    r"(?P<symbol>[$€£])\s?(?P<symbol_number>\d[\d,]*(?:\.\d+)?)"
    r"|(?P<number>\d[\d,]*(?:\.\d+)?)\s?(?P<code>USD|EUR|GBP)\b"
)
_CURRENCY_BY_SYMBOL = {"$": "USD", "€": "EUR", "£": "GBP"}
_CLAUSE_SPLIT = re.compile(
    r",\s+(?:and\s+|then\s+)?"
    r"|;\s*|\.\s+"
    r"|\s+and\s+(?:then\s+)?(?=(?:email|e-mail|send|pay|wire|transfer|delete|remove|purge"
    r"|erase|search|find|look|check)\b)",
    re.IGNORECASE,
)
_VERBS = {
    "send_email": re.compile(r"\b(email|e-mail|send|mail)\b", re.IGNORECASE),
    "make_payment": re.compile(r"\b(pay|payment|wire|transfer|remit)\b", re.IGNORECASE),
    "delete_record": re.compile(r"\b(delete|remove|purge|erase)\b", re.IGNORECASE),
    "search_records": re.compile(r"\b(search|find|look up|lookup|check)\b", re.IGNORECASE),
}


class ScriptedChatModel(BaseChatModel):
    """Deterministic offline chat model that writes tool calls and text from the conversation.

    Supports `bind_tools`, so `langchain.agents.create_agent` can drive it like a real model.
    The same messages always produce the same reply, including tool call ids.
    """

    model_name: str = "scripted-demo"
    """Shown in traces and in the demo metadata."""

    @property
    def _llm_type(self) -> str:
        return "scripted-demo"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools in OpenAI format; the reply only calls tools bound here."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tool_names = {tool["function"]["name"] for tool in kwargs.get("tools") or []}
        reply = self.reply(messages, tool_names)
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def reply(self, messages: Sequence[BaseMessage], tool_names: set[str]) -> AIMessage:
        """The scripted answer to `messages` when the tools named in `tool_names` are bound."""
        turn = _latest_turn(messages)
        tool_results = [m for m in turn if isinstance(m, ToolMessage)]
        if tool_results:
            return AIMessage(content=summarize_tool_results(tool_results))
        human_texts = [_text(m) for m in messages if isinstance(m, HumanMessage)]
        if tool_names and human_texts:
            tool_calls = plan_tool_calls(human_texts[-1], tool_names, salt=len(messages))
            if tool_calls:
                return AIMessage(content=_announce(tool_calls), tool_calls=tool_calls)
            tools = ", ".join(sorted(tool_names))
            return AIMessage(
                content=f"I can use {tools}, but found nothing in your request for them to do. "
                "Name a recipient, an amount or a record id and I will prepare the action."
            )
        system_prompt = " ".join(_text(m) for m in messages if isinstance(m, SystemMessage))
        # The first human message is the task; later ones are feedback on earlier versions.
        request, feedback = (human_texts[0], human_texts[1:]) if human_texts else ("", [])
        return AIMessage(content=write_text(system_prompt, request, feedback))


def get_chat_model() -> BaseChatModel:
    """ChatOpenAI when `OPENAI_API_KEY` is set (model from `HITL_OPENAI_MODEL`), else scripted."""
    if os.environ.get("OPENAI_API_KEY"):
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=os.environ.get("HITL_OPENAI_MODEL", DEFAULT_OPENAI_MODEL))
    return ScriptedChatModel()


def plan_tool_calls(request: str, tool_names: set[str], *, salt: int = 0) -> list[ToolCall]:
    """One tool call per clause of `request` that asks for something a bound tool does."""
    tool_calls: list[ToolCall] = []
    for clause in _clauses(request):
        planned = _plan_clause(clause, tool_names)
        if planned is None:
            continue
        name, args = planned
        digest = hashlib.sha256(
            f"{salt}|{len(tool_calls)}|{name}|{json.dumps(args, sort_keys=True)}".encode()
        ).hexdigest()
        tool_calls.append(
            ToolCall(name=name, args=args, id=f"call_{digest[:24]}", type="tool_call")
        )
    return tool_calls


def summarize_tool_results(results: Sequence[ToolMessage]) -> str:
    """A closing message that reports each tool result, done or not done."""
    lines = [_result_line(_text(result)) for result in results]
    if len(lines) == 1:
        return lines[0] if lines[0].endswith(".") else f"{lines[0]}."
    done = sum(result.status != "error" for result in results)
    header = f"Finished: {done} of {len(results)} actions completed."
    return "\n".join([header, *(f"- {line}" for line in lines)])


def write_text(system_prompt: str, request: str, feedback: Sequence[str]) -> str:
    """Text for the writing task the system prompt names, revised once per feedback message."""
    task = system_prompt.lower()
    revision = len(feedback)
    if "outline" in task:
        return _outline(request)
    if "report" in task:
        return _report(request)
    if "purchase request" in task:
        return _purchase_request(request)
    if "triage" in task:
        return _triage(request)
    if "digest" in task:
        return _digest_summary(request)
    if "announcement" in task:
        return _announcement(request, revision, feedback[-1] if feedback else "")
    if "reply" in task or "draft" in task:
        return _draft_reply(request, revision)
    return f"Here is my response to your request: {request}"


def _latest_turn(messages: Sequence[BaseMessage]) -> Sequence[BaseMessage]:
    """Messages after the most recent human message."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return messages[index + 1 :]
    return messages


def _text(message: BaseMessage | None) -> str:
    if message is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    return " ".join(
        block if isinstance(block, str) else str(block.get("text", ""))
        for block in message.content
    )


def _result_line(text: str) -> str:
    """The gist of one tool result; a reviewer-edit notice becomes a short prefix."""
    marker = "Tool response:"
    edited = marker in text
    if edited:
        text = text.split(marker, 1)[1]
    line = text.strip().splitlines()[0] if text.strip() else "(no output)"
    return f"{line} (as edited by the reviewer)" if edited else line


def _clauses(request: str) -> list[str]:
    return [clause.strip(" .") for clause in _CLAUSE_SPLIT.split(request) if clause.strip(" .")]


def _announce(tool_calls: Sequence[ToolCall]) -> str:
    names = ", ".join(call["name"] for call in tool_calls)
    return f"I'll take care of that with {len(tool_calls)} tool call(s): {names}."


def _plan_clause(clause: str, tool_names: set[str]) -> tuple[str, dict[str, Any]] | None:
    """The (tool name, args) one clause asks for, among the bound tools."""
    planners = {
        "send_email": _email_args,
        "make_payment": _payment_args,
        "delete_record": _delete_args,
        "search_records": _search_args,
    }
    for name, planner in planners.items():
        if name in tool_names and _VERBS[name].search(clause):
            args = planner(clause)
            if args is not None:
                return name, args
    return None


def _email_args(clause: str) -> dict[str, Any] | None:
    address = _EMAIL_ADDRESS.search(clause)
    if address is None:
        return None
    topic = clause[: address.start()]
    topic = re.sub(r"^.*?\b(?:email|e-mail|send|mail)\b\s*", "", topic, flags=re.IGNORECASE)
    topic = re.sub(r"^(?:the|a|an|our)\s+", "", topic.strip(), flags=re.IGNORECASE)
    topic = re.sub(r"\s+to\s*$", "", topic, flags=re.IGNORECASE).strip() or "update"
    greeting = _greeting(address.group())
    return {
        "to": address.group(),
        "subject": topic[0].upper() + topic[1:],
        "body": (
            f"Hi {greeting},\n\nPlease find the {topic} attached. Let me know if anything "
            "needs a second look.\n\nBest regards,\nOperations Assistant"
        ),
    }


def _greeting(address: str) -> str:
    local = address.split("@", 1)[0]
    if "." in local:
        return local.split(".", 1)[0].title()
    if "-" in local or "_" in local:
        return "all"
    return f"{local.title()} team"


def _payment_args(clause: str) -> dict[str, Any] | None:
    amount = _AMOUNT.search(clause)
    if amount is None:
        return None
    if amount.group("symbol"):
        number = amount.group("symbol_number")
        currency = _CURRENCY_BY_SYMBOL[amount.group("symbol")]
    else:
        number, currency = amount.group("number"), amount.group("code").upper()
    before_amount = clause[: amount.start()]
    recipient = re.search(
        r"\b(?:pay|wire|transfer|remit)\s+(?P<name>.+?)\s*$", before_amount, re.IGNORECASE
    )
    if recipient is None:
        recipient = re.search(r"\bto\s+(?P<name>.+?)(?:\s+for\b|$)", clause[amount.end() :])
    memo = re.search(r"\bfor\s+(?P<memo>.+)$", clause[amount.end() :], re.IGNORECASE)
    return {
        "recipient": recipient.group("name").strip() if recipient else "Unknown payee",
        "amount": float(number.replace(",", "")),
        "currency": currency,
        "memo": _sentence_case(memo.group("memo")) if memo else "Payment requested by user",
    }


def _delete_args(clause: str) -> dict[str, Any] | None:
    record = _RECORD_ID.search(clause)
    if record is None:
        return None
    reason = re.search(
        r"\b(?:because|since|under|per|due to)\s+(?P<reason>.+)$", clause[record.end() :]
    )
    if reason:
        text = _sentence_case(reason.group("reason"))
    elif "duplicate" in clause.lower():
        text = "Duplicate record"
    else:
        text = "Requested by user"
    return {"record_id": record.group(), "reason": text}


def _search_args(clause: str) -> dict[str, Any] | None:
    query = re.sub(
        r"^.*?\b(?:search(?: for)?|find|look up|lookup|check)\b\s*", "", clause, flags=re.IGNORECASE
    ).strip()
    return {"query": query} if query else None


def _sentence_case(text: str) -> str:
    """`text` without a leading article, starting with a capital letter."""
    text = re.sub(r"^(?:the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE)
    return text[:1].upper() + text[1:]


def _subject(request: str) -> str:
    """The request without its leading instruction verb, for use inside sentences."""
    subject = re.sub(
        r"^(?:please\s+)?"
        r"(?:prepare|write|draft|create|summari[sz]e|announce|buy|purchase|order)\s+",
        "",
        request.strip().rstrip("."),
        flags=re.IGNORECASE,
    )
    return re.sub(r"^(?:a|an|the)\s+", "", subject, flags=re.IGNORECASE)


def _outline(request: str) -> str:
    subject = _subject(request)
    return (
        f"Outline: {subject}\n"
        "1. Context and question: why this matters now and what decision it informs.\n"
        "2. Data and method: sources, time window, and how figures were computed.\n"
        "3. Findings: the three most important results, each with its evidence.\n"
        "4. Risks and open questions: what could change the conclusion.\n"
        "5. Recommendation and next steps, with owners and dates."
    )


def _report(request: str) -> str:
    subject = _subject(request)
    return (
        f"Report: {subject}\n\n"
        f"This report covers {subject}. The data was taken from the finance warehouse and "
        "the CRM for the last two quarters and reconciled against the monthly close.\n\n"
        "Findings: volumes grew steadily, the largest variance came from two enterprise "
        "accounts, and seasonal effects explain most of the remaining movement.\n\n"
        "Recommendation: keep the current plan, review the two enterprise accounts with "
        "their owners this month, and revisit the forecast after the next close."
    )


def _purchase_request(request: str) -> str:
    amount = _AMOUNT.search(request)
    budget = amount.group() if amount else "the stated budget"
    item = re.split(r",?\s+(?:with a\s+)?budget\b", _subject(request), flags=re.IGNORECASE)[0]
    return (
        f"Purchase request: {item}\n"
        f"Budget: {budget}\n"
        "Justification: replaces end-of-life equipment and unblocks the team's roadmap.\n"
        "Vendor: preferred supplier under the framework agreement; delivery in 3-4 weeks."
    )


def _triage(request: str) -> str:
    record = _RECORD_ID.search(request)
    ticket = record.group() if record else "this ticket"
    return (
        f"Triage for {ticket}: the customer reports a product problem and asks for a fix. "
        "The order history confirms the purchase; no earlier contact on this issue. "
        "Suggested resolution: refund or replacement, depending on stock and customer preference."
    )


def _digest_summary(request: str) -> str:
    subject = re.split(r"\s+for\s+(?:the|our)\s+", _subject(request), maxsplit=1)[0]
    return (
        f"{subject[0].upper() + subject[1:]}: this week the team closed the open incidents, "
        "shipped two fixes to production, and scheduled the follow-up review for Thursday. "
        "No customer-facing impact remains."
    )


def _announcement(request: str, revision: int, feedback: str) -> str:
    product = re.search(r"\bfor\s+(?P<product>.+?)\.?$", request)
    subject = product.group("product") if product else _subject(request)
    versions = [
        f"Introducing {subject}: built for the way your team works, and available today.",
        f"Meet {subject}. Faster setup, fewer steps, and support from day one.",
        f"{subject[0].upper() + subject[1:]} is here: simple to start and easy to grow with.",
    ]
    text = versions[revision % len(versions)]
    if feedback:
        text += f"\n\n(Revision {revision}, addressing: {feedback})"
    return text


def _draft_reply(request: str, revision: int) -> str:
    match = re.search(r"\bto\s+(?P<name>.+?)\s+about\s+(?P<topic>.+?)\.?$", request)
    name = match.group("name") if match else "there"
    topic = match.group("topic") if match else _subject(request)
    openings = [
        f"Thank you for reaching out about {topic}.",
        f"I'm sorry for the trouble with {topic}, and thank you for your patience.",
        f"Following up on your message about {topic}.",
    ]
    return (
        f"Dear {name},\n\n{openings[revision % len(openings)]} I have looked into it and our "
        "team will have an update for you within two business days. If anything changes in "
        "the meantime, just reply to this email.\n\nKind regards,\nCustomer Care"
    )
