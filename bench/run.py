"""Time interview-deck against a plain genanki script, side by side, as whole processes.

    .venv/bin/python bench/run.py [--sizes 10,1000,10000,100000] [--repeat N]

Generates synthetic banks (bench/synth.py, fixed seed), runs every command several times,
interleaved, and reports medians of wall time and of CPU time (user + system, steadier on a
shared machine), ratios to the baseline, the child's peak RSS (both from ``os.wait4``) and
package sizes. Writes the tables into docs/BENCHMARKS.md between the
``bench:begin``/``bench:end`` markers and the summary table into docs/speed.md between
``speed:begin``/``speed:end`` (both from the same run, so the two pages agree:
tests/project/test_docs.py checks it), keeping the hand-written text around them, and
redraws docs/benchmarks.png.
Not a test, and not run by CI.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
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
# A command whose first run takes longer than this runs only once (the baseline at 100k).
SLOW_S = 20.0


@dataclass
class Sample:
    """Repeated runs of one command."""

    label: str
    seconds: list[float] = field(default_factory=list)  # wall
    cpu: list[float] = field(default_factory=list)  # user + system, with waited-for workers
    rss_kib: list[int] = field(default_factory=list)
    output_bytes: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

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
    env: dict[str, str] = field(default_factory=dict)  # on top of child_env()
    sample: Sample = field(init=False)

    def __post_init__(self) -> None:
        self.sample = Sample(self.label)


def child_env() -> dict[str, str]:
    """The environment for children: bytecode caching on, as for an installed tool."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


@dataclass(frozen=True)
class Run:
    """One run of a child process."""

    seconds: float  # wall
    cpu: float  # user + system of the child and the workers it waited for
    rss_kib: int  # peak RSS: the largest of the child and the workers it waited for


def run_once(argv: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Wall time, CPU time and peak RSS of one child process; raise if it fails."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=err, env={**child_env(), **(env or {})}
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed:\n{err.read().decode(errors='replace')}")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def measure(commands: list[Command], repeat: int) -> None:
    """Run the commands round-robin ``repeat`` times (slow ones once)."""
    for i in range(repeat):
        for cmd in commands:
            if i > 0 and cmd.sample.seconds[0] > SLOW_S:
                continue
            if cmd.before:
                cmd.before()
            run = run_once(cmd.argv, cmd.env)
            cmd.sample.seconds.append(run.seconds)
            cmd.sample.cpu.append(run.cpu)
            cmd.sample.rss_kib.append(run.rss_kib)
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


# The order of commands_for's list, by name: the tables and targets read them so.
VALIDATE, FRESH, NOOP, BASE_A, BASE_B, BASE_SAFE = range(6)
PEER = "ankdown ("  # the peer's row, by its label's start
# ankdown with --highlight: code coloured by Pygments, as ours is (context for the targets)
PEER_HIGHLIGHT = "ankdown --highlight"


ANKDOWN: list[str] = []  # the ankdown command, when --ankdown names one that runs
# Issue 32's targets: a build from scratch against ankdown, by bank size (wall time, median).
PEER_LIMITS = ((10, 1.2), (1_000, 1.0), (10_000, 0.8), (100_000, 0.8))
PEAK_RSS_LIMIT_MIB = 300  # at 100,000 questions
EDIT_LIMIT = 0.5  # one answer edited in 10,000 questions in 40 files, × baseline (a)


def in_child(function: str, *args: Path | int, **kwargs: int | None) -> None:
    """``synth.<function>(*args, **kwargs)`` in a child process: Linux reports a child's
    peak RSS as at least the parent's at fork time, so the parent must not grow by
    generating or converting big banks (it once made every later child read >= 191 MiB)."""
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "import synth; args, kwargs = json.loads(sys.argv[3]); "
        "getattr(synth, sys.argv[2])(*(Path(a) if isinstance(a, str) else a for a in args), "
        "**kwargs)"
    )
    call = json.dumps([[str(a) if isinstance(a, Path) else a for a in args], kwargs])
    subprocess.run([PY, "-c", code, str(ROOT / "bench"), function, call], check=True)


def ankdown_bank(bank: Path) -> Path:
    """The bank as ankdown's input (``synth.ankdown_bank``, in a child), written once and
    untimed, beside the bank."""
    folder = bank.parent / f"{bank.name}-ankdown"
    in_child("ankdown_bank", bank, folder)
    return folder


def commands_for(bank: Path, work: Path, *, slow_baseline: bool = True) -> list[Command]:
    """validate, fresh build, no-op rebuild and the baseline scripts for one bank."""
    fresh = work / "fresh" / "deck.apkg"
    noop = work / "noop" / "deck.apkg"
    script = str(ROOT / "bench" / "baseline.py")
    # "fresh" is a build from scratch: no output, no record, and an empty work cache.
    fresh_cache = work / "fresh-cache"
    commands = [
        Command("interview-deck validate", [DECK, "validate", str(bank)]),
        Command(
            "interview-deck build (fresh)",
            [DECK, "build", str(bank), "-o", str(fresh)],
            output=fresh,
            before=remove(fresh.parent, fresh_cache),
            env={"INTERVIEW_DECK_CACHE": str(fresh_cache)},
        ),
        Command(
            "interview-deck build (no-op)",
            [DECK, "build", str(bank), "-o", str(noop)],
            noop,
            env={"INTERVIEW_DECK_CACHE": str(work / "noop-cache")},
        ),
        Command(
            "(a) CSafeLoader + genanki, no Markdown",
            [PY, script, str(bank), str(work / "a.apkg"), "--c-loader"],
            output=work / "a.apkg",
        ),
        Command(
            "(b) CSafeLoader + markdown-it-py + genanki",
            [PY, script, str(bank), str(work / "b.apkg"), "--c-loader", "--markdown"],
            output=work / "b.apkg",
        ),
    ]
    if slow_baseline:
        commands.append(
            Command(
                "(c) yaml.safe_load + genanki",
                [PY, script, str(bank), str(work / "c.apkg")],
                output=work / "c.apkg",
            )
        )
    if ANKDOWN:
        cards = ankdown_bank(bank)
        out = work / "ankdown.apkg"
        commands.append(
            Command(
                "ankdown (peer: misaka, no checks)",
                [*ANKDOWN, "-r", str(cards), "-p", str(out)],
                out,
            )
        )
        lit = work / "ankdown-highlight.apkg"
        commands.append(
            Command(
                f"{PEER_HIGHLIGHT} (misaka + Pygments, no checks)",
                [*ANKDOWN, "--highlight", "-r", str(cards), "-p", str(lit)],
                lit,
            )
        )
    return commands


def incremental_commands(bank: Path, work: Path) -> list[Command]:
    """A bank with one answer edited before each build (its work cache kept from the build
    before, as on a user's machine), and baseline (a) on it."""
    out = work / "incremental" / "deck.apkg"
    target = sorted(bank.glob("*.yaml"))[len(list(bank.glob("*.yaml"))) // 2]
    original = target.read_text(encoding="utf-8")
    flip = [False]

    def edit() -> None:
        flip[0] = not flip[0]
        marker = "Edited once. " if flip[0] else "Edited twice. "
        text = original.replace("    answer: |-\n      ", "    answer: |-\n      " + marker, 1)
        target.write_text(text, encoding="utf-8")

    return [
        Command(
            "interview-deck build (one answer edited)",
            [DECK, "build", str(bank), "-o", str(out)],
            out,
            edit,
            env={"INTERVIEW_DECK_CACHE": str(work / "work-cache")},
        ),
        Command(
            "(a) CSafeLoader + genanki, no Markdown",
            [
                PY,
                str(ROOT / "bench" / "baseline.py"),
                str(bank),
                str(work / "ia.apkg"),
                "--c-loader",
            ],
            output=work / "ia.apkg",
        ),
    ]


def make_bank(folder: Path, size: int, files: int | None = None) -> Path:
    """``synth.make_bank``, in a child process (``in_child``)."""
    in_child("make_bank", folder, size, files=files)
    return folder


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
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC,"
        f" commit `{commit}` (+ uncommitted changes, if any)",
        f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {mem}; {platform.platform()}",
        f"- Python {platform.python_version()}; {versions}; libyaml {libyaml};"
        f" SQLite {sqlite3.sqlite_version}; zlib {zlib.ZLIB_RUNTIME_VERSION}",
    ]


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:,.1f}"


def size(n: float) -> str:
    """A file size for docs/speed.md's table: KiB below a MiB."""
    return f"{n / 1024:,.0f} KiB" if n < 2**20 else f"{n / 2**20:,.1f} MiB"


def size_table(size: int, bank_bytes: int, commands: list[Command]) -> list[str]:
    base = commands[3].sample
    fresh = commands[1].sample
    lines = [
        f"### {size:,} questions ({synth.role_count(size)} files, {mib(bank_bytes)} MiB of YAML)",
        "",
        "| command | runs | median s | CPU s | × baseline | × baseline CPU | × fresh build "
        "| peak RSS MiB | output MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cmd in commands:
        s = cmd.sample
        out = mib(s.output_bytes) if s.output_bytes else ""
        lines.append(
            f"| {s.label} | {len(s.seconds)} | {s.median:.3f} | {s.cpu_median:.3f} "
            f"| {s.median / base.median:.2f} | {s.cpu_median / base.cpu_median:.2f} "
            f"| {s.median / fresh.median:.2f} | {s.peak_mib:,.0f} | {out} |"
        )
    return [*lines, ""]


def timing_table(title: str, commands: list[Command], digits: int = 3) -> list[str]:
    """A table of commands' runs, wall and CPU medians and peak RSS."""
    return [
        f"### {title}",
        "",
        "| command | runs | median s | CPU s | peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {c.label} | {len(c.sample.seconds)} | {c.sample.median:.{digits}f} "
            f"| {c.sample.cpu_median:.{digits}f} | {c.sample.peak_mib:,.0f} |"
            for c in commands
        ),
        "",
    ]


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


def targets(
    results: dict[int, list[Command]],
    startup: list[Command],
    incremental: list[Command] | None,
    small_edit: list[Command] | None = None,
) -> list[str]:
    """Issue 32's targets, checked against this run: a build from scratch against ankdown
    (the peer) at each size, peak RSS at 100,000, and one edited answer against baseline
    (a). Met or not by wall time (medians of interleaved runs); the CPU ratio beside it."""
    # (what, wall ratio or value, CPU ratio, met); met None: shown for context only
    rows: list[tuple[str, str, str, bool | None]] = []

    for n, limit in PEER_LIMITS:
        peer = [cmd.sample for cmd in results.get(n, []) if cmd.label.startswith(PEER)]
        if not peer:
            if n in results:
                rows.append((f"{n:,}: full build ≤ {limit}× ankdown", "not run", "", None))
            continue
        ours = results[n][FRESH].sample
        r = ours.median / peer[0].median
        cpu = ours.cpu_median / peer[0].cpu_median
        rows.append(
            (f"{n:,}: full build ≤ {limit}× ankdown", f"{r:.2f}×", f"{cpu:.2f}×", r <= limit)
        )
    for n in sorted(results):
        lit = [cmd.sample for cmd in results[n] if cmd.label.startswith(PEER_HIGHLIGHT)]
        if lit:
            ours = results[n][FRESH].sample
            rows.append(
                (
                    f"(context) {n:,}: full build vs ankdown --highlight (code coloured, as ours)",
                    f"{ours.median / lit[0].median:.2f}×",
                    f"{ours.cpu_median / lit[0].cpu_median:.2f}×",
                    None,
                )
            )
    if 100_000 in results:
        peak = results[100_000][FRESH].sample.peak_mib
        rows.append(
            (
                f"100,000: peak RSS ≤ {PEAK_RSS_LIMIT_MIB} MiB",
                f"{peak:.0f} MiB",
                "",
                peak <= PEAK_RSS_LIMIT_MIB,
            )
        )
    if incremental:
        edited, base = incremental[0].sample, incremental[1].sample
        r = edited.median / base.median
        rows.append(
            (
                f"10,000 in 40 files, one answer edited: ≤ {EDIT_LIMIT}× baseline (a)",
                f"{r:.2f}×",
                f"{edited.cpu_median / base.cpu_median:.2f}×",
                r <= EDIT_LIMIT,
            )
        )
    if small_edit and 10 in results:
        edited, floor = small_edit[0].sample, startup[1].sample
        rows.append(
            (
                "(context) 10 questions, one answer edited, vs `import click, yaml`",
                f"{edited.median / floor.median:.2f}×",
                f"{edited.cpu_median / floor.cpu_median:.2f}×",
                None,
            )
        )
    lines = [
        "### Targets",
        "",
        "| target | this run (wall) | CPU | met |",
        "| --- | ---: | ---: | :---: |",
    ]
    shown = {True: "yes", False: "**no**", None: "—"}
    lines += [f"| {what} | {value} | {cpu} | {shown[ok]} |" for what, value, cpu, ok in rows]
    return [*lines, ""]


def plot(results: dict[int, list[Command]], path: Path) -> None:
    """Time and peak memory against bank size, log-log: ours, baselines (a), (b) and
    ankdown (when it ran at every size)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results)
    series: list[tuple[str, int | str, str]] = [
        ("interview-deck build", FRESH, "o-"),
        ("(a) CSafeLoader + genanki", BASE_A, "s--"),
        ("(b) + markdown-it-py", BASE_B, "^--"),
    ]
    if all(any(c.label.startswith(PEER) for c in results[n]) for n in sizes):
        series.append(("ankdown", PEER, "d:"))

    def sample(n: int, which: int | str) -> Sample:
        if isinstance(which, int):
            return results[n][which].sample
        return next(c.sample for c in results[n] if c.label.startswith(which))

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for label, index, style in series:
        left.plot(sizes, [sample(n, index).median for n in sizes], style, label=label)
        right.plot(sizes, [sample(n, index).peak_mib for n in sizes], style, label=label)
    for axis, title in ((left, "build time (s)"), (right, "peak RSS (MiB)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("questions")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    left.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def readme_table(
    results: dict[int, list[Command]],
    startup: list[Command],
    incremental: list[Command] | None = None,
) -> list[str]:
    """docs/speed.md's table, from this run (the same numbers as docs/BENCHMARKS.md's)."""
    lines = [
        "| questions | build | (a) CSafeLoader + genanki | (b) + markdown-it-py | ankdown "
        "| no-op rebuild | peak RSS | package |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def both(s: Sample) -> str:
        return f"{s.median:.2f} s ({s.cpu_median:.2f})"

    for n in sorted(results):
        c = results[n]
        peer = [cmd.sample for cmd in c if cmd.label.startswith(PEER)]
        shown = both(peer[0]) if peer else "—"
        lines.append(
            f"| {n:,} | {both(c[FRESH].sample)} | {both(c[BASE_A].sample)} "
            f"| {both(c[BASE_B].sample)} | {shown} | {both(c[NOOP].sample)} "
            f"| {c[FRESH].sample.peak_mib:,.0f} MiB | {size(c[FRESH].sample.output_bytes)} |"
        )
    lines += ["", "Wall time, median, with CPU time (user + system) in brackets.", ""]
    if incremental:
        lines.append(
            f"One answer edited in a 10,000-question bank of 40 files: "
            f"{both(incremental[0].sample)} (baseline (a) on that bank: "
            f"{both(incremental[1].sample)})."
        )
        lines.append("")
    lines.append(
        f"`interview-deck --help` starts in {startup[0].sample.median:.3f} s, "
        f"{startup[0].sample.cpu_median:.3f} s of CPU "
        f'(`python -c "import click, yaml"`: {startup[1].sample.median:.3f} s, '
        f"{startup[1].sample.cpu_median:.3f} s)."
    )
    return lines


def write_report(path: Path, body: list[str], marker: str = "bench") -> None:
    """Replace what stands between ``<!-- MARKER:begin -->`` and ``…:end -->`` in ``path``."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    block = "\n".join([begin, *body, end])
    text = (
        path.read_text(encoding="utf-8") if path.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    )
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(head + block + tail, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=0, help="runs per command (default: by size)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--no-report", action="store_true", help="print only")
    parser.add_argument("--ankdown", help="an ankdown executable, to add it as a peer row")
    args = parser.parse_args()
    if args.ankdown and shutil.which(args.ankdown):
        ANKDOWN.append(str(shutil.which(args.ankdown)))
    sizes = [int(s) for s in args.sizes.split(",")]

    banks = {n: make_bank(args.work / "banks" / str(n), n) for n in sizes}
    startup = [
        Command("interview-deck --help", [DECK, "--help"]),
        Command("python -c 'import click, yaml'", [PY, "-c", "import click, yaml"]),
        Command("python -c pass", [PY, "-c", "pass"]),
    ]
    # Warm-up: write bytecode caches and page in the tools once, untimed.
    for cmd in [*startup, *commands_for(banks[min(sizes)], args.work / "warmup")]:
        if cmd.before:
            cmd.before()
        run_once(cmd.argv, cmd.env)
    print("startup", file=sys.stderr)
    measure(startup, args.repeat or 21)

    results: dict[int, list[Command]] = {}
    for n in sizes:
        print(f"{n} questions", file=sys.stderr)
        work = args.work / "runs" / str(n)
        remove(work)()
        commands = commands_for(banks[n], work, slow_baseline=n <= 10_000)
        run_once(commands[NOOP].argv, commands[NOOP].env)  # the no-op needs an output first
        measure(commands, args.repeat or default_repeat(n))
        results[n] = commands

    small_edit: list[Command] | None = None
    if 10 in sizes:
        print("10 questions, edited", file=sys.stderr)
        ten = args.work / "banks" / "10-edited"
        remove(ten)()
        shutil.copytree(banks[10], ten)
        small_edit = incremental_commands(ten, args.work / "runs" / "10-edited")
        remove(args.work / "runs" / "10-edited")()
        run_once(small_edit[0].argv, small_edit[0].env)
        measure(small_edit, args.repeat or 15)

    incremental: list[Command] | None = None
    if 10_000 in sizes:
        print("incremental", file=sys.stderr)
        forty = make_bank(args.work / "banks" / "10000-in-40", 10_000, files=40)
        incremental = incremental_commands(forty, args.work / "runs" / "incremental")
        remove(args.work / "runs" / "incremental")()
        run_once(incremental[0].argv, incremental[0].env)  # so each timed build is an edit
        measure(incremental, args.repeat or 5)
    body = ["## Results", "", *machine(), ""]
    body += targets(results, startup, incremental, small_edit)
    body += timing_table("Start-up", startup)
    for n in sizes:
        body += size_table(n, synth.bank_bytes(banks[n]), results[n])
    if small_edit:
        body += timing_table("One answer edited in the 10-question bank", small_edit)
    if incremental:
        body += timing_table(
            "One answer edited in a 10,000-question bank of 40 files", incremental, digits=2
        )
    if len(sizes) > 1:
        try:
            plot(results, ROOT / "docs" / "benchmarks.png")
            body += ["![Build time and peak memory against bank size](benchmarks.png)", ""]
        except ImportError:  # matplotlib is the bench extra: the tables do without the plot
            print("no matplotlib: plot left as it was", file=sys.stderr)
    largest = results[max(sizes)][FRESH].output
    assert largest is not None
    body += zip_levels(largest)
    print("\n".join(body))
    if not args.no_report:
        write_report(args.report, body)
        write_report(
            ROOT / "docs" / "speed.md", readme_table(results, startup, incremental), "speed"
        )


if __name__ == "__main__":
    main()
