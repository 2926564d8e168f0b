"""Work done in a background thread while the caller does other work: standard library only (importable before
numpy or pandas are), for code whose heavy part releases the GIL (pyarrow decoding Parquet pages).

* :func:`read_ahead` – the items of an iterator, produced by a thread a few items ahead of the consumer;
* :class:`Ahead` – one call run in a thread, its result (or its exception) collected later.

Both hand on exactly what the work gives, in its order: an exception raised in the thread is raised again, as the
same exception object, where the result is taken.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T], depth: int) -> Iterator[T]:
    """The items of ``items`` in their order, produced by a thread that stays at most ``depth`` items ahead (so
    at most ``depth`` + 2 items are alive at a time). An exception of ``items`` is raised here when its place
    in the sequence is reached; when the consumer stops early the thread stops after the item it is making."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                q.put((item, None))
                if stop.is_set():
                    return
            q.put((_END, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            q.put((_END, e))

    thread = threading.Thread(target=produce, name="landuse-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, err = q.get()
            if item is _END:
                if err is not None:
                    raise err
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # free the queue's places until the producer sees ``stop``
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.01)


class Ahead(Generic[T]):
    """``work()`` started in a daemon thread now; :meth:`result` waits for it and returns its value or raises
    its exception. :meth:`cancel` asks work that polls :attr:`cancelled` to stop early."""

    def __init__(self, work: Callable[[Ahead[T]], T]) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,), name="landuse-ahead", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[Ahead[T]], T]) -> None:
        try:
            self._value = work(self)
        except BaseException as e:  # noqa: BLE001 - handed to :meth:`result`, raised there
            self._error = e

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def cancel(self) -> None:
        self._stop.set()

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
