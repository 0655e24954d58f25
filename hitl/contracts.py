"""Answer contracts: what a graph expects back from one interrupt, and where the desk learnt it.

A payload's kind says how to *show* it; the contract says what to *send*. The same payload
(`{"question", "details"}`) is answered with `{"approved": bool}` by one graph and with a plain
`bool` by another, whose `if decision:` takes any non-empty dict as approval. So the contract is
resolved per interrupt, in this order:

1. `response_schema` (LangGraph's `interrupt(value, response_schema=...)`) and the standard
   formats that define their own answers (LangChain HITL middleware, Agent Inbox);
2. the graph owner's declaration in HITL_CONFIG, `[answers."graph:node"]` (or `"graph:tool"`);
3. inference from the code that receives the answer (`hitl.inference`);
4. otherwise unknown: the reviewer types the answer, with no one-click approve/reject.

A one-click reject is offered only when the contract says what a rejection is, and it is never
truthy where the graph tests truthiness.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from hitl import decisions, inference
from hitl.errors import HitlError, InvalidAnswer
from hitl.kinds import REGISTRY

__all__ = [
    "AnswerType",
    "Contract",
    "ContractSource",
    "Declarations",
    "ContractResolver",
    "KIND_ANSWERS",
    "UNKNOWN",
    "approves",
    "quick",
    "validate",
]

AnswerType = Literal["boolean", "text", "number", "object", "any"]
ContractSource = Literal["response_schema", "format", "declared", "inferred", "unknown"]

FORMAT_KINDS = frozenset(name for name, kind in REGISTRY.items() if kind.standard)
"""Kinds whose standard defines its own answer (LangChain HITL middleware, Agent Inbox)."""

KIND_ANSWERS: dict[str, tuple[str, frozenset[str]]] = {
    name: (kind.decision_key, kind.answer_keys) for name, kind in REGISTRY.items() if kind.decision_key
}
"""For the hand-made kinds: the key that carries the decision, and every key the kind's answer has."""

_APPROVE_WORDS = ("approve", "approved", "accept", "accepted", "yes", "confirm", "confirmed", "ok", "proceed", "continue")
_REJECT_WORDS = ("reject", "rejected", "deny", "denied", "decline", "declined", "no", "cancel", "cancelled", "ignore")
_BOOL_KEYS = ("approved", "approve", "accepted", "confirmed", "ok", "allow", "allowed")
_COMMENT_KEYS = ("reason", "comment", "feedback", "message")
_MISSING: Any = object()


@dataclass(frozen=True)
class Contract:
    """What one interrupt's answer must be."""

    answer: AnswerType
    """The answer's type: yes/no, text, a number, a JSON object, or any JSON value."""

    source: ContractSource
    """Where the desk learnt it."""

    why: str = ""
    """Where exactly, for the card: "approval_node in graphs.py:42: if decision: ..."."""

    kind_shape: bool = False
    """The answer has the shape of the payload kind's own builders (the kind's card applies)."""

    shape_kind: str | None = None
    """The kind whose answer shape applies when it is not the payload's own: "schema" for a
    payload with a JSON-Schema response_schema that its kind's shape does not fit."""

    keys: frozenset[str] = frozenset()
    """For an object: the keys the receiving code reads."""

    approve_value: Any = field(default=_MISSING, compare=False)
    reject_value: Any = field(default=_MISSING, compare=False)
    comment_key: str | None = None
    """Where a reject's comment goes in `reject_value` (an object contract)."""

    no_reject_reason: str = ""
    """Why a one-click reject is not offered although the contract is known."""

    @property
    def label(self) -> str:
        """What the card says: "answer expected: yes/no"."""
        if self.answer == "boolean":
            return "yes/no (true or false)"
        if self.answer == "text":
            return "text"
        if self.answer == "number":
            return "a number"
        if self.answer == "object":
            if self.source == "format":
                return "the format's decision object"
            keys = ", ".join(sorted(self.keys))
            return f"JSON object with {keys}" if keys else "a JSON object"
        return "any JSON value (the desk could not tell what the graph expects)"

    @property
    def source_label(self) -> str:
        return {
            "response_schema": "the interrupt's response_schema",
            "format": "the payload's standard format",
            "declared": "declared in HITL_CONFIG",
            "inferred": "read from the graph's code",
            "unknown": "unknown",
        }[self.source]

    def describe(self) -> str:
        """One line for the card and the API: what is expected and where that came from."""
        text = f"answer expected: {self.label} — {self.source_label}"
        return f"{text} ({self.why})" if self.why else text

    @property
    def has_values(self) -> tuple[bool, bool]:
        """Whether the contract names its own approve and reject values (beyond the kind's or true/false)."""
        return self.approve_value is not _MISSING, self.reject_value is not _MISSING

    @property
    def can_approve(self) -> bool:
        return self.kind_shape or self.answer == "boolean" or self.approve_value is not _MISSING

    @property
    def can_reject(self) -> bool:
        if self.no_reject_reason:
            return False
        return self.kind_shape or self.answer == "boolean" or self.reject_value is not _MISSING

    def as_dict(self) -> dict[str, Any]:
        """JSON for the API."""
        return {
            "answer": self.answer,
            "source": self.source,
            "why": self.why,
            "label": self.label,
            "one_click_approve": self.can_approve,
            "one_click_reject": self.can_reject,
            **({"approve_value": self.approve_value} if self.approve_value is not _MISSING else {}),
            **({"reject_value": self.reject_value} if self.reject_value is not _MISSING else {}),
        }


UNKNOWN = Contract(answer="any", source="unknown", why="no schema, declaration or readable code")


# --------------------------------------------------------------------------- declarations


_DECLARED_TYPES = {"boolean": "boolean", "text": "text", "number": "number", "object": "object", "json": "any", "kind": "kind"}


@dataclass(frozen=True)
class Declarations:
    """`[answers."graph:node"]` tables of HITL_CONFIG, checked on load."""

    by_key: Mapping[str, Contract] = field(default_factory=dict)

    @classmethod
    def from_policy(cls, policy: Mapping[str, Any] | None) -> Declarations:
        section = (policy or {}).get("answers", {})
        if not isinstance(section, Mapping):
            raise HitlError('HITL_CONFIG [answers] must be a table of [answers."graph:node"] tables.')
        out: dict[str, Contract] = {}
        for key, entry in section.items():
            where = f'HITL_CONFIG [answers."{key}"]'
            if ":" not in key:
                raise HitlError(f'{where}: the key must be "graph:node" (or "graph:tool"), got {key!r}.')
            if not isinstance(entry, Mapping):
                raise HitlError(f"{where} must be a table, e.g. type = \"boolean\".")
            declared = entry.get("type")
            if declared not in _DECLARED_TYPES:
                raise HitlError(f"{where}: type must be one of {', '.join(_DECLARED_TYPES)}, got {declared!r}.")
            unknown = set(entry) - {"type", "approve", "reject", "comment_field"}
            if unknown:
                raise HitlError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}; "
                                "allowed: type, approve, reject, comment_field.")
            why = f'[answers."{key}"]'
            if declared == "kind":
                # The kind's own answer; `reject` (a table, e.g. {modified = false, rejected = true})
                # says what a rejection is where the kind has none (state_edit).
                kind_values: dict[str, Any] = {}
                for name in ("approve", "reject"):
                    if name in entry:
                        _check_declared_value(where, name, "object", entry[name])
                        kind_values[f"{name}_value"] = entry[name]
                comment = entry.get("comment_field")
                if comment is not None and not isinstance(entry.get("reject"), Mapping):
                    raise HitlError(f"{where}: comment_field needs reject to be a table it can go into.")
                out[key] = Contract(answer="object", source="declared", why=why, kind_shape=True, comment_key=comment,
                                    **kind_values)
                continue
            if declared == "boolean":
                if "approve" in entry or "reject" in entry:
                    raise HitlError(f"{where}: a boolean answer approves with true and rejects with false; "
                                    "remove approve/reject.")
                out[key] = Contract(answer="boolean", source="declared", why=why)
                continue
            answer = _DECLARED_TYPES[declared]
            values: dict[str, Any] = {}
            for name in ("approve", "reject"):
                if name in entry:
                    _check_declared_value(where, name, answer, entry[name])
                    values[f"{name}_value"] = entry[name]
            comment = entry.get("comment_field")
            if comment is not None and not isinstance(entry.get("reject"), Mapping):
                raise HitlError(f"{where}: comment_field needs reject to be a table it can go into.")
            out[key] = Contract(answer=answer, source="declared", why=why, comment_key=comment, **values)  # type: ignore[arg-type]
        return cls(by_key=out)

    def find(self, graph_id: str | None, names: list[str]) -> Contract | None:
        for name in names:
            found = self.by_key.get(f"{graph_id}:{name}")
            if found is not None:
                return found
        return None


def _check_declared_value(where: str, name: str, answer: str, value: Any) -> None:
    if answer == "object" and not isinstance(value, Mapping):
        raise HitlError(f"{where}: {name} must be a table (an object answer), got {value!r}.")
    if answer == "text" and not isinstance(value, str):
        raise HitlError(f"{where}: {name} must be a string (a text answer), got {value!r}.")
    if answer == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise HitlError(f"{where}: {name} must be a number, got {value!r}.")


# --------------------------------------------------------------------------- resolution


def _schema_type(response_schema: Mapping[str, Any]) -> AnswerType:
    typ = response_schema.get("type")
    if typ == "boolean":
        return "boolean"
    if typ == "string":
        return "text"
    if typ in ("number", "integer"):
        return "number"
    if typ == "object" or "properties" in response_schema:
        return "object"
    return "any"


def _from_schema(kind: str, response_schema: Mapping[str, Any]) -> Contract:
    answer = _schema_type(response_schema)
    props = response_schema.get("properties") if isinstance(response_schema.get("properties"), Mapping) else {}
    keys = frozenset(props)
    if answer == "boolean":
        return Contract(answer="boolean", source="response_schema", why="type: boolean")
    if kind == "schema" or (kind in KIND_ANSWERS and KIND_ANSWERS[kind][0] in keys):
        return Contract(answer=answer, source="response_schema", why="JSON Schema", kind_shape=True, keys=keys)
    if answer == "object":  # the schema's form, whatever the payload looks like
        return Contract(answer="object", source="response_schema", why="JSON Schema", kind_shape=True,
                        shape_kind="schema", keys=keys)
    return Contract(answer=answer, source="response_schema", why="JSON Schema", keys=keys)


def _from_site(kind: str, site: inference.CallSite) -> Contract:
    why = f"{site.where}: {site.why}"
    if site.answer_type is None:
        return Contract(answer="any", source="unknown", why=why)
    if site.answer_type != "object":
        return Contract(answer=site.answer_type, source="inferred", why=why)
    return _object_contract(kind, site, why)


def _object_contract(kind: str, site: inference.CallSite, why: str) -> Contract:
    keys = site.keys
    truthy_note = (
        "the code also tests the answer's truth, so a rejecting object would read as approval; answer it by hand"
        if site.truthy else ""
    )
    spec = KIND_ANSWERS.get(kind)
    if spec is not None and spec[0] in keys and site.required <= spec[1]:
        return Contract(answer="object", source="inferred", why=why, kind_shape=True, keys=keys,
                        no_reject_reason=truthy_note)
    comment_key = next((k for k in _COMMENT_KEYS if k in keys), None)
    approve: Any = _MISSING
    reject: Any = _MISSING
    for key in _BOOL_KEYS:
        if key in keys:
            approve, reject = {key: True}, {key: False}
            break
    else:
        for key in sorted(keys):
            literals = {v for v in site.values.get(key, ()) if isinstance(v, str)}
            yes = next((w for w in _APPROVE_WORDS if w in literals), None)
            no = next((w for w in _REJECT_WORDS if w in literals), None)
            if yes is not None:
                approve = {key: yes}
                reject = {key: no} if no is not None else _MISSING
                break
    return Contract(answer="object", source="inferred", why=why, keys=keys, approve_value=approve,
                    reject_value=reject, comment_key=comment_key if isinstance(reject, dict) else None,
                    no_reject_reason=truthy_note if reject is not _MISSING else "")


class ContractResolver:
    """Resolves and caches contracts per (graph, node) for one desk."""

    def __init__(self, graph_of: Callable[[str], Any], declarations: Declarations) -> None:
        self._graph_of = graph_of
        self._declarations = declarations
        self._sites: dict[tuple[str, str], tuple[list[inference.CallSite], str]] = {}
        self._lock = threading.Lock()

    def sites(self, graph_id: str, node: str) -> tuple[list[inference.CallSite], str]:
        """The `interrupt()` call sites reachable from the node, and a note when none could be read."""
        key = (graph_id, node)
        found = self._sites.get(key)
        if found is not None:
            return found
        try:
            graph = self._graph_of(graph_id)
            sites: list[inference.CallSite] = []
            functions = inference.node_callables(graph, node)
            for func, tool in functions:
                sites += inference.call_sites(func, tool=tool)
            note = "" if sites else (
                f"no readable interrupt() call in node {node!r}" if functions else f"node {node!r} has no readable code"
            )
        except Exception as exc:  # a broken graph must not break listing or answering
            sites, note = [], f"graph {graph_id!r} could not be read ({type(exc).__name__}: {exc})"
        with self._lock:
            self._sites[key] = (sites, note)
        return sites, note

    def resolve(self, *, graph_id: str | None, node: str | None, kind: str, value: Any,
                response_schema: Any) -> Contract:
        """The contract of one interrupt (never raises)."""
        if kind in FORMAT_KINDS:
            return Contract(answer="object", source="format", why=kind, kind_shape=True)
        if isinstance(response_schema, Mapping) and response_schema:
            return _from_schema(kind, response_schema)
        sites: list[inference.CallSite] = []
        note = "the thread's graph is not known"
        if graph_id and node:
            sites, note = self.sites(graph_id, node)
        chosen = _choose(sites, value)
        tools = sorted({s.tool for s in chosen if s.tool})
        declared = self._declarations.find(graph_id, [n for n in [node, *tools] if n])
        if declared is not None:
            if declared.kind_shape and kind not in KIND_ANSWERS and kind not in ("schema", "confirm"):
                return Contract(answer="any", source="declared", why=f"{declared.why}: type = \"kind\" but "
                                f"a {kind} payload has no shape of its own")
            if declared.kind_shape and kind == "confirm":
                return Contract(answer="boolean", source="declared", why=declared.why)
            return declared
        if not chosen:
            return Contract(answer="any", source="unknown", why=note)
        found = [_from_site(kind, site) for site in chosen]
        if len({replace(c, why="") for c in found}) == 1:  # the same answer wherever it is asked
            return found[0]
        wheres = ", ".join(site.where for site in chosen[:4])
        return Contract(answer="any", source="unknown",
                        why=f"the node interrupts in several places that expect different answers ({wheres})")


def _choose(sites: list[inference.CallSite], value: Any) -> list[inference.CallSite]:
    strong = [s for s in sites if s.matches(value) is True]
    if strong:
        return strong
    return [s for s in sites if s.matches(value) is None]


# --------------------------------------------------------------------------- what an answer means


def approves(contract: Contract | None, answer: Any) -> bool | None:
    """Whether `answer` lets the graph act, read under the contract; None when only the payload
    kind can tell (a kind-shaped or standard-format contract: ask the kind).

    Fails closed for access rules, four eyes and quorum: an answer is an approval unless the
    contract says it is the rejection (false for yes/no, the declared or inferred reject value).
    """
    if contract is None:
        return None
    if contract.kind_shape and not contract.shape_kind:
        if contract.has_values[1] and _is_rejection(contract, answer):
            return False  # the declared rejection of a kind-shaped answer
        return None
    if contract.shape_kind:  # a schema's form: only an explicit approved: false reads as a rejection
        return not (isinstance(answer, Mapping) and answer.get("approved") is False)
    if contract.answer == "boolean":
        return answer is not False
    _, has_reject = contract.has_values
    if has_reject:
        return not _is_rejection(contract, answer)
    return True


def _is_rejection(contract: Contract, answer: Any) -> bool:
    """`answer` is the contract's reject value (its comment aside)."""
    rejection = contract.reject_value
    if isinstance(answer, Mapping) and isinstance(rejection, Mapping):
        core = {k: v for k, v in answer.items() if k != contract.comment_key}
        return core == dict(rejection)
    return answer == rejection


# --------------------------------------------------------------------------- answering


def _type_error(contract: Contract, answer: Any) -> str | None:
    if contract.answer == "boolean" and not isinstance(answer, bool):
        return "must be true or false"
    if contract.answer == "text" and not isinstance(answer, str):
        return "must be text"
    if contract.answer == "number" and (isinstance(answer, bool) or not isinstance(answer, (int, float))):
        return "must be a number"
    if contract.answer == "object" and not isinstance(answer, Mapping):
        return "must be a JSON object"
    return None


def validate(contract: Contract, kind: str, value: Any, answer: Any, response_schema: Any = None) -> Any:
    """Check a raw answer against the contract; returns it normalised.

    Raises:
        InvalidAnswer: naming the contract and where it came from.
    """
    if contract.kind_shape:
        return decisions.validate_answer(contract.shape_kind or kind, value, answer, response_schema)
    problem = _type_error(contract, answer)
    if problem is not None:
        shown = decisions.show_value(answer)
        raise InvalidAnswer(
            f"The answer {problem}, got {shown}: this interrupt expects {contract.label} "
            f"({contract.source_label}{': ' + contract.why if contract.why else ''}).",
            field_errors={"": problem},
        )
    decisions.check_schema(response_schema, answer)
    return answer


def quick(contract: Contract, kind: str, value: Any, *, approve: bool, comment: str = "", reviewer: str = "",
          response_schema: Any = None) -> Any:
    """The one-click approve or reject under this contract.

    Raises:
        InvalidAnswer: the contract does not say what this one click means; the message says why
            and what to do instead (open the item and type the answer).
    """
    if not isinstance(approve, bool):
        raise InvalidAnswer("approve must be true or false.", field_errors={"approve": "must be true or false"})
    if not approve and contract.no_reject_reason:
        raise InvalidAnswer(f"No one-click reject for this interrupt, it needs a typed answer: {contract.no_reject_reason}.",
                            field_errors={"": "needs a typed answer"})
    declared = contract.has_values[0 if approve else 1]
    if contract.kind_shape and not declared:
        return decisions.quick_answer(contract.shape_kind or kind, value, approve=approve, comment=comment,
                                      reviewer=reviewer, response_schema=response_schema)
    if contract.answer == "boolean":
        return validate(contract, kind, value, approve, response_schema)
    target = contract.approve_value if approve else contract.reject_value
    if target is _MISSING:
        verb = "approve" if approve else "reject"
        raise InvalidAnswer(
            f"No one-click {verb} for this interrupt, it needs a typed answer: it expects {contract.label} "
            f"({contract.source_label}{': ' + contract.why if contract.why else ''}) and nothing says what "
            f"{'an approval' if approve else 'a rejection'} is. Open it and type the answer, or declare "
            '[answers."graph:node"] in HITL_CONFIG.',
            field_errors={"": "needs a typed answer"},
        )
    answer = copy.deepcopy(target)
    comment = (comment or "").strip()
    if not approve and comment and contract.comment_key and isinstance(answer, dict):
        answer[contract.comment_key] = comment
    return validate(contract, kind, value, answer, response_schema)
