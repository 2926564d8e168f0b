"""Parallel batches: results in task order, errors per task, same answers with 1 or 2 processes."""

from __future__ import annotations

from landuse.batch import run_batch
from landuse.dataset import load_dataset
from landuse.errors import InputError


def total_area(path, year):
    """A module-level worker (picklable): the dataset's total natural area in ``year`` (ha)."""
    ds = load_dataset(path, tables=False)
    return float(ds.stock(year)[ds.classification.root])


def fails(x):
    if x == 2:
        raise InputError("bad task", expected="not 2")
    return x * 10


def test_parallel_equals_serial_and_keeps_order(mini_copy):
    from landuse.dataset import DEFAULT_DATASET

    tasks = [(DEFAULT_DATASET, 2024), (mini_copy, 2024), (DEFAULT_DATASET, 2019), (mini_copy, 2019)]
    seen = []
    par = run_batch(total_area, tasks, jobs=2, progress=seen.append)
    ser = run_batch(total_area, tasks, jobs=1)
    assert [r.value for r in par] == [r.value for r in ser]
    assert par[0].value == 830732 and par[2].value == 831018    # Bảng 2 / Bảng 3 totals as printed
    assert [r.task for r in par] == tasks and len(seen) == 4


def test_an_error_is_reported_and_the_others_go_on():
    res = run_batch(fails, [1, 2, 3], jobs=2)
    assert [r.value for r in res] == [10, None, 30]
    assert not res[1].ok and "bad task" in res[1].error and res[1].exit_code == 2


def crashes(x):
    if x == 2:
        raise ValueError("boom\nsecond line")
    if x == 4:
        raise InputError("bad task", expected="not 4")
    return x * 10


def test_an_unexpected_exception_is_one_error_result_and_the_others_go_on():
    for jobs in (1, 2):
        res = run_batch(crashes, [1, 2, 3, 4, 5], jobs=jobs)
        assert [r.value for r in res] == [10, None, 30, None, 50]
        assert [r.ok for r in res] == [True, False, True, False, True]
        assert res[1].error == "unexpected ValueError: boom" and res[1].exit_code == 2
        assert "bad task" in res[3].error and res[3].exit_code == 2
