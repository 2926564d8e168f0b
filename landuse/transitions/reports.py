"""The reports of a transition matrix (``landuse transitions --report …``) and the matrix they are made from:
tallied from a plot file (:func:`plot_transitions`) or estimated from two inventories and known flows
(:func:`estimated_report`). Above :mod:`.change`, :mod:`.intensity` and :mod:`.estimate`, which it combines.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from landuse.classification import Classification
from landuse.errors import InputError
from landuse.transitions.change import (
    MatrixSum,
    asset_account,
    components,
    default_classification,
    matrix_table,
)
from landuse.transitions.estimate import estimate_transitions
from landuse.transitions.intensity import intensity

REPORTS = ("matrix", "components", "intensity", "account")


def report_table(matrix: pd.DataFrame, report: str = "matrix", classification: Classification | None = None,
                 interval_years: float | None = None, gain: str | None = None, loss: str | None = None,
                 lang: str = "vi") -> pd.DataFrame:
    """One of :data:`REPORTS` of a matrix, as a flat table ready to print or write."""
    if report == "matrix":
        return matrix_table(matrix)
    if isinstance(matrix.index, pd.MultiIndex):
        raise InputError(f"the {report} report works on one matrix, not on one matrix per unit",
                         expected="the matrix report")
    if report == "components":
        return components(matrix, classification, lang)
    if report == "intensity":
        return intensity(matrix, interval_years, gain, loss, classification, lang)
    if report == "account":
        return asset_account(matrix, classification, lang)
    raise InputError("unknown report", expected=" | ".join(REPORTS), found=report)


def plot_transitions(path: Path | str | pd.DataFrame, *, level: int | None = None, by_unit: bool = False,
                     report: str = "matrix", interval_years: float | None = None, gain: str | None = None,
                     loss: str | None = None, classification: Classification | None = None,
                     number_format: str | None = None, lang: str = "vi") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a plot file (:func:`landuse.readers.plots.scan_plots`, batch by batch), sum its matrix and build
    the ``report`` table. ``path`` may also be plot records already read (a DataFrame, e.g. the overlay of two
    maps, :func:`landuse.readers.maps.read_map_pair`).

    Returns ``(table, matrix)``.
    """
    from landuse.readers.plots import scan_plots

    cls = classification or default_classification()
    acc = MatrixSum(cls, level, by_unit)
    if isinstance(path, pd.DataFrame):  # plot records already read (e.g. the overlay of two maps)
        acc.add(path)
    elif not _lean(Path(path), acc, number_format or "auto"):
        acc = MatrixSum(cls, level, by_unit)
        for batch in scan_plots(path, number_format=number_format or "auto", by_unit=by_unit):
            acc.add(batch.frame, batch.rows, str(path))
            del batch  # let the batch go before the next one is read
    matrix = acc.matrix()
    return report_table(matrix, report, cls, interval_years, gain, loss, lang), matrix


def _lean(path: Path, acc: MatrixSum, number_format: str) -> bool:
    """Sum a Parquet or CSV plot file into ``acc`` by :mod:`landuse.readers.plots_lean` (pyarrow and numpy,
    small integer arrays); ``False`` when that path declines the file or finds a code that is not a land type —
    then ``acc`` is void and the batch path reads the file again and names what is wrong."""
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".txt", ".tsv") or not path.is_file():
        return False
    from landuse.readers import plots_lean

    chunks = (plots_lean.parquet_chunks(path, acc.by_unit) if suffix == ".parquet"
              else plots_lean.csv_chunks(path, acc.by_unit, number_format))
    try:
        return all(acc.add_coded(chunk) for chunk in chunks)
    except plots_lean.Declined:
        return False


def estimated_report(ds, from_year: int, to_year: int, flows: pd.DataFrame | Path | str | None = None,
                     report: str = "matrix", interval_years: float | None = None, gain: str | None = None,
                     loss: str | None = None, lang: str = "vi") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``report`` table of a matrix estimated from ``ds``'s stocks and known flows
    (:func:`estimate_transitions`), every line saying ``estimated``. Returns ``(table, matrix)``."""
    res = estimate_transitions(ds, from_year, to_year, flows)
    if report == "matrix":
        return res.table(), res.matrix
    table = report_table(res.matrix, report, ds.classification, interval_years, gain, loss, lang)
    table["status"] = res.table()["status"].iloc[0]
    return table, res.matrix
