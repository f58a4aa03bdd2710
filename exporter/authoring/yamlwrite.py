"""A ``RoleFile`` -> the text of a content file, in the house layout, readable and exact."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from exporter.content.check import check_file
from exporter.content.model import Question, RoleFile, default_deck
from exporter.content.yamlnodes import Loader, compose
from exporter.errors import OutputError


def _reads_back(snippet: str, value: str) -> bool:
    try:
        data = yaml.load(snippet, Loader=Loader)
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


def dump_role_file(
    role_file: RoleFile, *, holds: Callable[[str, RoleFile], bool] | None = None
) -> str:
    """The content file for ``role_file``: keys in the documented order, text kept exactly.

    Written once without checking each value, then read back whole: when it holds exactly
    ``role_file``'s text (nearly always) that is the file; else each value is written the
    careful way. Either way the text is what ``scalar`` gives (import-text stays linear).
    ``holds`` reads it back instead of PyYAML (import-text: the content check it runs on
    the file anyway, so a big page is read back once)."""
    text = _dump(role_file, _optimistic)
    return text if (holds or _holds)(text, role_file) else _dump(role_file, scalar)


def _holds(text: str, role_file: RoleFile) -> bool:
    try:
        data = yaml.load(text, Loader=Loader)
        questions = data["questions"]
        return (
            data["role"] == role_file.role
            and data.get("description", "") == role_file.description
            and len(questions) == len(role_file.questions)
            and all(
                (d["question"], d["answer"]) == (q.question, q.answer)
                and tuple(d.get("key_points", ())) == q.key_points
                and d.get("hint", "") == q.hint
                and tuple(d.get("follow_ups", ())) == q.follow_ups
                and d.get("reverse", False) is q.reverse
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
        out += question_lines(q, "  - ", "    ", scalar)
    return "\n".join(out) + "\n"


def question_lines(
    q: Question, dash: str, pad: str, scalar: Callable[..., str] = scalar
) -> list[str]:
    """A question's lines in the house order: ``dash`` (the list's ``- ``) before its id,
    ``pad`` before each other key."""
    column = len(pad)
    lines = [f"{dash}id: {q.id}"]
    if q.guid:
        lines.append(f"{pad}guid:{scalar(q.guid, column)}")
    lines.append(f"{pad}difficulty: {q.difficulty}")
    lines.append(f"{pad}question:{scalar(q.question, column)}")
    lines.append(f"{pad}answer:{scalar(q.answer, column, block=True)}")
    lines += training_lines(q, pad, scalar)
    if q.tags:
        lines.append(f"{pad}tags: [{', '.join(q.tags)}]")
    return lines


def training_lines(q: Question, pad: str, scalar: Callable[..., str] = scalar) -> list[str]:
    """The lines of a question's key points, hint, follow-ups and reverse flag, indented by
    ``pad`` (none for a question without them)."""
    column = len(pad)
    out: list[str] = []
    if q.key_points:
        out.append(f"{pad}key_points:")
        out += [f"{pad}  -{scalar(v, column + 2)}" for v in q.key_points]
    if q.hint:
        out.append(f"{pad}hint:{scalar(q.hint, column)}")
    if q.follow_ups:
        out.append(f"{pad}follow_ups:")
        out += [f"{pad}  -{scalar(v, column + 2)}" for v in q.follow_ups]
    if q.reverse:
        out.append(f"{pad}reverse: true")
    return out


_BREAK = re.compile(r"[\r\n]")  # CR too: a file of mixed line ends is edited as it is


_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


def splice(
    text: str, display_path: str, edits: Mapping[str, Question], appended: Sequence[Question]
) -> str:
    """``text`` with the questions named in ``edits`` (by id) given those values and
    ``appended`` added after the last question; ``OutputError`` if it cannot be done safely.
    A file with one kind of line end (LF, CRLF or CR alone) keeps it on every line."""
    ending = _line_end(text)
    if ending not in (None, "\n"):
        out = _splice(text.replace(ending, "\n"), display_path, edits, appended)
        return out.replace("\n", ending)
    return _splice(text, display_path, edits, appended, mixed=ending is None)


def _line_end(text: str) -> str | None:
    """The file's one kind of line end ('\\n' for a file without any), ``None`` if mixed."""
    crlf = text.count("\r\n")
    cr, lf = text.count("\r") - crlf, text.count("\n") - crlf
    kinds = [end for end, n in (("\r\n", crlf), ("\r", cr), ("\n", lf)) if n]
    return kinds[0] if len(kinds) == 1 else "\n" if not kinds else None


def _splice(
    text: str,
    display_path: str,
    edits: Mapping[str, Question],
    appended: Sequence[Question],
    *,
    mixed: bool = False,
) -> str:
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
    why = " (it mixes line ends: CR, LF and CRLF; save it with one kind)" if mixed else ""
    _verify(text, out, display_path, edits, appended, why)
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
        block = isinstance(node, SequenceNode) and not node.flow_style
        kept = _block_items(text, node, new.tags) if block and old != list(new.tags) else None
        if kept is not None:
            changes += kept
        elif old != list(new.tags) and isinstance(node, SequenceNode) and block:
            # A block list's range runs on over the comments after it: end at its last item.
            colon = text.index(":", key_node.end_mark.index) + 1
            changes.append(_Edit(colon, node.value[-1].end_mark.index, " " + flow))
        elif old != list(new.tags):
            changes.append(_replace(text, node, flow))
    elif new.tags:
        at = _after_line(text, item.end_mark.index)
        changes.append(_Edit(at, at, " " * column + f"tags: {flow}\n"))
    changes += _training_edits(text, item, keys, new)
    return changes


def _training_edits(
    text: str, item: MappingNode, keys: dict[str, tuple[Node, Node]], new: Question
) -> list[_Edit]:
    """Edits that make a question's key points, hint and follow-ups hold ``new``'s: a value
    that changed is rewritten (a list as a block list), one that is gone loses its lines, a
    new one is added after the question's last line."""
    column = item.start_mark.column
    pad = " " * column
    changes: list[_Edit] = []
    added: list[str] = []
    values: dict[str, str | tuple[str, ...]] = {
        "key_points": new.key_points,
        "hint": new.hint,
        "follow_ups": new.follow_ups,
    }
    for key, value in values.items():
        if key not in keys:
            if value:
                only = Question(
                    new.id,
                    new.difficulty,
                    "",
                    "",
                    key_points=new.key_points if key == "key_points" else (),
                    hint=new.hint if key == "hint" else "",
                    follow_ups=new.follow_ups if key == "follow_ups" else (),
                )
                added += training_lines(only, pad)
            continue
        key_node, node = keys[key]
        if isinstance(value, str) and isinstance(node, ScalarNode):
            if node.value == value:
                continue
            if value:
                block = node.style in ("|", ">")
                changes.append(_replace(text, node, scalar(value, column, block=block)[1:]))
                continue
        elif isinstance(value, tuple) and isinstance(node, SequenceNode):
            if [n.value for n in node.value] == list(value):
                continue
            if value:
                flow = node.flow_style or not node.value
                end = node.end_mark.index if flow else node.value[-1].end_mark.index
                end = len(text[:end].rstrip())
                colon = text.index(":", key_node.end_mark.index) + 1
                body = "".join(f"\n{pad}  -{scalar(v, column + 2)}" for v in value)
                changes.append(_Edit(colon, end, body))
                continue
        if not value:  # gone: the key's lines go
            start = text.rfind("\n", 0, key_node.start_mark.index) + 1
            block = isinstance(node, SequenceNode) and node.value and not node.flow_style
            last = node.value[-1] if block else node
            changes.append(_Edit(start, _after_line(text, last.end_mark.index), ""))
        else:  # another type of value than the loader accepts: never reached for a file
            raise OutputError(f"'{key}' of question '{new.id}' cannot be edited in place")
    if added:
        at = _after_line(text, item.end_mark.index)
        changes.append(_Edit(at, at, "".join(line + "\n" for line in added)))
    return changes


def _item_line(text: str, item: Node) -> tuple[int, int, str] | None:
    """A block list item's whole line (start, end after its line break) and the '- ' before
    it; ``None`` unless the line holds that item alone (and perhaps a comment)."""
    start = text.rfind("\n", 0, item.start_mark.index) + 1
    dash = text[start : item.start_mark.index]
    if dash.strip() != "-" or "\n" in text[item.start_mark.index : item.end_mark.index]:
        return None
    end = text.find("\n", item.end_mark.index)
    return start, len(text) if end < 0 else end + 1, dash


def _block_items(text: str, node: Node, tags: Sequence[str]) -> list[_Edit] | None:
    """Edits that make a block list of tags hold ``tags``, line by line: a kept tag keeps its
    line and comment, a removed one loses its line, a new one is a new line after the last
    item; ``None`` when that cannot give ``tags`` in order (the caller rewrites the list)."""
    assert isinstance(node, SequenceNode)
    old = [str(n.value) for n in node.value]
    kept = [t for t in old if t in tags]
    if not tags or list(tags[: len(kept)]) != kept:
        return None
    lines = [_item_line(text, item) for item in node.value]
    if any(line is None for line in lines):
        return None
    spans = [line for line in lines if line is not None]
    added = "".join(spans[-1][2] + t + "\n" for t in tags[len(kept) :])
    if added and not text[: spans[-1][1]].endswith("\n"):
        added = "\n" + added
    edits = []
    for i, (value, (start, end, _dash)) in enumerate(zip(old, spans, strict=True)):
        last = i == len(spans) - 1
        if value not in tags:
            edits.append(_Edit(start, end, added if last else ""))
        elif last and added:
            edits.append(_Edit(end, end, added))
    return edits


def _replace(text: str, node: Node, new: str) -> _Edit:
    """Replace a value's text, keeping the line breaks a block value's range ends with."""
    start, end = node.start_mark.index, node.end_mark.index
    tail = _trailing_break(text, start, end)
    if tail is not None:
        end = tail
    elif "\n" in new:  # a block after a plain value: a comment after it moves to its header
        line_end = text.find("\n", end)
        rest = text[end : len(text) if line_end < 0 else line_end]
        if rest.strip():
            header, body = new.split("\n", 1)
            new, end = f"{header}{rest}\n{body}", end + len(rest)
    return _Edit(start, end, new)


def _trailing_break(text: str, start: int, end: int) -> int | None:
    """The line break where the white space ending ``text[start:end]`` starts (its first
    line break), ``None`` if it ends otherwise: what ``[\\r\\n]\\s*\\Z`` finds, without
    scanning that white space again from each line break in it."""
    tail = start + len(text[start:end].rstrip())
    found = _BREAK.search(text, tail, end)
    return None if found is None else found.start()


def _after_line(text: str, index: int) -> int:
    """The start of the line after the last non-blank character before ``index``."""
    pos = index
    while pos > 0 and text[pos - 1] in " \n\r\t":
        pos -= 1
    found = _LINE_END.search(text, pos)
    return len(text) if found is None else found.end()


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
    line_start = text.rfind("\n", 0, last.start_mark.index) + 1
    dash = text[line_start : last.start_mark.index]  # the list's own '-   ' before the key
    if dash.strip() != "-" or len(dash) != column:
        dash = " " * (column - 2) + "- "
    lines = [line for q in questions for line in question_lines(q, dash, " " * column)]
    at = _after_line(text, last.end_mark.index)
    prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return _Edit(at, at, prefix + "\n".join(lines) + "\n")


def _key(q: Question) -> tuple[object, ...]:
    return (
        q.id,
        q.guid,
        q.difficulty,
        q.question,
        q.answer,
        q.tags,
        q.key_points,
        q.hint,
        q.follow_ups,
        q.reverse,
    )


def holds_questions(text: str, display_path: str, questions: Sequence[Question]) -> bool:
    """True when ``text`` is a valid content file of exactly ``questions`` (ids, text,
    difficulty, tags, guid; lines aside)."""
    found = _questions(text, display_path)
    return found is not None and [_key(q) for q in found] == [_key(q) for q in questions]


def _verify(
    before: str,
    after: str,
    display_path: str,
    edits: Mapping[str, Question],
    appended: Sequence[Question],
    why: str = "",
) -> None:
    """The edited text must hold exactly the old questions with the edits, then the new ones."""
    old, new = _questions(before, display_path), _questions(after, display_path)
    expected = [_key(edits.get(q.id, q)) for q in old or ()] + [_key(q) for q in appended]
    if new is None or [_key(q) for q in new] != expected:
        why = why or " (the result would not read back as intended)"
        raise OutputError(
            f"{display_path}: could not be edited safely{why}; nothing written: make the "
            "change by hand"
        )


def _questions(text: str, display_path: str) -> tuple[Question, ...] | None:
    root, err = compose(text, display_path)
    if err is not None or root is None:
        return None
    walk = check_file(root, display_path)
    return walk.result.questions if walk.result is not None and not walk.errors else None
