"""Reading in a background thread while the caller works on what was read: for readers whose heavy part releases
the GIL (pyarrow decoding Parquet pages, parsing CSV blocks), so that both run at once.

:func:`read_ahead` hands on exactly what the reader gives, in its order: an exception raised in the thread is
raised again, as the same exception object, where its place in the sequence is reached.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

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

