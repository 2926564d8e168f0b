"""Reading files: the only module that parses CSV/XLSX, text encodings and number formats.

Numbers come in Vietnamese format (``43.749`` = 43749, ``5,27`` = 5.27) or English format (``43,749``,
``5.27``). ``number_format`` is ``vi``, ``en`` or ``auto``; ``auto`` decides per file from evidence and refuses
ambiguous files, naming a cell. Encodings: UTF-8 with or without BOM, UTF-16 (with BOM), Windows-1258.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
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

# The number grammar. A thousands group is exactly three digits after a NON-ZERO leading group of 1-3 digits
# ("0.500" is no Vietnamese integer, "0,500" no English one); the decimal part is any run of digits.
_VI = re.compile(r"^[+-]?([1-9]\d{0,2}(\.\d{3})+|\d+)(,\d+)?$")
_EN = re.compile(r"^[+-]?([1-9]\d{0,2}(,\d{3})+|\d+)(\.\d+)?$")
# a typed spreadsheet number, written by :func:`_cell_to_str` in scientific form: valid in either format
_TYPED = re.compile(r"^[+-]?\d\.\d+e[+-]\d+$")
# every separated token of a file in the other format looks like this (three digits after each separator)
_GROUPED = {"vi": re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+$"), "en": re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+$")}
GROUPING_EVIDENCE = 3  # that many such tokens, and nothing else with a separator, make a file "the other format"
FORMAT_NAMES = {"vi": "Vietnamese (1.234,5)", "en": "English (1,234.5)"}
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
        text = _decode_strict(raw, 3, "utf-8", path)
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode_strict(raw, 0, "utf-16", path)
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            text = _decode_legacy(raw, e, path)
    return unicodedata.normalize("NFC", text)


def _decode_strict(raw: bytes, start: int, encoding: str, path: Path) -> str:
    """``raw[start:]`` decoded as ``encoding`` (the file's byte-order mark says which); a byte that does not
    decode is refused naming the file and line."""
    try:
        return raw[start:].decode(encoding)
    except UnicodeDecodeError as e:
        pos = start + e.start
        if encoding == "utf-16":
            line = raw[:pos].decode("utf-16", errors="replace").count("\n") + 1
            why = "an odd number of bytes (a UTF-16 file is cut)" if len(raw) % 2 else "an invalid UTF-16 sequence"
        else:
            line, why = raw.count(b"\n", 0, pos) + 1, f"byte 0x{raw[pos]:02x}, which is not UTF-8"
        raise InputError(f"cannot decode the file: it starts with a {encoding.upper()} byte-order mark but has {why}",
                         Location.of(path, row=line), expected=f"{encoding.upper()} text (save the file again as "
                         "UTF-8)") from None


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
            df = pd.read_parquet(path).astype(object)
            df = df.where(df.notna(), None).map(_cell_to_str)
        except Exception as e:  # noqa: BLE001 - any parser failure is bad input
            raise InputError(f"cannot read Parquet file ({e})", Location.of(path)) from None
    else:
        text = decode_text(path)
        if not text.strip():
            raise EmptyFileError("the file is empty", Location.of(path), expected="a header row and data rows")
        delim = sniff_delimiter(text)
        try:
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=delim,
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
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines == n + 1 and text.count("\r") == text.count("\r\n"):
        return np.arange(2, n + 2)
    rows = record_lines(io.StringIO(text, newline=""), delimiter)
    return rows if len(rows) == n else np.arange(2, n + 2)


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object, engine="calamine",
                           keep_default_na=False)  # "NaN", "NA", "None" text is text: refused, never blank
    except FileNotFoundError:
        raise InputError("file not found", Location.of(path)) from None
    except ValueError as e:
        raise InputError(f"cannot read sheet ({e})", Location.of(path, sheet=str(sheet) if sheet else None)) from None
    except Exception as e:  # noqa: BLE001 - calamine raises its own types for corrupt files
        raise InputError(f"cannot read workbook ({e})", Location.of(path)) from None
    check_formulas_cached(path, sheet)
    return df.map(_cell_to_str)


def _cell_to_str(v: object) -> str:
    """A spreadsheet or Parquet cell as text. A typed number becomes a plain integer or scientific notation
    (``1.5`` -> ``1.5000000000000000e+00``), which both number formats read as that number; a typed
    non-finite number stays ``inf``/``nan`` text, which no format accepts."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and not np.isfinite(v):
        return str(float(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.16e}"
    return str(v).strip()


def check_formulas_cached(path: Path, sheet: str | int | None = None) -> None:
    """Refuse an XLSX/XLSM sheet with a formula cell whose result was never saved (written by a program that
    does not calculate, e.g. a script): readers would see a blank where the workbook shows a number."""
    ref = uncached_formula(path, sheet)
    if ref is not None:
        name, cell = ref
        m = re.match(r"([A-Z]+)(\d+)", cell)
        raise InputError(f"formula cell {cell} has no saved value", Location.of(
            path, sheet=name, row=int(m.group(2)) if m else None, column=cell),
            expected="a value: open and save it in Excel or LibreOffice so the formula's result is stored")


_XLSX_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}


def uncached_formula(path: Path, sheet: str | int | None = None) -> tuple[str, str] | None:
    """(sheet name, cell) of the first formula cell without a cached value in ``sheet`` (default: the first)
    of an XLSX/XLSM file; ``None`` when there is none or the file is not a zip package (XLS, ODS)."""
    if Path(path).suffix.lower() not in (".xlsx", ".xlsm") or not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as z:
        found = _sheet_member(z, sheet)
        if found is None:
            return None
        name, member = found
        with z.open(member) as fh:
            data = fh.read()
    if b"<f" not in data and b":f" not in data:
        return None  # no formula at all: the common case, decided without parsing
    for _, el in ET.iterparse(io.BytesIO(data)):
        if el.tag.rsplit("}", 1)[-1] != "c":
            continue
        kids = {ch.tag.rsplit("}", 1)[-1]: ch for ch in el}
        value = kids.get("v", kids.get("is"))
        if "f" in kids and (value is None or not ((value.text or "").strip() or len(value))):
            return name, str(el.get("r"))
        el.clear()
    return None


def _sheet_member(z: zipfile.ZipFile, sheet: str | int | None) -> tuple[str, str] | None:
    """(sheet name, zip member of its XML) for ``sheet`` (name, index or None: the first) of an XLSX package."""
    names = set(z.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None
    sheets = ET.fromstring(z.read("xl/workbook.xml")).findall("m:sheets/m:sheet", _XLSX_NS)
    if isinstance(sheet, int):
        sheets = sheets[sheet:sheet + 1]
    elif sheet:
        sheets = [x for x in sheets if x.get("name") == sheet]
    if not sheets:
        return None
    rid = sheets[0].get(f"{{{_XLSX_NS['r']}}}id")
    target = next((r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
                   if r.get("Id") == rid), None)
    if target is None:
        return None
    member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return (str(sheets[0].get("name")), member) if member in names else None


# ---- numbers ----------------------------------------------------------------------------------------
def clean_tokens(cells: pd.Series) -> pd.Series:
    """Number tokens as text: stripped, spaces and no-break spaces removed, a typographic minus made ``-``."""
    s = cells.astype(str).str.strip()
    s = s.str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    return s.str.replace("\u2212", "-", regex=False)


def parse_tokens(tokens: pd.Series, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """``(values, ok)`` of text tokens in format ``fmt`` (vi | en), vectorised: ``ok`` marks the numbers of
    the grammar (or typed spreadsheet numbers), ``values`` their floats (NaN where not ok; a non-finite
    result is not ok). Fast path: tokens are only stripped; the few that fail are cleaned of inner spaces
    and typographic minus signs (:func:`clean_tokens`) and tried again."""
    s = tokens.astype(str).str.strip()
    pattern, thousands, decimal = (_VI, ".", ",") if fmt == "vi" else (_EN, ",", ".")
    ok = s.str.match(pattern).fillna(False).to_numpy(dtype=bool, copy=True)
    norm = s.str.replace(thousands, "", regex=False)
    if decimal != ".":
        norm = norm.str.replace(decimal, ".", regex=False)
    if not ok.all():  # the slow path, only for the tokens that failed
        rest = np.flatnonzero(~ok)
        sub = clean_tokens(s.iloc[rest])
        sub_ok = sub.str.match(pattern).fillna(False).to_numpy(dtype=bool)
        typed = ~sub_ok & sub.str.match(_TYPED).fillna(False).to_numpy(dtype=bool)
        fixed = sub.str.replace(thousands, "", regex=False)
        if decimal != ".":
            fixed = fixed.str.replace(decimal, ".", regex=False)
        fixed = fixed.where(~typed, sub)
        ok[rest] = sub_ok | typed
        norm = norm.copy()
        norm.iloc[rest] = fixed.to_numpy()
    values = _to_float(norm if ok.all() else norm.where(ok, "0"))
    values[~ok] = np.nan
    return values, ok & np.isfinite(values)


def _to_float(norm: pd.Series) -> np.ndarray:
    """Normalised number text (``-1234.5``, ``1.5e+00``) to float64, with pyarrow when installed."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return pd.to_numeric(norm, errors="coerce").to_numpy(dtype=np.float64, copy=True)  # writable (copy-on-write)
    return pc.cast(pa.array(norm, type=pa.string()), pa.float64()).to_numpy(zero_copy_only=False).copy()


_HEAD = 4096  # tokens looked at first for evidence of the format a file is read in


def _only(tokens: pd.Series, fmt: str) -> pd.Series:
    """Tokens that are numbers in ``fmt`` and not in the other format."""
    own, other = (_VI, _EN) if fmt == "vi" else (_EN, _VI)
    return (tokens.str.match(own) & ~tokens.str.match(other)).fillna(False).astype(bool)


def _evidence(tokens: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(vi only, en only, ambiguous) masks: a token valid in one format only, or in both with two values."""
    vi, en = tokens.str.match(_VI).fillna(False), tokens.str.match(_EN).fillna(False)
    separated = tokens.str.contains(r"[.,]", regex=True).fillna(False)
    return vi & ~en, en & ~vi, vi & en & separated


def _cell(cells: pd.Series, mask: pd.Series, location: Location | None, rows: pd.Series | None,
          column: str | None) -> Location:
    i = int(np.flatnonzero(mask.to_numpy())[0])
    row = int(rows.iloc[i]) if rows is not None else None
    col = column if column is not None else (cells.name if isinstance(cells.name, str) else None)
    return Location(location.file if location else None, location.sheet if location else None, row, col)


def detect_number_format(cells: pd.Series, location: Location | None = None,
                         rows: pd.Series | None = None, column: str | None = None) -> str | None:
    """Decide ``vi`` or ``en`` from evidence in ``cells`` (strings): a number valid in one format only
    (``5,27``, ``1.234.567``, ``0,5`` are Vietnamese; ``5.27``, ``1,234,567``, ``0.500`` English). ``None``
    when nothing tells them apart and nothing is ambiguous (plain integers: both readings agree). Raises
    :class:`AmbiguousNumberFormatError` naming a cell when the evidence conflicts or when only ambiguous
    tokens (``12.345``: 12345 or 12.345) decide nothing.
    """
    s = clean_tokens(cells)
    vi, en, amb = _evidence(s)
    if vi.any() and en.any():
        raise AmbiguousNumberFormatError(
            f"the file mixes Vietnamese ({s[vi].iloc[0]!r}) and English ({s[en].iloc[0]!r}) number formats",
            _cell(cells, en, location, rows, column), expected="one format; pass --number-format vi or en")
    if vi.any():
        return "vi"
    if en.any():
        return "en"
    if amb.any():
        raise AmbiguousNumberFormatError(
            f"cannot tell whether {s[amb].iloc[0]!r} is thousands or decimals (the two readings differ)",
            _cell(cells, amb, location, rows, column), expected="--number-format vi or en")
    return None


def check_number_format(cells: pd.Series, fmt: str, location: Location | None = None,
                        rows: pd.Series | None = None, column: str | None = None) -> None:
    """Refuse a file whose numbers contradict the format ``fmt`` (vi | en) it is read in, naming the evidence
    and the option to set: numbers valid only in the other format and none valid only in ``fmt`` (``88,76``
    cannot be English), or at least :data:`GROUPING_EVIDENCE` numbers with separators that all have exactly
    three digits after each (``123.456`` in a file read as English reads like Vietnamese grouping)."""
    head = clean_tokens(cells.iloc[:_HEAD])
    if len(cells) > _HEAD and _only(head, fmt).any():
        return  # a number valid only in ``fmt`` near the top: the file is consistent with it (the common case)
    s = clean_tokens(cells) if len(cells) > _HEAD else head  # (a short file's head is all of it)
    vi, en, _ = _evidence(s)
    own, other = (vi, en) if fmt == "vi" else (en, vi)
    alt = "en" if fmt == "vi" else "vi"
    hint = (f"numbers in {FORMAT_NAMES[fmt]} format; if the file is {FORMAT_NAMES[alt].split()[0]}, set "
            f"--number-format {alt} (or number_format = \"{alt}\" in the manifest)")
    if other.any() and not own.any():
        raise AmbiguousNumberFormatError(
            f"{s[other].iloc[0]!r} cannot be a number in {FORMAT_NAMES[fmt]} format (the file is read as {fmt})",
            _cell(cells, other, location, rows, column), expected=hint)
    separated = s.str.contains(r"[.,]", regex=True).fillna(False) & ~s.str.match(_TYPED).fillna(False)
    grouped = s.str.match(_GROUPED[alt]).fillna(False)
    if not own.any() and grouped.sum() >= GROUPING_EVIDENCE and not (separated & ~grouped).any():
        raise AmbiguousNumberFormatError(
            f"every number with a separator has exactly three digits after it ({int(grouped.sum())} such as "
            f"{s[grouped].iloc[0]!r}), which reads as {FORMAT_NAMES[alt].split()[0]} thousands grouping, not "
            f"{FORMAT_NAMES[fmt].split()[0]} decimals", _cell(cells, grouped, location, rows, column), expected=hint)


def resolve_number_format(cells: pd.Series, fmt: str, location: Location | None = None,
                          rows: pd.Series | None = None, column: str | None = None,
                          default: str = "vi") -> str:
    """The format (vi | en) to read ``cells`` in: ``auto`` decided by :func:`detect_number_format` (``default``
    when plain integers decide nothing), an explicit format checked by :func:`check_number_format`."""
    if fmt not in NUMBER_FORMATS:
        raise InputError("unknown number format", location, expected=" | ".join(NUMBER_FORMATS), found=fmt)
    if fmt == "auto":
        return detect_number_format(cells, location, rows, column) or default
    check_number_format(cells, fmt, location, rows, column)
    return fmt


def parse_numbers(cells: pd.Series, fmt: str = "vi") -> tuple[pd.Series, pd.Series]:
    """Parse strings to floats in format ``fmt`` (``vi`` or ``en``), vectorised.

    Returns ``(values, bad)``: ``values`` is NaN for blank cells, nil dashes and bad cells; ``bad`` marks the
    cells that are neither blank, a nil dash nor a finite number of that format (``NaN``/``inf`` text is bad).
    """
    s = clean_tokens(cells)
    blank = (s.eq("") | s.isin(NIL_TOKENS)).to_numpy(dtype=bool)
    values, ok = parse_tokens(s, fmt)
    ok &= ~blank
    values[~ok] = np.nan
    return pd.Series(values, index=cells.index, dtype=float), pd.Series(~blank & ~ok, index=cells.index)


def to_numbers(df: pd.DataFrame, columns: list[str], fmt: str, path: Path | str | None = None,
               sheet: str | None = None, strict: bool = True) -> pd.DataFrame:
    """Parse ``columns`` of a string table (a copy is returned). ``fmt`` may be ``auto``; an explicit format
    the cells contradict is refused (:func:`resolve_number_format`).

    With ``strict``, the first non-numeric cell raises :class:`NonNumericError` with its row and column.
    """
    loc = Location.of(path, sheet=sheet)
    stacked = pd.concat([df[c] for c in columns], ignore_index=True) if columns else pd.Series([], dtype=str)
    try:  # rows = positions in ``stacked``, so that an error names the cell's row and column
        fmt = resolve_number_format(stacked, fmt, loc, pd.Series(np.arange(len(stacked))))
    except AmbiguousNumberFormatError as e:
        i = e.location.row if e.location else None
        row = None if i is None or ROW not in df else int(df[ROW].iloc[i % len(df)])
        column = None if i is None else columns[i // len(df)]
        raise type(e)(e.message, Location(loc.file, loc.sheet, row, column), expected=e.expected) from None
    out = df.copy()
    for c in columns:
        values, bad = parse_numbers(df[c], fmt)
        if strict and bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            row = int(df[ROW].iloc[i]) if ROW in df else None
            raise NonNumericError("not a number", Location(loc.file, loc.sheet, row, c),
                                  expected=f"a finite number in {FORMAT_NAMES[fmt]} format", found=df[c].iloc[i])
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
