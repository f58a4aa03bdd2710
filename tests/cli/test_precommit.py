"""The hooks in .pre-commit-hooks.yaml work through the real pre-commit (try-repo with this
checkout as the hook repository): a bad content file blocks the commit with PATH:LINE, a
good one passes, and build --check refuses a stale dist/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, write

BIN = Path(sys.executable).parent
GOOD = "role: R\nquestions:\n  - id: a\n    difficulty: easy\n    question: Q\n    answer: A\n"
HOME = ROOT / ".cache" / "pre-commit"  # pre-commit's own files (try-repo's hooks are not kept)


def pre_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pre-commit ARGS`` in ``repo`` (skipped here, failed in CI, without pre-commit)."""
    tool = shutil.which("pre-commit", path=str(BIN))
    if tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pre-commit is missing: ./scripts/test installs it")
        pytest.skip("pre-commit not installed (pip install -e '.[test]')")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(HOME),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "SOURCE_DATE_EPOCH": "1764201600",
    }
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [tool, *args], cwd=repo, capture_output=True, text=True, env=env, check=False
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A team's bank repository with one good file committed."""
    repo = tmp_path_factory.mktemp("bank")
    git(repo, "init", "-q", "-b", "main")
    write(repo / "content" / "good.yaml", GOOD)
    git(repo, "add", "-A")
    return repo


def _try(repo: Path) -> subprocess.CompletedProcess[str]:
    """Every hook of this checkout over every file of ``repo``. try-repo installs the hooks
    afresh each time (about 9 s here), so each test runs it once."""
    result = pre_commit(repo, "try-repo", str(ROOT), "--all-files", "--verbose")
    if "An unexpected error has occurred" in result.stdout + result.stderr:
        message = f"pre-commit could not install the hooks: {result.stdout[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return result


def test_hooks_block_a_bad_file_with_path_and_line(bank: Path) -> None:
    """A misspelt key fails the validate hook with content/bad.yaml:LINE, and build --check
    fails too; the good file is not blamed."""
    write(bank / "content" / "bad.yaml", GOOD.replace("a\n", "b\n").replace("answer:", "anwser:"))
    git(bank, "add", "-A")
    result = _try(bank)
    assert result.returncode == 1, result.stdout
    out = result.stdout
    assert "interview-deck validate" in out
    assert "interview-deck build --check" in out
    assert "content/bad.yaml:6: unknown key 'anwser' in a question" in out
    assert "good.yaml:" not in out
    assert out.count("Failed") == 2, out


def test_hooks_pass_a_good_bank_with_current_dist(bank: Path) -> None:
    """Good content with dist/ built and added: both hooks pass."""
    (bank / "content" / "bad.yaml").unlink(missing_ok=True)
    subprocess.run([BIN / "interview-deck", "build"], cwd=bank, check=True, capture_output=True)
    git(bank, "add", "-A")
    result = _try(bank)
    assert result.returncode == 0, result.stdout
    assert "OK: 1 question in 1 file." in result.stdout
    assert result.stdout.count("Passed") == 2, result.stdout
