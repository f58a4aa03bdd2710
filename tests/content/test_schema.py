"""docs/content.schema.json is what 'interview-deck schema' prints (made from the loader's
own constants), a valid draft 2020-12 schema that a real validator (jsonschema) finds in
agreement with the loader: every valid bank passes, every invalid case it can express fails."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from exporter.content.load import load_bank
from exporter.content.model import DIFFICULTIES
from exporter.content.sources import discover
from exporter.content.spec import QUESTION_KEYS, TOP_KEYS
from exporter.errors import ContentErrors
from helpers import CASES, CONTENT, INVALID, ROOT, run_cli

COMMITTED = ROOT / "docs" / "content.schema.json"
SCHEMA: dict[str, Any] = json.loads(COMMITTED.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)
# The kinds of problem a JSON Schema can say (the others need the YAML text, other files or
# the disk: syntax, duplicate keys, aliases, tags, ids across files, images, math; and a
# role with no letter of any script, which an ECMAScript pattern cannot say portably).
SCHEMA_CODES = {
    "file-empty",
    "top-level-not-a-mapping",
    "not-a-mapping",
    "unknown-key",
    "missing-key",
    "empty-value",
    "wrong-type",
    "deck-empty-part",
    "questions-not-a-list",
    "questions-empty",
    "id-not-slug",
    "difficulty-unknown",
    "guid-invalid",
    "tags-not-a-list",
    "tag-not-text",
    "tag-not-slug",
    "tag-repeated",
    "key-point-repeated",
    "follow-up-repeated",
}
VALID_BANKS = [
    *sorted(CONTENT.glob("*.yaml")),
    *sorted((ROOT / "docs" / "examples").rglob("*.yaml")),
    *sorted((ROOT / "tests" / "data" / "compat").rglob("*.yaml")),
    INVALID / "_valid.yaml",
]


def schema_errors(data: Any) -> list[str]:
    """What the validator says of ``data`` (as an editor's YAML parser reads the file)."""
    return [e.message for e in VALIDATOR.iter_errors(data)]


def test_committed_schema_is_current() -> None:
    """'interview-deck schema' prints exactly the committed docs/content.schema.json."""
    result = run_cli(["schema"])
    assert result.exit_code == 0
    assert result.stdout == COMMITTED.read_text(encoding="utf-8"), (
        "stale: run 'interview-deck schema > docs/content.schema.json'"
    )


def test_schema_is_valid_draft_2020_12_with_hover_text() -> None:
    """The schema checks against the draft 2020-12 meta-schema; every key has a description;
    difficulty is an enum of exactly the loader's difficulties."""
    Draft202012Validator.check_schema(SCHEMA)
    question = SCHEMA["properties"]["questions"]["items"]
    for properties, keys in (
        (SCHEMA["properties"], TOP_KEYS),
        (question["properties"], QUESTION_KEYS),
    ):
        assert list(properties) == list(keys)
        assert all(properties[k]["description"] for k in keys)
    assert question["properties"]["difficulty"]["enum"] == list(DIFFICULTIES)


@pytest.mark.parametrize("path", VALID_BANKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_valid_banks_pass(path: Path) -> None:
    """Every bank the loader accepts in the repository passes the schema."""
    assert schema_errors(yaml.safe_load(path.read_text(encoding="utf-8-sig"))) == []


def _files(case: str) -> list[Path]:
    """The content files a case checks: its .yaml, its folder, or the folder its .args name."""
    args = INVALID / f"{case}.args"
    names = args.read_text(encoding="utf-8").split() if args.exists() else [case, f"{case}.yaml"]
    found: list[Path] = []
    for name in names:
        path = INVALID / name
        if path.is_file() and path.suffix == ".yaml":
            found.append(path)
        elif path.is_dir():
            found += sorted(path.rglob("*.y*ml"))
    return found


def _has_alias(text: str) -> bool:
    try:
        return any(isinstance(t, yaml.AliasToken) for t in yaml.scan(text))
    except yaml.YAMLError:
        return False


# PyYAML (pure Python, as an editor's parser) takes over a second to refuse 2,000 nested
# lists: the cases that read that file run in the full tier.
_DEEP = INVALID / "yaml-too-deep.yaml"


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.slow) if _DEEP in _files(c) else c for c in CASES]
)
def test_invalid_cases_fail_when_the_schema_can_say_so(case: str) -> None:
    """A case with a problem the schema expresses fails it; a case without one passes it
    (the schema is no stricter than the loader). Files that an editor's YAML parser cannot
    read, or that use aliases (which it would expand), are left out."""
    codes = set((INVALID / f"{case}.codes").read_text(encoding="utf-8").split())
    found: list[str] = []
    left_out = False
    for path in _files(case):
        try:
            text = path.read_text(encoding="utf-8-sig")
            data = None if _has_alias(text) else yaml.safe_load(text)
        except (yaml.YAMLError, UnicodeDecodeError, TypeError, RecursionError):
            left_out = True
            continue
        if data is None and text.strip() and not text.lstrip().startswith("#"):
            left_out = True
            continue
        found += schema_errors(data)
    if left_out:  # a case the schema could judge is left out only if YAML cannot read it
        unreadable = any(c.startswith("yaml-") or c in _UNREADABLE for c in codes)
        assert unreadable or not codes & SCHEMA_CODES, codes
    elif codes & SCHEMA_CODES:
        assert found
    else:
        assert found == []


# What makes a file unreadable to an editor's YAML parser, besides YAML's own codes.
_UNREADABLE = {"not-utf8", "file-unreadable", "source-not-a-file", "key-not-text"}


BASE: dict[str, Any] = {
    "role": "MLOps Engineer",
    "description": "Runs models",
    "deck": "Interview Questions::MLOps",
    "questions": [
        {
            "id": "drift-1",
            "difficulty": "easy",
            "question": "What is drift?",
            "answer": "Change.",
            "key_points": ["the inputs shift", "the model's accuracy falls"],
            "hint": "Think about what moves.",
            "follow_ups": ["How do you detect it?"],
            "reverse": True,
            "tags": ["monitoring", "ci-cd"],
            "guid": "a1B2c3D4e5",
        }
    ],
}


def _set(where: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        (doc if where == "top" else doc["questions"][0])[key] = value

    return mutate


def _drop(where: str, key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        del (doc if where == "top" else doc["questions"][0])[key]

    return mutate


VALUES = ["", "  ", 42, True, None, [], ["x"], {"a": "b"}, "text", "Two Words", "a-1"]
MUTATIONS = [
    *((f"top.{k}={v!r}", _set("top", k, v)) for k in TOP_KEYS for v in VALUES),
    *((f"q.{k}={v!r}", _set("q", k, v)) for k in QUESTION_KEYS for v in VALUES),
    *((f"drop top.{k}", _drop("top", k)) for k in TOP_KEYS),
    *((f"drop q.{k}", _drop("q", k)) for k in QUESTION_KEYS),
    *(
        (f"{where}.{k}={v!r}", _set(where, k, v))
        for where, k, v in [
            ("top", "extra", "x"),
            ("q", "anwser", "x"),
            ("q", "difficulty", "Easy"),
            ("q", "difficulty", "hard"),
            ("q", "id", "a--b"),
            ("q", "id", "-a"),
            ("q", "id", "a1-b2"),
            ("q", "tags", ["a", "a"]),
            ("q", "tags", ["Bad"]),
            ("q", "tags", [1]),
            ("q", "guid", "has space"),
            ("q", "guid", "x" * 65),
            ("q", "key_points", ["a", "a"]),
            ("q", "key_points", ["a", 1]),
            ("q", "key_points", ["a", ""]),
            ("q", "follow_ups", ["Why?", "Why?"]),
            ("q", "follow_ups", [["nested"]]),
            ("q", "reverse", False),
            ("q", "reverse", "true"),
            ("q", "keypoints", ["a"]),
            ("q", "follow-ups", ["a"]),
            ("top", "deck", "A::::B"),
            ("top", "deck", "::A"),
            ("top", "deck", "A:: "),
            ("top", "deck", "A::B::C"),
            ("top", "role", "Ingénieur données"),
            ("top", "questions", []),
            ("top", "questions", ["not a mapping"]),
        ]
    ),
]


@pytest.mark.parametrize("mutate", [m for _, m in MUTATIONS], ids=[n for n, _ in MUTATIONS])
def test_schema_and_loader_agree(mutate: Callable[[dict[str, Any]], None], tmp_path: Path) -> None:
    """For a valid file changed in one key (removed, emptied, of another type, or a near
    miss), the loader and the schema accept or refuse it alike."""
    doc = copy.deepcopy(BASE)
    mutate(doc)
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    try:
        load_bank(discover([str(path)]))
        loader_ok = True
    except ContentErrors:
        loader_ok = False
    assert (schema_errors(doc) == []) == loader_ok


def test_patterns_mean_the_same_in_every_editor() -> None:
    """Schema patterns are ECMAScript in editors (ajv, VS Code): none uses a class whose
    meaning differs from Python's (\\w, \\d, \\b are ASCII-only there), so a Cyrillic or
    CJK role is not flagged in an editor while validate accepts it."""
    text = json.dumps(SCHEMA)
    for shorthand in ("\\\\w", "\\\\W", "\\\\d", "\\\\D", "\\\\b"):
        assert shorthand not in text
    role = {**BASE, "role": "Инженер данных"}
    assert schema_errors(role) == []


def test_the_ascii_shortcut_finds_what_the_character_class_finds() -> None:
    """``forbidden_char`` answers ASCII text from its bytes: for every character (and in
    mixed text), the same answer as the full class."""
    import re

    from exporter.content.model import FORBIDDEN_CHARS, forbidden_char

    def slow(text: str) -> str | None:
        match = FORBIDDEN_CHARS.search(text)
        return f"U+{ord(match.group()):04X}" if match else None

    samples = [f"a{chr(c)}b\n\tc" for c in range(0x250)] + ["", "plain", "\x7f", "é\x01"]
    samples += [chr(0xD800) + "x", "x\ufffe", "tab\there\r", re.escape("a+b")]
    for text in samples:
        assert forbidden_char(text) == slow(text), repr(text)
