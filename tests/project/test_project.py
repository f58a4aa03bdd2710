"""The project's own promises to a newcomer: the package is a pipeline whose stages import
only the stages below them, and the version, licence and changelog agree."""

from __future__ import annotations

import ast
from pathlib import Path

from exporter import __version__
from helpers import ROOT

# The stages from the top down (docs/architecture.md). A module may import its own stage and
# any stage below it; stages on one rank do not import each other. The modules directly in
# exporter/ are the shared base (errors, files, version) unless named here.
RANKS: dict[str, int] = {
    "__main__": 11,
    "cli": 10,
    "pipeline": 9,
    "connect": 8,
    "state": 7,
    "authoring": 7,
    "reading": 6,
    "package": 5,
    "render": 4,
    "content": 3,
    "markup": 2,
}
BASE = 1
PACKAGE = ROOT / "exporter"


def _stage(module: str) -> str:
    """``exporter.content.load`` -> ``content``; a base module -> ``base``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANKS else "base"


def _module_of(path: Path, package: Path) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every ``exporter`` module ``path`` imports, at the top, in functions or for typing."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "exporter":
                found.update(f"exporter.{alias.name}" for alias in node.names)
            elif node.module.startswith("exporter."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("exporter."))
    return found


def _rank(stage: str) -> int:
    return RANKS.get(stage, BASE)


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """``A imports B`` for every import that points up the pipeline or sideways between
    two stages of one rank."""
    wrong = []
    for path in sorted(package.rglob("*.py")):
        module = _module_of(path, package)
        stage = _stage(module)
        for target in sorted(_imports(path)):
            other = _stage(target)
            if other == stage or (other == "base" and stage != "base"):
                continue
            if _rank(other) >= _rank(stage):
                wrong.append(f"{module} imports {target}")
    return wrong


def test_stages_import_only_the_stages_below_them() -> None:
    """Imports point one way: cli -> pipeline -> connect -> state/authoring -> reading ->
    package -> render -> content -> markup -> the shared base."""
    assert upward_imports() == []


def test_the_direction_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The check above is not vacuous: a content module importing render is reported."""
    fake = tmp_path / "exporter"
    (fake / "content").mkdir(parents=True)
    (fake / "render").mkdir()
    (fake / "content" / "load.py").write_text("from exporter.render.notes import x\n")
    (fake / "render" / "notes.py").write_text("from exporter.content import load\n")
    (fake / "errors.py").write_text("from exporter.cli import main\n")
    assert upward_imports(fake) == [
        "exporter.content.load imports exporter.render.notes",
        "exporter.errors imports exporter.cli",
    ]


# What cli/ may take from the stages below the pipeline: types, constants, and the values a
# request is made of (the options' choices, the Anki client, the cache folder from the
# environment). A command's work is a pipeline function's: reading, loading and writing.
CLI_FROM_BELOW = {
    "ANKI",
    "Bank",
    "Client",
    "DEFAULT_URL",
    "DIFFICULTIES",
    "Edited",
    "ORDERS",
    "Options",
    "Order",
    "PackageDiff",
    "PackageInfo",
    "Slice",
    "Stats",
    "cache_root",
    "json_schema",  # (schema prints a constant document; it reads nothing)
    "parse_address",
}


def test_cli_calls_the_pipeline_not_the_stages_below_it() -> None:
    """Each command calls one pipeline function: cli/ takes from the stages below the
    pipeline only the names above, never a loader, reader or writer of its own."""
    below = {stage for stage, rank in RANKS.items() if rank < RANKS["pipeline"]}
    taken: set[str] = set()
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and _stage(node.module or "") in below:
                taken.update(f"{node.module}.{alias.name}" for alias in node.names)
    assert sorted(n for n in taken if n.rpartition(".")[2] not in CLI_FROM_BELOW) == []


def test_no_two_modules_share_a_name() -> None:
    """A module's name says its job across the package: two stages never each hold a module
    of one name (as ``package/collection.py`` and ``connect/collection.py`` once did)."""
    names = [p.name for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_every_stage_says_what_it_is() -> None:
    """Each stage folder's ``__init__.py`` says its stage in a sentence, and nothing else."""
    for stage in RANKS:
        if stage in ("pipeline", "__main__"):
            continue
        init = PACKAGE / stage / "__init__.py"
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert len(tree.body) == 1, stage
        doc = ast.get_docstring(tree)
        assert doc is not None, stage
        assert doc.endswith("."), stage


def test_version_license_and_changelog_agree() -> None:
    """The version lives in one place, the changelog has its entry, the licence file exists."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert 'license = "MIT"' in pyproject
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {__version__} " in changelog
