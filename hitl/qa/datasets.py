"""A thread's conversation, final output and inputs, and QA datasets in LangSmith and OpenAI shapes. Pure.

Export formats (`hitl.qa.service.QA.export`, `python -m hitl qa export QUEUE --format ...`):

* `jsonl` — one LangSmith example per line, `{"inputs", "outputs", "metadata"}`, the dicts
  `langsmith.Client.create_examples(examples=[...])` takes (or split into its `inputs=`,
  `outputs=`, `metadata=` lists):
    * `inputs`: `{"messages": [...]}` — the conversation up to the agent's final answer, as
      `{"role", "content"}` dicts — or, for graphs without messages, the run's input.
    * `outputs`: `{"output": ...}` — the reference output: the reviewers' correction when there
      is one (the adjudicator's wins), else the agent's final output.
    * `metadata`: `queue`, `thread_id`, `checkpoint_id` (the final checkpoint scored),
      `graph_id`, `agent_output`, `corrected`, `scores` (final score per rubric: the adjudicated
      one, else the reviewers' when they agree, else null), `reviewer_scores`
      ({reviewer: {rubric: value}}), `reviewers`, `adjudicated`, `adjudicator`, `comments`, `is_fork`.
* `csv` — the same, one row per item: `inputs` (JSON), `output`, `agent_output`, `corrected`,
  `score.<rubric>` per rubric, `reviewer_scores` (JSON), `reviewers`, ids; LangSmith's
  `upload_csv(..., input_keys=["inputs"], output_keys=["output"])` reads it.
* `openai` — one chat fine-tuning example per line, `{"messages": [...]}` with system, user,
  assistant (tool calls in OpenAI's format) and tool messages, ending with the reference
  output as the assistant's answer.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from hitl.jsondata import json_safe
from hitl.messages import content_text, message_field
from hitl.qa.queues import MISSING, value_at

__all__ = [
    "ExportFormat",
    "EXPORT_FORMATS",
    "message_dicts",
    "final_output",
    "run_inputs",
    "tool_calls_made",
    "example_record",
    "to_jsonl",
    "to_csv",
    "to_openai_jsonl",
    "EXAMPLE_FIELDS",
    "METADATA_FIELDS",
]

ExportFormat = Literal["jsonl", "csv", "openai"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "openai")
EXAMPLE_FIELDS = ("inputs", "outputs", "metadata")
METADATA_FIELDS = (
    "queue", "thread_id", "checkpoint_id", "graph_id", "agent_output", "corrected", "scores", "reviewer_scores",
    "reviewers", "adjudicated", "adjudicator", "comments", "is_fork",
)  # fmt: skip

_ROLES = {"human": "user", "user": "user", "ai": "assistant", "assistant": "assistant", "system": "system",
          "developer": "system", "tool": "tool", "function": "tool"}  # fmt: skip


def message_dicts(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """LangChain messages (objects or dicts) as OpenAI-style `{"role", "content", ...}` dicts."""
    out = []
    for message in messages or []:
        role = _ROLES.get(str(message_field(message, "type") or message_field(message, "role") or ""), "user")
        entry: dict[str, Any] = {"role": role, "content": content_text(message_field(message, "content"))}
        calls = message_field(message, "tool_calls") or []
        if role == "assistant" and calls:
            entry["tool_calls"] = [
                {
                    "id": str(message_field(call, "id") or f"call_{index}"),
                    "type": "function",
                    "function": {"name": str(message_field(call, "name") or ""),
                                 "arguments": json.dumps(json_safe(message_field(call, "args") or {}), ensure_ascii=False)},
                }  # fmt: skip
                for index, call in enumerate(calls)
            ]
        if role == "tool":
            entry["tool_call_id"] = str(message_field(message, "tool_call_id") or "")
        name = message_field(message, "name")
        if name and role in ("user", "assistant", "system"):
            entry["name"] = str(name)
        out.append(entry)
    return out


def _is_answer(message: Mapping[str, Any]) -> bool:
    return message["role"] == "assistant" and not message.get("tool_calls") and bool(message["content"].strip())


def final_output(values: Mapping[str, Any], *, output_key: str | None = None) -> tuple[Any, str]:
    """The thread's final output and where it was read from.

    `output_key` (a dotted path into the state) wins; else the last assistant message that is
    an answer (text, no tool calls); else the state without its messages.
    """
    if output_key:
        found = value_at(values, output_key)
        if found is not MISSING:
            return json_safe(found), f"state.{output_key}"
    messages = message_dicts(values.get("messages") or []) if isinstance(values, Mapping) else []
    for message in reversed(messages):
        if _is_answer(message):
            return message["content"], "last assistant message"
    rest = {k: v for k, v in values.items() if k != "messages"} if isinstance(values, Mapping) else values
    return json_safe(rest), "final state"


def run_inputs(values: Mapping[str, Any], first_input: Any) -> dict[str, Any]:
    """What the agent was given: the messages before its final answer, else the run's input."""
    messages = message_dicts(values.get("messages") or []) if isinstance(values, Mapping) else []
    if messages:
        last = max((i for i, m in enumerate(messages) if _is_answer(m)), default=len(messages))
        return {"messages": messages[:last]}
    plain = json_safe(first_input)
    return plain if isinstance(plain, dict) else {"input": plain}


def tool_calls_made(messages: Iterable[Any], *, skip_ids: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Tool calls that ran (a tool message answered them), in order: name, args, result, status
    ("success", or "error" for a call that failed or was declined). Tool messages whose id is
    in `skip_ids` (e.g. those before a fork point) are left out."""
    messages = list(messages or [])
    calls = {}
    for message in messages:
        for call in message_field(message, "tool_calls") or []:
            calls[str(message_field(call, "id") or "")] = call
    made = []
    for message in messages:
        role = _ROLES.get(str(message_field(message, "type") or message_field(message, "role") or ""), "")
        if role != "tool" or str(message_field(message, "id") or "") in skip_ids:
            continue
        call = calls.get(str(message_field(message, "tool_call_id") or ""), {})
        made.append({
            "name": str(message_field(message, "name") or message_field(call, "name") or ""),
            "args": json_safe(message_field(call, "args") or {}),
            "result": content_text(message_field(message, "content")),
            "status": str(message_field(message, "status") or "success"),
        })  # fmt: skip
    return made


def example_record(
    *,
    queue: str,
    thread_id: str,
    checkpoint_id: str,
    graph_id: str | None,
    inputs: dict[str, Any],
    agent_output: Any,
    correction: Any,
    corrected: bool,
    final_scores: Mapping[str, Any],
    reviewer_scores: Mapping[str, Mapping[str, Any]],
    adjudicator: str | None,
    comments: Mapping[str, str],
    is_fork: bool,
) -> dict[str, Any]:
    """One dataset example (the `jsonl` line); `to_csv` and `to_openai_jsonl` read it."""
    return {
        "inputs": inputs,
        "outputs": {"output": json_safe(correction if corrected else agent_output)},
        "metadata": {
            "queue": queue,
            "thread_id": thread_id,
            "checkpoint_id": checkpoint_id,
            "graph_id": graph_id,
            "agent_output": json_safe(agent_output),
            "corrected": corrected,
            "scores": json_safe(dict(final_scores)),
            "reviewer_scores": json_safe({k: dict(v) for k, v in reviewer_scores.items()}),
            "reviewers": sorted(reviewer_scores),
            "adjudicated": adjudicator is not None,
            "adjudicator": adjudicator,
            "comments": dict(comments),
            "is_fork": is_fork,
        },
    }


def to_jsonl(records: Sequence[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # a spreadsheet must not run a payload as a formula
    return value


def to_csv(records: Sequence[Mapping[str, Any]], rubrics: Sequence[str]) -> str:
    columns = ["queue", "thread_id", "checkpoint_id", "graph_id", "inputs", "output", "agent_output", "corrected",
               *[f"score.{name}" for name in rubrics], "reviewer_scores", "reviewers", "adjudicated", "adjudicator", "is_fork"]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        meta = record["metadata"]
        row = {
            "queue": meta["queue"], "thread_id": meta["thread_id"], "checkpoint_id": meta["checkpoint_id"],
            "graph_id": meta["graph_id"] or "", "inputs": record["inputs"], "output": record["outputs"]["output"],
            "agent_output": meta["agent_output"], "corrected": meta["corrected"], "reviewer_scores": meta["reviewer_scores"],
            "reviewers": ";".join(meta["reviewers"]), "adjudicated": meta["adjudicated"], "adjudicator": meta["adjudicator"] or "",
            "is_fork": meta["is_fork"],
        }  # fmt: skip
        for name in rubrics:
            row[f"score.{name}"] = meta["scores"].get(name)
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return buffer.getvalue()


def to_openai_jsonl(records: Sequence[Mapping[str, Any]]) -> str:
    lines = []
    for record in records:
        messages = list(record["inputs"].get("messages") or [])
        if not messages:
            messages = [{"role": "user", "content": json.dumps(record["inputs"], ensure_ascii=False)}]
        output = record["outputs"]["output"]
        messages.append({"role": "assistant", "content": output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)})
        lines.append(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
    return "".join(lines)
