"""The content schema: one file's YAML node tree -> a checked ``RoleFile``.

The walk reads the nodes by hand: that gives a line number for every value, catches
duplicate keys and unknown keys (with a did-you-mean), refuses tags, and refuses an alias
the first time a node is met twice. Every problem is gathered, never just the first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from exporter.errors import ContentError, ContentWarning
from exporter.markupcheck import check_markup
from exporter.model import (
    DIFFICULTIES,
    Image,
    Question,
    RoleFile,
    default_deck,
    forbidden_char,
    slugify,
    unknown_difficulty,
)
from exporter.yamlsyntax import ALLOWED_TAGS, YAML_TAG, kind_of, line_of

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
TOP_KEYS = ("role", "description", "deck", "questions")
QUESTION_KEYS = ("id", "difficulty", "question", "answer", "tags", "guid")
# A note GUID as Anki writes one (10 characters of base91): printable ASCII, no space.
GUID_RE = re.compile(r"[!-~]{1,64}\Z")

# What each text key holds, for "missing", "empty" and "wrong type" messages.
_EXPECTED = {
    "role": "the role's name as text (e.g. 'role: MLOps Engineer')",
    "description": "text",
    "deck": "a deck name as text (e.g. 'Interview Questions::MLOps')",
    "id": "a lowercase slug such as 'model-drift-2'",
    "difficulty": f"one of {', '.join(DIFFICULTIES)}",
    "question": "the question as text",
    "answer": "the sample answer as text",
    "guid": "the GUID of the Anki note this question keeps (as 'pull --add-new' writes it)",
}


def _closest(key: str, allowed: Sequence[str]) -> str:
    match = difflib.get_close_matches(key.lower(), allowed, n=1, cutoff=0.6)
    hint = f": did you mean '{match[0]}'?" if match else ""
    return f"{hint} (allowed: {', '.join(allowed)})"


@dataclass
class SchemaWalk:
    """Checks one file's node tree and builds its ``RoleFile``; gathers errors as it goes."""

    display_path: str
    errors: list[ContentError] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    ids: list[tuple[str, int]] = field(default_factory=list)
    repeated: list[Node] = field(default_factory=list)
    warnings: list[ContentWarning] = field(default_factory=list)
    result: RoleFile | None = None

    def error(self, node: Node, message: str) -> None:
        self.errors.append(ContentError(self.display_path, line_of(node), 0, message))

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
            self.error(node, "YAML merge keys ('<<') are not supported; write the keys out")
            return False
        written_tag = "!!" + tag[len(YAML_TAG) :] if tag.startswith(YAML_TAG) else tag
        self.error(
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
            self.error(node, f"{what} must be a mapping (key: value), found {kind_of(node)}")
            return {}
        items: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not self.once(key_node):
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != YAML_TAG + "str":
                self.error(key_node, f"keys must be text, found {kind_of(key_node)}")
                continue
            key = key_node.value
            if key in items:
                first = line_of(items[key][0])
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
        if isinstance(node, ScalarNode) and node.tag == YAML_TAG + "str":
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
        if node.tag == YAML_TAG + "null":
            self.error(key_node, f"'{key}' is empty: expected {_EXPECTED[key]}")
        else:
            quotable = isinstance(node, ScalarNode) and key != "difficulty"
            hint = "; put it in quotes to use it as text" if quotable else ""
            self.error(key_node, f"'{key}' must be {_EXPECTED[key]}, found {kind_of(node)}{hint}")
        return None

    def role_file(self, root: Node) -> RoleFile | None:
        if not self.once(root):
            return None
        if not isinstance(root, MappingNode):
            self.error(
                root,
                "the top level must be a mapping with 'role' and 'questions', "
                f"found {kind_of(root)}",
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
        return RoleFile(
            display_path=self.display_path,
            role=role.strip(),
            deck=(deck or default_deck(role.strip())).strip(),
            description=(description or "").strip(),
            questions=questions,
            deck_line=line_of(items["deck" if deck is not None else "role"][0]),
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
            found = "nothing" if node.tag == YAML_TAG + "null" else kind_of(node)
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
            self.ids.append((qid, line_of(items["id"][0])))
        elif qid is not None:
            self.error(
                items["id"][0],
                f"id '{qid}' must be a lowercase slug: letters a-z, digits "
                "and single '-' between them (e.g. 'model-drift-2')",
            )
            qid = None
        difficulty = self.text(items, "difficulty", node, required=True)
        if difficulty is not None and difficulty not in DIFFICULTIES:
            self.error(items["difficulty"][0], unknown_difficulty(difficulty))
            difficulty = None
        question = self.text(items, "question", node, required=True)
        answer = self.text(items, "answer", node, required=True)
        images = (*self.markup(items, "question", question), *self.markup(items, "answer", answer))
        tags = self.tags(items)
        guid = self.text(items, "guid", node, required=False)
        if guid is not None and not GUID_RE.match(guid):
            self.error(
                items["guid"][0],
                f"guid '{guid}' must be an Anki note GUID: 1 to 64 printable ASCII characters "
                "without spaces",
            )
            return None
        if qid is None or difficulty is None or question is None or answer is None or tags is None:
            return None
        return Question(qid, difficulty, question, answer, tags, line_of(node), images, guid or "")

    def markup(
        self, items: dict[str, tuple[Node, Node]], key: str, text: str | None
    ) -> tuple[Image, ...]:
        """Check a text's math and code languages; return its images (resolved later)."""
        if text is None:
            return ()
        key_node, node = items[key]
        checked = check_markup(text, node, key_node, self.display_path)
        self.errors += checked.errors
        self.warnings += checked.warnings
        return checked.images

    def tags(self, items: dict[str, tuple[Node, Node]]) -> tuple[str, ...] | None:
        if "tags" not in items:
            return ()
        key_node, node = items["tags"]
        if not self.once(node):
            return None
        if not isinstance(node, SequenceNode):
            self.error(
                key_node, f"'tags' must be a list such as [pipelines, ci-cd], found {kind_of(node)}"
            )
            return None
        tags: list[str] = []
        ok = True
        for item in node.value:
            if not self.once(item):
                ok = False
            elif not isinstance(item, ScalarNode) or item.tag != YAML_TAG + "str":
                self.error(item, f"a tag must be text, found {kind_of(item)}")
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


def check_file(root: Node, display_path: str) -> SchemaWalk:
    """Walk one file's node tree; the result holds the role file (if clean), ids and errors."""
    walk = SchemaWalk(display_path)
    walk.result = walk.role_file(root)
    return walk
