"""How the work of each Pygments lexer grows on crafted code blocks that the highlighting
limits let through (exporter/markup/highlight.py: size, line, run of one character, a
lexer's own limit): where it grows faster than the text, a lexer needs a limit of its own.

    .venv/bin/python bench/lexers.py [--chars 1500,6000] [--lexers systemd,ini] [--jobs N]

For every built-in lexer (or those named), every case is a block filled to the size given
from one piece: a run of one character as long as the limit allows, then a separator; or a
line as long as the limit allows of one short periodic piece. A case outside the limits
(``plain_reason`` is not None) is shown plain by the exporter and skipped here. Prints one
JSON line per lexer: its worst case at each size, in CPU seconds of a child process (so a
busy machine slows the wall clock, not the numbers), and the ratio between the sizes:
about the ratio of the sizes for linear work, its square for quadratic. A child that runs
past the timeout is reported as such. Not a test, and not run by CI.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exporter.markup.highlight import (
    MAX_HIGHLIGHT_LINE,
    MAX_HIGHLIGHT_RUN,
    MAX_WORD_CHAIN,
    SLOW_LEXERS,
    plain_reason,
)

# Characters and short pieces that Pygments' expressions treat specially somewhere.
UNITS = list(" \t'\"`\\#;/*-=<>{}[]()$%@:.,|&!?+_^~a1")
PIECES = [
    "a ",
    '\\"',
    "<!--",
    "/*",
    "${",
    "a:",
    "a=",
    "a.",
    "\\\n",
    "a\n",
    "'a",
    '"a',
    "(a",
    "a(",
    "[a",
    "{a",
    "<a",
    "a/",
    "a,",
    "1.",
    "#a",
    "-a",
    "-=",
    "/a",
    "a\\",
    " \na",
    "\"'",
    "()",
    "[]",
    "{}",
    "<>",
    "a b",
    "x = ",
    "# ",
    "//a",
    "\t#",
    "ab",
    "a1",
    "a_",
    "\xa0a",
]
SEPARATORS = ("x", "x\n", "# x\n", "=x\n", '"x\n')


def cases(chars: int) -> Iterator[tuple[str, str]]:
    """(name, block) of about ``chars`` characters each, within the generic limits."""
    for unit in UNITS:
        for sep in SEPARATORS:
            yield f"run {unit!r} then {sep!r}", _fill(unit * MAX_HIGHLIGHT_RUN + sep, chars)
    for piece in PIECES:
        line = (piece * MAX_HIGHLIGHT_LINE)[: MAX_HIGHLIGHT_LINE - 2]
        for sep in ("x\n", "\n"):
            yield f"line of {piece!r} then {sep!r}", _fill(line + sep, chars)
    yield "indented comments", _fill(" " * (MAX_HIGHLIGHT_RUN - 1) + "# x\n", chars)
    yield "words", _fill("ab cd = ef\n", chars)
    for sep in (" ", "\n"):
        yield f"chains of words by {sep!r}", _fill(sep.join(["ab"] * MAX_WORD_CHAIN) + ";\n", chars)


def _fill(piece: str, chars: int) -> str:
    return piece * max(1, chars // len(piece))


def measure(language: str, sizes: list[int]) -> tuple[str, dict[int, tuple[float, str]]]:
    """The lexer's name and its worst case at each size (CPU seconds, the case), as this
    process lexes it."""
    from pygments.lexers import find_lexer_class_by_name

    lexer = find_lexer_class_by_name(language)(stripnl=False, ensurenl=False)
    own = SLOW_LEXERS.get(lexer.name)
    worst: dict[int, tuple[float, str]] = {}
    for chars in sorted({min(n, own or n) for n in sizes}):  # a slow lexer: at its limit
        for name, code in cases(chars):
            if plain_reason(code, language) is not None:
                continue  # the exporter shows it plain
            start = time.process_time()
            for _ in lexer.get_tokens(code):
                pass
            spent = time.process_time() - start
            if spent > worst.get(chars, (-1.0, ""))[0]:
                worst[chars] = (spent, name)
    return str(lexer.name), worst


def _child(language: str, sizes: list[int], timeout: float) -> str:
    command = [sys.executable, __file__, "--child", language, "--chars", ",".join(map(str, sizes))]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return json.dumps({"alias": language, "timeout": timeout})
    return done.stdout.strip() or json.dumps({"alias": language, "error": done.stderr[-300:]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", default="1500,6000")
    parser.add_argument("--lexers", default="", help="aliases, comma-separated (default: all)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(n) for n in args.chars.split(",")]
    if args.child:
        name, worst = measure(args.child, sizes)
        print(json.dumps({"lexer": name, "alias": args.child, "worst": worst}))
        return
    from pygments.lexers import get_all_lexers

    languages = (
        args.lexers.split(",")
        if args.lexers
        else [aliases[0] for _name, aliases, *_ in get_all_lexers(plugins=False) if aliases]
    )
    with ThreadPoolExecutor(args.jobs) as pool:
        for line in pool.map(lambda lang: _child(lang, sizes, args.timeout), languages):
            print(line, flush=True)


if __name__ == "__main__":
    main()
