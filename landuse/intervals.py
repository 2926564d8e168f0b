"""What rounded inputs can give: intervals of sums, differences and ratios of printed values.

A printed value stands for any unrounded value within half its last digit (±0.5 ha for whole hectares,
:func:`half_unit`). A derived quantity written as linear combinations of such values (a difference of areas,
or a ratio of two differences such as ``100 × (actual − baseline) / (plan − baseline)``) then ranges over an
interval. Both the reconciliation (judging printed percent cells) and the fulfilment table (judging printed
ratios) use these functions, so they agree on what "within rounding" means.

Inputs are row-wise: ``values`` and ``half`` are ``(rows, k)`` arrays of the ``k`` underlying values and their
half units; a linear combination is a ``(rows, k)`` coefficient array (e.g. ``[-1, 0, 1]`` for
``actual − baseline`` over ``baseline, plan, actual``). A shared input (the baseline in both the numerator and
the denominator) is one column, so its correlation is respected.
"""

from __future__ import annotations

import itertools

import numpy as np

EPS = 1e-6
MAX_INPUTS = 12  # a ratio over more underlying values than this would need too many corners


def half_unit(values) -> np.ndarray:
    """Half of the last printed digit of each value (0.5 for whole ha, 0.005 for ``5,27``); 0.5 for NaN."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, 0.5)
    done = np.isnan(v)
    for d in range(5):
        scaled = v * 10.0 ** d
        hit = ~done & (np.abs(scaled - np.round(scaled)) < 1e-6)
        out[hit] = 0.5 * 10.0 ** -d
        done |= hit
    out[~done] = 0.5e-5
    return out


def linear_bounds(coef: np.ndarray, values: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                    np.ndarray]:
    """(point, lo, hi) of ``coef · x`` per row for ``x`` within ``values ± half``."""
    coef, values, half = (np.asarray(a, dtype=float) for a in (coef, values, half))
    point = (coef * values).sum(axis=1)
    spread = (np.abs(coef) * half).sum(axis=1)
    return point, point - spread, point + spread


def ratio_bounds(num: np.ndarray, den: np.ndarray, values: np.ndarray,
                 half: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, lo, hi) of ``100 × (num · x) / (den · x)`` per row for ``x`` within ``values ± half`` (%).

    The point uses ``values``; it is NaN where the denominator is 0. Where the denominator can reach 0 inside
    the box the interval is (−inf, inf). Otherwise a ratio of two linear functions is monotone along every
    edge of the box, so its extremes are at the box's corners, which are enumerated (inputs that no row uses
    are left out).
    """
    num, den, values, half = (np.asarray(a, dtype=float) for a in (num, den, values, half))
    n_point, _, _ = linear_bounds(num, values, half)
    d_point, d_lo, d_hi = linear_bounds(den, values, half)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = np.where(d_point != 0, 100 * n_point / d_point, np.nan)
    used = np.flatnonzero(((num != 0) | (den != 0)).any(axis=0))
    if len(used) > MAX_INPUTS:
        raise ValueError(f"ratio over {len(used)} inputs: at most {MAX_INPUTS}")
    lo = np.full(len(point), np.inf)
    hi = np.full(len(point), -np.inf)
    for signs in itertools.product((-1.0, 1.0), repeat=len(used)):
        x = values.copy()
        x[:, used] += np.asarray(signs) * half[:, used]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = 100 * (num * x).sum(axis=1) / (den * x).sum(axis=1)
        lo, hi = np.fmin(lo, r), np.fmax(hi, r)
    spans_zero = (d_lo <= 0) & (d_hi >= 0)
    return point, np.where(spans_zero, -np.inf, lo), np.where(spans_zero, np.inf, hi)


def within(printed, lo, hi) -> np.ndarray:
    """True where a printed value (± its own half unit) can lie inside ``[lo, hi]``: a rounding gap only."""
    p = np.asarray(printed, dtype=float)
    hp = half_unit(p)
    return (p + hp >= np.asarray(lo, dtype=float) - EPS) & (p - hp <= np.asarray(hi, dtype=float) + EPS)
