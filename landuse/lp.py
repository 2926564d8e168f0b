"""The only module that talks to an LP solver: a generic sparse LP, HiGHS or CBC, honest statuses, checked solutions.

    min cost·x   s.t.   row_lower ≤ A x ≤ row_upper,   col_lower ≤ x ≤ col_upper

``A`` is sparse (coordinate arrays; :meth:`SparseLP.from_csr` takes CSR). Infinite bounds are ``±numpy.inf``.

* ``highs`` (default when :mod:`highspy` is installed): the matrix is handed to HiGHS column-wise in one call
  (``passModel``), presolve off (see the README's performance section), no console output — highspy ≥ 1.16
  prints a banner on C-level standard output when a solver object is created, so the creation runs with file
  descriptor 1 pointed at the null device.
* ``cbc``: a PuLP model built from the same arrays, solved by PuLP's bundled CBC (messages off).

Every solution is **checked** against every row and bound before it is reported (:func:`check`): a point that
violates the model is never reported as optimal or feasible, whatever the solver said (CBC stopped by a time
limit reports "optimal" with an infeasible point, for instance). Statuses (:class:`SolveStatus`):

==============  =========================================================  =========
status          meaning                                                    exit code
==============  =========================================================  =========
optimal         a checked point, proven optimal                            0
feasible        a checked point, optimality not proven (e.g. time limit)   3
infeasible      the rows and bounds cannot hold together                   1
unbounded       the objective can decrease without end                     4
no solution     the solver stopped without a point that passes the check   4
==============  =========================================================  =========

A solved HiGHS model is kept with its :class:`Solution`, so :func:`resolve_rows` re-solves row-bound changes
from the optimal basis of the same object (warm start), never from a fresh model per row.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from landuse.errors import ConfigError

SOLVERS = ("highs", "cbc")
FEASIBILITY_TOL = 1e-6  # relative to the magnitude of each row (max of its bounds and Σ|a·x|), at least 1


class SolveStatus(enum.Enum):
    """Outcome of a solve. Only ``OPTIMAL`` and ``FEASIBLE`` carry a solution, and only a checked one."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"          # checked feasible point, optimality not proven (time limit)
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no solution"    # stopped (time limit, error) without a point passing the check

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)

    @property
    def exit_code(self) -> int:
        """The command line's exit code for this status (README, Exit codes)."""
        return {SolveStatus.OPTIMAL: 0, SolveStatus.FEASIBLE: 3, SolveStatus.INFEASIBLE: 1}.get(self, 4)

    @property
    def text(self) -> str:
        """For people: ``feasible`` says that optimality is not proven."""
        return "feasible, not proven optimal" if self is SolveStatus.FEASIBLE else self.value


@dataclass
class SparseLP:
    """A linear program with a sparse matrix in coordinate form (``row[k], col[k], val[k]``; duplicates add up).

    ``row_names`` (optional, one per row) name rows in check messages."""

    cost: np.ndarray
    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_names: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.cost = np.asarray(self.cost, dtype=float)
        self.row, self.col = np.asarray(self.row, dtype=np.int64), np.asarray(self.col, dtype=np.int64)
        self.val = np.asarray(self.val, dtype=float)
        for name in ("row_lower", "row_upper", "col_lower", "col_upper"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=float))
        n, m = len(self.cost), len(self.row_lower)
        if not (len(self.row) == len(self.col) == len(self.val)):
            raise ValueError("row, col and val must have the same length")
        if len(self.row_upper) != m or len(self.col_lower) != n or len(self.col_upper) != n:
            raise ValueError("bounds do not match the number of rows / columns")
        if len(self.row) and (self.row.min() < 0 or self.row.max() >= m or self.col.min() < 0
                              or self.col.max() >= n):
            raise ValueError("a matrix index is outside the rows / columns")
        if not (np.isfinite(self.cost).all() and np.isfinite(self.val).all()):
            raise ValueError("cost and matrix values must be finite")
        for lo, up, what in ((self.row_lower, self.row_upper, "row"), (self.col_lower, self.col_upper, "column")):
            if np.isnan(lo).any() or np.isnan(up).any():
                raise ValueError(f"a {what} bound is NaN (use ±inf for no bound)")

    @classmethod
    def from_csr(cls, cost, indptr, indices, data, row_lower, row_upper, col_lower, col_upper,
                 row_names=None) -> SparseLP:
        """From a row-wise (CSR) matrix: row ``i`` holds ``indices[indptr[i]:indptr[i+1]]``."""
        indptr = np.asarray(indptr, dtype=np.int64)
        rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        return cls(cost, rows, indices, data, row_lower, row_upper, col_lower, col_upper, row_names)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_lower), len(self.cost)

    def activity(self, x: np.ndarray) -> np.ndarray:
        """A x."""
        return np.bincount(self.row, weights=self.val * x[self.col], minlength=self.shape[0])

    def csc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column-wise (start, index, value) arrays, as HiGHS takes them."""
        order = np.lexsort((self.row, self.col))
        start = np.concatenate([[0], np.cumsum(np.bincount(self.col, minlength=self.shape[1]))])
        return start.astype(np.int32), self.row[order].astype(np.int32), self.val[order]

    def row_name(self, i: int) -> str:
        return f"row {i}" + (f" ({self.row_names[i]})" if self.row_names is not None else "")


@dataclass
class Solution:
    """Result of one solve. ``x`` per column, ``row_dual`` per row (d objective / d row bound), both only when
    the status carries a solution (``row_dual`` only when the solver gives valid duals). ``message``: why
    there is no (checked) solution, or what the check found. ``max_violation``: the largest row or bound
    violation of ``x`` relative to its magnitude (≤ :data:`FEASIBILITY_TOL` for any reported solution)."""

    status: SolveStatus
    solver: str
    objective: float = float("nan")
    x: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    message: str = ""
    max_violation: float = float("nan")
    engine: object = field(default=None, repr=False, compare=False)  # the solved HiGHS object (warm re-solves)

    @property
    def ok(self) -> bool:
        return self.x is not None and self.status.has_solution


@dataclass(frozen=True)
class Violation:
    """The worst violated row or column bound of a point: ``what`` names it; ``amount`` in the LP's units."""

    what: str
    value: float
    lower: float
    upper: float
    amount: float
    relative: float

    def __str__(self) -> str:
        return (f"{self.what} = {self.value:.10g} is outside [{self.lower:.10g}, {self.upper:.10g}] "
                f"by {self.amount:.3g}")


def check(lp: SparseLP, x: np.ndarray | None, tol: float = FEASIBILITY_TOL) -> tuple[float, Violation | None]:
    """Largest violation of ``x`` over every row and column bound, each relative to its magnitude
    (max(1, |bounds|, Σ|a·x| of the row)); the worst one when it exceeds ``tol`` (a non-finite or missing
    ``x`` always fails)."""
    n = lp.shape[1]
    if x is None or len(x) != n or not np.isfinite(x).all():
        bad = "no values" if x is None or len(x) != n else f"column {int(np.flatnonzero(~np.isfinite(x))[0])}"
        return math.inf, Violation(f"{bad} (not a finite number)", math.nan, math.nan, math.nan, math.inf, math.inf)
    act = lp.activity(x)
    mag = np.bincount(lp.row, weights=np.abs(lp.val * x[lp.col]), minlength=lp.shape[0])
    worst = (0.0, None)
    for value, lo, up, scale, kind in ((act, lp.row_lower, lp.row_upper, mag, "row"),
                                       (x, lp.col_lower, lp.col_upper, np.zeros(n), "column")):
        if not len(value):
            continue
        amount = np.maximum(np.maximum(lo - value, value - up), 0.0)
        size = np.maximum.reduce([np.ones_like(value), np.where(np.isfinite(lo), np.abs(lo), 0.0),
                                  np.where(np.isfinite(up), np.abs(up), 0.0), scale])
        rel = amount / size
        k = int(np.argmax(rel))
        if rel[k] > worst[0]:
            what = lp.row_name(k) if kind == "row" else f"column {k}"
            worst = (float(rel[k]), Violation(what, float(value[k]), float(lo[k]), float(up[k]), float(amount[k]),
                                              float(rel[k])))
    return worst[0], (worst[1] if worst[0] > tol else None)


def highs_available() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return True


def default_solver() -> str:
    return "highs" if highs_available() else "cbc"


def check_time_limit(time_limit: float | None) -> float | None:
    """``None`` (no limit) or a finite number of seconds > 0; else :class:`ConfigError`."""
    if time_limit is None:
        return None
    try:
        t = float(time_limit)
    except (TypeError, ValueError):
        t = math.nan
    if not (math.isfinite(t) and t > 0):
        raise ConfigError("bad time limit", expected="a finite number of seconds > 0", found=time_limit)
    return t


def solve(lp: SparseLP, solver: str | None = None, time_limit: float | None = None,
          keep: bool = False) -> Solution:
    """Solve ``lp`` with ``solver`` (default :func:`default_solver`) within ``time_limit`` seconds (None: no
    limit). The point is checked (:func:`check`) before any status with a solution is returned. ``keep``:
    keep the solved HiGHS object in ``Solution.engine`` for :func:`resolve_rows`."""
    solver = solver or default_solver()
    if solver not in SOLVERS:
        raise ConfigError("unknown solver", expected=" | ".join(SOLVERS), found=solver)
    if solver == "highs" and not highs_available():
        raise ConfigError("solver highs needs the highspy package (pip install highspy); use --solver cbc")
    time_limit = check_time_limit(time_limit)
    sol = _solve_highs(lp, time_limit, keep) if solver == "highs" else _solve_cbc(lp, time_limit)
    return _checked(lp, sol)


def _checked(lp: SparseLP, sol: Solution) -> Solution:
    if not sol.status.has_solution:
        sol.x, sol.row_dual = None, None
        return sol
    worst, bad = check(lp, sol.x)
    sol.max_violation = worst
    if bad is not None:
        sol.message = (f"the point the {sol.solver} solver returned violates the model: {bad}"
                       + (f" ({sol.message})" if sol.message else ""))
        sol.status, sol.x, sol.row_dual, sol.objective = SolveStatus.NO_SOLUTION, None, None, math.nan
    else:
        sol.objective = float(lp.cost @ sol.x)
    return sol


# ---- HiGHS ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _stdout_silenced():
    """File descriptor 1 pointed at the null device (C-level output included), restored afterwards."""
    sys.stdout.flush()
    _c_flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        _c_flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def _c_flush() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - no C library handle (Windows)
        pass


def new_highs():
    """A silent ``highspy.Highs`` (no banner, no log)."""
    import highspy

    with _stdout_silenced():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def _inf(a: np.ndarray, inf: float) -> np.ndarray:
    return np.where(np.isposinf(a), inf, np.where(np.isneginf(a), -inf, a))


def _highs_model(lp: SparseLP, time_limit: float | None):
    import highspy

    h = new_highs()
    # Presolve off: HiGHS 1.15's presolve (its dependent-equation search) took 120-145 s on a 65-unit allocation
    # whose simplex solve takes 0.8 s (README, Performance).
    h.setOptionValue("presolve", "off")
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    inf = highspy.kHighsInf
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.shape[1], lp.shape[0]
    model.col_cost_ = lp.cost
    model.col_lower_, model.col_upper_ = _inf(lp.col_lower, inf), _inf(lp.col_upper, inf)
    model.row_lower_, model.row_upper_ = _inf(lp.row_lower, inf), _inf(lp.row_upper, inf)
    start, index, value = lp.csc()
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = start, index, value
    h.passModel(model)
    return h


def _highs_status(h) -> tuple[SolveStatus, str]:
    """The status of a solved HiGHS object; a stopped run counts as ``FEASIBLE`` only with a feasible point."""
    import highspy

    S = highspy.HighsModelStatus
    ms = h.getModelStatus()
    if ms == S.kOptimal:
        return SolveStatus.OPTIMAL, ""
    if ms == S.kInfeasible:
        return SolveStatus.INFEASIBLE, ""
    if ms == S.kUnbounded:
        return SolveStatus.UNBOUNDED, ""
    text = h.modelStatusToString(ms)
    if int(h.getInfo().primal_solution_status) == 2:  # kSolutionStatusFeasible
        return SolveStatus.FEASIBLE, f"HiGHS: {text}"
    return SolveStatus.NO_SOLUTION, f"HiGHS stopped without a feasible point: {text}"


def _highs_solution(h, status: SolveStatus, message: str, seconds: dict[str, float]) -> Solution:
    sol = Solution(status, "highs", seconds=seconds, message=message, engine=h)
    if status.has_solution:
        s = h.getSolution()
        sol.x = np.asarray(s.col_value, dtype=float)
        sol.row_dual = np.asarray(s.row_dual, dtype=float) if s.dual_valid else None
    return sol


def _solve_highs(lp: SparseLP, time_limit: float | None, keep: bool) -> Solution:
    t0 = time.perf_counter()
    h = _highs_model(lp, time_limit)
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    sol = _highs_solution(h, *_highs_status(h), {"pass": t1 - t0, "solve": t2 - t1})
    if not keep:
        sol.engine = None
    return sol


def resolve_rows(lp: SparseLP, sol: Solution, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 limit: int | None = None) -> np.ndarray:
    """Optimal objective after moving the bounds of each row ``rows[k]`` to (``lower[k]``, ``upper[k]``), one
    row at a time, every other row as in ``lp`` (NaN where that makes the model infeasible, or where no
    checked optimum is found).

    HiGHS (``sol`` solved with ``keep=True``): the bounds change on the solved object and it re-solves from
    the optimal basis (warm start); the bounds are put back after each row. CBC: one PuLP model per row, at
    most ``limit`` rows (the others NaN) — CBC has no warm start through PuLP."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.full(len(rows), np.nan)
    if sol.solver == "highs":
        import highspy

        inf = highspy.kHighsInf
        h = sol.engine if sol.engine is not None else _solve_highs(lp, None, True).engine
        for k, i in enumerate(rows):
            h.changeRowBounds(int(i), float(_inf(np.array([lower[k]]), inf)[0]),
                              float(_inf(np.array([upper[k]]), inf)[0]))
            h.run()
            status, msg = _highs_status(h)
            moved = _moved(lp, i, lower[k], upper[k])
            res = _checked(moved, _highs_solution(h, status, msg, {}))
            out[k] = res.objective if res.status is SolveStatus.OPTIMAL else np.nan
            h.changeRowBounds(int(i), float(_inf(lp.row_lower[i:i + 1], inf)[0]),
                              float(_inf(lp.row_upper[i:i + 1], inf)[0]))
        return out
    for k, i in enumerate(rows[:limit] if limit is not None else rows):
        res = solve(_moved(lp, i, lower[k], upper[k]), "cbc")
        out[k] = res.objective if res.status is SolveStatus.OPTIMAL else np.nan
    return out


def _moved(lp: SparseLP, i: int, lower: float, upper: float) -> SparseLP:
    """``lp`` with the bounds of row ``i`` replaced (arrays shared except the row bounds)."""
    lo, up = lp.row_lower.copy(), lp.row_upper.copy()
    lo[i], up[i] = lower, upper
    return SparseLP(lp.cost, lp.row, lp.col, lp.val, lo, up, lp.col_lower, lp.col_upper, lp.row_names)


# ---- CBC through PuLP -----------------------------------------------------------------------------------
def _solve_cbc(lp: SparseLP, time_limit: float | None) -> Solution:
    import pulp

    t0 = time.perf_counter()
    m = lp.shape[0]
    prob = pulp.LpProblem("lp", pulp.LpMinimize)
    add = getattr(prob, "add_variable", None)  # PuLP ≥ 3.3; LpVariable(...) before
    make = add if add is not None else pulp.LpVariable
    xs = [make(f"x{j}", None if np.isneginf(lo) else float(lo), None if np.isposinf(up) else float(up))
          for j, (lo, up) in enumerate(zip(lp.col_lower, lp.col_upper, strict=True))]
    prob += pulp.LpAffineExpression([(xs[j], lp.cost[j]) for j in np.flatnonzero(lp.cost)])
    order = np.argsort(lp.row, kind="stable")
    at = np.searchsorted(lp.row[order], np.arange(m + 1))
    cons: list[list] = []
    for i in range(m):
        sel = order[at[i]:at[i + 1]]
        expr = pulp.LpAffineExpression([(xs[j], v) for j, v in zip(lp.col[sel], lp.val[sel], strict=True)])
        cons.append(_cbc_rows(prob, expr, i, lp.row_lower[i], lp.row_upper[i]))
    t1 = time.perf_counter()
    with warnings.catch_warnings():  # PuLP 3.3 announces PULP_CBC_CMD's removal in 4.0; it is the bundled CBC
        warnings.simplefilter("ignore", DeprecationWarning)
        prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    t2 = time.perf_counter()
    status, message = _cbc_status(prob.status, prob.sol_status, time_limit)
    sol = Solution(status, "cbc", seconds={"pass": t1 - t0, "solve": t2 - t1}, message=message)
    if status.has_solution:
        sol.x = np.array([np.nan if v.varValue is None else v.varValue for v in xs], dtype=float)
        sol.row_dual = np.array([sum(c.pi for c in cs if c.pi is not None) for cs in cons], dtype=float)
    return sol


def _cbc_rows(prob, expr, i: int, lo: float, up: float) -> list:
    """The PuLP constraint(s) of one row: one for = / ≥ / ≤, two for a range; none for a free row."""
    import pulp

    if lo == up:
        out = [pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", float(lo))]
    else:
        out = ([] if np.isneginf(lo) else [pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}_lo", float(lo))]) + (
            [] if np.isposinf(up) else [pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}_up", float(up))])
    for c in out:
        prob += c
    return out


def _cbc_status(status: int, sol_status: int, time_limit: float | None) -> tuple[SolveStatus, str]:
    """PuLP's (status, sol_status) as a :class:`SolveStatus`. PuLP reports a run CBC stopped on its time limit
    as status "Optimal" with sol_status 2 (a solution found, not proven optimal): that is ``FEASIBLE`` at best
    (and only if the point passes the check)."""
    import pulp

    if status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal:
        return SolveStatus.OPTIMAL, ""
    if status == pulp.LpStatusInfeasible:
        return SolveStatus.INFEASIBLE, ""
    if status == pulp.LpStatusUnbounded:
        return SolveStatus.UNBOUNDED, ""
    why = f"stopped by the time limit ({time_limit:g} s)" if time_limit else "stopped"
    said = f"PuLP: {pulp.LpStatus.get(status, status)}, {pulp.LpSolution.get(sol_status, sol_status)}"
    if sol_status == pulp.LpSolutionIntegerFeasible:
        return SolveStatus.FEASIBLE, f"CBC {why}; {said}"
    return SolveStatus.NO_SOLUTION, f"CBC {why} without a solution; {said}"


__all__ = ["FEASIBILITY_TOL", "SOLVERS", "Solution", "SolveStatus", "SparseLP", "Violation", "check",
           "check_time_limit", "default_solver", "highs_available", "new_highs", "resolve_rows", "solve"]
