"""The published CI recipe (docs/ci/question-bank.yml) and the project's release workflow
(.github/workflows/release.yml) pass actionlint, with shellcheck over their scripts; the
linter is shown to catch a broken copy, and the README links the recipe and the release."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exporter import __version__
from helpers import ROOT

WORKFLOW = ROOT / "docs" / "ci" / "question-bank.yml"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
BIN = Path(sys.executable).parent


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    """Run actionlint on ``path`` with shellcheck found beside it (both from the test extra)."""
    tool = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    if tool is None or shutil.which("shellcheck", path=str(BIN)) is None:
        if os.environ.get("CI") == "true":
            pytest.fail("actionlint/shellcheck missing: ./scripts/test installs them")
        pytest.skip("actionlint/shellcheck not installed (pip install -e '.[test]')")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [tool, "-no-color", str(path)], capture_output=True, text=True, env=env, check=False
    )


@pytest.mark.parametrize("workflow", [WORKFLOW, RELEASE], ids=["recipe", "release"])
def test_workflow_passes_actionlint(workflow: Path) -> None:
    """actionlint (and shellcheck, through it) finds nothing in the workflow."""
    result = actionlint(workflow)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_actionlint_catches_a_broken_copy(tmp_path: Path) -> None:
    """The same linter run fails on a copy with an unknown context and an unquoted variable."""
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text(encoding="utf-8")
    text = text.replace("${{ github.base_ref }}", "${{ github.base_reff }}")
    text = text.replace('python -m pip install "$INTERVIEW_DECK"', "cd $RUNNER_TEMP", 1)
    broken.write_text(text, encoding="utf-8")
    result = actionlint(broken)
    assert result.returncode == 1
    assert "base_reff" in result.stdout
    assert "shellcheck" in result.stdout


def test_readme_links_the_recipe() -> None:
    """The README points teams at the workflow and the hooks."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/ci/question-bank.yml)" in readme
    assert ".pre-commit-config.yaml" in readme


def test_recipe_pins_the_current_version() -> None:
    """The recipe installs the release this tool is (a copy pinned to an older one reports
    every package built by this version stale for ever)."""
    text = WORKFLOW.read_text(encoding="utf-8")
    pins = re.findall(r"interview-deck @ git\+\S+@v([0-9][^\s\"']*)", text)
    assert pins == [__version__]


def test_release_attaches_the_wheel_the_sdist_and_the_package() -> None:
    """On a tag v*, the release workflow builds the wheel and the sdist (into their own
    folder, not dist/), checks the tag is the version and the committed package current,
    and attaches all three to the tag's release."""
    text = RELEASE.read_text(encoding="utf-8")
    assert 'tags: ["v*"]' in text
    assert "python -m build --sdist --wheel --outdir wheelhouse" in text
    assert "exporter.__version__" in text
    assert "interview-deck build --check" in text
    assert 'gh release upload "$TAG" wheelhouse/*.whl wheelhouse/*.tar.gz "$PACKAGE"' in text


def test_readme_installs_from_a_clone_or_a_wheel() -> None:
    """The README's install section gives commands that work today (no placeholder URL):
    from a clone, and from a wheel built there or downloaded from a release."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = readme.split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "your-org" not in install
    assert "pip install ." in install
    assert "python -m build" in install
    assert "pip install wheelhouse/interview_deck-" in install
    assert "(.github/workflows/release.yml)" in install
