"""``${...}`` references in a workflow's ``data`` and ``each``: parsed when the spec is checked, resolved
when a job is released.

A reference names one of:

* ``${inputs.<key>[.<path>]}``: the workflow's ``inputs``;
* ``${item[.<path>]}``: the fan-out item of the job being released (only in a job with ``each``);
* ``${<job>.outputs[.<path>]}``: the ``outputs`` an upstream job recorded with its ``finish`` event; from a
  fanned-out job, the list of each of its jobs' values, in item order.

A path is dot-separated keys, a number indexing a list (``${inputs.samples.0}``). A string that is exactly
one reference takes the value as it is (a list stays a list); a reference inside a longer string is
substituted as text (a string as it is, anything else as compact JSON).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..events import compact_json

#: Anything that opens a reference: ``${`` up to the next ``}`` (or the end, when unclosed).
_OPENED = re.compile(r"\$\{([^}]*)(\}?)")
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*|\d+")
#: A string that is exactly one reference.
_WHOLE = re.compile(r"\$\{[^}]*\}")


class BadReference(ValueError):
    """A ``${...}`` that is malformed or names nothing; the message says why."""


@dataclass(frozen=True)
class Ref:
    """One parsed reference: its root (``inputs``, ``item``, or a job's name), for a job ``outputs``, then a path."""

    text: str
    root: str
    path: tuple[str, ...]

    @property
    def job(self) -> str | None:
        """The upstream job it reads, or None (inputs, item)."""
        return None if self.root in ("inputs", "item") else self.root


def parse(text: str) -> Ref:
    """The reference ``${text}``; BadReference if it is malformed."""
    parts = text.strip().split(".")
    if not text.strip() or not all(_SEGMENT.fullmatch(p) for p in parts):
        raise BadReference(f"${{{text}}} is malformed: expected dot-separated names, e.g. ${{inputs.samples}}, "
                           "${item}, ${<job>.outputs.<key>}")
    root, rest = parts[0], tuple(parts[1:])
    if root == "inputs" and not rest:
        raise BadReference(f"${{{text}}} names no input: write ${{inputs.<key>}}")
    if root not in ("inputs", "item"):
        if not rest or rest[0] != "outputs":
            raise BadReference(f"${{{text}}}: a job's values are read as ${{{root}.outputs.<key>}}")
        rest = rest[1:]
    return Ref(text, root, rest)


def references(value: Any) -> Iterator[Ref]:
    """Every reference in a JSON value (strings inside objects and lists); BadReference at the first bad one."""
    if isinstance(value, str):
        for match in _OPENED.finditer(value):
            if not match.group(2):
                raise BadReference(f"'{value}' opens a ${{...}} that is never closed")
            yield parse(match.group(1))
    elif isinstance(value, dict):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def whole(value: Any) -> Ref | None:
    """The reference a string is exactly, or None."""
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return parse(value[2:-1])
    return None


def walk(value: Any, path: tuple[str, ...], where: str) -> Any:
    """``value`` at ``path``; BadReference naming ``where`` when it is not there."""
    for key in path:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            raise BadReference(f"{where} has no '{key}'")
    return value


#: How a resolver finds a reference's value.
Lookup = Callable[[Ref], Any]


def resolve(value: Any, lookup: Lookup) -> Any:
    """``value`` with every reference replaced (see the module doc)."""
    ref = whole(value)
    if ref is not None:
        return lookup(ref)
    if isinstance(value, str):
        return _OPENED.sub(lambda m: _text(lookup(parse(m.group(1)))), value)
    if isinstance(value, dict):
        return {key: resolve(item, lookup) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, lookup) for item in value]
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else compact_json(value)
