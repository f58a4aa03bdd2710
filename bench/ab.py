"""Two source trees of interview-deck side by side on one bank: CPU seconds (user + system)
and peak RSS of whole processes, interleaved so that load on the machine hits both alike;
medians. How a piece of machinery is judged before it is kept or deleted (BENCHMARKS.md).

    .venv/bin/python bench/ab.py BANK TREE_A TREE_B [--runs 11] [--command build]

A tree is a copy of the sources (``git archive REV | tar -x -C DIR``, then switch the piece
off in one copy). ``build`` runs in full (``--no-cache``) into a fresh folder each time;
``validate`` reads the bank; ``import-text`` takes a page as BANK. Not a test, not run by CI.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from run import PY, run_once


def argv(command: str, bank: Path, out: Path) -> list[str]:
    """The command line of one run, writing into ``out``."""
    if command == "build":
        return [PY, "-m", "exporter", "build", str(bank), "-o", str(out / "x.apkg"), "--no-cache"]
    if command == "import-text":
        return [PY, "-m", "exporter", "import-text", str(bank), "-o", str(out / "x.yaml")]
    return [PY, "-m", "exporter", "validate", str(bank)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bank", type=Path)
    parser.add_argument("trees", type=Path, nargs=2)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--command", choices=["build", "validate", "import-text"], default="build")
    args = parser.parse_args()
    cpu: list[list[float]] = [[], []]
    rss: list[list[int]] = [[], []]
    for n in range(args.runs + 1):  # the first round warms the bytecode caches, untimed
        for i in (0, 1) if n % 2 else (1, 0):
            out = Path(tempfile.mkdtemp(prefix="ab-"))
            try:
                command = argv(args.command, args.bank.resolve(), out)
                run = run_once(command, {"PYTHONPATH": str(args.trees[i])})
            finally:
                shutil.rmtree(out)
            if n:
                cpu[i].append(run.cpu)
                rss[i].append(run.rss_kib)
    for tree, times, peaks in zip(args.trees, cpu, rss, strict=True):
        times.sort()
        print(
            f"{args.command} {args.bank.name} {tree}: CPU median {statistics.median(times):.3f} s "
            f"(min {times[0]:.3f}, max {times[-1]:.3f}, n={len(times)}), "
            f"peak RSS {statistics.median(peaks) / 1024:.0f} MiB"
        )


if __name__ == "__main__":
    main()
