"""Issue 2: the shipped bank builds into a package that a real Anki collection imports."""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import CONTENT, EPOCH, ROOT, SOURCE_PAGE, Anki, run_cli, write


def published_questions() -> list[tuple[str, str, str]]:
    """(difficulty, question, answer) straight from the published page, parsed naively."""
    blocks = re.split(r"\n\s*Question \d+\s*\n", SOURCE_PAGE.read_text(encoding="utf-8"))[1:]
    out = []
    for block in blocks:
        head, answer = block.split("\nSample answer\n")
        lines = [line for line in head.strip().splitlines() if line.strip()]
        difficulty = lines[0].removeprefix("Difficulty: ").strip()
        out.append((difficulty, "\n".join(lines[1:]).strip(), answer.strip()))
    return out


def plain(field_html: str) -> str:
    """Card field HTML back to the text a reader sees."""
    text = re.sub(r"</p>\s*<p>", "\n\n", field_html)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def test_shipped_bank_imports_into_anki(build, anki: Anki) -> None:
    """The shipped bank becomes 10 notes in its deck, tagged and worded as published."""
    package = build(CONTENT)
    log = anki.import_package(package)
    assert len(log.new) == 10
    notes = anki.notes('deck:"Interview Questions::MLOps Engineer"')
    assert len(notes) == 10
    tags = [t for n in notes for t in n.tags]
    assert tags.count("difficulty::easy") == 2
    assert tags.count("difficulty::medium") == 5
    assert tags.count("difficulty::hard") == 3
    assert all("role::mlops-engineer" in n.tags for n in notes)
    published = published_questions()
    assert len(published) == 10
    seen = {(n["Difficulty"], plain(n["Question"]), plain(n["Answer"])) for n in notes}
    assert seen == set(published)


def test_cards_show_question_badge_and_answer(build, anki: Anki) -> None:
    """Front: question, difficulty badge and role; back: the sample answer under its heading."""
    anki.import_package(build(CONTENT))
    note = anki.note_by_id_field("secure-ml-pipelines-model")
    card = note.cards()[0]
    front, back = card.question(), card.answer()
    assert "What steps do you take to secure ML pipelines and model serving systems?" in front
    assert re.search(r'class="iq-badge iq-hard">hard</span>', front)
    assert "MLOps Engineer" in front
    assert "Sample answer" not in front
    assert "Sample answer" in back
    assert "I treat ML security as a full pipeline concern" in back
    assert "What steps do you take to secure ML pipelines" in back


def test_note_type_fields_in_order(build, anki: Anki) -> None:
    """The note type is 'Interview Question' with the documented fields, Question sorting."""
    anki.import_package(build(CONTENT))
    (model,) = anki.notetypes()
    assert model["name"] == "Interview Question"
    assert [f["name"] for f in model["flds"]] == ["Question", "Answer", "Difficulty", "Role", "ID"]
    assert model["sortf"] == 0


def test_text_with_markup_characters_shows_literally(build, anki: Anki, tmp_path: Path) -> None:
    """'<' and '&' in content show as typed; blank lines make paragraphs."""
    src = write(
        tmp_path / "c" / "x.yaml",
        (
            "role: Tester\nquestions:\n  - id: lt-amp\n    difficulty: easy\n"
            "    question: Is 1 < 2 & 3 > 2?\n"
            "    answer: |\n      First <b>paragraph</b>.\n\n      Second & last.\n"
        ),
    )
    anki.import_package(build(src))
    (note,) = anki.notes()
    assert note["Question"] == "<p>Is 1 &lt; 2 &amp; 3 &gt; 2?</p>"
    assert note["Answer"] == "<p>First &lt;b&gt;paragraph&lt;/b&gt;.</p>\n<p>Second &amp; last.</p>"
    assert anki.col.decks.by_name("Interview Questions::Tester") is not None


def test_guid_follows_the_id_only(build, anki: Anki, tmp_path: Path) -> None:
    """Editing answer or difficulty, or moving a question to another file, keeps the GUID."""
    base = "role: R\nquestions:\n  - id: keep-me\n    difficulty: {d}\n    question: Q?\n    answer: {a}\n"
    first = build(
        write(tmp_path / "a" / "one.yaml", base.format(d="easy", a="A1")),
        output=tmp_path / "1.apkg",
    )
    edited = build(
        write(tmp_path / "b" / "other-name.yaml", base.format(d="hard", a="A2")),
        output=tmp_path / "2.apkg",
    )
    renamed = build(
        write(
            tmp_path / "c" / "one.yaml", base.replace("keep-me", "new-id").format(d="easy", a="A1")
        ),
        output=tmp_path / "3.apkg",
    )
    guids = []
    for package in (first, edited, renamed):
        other = Anki(tmp_path / f"col-{package.stem}.anki2")
        other.import_package(package)
        (note,) = other.notes()
        guids.append(note.guid)
        other.close()
    assert guids[0] == guids[1]
    assert guids[2] != guids[0]


def test_validate_reports_typo_at_file_and_line(tmp_path: Path) -> None:
    """A misspelt key is reported as PATH:LINE with a hint, exit 1."""
    src = write(
        tmp_path / "bad.yaml",
        (
            "role: R\nquestions:\n  - id: one\n    difficulty: easy\n    question: Q?\n    anwser: A\n"
        ),
    )
    result = run_cli(["validate", str(src)])
    assert result.exit_code == 1
    assert f"{src}:6: unknown key 'anwser' in a question: did you mean 'answer'?" in result.stderr
    assert "missing required key 'answer'" in result.stderr


def _build_in(
    checkout: Path, tmpdir: Path, env_extra: dict[str, str], cwd: Path, sources: list[str]
) -> bytes:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH), "TMPDIR": str(tmpdir), **env_extra}
    out = checkout / "dist" / "x.apkg"
    subprocess.run(
        [sys.executable, "-m", "exporter", "build", *sources, "-o", str(out)],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def test_byte_identical_across_machines(tmp_path: Path) -> None:
    """Same content + SOURCE_DATE_EPOCH: same bytes under any TZ, hash seed, cwd, path, order."""
    digests = []
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    setups = [
        ({"TZ": "UTC", "PYTHONHASHSEED": "1", "LC_ALL": "C"}, "checkout-a", False),
        (
            {"TZ": "Asia/Kathmandu", "PYTHONHASHSEED": "987", "LC_ALL": "C.UTF-8"},
            "deep/other",
            True,
        ),
    ]
    for env, name, reverse in setups:
        checkout = tmp_path / name
        shutil.copytree(CONTENT, checkout / "content")
        write(
            checkout / "content" / "extra" / "zz.yml",
            "role: Extra\nquestions:\n  - id: extra-one\n    difficulty: hard\n"
            "    question: Why?\n    answer: Because.\n",
        )
        sources = [
            str(checkout / "content" / "extra"),
            str(checkout / "content" / "mlops-engineer.yaml"),
        ]
        if reverse:
            sources.reverse()
        cwd = checkout if reverse else tmp_path
        digests.append(hashlib.sha256(_build_in(checkout, tmpdir, env, cwd, sources)).hexdigest())
    assert digests[0] == digests[1]
    assert list(tmpdir.iterdir()) == []


def test_python_dash_m_and_console_script_agree(tmp_path: Path) -> None:
    """`python -m exporter` is the same program as `interview-deck`."""
    out = subprocess.run(
        [sys.executable, "-m", "exporter", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.startswith("interview-deck, version ")
    script = Path(sys.executable).with_name("interview-deck")
    assert script.exists()
    out2 = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert out2.stdout == out.stdout


def test_build_prints_counts_per_deck_and_difficulty(tmp_path: Path) -> None:
    """build says what it wrote: notes per deck and per difficulty."""
    out = tmp_path / "d" / "deck.apkg"
    result = run_cli(["build", str(CONTENT), "-o", str(out)], env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert result.exit_code == 0
    assert f"Wrote {out} (10 notes" in result.stdout
    assert (
        "Interview Questions::MLOps Engineer: 10 notes (2 easy, 5 medium, 3 hard)" in result.stdout
    )
    assert out.exists()
    assert out.with_name("deck.lock.json").exists()
