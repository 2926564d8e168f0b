"""Benchmark: building the by-unit allocation LP with our arrays (``allocation.model``) against linopy, side by side.

Both start from the same :class:`allocation.model.Problem` (the config and start areas already turned into arrays:
units × leaves start areas, allowed pairs and costs, code membership, targets, bounds) and end with a
``highspy.Highs`` object holding the model:

* **ours**: :func:`allocation.model.build` (one COO matrix from index arrays) → ``LinearProgram.sparse()`` →
  :func:`landuse.lp._highs_model` (CSC + ``passModel``);
* **linopy**: the same LP written the way linopy is meant to be used — a flow variable over (unit, from, to) masked
  to the allowed pairs where the unit has land, an end-area variable per leaf, under/over per goal, constraints as
  labelled-array expressions — then ``Model.to_highspy()`` (linopy's direct hand-over to HiGHS).

Each figure is the best of ``--repeat`` runs in one process (linopy imported before the first timing). The two
HiGHS objects are then compared (columns, rows, non-zeros as HiGHS sees them) and solved with the same options
(simplex, presolve off, as ``landuse.lp`` solves); the optima must agree to 1e-6 relative.

    python benchmarks/bench_lp_build.py [--sizes 65,650] [--repeat 3]

linopy is an optional benchmark dependency (pip install -e ".[bench]"). Units: seconds, MB.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_allocation import province_start  # noqa: E402

from allocation.model import Problem, build, problem  # noqa: E402
from landuse.lp import _highs_model  # noqa: E402


def linopy_model(p: Problem):
    """The allocation LP of ``p`` (no unit-level rows; see :func:`allocation.model.build`) as a linopy Model."""
    import linopy
    import pandas as pd
    import xarray as xr

    if (p.targets["u"] >= 0).any() or (p.bounds["u"] >= 0).any():
        raise NotImplementedError("unit-level rows are not written in the linopy version")
    units, leaves = pd.Index(p.units, name="unit"), pd.Index(p.leaves, name="from")
    to = pd.Index(p.leaves, name="to")
    n = len(leaves)
    start = xr.DataArray(p.start, coords=[units, leaves])
    allowed = xr.DataArray(p.allowed | np.eye(n, dtype=bool), coords=[leaves, to])
    cost = xr.DataArray(np.where(np.eye(n, dtype=bool), 0.0, p.cost), coords=[leaves, to])
    m = linopy.Model()
    x = m.add_variables(lower=0, coords=[units, leaves, to], name="x", mask=(start > 0) & allowed)
    end = m.add_variables(lower=0, coords=[to], name="E")
    t, b = p.targets.reset_index(drop=True), p.bounds.reset_index(drop=True)
    goal, bound = pd.Index(range(len(t)), name="goal"), pd.Index(range(len(b)), name="bound")
    under = m.add_variables(lower=0, coords=[goal], name="under")
    over = m.add_variables(lower=0, coords=[goal], name="over")
    inflow, outflow = x.sum(["unit", "from"]), x.sum("to")
    if p.total is not None:  # land entering (from "+") any unit and leaf, leaving (to "-") where there is land
        enter = m.add_variables(lower=0, coords=[units, to], name="enter")
        leave = m.add_variables(lower=0, coords=[units, leaves], name="leave", mask=start > 0)
        inflow, outflow = inflow + enter.sum("unit"), outflow + leave
    m.add_constraints(outflow == start, name="supply", mask=start > 0)
    m.add_constraints(inflow - end == 0, name="end")
    m.add_constraints(end.sum() == (float(p.start.sum()) if p.total is None else float(p.total)), name="total")
    mb = xr.DataArray(p.member[b["g"].to_numpy(int)], coords=[bound, to])
    lo, hi = xr.DataArray(b["lo"].to_numpy(float), coords=[bound]), xr.DataArray(b["hi"].to_numpy(float),
                                                                                   coords=[bound])
    area = (mb * end).sum("to")
    m.add_constraints(area >= lo.fillna(0), name="bound_min", mask=lo.notnull())
    m.add_constraints(area <= hi.fillna(0), name="bound_max", mask=hi.notnull())
    mt = xr.DataArray(p.member[t["g"].to_numpy(int)], coords=[goal, to])
    target = xr.DataArray(t["target"].to_numpy(float), coords=[goal])
    m.add_constraints((mt * end).sum("to") + under - over == target, name="goal")
    weight = xr.DataArray(t["weight"].to_numpy(float), coords=[goal])
    objective = (cost * x).sum() + (weight * under).sum() + (weight * over).sum()
    if p.total is not None:
        objective = objective + p.boundary_cost * (enter.sum() + leave.sum())
    m.add_objective(objective)
    return m


def _silent_simplex(h) -> None:
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")


def ours(p: Problem):
    h = _highs_model(build(p).sparse(), None)
    return h


def theirs(p: Problem):
    h = linopy_model(p).to_highspy()
    _silent_simplex(h)
    return h


def timed(fn, p: Problem, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        t0 = time.perf_counter()
        out = fn(p)
        best = min(best, time.perf_counter() - t0)
    return best, out


def model_only(p: Problem, repeat: int) -> tuple[float, float]:
    """(ours: build + sparse, linopy: Model), seconds, without the hand-over to HiGHS."""
    t_ours, _ = timed(lambda q: build(q).sparse(), p, repeat)
    t_lin, _ = timed(linopy_model, p, repeat)
    return t_ours, t_lin


def peak_mb() -> float:
    with open("/proc/self/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("VmHWM"))) / 1024


def case(n_units: int, repeat: int) -> dict:
    start, cfg = province_start(n_units, 1)
    p = problem(cfg, start)
    theirs(p)  # warm: linopy's, xarray's and highspy's imports and first-call set-up
    t_ours, h_ours = timed(ours, p, repeat)
    t_lin, h_lin = timed(theirs, p, repeat)
    m_ours, m_lin = model_only(p, repeat)
    size = {}
    for name, h in (("ours", h_ours), ("linopy", h_lin)):
        size[name] = (h.getNumCol(), h.getNumRow(), h.getNumNz())
        t0 = time.perf_counter()
        h.run()
        size[name] += (h.getInfo().objective_function_value, time.perf_counter() - t0,
                       h.modelStatusToString(h.getModelStatus()))
    o, lo = size["ours"][3], size["linopy"][3]
    assert abs(o - lo) <= 1e-6 * max(1.0, abs(o)), f"optima differ: ours {o} linopy {lo}"
    return {"units": n_units, "ours_s": t_ours, "linopy_s": t_lin, "ratio": t_lin / t_ours,
            "ours_model_s": m_ours, "linopy_model_s": m_lin, "model_ratio": m_lin / m_ours,
            "cols": f"{size['ours'][0]:,} / {size['linopy'][0]:,}",
            "rows": f"{size['ours'][1]:,} / {size['linopy'][1]:,}",
            "nnz": f"{size['ours'][2]:,} / {size['linopy'][2]:,}", "objective": f"{o:.6f} / {lo:.6f}",
            "highs_s": f"{size['ours'][4]:.2f} / {size['linopy'][4]:.2f}", "status": size["ours"][5],
            "peak_MB": peak_mb()}


def main() -> None:
    from importlib.metadata import version

    import linopy
    import pandas as pd

    # linopy 0.10 warns that masked flow slots will stop counting as 0 in sums under its future "v1" semantics;
    # here they are meant as 0 (a pair that is not allowed has no flow), which is today's behaviour
    warnings.filterwarnings("ignore", message="Variable 'x' has absent slots")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="65,650")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"linopy {linopy.__version__}, xarray {version('xarray')}, highspy {version('highspy')}; best of {a.repeat}; "
          "ours / linopy in the paired columns")
    rows = [case(int(s), a.repeat) for s in a.sizes.split(",") if s]
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.float_format", "{:.3f}".format):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
