"""One findings schema for every check (reconcile, the transition estimate, …).

A finding is one row of a DataFrame with the columns :data:`COLUMNS`:

* what and how bad: ``severity`` (error | warning | rounding | info), ``check`` (e.g. ``hierarchy``);
* where, as printed: ``source`` (a table id, ``inventory-<year>``, ``flows``, …), ``row`` (the land code or file
  row), ``column`` (the printed column number, a year, …), ``line`` and ``page`` of the source document;
* the numbers (ha or %): ``expected``, ``found`` and ``difference`` (= found − expected), NaN when not a
  comparison of numbers; ``message``: one sentence for people;
* **key columns** (:data:`KEY_COLUMNS`), structured so that a consumer (the workbook's links, a filter) never
  parses the message or the printed column: ``table`` (the id of the published table the finding is about,
  "" for the inventory or another file), ``column_id`` (the manifest id of that table's column), ``unit``,
  ``year`` (the year of the figure; for a change, the later year), ``year_from`` (for a change between two
  inventories, the earlier year) and ``code`` (the land code).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEVERITIES = ("error", "warning", "rounding", "info")
PRINTED_COLUMNS = ["severity", "check", "source", "row", "column", "expected", "found", "difference", "message",
                   "line", "page"]
KEY_COLUMNS = ["table", "column_id", "unit", "year_from", "year", "code"]
COLUMNS = PRINTED_COLUMNS + KEY_COLUMNS
NUMBERS = ("expected", "found", "difference")
YEARS = ("year_from", "year")


def empty_findings() -> pd.DataFrame:
    """A findings table with no rows and the schema's dtypes."""
    return conform(pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS}))


def findings(**cols) -> pd.DataFrame:
    """A findings table from equal-length columns (scalars are broadcast); columns not given are blank.

    Columns whose name starts with ``_`` are kept (helpers of a check, dropped by :func:`conform`).
    """
    arrays = [v for v in cols.values() if isinstance(v, (list, np.ndarray, pd.Series, pd.Index))]
    n = max((len(v) for v in arrays), default=1)
    data = {}
    for c in COLUMNS + [k for k in cols if k.startswith("_")]:
        v = cols.get(c, np.nan if c in NUMBERS + YEARS else "")
        if isinstance(v, (pd.Series, pd.Index)):
            v = v.to_numpy()
        data[c] = v if isinstance(v, (list, np.ndarray)) else [v] * n
    return conform(pd.DataFrame(data), keep_helpers=True)


def conform(df: pd.DataFrame, keep_helpers: bool = False) -> pd.DataFrame:
    """``df`` in the schema: every column of :data:`COLUMNS` in order (missing ones blank), numbers as float,
    years as nullable integers, text columns without NaN; helper columns (``_…``) dropped unless asked."""
    out = df.copy()
    for c in COLUMNS:
        if c not in out:
            out[c] = np.nan if c in NUMBERS + YEARS else ""
    for c in NUMBERS:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    for c in YEARS:
        out[c] = pd.to_numeric(out[c], errors="coerce").round().astype("Int64")
    for c in ("table", "column_id", "unit", "code"):
        out[c] = out[c].fillna("").astype(str)
    extra = [c for c in out.columns if c.startswith("_")] if keep_helpers else []
    return out[COLUMNS + extra]


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Several findings tables as one (in the schema), skipping empty ones."""
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return empty_findings()
    return pd.concat([conform(f, keep_helpers=True) for f in frames], ignore_index=True)


def order_by_severity(df: pd.DataFrame) -> pd.DataFrame:
    """Errors first, then warnings, rounding, info (stable within a severity)."""
    rank = df["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(len(SEVERITIES))
    return df.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


def counts(df: pd.DataFrame) -> dict[str, int]:
    """Number of findings per severity (every severity of :data:`SEVERITIES`, 0 when none)."""
    vc = df["severity"].value_counts() if len(df) else pd.Series(dtype=int)
    return {s: int(vc.get(s, 0)) for s in SEVERITIES}
