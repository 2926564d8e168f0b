"""Layouts of the official tables (Bảng 2, 3, 4, 26, Biểu 05/TKKK) as :class:`~landuse.excel.model.Sheet` models.

Each function takes DataFrames (and the classification / published tables for numbering) and returns a sheet
whose derived cells are live formulas with their values cached: differences ``=E7-D7``, shares
``=D7/D$5*100``, ratios, and parent sums ``=SUM(D7,D10,…)`` where the classification says the parts partition
the parent *and* the source numbers add up (otherwise the source value is kept and a comment gives the sum of
the parts, so the sheet never silently differs from the data). Areas in ha; changes are later minus earlier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from landuse.classification import Classification
from landuse.dataset import PublishedTable
from landuse.excel.model import Cell, Chart, Sheet, fmt_number, is_missing, ref, t

STT_COL, NAME_COL = 0, 1
WIDTH_STT, WIDTH_NAME, WIDTH_CODE, WIDTH_NUM = 7, 46, 6, 12


@dataclass
class Col:
    """One numeric column of a tree table.

    ``kind``: value (numbers by code in ``values``) | diff (operands[0] − operands[1]) | ratio
    (100 × operands[0] / operands[1]) | share (100 × operand / operand at the root) | text.
    ``key`` names what the column holds, matching :func:`column_key` of published tables (for links).
    """

    key: tuple
    kind: str = "value"
    values: Mapping | None = None
    operands: tuple[int, ...] = ()
    fmt: str = "ha"
    sums: bool = True
    width: float = WIDTH_NUM


def column_key(table: PublishedTable, cid: str) -> tuple:
    """What a printed column holds, as a nested tuple: ("status", 2024), ("plan", id), ("diff", a, b), …"""
    spec = table.column(cid)
    if spec.kind == "value":
        return ("plan", spec.plan) if spec.quantity == "plan" else ("status", spec.year)
    return (spec.kind,) + tuple(column_key(table, o) for o in spec.operands)


def marker_after(table: PublishedTable | None) -> set[str]:
    """Codes after which the printed table has a bare "Trong đó:" line."""
    if table is None:
        return set()
    out, last = set(), None
    for code, name in zip(table.raw["code"], table.raw["name"].fillna(""), strict=True):
        if code:
            last = code
        elif name.strip().lower().startswith("trong đó") and last:
            out.add(last)
    return out


def derived_stt(cls: Classification, codes: list[str]) -> dict[str, str]:
    """Hierarchical numbering 1, 1.1, 2.6.1 (Bảng 3 / Bảng 26 style) over the shown codes; of-which rows blank.

    A code is numbered by its position under its nearest shown ancestor: where a sheet leaves out a level (Bảng 4
    lists DVH … DBV directly under group 2), the shown descendants continue the ancestor's sequence (2.4 … 2.14).
    The printed tables' own numbering (which has slips such as "8" for 2.8, or 1.10 with no 1.9) is never copied:
    the reconciliation reports the printed table as it is.
    """
    shown = set(codes)
    out: dict[str, str] = {cls.root: ""}

    def walk(code: str, prefix: str, counter: list[int]) -> None:
        for c in cls.parts(code):
            if c in shown:
                counter[0] += 1
                out[c] = f"{prefix}{counter[0]}"
                walk(c, f"{out[c]}.", [0])
            else:
                walk(c, prefix, counter)
        for c in cls.of_which(code):
            if c in shown:
                out[c] = ""
            walk(c, prefix, counter)

    walk(cls.root, "", [0])
    return out


def row_style(cls: Classification, code: str) -> str:
    if code not in cls.table.index:
        return "normal"
    if cls.relation(code) == "of-which":
        return "ofwhich"
    return "group" if cls.depth(code) <= 1 else "normal"


def display_name(cls: Classification, code: str, lang: str, given: str | None = None) -> str:
    if lang == "vi" and given:
        return given
    try:
        return cls.name(code, lang)
    except Exception:  # a code outside the classification: keep the producer's name
        return given or code


def _num(v: object) -> float | None:
    return None if is_missing(v) else float(v)


def _sum_parts(cls: Classification, code: str, values: Mapping,
               rows: Mapping[str, int]) -> tuple[list[str], float] | None:
    """The parts of ``code`` shown in the sheet and their sum (parts absent from the sheet count as nothing;
    a parent without a value needs all its parts shown)."""
    parts = cls.parts(code) if code in cls.table.index else []
    shown = [p for p in parts if p in rows]
    if not shown or (len(shown) < len(parts) and _num(values.get(code)) is None):
        return None
    parts = shown
    vals = [_num(values.get(p)) for p in parts]
    if all(v is None for v in vals):
        return None
    return parts, sum(v for v in vals if v is not None)


def tree_rows(sheet: Sheet, cls: Classification, codes: list[str], stt: Mapping[str, str], lang: str,
              markers: set[str] = frozenset(), names: Mapping[str, str] | None = None) -> dict[str, int]:
    """Write STT and name (with "Trong đó:" lines) from the first data row; return the row of each code."""
    rows: dict[str, int] = {}
    r = sheet.first_data_row
    for code in codes:
        style = row_style(cls, code)
        sheet.row_styles[r] = style
        sheet.put(r, STT_COL, Cell(stt.get(code, ""), align="center"))
        sheet.put(r, NAME_COL, Cell(display_name(cls, code, lang, (names or {}).get(code))))
        rows[code] = r
        r += 1
        if code in markers:
            sheet.row_styles[r] = "marker"
            sheet.put(r, STT_COL, Cell(""))
            sheet.put(r, NAME_COL, Cell(t("of_which", lang)))
            r += 1
    sheet.row_of.update(rows)
    sheet.last_row = max(sheet.last_row, r - 1)
    return rows


def fill_columns(sheet: Sheet, cls: Classification, rows: Mapping[str, int], cols: list[Col], first_col: int,
                 lang: str) -> None:
    """Write the numeric columns: constants, parent sums, and derived formulas, each with its cached value."""
    cached: list[dict[str, float | None]] = []
    for j, col in enumerate(cols):
        c = first_col + j
        vals: dict[str, float | None] = {}
        for code, r in rows.items():
            vals[code] = _column_cell(sheet, cls, code, r, col, c, cached, rows, first_col, lang)
            sheet.anchors[(code, col.key)] = (r, c)
        for r, style in sheet.row_styles.items():
            if style == "marker":
                sheet.put(r, c, Cell(None, fmt=col.fmt))
        cached.append(vals)


def _column_cell(sheet: Sheet, cls: Classification, code: str, r: int, col: Col, c: int,
                 cached: list[dict], rows: Mapping[str, int], first_col: int, lang: str) -> float | None:
    """Write one cell of ``col`` for ``code``; return its (cached) value."""
    if col.kind == "value":
        v = _num((col.values or {}).get(code))
        summed = _sum_parts(cls, code, col.values or {}, rows) if col.sums else None
        if summed and (v is None or abs(v - summed[1]) < 1e-6):
            parts, s = summed
            formula = "SUM(" + ",".join(ref(rows[p], c) for p in parts) + ")"
            sheet.put(r, c, Cell(s, formula, col.fmt))
            return s
        note = None
        if summed and v is not None:
            note = t("parts_sum", lang, s=fmt_number(summed[1], lang), d=fmt_number(v - summed[1], lang))
        sheet.put(r, c, Cell(v, fmt=col.fmt, comment=note))
        return v
    ops = [cached[i].get(code) for i in col.operands]
    refs = [ref(r, first_col + i) for i in col.operands]
    if col.kind == "share":
        root_row = rows.get(cls.root)
        base = cached[col.operands[0]].get(cls.root)
        if ops[0] is None or root_row is None or not base:
            sheet.put(r, c, Cell(None, fmt=col.fmt))
            return None
        v = 100.0 * ops[0] / base
        sheet.put(r, c, Cell(v, f"{refs[0]}/{ref(root_row, first_col + col.operands[0], abs_row=True)}*100", col.fmt))
        return v
    if any(o is None for o in ops):
        sheet.put(r, c, Cell(None, fmt=col.fmt))
        return None
    if col.kind == "diff":
        v = ops[0] - ops[1]
        sheet.put(r, c, Cell(v, f"{refs[0]}-{refs[1]}", col.fmt))
        return v
    if col.kind == "ratio":
        if ops[1] == 0:
            sheet.put(r, c, Cell(None, fmt=col.fmt))
            return None
        v = 100.0 * ops[0] / ops[1]
        sheet.put(r, c, Cell(v, f'IF({refs[1]}=0,"",{refs[0]}/{refs[1]}*100)', col.fmt))
        return v
    raise ValueError(f"unknown column kind {col.kind!r}")


def finish(sheet: Sheet, ncols: int) -> Sheet:
    sheet.table_cols = ncols
    sheet.freeze = (sheet.first_data_row, NAME_COL + 1)
    return sheet


def structure_chart(sheet: Sheet, cls: Classification, rows: Mapping[str, int], value_col: int, year: object,
                    lang: str) -> None:
    """The land-structure pie (groups of the root, e.g. NNP / PNN / CSD) with its data block right of the table."""
    groups = [g for g in cls.parts(cls.root) if g in rows]
    if not groups:
        return
    c0 = sheet.table_cols + 1
    r0 = sheet.first_data_row
    sheet.put(r0 - 1, c0, Cell(t("structure", lang, y=year), bold=True))
    sheet.put(r0 - 1, c0 + 1, Cell(t("area_short", lang), bold=True, align="center"))
    root_row = rows.get(cls.root)
    for c, w in [(c0, 34), (c0 + 1, 14), (c0 + 2, 10)]:
        sheet.set_width(c, w)
    sheet.put(r0 - 1, c0 + 2, Cell(t("share_short", lang), bold=True, align="center"))
    for i, g in enumerate(groups):
        r = r0 + i
        v = sheet.value(rows[g], value_col)
        sheet.put(r, c0, Cell(display_name(cls, g, lang)))
        sheet.put(r, c0 + 1, Cell(v, ref(rows[g], value_col), "ha"))
        if root_row is not None and not is_missing(v) and sheet.value(root_row, value_col):
            tot = sheet.value(root_row, value_col)
            sheet.put(r, c0 + 2, Cell(100 * v / tot, f"{ref(r, c0 + 1)}/{ref(root_row, value_col, True, True)}*100",
                                      "pct"))
    last = r0 + len(groups) - 1
    sheet.charts.append(Chart("pie", t("structure", lang, y=year), (r0, c0, last, c0),
                              [(str(year), (r0, c0 + 1, last, c0 + 1))], (last + 2, c0)))


# ---- the sheets ----------------------------------------------------------------------------------------------
def inventory_sheet(name: str, cls: Classification, stock: pd.Series, year: int, lang: str = "vi",
                    title: str = "", printed: PublishedTable | None = None) -> Sheet:
    """Bảng 2 layout: STT, land type, code, area (ha) of ``year``, % of natural area (live formula).

    Rows: the classification codes present in ``stock`` (NaN = not given, shown blank), in display order.
    STT from the classification (I, 1, 1.1); "Trong đó:" lines where the printed table ``printed`` has them.
    """
    s = Sheet(name, title, [WIDTH_STT, WIDTH_NAME, WIDTH_CODE, 14, 14], measure=t("unit_ha", lang),
              mirrors=printed.id if printed else None)
    first = s.start_table(1, ["(1)", "(2)", "(3)", "(4)", "(5)"])
    for c, key in enumerate(["stt", "land_type", "code", "area_ha", "share_pct"]):
        s.head(first, c, first, c, t(key, lang))
    codes = [c for c in cls.codes if c in stock.index]
    stt = {c: str(cls.table.at[c, "stt"] or "") for c in codes}
    rows = tree_rows(s, cls, codes, stt, lang, marker_after(printed))
    for code, r in rows.items():
        s.put(r, 2, Cell(code, align="center"))
    cols = [Col(("status", year), values=stock.to_dict()),
            Col(("share_pct", ("status", year)), "share", operands=(0,), fmt="pct")]
    fill_columns(s, cls, rows, cols, 3, lang)
    finish(s, 5)
    structure_chart(s, cls, rows, 3, year, lang)
    return s


def change_sheet(name: str, cls: Classification, stocks: Mapping[int, pd.Series], lang: str = "vi",
                 title: str = "", printed: PublishedTable | None = None) -> Sheet:
    """Bảng 3 layout: areas per inventory year, then the change between consecutive years and first→last.

    Column numbers as printed: ``(1) (2) (3) (4) (5) (6)=(4)-(3) (7)=(5)-(4) (8)=(5)-(3)`` for three years.
    Change = later − earlier (ha); a change is blank where either area is not given.
    """
    years = sorted(stocks)
    pairs = list(zip(years, years[1:], strict=False))
    if len(years) > 2:
        pairs.append((years[0], years[-1]))
    ny = len(years)
    s = Sheet(name, title, [WIDTH_STT, WIDTH_NAME] + [WIDTH_NUM] * (ny + len(pairs)), measure=t("unit_ha", lang),
              mirrors=printed.id if printed else None)
    numbers = ["(1)", "(2)"] + [f"({3 + i})" for i in range(ny)]
    for a, b in pairs:
        ia, ib = years.index(a), years.index(b)
        numbers.append(f"({len(numbers) + 1})=({3 + ib})-({3 + ia})")
    first = s.start_table(2, numbers)
    s.head(first, 0, first + 1, 0, t("stt", lang))
    s.head(first, 1, first + 1, 1, t("land_type", lang))
    s.head(first, 2, first, 1 + ny, t("status", lang))
    s.head(first, 2 + ny, first, 1 + ny + len(pairs), t("change", lang))
    for i, y in enumerate(years):
        s.head(first + 1, 2 + i, first + 1, 2 + i, str(y))
    for i, (a, b) in enumerate(pairs):
        s.head(first + 1, 2 + ny + i, first + 1, 2 + ny + i, f"{a}-{b}")
    present: set[str] = set()
    for st in stocks.values():
        present |= set(st.index)
    codes = [c for c in cls.codes if c in present]
    stt = derived_stt(cls, codes)
    rows = tree_rows(s, cls, codes, stt, lang, marker_after(printed))
    cols = [Col(("status", y), values=stocks[y].to_dict()) for y in years]
    cols += [Col(("diff", ("status", b), ("status", a)), "diff", operands=(years.index(b), years.index(a)))
             for a, b in pairs]
    fill_columns(s, cls, rows, cols, 2, lang)
    finish(s, 2 + ny + len(pairs))
    _change_chart(s, cls, rows, years, pairs, lang)
    return s


def _change_chart(s: Sheet, cls: Classification, rows: Mapping[str, int], years: list[int],
                  pairs: list[tuple[int, int]], lang: str) -> None:
    """Bar chart of the change per land type (level-2 types), one series per consecutive period."""
    codes = [c for c in rows if cls.depth(c) == 2 and cls.relation(c) == "part"] if rows else []
    if not codes or not pairs:
        return
    periods = [p for p in pairs if p[0] != years[0] or p[1] != years[-1] or len(pairs) == 1]
    c0 = s.table_cols + 1
    r0 = s.first_data_row
    v0 = c0 + 2  # code, name, then one column per period
    s.put(r0 - 1, c0, Cell(t("code", lang), bold=True, align="center"))
    s.put(r0 - 1, c0 + 1, Cell(t("chart_data", lang), bold=True))
    for j, (a, b) in enumerate(periods):
        s.put(r0 - 1, v0 + j, Cell(f"{a}-{b}", bold=True, align="center"))
        s.set_width(v0 + j, 12)
    s.set_width(c0, 7)
    s.set_width(c0 + 1, 40)
    ny = len(years)
    for i, code in enumerate(codes):
        r = r0 + i
        s.put(r, c0, Cell(code, align="center"))
        s.put(r, c0 + 1, Cell(display_name(cls, code, lang)))
        for j, p in enumerate(periods):
            src = 2 + ny + pairs.index(p)
            s.put(r, v0 + j, Cell(s.value(rows[code], src), ref(rows[code], src), "ha"))
    last = r0 + len(codes) - 1
    series = [(f"{a}-{b}", (r0, v0 + j, last, v0 + j)) for j, (a, b) in enumerate(periods)]
    s.charts.append(Chart("bar", t("chart_changes", lang), (r0, c0, last, c0), series,
                          (r0, v0 + len(periods) + 1), (640, max(480, 16 * len(codes) + 120))))


def matrix_sheet(name: str, cls: Classification | None, matrix: pd.DataFrame, from_year: object, to_year: object,
                 lang: str = "vi", title: str = "", note: str = "") -> Sheet:
    """Biểu 05/TKKK layout: rows = land type at ``from_year``, columns = land type at ``to_year`` (ha).

    ``matrix`` rows (index, or a ``code_from`` column): from codes, then "tang_khac" (other increase) and
    "total"; columns: to codes, then "giam_khac" (other decrease) and "total" (the specials are optional).
    The start-area column and the end-area row are live ``SUM`` formulas over the matrix cells, cached with
    the producer's totals (or the sums).
    """
    specials = {"total", "tang_khac", "giam_khac"}
    if "code_from" in matrix.columns:  # a long-index form: the row labels as a column
        matrix = matrix.set_index("code_from")
    from_codes = [c for c in matrix.index if c not in specials]
    to_codes = [c for c in matrix.columns if c not in specials]
    has_g = "giam_khac" in matrix.columns
    has_a = "tang_khac" in matrix.index
    ncols = 4 + len(to_codes) + (1 if has_g else 0)
    s = Sheet(name, title, [WIDTH_STT, 30, WIDTH_CODE, 11] + [8.5] * (ncols - 4), subtitle=[note] if note else [],
              measure=t("unit_ha", lang))
    _matrix_headers(s, ncols, to_codes, has_g, from_year, to_year, lang)
    data_cols = list(range(4, ncols))
    r = s.first_data_row
    body_rows = []
    for i, code in enumerate(from_codes):
        s.put(r, 0, Cell(str(i + 1), align="center"))
        given = t("unreconciled", lang) if code == "chua_phan_bo" else None  # an estimate's gap row
        s.put(r, 1, Cell(display_name(cls, code, lang, given) if cls else (given or str(code))))
        s.put(r, 2, Cell(str(code), align="center"))
        _matrix_row(s, r, matrix.loc[code], to_codes, has_g, code)
        body_rows.append(r)
        r += 1
    if has_a:
        s.row_styles[r] = "total"
        s.put(r, 1, Cell(t("increase_other", lang)))
        for j, c in enumerate(to_codes):
            s.put(r, 4 + j, Cell(_num(matrix.at["tang_khac", c]), fmt="matrix"))
        body_rows.append(r)
        r += 1
    # start area: row sums
    for rr, code in zip(body_rows, from_codes + (["tang_khac"] if has_a else []), strict=True):
        vals = [_num(s.value(rr, c)) for c in data_cols]
        v = sum(x for x in vals if x is not None)
        if "total" in matrix.columns and not is_missing(matrix.at[code, "total"]):
            v = float(matrix.at[code, "total"])
        s.put(rr, 3, Cell(v, f"SUM({ref(rr, 4)}:{ref(rr, ncols - 1)})", "ha", bold=True))
    # end area: column sums
    s.row_styles[r] = "group"
    s.put(r, 1, Cell(t("end_area", lang, y=to_year)))
    for c in [3] + data_cols:
        vals = [_num(s.value(rr, c)) for rr in body_rows]
        v = sum(x for x in vals if x is not None)
        label = "total" if c == 3 else ("giam_khac" if has_g and c == ncols - 1 else to_codes[c - 4])
        if "total" in matrix.index and label in matrix.columns and not is_missing(matrix.at["total", label]):
            v = float(matrix.at["total", label])
        s.put(r, c, Cell(v, f"SUM({ref(body_rows[0], c)}:{ref(body_rows[-1], c)})" if body_rows else None, "ha"))
        if c >= 4 and label in to_codes:
            s.anchors[(str(label), ("end",))] = (r, c)
    return _finish_wide(s, r, ncols, 4)


def unit_areas_sheet(name: str, areas: pd.DataFrame, root: str, year: object, lang: str = "vi",
                     title: str = "") -> Sheet:
    """Per-unit areas (ha): units down, ``root`` (a live ``SUM`` of the codes of the row) then the codes across,
    a last row summing each column. ``areas``: long ``unit, code, area_<year>`` of leaves (codes in order)."""
    wide = areas.pivot_table(index="unit", columns="code", values=f"area_{year}", aggfunc="sum", sort=False)
    codes = [c for c in dict.fromkeys(areas["code"]) if (wide[c].abs() > 0).any()]
    ncols = 3 + len(codes)
    s = Sheet(name, title, [WIDTH_STT, 28, 12] + [9.5] * len(codes), measure=t("unit_ha", lang))
    first = s.start_table(2, [f"({i + 1})" for i in range(ncols)])
    s.head(first, 0, first + 1, 0, t("stt", lang))
    s.head(first, 1, first + 1, 1, t("admin_unit", lang))
    s.head(first, 2, first + 1, 2, f"{t('unit_total', lang)} ({root})")
    if codes:
        s.head(first, 3, first, ncols - 1, t("to_types", lang, y=year))
    for j, c in enumerate(codes):
        s.head(first + 1, 3 + j, first + 1, 3 + j, str(c))
    r0 = r = s.first_data_row
    for i, unit in enumerate(wide.index):
        s.put(r, 0, Cell(str(i + 1), align="center"))
        s.put(r, 1, Cell(str(unit)))
        vals = wide.loc[unit, codes].fillna(0.0).astype(float)
        for j, v in enumerate(vals):
            s.put(r, 3 + j, Cell(float(v), fmt="ha"))
        s.put(r, 2, Cell(float(vals.sum()), f"SUM({ref(r, 3)}:{ref(r, ncols - 1)})", "ha", bold=True))
        r += 1
    s.row_styles[r] = "total"
    s.put(r, 1, Cell(t("all_units", lang)))
    for c in range(2, ncols):
        v = sum(float(s.value(rr, c) or 0.0) for rr in range(r0, r))
        s.put(r, c, Cell(v, f"SUM({ref(r0, c)}:{ref(r - 1, c)})" if r > r0 else None, "ha", bold=True))
    return _finish_wide(s, r, ncols, 3)


def _finish_wide(s: Sheet, last_row: int, ncols: int, label_cols: int) -> Sheet:
    """Close a wide sheet (matrix, units × codes): panes frozen after the ``label_cols`` label columns, printed
    about 22 columns per A4 page across, with the label columns repeated on every page."""
    s.last_row = last_row
    finish(s, ncols)
    s.freeze = (s.first_data_row, label_cols)
    s.pages_wide = max(1, -(-ncols // 22))
    s.repeat_cols = label_cols if s.pages_wide > 1 else 0
    return s


def _matrix_headers(s: Sheet, ncols: int, to_codes: list, has_g: bool, from_year: object, to_year: object,
                    lang: str) -> None:
    first = s.start_table(2, [f"({i + 1})" for i in range(ncols)])
    s.head(first, 0, first + 1, 0, t("stt", lang))
    s.head(first, 1, first + 1, 1, t("land", lang))
    s.head(first, 2, first + 1, 2, t("code", lang))
    s.head(first, 3, first + 1, 3, t("area_year", lang, y=from_year))
    if to_codes:
        s.head(first, 4, first, 3 + len(to_codes), t("to_types", lang, y=to_year))
    for j, c in enumerate(to_codes):
        s.head(first + 1, 4 + j, first + 1, 4 + j, str(c))
    if has_g:
        s.head(first, ncols - 1, first + 1, ncols - 1, t("decrease_other", lang))


def _matrix_row(s: Sheet, r: int, row: pd.Series, to_codes: list, has_g: bool, code: str) -> None:
    for j, c in enumerate(to_codes):
        s.put(r, 4 + j, Cell(_num(row[c]), fmt="matrix", bold=(c == code)))
        s.anchors[(str(code), ("to", str(c)))] = (r, 4 + j)
    if has_g:
        s.put(r, 4 + len(to_codes), Cell(_num(row["giam_khac"]), fmt="matrix"))
