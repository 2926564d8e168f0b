"""The only module that talks to an LP solver: a generic sparse LP, HiGHS or CBC, honest statuses, checked solutions.

    min cost·x   s.t.   row_lower ≤ A x ≤ row_upper,   col_lower ≤ x ≤ col_upper

``A`` is sparse (coordinate arrays; :meth:`SparseLP.from_csr` takes CSR). Infinite bounds are ``±numpy.inf``.

* ``highs`` (default when :mod:`highspy` is installed): the matrix is handed to HiGHS column-wise in one call
  (``passModel``), presolve off (see the README's performance section), no console output — highspy ≥ 1.16
  prints a banner on C-level standard output when a solver object is created, so the creation runs with file
  descriptor 1 pointed at the null device.
* ``cbc``: PuLP's bundled CBC binary, given an MPS file written from the same arrays (no per-variable Python
  objects; no console output), its solution file read back.

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

A solved HiGHS model is kept with its :class:`Solution`, so :func:`row_ranges` reads over which range each row's
dual holds and :func:`resolve_rows` re-solves row-bound changes from the optimal basis of the same object (warm
start), never from a fresh model per row.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

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


def row_ranges(sol: Solution) -> tuple[np.ndarray, np.ndarray] | None:
    """HiGHS ranging of a kept optimal solve: per row, the (lowest, highest) value its bound can move to while
    the optimal basis stays optimal, so that the objective changes by exactly ``row_dual`` per unit. Only rows
    that are nonbasic (held at a bound) get a range; basic rows — including rows that sit on their bound in a
    degenerate basis, whose HiGHS range says nothing about the objective — and rows at a kink get NaN, so that
    they are re-solved. None when unavailable (CBC, no basis)."""
    if sol.solver != "highs" or sol.engine is None or sol.status is not SolveStatus.OPTIMAL:
        return None
    import highspy

    h = sol.engine
    basis = h.getBasis()
    status, rg = h.getRanging()
    if status != highspy.HighsStatus.kOk or not rg.valid or not basis.valid:
        return None
    nonbasic = np.array([s != highspy.HighsBasisStatus.kBasic for s in basis.row_status], dtype=bool)
    dn = np.where(nonbasic, np.asarray(rg.row_bound_dn.value_, dtype=float), np.nan)
    up = np.where(nonbasic, np.asarray(rg.row_bound_up.value_, dtype=float), np.nan)
    return dn, up


def _moved(lp: SparseLP, i: int, lower: float, upper: float) -> SparseLP:
    """``lp`` with the bounds of row ``i`` replaced (arrays shared except the row bounds)."""
    lo, up = lp.row_lower.copy(), lp.row_upper.copy()
    lo[i], up[i] = lower, upper
    return SparseLP(lp.cost, lp.row, lp.col, lp.val, lo, up, lp.col_lower, lp.col_upper, lp.row_names)


# ---- CBC (PuLP's bundled binary) ------------------------------------------------------------------------
def cbc_path() -> str:
    """The CBC binary that PuLP bundles (or the one PuLP is configured to use)."""
    import pulp

    with warnings.catch_warnings():  # PuLP 3.3 announces PULP_CBC_CMD's removal in 4.0; it is the bundled CBC
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False).path


def _num(a: np.ndarray) -> list[str]:
    return [repr(float(v)) for v in a]


def write_mps(lp: SparseLP, path: Path) -> None:
    """``lp`` as a free-format MPS file (rows ``R<i>``, columns ``C<j>``), written from the arrays in one pass:
    rows with both bounds finite and different are a ``G`` row with a range."""
    lo, up = lp.row_lower, lp.row_upper
    kind = np.where(lo == up, "E", np.where(np.isfinite(lo), "G", np.where(np.isfinite(up), "L", "N")))
    rhs = np.where(np.isfinite(lo), lo, np.where(np.isfinite(up), up, 0.0))
    ranged = np.flatnonzero((kind == "G") & np.isfinite(up))
    m, n = lp.shape
    # objective entries: every column with a cost, and every column of no row (so that it is declared)
    with_obj = np.union1d(np.flatnonzero(lp.cost), np.setdiff1d(np.arange(n), lp.col))
    rows = np.concatenate([lp.row, np.full(len(with_obj), -1)])
    cols = np.concatenate([lp.col, with_obj])
    vals = np.concatenate([lp.val, lp.cost[with_obj]])
    order = np.lexsort((rows, cols))
    rname = np.array(["obj"] + [f"R{i}" for i in range(m)], dtype=object)
    out = ["NAME lp", "ROWS", " N obj"]
    out += [f" {k} R{i}" for i, k in enumerate(kind)]
    out.append("COLUMNS")
    out += [f" C{c} {r} {v}" for c, r, v in zip(cols[order], rname[rows[order] + 1], _num(vals[order]), strict=True)]
    out.append("RHS")
    nz = np.flatnonzero(rhs)
    out += [f" RHS R{i} {v}" for i, v in zip(nz, _num(rhs[nz]), strict=True)]
    if len(ranged):
        out.append("RANGES")
        out += [f" RNG R{i} {v}" for i, v in zip(ranged, _num(up[ranged] - lo[ranged]), strict=True)]
    out.append("BOUNDS")
    clo, cup = lp.col_lower, lp.col_upper
    fixed = np.flatnonzero(clo == cup)
    free = np.flatnonzero(np.isneginf(clo) & np.isposinf(cup))
    mi = np.flatnonzero(np.isneginf(clo) & np.isfinite(cup))
    lo_set = np.flatnonzero(np.isfinite(clo) & (clo != 0) & (clo != cup))
    up_set = np.flatnonzero(np.isfinite(cup) & (clo != cup))
    out += [f" FX BND C{j} {v}" for j, v in zip(fixed, _num(clo[fixed]), strict=True)]
    out += [f" FR BND C{j}" for j in free] + [f" MI BND C{j}" for j in mi]
    out += [f" LO BND C{j} {v}" for j, v in zip(lo_set, _num(clo[lo_set]), strict=True)]
    out += [f" UP BND C{j} {v}" for j, v in zip(up_set, _num(cup[up_set]), strict=True)]
    out.append("ENDATA")
    path.write_text("\n".join(out) + "\n", encoding="ascii")


def _solve_cbc(lp: SparseLP, time_limit: float | None) -> Solution:
    """Write the MPS file, run PuLP's CBC binary on it (no console output), read its solution file. PuLP's own
    model objects and MPS writer took three quarters of the time at 65 communes (README, Performance)."""
    m, n = lp.shape
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="landuse-cbc-") as tmp:
        mps, solfile = Path(tmp) / "lp.mps", Path(tmp) / "lp.sol"
        write_mps(lp, mps)
        cmd = [cbc_path(), str(mps)] + (["-sec", repr(float(time_limit))] if time_limit else [])
        # dual tolerance 1e-9: with CBC's default 1e-7 it stopped 1.2e-5 above the optimum on the bundled data (pairs
        # whose costs differ by ~3e-7 per ha through the allocation's tie-break), a different plan than HiGHS's
        cmd += ["-dualTolerance", "1e-9", "-solve", "-printingOptions", "all", "-solution", str(solfile)]
        t1 = time.perf_counter()
        run = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             check=False)
        t2 = time.perf_counter()
        if run.returncode != 0 or not solfile.exists():
            return Solution(SolveStatus.NO_SOLUTION, "cbc", seconds={"pass": t1 - t0, "solve": t2 - t1},
                            message=f"CBC failed (exit code {run.returncode})")
        lines = solfile.read_text(encoding="ascii", errors="replace").splitlines()
    status, message = _cbc_status(lines[0] if lines else "", time_limit)
    sol = Solution(status, "cbc", seconds={"pass": t1 - t0, "solve": t2 - t1}, message=message)
    if status.has_solution:
        x, dual = np.full(n, np.nan), np.zeros(m)
        for line in lines[1:]:
            f = line.split()
            if f and f[0] == "**":  # CBC marks values outside their bounds; the check judges them
                f = f[1:]
            if len(f) < 4:
                continue
            k = int(f[1][1:])
            if f[1][0] == "C":
                x[k] = float(f[2])
            else:
                dual[k] = float(f[3])
        sol.x, sol.row_dual = x, dual
    return sol


def _cbc_status(first_line: str, time_limit: float | None) -> tuple[SolveStatus, str]:
    """The first line of CBC's solution file as a :class:`SolveStatus`. CBC stopped on its time limit writes
    "Stopped on time - objective value …" with whatever point it had (PuLP calls that optimal): ``FEASIBLE``
    at best, and only if the point passes the check."""
    word = first_line.split()[0] if first_line.split() else ""
    if word == "Optimal":
        return SolveStatus.OPTIMAL, ""
    if word in ("Infeasible", "Integer") and "infeasible" in first_line.lower():
        return SolveStatus.INFEASIBLE, ""
    if word == "Unbounded":
        return SolveStatus.UNBOUNDED, ""
    why = f"stopped by the time limit ({time_limit:g} s)" if time_limit else "stopped"
    if word == "Stopped" and "objective value" in first_line:
        return SolveStatus.FEASIBLE, f"CBC {why}: {first_line.strip()!r}"
    return SolveStatus.NO_SOLUTION, f"CBC {why} without a solution: {first_line.strip()!r}"


__all__ = ["FEASIBILITY_TOL", "SOLVERS", "Solution", "SolveStatus", "SparseLP", "Violation", "cbc_path", "check",
           "check_time_limit", "default_solver", "highs_available", "new_highs", "resolve_rows", "row_ranges", "solve",
           "write_mps"]
