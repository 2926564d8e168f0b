"""Binding constraints and shadow prices of a by-unit allocation: the ways to get them, side by side in one run.

    python benchmarks/bench_diagnostics.py [--sizes 65,650] [--cbc 65] [--fresh-max 30]

For each size (synthetic communes of the bundled Lạng Sơn 2024 stock, `landuse.synth`; the dataset's default
allocation config and its located projects, as `landuse allocate --by-unit`), the model is built and solved
once with HiGHS, then the per-ha figure of every bound at its limit is obtained

* ``fresh``: the obvious way — a fresh model per row with the bound moved 1 ha, solved from scratch
  (at most ``--fresh-max`` rows, time scaled to all rows);
* ``rebuild+warm``: what `allocation/solve.py` did before `landuse/lp.py`: build and solve the model a
  second time, then move each row's bound on that object and re-solve from the basis;
* ``lp.py``: the solved object kept from the allocation itself, the dual taken where HiGHS ranging shows the
  basis stays optimal over the 1 ha step (nonbasic rows), warm re-solves for the others
  (`allocation.diagnostics.binding`).

The three give the same binding set (checked). ``--cbc N``: sizes at which the whole allocation also runs with
`--solver cbc` (CBC does not re-solve above 20,000 columns; the duals are used) to compare with HiGHS end to end,
both with the default ``--unit-method spread`` (the provincial LP, then the spread QP) and with ``lp`` (one joint
LP of all units: what the issue timed).
Figures are printed; nothing is asserted except that the methods agree.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from allocation import diagnostics as dg  # noqa: E402
from allocation.api import allocate  # noqa: E402
from allocation.config import load_scenario  # noqa: E402
from allocation.model import BOUND, build, problem, start_areas  # noqa: E402
from allocation.units import located_projects  # noqa: E402
from landuse.dataset import load_dataset  # noqa: E402
from landuse.lp import SolveStatus, SparseLP, resolve_rows, solve  # noqa: E402
from landuse.synth import write_synthetic  # noqa: E402


def at_limit(lp, slp: SparseLP, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    act = slp.activity(x)
    lo, up = slp.row_lower, slp.row_upper
    on = (np.isfinite(lo) & (np.abs(act - lo) <= 1e-6 * np.maximum(1, np.abs(lo)))) | (
        np.isfinite(up) & (np.abs(act - up) <= 1e-6 * np.maximum(1, np.abs(up))))
    sel = np.flatnonzero(lp.rows["kind"].eq(BOUND).to_numpy() & on)
    is_min = np.isfinite(lo[sel])
    return sel, np.where(is_min, lo[sel] + 1, lo[sel]), np.where(is_min, up[sel], up[sel] - 1)


def fresh(slp: SparseLP, rows, lower, upper) -> np.ndarray:
    out = []
    for i, lo, up in zip(rows, lower, upper, strict=True):
        rl, ru = slp.row_lower.copy(), slp.row_upper.copy()
        rl[i], ru[i] = lo, up
        s = solve(SparseLP(slp.cost, slp.row, slp.col, slp.val, rl, ru, slp.col_lower, slp.col_upper), "highs")
        out.append(s.objective if s.status is SolveStatus.OPTIMAL else np.nan)
    return np.array(out)


def binding_set(rows, objective: float, values: np.ndarray) -> set[int]:
    return {int(r) for r, v in zip(rows, values, strict=True) if np.isnan(v) or abs(v - objective) > dg.BINDING_TOL}


def case(n: int, root: Path, fresh_max: int, cbc: bool) -> dict:
    ds_dir = root / f"syn{n}"
    if not ds_dir.exists():
        write_synthetic(load_dataset(), ds_dir, n, 0, None, False)
    ds = load_dataset(ds_dir)
    cfg = load_scenario(None, ds)
    p = problem(cfg, start_areas(ds, cfg.start_year, by_unit=True), located_projects(ds, cfg.target_year))
    lp = build(p)
    slp = lp.sparse()
    t0 = time.perf_counter()
    sol = solve(slp, "highs", keep=True)
    solve_s = time.perf_counter() - t0
    rows, lower, upper = at_limit(lp, slp, sol.x)
    k = min(len(rows), fresh_max)
    t0 = time.perf_counter()
    fr = fresh(slp, rows[:k], lower[:k], upper[:k])
    fresh_s = (time.perf_counter() - t0) * len(rows) / max(k, 1)
    t0 = time.perf_counter()
    again = solve(slp, "highs", keep=True)          # the former path: a second model, solved again
    old = resolve_rows(slp, again, rows, lower, upper)
    old_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = dg.binding(lp, slp, sol, SimpleNamespace(classification=frozenset()))
    new_s = time.perf_counter() - t0
    new_rows = set(lp.rows.index[lp.rows["label"].isin(table["constraint"]) & lp.rows["kind"].eq(BOUND)])
    assert binding_set(rows, sol.objective, old) == new_rows, "lp.py and the former path disagree"
    assert binding_set(rows[:k], sol.objective, fr) == binding_set(rows[:k], sol.objective, old[:k])
    out = {"units": n, "columns": lp.shape[1], "rows": lp.shape[0], "solve_s": solve_s, "at_limit": len(rows),
           "binding": len(table), "by_ranging": int((table["method"] == "ranging").sum()),
           "fresh_s": fresh_s, "rebuild_warm_s": old_s, "lp_py_s": new_s,
           "fresh/lp_py": fresh_s / new_s, "rebuild_warm/lp_py": old_s / new_s}
    for method in ("spread", "lp"):  # the default (provincial LP, then the spread QP) and one joint LP of all units
        tag = "" if method == "spread" else "_lp"
        for solver in ("highs", "cbc") if cbc else ("highs",):
            t0 = time.perf_counter()
            res = allocate(ds, by_unit=True, solver=solver, unit_method=method)
            out[f"allocate{tag}_{solver}_s"] = time.perf_counter() - t0
            out[f"objective{tag}_{solver}"] = res.objective
        if cbc:
            out[f"cbc/highs{tag}"] = out[f"allocate{tag}_cbc_s"] / out[f"allocate{tag}_highs_s"]
    print(out, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="65,650")
    ap.add_argument("--cbc", default="65", help="sizes at which the allocation also runs with CBC")
    ap.add_argument("--fresh-max", type=int, default=30, help="at most this many fresh solves per size")
    ap.add_argument("--data", type=Path, default=None, help="folder for the synthetic datasets (default: temp)")
    a = ap.parse_args()
    cbc = {int(s) for s in a.cbc.split(",") if s}
    with tempfile.TemporaryDirectory() as tmp:
        root = a.data or Path(tmp)
        rows = [case(int(n), root, a.fresh_max, int(n) in cbc) for n in a.sizes.split(",") if n]
    pd.set_option("display.width", 250)
    print(pd.DataFrame(rows).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
