"""The benchmark scripts still run: each bank they generate builds, and the baseline script
writes a package (a moved helper once broke ``bench/rich.py`` without any test noticing)."""

from __future__ import annotations

import importlib.util
import sys
import warnings
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpers import SOURCE_PAGE, bench_module, build_deck, run_cli


@pytest.mark.parametrize("kind", ["prose", "code", "fence", "math", "image"])
def test_each_rich_bank_builds(tmp_path: Path, kind: str) -> None:
    """Each kind of bank bench/rich.py makes (prose, code, fence, math, image) builds."""
    rich = bench_module("rich")
    bank = rich.make_bank(tmp_path / kind, kind, 3)
    build_deck(bank, output=tmp_path / "out" / "deck.apkg")


def test_the_synthetic_bank_builds_and_the_baseline_writes_it(tmp_path: Path) -> None:
    """bench/synth.py's bank builds, and bench/baseline.py writes it as a package (baseline
    (b) too where markdown-it-py is installed)."""
    synth = bench_module("synth")
    baseline = bench_module("baseline")
    bank = synth.make_bank(tmp_path / "bank", 30)
    build_deck(bank, output=tmp_path / "out" / "deck.apkg")
    # Baseline (b) needs markdown-it-py, from the [bench] extra: run when it is installed.
    cases = [(True, False)] + ([(True, True)] if importlib.util.find_spec("markdown_it") else [])
    for c_loader, markdown in cases:
        out = tmp_path / f"baseline-{markdown}.apkg"
        with warnings.catch_warnings():  # genanki's advice on '<' in unrendered text
            warnings.simplefilter("ignore")
            baseline.main(bank, out, c_loader, markdown)
        with zipfile.ZipFile(out) as z:
            assert "collection.anki2" in z.namelist()


def test_the_runner_makes_its_commands(tmp_path: Path) -> None:
    """bench/run.py makes its commands in the order its tables index them: validate, fresh
    build, no-op build, baselines (a) and (b)."""
    run = bench_module("run")
    commands = run.commands_for(tmp_path / "bank", tmp_path / "work", slow_baseline=False)
    assert [c.label for c in commands][: run.BASE_B + 1] == [
        "interview-deck validate",
        "interview-deck build (fresh)",
        "interview-deck build (no-op)",
        "(a) CSafeLoader + genanki, no Markdown",
        "(b) CSafeLoader + markdown-it-py + genanki",
    ]


@pytest.mark.slow  # a measurement run: the full tier
def test_the_lexer_screen_measures_within_the_limits() -> None:
    """bench/lexers.py (which measured the highlighting limits) still runs: it lexes only
    blocks the exporter would highlight, and a slow lexer at its own limit."""
    from exporter.markup.highlight import SLOW_LEXERS, plain_reason

    lexers = bench_module("lexers")
    kept = [code for _name, code in lexers.cases(300) if plain_reason(code, "python") is None]
    assert len(kept) > 50
    name, worst = lexers.measure("python", [300])
    assert name == "Python"
    assert set(worst) == {300}
    assert set(lexers.measure("systemd", [6_000])[1]) == {SLOW_LEXERS["Systemd"]}


def test_the_runner_converts_the_bank_for_ankdown_in_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ankdown row's input is written by a child process, never the runner itself (a
    child's peak RSS reads at least the parent's at fork: a runner grown by a big bank
    once made every later row report >= 191 MiB)."""
    run = bench_module("run")
    bank = bench_module("synth").make_bank(tmp_path / "bank", 30)

    def in_the_parent(*_args: object) -> None:
        raise AssertionError("converted in the runner's own process")

    monkeypatch.setattr(run.synth, "ankdown_bank", in_the_parent)
    monkeypatch.setattr(run, "ANKDOWN", ["ankdown"])
    made = run.commands_for(bank, tmp_path / "work", slow_baseline=False)
    peer, lit = made[-2:]
    assert peer.label.startswith(run.PEER)
    assert lit.label.startswith(run.PEER_HIGHLIGHT)
    assert "--highlight" in lit.argv
    assert "--highlight" not in peer.argv
    cards = (tmp_path / "bank-ankdown" / "mlops-engineer.md").read_text(encoding="utf-8")
    assert cards.count("\n---\n") == 29
    assert str(tmp_path / "bank-ankdown") in peer.argv


def test_the_ab_runner_runs_commands_the_cli_takes(tmp_path: Path) -> None:
    """bench/ab.py (how machinery is judged before it is kept or deleted) runs a full build,
    validate and import-text as the command line takes them."""
    ab = bench_module("ab")
    bank = bench_module("synth").make_bank(tmp_path / "bank", 3)
    for command, source in (("build", bank), ("validate", bank), ("import-text", SOURCE_PAGE)):
        argv = ab.argv(command, source, tmp_path / command)
        assert argv[:3] == [sys.executable, "-m", "exporter"]
        result = run_cli(argv[3:])
        assert result.exit_code == 0, result.stderr


def test_a_run_reports_cpu_time_beside_wall_time() -> None:
    """Each run records the child's CPU time (user + system, from ``os.wait4``)."""
    run = bench_module("run")
    result = run.run_once([sys.executable, "-c", "sum(range(10**6))"])
    assert result.cpu > 0
    assert result.seconds > 0
    assert result.rss_kib > 0


def _results(run: ModuleType, ours: float, peer: float) -> list[Any]:
    """A size's commands as the runner keeps them, with one run each: ours and ankdown's
    times (wall; CPU is half of it) and 1 s for everything else."""
    labels = ["validate", "fresh", "no-op", "(a)", "(b)", "ankdown (peer)"]
    commands = [run.Command(label, []) for label in labels]
    for cmd, seconds in zip(commands, [1, ours, 1, 1, 1, peer], strict=True):
        cmd.sample.seconds.append(seconds)
        cmd.sample.cpu.append(seconds / 2)
        cmd.sample.rss_kib.append(200 * 1024)
    return commands


def test_the_targets_are_issue_32s() -> None:
    """The targets table checks a build from scratch against ankdown (10: 1.2×, 1,000:
    1.0×, 10,000 and 100,000: 0.8×), peak RSS at 100,000 and one edited answer against
    baseline (a), by wall time, with the CPU ratio beside each."""
    run = bench_module("run")
    results = {
        10: _results(run, 1.1, 1.0),
        1_000: _results(run, 1.1, 1.0),
        10_000: _results(run, 0.8, 1.0),
        100_000: _results(run, 0.7, 1.0),
    }
    incremental = _results(run, 1, 1)[3:5]
    incremental[0].sample.seconds[0] = 0.4
    lines = run.targets(results, [], incremental)
    assert "| 10: full build ≤ 1.2× ankdown | 1.10× | 1.10× | yes |" in lines
    assert "| 1,000: full build ≤ 1.0× ankdown | 1.10× | 1.10× | **no** |" in lines
    assert "| 10,000: full build ≤ 0.8× ankdown | 0.80× | 0.80× | yes |" in lines
    assert "| 100,000: full build ≤ 0.8× ankdown | 0.70× | 0.70× | yes |" in lines
    assert "| 100,000: peak RSS ≤ 300 MiB | 200 MiB |  | yes |" in lines
    assert (
        "| 10,000 in 40 files, one answer edited: ≤ 0.5× baseline (a) | 0.40× | 1.00× | yes |"
        in lines
    )
    table = run.size_table(10, 2**20, results[10])
    assert "| command | runs | median s | CPU s | × baseline | × baseline CPU |" in table[2]
    assert "| fresh | 1 | 1.100 | 0.550 | 1.10 | 1.10 | 1.00 | 200 |  |" in table
    lit = run.Command("ankdown --highlight (misaka + Pygments)", [])
    lit.sample.seconds.append(2.2)
    lit.sample.cpu.append(1.1)
    lines = run.targets({10: [*results[10], lit]}, [], None)
    assert "| 10: full build ≤ 1.2× ankdown | 1.10× | 1.10× | yes |" in lines
    assert (
        "| (context) 10: full build vs ankdown --highlight (code coloured, as ours) "
        "| 0.50× | 0.50× | — |" in lines
    )
    without_peer = {10: results[10][:5]}
    assert "| 10: full build ≤ 1.2× ankdown | not run |  | — |" in run.targets(
        without_peer, [], None
    )
