"""Problems are reported all at once and say the fix where it is known: image problems next
to structural ones, every image of an answer, a value read as a YAML tag, a tag or id one
edit from valid, an image whose bytes are another type."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_cli, write

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")


def one_question(path: Path, *, qid: str = "one", answer: str = "a", more: str = "") -> Path:
    """A content file at ``path`` of one easy question (its answer, then ``more`` lines)."""
    return write(
        path,
        f"role: Tester\nquestions:\n  - id: {qid}\n    difficulty: easy\n    question: q\n"
        f"    answer: {answer}\n{more}",
    )


def test_image_problems_are_reported_with_every_other_problem(tmp_path: Path) -> None:
    """A file with a structural mistake still has each of its image problems reported, all
    in one run, each image of one answer on its own."""
    (tmp_path / "c" / "img").mkdir(parents=True)
    (tmp_path / "c" / "img" / "fake.jpg").write_bytes(PNG)
    (tmp_path / "c" / "img" / "pic.bmp").write_bytes(b"BM")
    bank = write(
        tmp_path / "c" / "bank.yaml",
        "role: Tester\nquestions:\n"
        "  - id: one\n    difficulty: easy\n    question: q\n    answer: |-\n"
        "      ![a](img/missing.png) and ![b](img/fake.jpg)\n      ![c](img/pic.bmp)\n"
        "  - id: two\n    difficulty: Easy\n    question: q\n"
        '    answer: "![d](../outside.png) ![e](img/gone.png)"\n    anwser: typo\n',
    )
    result = run_cli(["validate", bank])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "7 problems found.", result.stderr
    found = "\n".join(lines)
    for expected in (
        ":7: image 'img/missing.png' not found",
        ":7: image 'img/fake.jpg' is not a JPEG file",
        ":8: image 'img/pic.bmp' has an unsupported type",
        ":10: unknown difficulty 'Easy'",
        ":12: image '../outside.png' is outside the content folder",
        ":12: image 'img/gone.png' not found",
        ":13: unknown key 'anwser'",
    ):
        assert expected in found, expected


@pytest.mark.parametrize("value", ["![y](img/a.png)", "!important: check it", "!Note this"])
def test_a_value_starting_with_bang_is_named_as_a_yaml_tag(tmp_path: Path, value: str) -> None:
    """`answer: ![y](img/a.png)` as a plain value: YAML reads the '!' as a tag; the message
    says so and how to fix it (quotes, or a block with |), not 'while scanning a tag'."""
    bank = one_question(tmp_path / "bank.yaml", answer=value)
    result = run_cli(["validate", bank])
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{bank}:6:"), first
    assert "while scanning" not in first
    assert "starts with '!'" in first
    assert "quote" in first
    assert "|" in first


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("    tags: [Algorithms]", "write it 'algorithms'"),
        ("    tags: [CI_CD]", "write it 'ci-cd'"),
        ("    tags: [two words]", "write it 'two-words'"),
    ],
)
def test_a_tag_one_edit_from_valid_gets_the_fix(tmp_path: Path, line: str, hint: str) -> None:
    """A tag that is a slug but for case, '_' or spaces: the message gives the slug."""
    bank = one_question(tmp_path / "bank.yaml", more=f"{line}\n")
    assert hint in run_cli(["validate", bank]).stderr


@pytest.mark.parametrize(
    ("qid", "hint"),
    [
        ("python_fib", "write it 'python-fib'"),
        ("Model-Drift", "write it 'model-drift'"),
        ("double--dash", "write it 'double-dash'"),
        ("trailing-", "write it 'trailing'"),
    ],
)
def test_an_id_one_edit_from_valid_gets_the_fix(tmp_path: Path, qid: str, hint: str) -> None:
    """An id that is a slug but for case, '_' or stray dashes: the message gives the slug."""
    bank = one_question(tmp_path / "bank.yaml", qid=qid)
    assert hint in run_cli(["validate", bank]).stderr


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("a.jpg", PNG, "its bytes are a PNG image: rename it to a.png"),
        (
            "a.png",
            b"\xff\xd8\xff\xe0" + bytes(20),
            "its bytes are a JPEG image: rename it to a.jpg",
        ),
        ("a.png", b"GIF89a" + bytes(10), "its bytes are a GIF image: rename it to a.gif"),
        ("a.gif", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "its bytes are an SVG image"),
        ("a.png", b"BM" + bytes(30), "its bytes are a BMP image, which cards cannot show"),
        ("a.png", b"%PDF-1.7\n", "its bytes are a PDF document"),
        ("a.png", b"<!DOCTYPE html><html>", "its bytes are an HTML page"),
        ("a.png", b"\x00\x01\x02\x03", "its bytes are of no type cards can show"),
    ],
)
def test_not_what_it_claims_names_what_the_bytes_are(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    """'not a JPEG file' says what the bytes are instead, and the fix when it is a rename."""
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / name).write_bytes(data)
    bank = one_question(tmp_path / "c" / "bank.yaml", answer=f"See ![x]({name}).")
    assert says in run_cli(["validate", bank]).stderr


@pytest.mark.parametrize("command", ["validate", "build"])
def test_warnings_come_in_the_same_run_as_errors(tmp_path: Path, command: str) -> None:
    """A warning (a fence in an unknown language) is shown in the run that reports errors,
    in its file's line order, in text, json and github formats, in the same file and in
    another one."""
    import json

    fence = "|\n      ```klingon\n      x\n      ```"
    broken = one_question(tmp_path / "c" / "a.yaml", answer=fence, more="    anwser: typo\n")
    other = one_question(tmp_path / "c" / "b.yaml", qid="two", answer=fence)
    args = [command, str(tmp_path / "c")] + (
        ["-o", str(tmp_path / "d.apkg")] * (command == "build")
    )
    text = run_cli(args)
    assert text.exit_code == 1
    lines = text.stderr.splitlines()
    warned = ": warning: unknown code language 'klingon': the block is shown without highlighting"
    assert [line.split(" (")[0] for line in lines] == [
        f"{broken}:7{warned}",
        f"{broken}:10: unknown key 'anwser' in a question: did you mean 'answer'?",
        f"{other}:7{warned}",
        "1 problem found.",
    ], lines
    body = json.loads(run_cli([*args, "--format", "json"]).stdout)
    assert [p["code"] for p in body["problems"]] == ["unknown-key"]
    assert [w["code"] for w in body["warnings"]] == ["code-language-unknown"] * 2
    github = run_cli([*args, "--format", "github"]).stdout.splitlines()
    assert sum(line.startswith("::warning ") for line in github) == 2
    assert sum(line.startswith("::error ") for line in github) == 1


def test_a_mark_inside_a_formula_pairs_with_none_outside_it(tmp_path: Path) -> None:
    """`What is \\(a*b\\) here*?`: the formula's TeX never reaches Markdown, so its '*'
    pairs with nothing after it: the card shows the formula and the '*' after it, and
    validate has nothing to warn about (0.7 warned: math-splits-mark)."""
    import json

    from exporter.markup.markdown import to_html

    answer = "|\n      First line.\n      What is \\(a*b\\) here*?\n      And \\(c*d\\) alone."
    one_question(tmp_path / "c" / "a.yaml", answer=answer)
    result = run_cli(["validate", str(tmp_path / "c"), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["warnings"] == []
    assert to_html("What is \\(a*b\\) here*?") == "<p>What is \\(a*b\\) here*?</p>"
    assert to_html("*a \\(b*c\\) d*") == "<p><em>a \\(b*c\\) d</em></p>"
