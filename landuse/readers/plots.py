"""Reading and validating a plot-level file (the officer's list of land plots at two dates).

Columns: ``plot_id, code_from, code_to, area_ha`` and ``unit`` (or ``unit_from`` and ``unit_to``); any other
column is ignored and never parsed. CSV (UTF-8; other encodings via :func:`landuse.readers.tables.read_table`), XLSX and
Parquet. For large CSV files only the needed columns are read, as text, with pyarrow when installed; areas are
parsed with vectorised kernels and the slow, row-naming path runs only when something is wrong.

Rules (each violation raises an :class:`~landuse.errors.InputError` naming the first bad file row):

* an area is a number ≥ 0 in the file's number format (``vi``: ``1.234,5``; ``en``: ``1,234.5``); blank is an
  error (a plot without an area cannot be placed in the matrix);
* codes must be land types of the classification (of-which rows such as RSN are not; checked when the
  matrix is built, see :func:`landuse.transitions.change.code_index`);
* ``plot_id`` is unique within a unit (communes number their plots separately), or within the file when there
  is no unit column;
* with ``unit_from`` and ``unit_to``, a plot that changed unit (a boundary move) is accepted for the whole
  area's matrix (the move is internal) and ``unit`` is the end unit; per-unit matrices (``by_unit``) refuse
  it, because the move belongs in giảm khác / tăng khác of the two units, which a plot list cannot price.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from landuse.errors import (
    AmbiguousNumberFormatError,
    DuplicateKeyError,
    EmptyFileError,
    InputError,
    Location,
    MissingColumnError,
    NegativeAreaError,
    NonNumericError,
)
from landuse.readers.tables import _EN, _VI, ROW, VALUE, detect_number_format, read_table, record_lines, sniff_delimiter

REQUIRED = ["plot_id", "code_from", "code_to", VALUE]
OPTIONAL = ["unit", "unit_from", "unit_to"]


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _header(path: Path) -> tuple[list[str], str] | None:
    """(column names, delimiter) of a UTF-8 CSV, or ``None`` when the file is not plain UTF-8."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not just a character cut at the end of the block
            return None
        text = head[: e.start].decode("utf-8")
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise EmptyFileError("the file is empty", Location.of(path), expected="a header row and data rows")
    delim = sniff_delimiter(first)
    return [c.strip().strip('"').strip() for c in first.split(delim)], delim


class FileRows:
    """The file row (header = 1) of data record ``i`` (0-based position in the table read).

    From the reader's :data:`~landuse.readers.tables.ROW` column when it has one; for a UTF-8 CSV read by the fast path
    (which skips blank lines, as pandas does) by scanning the file with :func:`~.tables.record_lines`, only
    when a row must be named (an error); else (Parquet) ``i + 2``.
    """

    def __init__(self, path: Path, rows: np.ndarray | None = None, delimiter: str | None = None) -> None:
        self.path, self.rows, self.delimiter = path, rows, delimiter
        self._scanned: np.ndarray | None = None

    def __call__(self, i: int) -> int:
        i = int(i)
        if self.rows is not None:
            return int(self.rows[i])
        if self.delimiter is None:
            return i + 2
        if self._scanned is None or len(self._scanned) <= i:
            with open(self.path, encoding="utf-8-sig", errors="replace", newline="") as fh:
                self._scanned = record_lines(fh, self.delimiter, stop=i)
        return int(self._scanned[i]) if i < len(self._scanned) else i + 2


def _read_columns(path: Path) -> tuple[pd.DataFrame, FileRows]:
    """The needed columns as text (or typed, for Parquet), and where each record is in the file."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError("file not found", Location.of(path))
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            names = pq.read_schema(path).names
            cols = [c for c in names if c.strip() in REQUIRED + OPTIONAL]
            return pd.read_parquet(path, columns=cols), FileRows(path)
        except ImportError:
            raise InputError("reading Parquet needs pyarrow (pip install 'landuse[parquet]')",
                             Location.of(path)) from None
        except Exception as e:  # noqa: BLE001 - any parser failure is bad input
            raise InputError(f"cannot read Parquet file ({e})", Location.of(path)) from None
    if suffix in (".csv", ".txt", ".tsv"):
        head = _header(path)
        if head is not None:
            names, delim = head
            use = [n for n in names if n in REQUIRED + OPTIONAL]
            try:
                df = pd.read_csv(path, sep=delim, usecols=use, dtype=str, keep_default_na=False,
                                 engine="pyarrow" if _has_pyarrow() else "c", encoding="utf-8-sig")
                return df, FileRows(path, delimiter=delim)
            except (UnicodeDecodeError, ValueError):
                pass  # fall through to the general reader, which names the problem
    df = read_table(path)
    return df[[c for c in df.columns if c in REQUIRED + OPTIONAL]], FileRows(path, df[ROW].to_numpy())


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _positional(i: int) -> int:
    return int(i) + 2


def _detect_format(s: pd.Series, path: Path, row_of=_positional) -> str:
    """``vi`` or ``en`` from the distinct area tokens (plain integers: ``en``, the same either way)."""
    uniq = pd.Series(s.unique()).astype(str)
    try:
        return detect_number_format(uniq, Location.of(path), pd.Series(np.arange(len(uniq))), VALUE) or "en"
    except AmbiguousNumberFormatError as e:
        token = uniq.iloc[e.location.row]
        row = row_of(_first((s == token).to_numpy(dtype=bool)))
        raise AmbiguousNumberFormatError(e.message, Location.of(path, row=row, column=VALUE),
                                         expected=e.expected) from None


def parse_areas(s: pd.Series, fmt: str, path: Path, row_of=_positional) -> np.ndarray:
    """Areas (ha, float64) from text in format ``vi``/``en``/``auto``; raises naming the first bad row
    (``row_of``: data record position → file row, e.g. a :class:`FileRows`)."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=np.float64)
        bad = np.isnan(values)
        if bad.any():
            raise NonNumericError("missing area", Location.of(path, row=row_of(_first(bad)), column=VALUE),
                                  expected="an area in ha")
        return values
    s = s.str.strip()
    if fmt == "auto":
        fmt = _detect_format(s, path, row_of)
    pattern, thousands, decimal = (_VI, ".", ",") if fmt == "vi" else (_EN, ",", ".")
    ok = s.str.fullmatch(pattern.pattern).fillna(False).to_numpy(dtype=bool)
    if not ok.all():
        i = _first(~ok)
        found = s.iloc[i]
        loc = Location.of(path, row=row_of(i), column=VALUE)
        if pd.isna(found) or found == "":
            raise NonNumericError("missing area", loc, expected="an area in ha")
        example = "Vietnamese (1.234,5)" if fmt == "vi" else "English (1,234.5)"
        raise NonNumericError("not a number", loc, expected=f"a number in {example} format", found=found)
    norm = s.str.replace(thousands, "", regex=False)
    if decimal != ".":
        norm = norm.str.replace(decimal, ".", regex=False)
    if _has_pyarrow():
        import pyarrow as pa
        import pyarrow.compute as pc

        return pc.cast(pa.array(norm), pa.float64()).to_numpy(zero_copy_only=False)
    return pd.to_numeric(norm).to_numpy(dtype=np.float64)


def _check_duplicates(df: pd.DataFrame, path: Path, row_of=_positional) -> None:
    ids = df["plot_id"]
    blank = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy(dtype=bool)
    if blank.any():
        raise InputError("empty plot_id", Location.of(path, row=row_of(_first(blank)), column="plot_id"),
                         expected="a plot identifier")
    keys = ["unit", "plot_id"] if "unit" in df else ["plot_id"]
    if "unit" in df:
        u, _ = pd.factorize(df["unit"])
        p, uniq = pd.factorize(ids)
        dup = pd.Series(u.astype(np.int64) * len(uniq) + p).duplicated(keep=False).to_numpy()
    else:
        dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        first = df.iloc[rows[0]]
        same = [row_of(r) for r in rows if all(df[k].iloc[r] == first[k] for k in keys)][:2]
        raise DuplicateKeyError(f"plot_id {first['plot_id']!r} occurs twice" + (" in unit " + repr(first["unit"])
                                if "unit" in df else "") + f", also at row {same[0]}",
                                Location.of(path, row=same[1], column="plot_id"))


def _units(df: pd.DataFrame, path: Path, by_unit: bool, row_of=_positional) -> pd.DataFrame:
    if "unit_from" in df and "unit_to" in df:
        moved = (df["unit_from"].astype(str).str.strip() != df["unit_to"].astype(str).str.strip()).to_numpy(bool)
        if moved.any() and by_unit:
            i = _first(moved)
            raise InputError(f"plot {df['plot_id'].iloc[i]!r} is in unit {df['unit_from'].iloc[i]!r} at the start "
                             f"and {df['unit_to'].iloc[i]!r} at the end ({int(moved.sum())} such plots); per-unit "
                             "matrices need that move as giảm khác / tăng khác — drop --by-unit for the whole area",
                             Location.of(path, row=row_of(i), column="unit_to"))
        if "unit" not in df:
            df = df.assign(unit=df["unit_to"])
    return df


def read_plots(path: Path | str, classification=None, number_format: str = "auto",
               by_unit: bool = False) -> pd.DataFrame:
    """Read and validate a plot file; returns ``plot_id, [unit,] code_from, code_to, area_ha`` (ha, float).

    Row numbers in errors are file rows (the header is row 1; blank lines counted). ``classification`` is
    accepted for symmetry; codes are checked when the matrix is built.
    """
    return read_plots_located(path, classification, number_format, by_unit)[0]


def read_plots_located(path: Path | str, classification=None, number_format: str = "auto",
                       by_unit: bool = False) -> tuple[pd.DataFrame, FileRows]:
    """:func:`read_plots` and the :class:`FileRows` that names the file row of each plot (for later errors,
    e.g. an unknown code found when the matrix is built)."""
    path = Path(path)
    df, row_of = _read_columns(path)
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise MissingColumnError(f"missing required column {missing[0]!r}", Location.of(path, row=1),
                                 expected="columns " + ", ".join(REQUIRED) + " (+ unit)",
                                 found=", ".join(df.columns))
    if df.empty:
        raise EmptyFileError("the file has no data rows", Location.of(path), expected="at least one plot")
    df = _units(df, path, by_unit, row_of)
    if by_unit and "unit" not in df:
        raise MissingColumnError("a matrix by unit needs a column 'unit'", Location.of(path, row=1))
    area = parse_areas(df[VALUE], number_format, path, row_of)
    neg = area < 0
    if neg.any():
        i = _first(neg)
        raise NegativeAreaError("negative area", Location.of(path, row=row_of(i), column=VALUE),
                                expected="an area ≥ 0 ha", found=float(area[i]))
    _check_duplicates(df, path, row_of)
    out = pd.DataFrame({"plot_id": df["plot_id"]})
    if "unit" in df:
        out["unit"] = df["unit"]
    out["code_from"] = df["code_from"]
    out["code_to"] = df["code_to"]
    out[VALUE] = area
    return out, row_of

