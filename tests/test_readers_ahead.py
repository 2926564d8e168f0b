"""Reading ahead in a background thread (:mod:`landuse.readers.ahead`): the same items in the same order, the same
exception object at its place in the sequence, and a thread that stops when its consumer does."""

from __future__ import annotations

import threading

import pytest

from landuse.readers.ahead import read_ahead


def _items(n: int, fail_at: int | None = None, made: list[int] | None = None):
    for i in range(n):
        if i == fail_at:
            raise ValueError(f"item {i} is bad")
        if made is not None:
            made.append(i)
        yield i


@pytest.mark.parametrize("depth", [1, 2, 8])
def test_items_in_their_order(depth):
    assert list(read_ahead(_items(100), depth)) == list(range(100))


def test_an_exception_is_raised_at_its_place_in_the_sequence():
    got = []
    with pytest.raises(ValueError, match="item 7 is bad"):
        for item in read_ahead(_items(20, fail_at=7), 4):
            got.append(item)
    assert got == list(range(7))


def test_the_thread_stops_when_the_consumer_does():
    made: list[int] = []
    before = set(threading.enumerate())
    it = read_ahead(_items(1000, made=made), 2)
    assert next(it) == 0
    assert len(set(threading.enumerate()) - before) == 1  # the producer
    it.close()  # the consumer stops early
    assert not [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert len(made) <= 5  # one taken, two queued, one being made, one more before the stop is seen

