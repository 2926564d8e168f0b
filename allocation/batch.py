"""Many allocations at once (``landuse allocate --batch PATH … --jobs N``): every dataset folder or scenario
file is one job, run in parallel processes by :func:`landuse.batch.run_batch`.

A PATH that is a folder with ``manifest.toml`` is a dataset (allocated under its default config, or under
``--scenario`` when given); a ``.toml`` file is a scenario of the dataset given by ``--data``. Each job
returns its 2030 table (provincial; with ``by_unit`` the provincial sums of the unit allocation) and the
per-unit flows; the caller writes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from landuse.batch import BatchResult, run_batch
from landuse.errors import InputError, Location


@dataclass
class AllocationJob:
    """One job: a dataset folder (None = the bundled one) and an optional scenario file."""

    name: str
    data: Path | None
    scenario: Path | None


def jobs_from_paths(paths: list[Path], data: Path | None, scenario: Path | None) -> list[AllocationJob]:
    """Dataset folders and scenario files -> jobs with unique names (the folder or file stem)."""
    jobs, seen = [], set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            if not (p / "manifest.toml").exists():
                raise InputError("not a dataset folder", Location.of(p), expected="a folder with manifest.toml")
            job = AllocationJob(p.name, p, scenario)
        elif p.suffix.lower() == ".toml" and p.exists():
            job = AllocationJob(p.stem, data, p)
        else:
            raise InputError("not a dataset folder or scenario file", Location.of(p),
                             expected="a folder with manifest.toml or an existing .toml scenario")
        name, k = job.name, 2
        while job.name in seen:
            job.name, k = f"{name}_{k}", k + 1
        seen.add(job.name)
        jobs.append(job)
    return jobs


@dataclass(frozen=True)
class BatchOptions:
    """The options of a single ``landuse allocate`` run that every job of a batch takes: ``by_unit``, the solver
    and its time limit (s), the dataset's located projects (``projects``), unit-level rows and per-unit cost
    factors (files), the number format (``None``: each dataset's manifest) and the by-unit method and its QP
    solver."""

    by_unit: bool = False
    solver: str | None = None
    time_limit: float | None = None
    projects: bool = True
    unit_rows: Path | None = None
    unit_costs: Path | None = None
    number_format: str | None = None
    unit_method: str = "spread"
    qp_solver: str = "clarabel"


def run_job(job: AllocationJob, options: BatchOptions) -> dict:
    """Worker (runs in a child process): load, allocate, return tables and timings."""
    from allocation.api import allocate
    from landuse.dataset import load_dataset

    t0 = time.perf_counter()
    o = options
    ds = load_dataset(job.data, number_format=o.number_format)
    res = allocate(ds, job.scenario, o.solver, o.time_limit, by_unit=o.by_unit, unit_rows=o.unit_rows,
                   projects=o.projects, unit_costs=o.unit_costs, unit_method=o.unit_method, qp_solver=o.qp_solver)
    return {"table": res.output_table(), "unit_flows": res.unit_flows if res.unit_areas is not None else None,
            "status": res.status.value, "exit_code": res.exit_code, "objective": res.objective,
            "seconds": time.perf_counter() - t0}


def allocate_many(jobs: list[AllocationJob], n_jobs: int = 1, options: BatchOptions | None = None,
                  progress: Callable[[BatchResult], None] | None = None) -> tuple[pd.DataFrame, list[BatchResult]]:
    """Run ``jobs`` ``n_jobs`` at a time, each under ``options``; returns a summary (job, data, scenario,
    status, objective, seconds, error) and the raw results (``value`` = the dict of :func:`run_job`)."""
    options = options or BatchOptions()
    results = run_batch(run_job, [(j, options) for j in jobs], n_jobs, progress=progress)
    summary = pd.DataFrame([{
        "job": j.name, "data": str(j.data or "(bundled)"), "scenario": str(j.scenario or "(default)"),
        "status": r.value["status"] if r.ok else "error", "objective": r.value["objective"] if r.ok else None,
        "seconds": r.value["seconds"] if r.ok else None, "error": r.error or ""}
        for j, r in zip(jobs, results, strict=True)])
    return summary, results


# most serious first: bad input, no solution, infeasible, feasible but not proven optimal, optimal
EXIT_SEVERITY = (2, 4, 1, 3, 0)


def exit_code(results: list[BatchResult]) -> int:
    """The batch's exit code: the most serious of its jobs' (:data:`EXIT_SEVERITY`; a job that ran gives its
    allocation's code, 3 when feasible but not proven optimal)."""
    codes = {r.exit_code if not r.ok else r.value.get("exit_code", 0) for r in results}
    return next((c for c in EXIT_SEVERITY if c in codes), max(codes, default=0))


def write_outputs(results: list[BatchResult], jobs: list[AllocationJob], out_dir: Path,
                  force: bool = False) -> list[Path]:
    """Write ``<job>.csv`` (the 2030 table) and, by unit, ``<job>_unit_flows.csv`` into ``out_dir``
    (atomically; existing files only with ``force``). Failed jobs write nothing."""
    from landuse.output import write_csv

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError("output folder does not exist", Location.of(out_dir))
    written = []
    for job, r in zip(jobs, results, strict=True):
        if not r.ok:
            continue
        written.append(write_csv(r.value["table"], out_dir / f"{job.name}.csv", force))
        if r.value["unit_flows"] is not None:
            written.append(write_csv(r.value["unit_flows"], out_dir / f"{job.name}_unit_flows.csv", force))
    return written
