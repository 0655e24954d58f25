"""Names as access rules read them: NFKC, invisible characters removed, case-folded for matching."""

from __future__ import annotations

import unicodedata
from typing import Any
from hitl.amounts import is_invisible
from hitl.domain import Principal
from hitl.errors import HitlError


def normalized_name(name: str) -> str:
    """A tool, graph or level name as access rules read it: NFKC, invisible characters
    (zero-width, bidi controls, tags, fillers...) removed, outer whitespace stripped.

    `make_pay\u200bment` and the fullwidth `ｍａｋｅ_ｐａｙｍｅｎｔ` both read as `make_payment`.
    """
    text = unicodedata.normalize("NFKC", str(name))
    return "".join(char for char in text if not is_invisible(char)).strip()


def match_key(name: str) -> str:
    """What rule selectors compare: the normalised name, case-folded."""
    return normalized_name(name).casefold()


def same_identity(requester: str | None, principal: Principal) -> bool:
    """Whether the requester is the principal, compared normalised (a zero-width character in
    `requested_by` does not make bob someone else for four eyes)."""
    return bool(requester) and match_key(requester) == match_key(principal.identity)


def shown_name(name: str) -> str:
    """The name with each invisible character written out as `<U+200B>`."""
    return "".join(f"<U+{ord(char):04X}>" if is_invisible(char) else char for char in str(name))


def name_note(name: str, *, what: str = "tool name") -> str | None:
    """Why `name` is not what it looks like, or None when it is (it equals its normalised form)."""
    name = str(name)
    normal = normalized_name(name)
    if normal == name:
        return None
    hidden = [char for char in dict.fromkeys(name) if is_invisible(char)]
    if hidden:
        listed = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed character')}" for c in hidden)
        why = f"contains invisible characters ({listed})"
    elif name.strip() != name:
        why = "has leading or trailing spaces"
    else:
        why = "is written with look-alike (compatibility) characters"
    return f"the {what} {shown_name(name)!r} {why}; access rules read it as {normal!r}"


def clean_name(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def name_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise HitlError(f"{where}: `{key}` must be a string or a list of strings, got {value!r}. Fix HITL_CONFIG.")
