"""Benchmark: `landuse run` on the bundled dataset against the bare cost of importing its libraries.

Times whole processes, interleaved and repeated: ``python -c "import pandas, pulp, xlsxwriter, highspy"`` (the
floor: what any tool built on these libraries pays before doing anything), ``landuse run`` into a temporary
folder (its default: two processes on a machine with two cores), the same with ``--jobs 1`` (one process), and
``landuse --help`` (startup of the command line alone). Prints the median wall and CPU (user + system; a run's
forked children included) time of each and the ratio run / imports.

    python benchmarks/bench_run.py [--repeat 7] [--data DIR]

Nothing is asserted; on a shared machine compare the CPU column (wall time waits for other processes).

The package's bytecode is compiled first (``compileall``): an installed Python caches it on the first run, but
a machine with ``PYTHONDONTWRITEBYTECODE`` set (this sandbox) would otherwise compile every module of
``landuse`` in every process (≈ 0.1 s), which no user pays.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_process(args: list[str]) -> tuple[float, float]:
    """(wall s, CPU s = user + system) of one child process; raises when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {err[-500:]}")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--data", type=Path, default=None, help="Dataset folder (default: the bundled one).")
    args = ap.parse_args()
    py = sys.executable
    import compileall

    import allocation
    import landuse

    for pkg in (landuse, allocation):
        compileall.compile_dir(str(Path(pkg.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        data = ["--data", str(args.data)] if args.data else []
        cmds = {
            "imports (pandas, pulp, xlsxwriter, highspy)": [py, "-c", "import pandas, pulp, xlsxwriter, highspy"],
            "landuse run": [py, "-m", "landuse", "run", *data, "--out", str(Path(tmp) / "out"), "--force"],
            "landuse run --jobs 1": [py, "-m", "landuse", "run", *data, "--out", str(Path(tmp) / "out1"), "--force",
                                     "--jobs", "1"],
            "landuse --help": [py, "-m", "landuse", "--help"],
        }
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
        for _ in range(args.repeat):
            for name, cmd in cmds.items():
                runs[name].append(run_process(cmd))
    print(f"{os.cpu_count()} CPUs; medians of {args.repeat} interleaved runs (whole processes)")
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in runs.items()}
    for name, (wall, cpu) in med.items():
        print(f"{name:46s} wall {wall:5.2f} s   CPU {cpu:5.2f} s")
    base = med["imports (pandas, pulp, xlsxwriter, highspy)"]
    for name in ("landuse run", "landuse run --jobs 1"):
        run = med[name]
        print(f"{name} / imports: wall {run[0] / base[0]:.2f}x, CPU {run[1] / base[1]:.2f}x")


if __name__ == "__main__":
    main()
