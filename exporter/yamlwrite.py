"""A ``RoleFile`` -> the text of a content file, in the house layout, readable and exact."""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml

from exporter.load import collector_paused
from exporter.model import RoleFile, default_deck

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def _reads_back(snippet: str, value: str) -> bool:
    try:
        data = yaml.load(snippet, Loader=_Loader)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and data.get("k") == value


def scalar(value: str, indent: int, *, block: bool = False) -> str:
    """``value`` as YAML text after ``key:``: plain if it reads back, else a literal block."""
    if not block and "\n" not in value and _reads_back(f"k: {value}\n", value):
        return " " + value
    pad = " " * (indent + 2)
    literal = "|-\n" + "\n".join(pad + line if line else "" for line in value.split("\n"))
    if _reads_back("k: " + literal.replace("\n" + pad, "\n  ") + "\n", value):
        return " " + literal
    quoted = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=1 << 30)
    quoted = quoted.removesuffix("\n").removesuffix("\n...")
    if not _reads_back(f"k: {quoted}\n", value):
        raise ValueError(f"cannot write {value!r} as YAML")  # a bug: YAML can quote anything
    return " " + quoted


# Plain text that YAML surely reads back as itself (checked for the whole file at the end).
_SAFE_PLAIN = re.compile(r"[A-Za-z][^\n:#'\"`{}\[\]&*!|>%@,\t\\]*[^\s:]\Z")
_RESERVED = frozenset("y n yes no true false on off null".split())


def _optimistic(value: str, indent: int, *, block: bool = False) -> str:
    """What ``scalar`` writes, without its per-value check where the result is plain text
    or a literal block (``dump_role_file`` checks the whole file once instead)."""
    if block or "\n" in value:
        pad = " " * (indent + 2)
        return " |-\n" + "\n".join(pad + line if line else "" for line in value.split("\n"))
    if _SAFE_PLAIN.match(value) and value.lower() not in _RESERVED:
        return " " + value
    return scalar(value, indent)


def dump_role_file(role_file: RoleFile) -> str:
    """The content file for ``role_file``: keys in the documented order, text kept exactly.

    Written once without checking each value, then read back whole: when it holds exactly
    ``role_file``'s text (nearly always) that is the file; else each value is written the
    careful way. Either way the text is what ``scalar`` gives (import-text stays linear)."""
    text = _dump(role_file, _optimistic)
    with collector_paused():  # a big file is millions of objects and no cycles
        held = _holds(text, role_file)
    return text if held else _dump(role_file, scalar)


def _holds(text: str, role_file: RoleFile) -> bool:
    try:
        data = yaml.load(text, Loader=_Loader)
        questions = data["questions"]
        return (
            data["role"] == role_file.role
            and data.get("description", "") == role_file.description
            and len(questions) == len(role_file.questions)
            and all(
                (d["question"], d["answer"]) == (q.question, q.answer)
                for d, q in zip(questions, role_file.questions, strict=True)
            )
        )
    except (yaml.YAMLError, KeyError, TypeError):
        return False


def _dump(role_file: RoleFile, scalar: Callable[..., str]) -> str:
    out = [f"role:{scalar(role_file.role, 0)}"]
    if role_file.description:
        out.append(f"description:{scalar(role_file.description, 0)}")
    if role_file.deck != default_deck(role_file.role):
        out.append(f"deck:{scalar(role_file.deck, 0)}")
    out.append("questions:")
    for q in role_file.questions:
        out.append(f"  - id: {q.id}")
        out.append(f"    difficulty: {q.difficulty}")
        out.append(f"    question:{scalar(q.question, 4)}")
        out.append(f"    answer:{scalar(q.answer, 4, block=True)}")
        if q.tags:
            out.append(f"    tags: [{', '.join(q.tags)}]")
    return "\n".join(out) + "\n"
