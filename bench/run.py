"""Time interview-deck against a plain genanki script, side by side, as whole processes.

    .venv/bin/python bench/run.py [--sizes 10,1000,10000,100000] [--repeat N]

Generates synthetic banks (bench/synth.py, fixed seed), runs every command several times,
interleaved, and reports medians, ratios to the baseline, the child's peak RSS (from
``os.wait4``) and package sizes. Writes the tables into docs/BENCHMARKS.md between the
``bench:begin``/``bench:end`` markers, keeping the hand-written text around them.
Not a test, and not run by CI.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import synth

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DECK = str(BIN / "interview-deck")
PY = sys.executable
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
# A command whose first run takes longer than this runs only once (the baseline at 100k).
SLOW_S = 20.0


@dataclass
class Sample:
    """Repeated runs of one command."""

    label: str
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    output_bytes: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mib(self) -> float:
        return max(self.rss_kib) / 1024


@dataclass
class Command:
    """One command to time; ``before`` runs untimed before each run (e.g. delete output)."""

    label: str
    argv: list[str]
    output: Path | None = None
    before: Callable[[], None] | None = None
    sample: Sample = field(init=False)

    def __post_init__(self) -> None:
        self.sample = Sample(self.label)


def child_env() -> dict[str, str]:
    """The environment for children: bytecode caching on, as for an installed tool."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def run_once(argv: Sequence[str]) -> tuple[float, int]:
    """Wall time (s) and peak RSS (KiB) of one child process; raise if it fails."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=child_env())
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed:\n{err.read().decode(errors='replace')}")
    return elapsed, usage.ru_maxrss


def measure(commands: list[Command], repeat: int) -> None:
    """Run the commands round-robin ``repeat`` times (slow ones once)."""
    for i in range(repeat):
        for cmd in commands:
            if i > 0 and cmd.sample.seconds[0] > SLOW_S:
                continue
            if cmd.before:
                cmd.before()
            seconds, rss = run_once(cmd.argv)
            cmd.sample.seconds.append(seconds)
            cmd.sample.rss_kib.append(rss)
            if cmd.output is not None:
                cmd.sample.output_bytes = cmd.output.stat().st_size
        print(f"  round {i + 1}/{repeat} done", file=sys.stderr, flush=True)


def remove(*paths: Path) -> Callable[[], None]:
    def _remove() -> None:
        for path in paths:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    return _remove


def commands_for(bank: Path, work: Path) -> list[Command]:
    """validate, fresh build, no-op rebuild and the two baseline scripts for one bank."""
    fresh = work / "fresh" / "deck.apkg"
    noop = work / "noop" / "deck.apkg"
    base = work / "baseline.apkg"
    base_c = work / "baseline-c.apkg"
    return [
        Command("interview-deck validate", [DECK, "validate", str(bank)]),
        Command(
            "interview-deck build (fresh)",
            [DECK, "build", str(bank), "-o", str(fresh)],
            output=fresh,
            before=remove(fresh.parent),
        ),
        Command("interview-deck build (no-op)", [DECK, "build", str(bank), "-o", str(noop)], noop),
        Command(
            "baseline: safe_load + genanki",
            [PY, str(ROOT / "bench" / "baseline.py"), str(bank), str(base)],
            output=base,
        ),
        Command(
            "baseline with CSafeLoader",
            [PY, str(ROOT / "bench" / "baseline.py"), str(bank), str(base_c), "--c-loader"],
            output=base_c,
        ),
    ]


def default_repeat(size: int) -> int:
    return 15 if size <= 100 else 7 if size <= 1000 else 5 if size <= 10_000 else 3


def machine() -> list[str]:
    """Lines describing where this ran."""
    cpu = "unknown"
    mem = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("genanki", "PyYAML", "click", "interview-deck")
    )
    import yaml

    libyaml = yaml._yaml.get_version_string() if yaml.__with_libyaml__ else "none"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return [
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC,"
        f" commit `{commit}` (+ uncommitted changes, if any)",
        f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {mem}; {platform.platform()}",
        f"- Python {platform.python_version()}; {versions}; libyaml {libyaml};"
        f" SQLite {sqlite3.sqlite_version}; zlib {zlib.ZLIB_RUNTIME_VERSION}",
    ]


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:,.1f}"


def size_table(size: int, bank_bytes: int, commands: list[Command]) -> list[str]:
    base = commands[3].sample
    fresh = commands[1].sample
    lines = [
        f"### {size:,} questions ({synth.role_count(size)} files, {mib(bank_bytes)} MiB of YAML)",
        "",
        "| command | runs | median s | × baseline | × fresh build | peak RSS MiB | output MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cmd in commands:
        s = cmd.sample
        out = mib(s.output_bytes) if s.output_bytes else ""
        lines.append(
            f"| {s.label} | {len(s.seconds)} | {s.median:.3f} | {s.median / base.median:.2f} "
            f"| {s.median / fresh.median:.2f} | {s.peak_mib:,.0f} | {out} |"
        )
    return [*lines, ""]


def zip_levels(package: Path) -> list[str]:
    """Time DEFLATE levels on the largest package's database, in this process."""
    with zipfile.ZipFile(package) as archive:
        db = archive.read("collection.anki2")
    lines = [
        f"### DEFLATE level for the database ({mib(len(db))} MiB uncompressed)",
        "",
        "| level | seconds | MiB | % of stored |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for level in (0, 1, 3, 6, 9):
        start = time.perf_counter()
        comp = zlib.compressobj(level, zlib.DEFLATED, -15)
        n = len(comp.compress(db)) + len(comp.flush())
        lines.append(
            f"| {level} | {time.perf_counter() - start:.2f} | {mib(n)} | {100 * n / len(db):.0f}% |"
        )
    return [*lines, ""]


def targets(results: dict[int, list[Command]], startup: list[Command]) -> list[str]:
    """The issue's targets, checked against this run."""
    help_ratio = startup[0].sample.median / startup[1].sample.median
    rows: list[tuple[str, str, bool]] = [
        ("`--help` ≤ 1.3× `import click, yaml`", f"{help_ratio:.2f}×", help_ratio <= 1.3)
    ]
    if 10 in results:
        r = results[10][1].sample.median / startup[1].sample.median
        rows.append(("10-question build ≤ 1.5× `import click, yaml`", f"{r:.2f}×", r <= 1.5))
    for size, limit in ((10_000, 0.6), (100_000, 0.5)):
        if size in results:
            c = results[size]
            r = c[1].sample.median / c[3].sample.median
            rows.append((f"{size:,}: build ≤ {limit}× baseline", f"{r:.2f}×", r <= limit))
    if 10_000 in results:
        c = results[10_000]
        r = c[2].sample.median / c[1].sample.median
        rows.append(("10,000: no-op rebuild ≤ 0.2× full build", f"{r:.2f}×", r <= 0.2))
    if 100_000 in results:
        c = results[100_000]
        peak = c[1].sample.peak_mib
        rows.append(("100,000: build peak RSS ≤ 400 MB", f"{peak:.0f} MiB", peak * 1.048576 <= 400))
        r = c[1].sample.output_bytes / c[3].sample.output_bytes
        rows.append(("100,000: package ≤ 30% of genanki's", f"{100 * r:.0f}%", r <= 0.3))
    lines = ["### Targets", "", "| target | this run | met |", "| --- | ---: | :---: |"]
    lines += [f"| {what} | {value} | {'yes' if ok else '**no**'} |" for what, value, ok in rows]
    return [*lines, ""]


def write_report(path: Path, body: list[str]) -> None:
    block = "\n".join([BEGIN, *body, END])
    text = (
        path.read_text(encoding="utf-8") if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    )
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(head + block + tail, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=0, help="runs per command (default: by size)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--no-report", action="store_true", help="print only")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    banks = {n: synth.make_bank(args.work / "banks" / str(n), n) for n in sizes}
    startup = [
        Command("interview-deck --help", [DECK, "--help"]),
        Command("python -c 'import click, yaml'", [PY, "-c", "import click, yaml"]),
        Command("python -c pass", [PY, "-c", "pass"]),
    ]
    # Warm-up: write bytecode caches and page in the tools once, untimed.
    for cmd in [*startup, *commands_for(banks[min(sizes)], args.work / "warmup")]:
        if cmd.before:
            cmd.before()
        run_once(cmd.argv)
    print("startup", file=sys.stderr)
    measure(startup, args.repeat or 21)

    results: dict[int, list[Command]] = {}
    for n in sizes:
        print(f"{n} questions", file=sys.stderr)
        work = args.work / "runs" / str(n)
        remove(work)()
        commands = commands_for(banks[n], work)
        run_once(commands[2].argv)  # the no-op rebuild needs an up-to-date output first
        measure(commands, args.repeat or default_repeat(n))
        results[n] = commands

    body = ["## Results", "", *machine(), ""]
    body += targets(results, startup)
    body += [
        "### Start-up",
        "",
        "| command | runs | median s | peak RSS MiB |",
        "| --- | ---: | ---: | ---: |",
    ]
    body += [
        f"| {c.label} | {len(c.sample.seconds)} | {c.sample.median:.3f} "
        f"| {c.sample.peak_mib:,.0f} |"
        for c in startup
    ]
    body.append("")
    for n in sizes:
        body += size_table(n, synth.bank_bytes(banks[n]), results[n])
    largest = results[max(sizes)][1].output
    assert largest is not None
    body += zip_levels(largest)
    print("\n".join(body))
    if not args.no_report:
        write_report(args.report, body)


if __name__ == "__main__":
    main()
