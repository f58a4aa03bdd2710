"""Hostile input, nothing is skipped in silence: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

from pathlib import Path

from helpers import (
    bank,
    make_bank,
    question,
    run_cli,
)


def test_links_that_lead_nowhere_and_linked_folders_are_named(tmp_path: Path) -> None:
    """A dangling or looping *.yaml link and a link to a folder are problems naming the
    path (a link to a YAML file is followed)."""
    src = tmp_path / "c"
    bank(src)
    (src / "dangling.yaml").symlink_to(tmp_path / "missing.yaml")
    (src / "loop.yaml").symlink_to(src / "loop.yaml")
    other = tmp_path / "other"
    make_bank(other, [question("two")], role="Other")
    (src / "linked").symlink_to(other)
    (src / "followed.yaml").symlink_to(other / "bank.yaml")
    result = run_cli(["validate", str(src)])
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert f"{src / 'dangling.yaml'}: is a link that leads nowhere" in result.stderr
    assert f"{src / 'loop.yaml'}: is a link that leads nowhere" in result.stderr
    assert f"{src / 'linked'}: is a link to a folder, which is not followed" in result.stderr
    assert lines[-1] == "3 problems found."
