"""Writing content files (what `import-text` and the tests' bank factory use): any text a card
can hold is written as YAML that loads back to exactly that text."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exporter.authoring.yamlwrite import dump_role_file
from exporter.content.load import load_file
from exporter.content.model import FORBIDDEN_CHARS, Question, RoleFile, default_deck, slugify
from exporter.content.sources import SourceFile
from exporter.markup.markdown import scan

# Any text a card can hold (what the loader accepts), awkward YAML characters made likely.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("#:-|>'\"!&*?{}[],% \n\t@`\\\u2028\u2029\ufeff\u00a0")),
        st.characters(blacklist_categories=["Cs"]),
    ),
    min_size=1,
    max_size=60,
).filter(lambda t: t.strip() != "" and not FORBIDDEN_CHARS.search(t))


@settings(max_examples=300, deadline=None)
@given(
    role=TEXT.filter(lambda r: slugify(r.strip()) != ""),
    description=TEXT,
    question=TEXT,
    answer=TEXT,
)
def test_dumped_role_loads_back_unchanged(
    role: str, description: str, question: str, answer: str
) -> None:
    """Whatever the text, the emitted YAML parses to the same role and question text."""
    # Text the loader refuses for its Markdown (an unclosed \\[ …) is not this test's case.
    assume(not scan(question).problems and not scan(answer).problems)
    original = RoleFile(
        display_path="x.yaml",
        role=role.strip(),
        deck=default_deck(role.strip()),
        description=description.strip(),
        questions=(Question("some-id", "hard", question, answer, ("a-tag",), 0),),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.yaml"
        path.write_text(dump_role_file(original), encoding="utf-8")
        result = load_file(SourceFile(path, "x.yaml"))
        loaded, errors = result.role_file, list(result.errors)
    assert errors == []
    assert loaded is not None
    assert (loaded.role, loaded.description) == (original.role, original.description)
    (q,) = loaded.questions
    assert (q.id, q.difficulty, q.question, q.answer, q.tags) == (
        "some-id",
        "hard",
        question,
        answer,
        ("a-tag",),
    )
