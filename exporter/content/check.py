"""The content schema: one file's YAML node tree -> a checked ``RoleFile``.

The walk reads the nodes by hand (``exporter.content.yamlnodes``: a line for every value; duplicate,
unknown (with a did-you-mean) and non-text keys, tags and aliases refused); here are the
content's own rules. Every problem is gathered, never just the first, each with its code.
"""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass, field

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from exporter.content.markdown_check import check_markup
from exporter.content.model import (
    DIFFICULTIES,
    Image,
    Question,
    RoleFile,
    default_deck,
    forbidden_char,
    slugify,
    unknown_difficulty,
)
from exporter.content.spec import EXPECTED as _EXPECTED
from exporter.content.spec import GUID_RE, KEY_POINT_MAX, QUESTION_KEYS, SLUG_RE, TOP_KEYS
from exporter.content.yamlnodes import YAML_TAG, NodeWalk, kind_of, line_of
from exporter.errors import ContentWarning
from exporter.markup.markdown import scan, to_html

# The most UTF-8 a text value may hold. Rendering Markdown takes ~100 bytes of memory a
# byte (pulldown-cmark's events, then our HTML), so this bounds a field's rendering at
# ~25 MB; the longest answer of the shipped bank is under 2 KiB.
MAX_TEXT_BYTES = 256 * 1024


def text_size(value: str) -> int:
    """The UTF-8 size of ``value`` (encoded only when it could pass the limit)."""
    if len(value) * 4 <= MAX_TEXT_BYTES:
        return len(value)
    return len(value.encode("utf-8", "surrogatepass"))


@dataclass
class SchemaWalk(NodeWalk):
    """Checks one file's node tree and builds its ``RoleFile``; gathers errors as it goes."""

    ids: list[tuple[str, int]] = field(default_factory=list)
    warnings: list[ContentWarning] = field(default_factory=list)
    result: RoleFile | None = None
    images: list[Image] = field(default_factory=list)  # every image seen, checked or not

    def text(
        self, items: dict[str, tuple[Node, Node]], key: str, parent: Node, *, required: bool
    ) -> str | None:
        """A non-empty text value, or ``None`` (with an error when it was required)."""
        if key not in items:
            if required:
                where = " in this question" if key in QUESTION_KEYS else ""
                self.error(
                    "missing-key",
                    parent,
                    f"missing required key '{key}'{where}: expected {_EXPECTED[key]}",
                )
            return None
        key_node, node = items[key]
        if not self.once(node):
            return None
        if isinstance(node, ScalarNode) and node.tag == YAML_TAG + "str":
            value = str(node.value)
            size = text_size(value)
            if size > MAX_TEXT_BYTES:
                what = (
                    "a question or answer: split it into several questions"
                    if key in ("question", "answer")
                    else "a text value"
                )
                self.error(
                    "text-too-long",
                    key_node,
                    f"'{key}' is {-(-size // 1024):,} KiB of text; the limit is "
                    f"{MAX_TEXT_BYTES // 1024} KiB {what}",
                )
                return None
            bad = forbidden_char(value)
            if bad:
                self.error(
                    "control-character",
                    key_node,
                    f"'{key}' contains the control character {bad}, which a "
                    "card cannot hold; remove it",
                )
                return None
            if value.strip():
                return value
            self.error("empty-value", key_node, f"'{key}' is empty: expected {_EXPECTED[key]}")
            return None
        if node.tag == YAML_TAG + "null":
            self.error("empty-value", key_node, f"'{key}' is empty: expected {_EXPECTED[key]}")
        else:
            quotable = isinstance(node, ScalarNode) and key != "difficulty"
            hint = "; put it in quotes to use it as text" if quotable else ""
            self.error(
                "wrong-type",
                key_node,
                f"'{key}' must be {_EXPECTED[key]}, found {kind_of(node)}{hint}",
            )
        return None

    def role_file(self, root: Node) -> RoleFile | None:
        if not self.once(root):
            return None
        if not isinstance(root, MappingNode):
            self.error(
                "top-level-not-a-mapping",
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
                "deck-empty-part",
                items["deck"][0],
                f"deck '{deck}' has an empty part between '::' (e.g. 'Interview Questions::MLOps')",
            )
            deck = None
        if role is not None and not slugify(role):
            self.error(
                "role-without-letters",
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
            self.error(
                "missing-key",
                root,
                "missing required key 'questions': expected a list of questions",
            )
            return None
        key_node, node = items["questions"]
        if not self.once(node):
            return None
        if not isinstance(node, SequenceNode):
            found = "nothing" if node.tag == YAML_TAG + "null" else kind_of(node)
            self.error(
                "questions-not-a-list",
                key_node,
                f"'questions' must be a list of questions, found {found}",
            )
            return None
        if not node.value:
            self.error(
                "questions-empty", key_node, "'questions' is empty: add at least one question"
            )
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
                "id-not-slug",
                items["id"][0],
                f"id '{qid}' must be a lowercase slug: letters a-z, digits "
                f"and single '-' between them ({slug_hint(qid) or _EXAMPLE_ID})",
            )
            qid = None
        difficulty = self.text(items, "difficulty", node, required=True)
        if difficulty is not None and difficulty not in DIFFICULTIES:
            self.error("difficulty-unknown", items["difficulty"][0], unknown_difficulty(difficulty))
            difficulty = None
        question = self.text(items, "question", node, required=True)
        answer = self.text(items, "answer", node, required=True)
        images = (*self.markup(items, "question", question), *self.markup(items, "answer", answer))
        key_points = self.texts(items, "key_points", "key point")
        hint = self.text(items, "hint", node, required=False)
        follow_ups = self.texts(items, "follow_ups", "follow-up")
        reverse = self.flag(items, "reverse")
        images += self.markup(items, "hint", hint)
        for text, item in follow_ups or ():
            images += self.item_markup(text, item)
        for text, item in key_points or ():
            self.item_markup(text, item, images=False)  # a point shows no image
            self.key_point(text, item)
        tags = self.tags(items)
        guid = self.text(items, "guid", node, required=False)
        if guid is not None and not GUID_RE.match(guid):
            self.error(
                "guid-invalid",
                items["guid"][0],
                f"guid '{guid}' must be an Anki note GUID: 1 to 64 printable ASCII characters "
                "without spaces",
            )
            return None
        if qid is None or difficulty is None or question is None or answer is None or tags is None:
            return None
        if key_points is None or follow_ups is None or reverse is None:
            return None
        return Question(
            qid,
            difficulty,
            question,
            answer,
            tags,
            line_of(node),
            images,
            guid or "",
            key_points=tuple(text for text, _item in key_points),
            hint=hint or "",
            follow_ups=tuple(text for text, _item in follow_ups),
            reverse=reverse,
        )

    def texts(
        self, items: dict[str, tuple[Node, Node]], key: str, item_name: str
    ) -> list[tuple[str, Node]] | None:
        """A list of non-empty texts, each with its node (``[]`` when the key is absent);
        ``None`` when the list itself is wrong. A wrong item is an error and left out, so
        the others are still checked."""
        if key not in items:
            return []
        key_node, node = items[key]
        if not self.once(node):
            return None
        if node.tag == YAML_TAG + "null" or (isinstance(node, SequenceNode) and not node.value):
            self.error(
                "empty-value",
                key_node,
                f"'{key}' is empty: expected {_EXPECTED[key]}; or remove the key",
            )
            return None
        if not isinstance(node, SequenceNode):
            self.error(
                "wrong-type", key_node, f"'{key}' must be {_EXPECTED[key]}, found {kind_of(node)}"
            )
            return None
        if len(node.value) > MAX_LIST_ITEMS:
            self.error(
                "list-too-long",
                key_node,
                f"'{key}' lists {len(node.value)} items; a question takes at most "
                f"{MAX_LIST_ITEMS} (each key point is a card to review): keep the few that "
                "matter",
            )
            return None
        out: list[tuple[str, Node]] = []
        seen: dict[str, int] = {}
        for number, item in enumerate(node.value, start=1):
            where = f"{item_name} {number} of '{key}'"
            if not self.once(item):
                continue
            if not isinstance(item, ScalarNode) or item.tag != YAML_TAG + "str":
                empty = item.tag == YAML_TAG + "null"
                found = "nothing" if empty else kind_of(item)
                quotable = isinstance(item, ScalarNode) and not empty
                quote = "; put it in quotes to use it as text" if quotable else ""
                self.error(
                    "empty-value" if empty else "wrong-type",
                    item,
                    f"{where} must be {_EXPECTED[item_name]}, found {found}{quote}",
                )
            elif (bad := forbidden_char(item.value)) is not None:
                self.error(
                    "control-character",
                    item,
                    f"{where} contains the control character {bad}, which a card cannot hold; "
                    "remove it",
                )
            elif not item.value.strip():
                self.error(
                    "empty-value", item, f"{where} is empty: expected {_EXPECTED[item_name]}"
                )
            elif item.value.strip() in seen:
                code = "key-point-repeated" if key == "key_points" else "follow-up-repeated"
                self.error(
                    code,
                    item,
                    f"{where} repeats {item_name} {seen[item.value.strip()]}; keep one",
                )
            else:
                seen[item.value.strip()] = number
                out.append((str(item.value), item))
        return out

    def item_markup(
        self, text: str, item: Node, key_node: Node | None = None, *, images: bool = True
    ) -> tuple[Image, ...]:
        """Check a text's math and code languages (told at ``key_node``'s line, or line for
        line in a literal block); return its images (none, and none to resolve, unless
        ``images``)."""
        literal = isinstance(item, ScalarNode) and item.style == "|"
        line = line_of(key_node or item)
        checked = check_markup(
            text, self.display_path, line=line, block=literal and line_of(item) + 1
        )
        self.errors += checked.errors
        self.warnings += checked.warnings
        if not images:
            return ()
        self.images += checked.images
        return checked.images

    def key_point(self, text: str, item: Node) -> None:
        """A key point is one paragraph of inline text, what a cloze card can hide (an
        error otherwise), and short, one fact to recall (a warning otherwise: the card
        works, but nobody can grade it at a glance)."""
        problem = key_point_problem(text)
        if problem is None:
            return
        code, message = problem
        if code == "key-point-long":
            warning = ContentWarning(self.display_path, line_of(item), message, code=code)
            self.warnings.append(warning)
        else:
            self.error(code, item, message)

    def flag(self, items: dict[str, tuple[Node, Node]], key: str) -> bool | None:
        """A true/false value (``False`` when the key is absent); ``None`` after an error."""
        if key not in items:
            return False
        key_node, node = items[key]
        if not self.once(node):
            return None
        if isinstance(node, ScalarNode) and node.tag == YAML_TAG + "bool":
            return bool(node.value.lower() in ("true", "yes", "on", "y"))
        empty = node.tag == YAML_TAG + "null"
        code = "empty-value" if empty else "wrong-type"
        found = "nothing" if empty else kind_of(node)
        self.error(code, key_node, f"'{key}' must be {_EXPECTED[key]}, found {found}")
        return None

    def markup(
        self, items: dict[str, tuple[Node, Node]], key: str, text: str | None
    ) -> tuple[Image, ...]:
        """Check a text's math and code languages; return its images (resolved later)."""
        if text is None:
            return ()
        key_node, node = items[key]
        return self.item_markup(text, node, key_node)

    def tags(self, items: dict[str, tuple[Node, Node]]) -> tuple[str, ...] | None:
        if "tags" not in items:
            return ()
        key_node, node = items["tags"]
        if not self.once(node):
            return None
        if not isinstance(node, SequenceNode):
            self.error(
                "tags-not-a-list",
                key_node,
                f"'tags' must be a list such as [pipelines, ci-cd], found {kind_of(node)}",
            )
            return None
        tags: dict[str, None] = {}  # (in order; a list's 'in' made long lists quadratic)
        ok = True
        for item in node.value:
            if not self.once(item):
                ok = False
            elif not isinstance(item, ScalarNode) or item.tag != YAML_TAG + "str":
                self.error("tag-not-text", item, f"a tag must be text, found {kind_of(item)}")
                ok = False
            elif not SLUG_RE.match(item.value):
                hint = slug_hint(item.value)
                self.error(
                    "tag-not-slug",
                    item,
                    f"tag '{item.value}' must be a lowercase slug (letters a-z, "
                    f"digits and single '-'){'; ' + hint if hint else ''}",
                )
                ok = False
            elif item.value in tags:
                self.error("tag-repeated", item, f"tag '{item.value}' is listed twice")
                ok = False
            else:
                tags[item.value] = None
        return tuple(tags) if ok else None


_EXAMPLE_ID = "e.g. 'model-drift-2'"
# A slug but for case, '_', '.', spaces or stray dashes: two patterns, each one linear scan
# (as one, ``X*[A-Za-z0-9]X*`` tries every split of a long value that fails at its end).
_SLUG_ISH = re.compile(r"[A-Za-z0-9 _.\-]*+")
_SLUG_LETTER = re.compile(r"[A-Za-z0-9]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


MAX_LIST_ITEMS = 100  # key points or follow-ups of one question (a list past it is no card)

# What a key point may not hold: a block (it is one paragraph) or a display formula.
# (Our own HTML: code is escaped, so no '<' inside; a tag holds no '<': linear scans.)
_CODE_SPAN = re.compile(r"<code>[^<]*+</code>")
_TAGS = re.compile(r"<[^<>]*+>")


def key_point_problem(text: str) -> tuple[str, str] | None:
    """Why ``text`` cannot be a key point (code, message), or ``None`` when it can: one
    paragraph of inline Markdown (no list, heading, code block, table, quote, display
    formula or image), at most ``KEY_POINT_MAX`` characters as the card shows it."""
    html = to_html(text)
    inner = html.removeprefix("<p>").removesuffix("</p>")
    block = not (html.startswith("<p>") and html.endswith("</p>")) or "</p>" in inner
    if block or "\\[" in _CODE_SPAN.sub("", inner) or scan(text).images:
        code = "key-point-not-inline"
        return (
            code,
            "a key point is one short line of inline text; this one holds a block (a second "
            "paragraph, a list, a heading, code block, table, quote, display formula or "
            "image): keep the detail in the answer",
        )
    shown = len(" ".join(html_module.unescape(_TAGS.sub("", inner)).split()))
    if shown > KEY_POINT_MAX:
        code = "key-point-long"
        return (
            code,
            f"this key point is {shown} characters long; a key point is one fact to recall, "
            f"at most {KEY_POINT_MAX}: shorten it or split it into two",
        )
    return None


def slug_hint(value: str) -> str:
    """ "write it 'python-fib'" when ``value`` is a slug but for case, '_', '.', spaces or
    stray dashes ('' when no slug is that close: other letters are not guessed at)."""
    if not (_SLUG_ISH.fullmatch(value) and _SLUG_LETTER.search(value)):
        return ""
    slug = _NOT_SLUG.sub("-", value.lower()).strip("-")
    return f"write it '{slug}'" if slug != value and SLUG_RE.match(slug) else ""


def check_file(root: Node, display_path: str) -> SchemaWalk:
    """Walk one file's node tree; the result holds the role file (if clean), ids and errors."""
    walk = SchemaWalk(display_path)
    walk.result = walk.role_file(root)
    return walk
