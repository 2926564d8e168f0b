"""Atomic writes: nothing half-written, no user file replaced, normal file permissions."""

from __future__ import annotations

import os

import pytest

from landuse.errors import InputError, OutputExistsError
from landuse.output import atomic_open, atomic_path, prepare_output_dir


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "t.csv"
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="output folder does not exist"):
        with atomic_path(tmp_path / "nope" / "x.png"):
            pass


def test_existing_file_needs_force(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("mine")
    with pytest.raises(OutputExistsError):
        with atomic_open(target) as fh:
            fh.write("new")
    assert target.read_text() == "mine"
    with atomic_open(target, force=True) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_written_file_has_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_open(tmp_path / "t.csv") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == 0o644


def test_our_output_folder_may_be_rewritten_but_not_a_users_file(tmp_path):
    out = prepare_output_dir(tmp_path / "out")
    with atomic_open(out / "a.csv") as fh:  # written by the tool: recorded in the marker
        fh.write("1")
    with atomic_open(out / "a.csv") as fh:  # unchanged since: replaced without --force
        fh.write("2")
    assert (out / "a.csv").read_text() == "2"
    (out / "a.csv").write_text("edited by hand")  # changed since the tool wrote it
    (out / "mine.csv").write_text("user's own")  # never written by the tool
    for name in ("a.csv", "mine.csv"):
        with pytest.raises(OutputExistsError, match="not written by landuse or changed since"):
            with atomic_open(out / name) as fh:
                fh.write("3")
    assert (out / "a.csv").read_text() == "edited by hand" and (out / "mine.csv").read_text() == "user's own"
    with atomic_open(out / "a.csv", force=True) as fh:
        fh.write("4")
    assert (out / "a.csv").read_text() == "4"
