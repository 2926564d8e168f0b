"""Run one function in a forked child process while this process goes on with other work.

``landuse run`` uses it to put independent steps on a machine's second core: the reconciliation next to
change → allocation, and the workbook next to the CSV files. :func:`background` forks; the child calls the
function, sends its value or its exception back pickled through a pipe, and leaves with ``os._exit`` (no
``atexit`` handlers, no flushing of buffers it inherited, no clean-up of the parent's staging folder);
:meth:`Task.result` waits for it and returns the value or raises the same exception (a child that sent its
result is reaped without waiting for it to give its memory back: at the next call or at exit). Leaving the
``with`` block without taking the result kills and reaps the child, so no process outlives the job.

With ``enabled=False``, or where no child can be made (no ``os.fork`` on Windows; no memory, process slot or
file descriptor for one), the function runs at once in this process and :meth:`Task.result` hands over what it
returned or raised: the caller's code and its results are the same either way (a test compares every file of
``landuse run`` byte for byte).

The child inherits the parent's memory as it was at the fork and shares nothing after it: caches the
function fills there are lost, which is why only functions whose whole result is their return value (or
files they write) go to the background.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from landuse.errors import LanduseError


class BackgroundError(LanduseError):
    """The child process ended without sending back a result (it was killed, or ran out of memory)."""


def can_fork() -> bool:
    """Whether this platform can fork (POSIX)."""
    return hasattr(os, "fork")


def forks_by_default() -> bool:
    """Whether to use a background child unless told otherwise: on Linux with two CPUs or more available to this
    process. Not on macOS, where a forked child may crash if the parent touched Apple's system frameworks
    (Python's own multiprocessing stopped forking there by default), nor on Windows (no fork); there
    ``--jobs 2`` still forks where it can."""
    if not sys.platform.startswith("linux"):
        return False
    return len(os.sched_getaffinity(0)) > 1


class Task:
    """A function running in a forked child (or already run here). ``seconds``: the function's own wall time,
    known once :meth:`result` has returned or raised."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._pid: int | None = None
        self._fd: int | None = None
        self._outcome: tuple[bool, Any] | None = None

    def start(self, fn: Callable[[], Any], enabled: bool = True) -> None:
        """Fork a child calling ``fn``; not ``enabled``, or where no child can be made (no fork on this
        platform, no memory, process slot or file descriptor for one), call it here and now instead: what it
        raises then propagates at once, as it would without this module."""
        reap_children(block=False)
        if enabled and can_fork() and self._fork(fn):
            return
        t = time.perf_counter()
        self._outcome = (True, fn())
        self.seconds = time.perf_counter() - t

    def _fork(self, fn: Callable[[], Any]) -> bool:
        try:
            r, w = os.pipe()
        except OSError:
            return False
        # Ctrl-C is held back over the fork until the child's pid is recorded: a KeyboardInterrupt raised in
        # os.fork's own after-fork handlers is swallowed by Python ("Exception ignored in ... _releaseLock"),
        # and one raised before the pid is known would leave the child running. It is raised when the mask is
        # restored, and the ``with`` block of :func:`background` then kills the child.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            try:
                pid = os.fork()
            except OSError:
                os.close(r)
                os.close(w)
                return False
            if pid == 0:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
                _child(fn, r, w)  # never returns
            os.close(w)
            self._pid, self._fd = pid, r
            return True
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def result(self) -> Any:
        """The function's return value; raises what it raised (or :class:`BackgroundError` if the child died)."""
        if self._outcome is None:
            self._outcome, self.seconds = self._collect()
        ok, value = self._outcome
        if not ok:
            raise value
        return value

    def _collect(self) -> tuple[tuple[bool, Any], float]:
        assert self._fd is not None and self._pid is not None
        fd, self._fd = self._fd, None
        with os.fdopen(fd, "rb") as f:  # read to the end before waiting: a full pipe would block the child
            data = f.read()
        pid, self._pid = self._pid, None
        if not data:
            _, status = os.waitpid(pid, 0)
            return (False, BackgroundError(f"the background step ended without a result "
                                           f"({_describe(status)})")), 0.0
        _reap_later(pid)  # it sent everything; its memory is torn down while this process goes on
        outcome, seconds = pickle.loads(data)
        return outcome, seconds

    def cancel(self) -> None:
        """Kill and reap the child if it is still there (its result is not wanted)."""
        fd, pid, self._fd, self._pid = self._fd, self._pid, None, None
        if fd is not None:
            with suppress(OSError):  # closed already (interrupted while being read)
                os.close(fd)
        if pid is not None:
            with suppress(ProcessLookupError, ChildProcessError):  # gone, or reaped already
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


@contextmanager
def background(fn: Callable[[], Any], enabled: bool = True) -> Iterator[Task]:
    """``fn()`` in a forked child while the ``with`` block runs here; take its value with ``task.result()``.

    The child is killed and reaped when the block is left without taking the result (an exception here)."""
    task = Task()
    try:
        task.start(fn, enabled)
        yield task
    finally:
        task.cancel()


_UNREAPED: list[int] = []  # children that sent their result and may still be exiting


def _reap_later(pid: int) -> None:
    """Reap ``pid`` now if it has exited, else at the next :func:`background` call or when this process exits
    (a child takes 5–8 ms to give back its memory after its last byte; nothing needs to wait for that)."""
    atexit.unregister(reap_children)  # registered once
    atexit.register(reap_children)
    _UNREAPED.append(pid)
    reap_children(block=False)


def reap_children(block: bool = True) -> None:
    """Reap the children :func:`_reap_later` left (waiting for them with ``block``), so none stays a zombie."""
    for pid in list(_UNREAPED):
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere
            done = pid
        if done:
            _UNREAPED.remove(pid)


def _child(fn: Callable[[], Any], r: int, w: int) -> None:
    """The child's whole life: call ``fn``, send back (outcome, seconds) pickled, leave with ``os._exit``."""
    status = 1
    try:
        os.close(r)
        outcome, seconds = _call(fn)
        try:
            data = pickle.dumps((outcome, seconds), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # a value or an exception that cannot be pickled: say so instead
            data = pickle.dumps(((False, BackgroundError(f"the background step's result could not be sent back: "
                                                         f"{type(e).__name__}: {e}")), seconds))
        with os.fdopen(w, "wb") as f:
            f.write(data)
        status = 0
    finally:
        os._exit(status)


def _call(fn: Callable[[], Any]) -> tuple[tuple[bool, Any], float]:
    """In the child: (ok, value or exception), seconds. A bug's traceback from the child goes with it as a note."""
    t = time.perf_counter()
    try:
        outcome: tuple[bool, Any] = (True, fn())
    except BaseException as e:  # noqa: BLE001 - sent to the parent, which raises it
        if not isinstance(e, LanduseError):
            e.add_note("in the background process:\n" + "".join(traceback.format_exception(e)).rstrip())
        outcome = (False, e)
    return outcome, time.perf_counter() - t


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
