"""From–to matrices (one per interval) in three layouts, with any category labels and any area unit.

* **wide** – the first column holds the from-category, one column per to-category; a ``total`` row and/or
  column (``total``, ``tổng``, ``tổng cộng``, ``cộng``) is allowed and checked; a ``giảm khác`` column and a
  ``tăng khác`` row are allowed (area leaving / entering the extent without conversion).
* **long** – columns ``from``, ``to`` and one area column (the first row names ``from`` or ``to`` and an area
  column), whose name gives the unit: ``area_ha``/``ha``,
  ``km2``/``area_km2``, ``pixels``/``count``, or ``area`` (unit from ``unit``). A pair not listed has no area
  (0); a listed pair with a blank area is refused.
* **05/TKKK** – the sheet as the inventory software exports it: land codes down a ``Mã`` column and across a
  header row, the start area (``Năm …``) column, a ``Giảm khác`` column, a ``Tăng khác`` row and an end-area row
  (``Diện tích cuối kỳ`` / ``Tổng``). Codes must be in the classification; a code whose parts are also listed
  (a group row such as NNP) and of-which rows are left out.

Rows are the category at the start, columns at the end (``C[i, j]`` = area of i that became j). A blank cell of
a wide or 05/TKKK matrix is read as 0 only when a printed total row or column checks it (a blank is never
silently 0); without totals it is refused. Every problem raises :class:`~landuse.errors.InputError` naming the
file, sheet, row and column (spreadsheet letter and label). :func:`read_matrices` also checks that consecutive
matrices have the same categories and that the end areas of one equal the start areas of the next within
rounding.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.errors import (
    DuplicateKeyError,
    InputError,
    Location,
    MissingColumnError,
    NegativeAreaError,
    NonNumericError,
    UnknownCodeError,
)
from landuse.intervals import half_unit
from landuse.readers.forms import Grid, column_letter, read_grid
from landuse.readers.tables import NUMBER_FORMATS, detect_number_format, parse_numbers

OF_WHICH = "of-which"  # the classification file's relation of a "Trong đó" row (landuse.classification.OF_WHICH)
WIDE, LONG, TKKK05 = "wide", "long", "05/TKKK"
LAYOUTS = ("auto", WIDE, LONG, TKKK05)
DECREASE, INCREASE, TOTAL = "giam_khac", "tang_khac", "total"
_TOTAL = {"total", "tổng", "tổng cộng", "cộng", "sum", "diện tích cuối kỳ", "cuối kỳ", "tổng diện tích"}
_DECREASE = {"giảm khác", "giam khac", "giam_khac", "other decrease"}
_INCREASE = {"tăng khác", "tang khac", "tang_khac", "other increase"}
_FROM = {"from", "code_from", "from_code", "từ", "tu"}
_TO = {"to", "code_to", "to_code", "sang"}
_AREA_UNITS = {"area_ha": "ha", "ha": "ha", "km2": "km²", "km²": "km²", "area_km2": "km²", "pixels": "pixels",
               "pixel": "pixels", "count": "pixels", "qtpixel": "pixels", "area": None}
_CODE_HEADERS = {"mã", "mã đất", "mã loại đất"}
_START_HEADERS = ("năm", "diện tích đầu kỳ", "đầu kỳ", "tổng diện tích")


def _norm(text: object) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).strip().rstrip(":.").casefold().split())


@dataclass
class MatrixFile:
    """One from–to matrix as read. ``core``: square (index = from, columns = to, same labels, same order), in
    the file's ``unit``; ``decrease`` (giảm khác) by from-category and ``increase`` (tăng khác) by
    to-category, 0 where absent. ``start_half`` / ``end_half``: the rounding half-width of each start / end
    size (the coarser of its printed total's and its non-zero cells' half last digit).
    ``row_of`` / ``col_of``: where each category's line / column is in the file (for messages)."""

    core: pd.DataFrame
    decrease: pd.Series
    increase: pd.Series
    path: str
    layout: str
    unit: str
    sheet: str | None = None
    start_half: np.ndarray = field(default_factory=lambda: np.zeros(0))
    end_half: np.ndarray = field(default_factory=lambda: np.zeros(0))
    row_of: dict[str, int] = field(default_factory=dict)
    col_of: dict[str, str] = field(default_factory=dict)

    @property
    def categories(self) -> list[str]:
        return list(self.core.index)

    @property
    def start(self) -> pd.Series:
        """Size of each category at the start (row sum incl. giảm khác), in :attr:`unit`."""
        return self.core.sum(axis=1) + self.decrease

    @property
    def end(self) -> pd.Series:
        """Size of each category at the end (column sum incl. tăng khác), in :attr:`unit`."""
        return self.core.sum(axis=0) + self.increase

    def matrix(self) -> pd.DataFrame:
        """The matrix in the layout of :mod:`landuse.transitions.change` (``giam_khac`` column, ``tang_khac``
        row, ``total`` row and column)."""
        m = self.core.copy()
        m[DECREASE] = self.decrease
        m.loc[INCREASE] = pd.concat([self.increase, pd.Series({DECREASE: 0.0})])
        m[TOTAL] = m.sum(axis=1)
        m.loc[TOTAL] = m.sum(axis=0)
        m.index.name = "from"
        return m

    def where(self, category: str, axis: str) -> Location:
        """Location of ``category``'s row (``axis="row"``) or column in the file."""
        if axis == "row":
            return Location.of(self.path, sheet=self.sheet, row=self.row_of.get(category),
                               column=self.col_of.get(TOTAL))
        return Location.of(self.path, sheet=self.sheet, row=self.row_of.get(TOTAL),
                           column=self.col_of.get(category))


# ---- grid layouts (wide, 05/TKKK) --------------------------------------------------------------------------
def _numbers(g: Grid, rows: np.ndarray, cols: np.ndarray, labels: dict[int, str], number_format: str) -> np.ndarray:
    """Parse the block ``rows × cols`` of ``g``: a float array, NaN for blank cells; refuses non-numbers and
    negative numbers with their cell."""
    block = g.cells[np.ix_(rows, cols)]
    flat = pd.Series(block.ravel(), dtype=object).astype(str)
    fmt = number_format
    if fmt == "auto":
        r_of = pd.Series(np.repeat(rows, len(cols)) + 1)
        fmt = detect_number_format(flat, Location.of(g.path, sheet=g.sheet), r_of, None) or "vi"
    values, bad = parse_numbers(flat, fmt)
    v = values.to_numpy().reshape(block.shape)
    b = bad.to_numpy().reshape(block.shape)

    def loc(mask: np.ndarray) -> Location:
        i, j = np.argwhere(mask)[0]
        return g.loc(int(rows[i]), int(cols[j]), labels.get(int(cols[j])))

    if b.any():
        i, j = np.argwhere(b)[0]
        raise NonNumericError("not a number", loc(b), expected="an area (a number ≥ 0) or a blank",
                              found=block[i, j])
    neg = v < 0
    if neg.any():
        raise NegativeAreaError("negative area", loc(neg), expected="an area ≥ 0", found=float(v[neg][0]))
    return v


def _check_total(printed: np.ndarray, cells: np.ndarray, g: Grid, rows: np.ndarray, cols: np.ndarray,
                 axis: int, labels: dict[int, str], what: str) -> None:
    """Refuse a printed total (``printed``: one per row when ``axis=1``, per column when ``axis=0``) that
    differs from the sum of its cells by more than rounding: one unit of the coarsest last printed digit among
    the total and its non-zero cells (1 for whole numbers, 0.01 for two decimals). A blank total is not
    checked."""
    s = np.nansum(cells, axis=axis)
    tol = 2 * np.maximum(half_unit(np.nan_to_num(printed)), _coarsest(cells, axis)) + 1e-9
    bad = ~np.isnan(printed) & (np.abs(printed - s) > tol)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        r, c = (rows[k], cols[0]) if axis == 1 else (rows[0], cols[k])
        raise InputError(f"{what} does not match the sum of its cells", g.loc(int(r), int(c), labels.get(int(c))),
                         expected=f"{s[k]:g} (within ±{tol[k]:.3g} for rounding)", found=float(printed[k]))


def _build(g: Grid, layout: str, unit: str, labels_r: list[str], rows: np.ndarray, labels_c: list[str],
           cols: np.ndarray, dec_col: int | None, inc_row: int | None, tot_col: int | None, tot_row: int | None,
           number_format: str) -> MatrixFile:
    """A :class:`MatrixFile` from the positions of the category rows/columns and the special lines."""
    _unique(labels_r, rows, g, "row")
    _unique(labels_c, cols, g, "column")
    if set(labels_r) != set(labels_c):
        only_r = [x for x in labels_r if x not in set(labels_c)]
        if only_r:
            raise InputError(f"category {only_r[0]!r} has a row but no column",
                             g.loc(int(rows[labels_r.index(only_r[0])])),
                             expected="the same categories down and across (a square matrix)")
        only_c = [x for x in labels_c if x not in set(labels_r)][0]
        raise InputError(f"category {only_c!r} has a column but no row",
                         g.loc(None, int(cols[labels_c.index(only_c)])),
                         expected="the same categories down and across (a square matrix)")
    head = {int(c): lab for c, lab in zip(cols, labels_c, strict=True)}
    extra_c = [c for c in (dec_col, tot_col) if c is not None]
    head |= {c: lab for c, lab in zip(extra_c, [x for x, c in ((DECREASE, dec_col), (TOTAL, tot_col))
                                                  if c is not None], strict=True)}
    all_rows = np.array(list(rows) + [r for r in (inc_row, tot_row) if r is not None])
    all_cols = np.array(list(cols) + extra_c)
    v = _numbers(g, all_rows, all_cols, head, number_format)
    n, m = len(rows), len(cols)
    has_total = tot_col is not None or tot_row is not None
    cells = v[:, :m]
    blank = np.zeros(v.shape, dtype=bool)
    blank[:n, : m + (dec_col is not None)] = np.isnan(v[:n, : m + (dec_col is not None)])
    if inc_row is not None:
        blank[n, :m] = np.isnan(v[n, :m])  # the tăng khác row (its giảm khác cell is empty by design)
    if not has_total and blank.any():
        i, j = np.argwhere(blank)[0]
        raise InputError("blank cell", g.loc(int(all_rows[i]), int(all_cols[j]), head.get(int(all_cols[j]))),
                         expected="a number (write 0 for no area; a blank is read as 0 only when a total row or "
                                  "column is printed to check it)")
    dec = v[:n, m] if dec_col is not None else np.zeros(n)
    k_inc = n if inc_row is not None else None
    inc = v[k_inc, :m] if k_inc is not None else np.zeros(m)
    if tot_col is not None:
        printed = v[: n + (inc_row is not None), -1]
        parts = np.column_stack([cells[: n + (inc_row is not None)], np.append(dec, np.nan)[: len(printed)]]) \
            if dec_col is not None else cells[: n + (inc_row is not None)]
        _check_total(printed, parts, g, all_rows, np.array([tot_col]), 1, head, "the row's total")
    if tot_row is not None:
        printed = v[-1, : m + (dec_col is not None)]
        _check_total(printed, v[: n + (inc_row is not None), : m + (dec_col is not None)], g, np.array([tot_row]),
                     all_cols[: len(printed)], 0, head, "the column's total")
    cells_n = np.nan_to_num(cells[:n])
    order = [labels_c.index(lab) for lab in labels_r]
    core = pd.DataFrame(cells_n[:, order], index=pd.Index(labels_r, name="from"), columns=labels_r)
    dec_s = pd.Series(np.nan_to_num(dec), index=labels_r)
    inc_s = pd.Series(np.nan_to_num(inc)[order], index=labels_r)
    start_half = _halves(v[:n, -1] if tot_col is not None else None, np.column_stack([cells_n, np.nan_to_num(dec)]), 1)
    end_cells = np.vstack([cells_n, np.nan_to_num(inc)[None, :]])[:, order]
    end_half = _halves(v[-1, :m][order] if tot_row is not None else None, end_cells, 0)
    col_of = {lab: f"{column_letter(int(c))} ({lab})" for lab, c in zip(labels_c, cols, strict=True)}
    if tot_col is not None:
        col_of[TOTAL] = f"{column_letter(tot_col)} ({TOTAL})"
    row_of = {lab: int(r) + 1 for lab, r in zip(labels_r, rows, strict=True)}
    if tot_row is not None:
        row_of[TOTAL] = tot_row + 1
    return MatrixFile(core, dec_s, inc_s, str(g.path), layout, unit, g.sheet, start_half, end_half, row_of, col_of)


def _coarsest(cells: np.ndarray, axis: int) -> np.ndarray:
    """Half the coarsest last printed digit among the non-zero cells along ``axis`` (0 when all are 0)."""
    c = np.nan_to_num(cells)
    return np.where(c > 0, half_unit(c), 0.0).max(axis=axis, initial=0.0)


def _halves(printed: np.ndarray | None, cells: np.ndarray, axis: int) -> np.ndarray:
    """Rounding half-unit of each size: the coarser of its printed total's and its non-zero cells'."""
    from_cells = _coarsest(cells, axis)
    if printed is None:
        return from_cells
    return np.maximum(from_cells, np.where(np.isnan(printed), 0.0, half_unit(np.nan_to_num(printed))))


def _unique(labels: list[str], pos: np.ndarray, g: Grid, axis: str) -> None:
    seen: dict[str, int] = {}
    for lab, p in zip(labels, pos, strict=True):
        if lab in seen:
            loc = g.loc(int(p)) if axis == "row" else g.loc(None, int(p))
            raise DuplicateKeyError(f"category {lab!r} appears twice ({axis}s)", loc)
        seen[lab] = int(p)


def _read_wide(g: Grid, unit: str, number_format: str) -> MatrixFile:
    filled = np.flatnonzero((g.cells != "").any(axis=1))
    h = int(filled[0])
    c0 = int(np.flatnonzero((g.cells[h:] != "").any(axis=0))[0])  # the label column (its header may be blank)
    head = [(c, str(g.cells[h, c]).strip()) for c in range(c0 + 1, g.cells.shape[1]) if str(g.cells[h, c]).strip()]
    body = [(r, str(g.cells[r, c0]).strip()) for r in range(h + 1, g.cells.shape[0]) if (g.cells[r] != "").any()]
    for r, lab in body:
        if not lab:
            raise InputError("a row with numbers but no category", g.loc(r, c0), expected="a category label")
    kinds_c = {c: _kind(lab) for c, lab in head}
    kinds_r = {r: _kind(lab) for r, lab in body}
    dec_col = _one([c for c, k in kinds_c.items() if k == DECREASE], g, "column", DECREASE)
    tot_col = _one([c for c, k in kinds_c.items() if k == TOTAL], g, "column", TOTAL)
    inc_row = _one([r for r, k in kinds_r.items() if k == INCREASE], g, "row", INCREASE)
    tot_row = _one([r for r, k in kinds_r.items() if k == TOTAL], g, "row", TOTAL)
    cats_c = [(c, lab) for c, lab in head if kinds_c[c] is None]
    cats_r = [(r, lab) for r, lab in body if kinds_r[r] is None]
    if not cats_c or not cats_r:
        raise InputError("no categories", g.loc(h), expected="a header row of to-categories and one row per "
                                                              "from-category")
    return _build(g, WIDE, unit, [lab for _, lab in cats_r], np.array([r for r, _ in cats_r]),
                  [lab for _, lab in cats_c], np.array([c for c, _ in cats_c]), dec_col, inc_row, tot_col, tot_row,
                  number_format)


def _kind(label: str) -> str | None:
    n = _norm(label)
    if n in _DECREASE:
        return DECREASE
    if n in _INCREASE:
        return INCREASE
    if n in _TOTAL or n.startswith("diện tích cuối kỳ") or n.startswith("tổng cộng"):
        return TOTAL
    return None


def _one(found: list[int], g: Grid, axis: str, what: str) -> int | None:
    if len(found) > 1:
        loc = g.loc(found[1]) if axis == "row" else g.loc(None, found[1])
        raise InputError(f"two {what} {axis}s", loc, expected=f"at most one {what} {axis}")
    return found[0] if found else None


def _read_05tkkk(g: Grid, unit: str, number_format: str, classification) -> MatrixFile:
    norm = np.vectorize(_norm, otypes=[object])(g.cells)
    hits = np.argwhere(np.isin(norm, list(_CODE_HEADERS)))
    h, cm = (int(x) for x in hits[0])
    cls = classification
    col = g.cells[:, cm]
    rows = [r for r in range(h + 1, g.cells.shape[0]) if str(col[r]).strip().upper() in cls]
    codes = [str(col[r]).strip().upper() for r in rows]
    if not rows:
        raise UnknownCodeError("no land code under the 'Mã' header", g.loc(h, cm),
                               expected=f"codes of classification {cls.id}")
    # the header row across: the row (between the Mã header and the first data row) with most codes
    across = [(r, [c for c in range(cm + 1, g.cells.shape[1]) if str(g.cells[r, c]).strip().upper() in set(codes)])
              for r in range(h, rows[0])]
    hr, ccols = max(across, key=lambda x: len(x[1]))
    if not ccols:
        raise InputError("no land codes across the header", g.loc(h), expected="one column per land code")
    labels_c = [str(g.cells[hr, c]).strip().upper() for c in ccols]
    keep = [x for x in dict.fromkeys(codes) if cls.relation(x) != OF_WHICH]  # of-which rows are no land types
    groups = {a for x in keep for a in cls.ancestors(x) if a != x}
    keep_r = [(r, x) for r, x in zip(rows, codes, strict=True) if x in keep and x not in groups]
    keep_c = [(c, x) for c, x in zip(ccols, labels_c, strict=True) if x in keep and x not in groups]
    header_text = {c: " ".join(_norm(g.cells[r, c]) for r in range(h, hr + 1)) for c in range(g.cells.shape[1])}
    dec_col = _one([c for c, t in header_text.items() if "giảm khác" in t], g, "column", DECREASE)
    tot_col = next((c for c in range(cm + 1, min(ccols)) if header_text[c].startswith(_START_HEADERS)), None)
    labels = {r: " ".join(_norm(x) for x in g.cells[r, : cm + 1]) for r in range(rows[-1] + 1, g.cells.shape[0])}
    inc_row = _one([r for r, t in labels.items() if "tăng khác" in t], g, "row", INCREASE)
    tot_row = _one([r for r, t in labels.items() if "cuối kỳ" in t or t.split(" ")[-1:] == ["tổng"]
                    or "tổng cộng" in t], g, "row", TOTAL)
    return _build(g, TKKK05, unit, [x for _, x in keep_r], np.array([r for r, _ in keep_r]),
                  [x for _, x in keep_c], np.array([c for c, _ in keep_c]), dec_col, inc_row, tot_col, tot_row,
                  number_format)


# ---- long layout ---------------------------------------------------------------------------------------------
def _read_long(g: Grid, unit: str, number_format: str) -> MatrixFile:
    filled = np.flatnonzero((g.cells != "").any(axis=1))
    h = int(filled[0])
    names = [_norm(x) for x in g.cells[h]]
    f = next((i for i, x in enumerate(names) if x in _FROM), None)
    t = next((i for i, x in enumerate(names) if x in _TO), None)
    a = next((i for i, x in enumerate(names) if x in _AREA_UNITS), None)
    for idx, what in ((f, "from"), (t, "to"), (a, "area")):
        if idx is None:
            raise MissingColumnError(f"missing required column {what!r}", g.loc(h),
                                     expected="columns from, to and an area column (area_ha, km2, pixels or area)")
    unit = _AREA_UNITS[names[a]] or unit
    rows = np.array([r for r in range(h + 1, g.cells.shape[0]) if (g.cells[r] != "").any()])
    head = {a: str(g.cells[h, a]).strip()}
    v = _numbers(g, rows, np.array([a]), head, number_format)[:, 0]
    if np.isnan(v).any():
        i = int(np.flatnonzero(np.isnan(v))[0])
        raise InputError("missing area", g.loc(int(rows[i]), a, head[a]), expected="an area ≥ 0 (0 for none)")
    fr = [str(x).strip() for x in g.cells[rows, f]]
    to = [str(x).strip() for x in g.cells[rows, t]]
    for lab, col in ((fr, f), (to, t)):
        if "" in lab:
            i = lab.index("")
            raise InputError("empty category", g.loc(int(rows[i]), col, names[col]), expected="a category label")
    df = pd.DataFrame({"from": fr, "to": to, "area": v, "row": rows + 1})
    df["kf"], df["kt"] = df["from"].map(_kind), df["to"].map(_kind)
    dup = df.duplicated(["from", "to"], keep="first")
    if dup.any():
        r = df[dup].iloc[0]
        raise DuplicateKeyError(f"the pair ({r['from']!r}, {r['to']!r}) is listed twice", g.loc(int(r["row"]) - 1, f))
    cats = list(dict.fromkeys([x for x, k in zip(df["from"], df["kf"], strict=True) if k is None]
                              + [x for x, k in zip(df["to"], df["kt"], strict=True) if k is None]))
    plain = df[df["kf"].isna() & df["kt"].isna()]
    core = plain.pivot_table(index="from", columns="to", values="area", aggfunc="sum", fill_value=0.0)
    core = core.reindex(index=cats, columns=cats, fill_value=0.0).astype(float)
    core.index.name, core.columns.name = "from", None
    dec = df[df["kt"] == DECREASE].groupby("from")["area"].sum().reindex(cats, fill_value=0.0)
    inc = df[df["kf"] == INCREASE].groupby("to")["area"].sum().reindex(cats, fill_value=0.0)
    c = core.to_numpy()
    row_of = dict(zip(df["from"], df["row"], strict=True))
    row_of.update({k: v for k, v in zip(df["to"], df["row"], strict=True) if k not in row_of})
    return MatrixFile(core, dec, inc, str(g.path), LONG, unit, g.sheet, _coarsest(c, 1), _coarsest(c, 0),
                      {k: int(v) for k, v in row_of.items()}, {})


# ---- entry points ----------------------------------------------------------------------------------------------
def detect_layout(g: Grid) -> str:
    """``05/TKKK`` when a cell reads ``Mã``; ``long`` when the first row names ``from`` and ``to``; else wide."""
    norm = np.vectorize(_norm, otypes=[object])(g.cells)
    if np.isin(norm, list(_CODE_HEADERS)).any():
        return TKKK05
    first = norm[int(np.flatnonzero((g.cells != "").any(axis=1))[0])]
    if set(first) & (_FROM | _TO) and set(first) & set(_AREA_UNITS):
        return LONG
    return WIDE


def read_matrix(path: Path | str, *, layout: str = "auto", unit: str = "ha", number_format: str = "auto",
                sheet: str | int | None = None, classification=None) -> MatrixFile:
    """Read one from–to matrix file (CSV or XLSX) in ``layout`` (see the module text; ``auto`` detects it).

    ``unit``: the area unit of a wide or 05/TKKK file (a long file's area column names its own).
    ``classification``: checks the codes of a 05/TKKK sheet (default: the bundled dataset's).
    """
    if layout not in LAYOUTS:
        raise InputError("unknown matrix layout", expected=" | ".join(LAYOUTS), found=layout)
    if number_format not in NUMBER_FORMATS:
        raise InputError("unknown number format", expected=" | ".join(NUMBER_FORMATS), found=number_format)
    g = read_grid(path, sheet)
    layout = detect_layout(g) if layout == "auto" else layout
    if layout == LONG:
        return _read_long(g, unit, number_format)
    if layout == TKKK05:
        if classification is None:
            raise InputError("a 05/TKKK sheet's codes are checked against a classification; none was given",
                             Location.of(path), expected="the classification of the dataset")
        return _read_05tkkk(g, unit, number_format, classification)
    return _read_wide(g, unit, number_format)


def check_sequence(files: Sequence[MatrixFile]) -> None:
    """Consecutive matrices must have the same categories, the same unit, and the end size of every category
    in one must equal its start size in the next within rounding (one unit of the coarser last printed digit
    of the two sizes or their cells)."""
    for a, b in zip(files, files[1:], strict=False):
        if a.unit != b.unit:
            raise InputError(f"the unit differs from {a.path}'s ({a.unit})", Location.of(b.path, sheet=b.sheet),
                             expected=a.unit, found=b.unit)
        for x, y in ((a, b), (b, a)):
            missing = [c for c in x.categories if c not in set(y.categories)]
            if missing:
                c = missing[0]
                raise InputError(f"category {c!r} of {x.path} is not in {y.path}",
                                 Location.of(x.path, sheet=x.sheet, row=x.row_of.get(c)),
                                 expected="the same categories in consecutive matrices: " + ", ".join(y.categories))
        end, start = a.end, b.start.reindex(a.categories)
        b_half = pd.Series(b.start_half, index=b.categories).reindex(a.categories).to_numpy()
        tol = 2 * np.maximum(a.end_half, b_half) + 1e-9
        diff = np.abs(end.to_numpy() - start.to_numpy())
        if (diff > tol).any():
            k = int(np.flatnonzero(diff > tol)[0])
            c = a.categories[k]
            raise InputError(f"start size of {c!r} differs from its end size in {a.path} ({a.where(c, 'column')}: "
                             f"{end.iloc[k]:g})", b.where(c, "row"),
                             expected=f"{end.iloc[k]:g} within ±{tol[k]:.3g} for rounding", found=float(start.iloc[k]))


def read_matrices(paths: Sequence[Path | str], *, layout: str = "auto", unit: str = "ha",
                  number_format: str = "auto", classification=None) -> list[MatrixFile]:
    """Read one matrix per interval (:func:`read_matrix`) and check them together (:func:`check_sequence`)."""
    files = [read_matrix(p, layout=layout, unit=unit, number_format=number_format, classification=classification)
             for p in paths]
    check_sequence(files)
    return files
