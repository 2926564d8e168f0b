"""Intervals of what rounded inputs can give, checked by a second method (a dense grid over the input box)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from landuse.intervals import half_unit, linear_bounds, ratio_bounds, within


def grid_ratio(num, den, values, half, steps=9):
    """min and max of 100 × num·x / den·x over a grid of the box values ± half (one row)."""
    axes = [np.linspace(v - h, v + h, steps) for v, h in zip(values, half, strict=True)]
    r = [100 * np.dot(num, x) / np.dot(den, x) for x in itertools.product(*axes)]
    return min(r), max(r)


def test_half_unit():
    assert list(half_unit([43749, 5.27, 94.6, np.nan])) == pytest.approx([0.5, 0.005, 0.05, 0.5])


def test_ratio_of_differences_with_a_shared_baseline():
    # (actual - baseline) / (plan - baseline) over baseline, plan, actual = 300, 345, 340, each ±0,5:
    # extremes by hand 39/45 = 86,67 % and 41/45 = 91,11 %
    num, den = np.array([[-1.0, 0, 1]]), np.array([[-1.0, 1, 0]])
    point, lo, hi = ratio_bounds(num, den, np.array([[300.0, 345, 340]]), np.full((1, 3), 0.5))
    assert point[0] == pytest.approx(100 * 40 / 45)
    assert (lo[0], hi[0]) == pytest.approx((100 * 39 / 45, 100 * 41 / 45))
    assert within([91.05], lo, hi)[0] and not within([91.2], lo, hi)[0]


@pytest.mark.parametrize("values", [[400.0, 370, 390], [10, 20, 9], [28951, 31713, 31565], [5, 7.5, 3]])
def test_ratio_bounds_equal_a_dense_grid(values):
    num, den = [-1.0, 0, 1], [-1.0, 1, 0]
    half = list(half_unit(values))
    _, lo, hi = ratio_bounds(np.array([num]), np.array([den]), np.array([values]), np.array([half]))
    glo, ghi = grid_ratio(num, den, values, half)
    assert (lo[0], hi[0]) == pytest.approx((glo, ghi), rel=1e-9)


def test_denominator_that_can_be_zero():
    # plan - baseline = 0 ± 1: the ratio is unbounded, and undefined at the printed values
    point, lo, hi = ratio_bounds(np.array([[-1.0, 0, 1]]), np.array([[-1.0, 1, 0]]), np.array([[10.0, 10, 12]]),
                                 np.full((1, 3), 0.5))
    assert np.isnan(point[0]) and lo[0] == -np.inf and hi[0] == np.inf


def test_linear_bounds():
    point, lo, hi = linear_bounds(np.array([[1.0, -1, 0]]), np.array([[31565.0, 28951, 7]]), np.full((1, 3), 0.5))
    assert (point[0], lo[0], hi[0]) == (2614, 2613, 2615)
