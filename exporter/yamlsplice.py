"""Edit a content file in place: replace some questions' values and append new questions,
leaving every other byte (comments, key order, other questions' layout) as it was.

The file is composed into nodes (``exporter.yamlsyntax``), whose marks give each value's
exact character range; only those ranges are rewritten, with ``exporter.yamlwrite.scalar``.
The result is composed and checked again and must hold exactly the intended questions, or
nothing is returned. A round-trip library (ruamel.yaml) would re-emit the whole file and
normalise what it cannot keep (indentation of sequences, quoting, line width); splicing
leaves what it does not touch byte for byte, and needs no new dependency.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from exporter.errors import OutputError
from exporter.model import Question
from exporter.schema import check_file
from exporter.yamlsyntax import compose
from exporter.yamlwrite import scalar

_TAIL = re.compile(r"\n\s*\Z")


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


def splice(
    text: str, display_path: str, edits: Mapping[str, Question], appended: Sequence[Question]
) -> str:
    """``text`` with the questions named in ``edits`` (by id) given those values and
    ``appended`` added after the last question; ``OutputError`` if it cannot be done safely."""
    root, err = compose(text, display_path)
    if err is not None or not isinstance(root, MappingNode):
        raise OutputError(f"{display_path}: cannot be edited: it no longer loads; fix it first")
    items = {k.value: v for k, v in root.value if isinstance(k, ScalarNode)}
    sequence = items.get("questions")
    if not isinstance(sequence, SequenceNode) or not sequence.value:
        raise OutputError(f"{display_path}: cannot be edited: it has no list of questions")
    changes: list[_Edit] = []
    for item in sequence.value:
        if isinstance(item, MappingNode):
            keys: dict[str, tuple[Node, Node]] = {
                str(k.value): (k, v) for k, v in item.value if isinstance(k, ScalarNode)
            }
            qid = str(keys["id"][1].value) if "id" in keys else ""
            if qid in edits:
                changes += _question_edits(text, item, keys, edits[qid], display_path)
    if appended:
        changes.append(_append(text, sequence, appended, display_path))
    out = text
    for change in sorted(changes, key=lambda c: c.start, reverse=True):
        out = out[: change.start] + change.text + out[change.end :]
    if "\r\n" in text and "\n" not in text.replace("\r\n", ""):  # a Windows file stays one
        out = out.replace("\r\n", "\n").replace("\n", "\r\n")
    _verify(text, out, display_path, edits, appended)
    return out


def _question_edits(
    text: str,
    item: MappingNode,
    keys: dict[str, tuple[Node, Node]],
    new: Question,
    display_path: str,
) -> list[_Edit]:
    if item.flow_style:
        raise OutputError(
            f"{display_path}:{item.start_mark.line + 1}: question '{new.id}' is written in "
            "flow style ({…}); write it as a block mapping to pull into it"
        )
    column = item.start_mark.column
    values = {"difficulty": new.difficulty, "question": new.question, "answer": new.answer}
    changes = []
    for key, value in values.items():
        _key, node = keys[key]
        if isinstance(node, ScalarNode) and node.value == value:
            continue
        block = isinstance(node, ScalarNode) and node.style in ("|", ">")
        changes.append(_replace(text, node, scalar(value, column, block=block)[1:]))
    flow = "[" + ", ".join(new.tags) + "]"
    if "tags" in keys:
        key_node, node = keys["tags"]
        old = [n.value for n in node.value] if isinstance(node, SequenceNode) else None
        if old != list(new.tags) and isinstance(node, SequenceNode) and not node.flow_style:
            # A block list's range runs on over the comments after it: end at its last item.
            colon = text.index(":", key_node.end_mark.index) + 1
            changes.append(_Edit(colon, node.value[-1].end_mark.index, " " + flow))
        elif old != list(new.tags):
            changes.append(_replace(text, node, flow))
    elif new.tags:
        at = _after_line(text, item.end_mark.index)
        changes.append(_Edit(at, at, " " * column + f"tags: {flow}\n"))
    return changes


def _replace(text: str, node: Node, new: str) -> _Edit:
    """Replace a value's text, keeping the line breaks a block value's range ends with."""
    start, end = node.start_mark.index, node.end_mark.index
    tail = _TAIL.search(text, start, end)
    if tail is not None:
        end = tail.start()
    elif "\n" in new:  # a block after a plain value: a comment after it moves to its header
        line_end = text.find("\n", end)
        rest = text[end : len(text) if line_end < 0 else line_end]
        if rest.strip():
            header, body = new.split("\n", 1)
            new, end = f"{header}{rest}\n{body}", end + len(rest)
    return _Edit(start, end, new)


def _after_line(text: str, index: int) -> int:
    """The start of the line after the last non-blank character before ``index``."""
    pos = index
    while pos > 0 and text[pos - 1] in " \n\r\t":
        pos -= 1
    line_end = text.find("\n", pos)
    return len(text) if line_end < 0 else line_end + 1


def _append(
    text: str, sequence: SequenceNode, questions: Sequence[Question], display_path: str
) -> _Edit:
    last = sequence.value[-1]
    if sequence.flow_style or not isinstance(last, MappingNode) or last.flow_style:
        raise OutputError(
            f"{display_path}: cannot append questions to a list written in flow style; "
            "write the questions as a block list (- id: …) to add to it"
        )
    column = last.start_mark.column
    dash = " " * (column - 2) + "- "
    pad = " " * column
    lines: list[str] = []
    for q in questions:
        lines.append(f"{dash}id: {q.id}")
        if q.guid:
            lines.append(f"{pad}guid:{scalar(q.guid, column)}")
        lines.append(f"{pad}difficulty: {q.difficulty}")
        lines.append(f"{pad}question:{scalar(q.question, column)}")
        lines.append(f"{pad}answer:{scalar(q.answer, column, block=True)}")
        if q.tags:
            lines.append(f"{pad}tags: [{', '.join(q.tags)}]")
    at = _after_line(text, last.end_mark.index)
    prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return _Edit(at, at, prefix + "\n".join(lines) + "\n")


def _key(q: Question) -> tuple[object, ...]:
    return (q.id, q.guid, q.difficulty, q.question, q.answer, q.tags)


def _verify(
    before: str,
    after: str,
    display_path: str,
    edits: Mapping[str, Question],
    appended: Sequence[Question],
) -> None:
    """The edited text must hold exactly the old questions with the edits, then the new ones."""
    old, new = _questions(before, display_path), _questions(after, display_path)
    expected = [_key(edits.get(q.id, q)) for q in old or ()] + [_key(q) for q in appended]
    if new is None or [_key(q) for q in new] != expected:
        raise OutputError(
            f"{display_path}: could not be edited safely (the result would not read back as "
            "intended); nothing written: make the change by hand"
        )


def _questions(text: str, display_path: str) -> tuple[Question, ...] | None:
    root, err = compose(text, display_path)
    if err is not None or root is None:
        return None
    walk = check_file(root, display_path)
    return walk.result.questions if walk.result is not None and not walk.errors else None
