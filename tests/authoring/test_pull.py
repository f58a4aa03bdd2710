"""`pull`: edits made in Anki come back into the YAML bank. Real Anki both ways: build,
import, edit as a user would, export with Anki's own exporter (zstd and legacy, .apkg and
.colpkg), pull, apply, build, re-import: no note added, the user's text shown, reviews kept."""

from __future__ import annotations

import html
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from exporter.authoring.html_to_markdown import html_to_markdown
from exporter.content.model import DIFFICULTIES, Question
from exporter.markup.markdown import to_html
from helpers import (
    DECK,
    EPOCH,
    ROOT,
    TARGET,
    Anki,
    add_own_note,
    bank_counts,
    build_deck,
    built_and_imported,
    copy_content,
    examples,
    export,
    make_bank,
    question,
    question_line,
    review_some,
    run_cli,
    scheduling,
    write,
)
from strategies import SLUG, TEXT

EDITED_AT = EPOCH + 3600  # the user's edits in Anki: after the first build
REBUILT_AT = EPOCH + 7200  # the build after pull: newer still, so Anki updates the notes
EDITOR_ANSWER = (
    "<div>I watch <b>latency</b>&nbsp;and <i>drift</i>.</div>"
    '<div><span style="color: rgb(0, 0, 0);">Then I page the owner.</span><br></div>'
    "<ul><li>alerts</li><li>dashboards</li></ul>"
)
PULLED_ANSWER = "I watch **latency** and *drift*.\nThen I page the owner.\n\n- alerts\n- dashboards"


def edit(anki: Anki, note: Any, at: int) -> None:
    """Save a note as Anki's editor would, then pin its mod time to ``at``."""
    anki.col.update_note(note)
    anki.col.db.execute("update notes set mod=? where id=?", at, note.id)


def retag(note: Any, difficulty: str, *extra: str) -> None:
    note.tags = [t for t in note.tags if not t.startswith("difficulty::")]
    note.tags += [f"difficulty::{difficulty}", *extra]


def pull(*args: str | Path, package: Path) -> Any:
    return run_cli(["pull", *args, "--output", package])


def user_edits(anki: Anki) -> None:
    """What a user does on the phone: rewrite an answer (the follow-up questions the
    editor shows after it stay), move a question to another difficulty with a tag of their
    own, and write a question of their own."""
    note = anki.note_by_id_field(TARGET)
    follow_ups = note["Answer"].find('<div class="iq-follow-ups">')
    note["Answer"] = EDITOR_ANSWER + ("\n" + note["Answer"][follow_ups:] if follow_ups >= 0 else "")
    retag(note, "hard", "Personal")
    edit(anki, note, EDITED_AT)
    model = anki.col.models.by_name("Interview Question")
    new = anki.col.new_note(model)
    new["Question"] = "How do you <b>roll back</b> a model?"
    new["Answer"] = "<div>Keep the previous version deployed.</div>"
    new.tags = ["difficulty::easy"]
    anki.col.add_note(new, anki.col.decks.id_for_name(DECK))
    anki.col.db.execute("update notes set mod=? where id=?", EDITED_AT, new.id)


@pytest.mark.parametrize(
    ("name", "legacy"),
    [
        ("export.apkg", False),
        pytest.param("export.apkg", True, marks=pytest.mark.slow),
        pytest.param("collection.colpkg", False, marks=pytest.mark.slow),
    ],
)
def test_pull_apply_build_reimport_round_trip(
    tmp_path: Path, anki: Anki, name: str, legacy: bool
) -> None:
    """Edits made in Anki come home: pull shows exactly them, --apply changes only their
    lines (comments kept), and the next build re-imports with no note added, the user's
    text shown and every review kept; a second pull finds nothing."""
    content = copy_content(tmp_path)
    bank = content / "mlops-engineer.yaml"
    bank.write_text("# team bank: keep this comment\n" + bank.read_text("utf-8"), "utf-8")
    package = build_deck(content, output=tmp_path / "dist" / "deck.apkg").output
    anki.import_package(package)
    review_some(anki, 3)
    built = anki.note_by_id_field(TARGET)["Answer"]
    follow_ups = built[built.index('<div class="iq-follow-ups">') :]  # as the build made them
    user_edits(anki)
    exported = export(anki, tmp_path / name, legacy=legacy)
    before = bank.read_text("utf-8")

    shown = pull(exported, content, package=package)
    assert shown.exit_code == 1
    line = question_line(bank, TARGET)
    assert f":{line}: '{TARGET}': answer, difficulty, tags edited in Anki\n" in shown.stdout
    assert "+    difficulty: hard\n" in shown.stdout
    assert "+    tags: [personal]\n" in shown.stdout
    assert "new in Anki: note " in shown.stdout
    assert "as 'roll-back-model'" in shown.stdout
    assert "1 question edited in Anki, 0 conflicts, 1 new note." in shown.stdout
    assert bank.read_text("utf-8") == before  # nothing written without --apply

    applied = pull(exported, content, "--apply", "--add-new", package=package)
    assert applied.exit_code == 0, applied.stderr
    assert "(1 question changed, 1 added)" in applied.stdout
    after = bank.read_text("utf-8")
    old_lines, new_lines = before.split("\n"), after.split("\n")
    at = old_lines.index(f"  - id: {TARGET}")
    assert old_lines[:at] == new_lines[:at]  # the comment and everything above: untouched
    end = next(i for i in range(at + 1, len(old_lines)) if old_lines[i].startswith("  - id: "))
    assert new_lines[at + 1] == "    difficulty: hard"
    assert new_lines[at + 2 : at + 4] == old_lines[at + 2 : at + 4]  # question, 'answer: |-'
    answer = "\n".join(new_lines[at + 4 : at + 9])
    assert answer == "\n".join(
        "      " + line if line else "" for line in PULLED_ANSWER.split("\n")
    )
    kept = old_lines[at + 5 : end]  # its key points, hint and follow-ups: untouched
    assert kept[0] == "    key_points:"
    assert new_lines[at + 9 : at + 9 + len(kept)] == kept
    tags = at + 9 + len(kept)
    assert new_lines[tags] == "    tags: [personal]"
    rest = old_lines[end:-1]  # every later question, byte for byte
    assert new_lines[tags + 1 : tags + 1 + len(rest)] == rest
    assert "  - id: roll-back-model\n" in after
    assert "    question: How do you **roll back** a model?\n" in after

    cards_before, revlog_before = scheduling(anki)
    rebuilt = build_deck(content, output=package, epoch=REBUILT_AT)
    notes = bank_counts().notes + 1  # the shipped bank's and the user's own
    assert f"({notes} notes, " in rebuilt.stdout
    anki.import_package(package)
    assert len(anki.notes()) == notes  # no duplicate of the user's own note
    cards_after, revlog_after = scheduling(anki)
    assert revlog_after == revlog_before
    assert [c[:2] for c in cards_after] == [c[:2] for c in cards_before]
    note = anki.note_by_id_field(TARGET)
    # our HTML for what the user wrote, the follow-ups after it as before
    assert note["Answer"] == to_html(PULLED_ANSWER) + "\n" + follow_ups
    # Anki keeps the case a tag already has in the collection ('Personal'): tags are
    # case-insensitive there, and pull writes them in lowercase.
    assert {"difficulty::hard", "personal"} <= {t.lower() for t in note.tags}
    new = anki.note_by_id_field("roll-back-model")
    assert new["Question"] == "<p>How do you <strong>roll back</strong> a model?</p>"

    again = pull(export(anki, tmp_path / ("2" + name), legacy=legacy), content, package=package)
    assert again.exit_code == 0, again.stdout
    assert "Nothing to pull" in again.stdout


def test_unedited_export_has_nothing_to_pull(tmp_path: Path, anki: Anki) -> None:
    """An export of notes nobody edited (without scheduling too) pulls nothing, exit 0."""
    content = copy_content(tmp_path)
    package = built_and_imported(content, tmp_path, anki)
    exported = export(anki, tmp_path / "plain.apkg", scheduling=False)
    result = pull(exported, content, package=package)
    assert result.exit_code == 0
    assert result.stdout == f"Nothing to pull: {exported} holds what SOURCES build.\n"


def test_rich_content_comes_back_exactly(tmp_path: Path, anki: Anki) -> None:
    """An edit next to math, highlighted code and an image brings them back as $…$, a
    fence with its language and ![alt](the original path); only the edited words change."""
    example = ROOT / "docs" / "examples" / "ml-monitoring"
    folder = tmp_path / "rich"
    shutil.copytree(example, folder)
    bank = folder / "ml-engineer.yaml"
    package = build_deck(folder, output=tmp_path / "rich.apkg").output
    anki.import_package(package)
    (note,) = anki.notes()
    note["Answer"] = note["Answer"].replace("Run it daily per feature", "Run it hourly per feature")
    edit(anki, note, EDITED_AT)
    result = pull(export(anki, tmp_path / "x.apkg"), folder, "--apply", package=package)
    assert result.exit_code == 0, result.stderr
    text = bank.read_text("utf-8")
    assert "Run it hourly per feature" in text
    assert "$$PSI = \\sum_{i=1}^{k} (a_i - e_i) \\ln \\frac{a_i}{e_i}$$" in text
    assert "```python\n      import numpy as np\n" in text
    assert (
        "![Drift monitor: baseline and live histograms feed a daily PSI job that pages or logs](diagrams/drift-monitor.svg)"
        in text
    )
    rebuilt = build_deck(folder, output=package, epoch=REBUILT_AT)
    assert rebuilt.status == "written"
    anki.import_package(package)
    (after,) = anki.notes()
    assert after["Answer"] == note["Answer"]  # byte for byte what the user's edit shows


def test_conflict_is_shown_and_needs_a_side(tmp_path: Path, anki: Anki) -> None:
    """A question changed in the YAML since the build and in Anki: both shown, neither
    changed, exit 1; --prefer yaml keeps the YAML, --prefer anki takes Anki's."""
    content = make_bank(tmp_path / "c", [question("one"), question("two")]).parent
    package = built_and_imported(content, tmp_path, anki)
    note = anki.note_by_id_field("one")
    note["Answer"] = "Anki's answer."
    edit(anki, note, EDITED_AT)
    bank = content / "bank.yaml"
    bank.write_text(bank.read_text("utf-8").replace("one.", "YAML's answer."), "utf-8")
    exported = export(anki, tmp_path / "x.apkg")
    before = bank.read_text("utf-8")

    shown = pull(exported, content, "--apply", package=package)
    assert shown.exit_code == 1
    assert "CONFLICT " in shown.stdout
    assert "choose with --prefer anki|yaml" in shown.stdout
    assert "-      YAML's answer.\n+      Anki's answer.\n" in shown.stdout
    assert "1 conflict left as they are" in shown.stderr
    assert bank.read_text("utf-8") == before

    kept = pull(exported, content, "--apply", "--prefer", "yaml", package=package)
    assert kept.exit_code == 0
    assert bank.read_text("utf-8") == before
    taken = pull(exported, content, "--apply", "--prefer", "anki", package=package)
    assert taken.exit_code == 0
    assert "Anki's answer." in bank.read_text("utf-8")


def test_a_copy_from_an_older_build_is_a_conflict_not_a_revert(tmp_path: Path, anki: Anki) -> None:
    """A collection that imported an older build (its note older than the last build's)
    never silently reverts the YAML: the difference is a conflict."""
    content = make_bank(tmp_path / "c", [question("one")]).parent
    package = built_and_imported(content, tmp_path, anki)
    bank = content / "bank.yaml"
    bank.write_text(bank.read_text("utf-8").replace("one.", "Newer answer."), "utf-8")
    build_deck(content, output=package, epoch=EPOCH + 60)
    result = pull(export(anki, tmp_path / "x.apkg"), content, package=package)
    assert result.exit_code == 1
    assert "CONFLICT " in result.stdout


def test_yaml_edits_not_built_yet_are_not_pulled(tmp_path: Path, anki: Anki) -> None:
    """A note untouched in Anki (its mod is the build's) never pulls the old text back over
    a newer YAML."""
    content = make_bank(tmp_path / "c", [question("one")]).parent
    package = built_and_imported(content, tmp_path, anki)
    bank = content / "bank.yaml"
    bank.write_text(bank.read_text("utf-8").replace("one.", "Newer answer."), "utf-8")
    result = pull(export(anki, tmp_path / "x.apkg"), content, package=package)
    assert result.exit_code == 0
    assert "Nothing to pull" in result.stdout


def _export_with(tmp_path: Path, anki: Anki, change: Any) -> tuple[Path, Path, Path, bytes]:
    content = make_bank(tmp_path / "c", [question("one"), question("two")]).parent
    package = built_and_imported(content, tmp_path, anki)
    change(anki)
    bank = content / "bank.yaml"
    return export(anki, tmp_path / "x.apkg"), content, package, bank.read_bytes()


def _set_field(qid: str, name: str, value: str) -> Any:
    def change(anki: Anki) -> None:
        note = anki.note_by_id_field(qid)
        note[name] = value
        edit(anki, note, EDITED_AT)

    return change


def _raw_field(qid: str, index: int, value: str) -> Any:
    """Write a field as another tool might, past the editor (which drops control characters)."""

    def change(anki: Anki) -> None:
        note = anki.note_by_id_field(qid)
        fields = list(note.fields)
        fields[index] = value
        anki.col.db.execute(
            "update notes set flds=?, mod=? where id=?", "\x1f".join(fields), EDITED_AT, note.id
        )

    return change


def _copy_note(anki: Anki) -> None:
    model = anki.col.models.by_name("Interview Question")
    twin = anki.col.new_note(model)
    for name in ("Question", "Answer", "ID"):
        twin[name] = anki.note_by_id_field("one")[name]
    anki.col.add_note(twin, anki.col.decks.id_for_name("Interview Questions::Tester"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set_field("one", "ID", "Not An Id"), "its ID 'Not An Id' is not a valid id"),
        (_copy_note, "are both question 'one'; delete one of them in Anki"),
        (
            _raw_field("two", 1, "bell \x07 here"),
            "bank.yaml:8: the Anki note's answer contains the control character U+0007",
        ),
        (
            _set_field("one", "Answer", '<img src="paste-123.png">'),
            "bank.yaml:3: the Anki note's answer: image 'paste-123.png' does not map",
        ),
    ],
    ids=["invalid-id", "two-notes-one-id", "control-character", "image-made-in-anki"],
)
def test_bad_notes_are_one_line_each_and_nothing_is_written(
    tmp_path: Path, anki: Anki, change: Any, message: str
) -> None:
    """A note that cannot come back is one line at its place (the export's note, or the
    question's PATH:LINE), exit 1, and no file changes."""
    exported, content, package, before = _export_with(tmp_path, anki, change)
    result = pull(exported, content, "--apply", package=package)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[1] == "1 problem found."
    assert message in lines[0]
    assert (content / "bank.yaml").read_bytes() == before


@pytest.mark.parametrize("kind", ["no-notes-of-ours", "corrupt", "not-a-zip", "missing"])
def test_unreadable_exports_are_one_line(tmp_path: Path, kind: str) -> None:
    """An export without our notes, a damaged one or no file at all: `error: …`, exit 1."""
    import genanki

    content = make_bank(tmp_path / "c").parent
    path = tmp_path / f"{kind}.apkg"
    if kind == "no-notes-of-ours":
        model = genanki.Model(
            1,
            "Basic",
            fields=[{"name": "Front"}, {"name": "Back"}],
            templates=[{"name": "C", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
        )
        deck = genanki.Deck(2, "Other")
        deck.add_note(genanki.Note(model=model, fields=["q", "a"]))
        genanki.Package(deck).write_to_file(str(path), timestamp=EPOCH)
    elif kind == "corrupt":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("collection.anki21b", b"\x28\xb5\x2f\xfd garbage")
    elif kind == "not-a-zip":
        path.write_bytes(b"not a zip at all")
    result = pull(path, content, package=tmp_path / "deck.apkg")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: ")
    assert len(result.stderr.splitlines()) == 1
    if kind == "no-notes-of-ours":
        assert "holds no notes of the 'Interview Question' note type" in result.stderr


def test_new_note_in_an_unknown_deck_is_listed_not_added(tmp_path: Path, anki: Anki) -> None:
    """A note of ours in a deck no content file builds is listed with the reason."""
    content = make_bank(tmp_path / "c").parent
    package = built_and_imported(content, tmp_path, anki)
    add_own_note(anki, "Default")
    result = pull(
        export(anki, tmp_path / "x.apkg"), content, "--apply", "--add-new", package=package
    )
    assert "cannot be added: its deck 'Default' is built by no content file" in result.stdout
    assert "Nothing written." in result.stdout


def test_pull_without_history_and_unknown_ids(tmp_path: Path, anki: Anki) -> None:
    """Without a build history an edit is pulled (and the limit said); a note whose id is
    not in SOURCES is named, not pulled."""
    content = make_bank(tmp_path / "c", [question("one"), question("two")]).parent
    built_and_imported(content, tmp_path, anki)
    note = anki.note_by_id_field("one")
    note["Answer"] = "Mine."
    edit(anki, note, EDITED_AT)
    only_two = make_bank(tmp_path / "d", [question("two")]).parent
    result = pull(export(anki, tmp_path / "x.apkg"), only_two, package=tmp_path / "none.apkg")
    assert result.exit_code == 0
    assert "its ID 'one' is not a question of SOURCES" in result.stderr
    assert "no build history next to the package" in result.stderr


def test_add_new_without_apply_writes_nothing(tmp_path: Path, anki: Anki) -> None:
    """--add-new alone only lists the new notes: nothing is written."""
    content = make_bank(tmp_path / "c").parent
    package = built_and_imported(content, tmp_path, anki)
    add_own_note(anki, "Interview Questions::Tester", tags=["difficulty::hard"])
    before = (content / "bank.yaml").read_bytes()
    result = pull(export(anki, tmp_path / "x.apkg"), content, "--add-new", package=package)
    assert result.exit_code == 1
    assert "as 'mine'" in result.stdout
    assert (content / "bank.yaml").read_bytes() == before


@pytest.mark.parametrize(
    ("editor_html", "markdown"),
    [
        ("<div>a&nbsp;b</div><div><br></div><div>c</div>", "a b\n\nc"),
        ("x <u>y</u> <font color=red>z</font>", "x y z"),
        ("<ol><li>one</li><li>two</li></ol>", "1. one\n2. two"),
        (
            "<div>1. not a list</div><div># not a heading</div>",
            "1\\. not a list\n\\# not a heading",
        ),
        ("costs $5 * 2_000 `x` [a](b)", "costs $5 * 2_000 \\`x` &#91;a](b)"),
        ("\\(x_1\\) and \\(a \\)5", "$x_1$ and \\(a \\)5"),
        ('<a href="https://x.org">site</a>', "[site](https://x.org)"),
    ],
)
def test_editor_html_becomes_house_markdown(editor_html: str, markdown: str) -> None:
    """The editor's HTML turns into Markdown that reads back as the same text."""
    converted = html_to_markdown(editor_html, lambda src, path: path)
    assert converted.markdown == markdown
    assert not converted.problems


def test_guid_key_is_checked(tmp_path: Path) -> None:
    """A bad or shared `guid` is a PATH:LINE error."""
    bank = write(
        tmp_path / "c" / "bank.yaml",
        "role: Tester\nquestions:\n"
        "  - id: one\n    guid: has space\n    difficulty: easy\n    question: q\n    answer: a\n"
        "  - id: two\n    guid: abc\n    difficulty: easy\n    question: q\n    answer: a\n"
        "  - id: three\n    guid: abc\n    difficulty: easy\n    question: q\n    answer: a\n",
    )
    result = run_cli(["validate", bank])
    assert result.exit_code == 1
    assert "bank.yaml:4: guid 'has space' must be an Anki note GUID" in result.stderr
    bank.write_text(bank.read_text("utf-8").replace("    guid: has space\n", ""), "utf-8")
    result = run_cli(["validate", bank])
    assert "bank.yaml:12: guid 'abc' is also the note of question 'two'" in result.stderr


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PIECES = st.sampled_from(
    [
        "plain words",
        "**bold** and *italic*",
        "`inline code`",
        "$x^2 + y_1$",
        "\\(a < b \\& c\\)",
        "$$\\sum_{i=1}^{n} a_i$$",
        "\n\n$$\nE = mc^2\n$$\n\n",
        "\n\n```python\ndef f(x):\n    return x * 2  # \\(no math\\)\n```\n\n",
        "\n\n```\nplain fence\n```\n\n",
        "![a diagram](img/dot.png)",
        "\n\n- one\n- two\n\n",
        "\n\n1. first\n2. second\n\n",
        "costs $5 and $10",
        "<b>not html</b> & more",
        "[a link](https://example.com)",
        "\n",
        "\n\n",
    ]
)
RICH = (
    st.lists(st.one_of(PIECES, TEXT), min_size=1, max_size=6)
    .map(" ".join)
    .filter(lambda t: t.strip() != "")
)


@st.composite
def rich_banks(draw: Any) -> list[Question]:
    """Questions whose texts mix Markdown, math, code, images and arbitrary characters."""
    ids = draw(st.lists(SLUG, min_size=1, max_size=4, unique=True))
    return [
        question(
            qid,
            draw(st.sampled_from(DIFFICULTIES)),
            text=draw(RICH),
            answer=draw(RICH),
            tags=draw(st.lists(SLUG, max_size=2, unique=True)),
        )
        for qid in ids
    ]


@settings(max_examples=examples(20), deadline=None)
@given(rich_banks())
def test_any_bank_built_imported_exported_pulls_nothing(questions: list[Question]) -> None:
    """Any valid bank (Markdown, math, code, images), built, imported into Anki, exported
    by Anki and pulled, gives 'nothing to pull'."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root / "c" / "img" / "dot.png", "")
        (root / "c" / "img" / "dot.png").write_bytes(PNG)
        content = make_bank(root / "c", questions).parent
        built = build_deck(content, output=root / "deck.apkg", expect=None)
        event("built" if not built.exit_code else "invalid")
        if built.exit_code:  # e.g. an unclosed "\(" drawn from TEXT: not a valid bank
            assert "problem" in built.stderr
            return
        anki = Anki(root / "collection.anki2")
        try:
            anki.import_package(built.output)
            exported = export(anki, root / "x.apkg", legacy=len(questions) % 2 == 0)
        finally:
            anki.close()
        result = pull(exported, content, package=built.output)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "Nothing to pull" in result.stdout


@settings(max_examples=examples(150), deadline=None)
@given(RICH)
@example("# plain words # #")  # a heading ending in '#': not a closing sequence on the way back
def test_our_html_converts_to_markdown_that_shows_the_same(text: str) -> None:
    """Any text's card HTML, turned back into Markdown (as an edited field is), shows the
    same text, math, code and images: an edit elsewhere in a field leaves them intact. (Runs
    of spaces, which HTML collapses, and a loose list's spacing may differ.)"""
    media = {"img/dot.png": "dot-0123456789abcdef.png"}
    rendered = to_html(text, media)
    converted = html_to_markdown(rendered, lambda src, path: path if path in media else None)
    assert not converted.problems
    assert _shown(to_html(converted.markdown, converted.images)) == _shown(rendered)


def _shown(field_html: str) -> str:
    """What a card shows of a field: its text (images by their attributes), spaces collapsed."""
    text = re.sub(r"<img ([^>]*)>", r" [img \1] ", field_html)
    text = re.sub(r"<[^>]*>", " ", text)
    return " ".join(html.unescape(text).split())


def test_odd_tags_and_difficulties_are_warned_not_pulled(tmp_path: Path, anki: Anki) -> None:
    """A tag that is not a slug and an unknown difficulty tag are warnings at the question;
    a new note without a difficulty is listed with the reason; one whose Difficulty field
    says it is added with it."""
    content = make_bank(tmp_path / "c", [question("one")]).parent
    package = built_and_imported(content, tmp_path, anki)
    note = anki.note_by_id_field("one")
    retag(note, "impossible", "ML::Ops", "marked", "Extra")
    edit(anki, note, EDITED_AT)
    model = anki.col.models.by_name("Interview Question")
    deck = anki.col.decks.id_for_name("Interview Questions::Tester")
    for text, level in (("No level?", ""), ("Field level?", "hard")):
        new = anki.col.new_note(model)
        new["Question"], new["Answer"], new["Difficulty"] = text, "Yes.", level
        anki.col.add_note(new, deck)
    result = pull(export(anki, tmp_path / "x.apkg"), content, package=package)
    assert "bank.yaml:3: tag 'ML::Ops' of the Anki note is not a slug" in result.stderr
    assert "difficulty tags (impossible) are not one of easy, medium, hard" in result.stderr
    assert "+    tags: [extra]" in result.stdout
    assert "cannot be added: it has no difficulty" in result.stdout
    assert "as 'field-level'" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "role: R\nquestions:\n  - {id: one, difficulty: easy, question: q, answer: a}\n",
            "flow style",
        ),
        (
            "role: R\nquestions: [{id: one, difficulty: easy, question: q, answer: a}]\n",
            "flow style",
        ),
        ("role: [\n", "no longer loads"),
        ("role: R\nquestions: none\n", "no list of questions"),
    ],
)
def test_splice_refuses_what_it_cannot_edit_safely(text: str, message: str) -> None:
    """A file in flow style, or one that does not load, is refused with a one-line reason."""
    from exporter.authoring.yamlwrite import splice
    from exporter.errors import OutputError

    new = question("one", answer="b")
    with pytest.raises(OutputError, match=message):
        splice(text, "f.yaml", {"one": new}, (question("two"),))


def test_splice_keeps_comments_and_block_tags() -> None:
    """A plain value that becomes a block keeps its comment on the header; block-style tags
    are replaced; other lines stay byte for byte."""
    from exporter.authoring.yamlwrite import splice

    text = (
        "role: R  # the role\nquestions:\n  - id: one\n    difficulty: easy\n"
        "    question: q  # short\n    answer: a\n    tags:\n      - x\n  # between\n"
        "  - id: two\n    difficulty: easy\n    question: q2\n    answer: a2\n"
    )
    new = question("one", text="line 1\nline 2", answer="a", tags=["y"])
    out = splice(text, "f.yaml", {"one": new}, ())
    assert "    question: |-  # short\n      line 1\n      line 2\n" in out
    assert "    tags:\n      - y\n  # between\n  - id: two\n" in out
    assert out.startswith("role: R  # the role\n")


def test_splice_keeps_windows_line_endings() -> None:
    """In a file with CRLF endings, the lines a pull writes end in CRLF too."""
    from exporter.authoring.yamlwrite import splice

    text = (
        "role: R\r\nquestions:\r\n  - id: one\r\n    difficulty: easy\r\n"
        "    question: q\r\n    answer: |-\r\n      a\r\n\r\n      b\r\n"
    )
    new = question("one", text="q", answer="edited\n\nagain")
    out = splice(text, "f.yaml", {"one": new}, [question("two", text="new q", answer="n")])
    assert "\n" not in out.replace("\r\n", "")
    assert "      edited\r\n\r\n      again\r\n" in out
