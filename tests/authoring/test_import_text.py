"""`import-text`: a published question page becomes a content file (the shipped one,
exactly, but for the key points, hints and follow-ups written there by hand), merges into
an existing file keeping ids and tags, and a page that does not fit the format, or could
not make a valid file, is reported at PAGE:LINE with nothing written."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from helpers import CONTENT, SOURCE_PAGE, run_cli, write

SHIPPED = CONTENT / "mlops-engineer.yaml"


def import_text(page: Path, *extra: str) -> Result:
    """Run `import-text PAGE EXTRA...` in-process."""
    return run_cli(["import-text", str(page), *extra])


TRAINING_KEYS = tuple(f"    {key}:" for key in ("key_points", "hint", "follow_ups", "reverse"))


def without_training_keys(text: str) -> str:
    """A bank in the house layout without its questions' key points, hints, follow-ups and
    reverse switches (what a page cannot hold): each such key's line and the lines indented
    under it."""
    kept: list[str] = []
    skipping = False
    for line in text.split("\n"):
        skipping = line.startswith(TRAINING_KEYS) or (skipping and line.startswith("      "))
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def test_import_text_reproduces_the_shipped_bank(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing the kept page gives exactly content/mlops-engineer.yaml without the keys a
    page has no place for; again: no change. Imported into the shipped file itself, the
    page changes nothing, not a byte: the shipped file is in the house layout, those keys
    too."""
    shipped = SHIPPED.read_text(encoding="utf-8")
    from_page = without_training_keys(shipped)
    assert from_page.count("  - id: ") == 10
    assert "key_points" not in from_page
    assert "follow_ups" not in from_page
    assert len(from_page) < len(shipped)  # the shipped bank has them (else this proves less)
    monkeypatch.chdir(tmp_path)
    result = import_text(SOURCE_PAGE)
    assert result.exit_code == 0, result.stderr
    made = tmp_path / "content" / "mlops-engineer.yaml"
    assert made.read_text(encoding="utf-8") == from_page
    assert "10 added" in result.stdout
    stamp = made.stat().st_mtime_ns
    again = import_text(SOURCE_PAGE)
    assert again.exit_code == 0
    assert again.stdout.startswith("Unchanged: content/mlops-engineer.yaml (10 unchanged")
    assert made.read_text(encoding="utf-8") == from_page
    assert made.stat().st_mtime_ns == stamp

    made.write_bytes(SHIPPED.read_bytes())
    stamp = made.stat().st_mtime_ns
    into_shipped = import_text(SOURCE_PAGE)
    assert into_shipped.exit_code == 0, into_shipped.stderr
    assert into_shipped.stdout.startswith("Unchanged: content/mlops-engineer.yaml (10 unchanged")
    assert made.read_bytes() == SHIPPED.read_bytes()
    assert made.stat().st_mtime_ns == stamp


def _edited_page(tmp_path: Path) -> Path:
    text = SOURCE_PAGE.read_text(encoding="utf-8")
    text = text.replace("10 questions", "11 questions")
    text = text.replace("I would monitor three layers", "I would monitor FOUR layers")
    text = text.rstrip("\n") + (
        "\n\nQuestion 11\n\nDifficulty: hard\n\nHow do you roll out a model to a fleet of edge "
        "devices?\n\nSample answer\n\nIn stages.\n\nWith canaries first.\n"
    )
    return write(tmp_path / "page.txt", text)


def test_import_text_merges_into_an_existing_file(tmp_path: Path) -> None:
    """Existing ids and tags stay, edited text updates, new questions append, none removed."""
    target = tmp_path / "bank.yaml"
    # The user renamed one id and tagged it, and added a question of their own.
    own = SHIPPED.read_text(encoding="utf-8").replace(
        "  - id: monitor-deployed-model-know\n    difficulty: easy\n",
        "  - id: my-monitoring\n    difficulty: easy\n    tags: [observability]\n",
    )
    own += (
        "  - id: my-own-question\n    difficulty: easy\n    question: Mine?\n"
        "    answer: |-\n      Mine.\n    tags: [personal]\n"
    )
    write(target, own)

    result = import_text(_edited_page(tmp_path), "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert "9 unchanged, 1 updated, 1 added, 0 removed" in result.stdout
    data = run_cli(["stats", "--json", str(target)])
    assert json.loads(data.stdout)["totals"]["total"] == 12
    text = target.read_text(encoding="utf-8")
    assert "  - id: my-monitoring\n" in text
    assert "tags: [observability]" in text
    assert "I would monitor FOUR layers" in text
    assert "  - id: my-own-question\n" in text  # not on the page, kept without --prune
    assert text.rstrip().endswith("In stages.\n\n      With canaries first.")
    assert "  - id: roll-out-model-fleet\n" in text

    pruned = import_text(_edited_page(tmp_path), "-o", str(target), "--prune")
    assert "1 removed" in pruned.stdout
    assert "my-own-question" not in target.read_text(encoding="utf-8")
    assert run_cli(["validate", str(target)]).exit_code == 0


def test_import_text_keeps_a_question_guid(tmp_path: Path) -> None:
    """A question's ``guid`` (a note made in Anki, as ``pull --add-new`` writes it) survives
    an import into its file, unchanged or edited: it is the note's identity in Anki."""
    target = tmp_path / "bank.yaml"
    guid = "  - id: monitor-deployed-model-know\n    guid: 'a#b:c!d'\n    difficulty: easy\n"
    own = SHIPPED.read_text(encoding="utf-8")
    write(target, own.replace("  - id: monitor-deployed-model-know\n    difficulty: easy\n", guid))
    for page in (SOURCE_PAGE, _edited_page(tmp_path)):
        result = import_text(page, "-o", str(target))
        assert result.exit_code == 0, result.stderr
        questions = yaml.safe_load(target.read_text(encoding="utf-8"))["questions"]
        guids = {q["id"]: q.get("guid") for q in questions}
        assert guids["monitor-deployed-model-know"] == "a#b:c!d"
    assert "I would monitor FOUR layers" in target.read_text(encoding="utf-8")


BAD_PAGES = {
    "count-mismatch": (
        "MLOps\n\n3 questions\n\nQuestion 1\n\nDifficulty: easy\n\nQ?\n\nSample answer\n\nA.\n",
        "page.txt:3: the page says 3 questions but has 1",
    ),
    "no-difficulty": (
        "MLOps\n\nQuestion 1\n\nQ?\n\nSample answer\n\nA.\n",
        "page.txt:5: 'Difficulty: <easy|medium|hard>' must follow 'Question 1'",
    ),
    "bad-difficulty": (
        "MLOps\n\nQuestion 1\n\nDifficulty: brutal\n\nQ?\n\nSample answer\n\nA.\n",
        "page.txt:5: unknown difficulty 'brutal': use one of easy, medium, hard",
    ),
    "no-sample-answer": (
        "MLOps\n\nQuestion 1\n\nDifficulty: easy\n\nQ?\n\nA.\n",
        "page.txt:3: 'Question 1' has no 'Sample answer' line",
    ),
    "numbering": (
        "MLOps\n\nQuestion 1\n\nDifficulty: easy\n\nQ?\n\nSample answer\n\nA.\n\n"
        "Question 3\n\nDifficulty: easy\n\nQ?\n\nSample answer\n\nA.\n",
        "page.txt:13: expected 'Question 2', found 'Question 3'",
    ),
    "no-questions": ("MLOps\n\nJust some text.\n", "page.txt:1: no 'Question N' blocks found"),
    "empty-answer": (
        "MLOps\n\nQuestion 1\n\nDifficulty: easy\n\nQ?\n\nSample answer\n",
        "page.txt:9: 'Question 1' has no answer text after 'Sample answer'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_PAGES))
def test_malformed_pages_are_reported_at_page_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """A page that does not fit the format: PAGE:LINE message, exit 1, nothing written."""
    monkeypatch.chdir(tmp_path)
    text, message = BAD_PAGES[case]
    write(tmp_path / "page.txt", text)
    result = run_cli(["import-text", "page.txt"])
    assert result.exit_code == 1
    assert message in result.stderr.splitlines()
    assert not (tmp_path / "content").exists()


# The published page's SHA-256, taken from ../shared/sources/mlops-engineer.txt on
# 2026-12-02: the copy is compared with a fixed fact, so the test runs on any clone.
PUBLISHED_SHA256 = "d4fb86f9cad34785c792d450c381486def005d74133134e41b1b79d880ee3003"


def test_shipped_copy_of_page_is_the_published_one() -> None:
    """tests/data keeps an exact copy of the published MLOps page."""
    assert hashlib.sha256(SOURCE_PAGE.read_bytes()).hexdigest() == PUBLISHED_SHA256


TWIN_PAGE = (
    "Tools\n\n2 questions\n\n"
    "Question 1\n\nDifficulty: easy\n\nHow do you monitor model drift and latency?\n\n"
    "Sample answer\n\nDashboards.\n\n"
    "Question 2\n\nDifficulty: hard\n\nHow do you monitor model drift and latency at scale?\n\n"
    "Sample answer\n\nSampling.\n"
)


def test_edited_question_keeps_its_suffixed_id(tmp_path: Path) -> None:
    """Two questions with one base id get '-2'; editing the second keeps '-2', none removed."""
    target = tmp_path / "tools.yaml"
    page = write(tmp_path / "page.txt", TWIN_PAGE)
    assert import_text(page, "-o", str(target)).exit_code == 0
    ids = re.findall(r"  - id: (\S+)", target.read_text(encoding="utf-8"))
    assert ids == ["monitor-model-drift-latency", "monitor-model-drift-latency-2"]
    write(page, TWIN_PAGE.replace("at scale?", "at global scale?"))
    result = import_text(page, "-o", str(target), "--prune")
    assert "1 unchanged, 1 updated, 0 added, 0 removed" in result.stdout
    text = target.read_text(encoding="utf-8")
    assert re.findall(r"  - id: (\S+)", text) == ids
    assert "at global scale?" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "???\n\nQuestion 1\n\nDifficulty: easy\n\nQ?\n\nSample answer\n\nA.\n",
            "page.txt:1: the title '???' must name the role in letters or digits",
        ),
        (
            "Role\n\nQuestion 1\n\nDifficulty: easy\n\nQ\x7f?\n\nSample answer\n\nA.\n",
            "page.txt:7: the control character U+007F cannot go on a card; remove it",
        ),
    ],
)
def test_pages_that_cannot_make_a_valid_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    """A page whose title or text could not become a valid content file is refused."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "page.txt", text)
    result = run_cli(["import-text", "page.txt"])
    assert result.exit_code == 1
    assert message in result.stderr.splitlines()
    assert not (tmp_path / "content").exists()


def test_page_that_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page in another encoding: PAGE:LINE:COL naming the byte, exit 1, nothing written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.txt").write_bytes("Role\n\nQuestion 1\n\nCaf\xe9?\n".encode("latin-1"))
    result = run_cli(["import-text", "page.txt"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "page.txt:5:4: not valid UTF-8 (byte 0xe9); save the file as UTF-8"
    )
    assert not (tmp_path / "content").exists()
