"""Benchmark: `landuse transitions PLOTS` against what a user would otherwise run, in the same run.

Writes plot files (Parquet and CSV) of 1 M and 10 M plots over the 53 leaf codes of vn2024 (Zipf-skewed, 95 %
unchanged, 65 units, integer plot ids, areas with 4 decimals), then times whole processes, interleaved
(ours, then each alternative, repeated), and prints the median wall time, CPU time and peak memory (the
child's VmHWM, Linux) of each and the ratio ours / best alternative:

* ``landuse transitions FILE --format csv`` (every validation: codes, areas, duplicate plot ids per unit);
* DuckDB's bare ``PIVOT`` straight from the file (rows fetched, no checks), the same on one thread
  (``SET threads = 1``), and the same into pandas;
* polars (lazy scan, ``group_by`` + ``pivot``, no checks);
* pandas: read the file, ``pandas.crosstab`` on the string codes (no checks).

Then, in-process, the matrix alone: ``transition_matrix`` against ``pandas.crosstab(values=, aggfunc="sum")``
on string codes (what the CLI receives) and on categorical codes, cells checked equal.

    python benchmarks/bench_transitions.py [--sizes 1000000 10000000] [--repeat 3] [--formats parquet csv]
        [--dir DIR] [--matrix-only]

DuckDB and polars are optional (pip install -e ".[bench]"); a missing one is skipped. Nothing is asserted.

The package's bytecode is compiled first (``compileall``), as in ``bench_run.py``: an installed Python caches it
on the first run, but with ``PYTHONDONTWRITEBYTECODE`` set (this sandbox) every process would compile the
modules of ``landuse`` again (≈ 0.05 s CPU), which no user pays.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from landuse.classification import load_classification  # noqa: E402
from landuse.transitions.change import transition_matrix  # noqa: E402

DUCKDB = """
import sys, duckdb
p = sys.argv[1]
src = f"read_csv('{p}')" if p.endswith(".csv") else f"'{p}'"
THREADS
rows = duckdb.sql(f"PIVOT (SELECT code_from, code_to, area_ha FROM {src}) ON code_to USING sum(area_ha) "
                  "GROUP BY code_from").fetchall()
print(len(rows))
"""
ALTERNATIVES = {
    "duckdb": DUCKDB.replace("THREADS", ""),
    "duckdb 1 thread": DUCKDB.replace("THREADS", 'duckdb.sql("SET threads = 1")'),
    "duckdb→pandas": """
import sys, duckdb
p = sys.argv[1]
src = f"read_csv('{p}')" if p.endswith(".csv") else f"'{p}'"
df = duckdb.sql(f"PIVOT (SELECT code_from, code_to, area_ha FROM {src}) ON code_to USING sum(area_ha) "
                "GROUP BY code_from").df()
print(df.shape)
""",
    "polars": """
import sys, polars as pl
p = sys.argv[1]
lf = pl.scan_csv(p) if p.endswith(".csv") else pl.scan_parquet(p)
df = (lf.group_by("code_from", "code_to").agg(pl.col("area_ha").sum()).collect()
        .pivot(on="code_to", index="code_from", values="area_ha"))
print(df.shape)
""",
    "pandas.crosstab": """
import sys, pandas as pd
p = sys.argv[1]
cols = ["code_from", "code_to", "area_ha"]
df = pd.read_csv(p, usecols=cols, engine="pyarrow") if p.endswith(".csv") else pd.read_parquet(p, columns=cols)
m = pd.crosstab(df["code_from"], df["code_to"], values=df["area_ha"], aggfunc="sum")
print(m.shape)
""",
}
# Peak memory is read from the child's own /proc/self/status (VmHWM) as it exits: a child's ru_maxrss also counts
# the memory of the parent it was forked from (Linux).
PEAK = """
import atexit, sys
def _peak():
    with open("/proc/self/status") as f:
        sys.stderr.write("".join(f"PEAK_KB {line.split()[1]}\\n" for line in f if line.startswith("VmHWM")))
atexit.register(_peak)
"""
OURS = PEAK + """
import runpy, sys
sys.argv = ["landuse"] + sys.argv[1:]
runpy.run_module("landuse", run_name="__main__")
"""
NEEDS = {"duckdb": "duckdb", "duckdb 1 thread": "duckdb", "duckdb→pandas": "duckdb", "polars": "polars",
         "pandas.crosstab": "pandas"}


def make_plots(n: int, codes: list[str], seed: int = 0, unchanged: float = 0.95) -> pd.DataFrame:
    """``n`` plots: start codes Zipf-skewed, 95 % unchanged, the rest to a Zipf-skewed other code; areas
    lognormal (median ~0.1 ha) rounded to 4 decimals; 65 units; plot ids 0 … n − 1."""
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


def write_files(n: int, codes: list[str], folder: Path) -> dict[str, Path]:
    """The plot table as Parquet and CSV (string columns, as a user's file has them); kept when present."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    out = {"parquet": folder / f"plots_{n}.parquet", "csv": folder / f"plots_{n}.csv"}
    if all(p.exists() for p in out.values()):
        return out
    df = make_plots(n, codes)
    table = pa.table({"plot_id": df["plot_id"].to_numpy(), "unit": df["unit"].astype(str).to_numpy(),
                      "code_from": df["code_from"].astype(str).to_numpy(),
                      "code_to": df["code_to"].astype(str).to_numpy(), "area_ha": df["area_ha"].to_numpy()})
    pq.write_table(table, out["parquet"])
    pcsv.write_csv(table, out["csv"])
    return out


def run_process(args: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s = user + system, peak memory MB = max RSS) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    peak = [int(line.split()[1]) for line in err.splitlines() if line.startswith("PEAK_KB")]
    if status != 0 or not peak:
        raise RuntimeError(f"{' '.join(args[:2])} … failed: {err[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, peak[-1] / 1024


def available(name: str) -> bool:
    try:
        __import__(NEEDS[name])
    except ImportError:
        return False
    return True


def bench_files(path: Path, repeat: int) -> pd.DataFrame:
    """Median wall/CPU/peak memory of ours and each alternative on one file, runs interleaved."""
    cmds = {"landuse transitions": [sys.executable, "-c", OURS, "transitions", str(path), "--format", "csv"]}
    cmds |= {name: [sys.executable, "-c", PEAK + code, str(path)] for name, code in ALTERNATIVES.items()
             if available(name)}
    runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for name, args in cmds.items():
            runs[name].append(run_process(args))
    rows = [{"tool": name, "wall_s": statistics.median(r[0] for r in rs), "cpu_s": statistics.median(r[1] for r in rs),
             "peak_MB": statistics.median(r[2] for r in rs)} for name, rs in runs.items()]
    return pd.DataFrame(rows)


def bench_matrix(n: int, cls, repeat: int) -> dict:
    """The matrix alone, in memory: ours against pandas.crosstab on string and on categorical codes."""
    df = make_plots(n, cls.leaves)
    as_str = df.assign(code_from=df["code_from"].astype(str), code_to=df["code_to"].astype(str))

    def best(fn) -> tuple[float, object]:
        times, out = [], None
        for _ in range(repeat):
            gc.collect()
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return min(times), out

    t_cat, m = best(lambda: transition_matrix(df, classification=cls))
    t_str, _ = best(lambda: transition_matrix(as_str, classification=cls))
    t_ct_str, ct = best(lambda: pd.crosstab(as_str["code_from"], as_str["code_to"], values=as_str["area_ha"],
                                            aggfunc="sum"))
    t_ct_cat, _ = best(lambda: pd.crosstab(df["code_from"], df["code_to"], values=df["area_ha"], aggfunc="sum"))
    body = m.drop(index="total", columns="total")
    ct = ct.fillna(0.0)
    assert np.allclose(body.reindex(index=ct.index, columns=ct.columns).fillna(0), ct), "cells differ"
    return {"plots": n, "ours_str_s": t_str, "crosstab_str_s": t_ct_str, "ratio_str": t_ct_str / t_str,
            "ours_cat_s": t_cat, "crosstab_cat_s": t_ct_cat, "ratio_cat": t_ct_cat / t_cat}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--formats", nargs="+", default=["parquet", "csv"], choices=["parquet", "csv"])
    ap.add_argument("--dir", type=Path, default=None, help="Keep the generated files here (default: a temp dir).")
    ap.add_argument("--matrix-only", action="store_true", help="Only the in-memory matrix against crosstab.")
    args = ap.parse_args()
    import compileall

    compileall.compile_dir(str(ROOT / "landuse"), quiet=1)
    cls = load_classification("vn2024")
    print(f"{os.cpu_count()} CPUs; numpy {np.__version__}, pandas {pd.__version__}; medians of {args.repeat} "
          "interleaved runs (whole processes)")
    fmt = {"wall_s": "{:.2f}".format, "cpu_s": "{:.2f}".format, "peak_MB": "{:.0f}".format}
    if not args.matrix_only:
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.dir or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            for n in args.sizes:
                for kind, path in write_files(n, cls.leaves, folder).items():
                    if kind not in args.formats:
                        continue
                    t = bench_files(path, args.repeat)
                    alt = t[t["tool"] != "landuse transitions"]
                    ours = t.iloc[0]
                    fastest = alt.loc[alt["wall_s"].idxmin()]
                    leanest = alt.loc[alt["peak_MB"].idxmin()]
                    print(f"\n{n:,} plots, {kind} ({path.stat().st_size / 1e6:.0f} MB)")
                    print(t.to_string(index=False, formatters=fmt))
                    print(f"ours / fastest ({fastest['tool']}): wall {ours['wall_s'] / fastest['wall_s']:.1f}x, "
                          f"CPU {ours['cpu_s'] / fastest['cpu_s']:.1f}x; ours / leanest ({leanest['tool']}): "
                          f"peak memory {ours['peak_MB'] / leanest['peak_MB']:.1f}x")
    print("\nmatrix alone, in memory (best of the repeats):")
    rows = pd.DataFrame([bench_matrix(n, cls, args.repeat) for n in args.sizes])
    with pd.option_context("display.width", 200, "display.float_format", "{:,.3f}".format):
        print(rows.to_string(index=False))


if __name__ == "__main__":
    main()
