"""The allocation LP with a unit dimension, built from numpy index arrays into one sparse matrix.

Variables (all in ha, ≥ 0):

* ``x[u, i, j]``: area of unit ``u`` that is leaf ``i`` at the start and leaf ``j`` at the target year, for the
  allowed pairs only and only where unit ``u`` has start area in ``i`` (an absent variable is not zero: it
  does not exist, so no land can flow along it);
* ``e[j]``: provincial end area of leaf ``j`` (= Σ_u Σ_i x[u, i, j]); ``eu[u, j]`` the same for one unit, only
  for units that carry unit-level targets or bounds;
* ``d⁺, d⁻``: over/under deviation of each target.

Rows: every start hectare is accounted for (Σ_j x[u, i, j] = start[u, i]; this fixes each unit's total);
the end-area definitions; for each bound ``lo ≤ Σ_{j ∈ code} e[j] ≤ hi`` (province) or ``eu`` (unit); for each
target ``Σ e + d⁻ − d⁺ = target``. Objective: Σ weight·(d⁺ + d⁻) + Σ cost[u, i, j]·x[u, i, j].

Nothing here loops over variables in Python: the index arrays of a whole block are made at once and the
matrix is assembled column-wise (CSC) for HiGHS. The solver call lives in :mod:`allocation.solve_matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

INF = np.inf


@dataclass
class UnitProblem:
    """An allocation problem over units, as arrays. Areas in ha; ``cost`` per ha (objective units).

    ``member[g, j]`` = 1 when leaf ``j`` belongs to code ``codes[g]`` (any level or aggregate).
    ``targets`` / ``bounds``: DataFrames with columns ``g`` (row of ``member``), ``u`` (unit index, −1 = the
    whole area), and ``target, weight`` / ``lo, hi`` (NaN = no bound), plus a free ``label`` column.
    ``cost`` is (n, n) for every unit, or (U, n, n) when costs differ by unit.
    """

    units: list[str]
    leaves: list[str]
    start: np.ndarray            # (U, n) ha
    allowed: np.ndarray          # (n, n) bool; the diagonal (staying) is always allowed
    cost: np.ndarray             # (n, n) or (U, n, n)
    codes: list[str]
    member: np.ndarray           # (G, n) 0/1
    targets: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["g", "u", "target", "weight",
                                                                                "label"]))
    bounds: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["g", "u", "lo", "hi", "label"]))


@dataclass
class MatrixLP:
    """``min c·v  s.t.  row_lo ≤ A v ≤ row_hi, col_lo ≤ v ≤ col_hi`` with ``A`` in CSC arrays.

    ``xu, xi, xj``: unit, from-leaf and to-leaf index of the first ``n_x`` columns; ``rows``: one label per row
    (kind, code, unit) for reading duals; ``target_cols``: (d⁺ column, d⁻ column) per target row.
    """

    c: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    a_start: np.ndarray
    a_index: np.ndarray
    a_value: np.ndarray
    n_x: int
    xu: np.ndarray
    xi: np.ndarray
    xj: np.ndarray
    rows: pd.DataFrame
    e_col: int                   # first column of e[j]
    target_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_lo), len(self.c)

    @property
    def nnz(self) -> int:
        return len(self.a_value)


def variables(start: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays (u, i, j) of the flow variables: allowed pairs from leaves with start area > 0."""
    allowed = allowed | np.eye(allowed.shape[0], dtype=bool)
    pi, pj = np.nonzero(allowed)                       # allowed pairs, sorted by i then j
    u, i = np.nonzero(start > 0)                       # (unit, leaf) with start area, sorted by u then i
    counts = np.bincount(pi, minlength=allowed.shape[0])  # pairs leaving each leaf
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    reps = counts[i]
    xu = np.repeat(u, reps)
    xi = np.repeat(i, reps)
    offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    xj = pj[np.repeat(first[i], reps) + offs]
    return xu, xi, xj


def _csc(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, ncols: int) -> tuple[np.ndarray, ...]:
    order = np.lexsort((rows, cols))
    cols_s = cols[order]
    start = np.searchsorted(cols_s, np.arange(ncols + 1)).astype(np.int32)
    return start, rows[order].astype(np.int32), vals[order].astype(float)


def build(p: UnitProblem) -> MatrixLP:
    """Assemble the LP of ``p`` (see the module docstring) from index arrays."""
    U, n = p.start.shape
    xu, xi, xj = variables(p.start, p.allowed)
    nx = len(xu)
    cost = p.cost[xi, xj] if p.cost.ndim == 2 else p.cost[xu, xi, xj]
    cost = np.where(xi == xj, 0.0, cost)
    t, b = p.targets.reset_index(drop=True), p.bounds.reset_index(drop=True)
    unit_rows = np.unique(np.concatenate([t["u"].to_numpy(int), b["u"].to_numpy(int)]))
    unit_rows = unit_rows[unit_rows >= 0]
    # columns: x | e[j] | eu[k, j] for units with own rows | d+ d- per target
    e0 = nx
    eu0 = e0 + n
    upos = np.full(U, -1)
    upos[unit_rows] = np.arange(len(unit_rows))
    d0 = eu0 + n * len(unit_rows)
    nt = len(t)
    ncol = d0 + 2 * nt
    # rows: conservation (u, i) | e[j] definitions | eu[k, j] definitions | bounds | targets
    cu, ci = np.nonzero(p.start > 0)
    cons_id = np.full((U, n), -1)
    cons_id[cu, ci] = np.arange(len(cu))
    r_e0 = len(cu)
    r_eu0 = r_e0 + n
    r_b0 = r_eu0 + n * len(unit_rows)
    r_t0 = r_b0 + len(b)
    nrow = r_t0 + nt
    R, C, V = [], [], []
    xcol = np.arange(nx)
    R += [cons_id[xu, xi], r_e0 + xj]
    C += [xcol, xcol]
    V += [np.ones(nx), -np.ones(nx)]
    R.append(r_e0 + np.arange(n))
    C.append(e0 + np.arange(n))
    V.append(np.ones(n))
    if len(unit_rows):
        sel = np.flatnonzero(upos[xu] >= 0)
        R.append(r_eu0 + upos[xu[sel]] * n + xj[sel])
        C.append(sel)
        V.append(-np.ones(len(sel)))
        k = np.arange(n * len(unit_rows))
        R.append(r_eu0 + k)
        C.append(eu0 + k)
        V.append(np.ones(len(k)))
    for frame, r0 in ((b, r_b0), (t, r_t0)):
        if not len(frame):
            continue
        g, u = frame["g"].to_numpy(int), frame["u"].to_numpy(int)
        gi, jj = np.nonzero(p.member[g] > 0)           # (row of frame, leaf) memberships
        col = np.where(u[gi] < 0, e0 + jj, eu0 + upos[np.maximum(u[gi], 0)] * n + jj)
        R.append(r0 + gi)
        C.append(col)
        V.append(np.ones(len(gi)))
    if nt:
        k = np.arange(nt)
        R += [r_t0 + k, r_t0 + k]
        C += [d0 + 2 * k, d0 + 2 * k + 1]
        V += [-np.ones(nt), np.ones(nt)]                 # Σe − d⁺ + d⁻ = target
    start, index, value = _csc(np.concatenate(R), np.concatenate(C), np.concatenate(V), ncol)
    c = np.zeros(ncol)
    c[:nx] = cost
    if nt:
        w = t["weight"].to_numpy(float)
        c[d0::2], c[d0 + 1::2] = w, w
    row_lo = np.zeros(nrow)
    row_hi = np.zeros(nrow)
    row_lo[: len(cu)] = row_hi[: len(cu)] = p.start[cu, ci]
    if len(b):
        row_lo[r_b0:r_t0] = np.nan_to_num(b["lo"].to_numpy(float), nan=-INF)
        row_hi[r_b0:r_t0] = np.nan_to_num(b["hi"].to_numpy(float), nan=INF)
    if nt:
        row_lo[r_t0:] = row_hi[r_t0:] = t["target"].to_numpy(float)
    labels = pd.DataFrame({
        "kind": np.concatenate([np.repeat("start", len(cu)), np.repeat("end", n),
                                np.repeat("unit end", n * len(unit_rows)), np.repeat("bound", len(b)),
                                np.repeat("target", nt)]),
        "code": np.concatenate([np.array(p.leaves)[ci], p.leaves, np.tile(p.leaves, len(unit_rows)),
                                np.array(p.codes)[b["g"].to_numpy(int)], np.array(p.codes)[t["g"].to_numpy(int)]]),
        "unit": np.concatenate([np.array(p.units)[cu], np.repeat("", n), np.repeat(np.array(p.units)[unit_rows], n),
                                _unit_names(p, b), _unit_names(p, t)]),
        "label": np.concatenate([np.repeat("", len(cu) + n + n * len(unit_rows)),
                                 b.get("label", pd.Series([""] * len(b))).astype(str).to_numpy(),
                                 t.get("label", pd.Series([""] * nt)).astype(str).to_numpy()]),
    })
    return MatrixLP(c, np.zeros(ncol), np.full(ncol, INF), row_lo, row_hi, start, index, value, nx, xu, xi, xj,
                    labels, e0, np.arange(r_t0, nrow))


def _unit_names(p: UnitProblem, frame: pd.DataFrame) -> np.ndarray:
    u = frame["u"].to_numpy(int)
    names = np.array(p.units + [""], dtype=object)
    return names[np.where(u < 0, len(p.units), u)]


def flows(p: UnitProblem, lp: MatrixLP, x: np.ndarray, tol: float = 1e-7) -> pd.DataFrame:
    """Per-unit conversions (long): ``unit, code_from, code_to, area_ha`` for every non-zero flow, staying
    included (``code_from == code_to``)."""
    v = x[: lp.n_x]
    keep = v > tol
    return pd.DataFrame({"unit": np.array(p.units, dtype=object)[lp.xu[keep]],
                         "code_from": np.array(p.leaves, dtype=object)[lp.xi[keep]],
                         "code_to": np.array(p.leaves, dtype=object)[lp.xj[keep]],
                         "area_ha": v[keep]})


def end_areas(p: UnitProblem, lp: MatrixLP, x: np.ndarray) -> np.ndarray:
    """End areas (U, n) in ha: Σ_i x[u, i, j]."""
    out = np.zeros(p.start.shape)
    np.add.at(out, (lp.xu, lp.xj), x[: lp.n_x])
    return out
