"""A ``RoleFile`` -> the text of a content file, in the house layout, readable and exact."""

from __future__ import annotations

import yaml

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


def dump_role_file(role_file: RoleFile) -> str:
    """The content file for ``role_file``: keys in the documented order, text kept exactly."""
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
