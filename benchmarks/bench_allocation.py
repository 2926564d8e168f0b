"""Benchmark of the allocation LP (one builder for the province and its units): build vs solve, vectorised vs
naive PuLP, HiGHS vs CBC, peak memory, and a national-size run (3,321 units in 34 provinces).

    python benchmarks/bench_allocation.py [--sizes 1,65,650] [--national] [--cbc-limit 600] [--jobs 2]

Build = config → arrays → sparse matrix: ``config`` (pair rules, protections, costs, membership; computed once
per config and cached), ``problem`` (start areas and unit rows → arrays) and ``matrix`` (:func:`build`). "cold"
includes the config part, "warm" is a second build of another problem under the same config (a scenario
re-run, a batch of provinces sharing a config). HiGHS = ``allocation.solve.solve`` (passModel + simplex);
CBC = the same arrays as a PuLP model solved by pulp's bundled CBC.

Each case runs in a fresh child process so that its peak memory (max RSS) is its own. Data: synthetic
commune inventories (landuse.synth) of the bundled Lạng Sơn 2024 leaf stock, allocated under the dataset's
default allocation config (Bảng 26 targets, bounds, shares, protections, conversion rules and costs). For the
national run, 34 provinces are made by scaling that stock and its targets/bounds by a lognormal factor.
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from allocation.config import load_scenario  # noqa: E402
from allocation.model import Problem, _parts, build, problem  # noqa: E402
from allocation.solve import solve  # noqa: E402
from landuse.dataset import load_dataset  # noqa: E402
from landuse.synth import make_units, synthesize  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def province_start(n_units: int, seed: int, factor: float = 1.0) -> tuple[pd.DataFrame, object]:
    """Synthetic start areas (long unit, code, area_ha) of ``n_units`` units; Lạng Sơn's stock × factor."""
    ds = load_dataset()
    cls = ds.classification
    stock = ds.stock(max(ds.years)).reindex(cls.leaves).dropna() * factor
    communes = ds.extras.get("communes") if factor == 1.0 else None
    units = make_units(n_units, communes, np.random.default_rng([seed, 1]))
    wide = synthesize(stock, cls, units, seed)
    long = wide.stack().rename("area_ha").reset_index().astype({"area_ha": float})
    cfg = load_scenario(None, ds)
    if factor != 1.0:
        t, b = cfg.targets.copy(), cfg.bounds.copy()
        t["target_ha"] *= factor
        b["area_ha"] = b["area_ha"] * factor
        cfg = replace(cfg, targets=t, bounds=b)
    return long, cfg


def naive_pulp(p: Problem):  # noqa: C901 - deliberately the per-variable loops
    """The same LP as allocation.model.build, written the usual PuLP way: one object per variable and lpSum
    loops per constraint."""
    import pulp

    prob = pulp.LpProblem("naive", pulp.LpMinimize)
    U, n = p.start.shape
    x = {}
    for u in range(U):
        for i in range(n):
            if p.start[u, i] <= 0:
                continue
            for j in range(n):
                if i == j or p.allowed[i, j]:
                    x[u, i, j] = pulp.LpVariable(f"x_{u}_{i}_{j}", lowBound=0)
    e = {j: pulp.LpVariable(f"e_{j}", lowBound=0) for j in range(n)}
    cost = p.cost
    obj = []
    for (u, i, j), v in x.items():
        if i != j:
            obj.append((cost[i, j] if cost.ndim == 2 else cost[u, i, j]) * v)
    for u in range(U):
        for i in range(n):
            if p.start[u, i] > 0:
                prob += pulp.lpSum(x[u, i, j] for j in range(n) if (u, i, j) in x) == p.start[u, i]
    for j in range(n):
        prob += e[j] == pulp.lpSum(x[u, i, j] for u in range(U) for i in range(n) if (u, i, j) in x)
    for r in p.bounds.itertuples():
        expr = pulp.lpSum(e[j] for j in range(n) if p.member[r.g, j])
        if not np.isnan(r.lo):
            prob += expr >= r.lo
        if not np.isnan(r.hi):
            prob += expr <= r.hi
    for k, r in enumerate(p.targets.itertuples()):
        dp, dm = pulp.LpVariable(f"dp_{k}", lowBound=0), pulp.LpVariable(f"dm_{k}", lowBound=0)
        prob += pulp.lpSum(e[j] for j in range(n) if p.member[r.g, j]) - dp + dm == r.target
        obj += [r.weight * dp, r.weight * dm]
    prob += pulp.lpSum(obj)
    return prob


def case(n_units: int, seed: int, cbc: bool, naive: bool, cbc_limit: float, q) -> None:
    t0 = time.perf_counter()
    start, cfg = province_start(n_units, seed)
    t1 = time.perf_counter()
    _parts(cfg)
    ta = time.perf_counter()
    p = problem(cfg, start)
    tb = time.perf_counter()
    lp = build(p)
    t2 = time.perf_counter()
    hs = solve(lp, "highs")
    t3 = time.perf_counter()
    # warm: the same build again under the same config object (its config part cached)
    w0 = time.perf_counter()
    build(problem(cfg, start))
    warm = time.perf_counter() - w0
    out = {"units": n_units, "vars": lp.shape[1], "rows": lp.shape[0], "nnz": lp.nnz, "data_s": t1 - t0,
           "config_s": ta - t1, "problem_s": tb - ta, "matrix_s": t2 - tb, "build_s": t2 - t1, "warm_build_s": warm,
           "highs_s": t3 - t2, "obj_highs": hs.objective, "status": hs.status.value}
    if cbc:
        t4 = time.perf_counter()
        cs = solve(lp, "cbc", cbc_limit)
        out.update(cbc_s=time.perf_counter() - t4, obj_cbc=cs.objective, cbc_status=cs.status.value)
    if naive:
        import warnings

        import pulp

        t5 = time.perf_counter()
        prob = naive_pulp(p)
        t6 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=cbc_limit))
        t7 = time.perf_counter()
        out.update(naive_build_s=t6 - t5, naive_cbc_s=t7 - t6, obj_naive=pulp.value(prob.objective))
    out["peak_mb"] = peak_mb()
    q.put(out)


def province_job(k: int, n_units: int, factor: float) -> dict:
    t0 = time.perf_counter()
    start, cfg = province_start(n_units, 1000 + k, factor)
    ta = time.perf_counter()
    lp = build(problem(cfg, start))
    t1 = time.perf_counter()
    sol = solve(lp, "highs")
    return {"province": k, "units": n_units, "vars": lp.shape[1], "data_s": ta - t0, "build_s": t1 - ta,
            "solve_s": time.perf_counter() - t1, "status": sol.status.value, "peak_mb": peak_mb()}


def national(jobs: int) -> pd.DataFrame:
    from landuse.batch import run_batch

    rng = np.random.default_rng(34)
    sizes = np.full(34, 3321 // 34)
    sizes[: 3321 - sizes.sum()] += 1
    factors = np.exp(rng.normal(0.0, 0.5, 34))
    tasks = [(k, int(s), float(f)) for k, (s, f) in enumerate(zip(sizes, factors, strict=True))]
    res = run_batch(province_job, tasks, jobs)
    return pd.DataFrame([r.value for r in res])


def run_child(target, *args) -> dict:
    q = mp.get_context("fork").Queue()
    pr = mp.get_context("fork").Process(target=target, args=(*args, q))
    pr.start()
    out = q.get()
    pr.join()
    return out


def print_table(t: pd.DataFrame) -> None:
    t["build/solve_%"] = 100 * t["build_s"] / t["highs_s"]
    t["warm/solve_%"] = 100 * t["warm_build_s"] / t["highs_s"]
    t["vec_end_to_end_s"] = t["build_s"] + t["highs_s"]
    if "naive_build_s" in t:
        t["naive_end_to_end_s"] = t["naive_build_s"] + t["naive_cbc_s"]
        t["speedup_vs_naive"] = t["naive_end_to_end_s"] / t["vec_end_to_end_s"]
    if "cbc_s" in t:
        t["cbc/highs"] = t["cbc_s"] / t["highs_s"]
    pd.set_option("display.width", 250)
    print(t.round(3).to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,65,650")
    ap.add_argument("--national", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cbc-limit", type=float, default=600)
    ap.add_argument("--naive-max", type=int, default=65, help="largest size for the naive PuLP model")
    a = ap.parse_args()
    rows = []
    for n in [int(s) for s in a.sizes.split(",") if s]:
        r = run_child(case, n, 1, True, n <= a.naive_max, a.cbc_limit)
        rows.append(r)
        print(r, flush=True)
    if rows:
        print_table(pd.DataFrame(rows))
    if a.national:
        t0 = time.perf_counter()
        nat = national(a.jobs)
        wall = time.perf_counter() - t0
        print(nat.describe().round(2).to_string())
        print(f"national: {len(nat)} provinces, {nat['units'].sum()} units, {nat['vars'].sum():,} variables, "
              f"all {set(nat['status'])}; wall {wall:.1f} s with --jobs {a.jobs}; "
              f"sum data {nat['data_s'].sum():.1f} s, sum build {nat['build_s'].sum():.1f} s, "
              f"sum solve {nat['solve_s'].sum():.1f} s, "
              f"max peak per process {nat['peak_mb'].max():.0f} MB")


if __name__ == "__main__":
    main()
