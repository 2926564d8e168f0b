"""Allocation build vs solve time, HiGHS (sparse matrix passed directly) vs CBC (PuLP), at 1 and N units.

Prints figures and ratios; not a test. Units > 1 are a crude synthetic split of the province's 2024 leaf areas
(random shares per unit, Dirichlet), only to size the model for issue 8 — not the synthetic generator.

    python benchmarks/bench_allocation_model.py [--units 1 65] [--cbc-max-units 65]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from allocation.config import load_scenario  # noqa: E402
from allocation.model import build, start_areas  # noqa: E402
from allocation.solve import solve  # noqa: E402
from landuse.dataset import load_dataset  # noqa: E402


def split(start: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    if n == 1:
        return start
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(n, 0.5), size=len(start))  # leaves × units, rows sum to 1
    units = [f"u{i:04d}" for i in range(n)]
    out = pd.DataFrame({"unit": np.tile(units, len(start)), "code": np.repeat(start["code"].to_numpy(), n),
                        "area_ha": (start["area_ha"].to_numpy()[:, None] * shares).ravel()})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, nargs="*", default=[1, 65])
    ap.add_argument("--cbc-max-units", type=int, default=65)
    args = ap.parse_args()
    ds = load_dataset()
    cfg = load_scenario(None, ds)
    base = start_areas(ds, cfg.start_year)
    print(f"{'units':>6} {'vars':>8} {'rows':>7} {'nnz':>9} {'build s':>8} {'highs s':>8} {'build/solve':>11} "
          f"{'cbc s':>8} {'cbc/highs':>9}")
    for n in args.units:
        start = split(base, n)
        t0 = time.perf_counter()
        lp = build(cfg, start)
        t1 = time.perf_counter()
        h = solve(lp, "highs")
        t2 = time.perf_counter()
        cbc = ""
        ratio = ""
        if n <= args.cbc_max_units:
            c = solve(lp, "cbc")
            t3 = time.perf_counter()
            cbc, ratio = f"{t3 - t2:8.2f}", f"{(t3 - t2) / (t2 - t1):9.1f}"
            assert abs(c.objective - h.objective) <= 1e-6 * max(1, abs(h.objective)), (c.objective, h.objective)
        print(f"{n:6d} {lp.matrix.shape[1]:8d} {lp.matrix.shape[0]:7d} {len(lp.matrix.val):9d} {t1 - t0:8.2f} "
              f"{t2 - t1:8.2f} {(t1 - t0) / (t2 - t1):11.2f} {cbc:>8} {ratio:>9}  ({h.status.value})")


if __name__ == "__main__":
    main()
