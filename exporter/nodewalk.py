"""Walking a YAML node tree by hand, safely: every node visited once (a node met twice is
an alias, refused), only the tags content may use, mappings with text keys that are known
and not repeated (with a did-you-mean). Problems are gathered as ``ContentError`` values."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from yaml.nodes import MappingNode, Node, ScalarNode

from exporter.errors import ContentError
from exporter.yamlsyntax import ALLOWED_TAGS, YAML_TAG, kind_of, line_of


def _closest(key: str, allowed: Sequence[str]) -> str:
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
        """True for a node met for the first time and of a tag content files may use."""
        return self._first_visit(node) and self._allowed_tag(node)

    def _first_visit(self, node: Node) -> bool:
        """Refuse a node met twice: that is an alias (and how a 'billion laughs' file grows)."""
        if id(node) in self.seen:
            self.repeated.append(node)
            return False
        self.seen.add(id(node))
        return True

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
