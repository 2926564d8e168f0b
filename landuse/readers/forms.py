"""Official inventory forms: Biểu 03/TKKK (area by land type × administrative unit) into the long table.

The 03/TKKK sheet has land types down (STT, Loại đất, **Mã**) and administrative units across (a total
column, then one column per xã/phường), under a title block and a header of one or more rows (a merged group
header such as "Diện tích theo đơn vị hành chính" above the unit names, often a numbering row "(1) (2) …").

:func:`read_03tkkk` finds the header row by its ``Mã`` cell, takes each unit's name from the lowest header
cell of its column that is not merged across columns and not a column number, and reads every row with a
land code into ``unit, year, code, area_ha`` (ha; a blank cell is missing, NaN). Problems raise
:class:`~landuse.errors.InputError` subclasses naming file, sheet, row and column (with the cell address):
no ``Mã`` header, a unit column without a name, a unit name merged over several columns, a merged cell in
the data, a row with numbers but no code, an unknown code, a cell that is not a number.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.errors import (
    AmbiguousNumberFormatError,
    ConfigError,
    EmptyFileError,
    InputError,
    Location,
    MissingColumnError,
    NonNumericError,
    UnknownCodeError,
)
from landuse.readers.tables import (
    FORMAT_NAMES,
    ROW,
    VALUE,
    _cell_to_str,
    check_formulas_cached,
    decode_text,
    parse_numbers,
    read_long,
    resolve_number_format,
    sniff_delimiter,
    validate_long,
)

LAYOUT_LONG = "long"
LAYOUT_03TKKK = "03/TKKK"
LAYOUTS = (LAYOUT_LONG, LAYOUT_03TKKK)
_CODE_HEADERS = {"mã", "mã đất", "mã loại đất", "ma"}
_NUMBERING = re.compile(r"^\(?\d+\)?(\s*=.*)?$")
_NUMBER = re.compile(r"^[+-]?\d[\d.,\s]*(e[+-]?\d+)?$")
_YEAR = re.compile(r"(?:năm|31/12/|31-12-)\s*(\d{4})", re.IGNORECASE)


@dataclass
class Grid:
    """A sheet as text cells (absolute 0-based positions) plus its merged ranges ``(r0, c0, r1, c1)``."""

    cells: np.ndarray
    path: Path
    sheet: str | None = None
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)

    def loc(self, r: int | None = None, c: int | None = None, label: str | None = None) -> Location:
        col = None
        if c is not None:
            col = cell_name(r, c) if r is not None else column_letter(c)
            col = f"{col} ({label})" if label else col
        return Location.of(self.path, sheet=self.sheet, row=None if r is None else r + 1, column=col)

    def merged_at(self, r: int, c: int) -> tuple[int, int, int, int] | None:
        for m in self.merged:
            if m[0] <= r <= m[2] and m[1] <= c <= m[3]:
                return m
        return None


def column_letter(c: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 26 -> AA)."""
    s = ""
    c += 1
    while c:
        c, rem = divmod(c - 1, 26)
        s = chr(65 + rem) + s
    return s


def cell_name(r: int, c: int) -> str:
    return f"{column_letter(c)}{r + 1}"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", str(text)).strip().rstrip(":.").strip().casefold()


def read_grid(path: Path | str, sheet: str | int | None = None) -> Grid:
    """Read a sheet (XLSX/XLSM/XLS/ODS via calamine, with merged ranges) or a CSV file (comma, semicolon or tab)
    into a :class:`Grid`."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        import python_calamine

        try:
            wb = python_calamine.CalamineWorkbook.from_path(str(path))
            names = wb.sheet_names
            name = names[sheet] if isinstance(sheet, int) else (sheet or names[0])
            if name not in names:
                raise InputError("sheet not found", Location.of(path, sheet=str(name)),
                                 expected=", ".join(names))
            ws = wb.get_sheet_by_name(name)
            rows = ws.to_python(skip_empty_area=False)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (ws.merged_cell_ranges or [])]
        except FileNotFoundError:
            raise InputError("file not found", Location.of(path)) from None
        except InputError:
            raise
        except Exception as e:  # noqa: BLE001 - calamine raises its own types for corrupt files
            raise InputError(f"cannot read workbook ({e})", Location.of(path)) from None
        sheet_name: str | None = str(name)
        check_formulas_cached(path, sheet_name)
    else:
        text = decode_text(path)
        rows = list(csv.reader(text.splitlines(), delimiter=sniff_delimiter(text)))
        merged, sheet_name = [], None
    width = max((len(r) for r in rows), default=0)
    cells = np.full((len(rows), width), "", dtype=object)
    for i, r in enumerate(rows):
        cells[i, : len(r)] = [_cell_to_str(v) for v in r]
    if not cells.size or not (cells != "").any():
        raise EmptyFileError("the sheet is empty", Location.of(path, sheet=sheet_name))
    return Grid(cells, path, sheet_name, merged)


def _header_row(g: Grid) -> tuple[int, int]:
    norm = np.vectorize(_norm, otypes=[object])(g.cells)
    hits = np.argwhere(np.isin(norm, list(_CODE_HEADERS)))
    if not len(hits):
        raise MissingColumnError("no header row with a 'Mã' (land code) column", g.loc(),
                                 expected="a 03/TKKK sheet: STT | Loại đất | Mã | Tổng | one column per unit")
    r, c = hits[0]
    return int(r), int(c)


def _is_numbering(cells: np.ndarray) -> bool:
    """A row of column numbers: "(1) (2) (3=4+5) …", or plain integers counting up by one."""
    filled = [str(x).strip() for x in cells if str(x).strip()]
    if not filled:
        return False
    if all(_NUMBERING.match(x) and x.startswith("(") for x in filled):
        return True
    if len(filled) > 1 and all(x.isdigit() for x in filled):
        return all(int(b) - int(a) == 1 for a, b in zip(filled, filled[1:], strict=False))
    return False


def _first_data_row(g: Grid, h: int, m: int) -> int:
    """The first row under the header block: header rows continue while the code cell is empty (or a column
    number) and the row holds no number other than column numbers."""
    for r in range(h + 1, g.cells.shape[0]):
        row = g.cells[r, m:]
        code = str(g.cells[r, m])
        if _is_numbering(row):
            continue
        if code and not _NUMBERING.match(code):
            return r
        if any(_NUMBER.match(str(x)) for x in row[1:]):
            return r
    raise EmptyFileError("no land-type row under the header", g.loc(h, m), expected="rows with a land code")


def _name_row(g: Grid, h: int, d: int, m: int) -> int:
    """The lowest header row that is not a row of column numbers: where unit names are."""
    for r in range(d - 1, h, -1):
        if not _is_numbering(g.cells[r, m:]):
            return r
    return h


def _column_label(g: Grid, h: int, n: int, c: int) -> tuple[str | None, tuple | None]:
    """The name of column ``c`` in header rows ``h..n`` (bottom-up; a merged cell's text is its top-left
    cell's), and the merged range when the name cell is merged across columns."""
    for r in range(n, h - 1, -1):
        mg = g.merged_at(r, c)
        text = str(g.cells[mg[0], mg[1]] if mg else g.cells[r, c])
        if not text or _NUMBERING.match(text):
            continue
        if mg and mg[1] != mg[3]:  # spans columns: the unit-name row -> bad merge; above -> a group header
            return (None, (mg, text)) if r == n else (None, None)
        return text, None
    return None, None


def _unit_columns(g: Grid, h: int, d: int, m: int) -> tuple[list[int], list[str], int | None]:
    """Unit columns right of the code column, their names, and the total column (or None)."""
    cols, names, total = [], [], None
    n = _name_row(g, h, d, m)
    for c in range(m + 1, g.cells.shape[1]):
        if not (g.cells[d:, c] != "").any():
            continue
        label, bad_merge = _column_label(g, h, n, c)
        if bad_merge:
            mg, text = bad_merge
            raise InputError(f"merged header cell {cell_name(mg[0], mg[1])}:{cell_name(mg[2], mg[3])} ({text!r}) "
                             f"names {mg[3] - mg[1] + 1} unit columns", g.loc(n, c),
                             expected="one unit name per column (unmerge the cells)")
        if label is None:
            raise InputError("unit column without a name", g.loc(n, c),
                             expected="the name of the administrative unit in the header")
        key = _norm(label)
        if key.startswith(("tổng", "cộng", "toàn tỉnh")):
            total = c
            continue
        cols.append(c)
        names.append(" ".join(label.split()))
    if not cols:
        raise MissingColumnError("no administrative-unit columns right of the 'Mã' column", g.loc(h, m),
                                 expected="one column per xã/phường")
    dup = pd.Series(names).duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"unit {names[i]!r} has two columns", g.loc(n, cols[i]), expected="one column per unit")
    return cols, names, total


def _find_year(g: Grid, h: int) -> int | None:
    for text in g.cells[:h].ravel():
        if text and (m := _YEAR.search(str(text))):
            return int(m.group(1))
    return None


def read_03tkkk(path: Path | str, classification=None, number_format: str = "auto", sheet: str | int | None = None,
                year: int | None = None) -> pd.DataFrame:
    """Read a Biểu 03/TKKK sheet into the long table ``unit, year, code, area_ha, source, page, line, cell``
    (+ :data:`~landuse.readers.tables.ROW`, the sheet row). Areas in ha; a blank cell is missing (NaN).

    ``year``: the inventory year; default: found in the title rows ("Năm 2024", "31/12/2024"). The total
    column ("Tổng …") is not read as a unit. Rows without a code and without numbers ("Trong đó:") are skipped.
    """
    g = read_grid(path, sheet)
    h, m = _header_row(g)
    d = _first_data_row(g, h, m)
    cols, names, _total = _unit_columns(g, h, d, m)
    year = year or _find_year(g, h)
    if year is None:
        raise ConfigError("the inventory year is not in the sheet's title", g.loc(h),
                          expected='"Năm 2024" in the title, or year = 2024 under [files.inventory]')
    body = g.cells[d:]
    codes = np.char.upper(np.array([str(x).strip() for x in body[:, m]], dtype=str))
    values = body[:, cols]
    has_numbers = (values != "").any(axis=1)
    rows = np.arange(d, g.cells.shape[0])
    _check_merged(g, d, m, dict(zip(cols, names, strict=True)), has_numbers)
    no_code = (codes == "") & has_numbers
    if no_code.any():
        r = int(rows[no_code][0])
        raise InputError("row with areas but no land code", g.loc(r, m, "Mã"), expected="a land code such as LUC")
    keep = codes != ""
    if classification is not None:
        _check_codes(g, codes[keep], rows[keep], m, classification)
    n_r, n_u = int(keep.sum()), len(cols)
    long = pd.DataFrame({
        "unit": np.tile(np.array(names, dtype=object), n_r),
        "year": int(year),
        "code": np.repeat(codes[keep], n_u),
        "printed": values[keep].ravel(),
        "source": LAYOUT_03TKKK,
        "page": "",
        "line": "",
        "cell": [cell_name(int(r), c) for r in rows[keep] for c in cols],
        ROW: np.repeat(rows[keep] + 1, n_u),
    })
    long[VALUE], fmt = _parse(g, long, number_format)
    if _total is not None:
        _check_total(g, _total, long, rows[keep], codes[keep], fmt)
    long = long.drop(columns="printed")
    validate_long(long, g.path, classification, sheet=g.sheet)
    return long[["unit", "year", "code", VALUE, "source", "page", "line", "cell", ROW]]


def _check_merged(g: Grid, d: int, m: int, names: dict[int, str], has_numbers: np.ndarray) -> None:
    """Reject a merged range in the data (rows from ``d``) that covers the code column ``m`` or a unit column
    on a row holding areas: its value would stand for several cells. Merges on rows without areas (a
    "Trong đó:" label merged across Loại đất and Mã, a section title) hold no data and are fine."""
    columns = [m, *names]
    for r0, c0, r1, c1 in g.merged:
        if r1 < d:
            continue
        hit = [c for c in columns if c0 <= c <= c1]
        with_data = [r for r in range(max(r0, d), r1 + 1) if has_numbers[r - d]]
        if hit and with_data:
            raise InputError(f"merged cell {cell_name(max(r0, d), c0)}:{cell_name(r1, c1)} in the data",
                             g.loc(with_data[0], hit[0], names.get(hit[0], "Mã")),
                             expected="one value per land type and unit (unmerge the cells)")


def _check_codes(g: Grid, codes: np.ndarray, rows: np.ndarray, m: int, classification) -> None:
    known = set(classification.table.index) | set(classification.aggregates)
    bad = ~np.isin(codes, list(known))
    if bad.any():
        code, r = str(codes[bad][0]), int(rows[bad][0])
        near = difflib.get_close_matches(code, sorted(known), n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise UnknownCodeError(f"unknown land code {code!r} (classification {classification.id}){hint}",
                               g.loc(r, m, "Mã"))


def _parse(g: Grid, long: pd.DataFrame, number_format: str) -> tuple[pd.Series, str]:
    """Areas (ha) of the unit cells by the shared number grammar, and the format they were read in."""
    printed = long["printed"].astype(str)

    def cell(i: int) -> Location:
        return Location.of(g.path, sheet=g.sheet, row=int(long[ROW].iloc[i]),
                           column=f"{long['cell'].iloc[i]} ({long['unit'].iloc[i]})")

    try:  # rows = positions, so that an error names the cell
        fmt = resolve_number_format(printed, number_format, None, pd.Series(np.arange(len(printed))))
    except AmbiguousNumberFormatError as e:
        raise AmbiguousNumberFormatError(e.message, cell(e.location.row), expected=e.expected) from None
    values, bad = parse_numbers(printed, fmt)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        loc = cell(i)
        raise NonNumericError("not a number", loc, expected=f"an area in ha, {FORMAT_NAMES[fmt]} format",
                              found=long["printed"].iloc[i])
    return values, fmt


def _check_total(g: Grid, col: int, long: pd.DataFrame, rows: np.ndarray, codes: np.ndarray, fmt: str) -> None:
    """The form's own total column against the sum of its unit columns, on every row where the total and
    every unit cell are printed (a partly blank row cannot be checked and is left as printed). Allowed gap:
    half a unit of the last printed digit per rounded figure (the parts and the total). Raises
    :class:`InputError` at the first total cell (column ``col``) that differs by more."""
    printed = g.cells[rows, col]
    total, bad = parse_numbers(pd.Series(printed, dtype=object).astype(str), fmt)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise NonNumericError("not a number", g.loc(int(rows[i]), col, "Tổng"),
                              expected=f"an area in ha, {FORMAT_NAMES[fmt]} format", found=printed[i])
    n_units = long["unit"].nunique()
    parts = long[VALUE].to_numpy(dtype=float).reshape(len(rows), n_units)
    complete = ~np.isnan(parts).any(axis=1) & ~np.isnan(total.to_numpy())
    decimals = _decimals(long["printed"], fmt).to_numpy().reshape(len(rows), n_units).max(axis=1)
    decimals = np.maximum(decimals, _decimals(pd.Series(printed, dtype=object).astype(str), fmt).to_numpy())
    tol = 0.5 * 10.0 ** (-decimals) * (n_units + 1) + 1e-9
    gap = np.abs(parts.sum(axis=1) - total.to_numpy())
    off = complete & (gap > tol)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InputError(f"the total column of {codes[i]} ({total.iloc[i]:,.4g} ha) is not the sum of its "
                         f"{n_units} unit columns ({parts[i].sum():,.4g} ha)",
                         g.loc(int(rows[i]), col, "Tổng"),
                         expected=f"a total equal to the sum of the units (±{tol[i]:.4g} ha of rounding)",
                         found=printed[i])


def _decimals(printed: pd.Series, fmt: str) -> pd.Series:
    """Digits after the decimal separator of each printed number (0 for integers and typed numbers)."""
    sep = "," if fmt == "vi" else "."
    s = printed.str.strip()
    after = s.str.extract(rf"\{sep}(\d+)$", expand=False) if sep == "." else s.str.extract(r",(\d+)$", expand=False)
    return after.str.len().fillna(0).astype(int)


def read_inventory(path: Path, spec: dict, classification, number_format: str,
                   default_unit: str | None = None, manifest: Path | None = None) -> pd.DataFrame:
    """Read a dataset's inventory in the layout its manifest entry names (``layout = "long"`` (default) or
    ``"03/TKKK"``, with optional ``sheet`` and ``year``)."""
    layout = spec.get("layout", LAYOUT_LONG)
    if layout == LAYOUT_LONG:
        return read_long(path, classification, number_format, sheet=spec.get("sheet"), default_unit=default_unit)
    if layout == LAYOUT_03TKKK:
        return read_03tkkk(path, classification, number_format, spec.get("sheet"), spec.get("year"))
    raise ConfigError("unknown inventory layout", Location.of(manifest, column="files.inventory.layout"),
                      expected=" | ".join(LAYOUTS), found=layout)
