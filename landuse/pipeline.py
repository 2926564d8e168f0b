"""The ``landuse run`` job: load and validate a dataset, then let each capability write its tables.

Each capability contributes one *step*: a function ``step(ds, out_dir, report)`` that writes its files
into ``out_dir`` (with :func:`landuse.output.write_csv` or another atomic writer), appends their paths to
``report.files`` and one-line notes to ``report.notes``. Steps run in the order of :data:`STEPS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from landuse.dataset import Dataset, load_dataset, summary
from landuse.output import prepare_output_dir, write_csv


@dataclass
class RunReport:
    """What ``landuse run`` did: files written (paths), one-line notes, and named results for the summary."""

    out_dir: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    results: dict[str, object] = field(default_factory=dict)


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


def overview_step(ds: Dataset, out_dir: Path, report: RunReport) -> None:
    report.files.append(write_csv(dataset_overview(ds), out_dir / "tong_quan.csv", force=True))
    report.notes.append(f"dataset {ds.name}: years {', '.join(map(str, ds.years))}, {len(ds.units)} unit(s)")


# "module:function" of each step, in order. A capability adds its line here.
STEPS: list[str] = [
    "landuse.pipeline:overview_step",
    "landuse.reconcile:reconcile_step",
    "landuse.transitions.change:run_step",
    "landuse.transitions.intensity:run_step",
    "landuse.fulfilment:fulfilment_step",
    "allocation.api:run_step",
    "landuse.excel.workbook:tables_step",  # keep last: the workbook from what the steps before stored in report.results
]


def run_summary(report: RunReport) -> str:
    """The short text ``landuse run`` prints at the end: files written, error findings, allocation status."""
    lines = [f"Wrote {len(report.files)} file(s) to {report.out_dir}:"]
    lines += [f"  {Path(p).name}" for p in report.files]
    lines += [f"- {n}" for n in report.notes]
    findings = report.results.get("findings")
    if isinstance(findings, pd.DataFrame) and "severity" in findings:
        counts = findings["severity"].value_counts()
        lines.append(f"Findings: {int(counts.get('error', 0))} error(s), {int(counts.get('rounding', 0))} rounding, "
                     f"{int(counts.get('info', 0))} info")
    alloc = report.results.get("allocation")
    if alloc is not None:
        status = getattr(alloc, "status", "")
        solver = getattr(alloc, "solver", "")
        lines.append(f"Allocation: {getattr(status, 'value', status)}" + (f" ({solver})" if solver else ""))
    return "\n".join(lines)


def _resolve(spec: str) -> Callable[[Dataset, Path, RunReport], None]:
    mod, func = spec.split(":")
    return getattr(importlib.import_module(mod), func)


def run(data: Path | str | None = None, out: Path | str = "outputs", force: bool = False,
        progress: Callable[[str], None] | None = None, number_format: str | None = None) -> RunReport:
    """Load ``data``, validate it, and write every table of every capability into ``out``.

    Nothing is written when loading fails: the dataset is loaded and validated before the folder is touched.
    ``progress`` (optional) is called with the name of each step as it starts.
    """
    ds = load_dataset(data, number_format=number_format)
    out_dir = prepare_output_dir(out, force)
    report = RunReport(out_dir)
    for s in ds.skipped:
        report.notes.append(f"skipped {s}")
    for spec in STEPS:
        if progress:
            progress(spec.split(":")[0].rsplit(".", 1)[-1])
        _resolve(spec)(ds, out_dir, report)
    return report
