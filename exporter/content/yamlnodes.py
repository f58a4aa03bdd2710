"""YAML text -> a node tree, and YAML's own complaints in plain words at the right place.

Files are only composed into nodes, never constructed into Python objects, so no tag can run
code; the schema walk (``exporter.content.check``) reads the nodes and their line numbers.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from exporter.errors import ContentError

try:  # libyaml is ~10x faster; PyYAML's wheels ship it, a source build may not.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Loader = _Loader  # what reads every file: its events (``events``) or its nodes (``compose``)


YAML_TAG = "tag:yaml.org,2002:"
ALLOWED_TAGS = {
    YAML_TAG + "str": "text",
    YAML_TAG + "int": "a number",
    YAML_TAG + "float": "a number",
    YAML_TAG + "bool": "true/false",
    YAML_TAG + "null": "nothing (null)",
    YAML_TAG + "timestamp": "a date",
    YAML_TAG + "seq": "a list",
    YAML_TAG + "map": "a mapping",
}


BANG_START = (
    "the value starts with '!', which YAML reads as a tag, not text; put the whole text in "
    "quotes (\"...\"), or write it as a block: '|' and the text on the next lines"
)


def kind_of(node: Node) -> str:
    """What a node holds, in plain words ('text', 'a list', …) for messages."""
    return ALLOWED_TAGS.get(node.tag, "a value")


_YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_EDITOR_BREAKS = re.compile("\r\n|[\r\n]")


def editor_lines(text: str) -> Callable[[int], int] | None:
    """How YAML's line numbers map to an editor's, when they differ: YAML also breaks lines
    at U+0085, U+2028 and U+2029, which editors show inside a line. ``None`` when they agree."""
    if "\x85" not in text and "\u2028" not in text and "\u2029" not in text:
        return None  # (three substring tests: 200x faster than the class's search)
    starts = [0, *(m.end() for m in _YAML_BREAKS.finditer(text))]
    editor = [m.end() for m in _EDITOR_BREAKS.finditer(text)]
    table = [bisect.bisect_right(editor, start) + 1 for start in starts]
    return lambda line: table[line - 1] if 0 < line <= len(table) else line


def count_lines(text: str, end: int) -> int:
    """The editor's 1-based line number of character ``end`` (CR, LF and CRLF end a line)."""
    return len(_EDITOR_BREAKS.findall(text, 0, end)) + 1


def line_of(node: Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


def compose(text: str, display_path: str) -> tuple[Node | None, ContentError | None]:
    """The file's single document as a node tree (``None`` if empty), or its syntax error."""
    try:
        return yaml.compose(text, Loader), None
    except yaml.MarkedYAMLError as exc:
        return None, _syntax_error(exc, display_path, text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        position = exc.position
        line = count_lines(text, position)
        column = position - max(text.rfind("\n", 0, position), text.rfind("\r", 0, position))
        return None, ContentError(
            display_path,
            line,
            column,
            f"invalid YAML: the control character U+{exc.character:04X} is not allowed "
            "in a YAML file; remove it",
            code="yaml-control-character",
        )
    except RecursionError:  # pragma: no cover - libyaml stops at depth 1000 first
        return None, ContentError(
            display_path, 0, 0, "invalid YAML: nested too deeply", code="yaml-too-deep"
        )


def _syntax_error(exc: yaml.MarkedYAMLError, display_path: str, text: str) -> ContentError:
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
        code = "yaml-multiple-documents"
        message = "a second YAML document ('---'): a content file holds one; remove the '---'"
    elif indent_has_tab(exc.problem_mark):
        code = "yaml-tab-indentation"
        message = "a tab character in the indentation; indent with spaces only"
    elif "quoted scalar" in context and start is not None:
        mark = start
        code = "yaml-unclosed-quote"
        quote = char_at(start) or "quote"
        message = (
            f"the text quoted with {quote} here is never closed; add the closing {quote} "
            "(or use '|' for text over several lines)"
        )
    elif "alias" in context or "alias" in problem:
        code = "yaml-alias"
        message = (
            "text starting with '*' is read as a YAML alias, which is not supported; "
            "put the text in quotes"
        )
    elif "scanning a tag" in context:
        mark = start or mark
        code = "yaml-tag"
        message = BANG_START
    elif "cannot start any token" in problem:
        code = "yaml-bad-start"
        found = char_at(exc.problem_mark)
        message = f"a value cannot start with '{found}'; put the value in quotes"
    elif "mapping values are not allowed" in problem:
        code = "yaml-colon"
        message = (
            "unexpected ':' here; put text that contains ': ' in quotes, "
            "or check this line's indentation"
        )
    elif ("flow sequence" in context or "flow mapping" in context) and start is not None:
        mark = start
        code = "yaml-unclosed-bracket"
        opened, closer = ("[", "]") if "sequence" in context else ("{", "}")
        message = (
            f"the '{opened}' here is never closed; add '{closer}' after the last item "
            "(and put items containing ':' or ',' in quotes)"
        )
    elif "block collection" in context or "block mapping" in context:
        code = "yaml-indentation"
        message = (
            "this line's indentation does not match the lines above it; keys of one mapping "
            f"must line up (the block starts at line {at})"
        )
    elif "nesting depth" in problem:
        code = "yaml-too-deep"
        message = "nested too deeply (more than 1000 levels of lists or mappings)"
    elif "directive" in context:
        code = "yaml-directive"
        message = "a line starting with '%' is a YAML directive; put the value in quotes"
    else:
        code = "yaml-syntax"
        message = f"{problem} ({context})" if context else problem
        message += "; check quoting and indentation here"
    line = mark.line + 1 if mark else 0
    column = mark.column + 1 if mark else 0
    return ContentError(display_path, line, column, f"invalid YAML: {message}", code=code)


def alias_errors(text: str, display_path: str, repeated: Sequence[Node]) -> list[ContentError]:
    """One error per alias (``*name``) in the file, found again by scanning its tokens.

    Only called when the walk met a node twice, so clean files never pay for the scan.
    """
    anchors: dict[str, int] = {}
    errors: dict[tuple[int, str], ContentError] = {}
    for token in yaml.scan(text, Loader=Loader):
        if isinstance(token, yaml.AnchorToken):
            anchors[token.value] = token.start_mark.line + 1
        elif isinstance(token, yaml.AliasToken):
            line = token.start_mark.line + 1
            anchor = anchors.get(token.value)
            where = f" (its anchor '&{token.value}' is at line {anchor})" if anchor else ""
            errors.setdefault(
                (line, token.value),
                ContentError(
                    display_path,
                    line,
                    token.start_mark.column + 1,
                    f"YAML alias '*{token.value}' is not supported{where}; "
                    "write the value out in full",
                    code="yaml-alias",
                ),
            )
    if errors:
        return list(errors.values())
    return [  # pragma: no cover - a repeated node always comes from an alias
        ContentError(
            display_path, line_of(node), 0, "YAML aliases are not supported", code="yaml-alias"
        )
        for node in repeated
    ]


def _closest(key: str, allowed: Sequence[str]) -> str:
    import difflib  # only for a misspelt key's suggestion

    match = difflib.get_close_matches(key.lower(), allowed, n=1, cutoff=0.6)
    hint = f": did you mean '{match[0]}'?" if match else ""
    return f"{hint} (allowed: {', '.join(allowed)})"


@dataclass
class NodeWalk:
    """Visits one file's YAML nodes safely (each once, no tags) and gathers errors."""

    display_path: str
    errors: list[ContentError] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    repeated: list[Node] = field(default_factory=list)

    def error(self, code: str, node: Node, message: str) -> None:
        self.errors.append(ContentError(self.display_path, line_of(node), 0, message, code=code))

    def once(self, node: Node) -> bool:
        """True for a node met for the first time (one met again is an alias, how a 'billion
        laughs' file grows) and of a tag content files may use."""
        if id(node) in self.seen:
            self.repeated.append(node)
            return False
        self.seen.add(id(node))
        return self._allowed_tag(node)

    def _allowed_tag(self, node: Node) -> bool:
        """Refuse an explicit tag such as ``!!python/object``: content is text, lists, maps."""
        tag = node.tag
        if tag in ALLOWED_TAGS:
            return True
        if tag == YAML_TAG + "merge":  # '<<:' gets this tag without the user writing one
            self.error(
                "yaml-merge-key",
                node,
                "YAML merge keys ('<<') are not supported; write the keys out",
            )
            return False
        written_tag = "!!" + tag[len(YAML_TAG) :] if tag.startswith(YAML_TAG) else tag
        if isinstance(node, ScalarNode) and not tag.startswith(YAML_TAG):  # '!word' text
            self.error("yaml-tag", node, f"{BANG_START} (YAML took '{written_tag}' for a tag)")
            return False
        self.error(
            "yaml-tag",
            node,
            f"YAML tag '{written_tag}' is not allowed: content files hold only text, "
            "lists and mappings; remove the tag",
        )
        return False

    def mapping(
        self, node: Node, what: str, allowed: Sequence[str]
    ) -> dict[str, tuple[Node, Node]]:
        """The keys of a mapping node, checked: text, known, not repeated."""
        if not isinstance(node, MappingNode):
            self.error(
                "not-a-mapping",
                node,
                f"{what} must be a mapping (key: value), found {kind_of(node)}",
            )
            return {}
        items: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not self.once(key_node):
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != YAML_TAG + "str":
                self.error(
                    "key-not-text", key_node, f"keys must be text, found {kind_of(key_node)}"
                )
                continue
            key = key_node.value
            if key in items:
                first = line_of(items[key][0])
                self.error(
                    "duplicate-key",
                    key_node,
                    f"duplicate key '{key}' (also at line {first}); keep one: YAML would "
                    "silently use the last",
                )
            elif key not in allowed:
                self.error(
                    "unknown-key",
                    key_node,
                    f"unknown key '{key}' in {what}{_closest(key, allowed)}",
                )
            else:
                items[key] = (key_node, value_node)
        return items
