"""YAML content files -> a checked ``Bank``; every problem becomes a ``ContentError``.

The files are composed into YAML nodes (never constructed into Python objects, so no tag can
run code) and walked by hand: that gives a line number for every value, catches duplicate
keys, and lets an alias be refused the first time a node is met twice.
"""

from __future__ import annotations

import difflib
import gc
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from exporter.errors import ContentError, ContentErrors
from exporter.model import (
    DIFFICULTIES,
    Bank,
    Question,
    Role,
    default_deck,
    forbidden_char,
    slugify,
)

try:  # libyaml is ~10x faster; PyYAML's wheels ship it, a source build may not.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
TOP_KEYS = ("role", "description", "deck", "questions")
QUESTION_KEYS = ("id", "difficulty", "question", "answer", "tags")
YAML_SUFFIXES = (".yaml", ".yml")

_Y = "tag:yaml.org,2002:"
# What each text key holds, for "missing", "empty" and "wrong type" messages.
_EXPECTED = {
    "role": "the role's name as text (e.g. 'role: MLOps Engineer')",
    "description": "text",
    "deck": "a deck name as text (e.g. 'Interview Questions::MLOps')",
    "id": "a lowercase slug such as 'model-drift-2'",
    "difficulty": f"one of {', '.join(DIFFICULTIES)}",
    "question": "the question as text",
    "answer": "the sample answer as text",
}
_KIND = {
    _Y + "str": "text",
    _Y + "int": "a number",
    _Y + "float": "a number",
    _Y + "bool": "true/false",
    _Y + "null": "nothing (null)",
    _Y + "timestamp": "a date",
    _Y + "seq": "a list",
    _Y + "map": "a mapping",
}


def load_bank(
    sources: Sequence[str], *, progress: Callable[[int, int], None] | None = None
) -> Bank:
    """Read every content file under ``sources``; raise ``ContentErrors`` with all problems.

    ``progress(done, total)`` is told the bytes read so far after each file.
    """
    files, errors = discover(sources)
    sizes = [_size(path) for path, _ in files]
    total, done = sum(sizes), 0
    roles: list[Role] = []
    first_seen: dict[str, tuple[str, int]] = {}
    with collector_paused():
        for (path, shown), size in zip(files, sizes, strict=True):
            role, ids, file_errors = load_file(path, shown)
            errors.extend(file_errors)
            for qid, line in ids:
                if qid in first_seen:
                    where = "{}:{}".format(*first_seen[qid])
                    errors.append(
                        ContentError(
                            shown,
                            line,
                            0,
                            f"duplicate id '{qid}': already used at {where}; "
                            "ids must be unique across all files",
                        )
                    )
                else:
                    first_seen[qid] = (shown, line)
            if role is not None:
                roles.append(role)
            if progress is not None:
                done += size
                progress(done, total)
    if errors:
        raise ContentErrors(errors)
    return Bank(tuple(roles))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic GC: loading and planning make millions of small, long-lived objects
    and no cycles, and every collection would rescan them all (a third of a 100k build)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def discover(sources: Sequence[str]) -> tuple[list[tuple[Path, str]], list[ContentError]]:
    """Expand files and folders (recursively) into YAML files sorted by resolved path.

    Returns ``(path, shown)`` pairs, ``shown`` being the name used in messages.
    """
    found: dict[Path, str] = {}
    errors: list[ContentError] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            inside = [
                p for p in path.rglob("*") if p.suffix.lower() in YAML_SUFFIXES and p.is_file()
            ]
            if not inside:
                errors.append(ContentError(source, 0, 0, "no .yaml or .yml files in this folder"))
            for p in inside:
                found.setdefault(p.resolve(), str(p))
        elif path.is_file():
            found.setdefault(path.resolve(), source)
        elif path.exists():
            errors.append(ContentError(source, 0, 0, "not a regular file or folder"))
        else:
            errors.append(ContentError(source, 0, 0, "no such file or folder"))
    return [(p, found[p]) for p in sorted(found)], errors


def load_file(
    path: Path, shown: str
) -> tuple[Role | None, list[tuple[str, int]], list[ContentError]]:
    """Parse and check one content file.

    Returns the role (``None`` when the file has any problem), every well-formed question id
    with its line (so duplicates are found even in a file with other problems), and the
    file's problems.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [], [ContentError(shown, 0, 0, f"cannot read file: {exc.strerror}")]
    text, err = decode(raw, shown)
    if err is not None:
        return None, [], [err]
    root, err = _compose(text, shown)
    if err is not None:
        return None, [], [err]
    if root is None:
        what = "only comments" if text.strip() else "nothing"
        return (
            None,
            [],
            [
                ContentError(
                    shown,
                    1,
                    0,
                    f"the file holds {what}: expected a mapping with 'role' and 'questions'",
                )
            ],
        )
    walk = _Walk(shown)
    role = walk.role(root)
    if walk.repeated:
        walk.errors.extend(_alias_errors(text, shown, walk.repeated))
        role = None
    del root, text  # free the node tree before copying what survives out of it
    if role is None:
        return None, walk.ids, walk.errors
    role = _compact(role)
    return role, [(q.id, q.line) for q in role.questions], walk.errors


def _compact(role: Role) -> Role:
    """The role with its small values copied into fresh memory.

    The values a file keeps were allocated between the nodes of its YAML tree; left there,
    they pin the freed tree's memory (100+ MB at 100k questions). Copies made after the tree
    is gone pack densely, and the originals' memory can go back to the system.
    """
    return replace(
        role,
        questions=tuple(
            Question(
                id=_fresh(q.id),
                difficulty=_DIFFICULTY[q.difficulty],
                question=_fresh(q.question),
                answer=_fresh(q.answer),
                tags=tuple(_fresh(t) for t in q.tags),
                line=q.line,
            )
            for q in role.questions
        ),
    )


_DIFFICULTY = {d: d for d in DIFFICULTIES}


def _fresh(text: str) -> str:
    """A new string object equal to ``text`` (str() and slicing return the same object)."""
    return (text + " ")[:-1] if len(text) <= 512 else text


def _alias_errors(text: str, shown: str, repeated: Sequence[Node]) -> list[ContentError]:
    """One error per alias (``*name``) in the file, found again by scanning its tokens.

    Only called when the walk met a node twice, so clean files never pay for the scan.
    """
    anchors: dict[str, int] = {}
    errors: dict[tuple[int, str], ContentError] = {}
    for token in yaml.scan(text, Loader=_BaseLoader):
        if isinstance(token, yaml.AnchorToken):
            anchors[token.value] = token.start_mark.line + 1
        elif isinstance(token, yaml.AliasToken):
            line = token.start_mark.line + 1
            anchor = anchors.get(token.value)
            where = f" (its anchor '&{token.value}' is at line {anchor})" if anchor else ""
            errors.setdefault(
                (line, token.value),
                ContentError(
                    shown,
                    line,
                    token.start_mark.column + 1,
                    f"YAML alias '*{token.value}' is not supported{where}; "
                    "write the value out in full",
                ),
            )
    if errors:
        return list(errors.values())
    return [  # pragma: no cover - a repeated node always comes from an alias
        ContentError(shown, _line(node), 0, "YAML aliases are not supported") for node in repeated
    ]


def decode(raw: bytes, shown: str) -> tuple[str, ContentError | None]:
    """UTF-8 text (a BOM is fine), or the error naming the first bad byte's line and column."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        return "", ContentError(
            shown, line, column, f"not valid UTF-8 (byte 0x{bad}); save the file as UTF-8"
        )


def _compose(text: str, shown: str) -> tuple[Node | None, ContentError | None]:
    loader = None
    try:
        # Pure-Python PyYAML checks the characters on construction, libyaml while parsing.
        loader = _BaseLoader(text)
        return loader.get_single_node(), None
    except yaml.MarkedYAMLError as exc:
        return None, _syntax_error(exc, shown, text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        position = exc.position
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        return None, ContentError(
            shown,
            line,
            column,
            f"invalid YAML: the control character U+{exc.character:04X} is not allowed "
            "in a YAML file; remove it",
        )
    except RecursionError:  # pragma: no cover - libyaml stops at depth 1000 first
        return None, ContentError(shown, 0, 0, "invalid YAML: nested too deeply")
    finally:
        if loader is not None:
            loader.dispose()


def _syntax_error(exc: yaml.MarkedYAMLError, shown: str, text: str) -> ContentError:
    """A parser error in plain words, at the place a user should look first."""
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    mark = exc.problem_mark or exc.context_mark
    start = exc.context_mark
    at = start.line + 1 if start else 0
    lines = text.splitlines()

    def char_at(m: yaml.Mark | None) -> str:
        if m is None or m.line >= len(lines) or m.column >= len(lines[m.line]):
            return ""
        return lines[m.line][m.column]

    def indent_has_tab(m: yaml.Mark | None) -> bool:
        if m is None or m.line >= len(lines):
            return False
        line = lines[m.line]
        return "\t" in line[: len(line) - len(line.lstrip(" \t"))] or char_at(m) == "\t"

    if "expected a single document" in context or "another document" in problem:
        message = "a second YAML document ('---'): a content file holds one; remove the '---'"
    elif indent_has_tab(exc.problem_mark):
        message = "a tab character in the indentation; indent with spaces only"
    elif "quoted scalar" in context and start is not None:
        mark = start
        quote = char_at(start) or "quote"
        message = (
            f"the text quoted with {quote} here is never closed; add the closing {quote} "
            "(or use '|' for text over several lines)"
        )
    elif "alias" in context or "alias" in problem:
        message = (
            "text starting with '*' is read as a YAML alias, which is not supported; "
            "put the text in quotes"
        )
    elif "cannot start any token" in problem:
        found = char_at(exc.problem_mark)
        message = f"a value cannot start with '{found}'; put the value in quotes"
    elif "mapping values are not allowed" in problem:
        message = (
            "unexpected ':' here; put text that contains ': ' in quotes, "
            "or check this line's indentation"
        )
    elif ("flow sequence" in context or "flow mapping" in context) and start is not None:
        mark = start
        opened, closer = ("[", "]") if "sequence" in context else ("{", "}")
        message = (
            f"the '{opened}' here is never closed; add '{closer}' after the last item "
            "(and put items containing ':' or ',' in quotes)"
        )
    elif "block collection" in context or "block mapping" in context:
        message = (
            "this line's indentation does not match the lines above it; keys of one mapping "
            f"must line up (the block starts at line {at})"
        )
    elif "nesting depth" in problem:
        message = "nested too deeply (more than 1000 levels of lists or mappings)"
    elif "directive" in context:
        message = "a line starting with '%' is a YAML directive; put the value in quotes"
    else:
        message = f"{problem} ({context})" if context else problem
        message += "; check quoting and indentation here"
    line = mark.line + 1 if mark else 0
    column = mark.column + 1 if mark else 0
    return ContentError(shown, line, column, f"invalid YAML: {message}")


def _kind(node: Node) -> str:
    return _KIND.get(node.tag, "a value")


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _closest(key: str, allowed: Sequence[str]) -> str:
    match = difflib.get_close_matches(key.lower(), allowed, n=1, cutoff=0.6)
    hint = f": did you mean '{match[0]}'?" if match else ""
    return f"{hint} (allowed: {', '.join(allowed)})"


@dataclass
class _Walk:
    """Checks one file's node tree and builds its ``Role``; gathers errors as it goes."""

    shown: str
    errors: list[ContentError] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    ids: list[tuple[str, int]] = field(default_factory=list)
    repeated: list[Node] = field(default_factory=list)

    def error(self, node: Node, message: str) -> None:
        self.errors.append(ContentError(self.shown, _line(node), 0, message))

    def once(self, node: Node) -> bool:
        """Refuse a node met twice: that is an alias (and how a 'billion laughs' file grows)."""
        if id(node) in self.seen:
            self.repeated.append(node)
            return False
        self.seen.add(id(node))
        tag = node.tag
        if tag not in _KIND:
            shown_tag = "!!" + tag[len(_Y) :] if tag.startswith(_Y) else tag
            self.error(
                node,
                f"YAML tag '{shown_tag}' is not allowed: content files hold only text, "
                "lists and mappings; remove the tag",
            )
            return False
        return True

    def mapping(
        self, node: Node, what: str, allowed: Sequence[str]
    ) -> dict[str, tuple[Node, Node]]:
        """The keys of a mapping node, checked: text, known, not repeated."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping (key: value), found {_kind(node)}")
            return {}
        items: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not self.once(key_node):
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != _Y + "str":
                self.error(key_node, f"keys must be text, found {_kind(key_node)}")
                continue
            key = key_node.value
            if key in items:
                first = _line(items[key][0])
                self.error(
                    key_node,
                    f"duplicate key '{key}' (also at line {first}); keep one: YAML would "
                    "silently use the last",
                )
            elif key not in allowed:
                self.error(key_node, f"unknown key '{key}' in {what}{_closest(key, allowed)}")
            else:
                items[key] = (key_node, value_node)
        return items

    def text(
        self, items: dict[str, tuple[Node, Node]], key: str, parent: Node, *, required: bool
    ) -> str | None:
        """A non-empty text value, or ``None`` (with an error when it was required)."""
        if key not in items:
            if required:
                where = " in this question" if key in QUESTION_KEYS else ""
                self.error(
                    parent, f"missing required key '{key}'{where}: expected {_EXPECTED[key]}"
                )
            return None
        key_node, node = items[key]
        if not self.once(node):
            return None
        if isinstance(node, ScalarNode) and node.tag == _Y + "str":
            value = str(node.value)
            bad = forbidden_char(value)
            if bad:
                self.error(
                    key_node,
                    f"'{key}' contains the control character {bad}, which a "
                    "card cannot hold; remove it",
                )
                return None
            if value.strip():
                return value
            self.error(key_node, f"'{key}' is empty: expected {_EXPECTED[key]}")
            return None
        if node.tag == _Y + "null":
            self.error(key_node, f"'{key}' is empty: expected {_EXPECTED[key]}")
        else:
            quotable = isinstance(node, ScalarNode) and key != "difficulty"
            hint = "; put it in quotes to use it as text" if quotable else ""
            self.error(key_node, f"'{key}' must be {_EXPECTED[key]}, found {_kind(node)}{hint}")
        return None

    def role(self, root: Node) -> Role | None:
        if not self.once(root):
            return None
        if not isinstance(root, MappingNode):
            self.error(
                root,
                f"the top level must be a mapping with 'role' and 'questions', found {_kind(root)}",
            )
            return None
        items = self.mapping(root, "the file", TOP_KEYS)
        role = self.text(items, "role", root, required=True)
        description = self.text(items, "description", root, required=False)
        deck = self.text(items, "deck", root, required=False)
        if deck is not None and any(not part.strip() for part in deck.split("::")):
            self.error(
                items["deck"][0],
                f"deck '{deck}' has an empty part between '::' (e.g. 'Interview Questions::MLOps')",
            )
            deck = None
        if role is not None and not slugify(role):
            self.error(
                items["role"][0],
                f"role '{role.strip()}' needs at least one letter or digit (it names the "
                "role's tag, e.g. 'role::mlops-engineer')",
            )
            role = None
        questions = self.questions(items, root)
        if role is None or questions is None or self.errors:
            return None
        return Role(
            path=self.shown,
            role=role.strip(),
            deck=(deck or default_deck(role.strip())).strip(),
            description=(description or "").strip(),
            questions=questions,
        )

    def questions(
        self, items: dict[str, tuple[Node, Node]], root: Node
    ) -> tuple[Question, ...] | None:
        if "questions" not in items:
            self.error(root, "missing required key 'questions': expected a list of questions")
            return None
        key_node, node = items["questions"]
        if not self.once(node):
            return None
        if not isinstance(node, SequenceNode):
            found = "nothing" if node.tag == _Y + "null" else _kind(node)
            self.error(key_node, f"'questions' must be a list of questions, found {found}")
            return None
        if not node.value:
            self.error(key_node, "'questions' is empty: add at least one question")
            return None
        out = [self.question(item) for item in node.value]
        return tuple(q for q in out if q is not None)

    def question(self, node: Node) -> Question | None:
        if not self.once(node):
            return None
        items = self.mapping(node, "a question", QUESTION_KEYS)
        if not items and not isinstance(node, MappingNode):
            return None
        qid = self.text(items, "id", node, required=True)
        if qid is not None and SLUG_RE.match(qid):
            self.ids.append((qid, _line(items["id"][0])))
        elif qid is not None:
            self.error(
                items["id"][0],
                f"id '{qid}' must be a lowercase slug: letters a-z, digits "
                "and single '-' between them (e.g. 'model-drift-2')",
            )
            qid = None
        difficulty = self.text(items, "difficulty", node, required=True)
        if difficulty is not None and difficulty not in DIFFICULTIES:
            hint = ""
            fixed = difficulty.strip().lower()
            if fixed in DIFFICULTIES:
                how = " and ".join(
                    w
                    for w, needed in (
                        ("without spaces", difficulty != difficulty.strip()),
                        ("in lowercase", difficulty != difficulty.lower()),
                    )
                    if needed
                )
                hint = f"; write it {how}: '{fixed}'"
            self.error(
                items["difficulty"][0],
                f"unknown difficulty '{difficulty}': use one of {', '.join(DIFFICULTIES)}{hint}",
            )
            difficulty = None
        question = self.text(items, "question", node, required=True)
        answer = self.text(items, "answer", node, required=True)
        tags = self.tags(items)
        if None in (qid, difficulty, question, answer) or tags is None:
            return None
        assert qid and difficulty and question and answer  # narrowed for the type checker
        return Question(qid, difficulty, question, answer, tags, _line(node))

    def tags(self, items: dict[str, tuple[Node, Node]]) -> tuple[str, ...] | None:
        if "tags" not in items:
            return ()
        key_node, node = items["tags"]
        if not self.once(node):
            return None
        if not isinstance(node, SequenceNode):
            self.error(
                key_node, f"'tags' must be a list such as [pipelines, ci-cd], found {_kind(node)}"
            )
            return None
        tags: list[str] = []
        ok = True
        for item in node.value:
            if not self.once(item):
                ok = False
            elif not isinstance(item, ScalarNode) or item.tag != _Y + "str":
                self.error(item, f"a tag must be text, found {_kind(item)}")
                ok = False
            elif not SLUG_RE.match(item.value):
                self.error(
                    item,
                    f"tag '{item.value}' must be a lowercase slug (letters a-z, "
                    "digits and single '-')",
                )
                ok = False
            elif item.value in tags:
                self.error(item, f"tag '{item.value}' is listed twice")
                ok = False
            else:
                tags.append(item.value)
        return tuple(tags) if ok else None
