"""Reading files: the only module that parses CSV/XLSX, text encodings and number formats.

Numbers come in Vietnamese format (``43.749`` = 43749, ``5,27`` = 5.27) or English format (``43,749``,
``5.27``). ``number_format`` is ``vi``, ``en`` or ``auto``; ``auto`` decides per file from evidence and refuses
ambiguous files, naming a cell. Encodings: UTF-8 with or without BOM, UTF-16 (with BOM), Windows-1258.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
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
from landuse.formats import NUMBER_FORMATS  # noqa: F401 - re-exported: readers name the formats here

LONG_KEYS = ["unit", "year", "code"]
VALUE = "area_ha"
ROW = "_row"  # 1-based file row of each record (the header is row 1)

_VI = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_EN = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
# evidence: a token that can only be read one way
_VI_ONLY = re.compile(r"^[+-]?(\d+,\d{1,2}|\d+,\d{4,}|\d{1,3}(\.\d{3}){2,}(,\d+)?"
                      r"|\d{1,3}(\.\d{3})+,\d+|\d{4,},\d+|\d+\.\d{3},\d*)$")
_EN_ONLY = re.compile(r"^[+-]?(\d+\.\d{1,2}|\d+\.\d{4,}|\d{1,3}(,\d{3}){2,}(\.\d+)?"
                      r"|\d{1,3}(,\d{3})+\.\d+|\d{4,}\.\d+)$")
_AMBIGUOUS = re.compile(r"^[+-]?\d{1,3}[.,]\d{3}$")  # 12.345 or 12,345: thousands or decimals?
NIL_TOKENS = {"-", "–", "—"}


# ---- text -------------------------------------------------------------------------------------------
def decode_text(path: Path | str) -> str:
    """Read a text file as str: UTF-8 (BOM or not), UTF-16 (BOM), else Windows-1258; NFC-normalised."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", Location.of(path)) from None
    except OSError as e:
        raise InputError(f"cannot read file ({e.strerror})", Location.of(path)) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        text = raw[3:].decode("utf-8", errors="strict")
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            text = _decode_legacy(raw, e, path)
    return unicodedata.normalize("NFC", text)


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


def _decode_legacy(raw: bytes, err: UnicodeDecodeError, path: Path) -> str:
    """Windows-1258 for a file that is not UTF-8; a UTF-8 file with a bad byte is refused, not garbled."""
    if _UTF8_MULTIBYTE.search(raw):
        line = raw.count(b"\n", 0, err.start) + 1
        raise InputError("invalid UTF-8 byte in a UTF-8 file", Location.of(path, row=line),
                         expected="UTF-8 text (save the file as UTF-8)", found=raw[err.start:err.start + 1]) from None
    try:
        return raw.decode("cp1258")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise InputError("cannot decode the file", Location.of(path, row=line),
                         expected="UTF-8, UTF-16 or Windows-1258 text") from None


def sniff_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon or tab) most frequent in the first non-blank line."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get) if max(counts.values()) else ","


def read_table(path: Path | str, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX file into a DataFrame of strings (blank cells = ""), plus column :data:`ROW`.

    :data:`ROW` is the record's line in the file (header = 1): blank lines of a CSV, which pandas skips, and
    quoted fields spanning lines are counted (see :func:`csv_rows`). Column names are stripped. Raises
    :class:`EmptyFileError` when there is no data row.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    rows = None  # file rows of the records when they are not simply 2, 3, …
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        df = _read_excel(path, sheet)
    elif suffix == ".parquet":
        try:
            df = pd.read_parquet(path).astype(str)
        except Exception as e:  # noqa: BLE001 - any parser failure is bad input
            raise InputError(f"cannot read Parquet file ({e})", Location.of(path)) from None
    else:
        import io as _io

        text = decode_text(path)
        if not text.strip():
            raise EmptyFileError("the file is empty", Location.of(path), expected="a header row and data rows")
        delim = sniff_delimiter(text)
        try:
            df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, sep=delim,
                             skipinitialspace=False)
        except pd.errors.ParserError as e:
            m = re.search(r"line (\d+)", str(e))
            raise InputError(f"malformed CSV ({e})", Location.of(path, row=int(m.group(1)) if m else None)) from None
        rows = csv_rows(text, delim, len(df))
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty:
        raise EmptyFileError("the file has no data rows", Location.of(path), expected="at least one data row")
    df[ROW] = rows if rows is not None else np.arange(2, len(df) + 2)
    return df


def record_lines(lines: Iterable[str], delimiter: str, stop: int | None = None) -> np.ndarray:
    """The file line (1-based) on which each data record of a CSV starts, as pandas reads it: blank or
    whitespace-only lines are skipped, the first non-blank record is the header, a quoted field may span lines.

    ``lines``: an iterable of lines that keeps their ends (``open(..., newline="")`` or
    ``io.StringIO(text, newline="")``). ``stop``: read only up to data record ``stop`` (0-based) included.
    """
    reader = csv.reader(lines, delimiter=delimiter)
    out: list[int] = []
    prev, header = 0, False
    for rec in reader:
        start, prev = prev + 1, reader.line_num
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            continue
        if not header:
            header = True
            continue
        out.append(start)
        if stop is not None and len(out) > stop:
            break
    return np.asarray(out, dtype=np.int64)


def csv_rows(text: str, delimiter: str, n: int) -> np.ndarray:
    """File rows of the ``n`` data records pandas read from ``text``: ``2 … n + 1`` when every line is a record,
    else (blank lines, fields spanning lines) from :func:`record_lines`."""
    import io as _io

    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines == n + 1 and text.count("\r") == text.count("\r\n"):
        return np.arange(2, n + 2)
    rows = record_lines(_io.StringIO(text, newline=""), delimiter)
    return rows if len(rows) == n else np.arange(2, n + 2)


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object, engine="calamine")
    except FileNotFoundError:
        raise InputError("file not found", Location.of(path)) from None
    except ValueError as e:
        raise InputError(f"cannot read sheet ({e})", Location.of(path, sheet=str(sheet) if sheet else None)) from None
    except Exception as e:  # noqa: BLE001 - calamine raises its own types for corrupt files
        raise InputError(f"cannot read workbook ({e})", Location.of(path)) from None
    return df.map(_cell_to_str)


def _cell_to_str(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.15e}"  # a numeric cell: scientific form, which both number formats accept
    return str(v).strip()


# ---- numbers ----------------------------------------------------------------------------------------
def detect_number_format(cells: pd.Series, location: Location | None = None,
                         rows: pd.Series | None = None, column: str | None = None) -> str | None:
    """Decide ``vi`` or ``en`` from evidence in ``cells`` (strings). ``None`` when nothing tells them apart
    and nothing is ambiguous (plain integers). Raises :class:`AmbiguousNumberFormatError` naming a cell when
    the evidence conflicts or when only ambiguous tokens (``12.345``) exist.
    """
    s = cells.astype(str).str.strip().str.replace(" ", "", regex=False)
    vi, en = s.str.match(_VI_ONLY), s.str.match(_EN_ONLY)

    def where(mask: pd.Series) -> Location:
        i = int(np.flatnonzero(mask.to_numpy())[0])
        row = int(rows.iloc[i]) if rows is not None else None
        col = column if column is not None else (cells.name if isinstance(cells.name, str) else None)
        return Location(location.file if location else None, location.sheet if location else None, row, col)

    if vi.any() and en.any():
        raise AmbiguousNumberFormatError(
            f"the file mixes Vietnamese ({s[vi].iloc[0]!r}) and English ({s[en].iloc[0]!r}) number formats",
            where(en), expected="one format; pass --number-format vi or en")
    if vi.any():
        return "vi"
    if en.any():
        return "en"
    amb = s.str.match(_AMBIGUOUS)
    if amb.any():
        raise AmbiguousNumberFormatError(
            f"cannot tell whether {s[amb].iloc[0]!r} is thousands or decimals", where(amb),
            expected="--number-format vi or en")
    return None


def parse_numbers(cells: pd.Series, fmt: str = "vi") -> tuple[pd.Series, pd.Series]:
    """Parse strings to floats in format ``fmt`` (``vi`` or ``en``), vectorised.

    Returns ``(values, bad)``: ``values`` is NaN for blank cells, nil dashes and bad cells; ``bad`` marks the
    cells that are neither blank, a nil dash nor a number of that format.
    """
    s = cells.astype(str).str.strip().str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    s = s.str.replace("\u2212", "-", regex=False)  # a typographic minus
    blank = s.eq("") | s.isin(NIL_TOKENS) | s.str.lower().isin({"nan", "none"})
    pattern, thousands, decimal = (_VI, ".", ",") if fmt == "vi" else (_EN, ",", ".")
    ok = s.str.match(pattern)
    # numeric spreadsheet cells arrive in scientific form ("1.2345e+03"), valid in either format
    excel_float = s.str.match(r"^[+-]?\d+\.\d+e[+-]?\d+$")
    norm = s.where(excel_float, s.str.replace(thousands, "", regex=False).str.replace(decimal, ".", regex=False))
    values = pd.to_numeric(norm.where((ok | excel_float) & ~blank), errors="coerce")
    bad = ~blank & values.isna()
    return values.astype(float), bad


def to_numbers(df: pd.DataFrame, columns: list[str], fmt: str, path: Path | str | None = None,
               sheet: str | None = None, strict: bool = True) -> pd.DataFrame:
    """Parse ``columns`` of a string table in place (a copy is returned). ``fmt`` may be ``auto``.

    With ``strict``, the first non-numeric cell raises :class:`NonNumericError` with its row and column.
    """
    if fmt not in NUMBER_FORMATS:
        raise InputError("unknown number format", expected=" | ".join(NUMBER_FORMATS), found=fmt)
    loc = Location.of(path, sheet=sheet)
    if fmt == "auto":
        stacked = pd.concat([df[c] for c in columns], ignore_index=True) if columns else pd.Series([], dtype=str)
        rows = pd.concat([df[ROW] for _ in columns], ignore_index=True) if ROW in df and columns else None
        names = pd.Series(np.repeat(columns, len(df)))
        try:
            fmt = detect_number_format(stacked, loc, rows) or "vi"
        except AmbiguousNumberFormatError as e:
            # name the column of the offending cell
            if e.location and e.location.row is not None and rows is not None:
                i = int(np.flatnonzero(rows.to_numpy() == e.location.row)[0])
                e = type(e)(e.message, Location(loc.file, loc.sheet, e.location.row, names.iloc[i]),
                            expected=e.expected)
            raise e from None
    out = df.copy()
    for c in columns:
        values, bad = parse_numbers(df[c], fmt)
        if strict and bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            row = int(df[ROW].iloc[i]) if ROW in df else None
            example = "Vietnamese (43.749 / 5,27)" if fmt == "vi" else "English (43,749 / 5.27)"
            raise NonNumericError("not a number", Location(loc.file, loc.sheet, row, c),
                                  expected=f"a number in {example} format", found=df[c].iloc[i])
        out[c] = values
    out.attrs["number_format"] = fmt
    return out


# ---- long tables ------------------------------------------------------------------------------------
def require_columns(df: pd.DataFrame, required: list[str], path: Path | str | None, sheet: str | None = None) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise MissingColumnError(f"missing required column {missing[0]!r}", Location.of(path, sheet=sheet, row=1),
                                 expected="columns " + ", ".join(required),
                                 found=", ".join(c for c in df.columns if c != ROW))


def read_long(path: Path | str, classification=None, number_format: str = "auto", sheet: str | None = None,
              keys: list[str] | None = None, default_unit: str | None = None,
              allow_missing: bool = True) -> pd.DataFrame:
    """Read a long table (``unit, year, code, area_ha`` + any provenance columns) and validate it.

    ``unit`` may be absent when ``default_unit`` is given. Checks: required columns, numbers, negative
    areas, known codes (when ``classification`` is given), duplicate keys. Blank areas stay NaN
    (missing) unless ``allow_missing`` is false. Keeps :data:`ROW` for later messages.
    """
    keys = list(keys or LONG_KEYS)
    df = read_table(path, sheet)
    if "unit" in keys and "unit" not in df.columns and default_unit is not None:
        df["unit"] = default_unit
    require_columns(df, keys + [VALUE], path, sheet)
    df["code"] = df["code"].str.strip().str.upper() if "code" in df else df.get("code")
    df = to_numbers(df, [VALUE], number_format, path, sheet)
    validate_long(df, path, classification, keys, sheet, allow_missing)
    if "year" in df:
        years = pd.to_numeric(df["year"], errors="coerce")
        bad = years.isna() | (years % 1 != 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise NonNumericError("not a year", Location.of(path, sheet=sheet, row=int(df[ROW].iloc[i]), column="year"),
                                  expected="a whole year such as 2024", found=df["year"].iloc[i])
        df["year"] = years.astype(int)
    return df


def validate_long(df: pd.DataFrame, path, classification=None, keys: list[str] | None = None,
                  sheet: str | None = None, allow_missing: bool = True) -> None:
    """Raise at the first invalid record of a parsed long table: missing or negative area, unknown code,
    duplicate key."""
    keys = list(keys or LONG_KEYS)

    def at(mask: pd.Series, column: str) -> Location:
        i = int(np.flatnonzero(mask.to_numpy())[0])
        return Location.of(path, sheet=sheet, row=int(df[ROW].iloc[i]), column=column)

    if not allow_missing and df[VALUE].isna().any():
        raise NonNumericError("missing area", at(df[VALUE].isna(), VALUE), expected="an area in ha")
    neg = df[VALUE] < 0
    if neg.any():
        raise NegativeAreaError("negative area", at(neg, VALUE), expected="an area ≥ 0 ha",
                                found=float(df.loc[neg, VALUE].iloc[0]))
    for k in keys:
        empty = df[k].astype(str).str.strip().eq("")
        if empty.any():
            raise InputError(f"empty {k}", at(empty, k), expected=f"a {k}")
    if classification is not None and "code" in df:
        classification.check_codes(df["code"], Location.of(path, sheet=sheet), df[ROW])
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        same = df[dup & (df[keys] == first[keys]).all(axis=1)][ROW].tolist()
        raise DuplicateKeyError(
            "duplicate (" + ", ".join(keys) + ") = (" + ", ".join(str(first[k]) for k in keys) + ")"
            + f", also at row {same[0]}", Location.of(path, sheet=sheet, row=int(same[1]), column="code"))
