"""Run one function over many inputs (dataset folders, scenario files) in parallel processes.

:func:`run_batch` maps ``func`` over ``tasks`` with a :class:`concurrent.futures.ProcessPoolExecutor` of
``jobs`` processes (``jobs=1``: in this process, no pool), or with any executor that follows the
``concurrent.futures`` interface, e.g. a Dask cluster's (``distributed.Client(...).get_executor()``).
A task that fails is reported in its :class:`BatchResult` and the others go on: a
:class:`~landuse.errors.LanduseError` (bad input, infeasible scenario) with its message and exit code, any
other exception (a bug, or a worker that ran out of memory) as ``"unexpected <Type>: <first line>"`` with
exit code 2, so one bad job never loses the results of the others.
Results come back in the order of ``tasks`` whatever order they finish in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from landuse.errors import LanduseError


@dataclass
class BatchResult:
    """One task's outcome: its value, or a one-line error message and its exit code."""

    task: Any
    value: Any = None
    error: str | None = None
    exit_code: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def _call(func: Callable, task: Any) -> BatchResult:
    try:
        args = task if isinstance(task, tuple) else (task,)
        return BatchResult(task, func(*args))
    except LanduseError as e:
        return BatchResult(task, None, str(e), getattr(e, "exit_code", 2))
    except Exception as e:  # noqa: BLE001 - one job's bug must not abort the batch
        first = (str(e).strip().splitlines() or [""])[0]
        return BatchResult(task, None, f"unexpected {type(e).__name__}" + (f": {first}" if first else ""), 2)


def default_jobs() -> int:
    """Processes to use when the user says ``--jobs 0``: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_batch(func: Callable, tasks: Sequence[Any], jobs: int = 1, executor: Executor | None = None,
              progress: Callable[[BatchResult], None] | None = None) -> list[BatchResult]:
    """``func(*task)`` for every task (a tuple of arguments, or one argument), ``jobs`` at a time.

    ``func`` must be importable by the worker processes (a module-level function). ``progress`` is called
    in this process with each result as it finishes (e.g. to advance a progress bar).
    """
    tasks = list(tasks)
    if executor is None and (jobs <= 1 or len(tasks) <= 1):
        out = []
        for t in tasks:
            out.append(_call(func, t))
            if progress:
                progress(out[-1])
        return out
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=min(jobs, len(tasks)))
    results: list[BatchResult | None] = [None] * len(tasks)
    try:
        futures = {pool.submit(_call, func, t): i for i, t in enumerate(tasks)}
        for fut in as_completed(futures):
            res = fut.result()
            results[futures[fut]] = res
            if progress:
                progress(res)
    finally:
        if own:
            pool.shutdown(cancel_futures=True)
    return [r for r in results if r is not None]
