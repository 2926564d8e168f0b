"""The ``landuse run`` job: load and validate a dataset and write each capability's tables to a folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from landuse.dataset import Dataset, load_dataset, summary
from landuse.output import prepare_output_dir, write_csv


@dataclass
class RunReport:
    """What ``landuse run`` did: files written (paths) and one-line notes for the summary."""

    out_dir: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def dataset_overview(ds: Dataset) -> pd.DataFrame:
    """Totals per unit and year (ha) with the share of each group in the total (%)."""
    s = summary(ds)
    cls = ds.classification
    for g in cls.parts(cls.root):
        s[f"{g}_pct"] = 100 * s[g] / s[cls.root]
    return s


def run(data: Path | str | None = None, out: Path | str = "outputs", force: bool = False,
        progress=None, number_format: str | None = None) -> RunReport:
    """Load ``data``, validate it, and write every table of every capability into ``out``.

    Nothing is written when loading fails: the dataset is loaded and validated before the folder is touched.
    """
    ds = load_dataset(data, number_format=number_format)
    out_dir = prepare_output_dir(out, force)
    report = RunReport(out_dir)
    report.files.append(write_csv(dataset_overview(ds), out_dir / "tong_quan.csv", force=True))
    report.notes.append(f"dataset {ds.name}: years {', '.join(map(str, ds.years))}, {len(ds.units)} unit(s)")
    for s in ds.skipped:
        report.notes.append(f"skipped {s}")
    return report
