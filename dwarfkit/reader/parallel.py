"""Units decoded in forked worker processes, their results taken in order (``dump`` and ``verify`` with ``-j N``).

A large section's units are cut into runs of about :data:`RUN_BYTES` of the section; each run goes to a worker of a
``fork`` pool, which inherits the parent's decoded file (no copy, no pickling of the input) and returns what the
run made: text in a temporary file (dump) or findings (verify). Results come back in run order, at most two runs per
worker in flight, so output is the same as one process's and memory stays bounded. Where ``fork`` is missing (or
for a small section, or ``jobs`` 1) the caller works alone.

Imports the standard library only.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

PARALLEL_THRESHOLD = 2 << 20
"""Sections smaller than this are decoded in one process: a pool costs more than it saves."""
RUN_BYTES = 256 << 10
"""A run of units of about this much section (~7 MB of dump text)."""
MAX_JOBS = 8

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    """One worker per CPU, at most :data:`MAX_JOBS`."""
    return min(os.cpu_count() or 1, MAX_JOBS)


def check_jobs(jobs: int | None) -> int:
    """``jobs`` as given (a positive number) or the default for None."""
    if jobs is None:
        return default_jobs()
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive number, not {jobs!r}")
    return jobs


def worth_it(jobs: int, section_size: int) -> bool:
    """Whether a section of ``section_size`` bytes goes to ``jobs`` workers."""
    return jobs > 1 and section_size >= PARALLEL_THRESHOLD and "fork" in multiprocessing.get_all_start_methods()


def unit_runs(units: Sequence[Any]) -> list[tuple[int, int]]:
    """``[first, last)`` index ranges of ``units`` (objects with ``offset`` and ``end``), each about
    :data:`RUN_BYTES` of their section."""
    runs = []
    start = 0
    for k, unit in enumerate(units):
        if unit.end - units[start].offset >= RUN_BYTES or k == len(units) - 1:
            runs.append((start, k + 1))
            start = k + 1
    return runs


def in_order(work: Callable[[T], R], tasks: Iterable[T], jobs: int) -> Iterator[R]:
    """``work(task)`` for every task, in forked workers, yielded in the tasks' order. ``work`` reads what it needs
    from module state set before the call: the workers are forked from this process at the start."""
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.apply_async(work, (task,)))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
