"""Benchmark of the by-unit spread model (issue 13) against today's by-unit LP, side by side in one run.

    python benchmarks/bench_spread.py [--national] [--jobs 2] [--repeat 3]

65 communes: the synthetic Lạng Sơn with its real communes (``landuse synth --units 65``), default allocation
config, with its located projects (stage 1 = the joint by-unit LP) and without (stage 1 = the provincial LP).
"joint LP" = :func:`allocation.units.allocate_by_unit` (today's ``--by-unit``, a corner), "spread" =
:func:`allocation.spread.allocate_spread` (stage 1 + the QP), each end to end from a loaded dataset, best of
``--repeat``; the spread's stage-2 QP is timed on its own for Clarabel and OSQP. National: 34 synthetic
provinces of 97–98 units (3,321 in all), each a dataset folder written by ``landuse synth``, allocated by unit
with the spread model through :func:`landuse.batch.run_batch` with ``--jobs`` processes (wall clock). Figures
are printed; nothing is asserted. Peak memory = max RSS of this process (and of the busiest worker).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from allocation.config import load_scenario  # noqa: E402
from allocation.spread import allocate_spread  # noqa: E402
from allocation.units import allocate_by_unit  # noqa: E402
from landuse.dataset import load_dataset  # noqa: E402
from landuse.synth import write_synthetic  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best(f, repeat: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return min(times), out


def communes65(root: Path, repeat: int) -> pd.DataFrame:
    write_synthetic(load_dataset(), root / "s65", 65, seed=0)
    ds = load_dataset(root / "s65")
    cfg = load_scenario(None, ds)
    rows = []
    for projects in (True, False):
        t_lp, _ = best(lambda p=projects: allocate_by_unit(ds, cfg, projects=p), repeat)
        t_sp, res = best(lambda p=projects: allocate_spread(ds, cfg, projects=p), repeat)
        t_os, res_o = best(lambda p=projects: allocate_spread(ds, cfg, projects=p, qp_solver="osqp"), 1)
        a = res.unit_areas.set_index(["unit", "code"]).iloc[:, -1]
        b = res_o.unit_areas.set_index(["unit", "code"]).iloc[:, -1]
        s = res.seconds
        rows.append({"projects": projects, "stage 1": res.spread.stage1.split(" (")[0], "joint LP s": t_lp,
                     "spread s": t_sp, "ratio": t_sp / t_lp, "stage-1 s": s["stage1"],
                     "QP build+solve s": s["spread_build_and_solve"], "Clarabel solve s": s["spread_solve"],
                     "OSQP solve s": res_o.seconds["spread_solve"], "QP columns": s["columns"], "QP rows": s["rows"],
                     "max |Clarabel − OSQP| ha": float((a - b).abs().max())})
    return pd.DataFrame(rows)


def province(path: str) -> dict:
    t0 = time.perf_counter()
    ds = load_dataset(path)
    res = allocate_spread(ds, load_scenario(None, ds))
    return {"units": len(ds.units), "seconds": time.perf_counter() - t0, "columns": res.seconds["columns"],
            "qp_s": res.seconds["spread_solve"], "peak_mb": peak_mb()}


def national(root: Path, jobs: int) -> tuple[pd.DataFrame, float, float]:
    from landuse.batch import run_batch

    t0 = time.perf_counter()
    base = load_dataset()
    paths = []
    for k in range(34):
        n = 3321 // 34 + (1 if k < 3321 - 34 * (3321 // 34) else 0)
        paths.append(str(write_synthetic(base, root / f"p{k:02d}", n, seed=100 + k)))
    t1 = time.perf_counter()
    res = run_batch(province, [(p,) for p in paths], jobs)
    t2 = time.perf_counter()
    bad = [r.error for r in res if not r.ok]
    if bad:
        print("failed:", bad[:3])
    return pd.DataFrame([r.value for r in res if r.ok]), t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--national", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = communes65(Path(tmp), a.repeat)
        print(t.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
        print(f"peak memory of this process: {peak_mb():,.0f} MB")
        if a.national:
            nat, data_s, wall = national(Path(tmp), a.jobs)
            print(f"national: {len(nat)} provinces, {int(nat['units'].sum()):,} units, "
                  f"{int(nat['columns'].sum()):,} QP columns; data written in {data_s:.1f} s; allocation by unit "
                  f"(spread) {wall:.1f} s wall clock with --jobs {a.jobs} ({nat['seconds'].sum():.1f} s summed, "
                  f"QP {nat['qp_s'].sum():.1f} s summed); peak {nat['peak_mb'].max():,.0f} MB per worker")


if __name__ == "__main__":
    main()
