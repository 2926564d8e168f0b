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

from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from landuse.readers.tables import (
    FORMAT_NAMES,
    ROW,
    VALUE,
    parse_tokens,
    read_table,
    record_lines,
    resolve_number_format,
    sniff_delimiter,
)

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

    def at(self, start: int) -> Callable[[int], int]:
        """File row of record ``i`` of a batch whose first record is record ``start`` of the file."""
        return self if start == 0 else (lambda i: self(start + int(i)))


CATEGORICAL = ["unit", "unit_from", "unit_to", "code_from", "code_to", VALUE]  # few distinct values: read once each


BATCH_ROWS = 1 << 20  # Parquet files are read this many plots at a time: memory stays bounded by a batch


def _read_columns(path: Path) -> tuple[pd.DataFrame, FileRows]:
    """The needed columns of a CSV/XLSX file and where each record is in the file (Parquet: see
    :func:`_raw_batches`).

    Codes, units and (text) areas come back as categoricals: a plot file has millions of rows but a few
    dozen codes and units and far fewer distinct area tokens than rows, so each distinct text is checked and
    parsed once (:func:`parse_areas`). ``plot_id`` stays text (or the file's integers, for Parquet).
    """
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError("file not found", Location.of(path))
    if suffix in (".csv", ".txt", ".tsv"):
        head = _header(path)
        if head is not None:
            names, delim = head
            use = [n for n in names if n in REQUIRED + OPTIONAL]
            df = _read_csv_fast(path, delim, use)
            if df is not None:
                return df, FileRows(path, delimiter=delim)
    df = read_table(path)
    return df[[c for c in df.columns if c in REQUIRED + OPTIONAL]], FileRows(path, df[ROW].to_numpy())


def _raw_batches(path: Path) -> tuple[Iterator[pd.DataFrame], FileRows, int]:
    """(the needed columns in consecutive batches, file rows, number of records). A Parquet file with numeric
    areas is read :data:`BATCH_ROWS` plots at a time; every other file in one batch (a text area's number
    format is decided on the whole file)."""
    if path.suffix.lower() == ".parquet" and path.exists():
        batches, n = _parquet_batches(path)
        return batches, FileRows(path), n
    df, rows = _read_columns(path)
    return iter([df]), rows, len(df)


def _parquet_batches(path: Path) -> tuple[Iterator[pd.DataFrame], int]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("reading Parquet needs pyarrow (pip install 'landuse[parquet]')",
                         Location.of(path)) from None
    try:
        schema = pq.read_schema(path)
        cols = [c for c in schema.names if c.strip() in REQUIRED + OPTIONAL]
        text = [c for c in cols if c.strip() in CATEGORICAL and str(schema.field(c).type) in ("string", "large_string")]
        pf = pq.ParquetFile(path, read_dictionary=text, pre_buffer=False)
        area = [c for c in cols if c.strip() == VALUE]
        if pf.metadata.num_rows == 0 or (area and str(schema.field(area[0]).type) in ("string", "large_string")):
            batches = iter([pf.read(columns=cols)])
        else:
            groups = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
            if max(groups, default=0) <= 2 * BATCH_ROWS:  # one row group at a time: the least memory
                batches = (pf.read_row_group(i, columns=cols) for i in range(len(groups)))
            else:  # each row group in pieces of BATCH_ROWS (the lean path sums in the same pieces)
                batches = (b for i in range(len(groups))
                           for b in pf.iter_batches(batch_size=BATCH_ROWS, columns=cols, row_groups=[i]))
        n = pf.metadata.num_rows
    except Exception as e:  # noqa: BLE001 - any parser failure is bad input
        raise InputError(f"cannot read Parquet file ({e})", Location.of(path)) from None

    def frames() -> Iterator[pd.DataFrame]:
        try:
            for b in batches:
                yield b.to_pandas(split_blocks=True)
        except (OSError, ValueError) as e:  # a corrupt page found while reading
            raise InputError(f"cannot read Parquet file ({e})", Location.of(path)) from None

    return frames(), n


def _read_csv_fast(path: Path, delim: str, use: list[str]) -> pd.DataFrame | None:
    """A UTF-8 CSV's needed columns (text; codes, units and areas as categoricals), with pyarrow when
    installed; ``None`` when the file needs the general reader (which names the problem)."""
    if _has_pyarrow():
        import pyarrow as pa
        import pyarrow.csv as pcsv

        cat = pa.dictionary(pa.int32(), pa.string())
        types = {c: cat if c in CATEGORICAL else pa.string() for c in use}
        try:  # streamed in blocks, so that only the parsed columns (not the file's text) stay in memory
            reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=16 << 20),
                                   parse_options=pcsv.ParseOptions(delimiter=delim),
                                   convert_options=pcsv.ConvertOptions(include_columns=use, column_types=types,
                                                                       strings_can_be_null=False, null_values=[]))
            table = pa.Table.from_batches(list(reader), schema=reader.schema)
        except (pa.ArrowInvalid, pa.ArrowKeyError, KeyError, UnicodeDecodeError, ValueError):
            return None
        return table.to_pandas(self_destruct=True, split_blocks=True)
    try:
        return pd.read_csv(path, sep=delim, usecols=use, keep_default_na=False, encoding="utf-8-sig",
                           dtype={c: "category" if c in CATEGORICAL else str for c in use})
    except (UnicodeDecodeError, ValueError):
        return None


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _positional(i: int) -> int:
    return int(i) + 2


def _tokens(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """(code of each row, distinct texts): the categorical's codes, else a hash factorisation; NaN is -1."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(), s.cat.categories
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    return codes, pd.Index(uniq)


def _resolve_format(uniq: pd.Series, codes: np.ndarray, fmt: str, path: Path, row_of=_positional) -> str:
    """The format of the distinct area tokens by the shared grammar (:func:`~.tables.resolve_number_format`):
    an explicit ``fmt`` checked against them, ``auto`` decided from them, or ``auto`` again when nothing
    decides (plain integers read the same either way). The error names the file row of the token."""
    try:
        return resolve_number_format(uniq, fmt, Location.of(path), pd.Series(np.arange(len(uniq))), VALUE,
                                     default="auto")
    except AmbiguousNumberFormatError as e:
        token = uniq.iloc[e.location.row]
        same = np.flatnonzero((uniq == token).to_numpy(dtype=bool))  # stripped tokens: several texts may match
        row = row_of(_first(np.isin(codes, same)))
        raise AmbiguousNumberFormatError(e.message, Location.of(path, row=row, column=VALUE),
                                         expected=e.expected) from None


def parse_areas(s: pd.Series, fmt: str, path: Path, row_of=_positional) -> tuple[np.ndarray, str]:
    """Areas (ha, float64) from text in format ``vi``/``en``/``auto`` by the grammar of
    :mod:`landuse.readers.tables` (typed spreadsheet numbers as they are), and the format they were read in
    (``auto`` when nothing decided: plain integers). Raises naming the first bad row (``row_of``: data record
    position → file row, e.g. a :class:`FileRows`); blank, ``NaN`` and ``inf`` are refused.

    Each distinct text is checked and parsed once, then spread to its rows (a take), so a file of millions of
    plots costs one pass over its rows."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=np.float64)
        _check_finite(values, s, path, row_of)
        return values, fmt
    codes, uniq = _tokens(s)
    tokens = pd.Series(uniq.astype(str), dtype=object).str.strip()
    fmt = _resolve_format(tokens, codes, fmt, path, row_of)
    values, ok = parse_tokens(tokens, "en" if fmt == "auto" else fmt)
    lut_ok = np.append(ok, False)  # code -1 (NaN) is not a number
    if not lut_ok[codes].all():
        i = _first(~lut_ok[codes])
        found = s.iloc[i]
        loc = Location.of(path, row=row_of(i), column=VALUE)
        if pd.isna(found) or str(found).strip() == "":
            raise NonNumericError("missing area", loc, expected="an area in ha")
        raise NonNumericError("not a number", loc, expected="a finite number in "
                              + FORMAT_NAMES["en" if fmt == "auto" else fmt] + " format", found=str(found).strip())
    return values[codes], fmt


def _check_finite(values: np.ndarray, s: pd.Series, path: Path, row_of) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        i = _first(bad)
        loc = Location.of(path, row=row_of(i), column=VALUE)
        if np.isnan(values[i]):
            raise NonNumericError("missing area", loc, expected="an area in ha")
        raise NonNumericError("not a finite number", loc, expected="an area in ha", found=s.iloc[i])


def _integer_ids(ids: pd.Series) -> np.ndarray | None:
    """The plot ids as int64 when every id is an integer written canonically (:func:`canonical_ints`), else
    ``None``."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        return ids.to_numpy(dtype=np.int64)
    if not _has_pyarrow() or pd.api.types.is_numeric_dtype(ids.dtype):
        return None
    import pyarrow as pa

    text = ids.array.__arrow_array__() if isinstance(ids.array, pd.arrays.ArrowStringArray) \
        else pa.array(ids.to_numpy(dtype=object), type=pa.string())
    text = text if isinstance(text, pa.ChunkedArray) else pa.chunked_array([text])
    out = np.empty(len(ids), dtype=np.int64)
    for s in range(0, len(ids), BATCH_ROWS):  # in slices: temporaries stay small
        ints = canonical_ints(text.slice(s, BATCH_ROWS))
        if ints is None:
            return None
        out[s:s + len(ints)] = ints
    return out


_POWERS = 10 ** np.arange(1, 19, dtype=np.int64)


def canonical_ints(text) -> np.ndarray | None:
    """pyarrow text as int64 when every entry is an integer written canonically (no sign +, no leading zero, no
    space: then two entries are the same text exactly when they are the same integer), else ``None``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        ints = pc.cast(text, pa.int64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # canonical: as many characters as the digits of |x| (1 for 0) plus the minus sign
    digits = np.searchsorted(_POWERS, np.abs(ints), side="right") + 1 + (ints < 0)
    return ints if np.array_equal(digits, pc.binary_length(text).to_numpy()) else None


class SeenKeys:
    """Integer keys in ``[low, low + space)`` marked as seen, piece by piece: they are all different exactly
    when as many keys are marked as were added (one pass, no sort)."""

    def __init__(self, space: int, low: int = 0) -> None:
        self.seen = np.zeros(space, dtype=bool)
        self.low, self.added = low, 0

    def add(self, key: np.ndarray) -> None:
        for s in range(0, len(key), 1 << 20):  # in slices: no full-size temporary when shifted
            part = key[s:s + (1 << 20)]
            self.seen[part if self.low == 0 else part.astype(np.int64) - self.low] = True
        self.added += len(key)

    def all_different(self) -> bool:
        return int(np.count_nonzero(self.seen)) == self.added


class _PlotIds:
    """The (unit, plot_id) of every plot, gathered batch by batch, checked once at the end.

    Integer ids written canonically are kept as int32 (int64 when they need it) and units as int8 codes (wider
    when needed): 5 bytes a plot; other ids as text. First the ids alone: when they are dense, one pass marking each id
    seen tells whether they are all different (then no (unit, plot_id) repeats). Else one integer key per
    plot, checked the same way when dense or by a sort; rows are named only when a duplicate exists.
    """

    def __init__(self, n: int, with_unit: bool) -> None:
        self.n, self.with_unit, self.filled = n, with_unit, 0
        self.ints: np.ndarray | None = np.empty(n, dtype=np.int32)
        self.low, self.high = 0, -1
        self.texts: list[pd.Series] = []
        self.units: dict[object, int] = {}
        self.unit_codes = np.empty(n if with_unit else 0, dtype=np.int8)

    def add(self, frame: pd.DataFrame) -> None:
        ids, s, e = frame["plot_id"], self.filled, self.filled + len(frame)
        if self.with_unit:
            codes, uniq = _tokens(frame["unit"])
            lut = np.array([self.units.setdefault(u, len(self.units)) for u in uniq] + [-1], dtype=np.int32)
            if len(self.units) > np.iinfo(self.unit_codes.dtype).max:
                self.unit_codes = self.unit_codes.astype(np.int16 if len(self.units) < 2 ** 15 else np.int32)
            self.unit_codes[s:e] = lut[codes]
        p = _integer_ids(ids) if self.ints is not None else None
        if p is not None and len(p):
            low, high = int(p.min()), int(p.max())
            self.low, self.high = (low, high) if s == 0 else (min(low, self.low), max(high, self.high))
            if self.ints.dtype == np.int32 and not (-(2 ** 31) <= self.low and self.high < 2 ** 31):
                self.ints = self.ints.astype(np.int64)
            self.ints[s:e] = p
        elif p is None:
            if self.ints is not None:  # earlier batches were integers: their canonical text is the file's
                self.texts = [pd.Series(self.ints[:s]).astype(str)]
                self.ints = None
            self.texts.append(ids.astype(str) if pd.api.types.is_numeric_dtype(ids.dtype) else ids)
        self.filled = e

    def _keys(self) -> tuple[np.ndarray, int] | None:
        """(one int64 key ≥ 0 per plot, equal exactly when (unit, plot_id) is equal; number of possible keys),
        or ``None`` when the plot ids alone are all different (then no (unit, plot_id) repeats)."""
        if self.ints is not None:
            p, span = self.ints[:self.filled], self.high - self.low + 1
            if span <= 4 * len(p) + 4096 and _distinct(p, span, self.low):
                return None
            if span < 2 ** 62 // (len(self.units) + 2):
                p = p.astype(np.int64)
                p -= self.low
            else:  # ids too far apart to share one int64 key with the unit
                p, uniq = pd.factorize(p)
                span = max(len(uniq), 1)
        else:
            p, uniq = pd.factorize(pd.concat(self.texts, ignore_index=True))
            span = max(len(uniq), 1)
        if not self.with_unit:
            return p, span
        p *= len(self.units) + 1
        p += self.unit_codes[:self.filled]
        p += 1  # a missing unit (-1) is a unit of its own
        return p, span * (len(self.units) + 1)

    def check(self, frames: Callable[[int], tuple[pd.DataFrame, int]], path: Path, row_of) -> None:
        """Raise :class:`DuplicateKeyError` at the second plot of the first (unit, plot_id) seen twice, naming
        the row of the first. ``frames(i)``: the batch holding plot ``i`` and its start (to show the texts)."""
        keys = self._keys()
        if keys is None:
            return
        key, space = keys
        if space <= 4 * len(key) + 4096 and _distinct(key, space):
            return
        ordered = np.sort(key)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        if len(repeated) == 0:
            return
        first = _first(np.isin(key, repeated))  # the first plot (file order) whose key occurs again
        same = np.flatnonzero(key == key[first])[:2]
        frame, start = frames(first)
        unit = f" in unit {_text(frame['unit'].iloc[first - start])!r}" if self.with_unit else ""
        raise DuplicateKeyError(f"plot_id {_text(frame['plot_id'].iloc[first - start])!r} occurs twice{unit}, "
                                f"also at row {row_of(same[0])}", Location.of(path, row=row_of(same[1]),
                                                                               column="plot_id"))


def _distinct(key: np.ndarray, space: int, low: int = 0) -> bool:
    """Whether the keys (``low`` ≤ key < ``low + space``) are all different (:class:`SeenKeys`)."""
    seen = SeenKeys(space, low)
    seen.add(key)
    return seen.all_different()


def _check_blank_ids(ids: pd.Series, path: Path, row_of) -> None:
    if not pd.api.types.is_numeric_dtype(ids.dtype):
        blank = ids.isna().to_numpy() | (ids.str.strip() == "").to_numpy(dtype=bool, na_value=True)
    else:
        blank = ids.isna().to_numpy()
    if blank.any():
        raise InputError("empty plot_id", Location.of(path, row=row_of(_first(blank)), column="plot_id"),
                         expected="a plot identifier")


def _text(v) -> str:
    return str(v.item() if hasattr(v, "item") else v)


def _same_text(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Row-wise ``a.strip() == b.strip()`` over the distinct texts of two (categorical) columns."""
    ca, ua = _tokens(a)
    cb, ub = _tokens(b)
    both, _ = pd.factorize(pd.Index(list(ua.astype(str)) + list(ub.astype(str))).str.strip())
    la, lb = np.append(both[:len(ua)], -1), np.append(both[len(ua):], -1)  # NaN (-1) as the text 'nan' was
    return la[ca] == lb[cb]


def _units(df: pd.DataFrame, path: Path, by_unit: bool, row_of=_positional) -> pd.DataFrame:
    if "unit_from" in df and "unit_to" in df:
        moved = ~_same_text(df["unit_from"], df["unit_to"])
        if moved.any() and by_unit:
            i = _first(moved)
            raise InputError(f"plot {_text(df['plot_id'].iloc[i])!r} is in unit {_text(df['unit_from'].iloc[i])!r} "
                             f"at the start and {_text(df['unit_to'].iloc[i])!r} at the end ({int(moved.sum())} such "
                             "plots); per-unit matrices need that move as giảm khác / tăng khác — drop --by-unit "
                             "for the whole area", Location.of(path, row=row_of(i), column="unit_to"))
        if "unit" not in df:
            df = df.assign(unit=df["unit_to"])
    return df


@dataclass
class PlotBatch:
    """Validated plots: ``plot_id, [unit,] code_from, code_to, area_ha`` (ha, float ≥ 0); ``start`` is the
    position (0-based) of its first plot in the file; ``rows`` names the file row of its plot ``i``."""

    frame: pd.DataFrame
    start: int
    rows: Callable[[int], int]


def scan_plots(path: Path | str, number_format: str = "auto", by_unit: bool = False) -> Iterator[PlotBatch]:
    """Read and validate a plot file batch by batch (see :data:`BATCH_ROWS`); the duplicate-plot check spans
    the batches and raises, if it must, after the last batch, so a consumer that reads every batch (e.g. a
    matrix being summed) never returns a result from a file that fails a check.

    Row numbers in errors are file rows (the header is row 1; blank lines counted).
    """
    path = Path(path)
    batches, row_of, n = _raw_batches(path)
    ids: _PlotIds | None = None
    kept: list[tuple[int, int]] = []  # (start, length) of each batch, to find a plot's batch again
    start, fmt = 0, number_format  # auto: the first batch whose numbers decide fixes the file's format
    for raw in batches:
        frame, fmt = _validated(raw, path, row_of.at(start), fmt, by_unit)
        if ids is None:
            ids = _PlotIds(n, "unit" in frame)
        ids.add(frame)
        kept.append((start, len(frame)))
        start += len(frame)
        yield PlotBatch(frame, start - len(frame), row_of.at(start - len(frame)))
        del raw, frame  # before the next batch is read: one batch in memory at a time
    if start == 0:
        _validated(pd.DataFrame(), path, row_of, fmt, by_unit)  # names what is missing
    if ids is not None:
        ids.check(lambda i: _batch_of(path, fmt, by_unit, kept, i), path, row_of)


def _batch_of(path: Path, number_format: str, by_unit: bool, kept: list[tuple[int, int]],
              i: int) -> tuple[pd.DataFrame, int]:
    """The validated batch holding plot ``i`` and its start (read again: only to word an error)."""
    batches, row_of, _ = _raw_batches(path)
    for (start, _n), raw in zip(kept, batches, strict=False):
        if start <= i < start + len(raw):
            return _validated(raw, path, row_of.at(start), number_format, by_unit)[0], start
    raise AssertionError(f"plot {i} is in no batch")  # pragma: no cover


def _validated(df: pd.DataFrame, path: Path, row_of, number_format: str,
               by_unit: bool) -> tuple[pd.DataFrame, str]:
    """One batch checked (columns, units, areas, empty ids) into ``plot_id, [unit,] code_from, code_to,
    area_ha``."""
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
    area, fmt = parse_areas(df[VALUE], number_format, path, row_of)
    neg = area < 0
    if neg.any():
        i = _first(neg)
        raise NegativeAreaError("negative area", Location.of(path, row=row_of(i), column=VALUE),
                                expected="an area ≥ 0 ha", found=float(area[i]))
    _check_blank_ids(df["plot_id"], path, row_of)
    return df.assign(**{VALUE: area})[["plot_id"] + (["unit"] if "unit" in df else []) + ["code_from", "code_to",
                                                                                          VALUE]], fmt


def read_plots(path: Path | str, classification=None, number_format: str = "auto",
               by_unit: bool = False) -> pd.DataFrame:
    """Read and validate a plot file; returns ``plot_id, [unit,] code_from, code_to, area_ha`` (ha, float).

    Row numbers in errors are file rows (the header is row 1; blank lines counted). ``classification`` is
    accepted for symmetry; codes are checked when the matrix is built. Codes and units are categoricals.
    """
    return read_plots_located(path, classification, number_format, by_unit)[0]


def read_plots_located(path: Path | str, classification=None, number_format: str = "auto",
                       by_unit: bool = False) -> tuple[pd.DataFrame, FileRows]:
    """:func:`read_plots` and the :class:`FileRows` that names the file row of each plot (for later errors,
    e.g. an unknown code found when the matrix is built)."""
    batches = list(scan_plots(path, number_format, by_unit))
    rows = batches[0].rows
    frame = batches[0].frame if len(batches) == 1 else pd.concat([b.frame for b in batches], ignore_index=True)
    return frame, rows
