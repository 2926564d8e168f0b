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

import functools

import numpy as np
import pandas as pd

SEVERITIES = ("error", "warning", "rounding", "info")
PRINTED_COLUMNS = ["severity", "check", "source", "row", "column", "expected", "found", "difference", "message",
                   "line", "page"]
KEY_COLUMNS = ["table", "column_id", "unit", "year_from", "year", "code"]
COLUMNS = PRINTED_COLUMNS + KEY_COLUMNS
NUMBERS = ("expected", "found", "difference")
YEARS = ("year_from", "year")
TEXT_KEYS = ("table", "column_id", "unit", "code")


def empty_findings() -> pd.DataFrame:
    """A findings table with no rows and the schema's dtypes."""
    return _empty_template().copy()


@functools.cache
def _empty_template() -> pd.DataFrame:
    """The empty findings table, built once (each caller gets a copy)."""
    return conform(pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS}))


def findings(**cols) -> pd.DataFrame:
    """A findings table from equal-length columns (scalars are broadcast); columns not given are blank.

    Columns whose name starts with ``_`` are kept (helpers of a check, dropped by :func:`conform`). Each column
    is put in the schema's dtype as it is built (the same result as :func:`conform` of the plain table).
    """
    arrays = [v for v in cols.values() if isinstance(v, (list, np.ndarray, pd.Series, pd.Index))]
    n = max((len(v) for v in arrays), default=1)
    data = {}
    for c in COLUMNS + [k for k in cols if k.startswith("_")]:
        v = cols.get(c, np.nan if c in NUMBERS + YEARS else "")
        if isinstance(v, (pd.Series, pd.Index)):
            v = v.to_numpy()
        data[c] = _schema_column(c, v, n)
    return pd.DataFrame(data)


def _schema_column(c: str, v: object, n: int) -> object:
    """Column ``c`` of the schema from ``v`` (a list, an array, a Series or a scalar broadcast to ``n`` rows)."""
    scalar = not isinstance(v, (list, np.ndarray, pd.Series))
    if c in NUMBERS:
        if scalar:
            return np.full(n, _number(v))
        a = np.asarray(v)
        if a.dtype.kind in "fiub":
            return a.astype(float)
        return pd.to_numeric(pd.Series(v), errors="coerce").astype(float).to_numpy()
    if c in YEARS:
        if scalar:
            x = _number(v)
            return pd.array([pd.NA if np.isnan(x) else round(x)] * n, dtype="Int64")
        return year_array(v)
    if c in TEXT_KEYS:
        if scalar:
            return ["" if pd.isna(v) else str(v)] * n
        return text_array(v)
    return [v] * n if scalar else v


def year_array(v: object) -> pd.api.extensions.ExtensionArray:
    """Years as nullable integers: ``pd.to_numeric(pd.Series(v), errors="coerce").round().astype("Int64").array``
    (a test compares them), a float or integer array without the Series (a tenth of the time)."""
    a = np.asarray(v) if not isinstance(v, pd.Series) else None
    if a is not None and a.dtype.kind in "fiu":
        return pd.array(np.round(a.astype(float)), dtype="Int64")
    return pd.to_numeric(pd.Series(v), errors="coerce").round().astype("Int64").array


def text_array(v: object) -> pd.api.extensions.ExtensionArray:
    """Text without NaN: ``pd.Series(v).fillna("").astype(str).array`` (a test compares them), without the Series
    (86 → 13 µs a column; the checks build a few hundred)."""
    a = np.asarray(v, dtype=object)
    blank = pd.isna(a)
    if blank.any():
        a = a.copy()
        a[blank] = ""
    return pd.array(a, dtype=pd.StringDtype(na_value=np.nan))


def _number(v: object) -> float:
    """A scalar as ``pandas.to_numeric(..., errors="coerce")`` reads it (NaN when not a number)."""
    if v is None or isinstance(v, (bool, int, float, np.number)):
        return np.nan if v is None else float(v)
    return float(pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0])


def conform(df: pd.DataFrame, keep_helpers: bool = False) -> pd.DataFrame:
    """``df`` in the schema: every column of :data:`COLUMNS` in order (missing ones blank), numbers as float,
    years as nullable integers, text columns without NaN; helper columns (``_…``) dropped unless asked."""
    data = {c: _schema_column(c, df[c] if c in df else np.nan if c in NUMBERS + YEARS else "", len(df))
            for c in COLUMNS}
    if keep_helpers:
        data.update({c: df[c] for c in df.columns if c.startswith("_")})
    return pd.DataFrame(data, index=df.index)


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Several findings tables as one (in the schema), skipping empty ones."""
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        return empty_findings()
    return pd.concat([f if in_schema(f) else conform(f, keep_helpers=True) for f in frames], ignore_index=True)


def in_schema(df: pd.DataFrame) -> bool:
    """Whether ``df`` is already what :func:`conform` (helpers kept) would make of it: the schema's columns
    first, in order, numbers, years and text keys in the dtypes conform gives them (the other columns it passes
    through as they are), text keys without NaN, then only helper columns. (Most tables come from
    :func:`findings`, which builds them so; conforming them again cost a third of the checks' table work.)"""
    cols = list(df.columns)
    if cols[:len(COLUMNS)] != COLUMNS or not all(str(c).startswith("_") for c in cols[len(COLUMNS):]):
        return False
    text = pd.StringDtype(na_value=np.nan)  # what conform makes of a text key now (it follows the string option)
    typed = [(NUMBERS, np.dtype(float)), (YEARS, pd.Int64Dtype()), (TEXT_KEYS, text)]
    if not all(df[c].dtype == dtype for names, dtype in typed for c in names):
        return False
    return not any(df[c].isna().any() for c in TEXT_KEYS)


def order_by_severity(df: pd.DataFrame) -> pd.DataFrame:
    """Errors first, then warnings, rounding, info (stable within a severity)."""
    rank = df["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(len(SEVERITIES))
    return df.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


def counts(df: pd.DataFrame) -> dict[str, int]:
    """Number of findings per severity (every severity of :data:`SEVERITIES`, 0 when none)."""
    vc = df["severity"].value_counts() if len(df) else pd.Series(dtype=int)
    return {s: int(vc.get(s, 0)) for s in SEVERITIES}
