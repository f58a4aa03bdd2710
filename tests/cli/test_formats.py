"""--format json and --format github say what text says, with a stable code per problem:
every invalid case's codes are its ``.codes`` file, and every code is in the table of docs/errors.md."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from exporter.errors import CODES
from helpers import CASES, EPOCH, INVALID, ROOT, case_args, case_folder, run_cli, write

VALID = "role: R\nquestions:\n  - id: a\n    difficulty: easy\n    question: Q\n    answer: A\n"


def _text_line(problem: dict[str, Any]) -> str:
    """The text format's line for a JSON problem."""
    where = problem["path"]
    if problem["line"]:
        where += f":{problem['line']}"
        if problem["column"]:
            where += f":{problem['column']}"
    return f"{where}: {problem['message']}"


@pytest.mark.parametrize("case", CASES)
def test_json_codes_match_each_invalid_case(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each invalid case in JSON: its problems' codes are its .codes file, in order, and each
    problem read back as text is the line ``.expected`` shows (text output unchanged)."""
    monkeypatch.chdir(case_folder(case, tmp_path / "invalid"))
    result = run_cli([*case_args(case), "--format", "json"], env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["ok"] is False
    assert body["exit_code"] == 1
    codes = [p["code"] for p in body["problems"]]
    assert codes == (INVALID / f"{case}.codes").read_text(encoding="utf-8").split()
    expected = (INVALID / f"{case}.expected").read_text(encoding="utf-8").splitlines()
    if expected[0].startswith("error: "):
        assert [f"error: {p['message']}" for p in body["problems"]] == expected
    else:
        assert [_text_line(p) for p in body["problems"]] == expected[:-1]
        assert body["summary"] == expected[-1:]


def test_every_case_has_its_codes_file() -> None:
    """No .codes file without a case, and no case without one."""
    assert sorted(p.stem for p in INVALID.glob("*.codes")) == CASES


def test_github_annotations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """github: one ::error per problem with file, line, col and the code as title; then the
    count; exit 1."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "bad.yaml", "role: R\nquestions:\n  - id: Bad\n    difficulty: easy\n")
    result = run_cli(["validate", "bad.yaml", "--format", "github"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=bad.yaml,line=3,title=id-not-slug::id 'Bad' must be a lowercase slug: "
        "letters a-z, digits and single '-' between them (write it 'bad')",
        "::error file=bad.yaml,line=3,title=missing-key::missing required key 'answer' in "
        "this question: expected the sample answer as text",
        "::error file=bad.yaml,line=3,title=missing-key::missing required key 'question' in "
        "this question: expected the question as text",
        "3 problems found.",
    ]
    assert result.stderr == ""


def test_github_escapes_per_workflow_command_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path with ',' and ':' and a message with '%' and a newline cannot break the command."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a,b:c.yaml", "role: R\nquestions:\n  - id: a\n    difficulty: '50%\n\n x'\n")
    result = run_cli(["validate", "a,b:c.yaml", "--format", "github"])
    first = result.stdout.splitlines()[0]
    assert first.startswith("::error file=a%2Cb%3Ac.yaml,line=")
    assert "'50%25%0Ax'" in result.stdout


def test_warnings_and_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warning is a ::warning with its code (github) or in 'warnings' (json); exit 0."""
    monkeypatch.chdir(tmp_path)
    text = VALID.replace("answer: A", "answer: |\n      ```klingon\n      x\n      ```")
    write(tmp_path / "w.yaml", text)
    github = run_cli(["validate", "w.yaml", "--format", "github"])
    assert github.exit_code == 0
    assert github.stdout.splitlines()[0].startswith(
        "::warning file=w.yaml,line=7,title=code-language-unknown::unknown code language"
    )
    assert github.stdout.splitlines()[1] == "OK: 1 question in 1 file."
    body = json.loads(run_cli(["validate", "w.yaml", "--format", "json"]).stdout)
    assert body["ok"] is True
    assert body["problems"] == []
    assert [w["code"] for w in body["warnings"]] == ["code-language-unknown"]


def test_build_json_and_stale_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """build --format json: the summary lines; --check on a missing package: an output-stale
    problem at the package, exit 1; after a build, --check passes."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "content" / "r.yaml", VALID)
    env = {"SOURCE_DATE_EPOCH": str(EPOCH)}
    stale = run_cli(["build", "--check", "--format", "github"], env=env)
    assert stale.exit_code == 1
    assert stale.stdout.startswith(
        "::error file=dist/interview-questions.apkg,title=output-stale::dist/"
    )
    built = json.loads(run_cli(["build", "--format", "json"], env=env).stdout)
    assert built["ok"] is True
    assert built["summary"][0].startswith("Wrote dist/")
    check = json.loads(run_cli(["build", "--check", "--format", "json"], env=env).stdout)
    assert check["summary"] == ["dist/interview-questions.apkg is up to date."]


def test_other_errors_have_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A problem that is not in the content (no filter match) still has a code; no path."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "content" / "r.yaml", VALID)
    result = run_cli(["build", "--tag", "none", "--format", "json"])
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["code"] == "selection-empty"
    assert problem["path"] is None


def _is(node: ast.expr | None, text: str) -> bool:
    return isinstance(node, ast.Constant) and node.value == text


def _codes_in_source() -> set[str]:
    """Every code literal the package passes: ``code=...``, ``code = ...``, ``{"code": ...}``
    and the code argument of ``self.error``/``err``/``report`` (schema and page helpers)."""
    found: set[str] = set()
    kebab = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")
    for path in (ROOT / "exporter").rglob("*.py"):
        if path.name == "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values: list[ast.expr] = []
            if (isinstance(node, ast.keyword) and node.arg == "code") or (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets)
            ):
                values.append(node.value)
            elif isinstance(node, ast.Dict):
                values += [v for k, v in zip(node.keys, node.values, strict=True) if _is(k, "code")]
            elif isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                args = {"error": node.args[:1], "err": node.args[1:2], "report": node.args[1:2]}
                values += args.get(name, [])
            for value in values:
                for const in ast.walk(value):
                    value_ = const.value if isinstance(const, ast.Constant) else None
                    if isinstance(value_, str) and kebab.match(value_):
                        found.add(value_)
    return found


def test_codes_registry_is_what_the_code_uses() -> None:
    """Every code the package passes is registered, and every registered code is used."""
    assert _codes_in_source() == set(CODES)


def test_readme_table_lists_every_code() -> None:
    """The code table in docs/errors.md holds exactly the registry's codes, with their meanings."""
    readme = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (.*) \|$", readme, flags=re.MULTILINE)
    assert dict(rows) == CODES


def test_an_unregistered_code_is_a_bug() -> None:
    """Making a problem with a code missing from the registry fails at once."""
    from exporter.errors import ContentError, OutputError

    with pytest.raises(ValueError, match="unknown problem code 'no-such-code'"):
        ContentError("f.yaml", 1, 0, "m", code="no-such-code")
    with pytest.raises(ValueError, match="unknown problem code"):
        OutputError("m", code="no-such-code")
