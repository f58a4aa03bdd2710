"""One content file's YAML events -> its checked ``RoleFile`` in one pass, with no node tree.

The pass takes only files with nothing unusual: any problem (warnings aside), and anything it
does not read (a syntax error, an anchor, an alias, a tag, a second document), gives ``None``,
and the node walk (``exporter.content.check``) reads the file again to say exactly what and
where. So every message is the node walk's; ``tests/content/test_one_pass.py`` holds the two
equal on everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode

from exporter.content.check import (
    MAX_LIST_ITEMS,
    MAX_TEXT_BYTES,
    SchemaWalk,
    key_point_problem,
    text_size,
)
from exporter.content.markdown_check import check_markup
from exporter.content.model import (
    DIFFICULTIES,
    Image,
    Question,
    RoleFile,
    default_deck,
    forbidden_char,
    slugify,
)
from exporter.content.spec import GUID_RE, QUESTION_KEYS, SLUG_RE, TOP_KEYS
from exporter.content.yamlnodes import YAML_TAG, Loader
from exporter.errors import ContentWarning

_TEXT, _BOOL = YAML_TAG + "str", YAML_TAG + "bool"
_TOP_KEYS, _QUESTION_KEYS = frozenset(TOP_KEYS), frozenset(QUESTION_KEYS)
_PLAIN_KEYS = frozenset(("id", "difficulty", "question", "answer", "tags"))  # most questions'
_DIFFICULTY = {d: d for d in DIFFICULTIES}  # (one string for each, in 100k questions)
# The first characters of a plain scalar that YAML may read as other than text (a number,
# true/false, null, ...): any other plain scalar is text without asking the resolver.
_MAYBE_TYPED = frozenset(Loader.yaml_implicit_resolvers)
_ALWAYS_ASK = None in _MAYBE_TYPED
_Lists = dict[str, list[Any]]
_Event = Any  # a PyYAML event (its marks are never None here)


def _line(event: _Event) -> int:
    return int(event.start_mark.line) + 1


class _Unusual(Exception):
    """Something the one pass leaves to the node walk."""


def one_pass(text: str, display_path: str) -> SchemaWalk | None:
    """The walk of a file with no problem: its role file, question ids and warnings;
    ``None`` when the node walk must read the file."""
    loader = None
    try:
        loader = Loader(text)
        return _OnePass(loader, display_path).walk
    except (_Unusual, yaml.YAMLError):
        return None
    finally:
        if loader is not None:
            loader.dispose()


class _OnePass:
    """Reads the events as the content format expects them, raising ``_Unusual`` at the
    first thing that differs."""

    def __init__(self, loader: Loader, display_path: str) -> None:
        self.next: Callable[[], _Event] = loader.get_event
        self.resolve: Callable[..., str] = loader.resolve
        self.where = display_path
        self.walk = SchemaWalk(display_path)
        self.walk.result = self.role_file()  # (no bound method kept: no cycle to collect)

    def role_file(self) -> RoleFile:
        self.expect(self.next(), StreamStartEvent)
        self.expect(self.next(), DocumentStartEvent)
        if type(top := self.next()) is not MappingStartEvent or top.anchor or top.tag:
            raise _Unusual
        values, lists, lines = self.mapping(_TOP_KEYS, _TOP_LISTS)
        for kind in (DocumentEndEvent, StreamEndEvent):
            self.expect(self.next(), kind)
        role = self.text(values.get("role")).strip()
        description = self.text(values["description"]) if "description" in values else ""
        deck = self.text(values["deck"]) if "deck" in values else None
        if not lists.get("questions") or not slugify(role):
            raise _Unusual
        if deck is not None and any(not part.strip() for part in deck.split("::")):
            raise _Unusual
        return RoleFile(
            display_path=self.where,
            role=role,
            deck=(deck or default_deck(role)).strip(),
            description=description.strip(),
            questions=tuple(lists["questions"]),
            deck_line=lines["deck" if deck is not None else "role"],
        )

    @staticmethod
    def expect(event: _Event, kind: type[Event]) -> None:
        """Refuse ``event`` unless it is a ``kind``."""
        if type(event) is not kind:
            raise _Unusual

    def mapping(
        self, allowed: frozenset[str], readers: dict[str, _Reader]
    ) -> tuple[dict[str, _Event], _Lists, dict[str, int]]:
        """The mapping just opened: its scalars, its lists (each read by its reader) and
        the line of each key (allowed, not repeated)."""
        values: dict[str, _Event] = {}
        lists: _Lists = {}
        lines: dict[str, int] = {}
        get = self.next
        while type(key := get()) is ScalarEvent:  # (inlined: the pass's hottest loop)
            name = key.value  # (no implicit type reads a key of ours as other than text)
            if key.anchor or key.tag or name not in allowed or name in lines:
                raise _Unusual
            lines[name] = _line(key)
            value = get()
            if type(value) is ScalarEvent and name not in readers:
                values[name] = value
            elif type(value) is SequenceStartEvent and name in readers:
                lists[name] = readers[name](self)
            else:
                raise _Unusual
            if value.anchor or value.tag:
                raise _Unusual
        self.expect(key, MappingEndEvent)
        return values, lists, lines

    def tag(self, event: _Event) -> str:
        """What YAML reads a scalar as (text, a number, true/false, null, ...)."""
        value = event.value
        if not event.implicit[0] or (value and value[0] not in _MAYBE_TYPED and not _ALWAYS_ASK):
            return _TEXT
        return self.resolve(ScalarNode, value, event.implicit)

    def text(self, event: _Event | None) -> str:
        """A text value the node walk takes: text, not too long, no control character,
        not blank."""
        if event is None:
            raise _Unusual
        value: str = event.value
        if text_size(value) > MAX_TEXT_BYTES or value.isspace() or not value:
            raise _Unusual
        if self.tag(event) != _TEXT or forbidden_char(value) is not None:
            raise _Unusual
        return value

    def texts(self, items: list[_Event] | None) -> list[_Event]:
        """The items of a list of texts (key points, follow-ups): text, no control
        character, not blank, not repeated."""
        if items is None:
            return []
        if not items or len(items) > MAX_LIST_ITEMS:
            raise _Unusual
        seen = set()
        for item in items:
            value = item.value
            if self.tag(item) != _TEXT or forbidden_char(value) is not None:
                raise _Unusual
            if value.isspace() or not value or value.strip() in seen:
                raise _Unusual
            seen.add(value.strip())
        return items

    def scalars(self) -> list[_Event]:
        """The items of the list of scalars just opened."""
        out = []
        while type(event := self.next()) is ScalarEvent and not (event.anchor or event.tag):
            out.append(event)
        self.expect(event, SequenceEndEvent)
        return out

    def questions(self) -> list[Question]:
        """The items of the list of questions just opened."""
        out = []
        while type(event := self.next()) is MappingStartEvent and not (event.anchor or event.tag):
            out.append(self.question(_line(event)))
        self.expect(event, SequenceEndEvent)
        return out

    def markup(self, text: str, event: _Event, line: int) -> tuple[Image, ...]:
        """A text's images; its warnings go to the walk (an error leaves the file to it)."""
        block = event.style == "|" and event.start_mark.line + 2
        checked = check_markup(text, self.where, line=line, block=block)
        if checked.errors:
            raise _Unusual
        self.walk.warnings += checked.warnings
        return checked.images

    def question(self, line: int) -> Question:
        """The question whose mapping (at ``line``) was just opened."""
        values, lists, lines = self.mapping(_QUESTION_KEYS, _QUESTION_LISTS)
        qid, difficulty = self.text(values.get("id")), self.text(values.get("difficulty"))
        question, answer = self.text(values.get("question")), self.text(values.get("answer"))
        if not SLUG_RE.match(qid) or difficulty not in _DIFFICULTY:
            raise _Unusual
        self.walk.ids.append((qid, lines["id"]))
        images = self.markup(question, values["question"], lines["question"])
        images += self.markup(answer, values["answer"], lines["answer"])
        items = lists.get("tags", [])
        tags = tuple([item.value for item in items if self.tag(item) == _TEXT])
        if not len(items) == len(tags) == len(set(tags)) or not all(map(SLUG_RE.match, tags)):
            raise _Unusual
        plain = Question(qid, _DIFFICULTY[difficulty], question, answer, tags, line, images)
        return plain if lines.keys() <= _PLAIN_KEYS else self.trained(plain, values, lists, lines)

    def trained(
        self, plain: Question, values: dict[str, _Event], lists: _Lists, lines: dict[str, int]
    ) -> Question:
        """``plain`` with the parts that train its answer, and its guid."""
        images = plain.images
        key_points = self.texts(lists.get("key_points"))
        hint = self.text(values["hint"]) if "hint" in values else ""
        follow_ups = self.texts(lists.get("follow_ups"))
        reverse = values.get("reverse")
        if reverse is not None and self.tag(reverse) != _BOOL:
            raise _Unusual
        if hint:
            images += self.markup(hint, values["hint"], lines["hint"])
        for item in follow_ups:
            images += self.markup(item.value, item, _line(item))
        for item in key_points:
            line = _line(item)
            self.markup(item.value, item, line)  # (a point shows no image)
            problem = key_point_problem(item.value)
            if problem is not None and problem[0] != "key-point-long":
                raise _Unusual
            if problem is not None:
                warning = ContentWarning(self.where, line, problem[1], code=problem[0])
                self.walk.warnings.append(warning)
        guid = self.text(values["guid"]) if "guid" in values else ""
        if guid and not GUID_RE.match(guid):
            raise _Unusual
        return plain._replace(
            images=images,
            guid=guid,
            key_points=tuple(item.value for item in key_points),
            hint=hint,
            follow_ups=tuple(item.value for item in follow_ups),
            reverse=reverse is not None and reverse.value.lower() in ("true", "yes", "on", "y"),
        )


_Reader = Callable[[_OnePass], list[Any]]
_TOP_LISTS: dict[str, _Reader] = {"questions": _OnePass.questions}
_QUESTION_LISTS: dict[str, _Reader] = dict.fromkeys(
    ("tags", "key_points", "follow_ups"), _OnePass.scalars
)
