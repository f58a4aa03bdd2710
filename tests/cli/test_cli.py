"""The command line itself: `python -m exporter` and the `interview-deck` script are one
program with a version; progress shows on a terminal for a large bank and never when piped;
start-up (`--help`) loads no build library."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, Builder, exporter_command, make_bank, question, run_cli, run_exporter


def big_bank(folder: Path, count: int = 1200) -> Path:
    """A bank large enough (about 1.2 MB) for the progress bar to show."""
    answer = "A sample answer that goes on for a while. " * 25
    questions = [question(f"q-{i}", text=f"Question {i}?", answer=answer) for i in range(count)]
    return make_bank(folder, questions, role="Big", filename="big.yaml")


def test_version_flag() -> None:
    """--version names the tool and its version."""
    from exporter import __version__

    assert run_cli(["--version"]).stdout.strip() == f"interview-deck, version {__version__}"


def test_python_dash_m_and_console_script_agree() -> None:
    """`python -m exporter` is the same program as `interview-deck`."""
    out = run_exporter("--version", cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("interview-deck, version ")
    script = Path(sys.executable).with_name("interview-deck")
    assert script.exists()
    out2 = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert out2.stdout == out.stdout


def test_progress_shows_on_a_terminal_for_a_large_bank(tmp_path: Path) -> None:
    """A large build on a terminal draws click's progress bar on stderr."""
    bank = big_bank(tmp_path / "bank")
    out = tmp_path / "big.apkg"
    primary, secondary = pty.openpty()
    proc = subprocess.run(
        exporter_command("build", bank, "-o", out),
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
    assert "Building" in terminal
    assert "100%" in terminal
    assert proc.stdout.startswith(f"Wrote {out} (1200 notes".encode())


def test_progress_is_quiet_when_not_a_terminal(build: Builder, tmp_path: Path) -> None:
    """Piped or captured, a large build prints no progress on stderr."""
    result = build(big_bank(tmp_path / "bank"), output=tmp_path / "b.apkg", epoch=None)
    assert result.stderr == ""


BUILD_LIBRARIES = ("yaml", "genanki", "sqlite3", "asyncio", "cached_property", "zipfile")


def _modules_after(code: str, candidates: tuple[str, ...] = BUILD_LIBRARIES) -> list[str]:
    probe = (
        "import sys\n" + code + "\nprint(' '.join(sorted(m for m in "
        f"{candidates!r} if m in sys.modules)))"
    )
    # Without coverage's own start-up hooks, which import modules of their own (sqlite3).
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    return done.stdout.splitlines()[-1].split()


def test_help_imports_no_build_libraries() -> None:
    """`--help` loads click and our CLI only: no YAML, genanki, SQLite or zip code."""
    code = "from exporter.cli.commands import cli\ntry:\n    cli(['--help'])\nexcept SystemExit:\n    pass"
    assert _modules_after(code) == []


def test_validate_imports_no_package_writer(tmp_path: Path) -> None:
    """`validate` reads YAML only: genanki, SQLite and the zip code are never imported."""
    bank = make_bank(tmp_path, [question("one")])
    code = (
        "from exporter.cli.commands import cli\ntry:\n"
        f"    cli(['validate', {str(bank)!r}])\nexcept SystemExit:\n    pass"
    )
    assert _modules_after(code) == ["yaml"]


def test_a_build_imports_only_what_it_uses(tmp_path: Path) -> None:
    """A build of prose loads no highlighter, no package metadata (Pygments' plugin lexers
    are read only where an installed distribution declares one), no HTTP, pull or other
    Markdown library; a Python fence loads Pygments and still no metadata. (difflib is not
    listed: click imports it to parse ``-o``.)"""
    unused = (
        "pygments",
        "importlib.metadata",
        "http.client",
        "markdown_it",
        "exporter.connect.client",
        "exporter.authoring.pull",
        "exporter.reading.packagefile",
    )
    prose = make_bank(tmp_path / "prose", [question("one", answer="Plain *words* & more.")])
    code = make_bank(tmp_path / "code", [question("two", answer="Run:\n\n```python\nx = 1\n```")])

    def build(bank: Path) -> str:
        return (  # (the file cache: this test's own, from the autouse fixture)
            "from exporter.cli.commands import cli\ntry:\n"
            f"    cli(['build', {str(bank)!r}, '-o', {str(tmp_path / 'out' / bank.name / 'd.apkg')!r}])\n"
            "except SystemExit:\n    pass"
        )

    assert _modules_after(build(prose), unused) == []
    assert _modules_after(build(code), unused) == ["pygments"]
