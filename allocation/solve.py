"""Solving an allocation :class:`~allocation.model.LinearProgram`: a thin adapter over :mod:`landuse.lp` (the only
module that talks to a solver). Statuses, solution checks and warm re-solves live there."""

from __future__ import annotations

import numpy as np

from allocation.model import LinearProgram
from landuse.lp import SOLVERS, Solution, SolveStatus, default_solver, highs_available
from landuse.lp import solve as solve_lp


def solve(lp: LinearProgram, solver: str | None = None, time_limit: float | None = None,
          cost: np.ndarray | None = None, keep: bool = False) -> Solution:
    """Solve ``lp`` (optionally with another cost vector); see :func:`landuse.lp.solve`."""
    return solve_lp(lp.sparse(cost), solver, time_limit, keep=keep)


__all__ = ["SOLVERS", "Solution", "SolveStatus", "default_solver", "highs_available", "solve"]
