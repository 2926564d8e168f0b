"""A function run in a forked child: its value or its exception comes back as it was, a dead child is an error,
and no child outlives the ``with`` block (landuse.background, issue 16)."""

from __future__ import annotations

import inspect
import os
import pickle
import signal
import time

import pytest

from landuse import errors
from landuse.background import BackgroundError, Task, background, can_fork
from landuse.errors import Location, NonNumericError

forking = pytest.mark.skipif(not can_fork(), reason="no os.fork on this platform")


@forking
def test_the_value_comes_back_from_another_process():
    parent = os.getpid()
    with background(lambda: {"pid": os.getpid(), "rows": [1.5, None, "Đất ở"]}) as task:
        got = task.result()
    assert got["pid"] != parent and got["rows"] == [1.5, None, "Đất ở"]


def test_disabled_runs_here_and_raises_at_once():
    with background(lambda: os.getpid(), enabled=False) as task:
        assert task.result() == os.getpid()
    with pytest.raises(NonNumericError):
        Task().start(lambda: _raise(NonNumericError("area is not a number", Location.of("a.csv", row=3))), False)


def _raise(e: BaseException):
    raise e


@forking
def test_an_input_error_comes_back_with_its_location_and_fields():
    err = NonNumericError("area is not a number", Location.of("plots.csv", row=7, column="area_ha"),
                          expected="a number", found="12,5,3")
    with background(lambda: _raise(err)) as task:
        with pytest.raises(NonNumericError) as got:
            task.result()
    e = got.value
    assert str(e) == str(err) == ("plots.csv:row 7:column area_ha: area is not a number: expected a number, "
                                  "found '12,5,3'")
    assert (e.location, e.expected, e.found, e.message) == (err.location, "a number", "12,5,3", "area is not a number")


def test_every_error_type_survives_pickling_with_its_attributes():
    """What a child sends back: each LanduseError subclass of landuse.errors, built with the arguments its
    constructor takes, compares equal in type, text and attributes after a pickle round trip."""
    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if not issubclass(cls, errors.LanduseError):
            continue
        if issubclass(cls, errors.InputError):
            e = cls(f"{name} happened", Location.of("f.csv", row=2, column="code"), expected="X", found=1)
        elif cls is errors.InfeasibleError:
            e = cls("no plan fits", conflicts=["a", "b"])
        else:
            e = cls(f"{name} happened")
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is cls and str(back) == str(e) and back.args == e.args, name
        assert back.__dict__ == e.__dict__, name


@forking
def test_a_bug_in_the_child_keeps_its_type_and_tells_where_it_happened():
    with background(lambda: {}["missing"]) as task:
        with pytest.raises(KeyError) as got:
            task.result()
    notes = "\n".join(getattr(got.value, "__notes__", []))
    assert "in the background process" in notes and "test_background.py" in notes


@forking
def test_a_killed_child_is_an_error_not_a_missing_value():
    with background(lambda: os.kill(os.getpid(), signal.SIGKILL)) as task:
        with pytest.raises(BackgroundError, match="killed by signal 9"):
            task.result()


@forking
def test_a_result_that_cannot_be_sent_back_is_named():
    with background(lambda: (lambda: 1)) as task:
        with pytest.raises(BackgroundError, match="could not be sent back"):
            task.result()


@forking
def test_leaving_the_block_kills_and_reaps_the_child(tmp_path):
    pid_file = tmp_path / "pid"

    def slow():
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)

    with pytest.raises(RuntimeError, match="the parent failed"):
        with background(slow):
            deadline = time.monotonic() + 30
            while not pid_file.exists() or not pid_file.read_text():
                assert time.monotonic() < deadline
                time.sleep(0.01)
            raise RuntimeError("the parent failed")
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped: no such process, not even a zombie
        os.kill(pid, 0)



@forking
def test_when_no_child_can_be_made_the_function_runs_here(monkeypatch):
    """os.fork failing (no memory or process slot): the same value, computed in this process."""
    def no_fork():
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(os, "fork", no_fork)
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    with background(lambda: os.getpid()) as task:
        assert task.result() == os.getpid()
    if before is not None:  # the pipe made for the child is closed again
        assert len(os.listdir("/proc/self/fd")) == before


@forking
def test_a_child_that_sent_its_result_is_reaped_not_left_a_zombie():
    from landuse.background import _UNREAPED, reap_children

    with background(lambda: os.getpid()) as task:
        pid = task.result()
    reap_children()  # what the next background call (without waiting) or the process's exit does
    assert pid not in _UNREAPED
    with pytest.raises(ChildProcessError):  # no such child left to wait for
        os.waitpid(pid, os.WNOHANG)
