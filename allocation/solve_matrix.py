"""Solving a :class:`~allocation.matrix.MatrixLP`: HiGHS through highspy (the matrix is passed as it is),
or CBC (pulp's bundled binary) on the same model written as an MPS file by HiGHS.

Kept apart from :mod:`allocation.solve` (the provincial model's solver layer) so that the by-unit path
does not create one Python object per variable.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from allocation.matrix import MatrixLP


@dataclass
class MatrixSolution:
    """Status (``optimal`` | ``infeasible`` | ``time limit`` | other solver words), objective, column values and
    row duals (HiGHS only; None from CBC)."""

    status: str
    objective: float
    x: np.ndarray
    duals: np.ndarray | None
    solver: str


def to_highs(lp: MatrixLP, time_limit: float | None = None, threads: int | None = None):
    """A ``highspy.Highs`` object holding ``lp`` (not yet solved)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if time_limit:
        h.setOptionValue("time_limit", float(time_limit))
    if threads:
        h.setOptionValue("threads", int(threads))
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = len(lp.c), len(lp.row_lo)
    model.col_cost_, model.col_lower_, model.col_upper_ = lp.c, lp.col_lo, lp.col_hi
    model.row_lower_, model.row_upper_ = lp.row_lo, lp.row_hi
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = lp.a_start, lp.a_index, lp.a_value
    h.passModel(model)
    return h


def solve_highs(lp: MatrixLP, time_limit: float | None = None) -> MatrixSolution:
    import highspy

    h = to_highs(lp, time_limit)
    h.run()
    st = h.getModelStatus()
    status = {highspy.HighsModelStatus.kOptimal: "optimal", highspy.HighsModelStatus.kInfeasible: "infeasible",
              highspy.HighsModelStatus.kTimeLimit: "time limit"}.get(st, h.modelStatusToString(st).lower())
    sol = h.getSolution()
    x = np.asarray(sol.col_value) if status == "optimal" else np.full(len(lp.c), np.nan)
    duals = np.asarray(sol.row_dual) if status == "optimal" else None
    obj = h.getInfo().objective_function_value if status == "optimal" else float("nan")
    return MatrixSolution(status, obj, x, duals, "highs")


def solve_cbc(lp: MatrixLP, time_limit: float | None = None) -> MatrixSolution:
    """The same matrix solved by CBC: HiGHS writes it as MPS, pulp's bundled ``cbc`` solves it."""
    from pulp import PULP_CBC_CMD

    cbc = PULP_CBC_CMD().path
    with tempfile.TemporaryDirectory() as tmp:
        mps, out = Path(tmp) / "m.mps", Path(tmp) / "s.txt"
        h = to_highs(lp)
        h.writeModel(str(mps))
        args = [cbc, str(mps)] + (["sec", str(time_limit)] if time_limit else []) + ["solve", "solu", str(out)]
        subprocess.run(args, check=True, capture_output=True)
        text = out.read_text().splitlines()
    head = text[0].lower() if text else "no solution"
    status = "optimal" if head.startswith("optimal") else ("infeasible" if "infeasible" in head else head)
    x = np.zeros(len(lp.c))
    for line in text[1:]:
        parts = line.split()
        if len(parts) >= 3 and parts[1].startswith("c"):
            x[int(parts[1][1:])] = float(parts[2])
    obj = float(lp.c @ x) if status == "optimal" else float("nan")
    return MatrixSolution(status, obj, x, None, "cbc")


def solve(lp: MatrixLP, solver: str = "highs", time_limit: float | None = None) -> MatrixSolution:
    return solve_cbc(lp, time_limit) if solver == "cbc" else solve_highs(lp, time_limit)
