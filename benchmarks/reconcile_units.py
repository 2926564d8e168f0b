"""Benchmark: `landuse.reconcile.reconcile` on the bundled data, then on an inventory with many units.

Prints wall-clock seconds and the per-unit cost; not run by the test suite. Usage:
    python benchmarks/reconcile_units.py [N_UNITS]
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from landuse.dataset import load_dataset
from landuse.reconcile import reconcile


def main(n_units: int = 1000) -> None:
    ds = load_dataset()
    t0 = time.perf_counter()
    f = reconcile(ds)
    base = time.perf_counter() - t0
    print(f"bundled dataset: {len(f)} findings in {base:.3f} s")
    inv = ds.inventory
    big = pd.concat([inv.assign(unit=f"unit {i:04d}", source="") for i in range(n_units)], ignore_index=True)
    ds.inventory = big
    t0 = time.perf_counter()
    f = reconcile(ds)
    t = time.perf_counter() - t0
    print(f"{n_units} units x {len(inv)} inventory rows ({len(big)} rows): {len(f)} findings in {t:.3f} s "
          f"({1000 * t / n_units:.2f} ms per unit; {t / base:.1f}x the bundled run)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
