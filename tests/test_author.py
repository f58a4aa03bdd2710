"""Issue 6: import a published page, Markdown answers, slices, stats and read-aloud cards."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest

from conftest import CONTENT, EPOCH, SOURCE_PAGE, Anki, run_cli, write

SHIPPED = CONTENT / "mlops-engineer.yaml"


def import_text(page: Path, *extra: str) -> object:
    return run_cli(["import-text", str(page), *extra])


def test_import_text_reproduces_the_shipped_bank(tmp_path: Path, monkeypatch) -> None:
    """Importing the kept page gives exactly content/mlops-engineer.yaml; again: no change."""
    monkeypatch.chdir(tmp_path)
    result = import_text(SOURCE_PAGE)
    assert result.exit_code == 0, result.stderr
    made = tmp_path / "content" / "mlops-engineer.yaml"
    assert made.read_bytes() == SHIPPED.read_bytes()
    assert "10 added" in result.stdout
    stamp = made.stat().st_mtime_ns
    again = import_text(SOURCE_PAGE)
    assert again.exit_code == 0
    assert again.stdout.startswith("Unchanged: content/mlops-engineer.yaml (10 unchanged")
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
def test_malformed_pages_are_reported_at_page_line(tmp_path: Path, monkeypatch, case: str) -> None:
    """A page that does not fit the format: PAGE:LINE message, exit 1, nothing written."""
    monkeypatch.chdir(tmp_path)
    text, message = BAD_PAGES[case]
    write(tmp_path / "page.txt", text)
    result = run_cli(["import-text", "page.txt"])
    assert result.exit_code == 1
    assert message in result.stderr.splitlines()
    assert not (tmp_path / "content").exists()


MARKDOWN = """role: Markdown
questions:
  - id: md-answer
    difficulty: medium
    question: What does `kubectl rollout undo` do?
    answer: |
      It rolls back. Steps:

      - check the **history**
      - undo to a *revision*

      ```bash
      kubectl rollout undo deploy/model --to-revision=2 && echo "<done>"
      ```

      See [the docs](https://kubernetes.io/docs/).
      <script>alert("x")</script>
"""


def test_markdown_answer_renders_lists_and_code_in_anki(build, anki: Anki, tmp_path: Path) -> None:
    """A Markdown list and code block reach the card as <ul> and <pre><code>; <script> stays text."""
    anki.import_package(build(write(tmp_path / "c" / "md.yaml", MARKDOWN)))
    (note,) = anki.notes()
    back = note.cards()[0].answer()
    assert "<ul>\n<li>check the <strong>history</strong></li>" in back
    assert '<pre class="iq-code" data-lang="bash"><code class="language-bash">kubectl' in back
    assert '<span class="hl-b">echo</span>' in back
    assert "&lt;done&gt;" in back
    assert '<a href="https://kubernetes.io/docs/">the docs</a>' in back
    assert "<code>kubectl rollout undo</code>" in note.cards()[0].question()
    assert "<script" not in back
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in back


def _plain_paragraphs(text: str) -> str:
    """How plain prose rendered before Markdown: escaped paragraphs."""
    return "\n".join(f"<p>{html.escape(p.strip(), quote=False)}</p>" for p in text.split("\n\n"))


def test_plain_prose_renders_as_before(build, anki: Anki) -> None:
    """The shipped bank's plain prose renders as simple paragraphs, no stray markup."""
    from exporter.pipeline import run_load
    from exporter.text import to_html

    for q in run_load([str(CONTENT)]).questions:
        assert to_html(q.answer) == _plain_paragraphs(q.answer)
        assert to_html(q.question) == _plain_paragraphs(q.question)


SLICE_BANK = {
    "backend.yaml": (
        "Backend Engineer",
        [
            ("b-easy", "easy", ["api"]),
            ("b-hard", "hard", ["db"]),
            ("b-med", "medium", ["api", "db"]),
        ],
    ),
    "data.yaml": (
        "Data Scientist",
        [("d-hard", "hard", ["stats"]), ("d-easy", "easy", []), ("d-hard-2", "hard", ["api"])],
    ),
}


def _slice_bank(folder: Path) -> Path:
    for name, (role, questions) in SLICE_BANK.items():
        body = "".join(
            f"  - id: {qid}\n    difficulty: {d}\n    question: {qid}?\n    answer: {qid}.\n"
            + (f"    tags: [{', '.join(tags)}]\n" if tags else "")
            for qid, d, tags in questions
        )
        write(folder / name, f"role: {role}\nquestions:\n{body}")
    return folder


@pytest.mark.parametrize(
    ("flags", "expected", "left_out"),
    [
        (["--difficulty", "hard"], {"b-hard", "d-hard", "d-hard-2"}, 3),
        (["--difficulty", "easy", "--difficulty", "medium"], {"b-easy", "b-med", "d-easy"}, 3),
        (["--role", "data-scientist"], {"d-hard", "d-easy", "d-hard-2"}, 3),
        (["--role", "Backend Engineer", "--tag", "db"], {"b-hard", "b-med"}, 4),
        (["--tag", "api", "--difficulty", "hard"], {"d-hard-2"}, 5),
    ],
)
def test_slices_reach_the_collection(anki: Anki, tmp_path: Path, flags, expected, left_out) -> None:
    """Filtered builds hold exactly the matching notes and say what they left out."""
    out = tmp_path / "slice.apkg"
    result = run_cli(
        ["build", str(_slice_bank(tmp_path / "bank")), "-o", str(out), *flags],
        env={"SOURCE_DATE_EPOCH": str(EPOCH)},
    )
    assert result.exit_code == 0, result.stderr
    assert f"Left out {left_out} question(s) not matching" in result.stdout
    anki.import_package(out)
    assert {n["ID"] for n in anki.notes()} == expected


def test_a_slice_that_leaves_nothing_fails(tmp_path: Path) -> None:
    """Filters that match nothing are an error, and nothing is written."""
    out = tmp_path / "none.apkg"
    result = run_cli(
        ["build", str(_slice_bank(tmp_path / "bank")), "-o", str(out), "--tag", "nope"]
    )
    assert result.exit_code == 1
    assert "error: the filters leave no questions to build" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("file", ["b-easy", "b-hard", "b-med", "d-hard", "d-easy", "d-hard-2"]),
        ("difficulty", ["b-easy", "d-easy", "b-med", "b-hard", "d-hard", "d-hard-2"]),
    ],
)
def test_new_card_order(build, anki: Anki, tmp_path: Path, order: str, expected) -> None:
    """--order sets the order Anki introduces new cards in: file order, or easy to hard."""
    anki.import_package(build(_slice_bank(tmp_path / "bank"), extra=["--order", order]))
    rows = anki.col.db.all(
        "select n.flds, c.due from cards c join notes n on n.id = c.nid "
        "where c.type = 0 order by c.due"
    )
    assert [flds.split("\x1f")[4] for flds, _ in rows] == expected


def test_stats_json_matches_the_bank(tmp_path: Path) -> None:
    """stats --json counts roles x difficulties, totals and tags as the files say."""
    result = run_cli(["stats", "--json", str(_slice_bank(tmp_path / "bank"))])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "roles": {
            "Backend Engineer": {"easy": 1, "medium": 1, "hard": 1, "total": 3},
            "Data Scientist": {"easy": 1, "medium": 0, "hard": 2, "total": 3},
        },
        "totals": {"easy": 2, "medium": 1, "hard": 3, "total": 6},
        "tags": [
            {"tag": "api", "count": 3},
            {"tag": "db", "count": 2},
            {"tag": "stats", "count": 1},
        ],
    }
    table = run_cli(["stats", str(tmp_path / "bank")]).stdout
    assert re.search(r"Backend Engineer\s+1\s+1\s+1\s+3", table)
    assert re.search(r"Total\s+2\s+1\s+3\s+6", table)
    assert "Most used tags: api (3), db (2), stats (1)" in table


def test_tts_reads_the_question_and_updates_the_note_type(anki: Anki, tmp_path: Path) -> None:
    """--tts adds Anki's tts tag to the front; re-importing updates the same note type."""
    out = tmp_path / "deck.apkg"
    env = {"SOURCE_DATE_EPOCH": str(EPOCH)}
    assert run_cli(["build", str(CONTENT), "-o", str(out)], env=env).exit_code == 0
    anki.import_package(out)
    assert not anki.notes()[0].cards()[0].question_av_tags()
    assert (
        run_cli(["build", str(CONTENT), "-o", str(out), "--tts", "en_US"], env=env).exit_code == 0
    )
    log = anki.import_package(out)
    assert len(log.conflicting) == 0
    assert len(log.new) == 0
    (model,) = anki.notetypes()
    assert "{{tts en_US:Question}}" in model["tmpls"][0]["qfmt"]
    card = anki.note_by_id_field("secure-ml-pipelines-model").cards()[0]
    assert "[anki:play:q:0]" in card.question()
    (tag,) = card.question_av_tags()
    assert tag.lang == "en_US"
    assert tag.field_text.strip() == (
        "What steps do you take to secure ML pipelines and model serving systems?"
    )
    assert len(anki.notes()) == 10


def test_tts_rejects_a_bad_language_code(tmp_path: Path) -> None:
    """--tts takes a language code; anything else is a usage error (exit 2)."""
    result = run_cli(["build", str(CONTENT), "-o", str(tmp_path / "x.apkg"), "--tts", "en US"])
    assert result.exit_code == 2
    assert "is not a language code" in result.stderr


def test_version_flag() -> None:
    """--version names the tool and its version."""
    from exporter import __version__

    assert run_cli(["--version"]).stdout.strip() == f"interview-deck, version {__version__}"


def test_shipped_copy_of_page_is_the_published_one() -> None:
    """tests/data keeps an exact copy of the published MLOps page."""
    published = Path(__file__).resolve().parents[2] / "shared" / "sources" / "mlops-engineer.txt"
    if not published.exists():
        pytest.skip("shared/sources is not beside this checkout")
    assert SOURCE_PAGE.read_bytes() == published.read_bytes()


def _big_bank(folder: Path, count: int = 1200) -> Path:
    answer = "A sample answer that goes on for a while. " * 25
    body = "".join(
        f"  - id: q-{i}\n    difficulty: easy\n    question: Question {i}?\n    answer: {answer}\n"
        for i in range(count)
    )
    return write(folder / "big.yaml", f"role: Big\nquestions:\n{body}")


def test_progress_shows_on_a_terminal_for_a_large_bank(tmp_path: Path) -> None:
    """A large build on a terminal draws click's progress bar on stderr."""
    import pty
    import subprocess
    import sys

    bank = _big_bank(tmp_path / "bank")
    out = tmp_path / "big.apkg"
    primary, secondary = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "exporter", "build", str(bank), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=secondary,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    terminal = b"".join(chunks).decode()
    assert "Reading questions" in terminal
    assert "100%" in terminal
    assert "Building 1200 notes" in terminal
    assert b"Wrote" in proc.stdout


def test_progress_is_quiet_when_not_a_terminal(tmp_path: Path) -> None:
    """Piped or captured, a large build prints no progress on stderr."""
    result = run_cli(["build", str(_big_bank(tmp_path / "bank")), "-o", str(tmp_path / "b.apkg")])
    assert result.exit_code == 0
    assert result.stderr == ""


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
def test_pages_that_cannot_make_a_valid_file(tmp_path: Path, monkeypatch, text, message) -> None:
    """A page whose title or text could not become a valid content file is refused."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "page.txt", text)
    result = run_cli(["import-text", "page.txt"])
    assert result.exit_code == 1
    assert message in result.stderr.splitlines()
    assert not (tmp_path / "content").exists()


def test_page_that_is_not_utf8(tmp_path: Path, monkeypatch) -> None:
    """A page in another encoding: PAGE:LINE:COL naming the byte, exit 1, nothing written."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.txt").write_bytes("Role\n\nQuestion 1\n\nCaf\xe9?\n".encode("latin-1"))
    result = run_cli(["import-text", "page.txt"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "page.txt:5:4: not valid UTF-8 (byte 0xe9); save the file as UTF-8"
    )
    assert not (tmp_path / "content").exists()
