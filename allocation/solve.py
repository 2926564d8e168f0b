"""The only module that talks to solvers (for the provincial and the by-unit allocation alike).

* ``highs`` (default when :mod:`highspy` is installed): the sparse matrix is passed to HiGHS directly
  (``Highs.passModel`` with a column-wise matrix) — no per-variable Python objects.
* ``cbc``: a PuLP model built from the same arrays, solved by PuLP's bundled CBC.

Both return a :class:`Solution` with primal values, row duals (d objective / d row bound, per ha) and status.
"""

from __future__ import annotations

import enum
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from allocation.model import LinearProgram
from landuse.errors import ConfigError

SOLVERS = ("highs", "cbc")


class SolveStatus(enum.Enum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time limit"  # stopped early; ``x`` holds the best feasible point when there is one
    UNBOUNDED = "unbounded"
    ERROR = "error"


@dataclass
class Solution:
    """Result of one solve. ``x`` per variable (ha), ``row_dual`` per row (objective units per ha of bound)."""

    status: SolveStatus
    solver: str
    objective: float = float("nan")
    x: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.x is not None and self.status in (SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT)


def highs_available() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return True


def default_solver() -> str:
    return "highs" if highs_available() else "cbc"


def solve(lp: LinearProgram, solver: str | None = None, time_limit: float | None = None,
          cost: np.ndarray | None = None) -> Solution:
    """Solve ``lp`` (optionally with another cost vector) with ``solver`` (default: :func:`default_solver`)."""
    solver = solver or default_solver()
    if solver not in SOLVERS:
        raise ConfigError("unknown solver", expected=" | ".join(SOLVERS), found=solver)
    if solver == "highs" and not highs_available():
        raise ConfigError("solver highs needs the highspy package (pip install highspy); use --solver cbc")
    c = lp.cost if cost is None else np.asarray(cost, dtype=float)
    return _solve_highs(lp, c, time_limit) if solver == "highs" else _solve_cbc(lp, c, time_limit)


def _bounds(lp: LinearProgram) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r = lp.rows
    return lp.col_lower, lp.col_upper, r["lower"].to_numpy(float), r["upper"].to_numpy(float)


def _highs_model(lp: LinearProgram, cost: np.ndarray, time_limit: float | None):
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    # Presolve off: with no time limit, HiGHS 1.15's presolve (its dependent-equation search, budgeted from the
    # time limit) took 120-145 s on a 65-unit model whose simplex solve takes 0.8 s (README, Performance).
    h.setOptionValue("presolve", "off")
    if time_limit:
        h.setOptionValue("time_limit", float(time_limit))
    col_lo, col_up, row_lo, row_up = _bounds(lp)
    inf = highspy.kHighsInf
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = len(cost), len(row_lo)
    model.col_cost_ = cost
    model.col_lower_, model.col_upper_ = col_lo, np.where(np.isinf(col_up), inf, col_up)
    model.row_lower_ = np.where(np.isinf(row_lo), -inf, row_lo)
    model.row_upper_ = np.where(np.isinf(row_up), inf, row_up)
    start, index, value = lp.matrix.csc()
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = start, index, value
    h.passModel(model)
    return h


def _highs_status(h) -> SolveStatus:
    import highspy

    S = highspy.HighsModelStatus
    return {S.kOptimal: SolveStatus.OPTIMAL, S.kInfeasible: SolveStatus.INFEASIBLE,
            S.kTimeLimit: SolveStatus.TIME_LIMIT, S.kUnbounded: SolveStatus.UNBOUNDED,
            S.kUnboundedOrInfeasible: SolveStatus.INFEASIBLE}.get(h.getModelStatus(), SolveStatus.ERROR)


def _solve_highs(lp: LinearProgram, cost: np.ndarray, time_limit: float | None) -> Solution:
    t0 = time.perf_counter()
    h = _highs_model(lp, cost, time_limit)
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    status = _highs_status(h)
    sol = Solution(status, "highs", seconds={"pass": t1 - t0, "solve": t2 - t1})
    info = h.getInfo()
    if status in (SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT) and info.primal_solution_status == 2:
        s = h.getSolution()
        sol.x = np.asarray(s.col_value, dtype=float)
        sol.row_dual = np.asarray(s.row_dual, dtype=float) if s.dual_valid else None
        sol.objective = float(info.objective_function_value)
    return sol


def resolve_rows(lp: LinearProgram, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 solver: str | None = None) -> np.ndarray:
    """Optimal objective after moving the bounds of each row ``rows[k]`` to (``lower[k]``, ``upper[k]``), one
    row at a time (NaN when that makes the model infeasible). HiGHS re-solves from the previous basis."""
    solver = solver or default_solver()
    out = np.full(len(rows), np.nan)
    if solver != "highs":
        for k, i in enumerate(rows):
            moved = replace(lp, rows=lp.rows.copy())
            moved.rows.iloc[i, moved.rows.columns.get_indexer(["lower", "upper"])] = [lower[k], upper[k]]
            sol = solve(moved, solver)
            out[k] = sol.objective if sol.status == SolveStatus.OPTIMAL else np.nan
        return out
    import highspy

    h = _highs_model(lp, lp.cost, None)
    h.run()
    _, _, row_lo, row_up = _bounds(lp)
    inf = highspy.kHighsInf
    for k, i in enumerate(rows):
        lo = -inf if np.isinf(lower[k]) else lower[k]
        up = inf if np.isinf(upper[k]) else upper[k]
        h.changeRowBounds(int(i), lo, up)
        h.run()
        if _highs_status(h) == SolveStatus.OPTIMAL:
            out[k] = h.getInfo().objective_function_value
        h.changeRowBounds(int(i), -inf if np.isinf(row_lo[i]) else row_lo[i], inf if np.isinf(row_up[i]) else row_up[i])
    return out


def _solve_cbc(lp: LinearProgram, cost: np.ndarray, time_limit: float | None) -> Solution:
    import pulp

    t0 = time.perf_counter()
    col_lo, col_up, row_lo, row_up = _bounds(lp)
    prob = pulp.LpProblem("allocation", pulp.LpMinimize)
    add = getattr(prob, "add_variable", None)  # PuLP ≥ 3.3; LpVariable(...) before
    make = add if add is not None else pulp.LpVariable
    xs = [make(f"x{j}", float(col_lo[j]), None if np.isinf(col_up[j]) else float(col_up[j]))
          for j in range(len(cost))]
    prob += pulp.LpAffineExpression([(xs[j], cost[j]) for j in np.flatnonzero(cost)])
    m = lp.matrix
    order = np.argsort(m.row, kind="stable")
    bounds_at = np.searchsorted(m.row[order], np.arange(m.shape[0] + 1))
    cons = {}
    for i in range(m.shape[0]):
        sel = order[bounds_at[i]:bounds_at[i + 1]]
        expr = pulp.LpAffineExpression([(xs[j], v) for j, v in zip(m.col[sel], m.val[sel], strict=True)])
        lo, up = row_lo[i], row_up[i]
        if lo == up:
            cons[i] = pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", lo)
        elif np.isinf(up):
            cons[i] = pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}", lo)
        else:
            cons[i] = pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}", up)
            if not np.isinf(lo):
                prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}_lo", lo)
        prob += cons[i]
    t1 = time.perf_counter()
    with warnings.catch_warnings():  # PuLP 3.3 announces PULP_CBC_CMD's removal in 4.0; it is the bundled CBC
        warnings.simplefilter("ignore", DeprecationWarning)
        code = prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    t2 = time.perf_counter()
    status = {1: SolveStatus.OPTIMAL, -1: SolveStatus.INFEASIBLE, -2: SolveStatus.UNBOUNDED}.get(
        code, SolveStatus.TIME_LIMIT if time_limit else SolveStatus.ERROR)
    sol = Solution(status, "cbc", seconds={"pass": t1 - t0, "solve": t2 - t1})
    if status == SolveStatus.OPTIMAL or (status == SolveStatus.TIME_LIMIT and prob.sol_status == 2):
        sol.x = np.array([v.varValue if v.varValue is not None else col_lo[j] for j, v in enumerate(xs)])
        sol.row_dual = np.array([cons[i].pi if cons[i].pi is not None else 0.0 for i in range(m.shape[0])])
        sol.objective = float(cost @ sol.x)
    return sol
