"""Benchmark: the transition matrix (numpy.bincount on integer codes) against pandas.crosstab.

Builds plot tables of 1 M and 10 M plots over the 53 leaf codes of vn2024 with a realistic skew (a few large
categories such as production forest dominate; 95 % of plots unchanged), then in the same run times
``landuse.transitions.change.transition_matrix`` and ``pandas.crosstab(values=, aggfunc="sum")`` on the same columns,
checks that both give the same cells, and prints the times, the ratio and the peak memory (tracemalloc) of
the matrix against the size of the input columns. Also times reading a 1 M-plot CSV with
``landuse.readers.plots.read_plots`` (parsing is the bottleneck of a real run).

    python benchmarks/bench_transitions.py [--sizes 1000000 10000000] [--repeat 3] [--no-csv]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from landuse.classification import load_classification  # noqa: E402
from landuse.readers.plots import read_plots  # noqa: E402
from landuse.transitions.change import transition_matrix  # noqa: E402


def make_plots(n: int, codes: list[str], seed: int = 0, unchanged: float = 0.95) -> pd.DataFrame:
    """``n`` plots: start codes Zipf-skewed, 95 % unchanged, the rest to a Zipf-skewed other code; areas
    lognormal (median ~0.1 ha)."""
    rng = np.random.default_rng(seed)
    k = len(codes)
    weights = 1.0 / np.arange(1, k + 1) ** 1.2
    weights /= weights.sum()
    f = rng.choice(k, size=n, p=weights).astype(np.int16)
    t = f.copy()
    moved = rng.random(n) > unchanged
    t[moved] = rng.choice(k, size=int(moved.sum()), p=weights).astype(np.int16)
    cats = pd.CategoricalDtype(codes)
    return pd.DataFrame({
        "plot_id": np.arange(n, dtype=np.int64),
        "unit": pd.Categorical.from_codes(rng.integers(0, 65, n, dtype=np.int16), [f"X{i:02d}" for i in range(65)]),
        "code_from": pd.Categorical.from_codes(f, dtype=cats),
        "code_to": pd.Categorical.from_codes(t, dtype=cats),
        "area_ha": np.round(rng.lognormal(-2.3, 1.0, n), 4),
    })


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_memory(fn) -> int:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def bench(n: int, cls, repeat: int) -> dict:
    df = make_plots(n, cls.leaves)
    as_str = df.assign(code_from=df["code_from"].astype(str), code_to=df["code_to"].astype(str))
    input_bytes = int(df[["code_from", "code_to", "area_ha"]].memory_usage(deep=True, index=False).sum())
    t_ours, m = best_of(lambda: transition_matrix(df, classification=cls), repeat)
    t_str, _ = best_of(lambda: transition_matrix(as_str, classification=cls), repeat)
    t_ct, ct = best_of(lambda: pd.crosstab(df["code_from"], df["code_to"], values=df["area_ha"], aggfunc="sum"),
                       max(1, repeat - 1))
    ct = ct.fillna(0.0)
    body = m.drop(index="total", columns="total")
    assert np.allclose(body.reindex(index=ct.index, columns=ct.columns).fillna(0), ct), "cells differ"
    t_lvl, _ = best_of(lambda: transition_matrix(df, level=1, classification=cls), repeat)
    t_unit, _ = best_of(lambda: transition_matrix(df, by_unit=True, classification=cls), repeat)
    peak = peak_memory(lambda: transition_matrix(df, classification=cls))
    return {"plots": n, "matrix_s": t_ours, "matrix_str_codes_s": t_str, "crosstab_s": t_ct,
            "ratio": t_ct / t_ours, "level1_s": t_lvl, "by_unit_s": t_unit,
            "input_MB": input_bytes / 1e6, "peak_MB": peak / 1e6, "peak_over_input": peak / input_bytes}


def bench_csv(n: int, cls) -> dict:
    df = make_plots(n, cls.leaves)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "plots.csv"
        df.to_csv(p, index=False)
        size = p.stat().st_size
        t_en, _ = best_of(lambda: read_plots(p, number_format="en"), 1)
        t_auto, plots = best_of(lambda: read_plots(p), 1)
        t_m, _ = best_of(lambda: transition_matrix(plots, classification=cls), 1)
    return {"plots": n, "csv_MB": size / 1e6, "read_en_s": t_en, "read_auto_s": t_auto, "matrix_s": t_m}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-csv", action="store_true")
    args = ap.parse_args()
    cls = load_classification("vn2024")
    print(f"codes: {len(cls.leaves)} leaves of vn2024; 95 % of plots unchanged; numpy {np.__version__}, "
          f"pandas {pd.__version__}")
    rows = [bench(n, cls, args.repeat) for n in args.sizes]
    t = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.float_format", "{:,.3f}".format):
        print(t.to_string(index=False))
    for r in rows:
        print(f"{r['plots']:>11,} plots: matrix {r['matrix_s']:.3f} s, crosstab {r['crosstab_s']:.3f} s -> "
              f"{r['ratio']:.1f}x faster; peak memory {r['peak_MB']:.1f} MB = {r['peak_over_input']:.2f}x the "
              f"input columns ({r['input_MB']:.1f} MB)")
    if not args.no_csv:
        c = bench_csv(1_000_000, cls)
        print(f"reading a {c['csv_MB']:.0f} MB CSV of {c['plots']:,} plots: {c['read_en_s']:.2f} s "
              f"(--number-format en), {c['read_auto_s']:.2f} s (auto); its matrix {c['matrix_s']:.3f} s")


if __name__ == "__main__":
    main()
