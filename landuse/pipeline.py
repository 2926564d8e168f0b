"""The ``landuse run`` job, as code to read top to bottom: load → reconcile → change → intensity → fulfilment →
allocate → workbook. Each step is one function that takes what the steps before computed (a typed :class:`Results`) and
returns its part; :func:`run` calls them in order and writes every table into a staged output folder that is
put in place only when every step succeeded (:class:`landuse.output.StagedFolder`).

The workbook (``landuse tables``) is built from the same parts (:func:`workbook_parts`, :func:`build_tables`).
Areas in ha.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path

import pandas as pd

from allocation.api import AllocationResult, allocate
from landuse.background import Task, background, forks_by_default
from landuse.dataset import Dataset, load_dataset, summary
from landuse.errors import InfeasibleError, LanduseError, NoSolutionError
from landuse.excel.workbook import WORKBOOK_NAME, PartNote, Parts, TablesReport, inventory_table, write_tables
from landuse.findings import counts
from landuse.fulfilment import (
    COMPARE_FILE,
    OUTPUT_FILE,
    STATUSES,
    Fulfilment,
    PlanComparison,
    assess,
    compare_versions,
    default_plan_id,
    versions_of,
)
from landuse.output import StagedFolder, write_csv
from landuse.reconcile import reconcile, reconciled_table
from landuse.reconcile.base import observations
from landuse.transitions.change import estimate_years, net_change
from landuse.transitions.estimate import EstimateResult, estimate
from landuse.transitions.intensity import ALL, RUN_STEM, IntensityResult, analyse_estimate

STEP_NAMES = ("load", "reconcile", "change", "intensity", "fulfilment", "allocate", "workbook")


@dataclass
class StepTime:
    """One step of the run and the seconds it took (its own time, not the time since the start)."""

    number: int
    name: str
    seconds: float


@dataclass
class Results:
    """What the steps of ``landuse run`` computed, each step's part in its own typed field.

    ``changes``: net change per (from year, to year); ``estimate``: the estimated matrix of the interval
    :func:`~landuse.transitions.change.estimate_years` chose (its years are ``estimate.from_year`` /
    ``to_year``); ``intensity``: the intensity analysis of the estimated matrices of every inventory interval;
    ``fulfilment`` / ``plan_versions``: the default plan's fulfilment (plan id, base, report
    and target year as fields) and its versions compared; ``allocation``: the default allocation (its target
    year and status as fields), ``None`` when the dataset has no allocation config or it is infeasible (then
    ``notes`` says why).
    """

    dataset: Dataset
    overview: pd.DataFrame | None = None
    findings: pd.DataFrame | None = None
    reconciled: pd.DataFrame | None = None
    changes: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict)
    estimate: EstimateResult | None = None
    intensity: IntensityResult | None = None
    fulfilment: Fulfilment | None = None
    plan_versions: PlanComparison | None = None
    allocation: AllocationResult | None = None
    workbook: TablesReport | None = None
    notes: list[str] = field(default_factory=list)
    part_notes: list[PartNote] = field(default_factory=list)
    png: bool = False  # also draw the intensity charts as PNG (matplotlib, ~2-3 s); the HTML file is always written


@dataclass
class RunReport:
    """What ``landuse run`` did: the folder, the files written (final paths), one-line notes, each step's
    time, and the results."""

    out_dir: Path
    results: Results
    files: list[Path] = field(default_factory=list)
    steps: list[StepTime] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return self.results.notes


# ---- the steps ------------------------------------------------------------------------------------------
def dataset_overview(ds: Dataset, by_unit: bool = False) -> pd.DataFrame:
    """Total and group areas per year (ha) with each group's share of the total (%).

    With several units, the rows are the sums over units (``unit`` = "(N units)") unless ``by_unit``.
    """
    s = summary(ds)
    cls = ds.classification
    if not by_unit and s["unit"].nunique() > 1:
        codes = [cls.root] + cls.parts(cls.root)
        s = s.groupby("year", as_index=False)[codes].sum(min_count=1)
        s.insert(0, "unit", f"({len(ds.units)} units)")
        s["computed"] = ""
    for g in cls.parts(cls.root):
        s[f"{g}_pct"] = 100 * s[g] / s[cls.root]
    return s


def change_pairs(years: list[int]) -> list[tuple[int, int]]:
    """The intervals ``landuse run`` tabulates: each pair of consecutive inventories, and first → last when
    there are more than two."""
    pairs = list(zip(years, years[1:], strict=False))
    if len(years) > 2:
        pairs.append((years[0], years[-1]))
    return pairs


def step_load(r: Results) -> None:
    ds = r.dataset
    r.notes += [f"skipped {s}" for s in ds.skipped]
    r.notes.append(f"dataset {ds.name}: years {', '.join(map(str, ds.years))}, {len(ds.units)} unit(s)")


def step_overview(r: Results) -> None:
    """``Results.overview`` (tong_quan.csv): only that file needs it, so the run computes it with the files."""
    r.overview = dataset_overview(r.dataset)


def step_reconcile(r: Results) -> None:
    observed = observations(r.dataset)
    r.findings = reconcile(r.dataset, observed=observed)
    r.reconciled = reconciled_table(r.dataset, r.findings, observed=observed)
    n = counts(r.findings)["error"]
    r.notes.append(f"reconciliation: {n} error finding(s), {len(r.findings)} in all (kiem_tra.csv)")


def step_change(r: Results) -> None:
    ds = r.dataset
    r.changes = {(a, b): net_change(ds, a, b) for a, b in change_pairs(ds.years)}
    span = estimate_years(ds)
    if span is None:
        return
    r.estimate = estimate(ds, *span)
    e = r.estimate
    relaxed = e.flows.loc[e.flows["status"] == "relaxed", "flow"].tolist()
    r.notes.append(f"transitions {e.from_year}→{e.to_year}: estimated matrix ({e.solver}, {e.status}); "
                   f"{len(e.flows) - len(relaxed)} known flows held"
                   + (f", relaxed: {', '.join(relaxed)}" if relaxed else ""))


def step_intensity(r: Results) -> None:
    years = r.dataset.years
    if len(years) < 2:
        return
    res = r.intensity = analyse_estimate(r.dataset, list(years), known=[r.estimate] if r.estimate else [])[0]
    iv = res.level("interval")
    speeds = ", ".join(f"{x.interval} {x.intensity_pct_per_year:.3g} %/yr ({x.behaviour})"
                       for x in iv[iv["interval"] != ALL].itertuples())
    r.notes.append(f"intensity analysis (estimated matrices): {speeds}; uniform "
                   f"{iv['uniform_pct_per_year'].iloc[0]:.3g} %/yr")
    if r.png and not has_matplotlib():
        r.notes.append("intensity: no PNG pictures (matplotlib is not installed); see the HTML file")


def has_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def step_fulfilment(r: Results) -> None:
    ds = r.dataset
    if default_plan_id(ds) is None:
        r.notes.append("fulfilment: skipped (the manifest names no plan)")
        r.part_notes.append(PartNote("fulfilment", "no-plan", ""))
        return
    f = r.fulfilment = assess(ds)
    n = f.table["status"].value_counts()
    r.notes.append(f"fulfilment of {f.plan} ({f.base_year}→{f.year}, {f.elapsed_pct:.0f} % of the period to "
                   f"{f.target_year} elapsed): " + ", ".join(f"{n[s]} {s}" for s in STATUSES if s in n))
    versions = versions_of(ds)
    if len(versions) > 1:
        r.plan_versions = compare_versions(ds, versions, known={f.plan: f})
        r.notes.append(f"plan versions {', '.join(versions)}: {int(r.plan_versions.table['differs'].sum())} "
                       "row(s) differ")


def step_allocate(r: Results) -> None:
    ds = r.dataset
    if not ds.manifest.get("allocation", {}).get("config"):
        r.notes.append("allocation: skipped (the manifest has no [allocation] config)")
        return
    try:
        res = r.allocation = allocate(ds)
    except (InfeasibleError, NoSolutionError) as e:
        r.notes.append(f"allocation: {e}")
        r.part_notes.append(PartNote("allocation", "error", str(e)))
        return
    c, dev = res.config, res.deviations()
    r.notes.append(f"allocation {c.start_year}→{c.target_year}: {res.status.text} ({res.solver}), objective "
                   f"{res.objective:.4g}; {len(dev)} code(s) off target by > 0.5 ha"
                   + (f" ({', '.join(dev['code'])})" if len(dev) else ""))


def workbook_parts(r: Results, scenario: object = None) -> Parts:
    """The parts of the workbook from the results of the steps before."""
    return Parts(findings=r.findings, estimate=r.estimate, fulfilment=r.fulfilment, allocation=r.allocation,
                 notes=list(r.part_notes), scenario=scenario)


# ---- the files ----------------------------------------------------------------------------------------
def output_files(r: Results) -> list[tuple[str, Callable[[Path], object]]]:
    """The files of the run, in the order they are listed: (file name, function writing it to a path)."""
    def csv(df: pd.DataFrame) -> Callable[[Path], object]:
        return lambda path: write_csv(df, path, force=True)

    out: list[tuple[str, Callable[[Path], object]]] = []
    if r.overview is not None:
        out.append(("tong_quan.csv", csv(r.overview)))
    if r.findings is not None:
        out += [("kiem_tra.csv", csv(r.findings)), ("doi_soat.csv", csv(r.reconciled))]
    out += [(f"bien_dong_{a}_{b}.csv", csv(t)) for (a, b), t in r.changes.items()]
    if r.estimate is not None:
        e = r.estimate
        out += [(f"chu_chuyen_uoc_tinh_{e.from_year}_{e.to_year}.csv", csv(e.table())),
                (f"chu_chuyen_uoc_tinh_{e.from_year}_{e.to_year}_findings.csv", csv(e.findings))]
    if r.intensity is not None:
        from landuse.transitions.charts import write_intensity_plot

        res = r.intensity
        out += [(f"{RUN_STEM}.csv", csv(res.table)), (f"{RUN_STEM}_on_dinh.csv", csv(res.stationarity))]
        out += [(f"{RUN_STEM}{ext}", lambda path, res=res: write_intensity_plot(res, path, force=True))
                for ext in (".html", ".png") if ext == ".html" or (r.png and has_matplotlib())]
    if r.fulfilment is not None:
        out.append((OUTPUT_FILE, csv(r.fulfilment.table)))
    if r.plan_versions is not None:
        out.append((COMPARE_FILE, csv(r.plan_versions.table)))
    if r.allocation is not None:
        c = r.allocation.config
        out += [(f"phan_bo_{c.target_year}.csv", csv(r.allocation.table)),
                (f"chu_chuyen_{c.start_year}_{c.target_year}.csv", csv(r.allocation.conversions))]
    year = r.dataset.years[-1]
    out.append((f"hien_trang_{year}.csv", csv(inventory_table(r.dataset, year))))
    return out


@contextmanager
def python_strings() -> Iterator[None]:
    """For the duration, pandas stores ``str`` columns as Python strings rather than pyarrow arrays.

    The job's tables are small (tens to hundreds of rows) and it runs thousands of pandas operations on them;
    on such tables each operation on a pyarrow-backed column costs more than the work itself (``landuse run``
    on the bundled data: 1.45 s CPU with pyarrow strings, 0.97 s with Python strings). Same dtype (``str``),
    same values, same files. Large plot files are read outside this (``landuse transitions``)."""
    with pd.option_context("mode.string_storage", "python"):
        yield


STEPS: tuple[Callable[[Results], None], ...] = (step_load, step_reconcile, step_change, step_intensity,
                                                 step_fulfilment, step_allocate)  # in STEP_NAMES order


def run(data: Path | str | None = None, out: Path | str = "outputs", force: bool = False,
        progress: Callable[[StepTime], None] | None = None, number_format: str | None = None,
        png: bool = False, jobs: int | None = None) -> RunReport:
    """Load ``data``, run every step, and write every table and the workbook into the folder ``out``.

    The folder is checked and locked first (a folder holding files the tool did not write, or changed since,
    is refused without ``force``; a second run into it is refused); the files are written into a staging
    folder that replaces ``out`` only when every step succeeded. ``progress`` is called with each step's
    number, name and own time, in step order. ``png``: also draw the intensity charts as PNG.

    ``jobs``: processes to use (default: 2 on Linux with two CPUs or more, else 1; see
    :func:`landuse.background.forks_by_default`).
    With 2, the reconciliation runs in a forked child while change → allocation run here, and the workbook
    is written in a child while the CSV files are written here (:mod:`landuse.background`). The files, the
    notes and their order, and which error is raised when several steps fail, are the same either way: the
    child's step counts as the earlier one.
    """
    if jobs is None:
        jobs = 2 if forks_by_default() else 1
    with python_strings(), frozen_heap():
        return _run(data, out, force, progress, number_format, png, jobs > 1)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """For the duration, the garbage collector leaves alone the objects that exist now (the imported modules, a
    few hundred thousand objects that are not the job's garbage) instead of walking them at every full
    collection; a forked child then also does not copy their memory pages by marking them. Measured on the
    bundled data: the workbook step 0.25 → 0.21 s. When the caller froze objects already (the command line
    freezes its imports), they stay frozen with these until the caller thaws them."""
    already = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield
    finally:
        if not already:
            gc.unfreeze()


def step_alone(step: Callable[[Results], None], ds: Dataset) -> Results:
    """``step`` on its own results, without the dataset (what a background child sends back)."""
    r = Results(ds)
    step(r)
    r.dataset = None  # type: ignore[assignment]  # the parent has it; not sent back
    return r


def merge_step(results: Results, part: Results) -> None:
    """Put the tables :func:`step_alone` computed into ``results`` (its notes are the caller's to place)."""
    for f in fields(Results):
        value = getattr(part, f.name)
        unset = value is None or (isinstance(value, dict) and not value)
        if unset or f.name in ("notes", "part_notes", "dataset", "png"):
            continue
        setattr(results, f.name, value)


@dataclass
class _StepDone:
    seconds: float
    notes: list[str]
    part_notes: list[PartNote]


def _take(step: Callable[[Results], None], r: Results) -> _StepDone:
    """Run ``step`` here; its time, and the notes it added (taken out of ``r``, to be put back in step order)."""
    n, k, t = len(r.notes), len(r.part_notes), time.perf_counter()
    step(r)
    done = _StepDone(time.perf_counter() - t, r.notes[n:], r.part_notes[k:])
    del r.notes[n:], r.part_notes[k:]
    return done


def _in_step_order(r: Results, done: dict[int, _StepDone]) -> None:
    r.notes = [n for i in sorted(done) for n in done[i].notes]
    r.part_notes = [n for i in sorted(done) for n in done[i].part_notes]


# Where each step runs (issue 16). The reconciliation needs nothing the other steps compute; the workbook needs the
# findings, the estimate, the fulfilment and the allocation but not the intensity analysis (only its own files
# do). So, as indexes of STEPS:
#   first:  1 reconcile (in a background child)  ||  2 change, 4 fulfilment, 5 allocate (here)
#   then:   the workbook (in a background child)  ||  3 intensity, the overview, the CSV and HTML files (here)
# With one process the same order runs one thing after the other, so which error is raised when two steps fail
# does not depend on --jobs. Notes and progress are given in step order whatever ran first.
BACKGROUND_STEP = 1
BEFORE_WORKBOOK = (2, 4, 5)
AFTER_WORKBOOK = (3,)


def _run(data: Path | str | None, out: Path | str, force: bool, progress: Callable[[StepTime], None] | None,
         number_format: str | None, png: bool, parallel: bool) -> RunReport:
    t = time.perf_counter()
    ds = load_dataset(data, number_format=number_format)
    results = Results(ds, png=png)
    report = RunReport(Path(out), results)
    done: dict[int, _StepDone] = {}

    def report_steps(upto: int) -> None:  # progress in step order, as far as the steps are done
        for i in range(len(report.steps), upto):
            report.steps.append(StepTime(i + 1, STEP_NAMES[i], done[i].seconds))
            if progress:
                progress(report.steps[-1])

    with StagedFolder(out, force) as staging:
        done[0] = _take(STEPS[0], results)
        done[0].seconds = time.perf_counter() - t  # the load counts from the start
        report_steps(1)
        with background(partial(step_alone, STEPS[BACKGROUND_STEP], ds), parallel) as rec:
            with _first_error(rec):
                for i in BEFORE_WORKBOOK:
                    done[i] = _take(STEPS[i], results)
                import landuse.excel.writer  # noqa: F401  # the workbook's writer, imported while the child works
            part = rec.result()
        merge_step(results, part)
        done[BACKGROUND_STEP] = _StepDone(rec.seconds, part.notes, part.part_notes)
        _in_step_order(results, done)
        report_steps(min(AFTER_WORKBOOK))
        t = time.perf_counter()
        with background(partial(write_tables, ds, staging / WORKBOOK_NAME, workbook_parts(results), force=True),
                        parallel) as book:
            with _first_error(book):
                for i in AFTER_WORKBOOK:
                    done[i] = _take(STEPS[i], results)
                _in_step_order(results, done)
                step_overview(results)
                for name, write in output_files(results):
                    write(staging / name)
                    report.files.append(report.out_dir / name)
            results.workbook = book.result()
        report.files.append(report.out_dir / WORKBOOK_NAME)
        results.notes.append(f"workbook: {len(results.workbook.sheets)} sheets ({', '.join(results.workbook.sheets)})")
        results.notes.extend(results.workbook.notes)
        files = time.perf_counter() - t - sum(done[i].seconds for i in AFTER_WORKBOOK)
        done[len(STEP_NAMES) - 1] = _StepDone(files, [], [])  # the last step: the workbook and the files
        report_steps(len(STEP_NAMES))
    return report


@contextmanager
def _first_error(task: Task) -> Iterator[None]:
    """When the block fails, the background task's own error (if it has one) is raised instead: run one after
    the other, its step came first."""
    try:
        yield
    except KeyboardInterrupt:
        raise
    except BaseException:
        task.result()
        raise


def run_summary(report: RunReport) -> str:
    """The short text ``landuse run`` prints at the end: files written, error findings, allocation status."""
    r = report.results
    lines = [f"Wrote {len(report.files)} file(s) to {report.out_dir}:"]
    lines += [f"  {Path(p).name}" for p in report.files]
    lines += [f"- {n}" for n in r.notes]
    if r.findings is not None:
        n = counts(r.findings)
        lines.append(f"Findings: {n['error']} error(s), {n['rounding']} rounding, {n['info']} info")
    if r.allocation is not None:
        lines.append(f"Allocation: {r.allocation.status.value} ({r.allocation.solver})")
    return "\n".join(lines)


# ---- the workbook alone (``landuse tables``) ------------------------------------------------------------
def _part(key: str, compute: Callable[[], object], notes: list[PartNote], strict: bool = False) -> object | None:
    """``compute()``; a :class:`LanduseError` leaves the part out with a note (raised when ``strict``)."""
    try:
        return compute()
    except LanduseError as e:
        if strict:
            raise
        notes.append(PartNote(key, "error", str(e)))
        return None


def compute_parts(ds: Dataset, parts: Parts | None = None, scenario: Path | str | None = None,
                  solver: str | None = None, by_unit: bool = False, projects: bool = True) -> Parts:
    """The workbook's parts: those given in ``parts``, the others computed as ``landuse run`` computes them.

    A part whose capability raises an input error is left out with a note, except an explicitly asked
    allocation (``scenario`` or ``by_unit``), which raises."""
    p = parts or Parts()
    notes = list(p.notes)
    years = ds.years
    if p.findings is None:
        p.findings = _part("findings", lambda: reconcile(ds), notes)
    if p.estimate is None and len(years) > 1:
        p.estimate = _part("transitions", lambda: estimate(ds, years[-2], years[-1]), notes)
    if p.fulfilment is None:
        if not ds.plans:
            notes.append(PartNote("fulfilment", "no-plan", ""))
        else:
            p.fulfilment = _part("fulfilment", lambda: assess(ds), notes)
    explicit = scenario is not None or by_unit
    if p.allocation is None or explicit:
        kw = {"by_unit": True, "projects": projects} if by_unit else {}
        p.allocation = _part("allocation", lambda: allocate(ds, scenario=scenario, solver=solver, **kw), notes,
                             strict=explicit)
    p.notes = notes
    p.scenario = scenario
    return p


def build_tables(ds: Dataset, out_path: Path | str, scenario: Path | str | None = None, lang: str = "vi",
                 results: Parts | None = None, force: bool = False, solver: str | None = None,
                 by_unit: bool = False, projects: bool = True) -> TablesReport:
    """Write the official-tables workbook for ``ds`` to ``out_path`` (atomically; ``force`` to replace a file):
    the parts in ``results``, the missing ones computed (:func:`compute_parts`). ``by_unit``: allocate per
    unit and add a sheet of the per-unit areas; ``projects=False``: without the dataset's located projects."""
    from landuse.excel.workbook import check_workbook_path

    check_workbook_path(out_path)
    with python_strings():
        parts = compute_parts(ds, results, scenario, solver, by_unit, projects)
        return write_tables(ds, out_path, parts, lang=lang, force=force)
