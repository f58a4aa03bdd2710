"""The benchmark scripts still run: each bank they generate builds, and the baseline script
writes a package (a moved helper once broke ``bench/rich.py`` without any test noticing)."""

from __future__ import annotations

import importlib.util
import sys
import warnings
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from helpers import ROOT, build_deck

BENCH = ROOT / "bench"


def _module(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["prose", "code", "fence", "math", "image"])
def test_each_rich_bank_builds(tmp_path: Path, kind: str) -> None:
    rich = _module("rich")
    bank = rich.make_bank(tmp_path / kind, kind, 3)
    build_deck(bank, output=tmp_path / "out" / "deck.apkg")


def test_the_synthetic_bank_builds_and_the_baseline_writes_it(tmp_path: Path) -> None:
    synth = _module("synth")
    baseline = _module("baseline")
    bank = synth.make_bank(tmp_path / "bank", 30)
    build_deck(bank, output=tmp_path / "out" / "deck.apkg")
    for c_loader, markdown in ((True, False), (True, True)):
        out = tmp_path / f"baseline-{markdown}.apkg"
        with warnings.catch_warnings():  # genanki's advice on '<' in unrendered text
            warnings.simplefilter("ignore")
            baseline.main(bank, out, c_loader, markdown)
        with zipfile.ZipFile(out) as z:
            assert "collection.anki2" in z.namelist()


def test_the_runner_makes_its_commands(tmp_path: Path) -> None:
    run = _module("run")
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

    lexers = _module("lexers")
    kept = [code for _name, code in lexers.cases(300) if plain_reason(code, "python") is None]
    assert len(kept) > 50
    name, worst = lexers.measure("python", [300])
    assert name == "Python"
    assert set(worst) == {300}
    assert set(lexers.measure("systemd", [6_000])[1]) == {SLOW_LEXERS["Systemd"]}
