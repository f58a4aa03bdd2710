"""A function mapped over many items in worker processes, results in order: for the two
costs of a big build that are pure Python and hold the GIL (parsing files, rendering
Markdown), where threads would not help. One process per core (at most 8); forked on Linux
(nothing to import again), spawned elsewhere, where each one pays its imports. The results
are the function's own, so they are the same with any number of workers."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Generator, Iterable
from typing import TypeVar

from exporter.errors import WorkerLost

In = TypeVar("In")
Out = TypeVar("Out")

MAX_WORKERS = 8
# How workers start: forked on Linux; spawned elsewhere (macOS and Windows cannot fork safely).
START = "fork" if sys.platform == "linux" else "spawn"


def worker_count(work: int, enough: int, workers: int | None = None) -> int:
    """How many processes to use for ``work`` units when ``enough`` units pay for them
    (spawned workers need four times as much); ``workers`` forces a count."""
    if workers is not None:
        return max(1, workers)
    bar = enough if START == "fork" else 4 * enough
    return min(usable_cores(), MAX_WORKERS) if work >= bar else 1


def usable_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    counted = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counted is not None:
        return int(counted() or 1)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def ordered_map(
    func: Callable[[In], Out], items: Iterable[In], count: int, chunk: int = 1
) -> Generator[Out, None, None]:
    """``map(func, items)``, in ``count`` worker processes when ``count`` > 1. A worker that
    dies (killed, out of memory) is ``WorkerLost``, never a build that waits for ever."""
    if count <= 1:
        yield from map(func, items)
        return
    import multiprocessing  # ~10 ms: only when there are workers to start
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context(START)
    pool = ProcessPoolExecutor(count, mp_context=context, initializer=_plain_signals)
    try:
        yield from pool.map(func, items, chunksize=chunk)
    except BrokenProcessPool:
        raise WorkerLost(
            "a worker process stopped before finishing (killed, or the machine ran out of "
            "memory?); nothing was written. Build again"
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _plain_signals() -> None:
    """A worker ends quietly when stopped (SIGTERM), and leaves Ctrl-C to the parent, which
    stops the pool (a forked worker would otherwise run the command's own handlers and print
    a traceback)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
