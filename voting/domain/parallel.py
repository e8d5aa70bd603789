"""A process pool fed in order, with bounded work in flight.

Signing (the benchmark's builder) and verifying (the auditors' verifier) a
million entries both need every core without queueing the whole input in
memory; ``multiprocessing.Pool.imap`` would read its input to the end.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from multiprocessing.pool import AsyncResult
from typing import Any, Generic, TypeVar

Arg = TypeVar("Arg")
Result = TypeVar("Result")


def cpu_count() -> int:
    """The cores this process may run on (a container may get fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class OrderedPool(Generic[Arg, Result]):
    """Runs ``fn`` on each submitted argument in worker processes; results come back in order.

    Workers are spawned, not forked: a verifier holding a large roll would
    otherwise hand each worker a copy-on-write image of it that the garbage
    collector slowly copies for real.
    """

    def __init__(
        self,
        fn: Callable[[Arg], Result],
        workers: int,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self._fn = fn
        self._ahead = 2 * workers
        self._pending: deque[AsyncResult[Result]] = deque()
        context = multiprocessing.get_context("spawn")
        self._pool = context.Pool(workers, initializer, initargs)

    def submit(self, arg: Arg, wait: bool = True) -> list[Result]:
        """Queue ``arg``; returns the results done at the head of the queue, waiting while full.

        Without ``wait`` it never waits, however much is queued: work queued ahead of the
        input (the verifier's read-ahead) must not hold up the caller, who still has its own
        input to read before anything else is submitted.
        """
        self._pending.append(self._pool.apply_async(self._fn, (arg,)))
        done = []
        while self._pending and (
            (wait and len(self._pending) > self._ahead) or self._pending[0].ready()
        ):
            done.append(self._pending.popleft().get())
        return done

    def finish(self) -> list[Result]:
        """Every remaining result, in order; the pool is closed afterwards."""
        done = [pending.get() for pending in self._pending]
        self._pending.clear()
        self.close()
        return done

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()

    def __enter__(self) -> OrderedPool[Arg, Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
