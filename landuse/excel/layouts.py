"""Layouts of the official tables (Bảng 2, 3, 4, 26, Biểu 05/TKKK) as :class:`~landuse.excel.model.Sheet` models.

Each function takes DataFrames (and the classification / published tables for numbering) and returns a sheet
whose derived cells are live formulas with their values cached: differences ``=E7-D7``, shares
``=D7/D$5*100``, ratios, and parent sums ``=SUM(D7,D10,…)`` where the classification says the parts partition
the parent *and* the source numbers add up (otherwise the source value is kept and a comment gives the sum of
the parts, so the sheet never silently differs from the data). Areas in ha; changes are later minus earlier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from landuse.classification import Classification
from landuse.dataset import PublishedTable
from landuse.excel.model import Cell, Chart, Sheet, fmt_number, is_missing, ref, t

STT_COL, NAME_COL = 0, 1
WIDTH_STT, WIDTH_NAME, WIDTH_CODE, WIDTH_NUM = 7, 46, 6, 12
SIGN_ROWS = 7  # rows kept under a table for the place/date line and the signature block


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
               rows: Mapping[str, int]) -> tuple[list[str], float, list[str]] | None:
    """The parts of ``code``, their sum (ha) and the parts without a figure; None for a code without parts.

    The sum is meaningful only when the third item is empty: every part has a row in the sheet and a printed
    (or given) figure. A part with no row or a blank figure is listed, never counted as 0.
    """
    parts = cls.parts(code) if code in cls.table.index else []
    if not parts:
        return None
    vals = {p: _num(values.get(p)) if p in rows else None for p in parts}
    blank = [p for p, v in vals.items() if v is None]
    return parts, sum(v for v in vals.values() if v is not None), blank


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
        return _value_cell(sheet, cls, code, r, col, c, rows, lang)
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


def _value_cell(sheet: Sheet, cls: Classification, code: str, r: int, col: Col, c: int, rows: Mapping[str, int],
                lang: str) -> float | None:
    """A figure of the source, or a live ``SUM`` of its parts where every part is given and they add up to it
    (or it is blank). A blank parent whose parts are only partly given stays blank, with a comment naming the
    parts without a figure; a parent that differs from its complete parts keeps its figure, with the sum."""
    v = _num((col.values or {}).get(code))
    summed = _sum_parts(cls, code, col.values or {}, rows) if col.sums else None
    if summed and not summed[2] and (v is None or abs(v - summed[1]) < 1e-6):
        parts, total, _ = summed
        sheet.put(r, c, Cell(total, "SUM(" + ",".join(ref(rows[p], c) for p in parts) + ")", col.fmt))
        return total
    note = None
    if summed and v is not None and len(summed[2]) < len(summed[0]) and abs(v - summed[1]) >= 1e-6:
        note = t("parts_sum", lang, s=fmt_number(summed[1], lang), d=fmt_number(v - summed[1], lang))
    elif summed and v is None and len(summed[2]) < len(summed[0]):
        note = t("parts_blank", lang, codes=", ".join(summed[2]))
    sheet.put(r, c, Cell(v, fmt=col.fmt, comment=note))
    return v


def table_number(printed: PublishedTable | None, lang: str = "vi") -> str | None:
    """``Bảng 26`` from a printed title "Bảng 26. Điều chỉnh …" (``Table 26`` in English), else None."""
    m = re.match(r"\s*(Bảng|Biểu)\s+([\w/.-]*\w)\.\s", printed.title) if printed is not None else None
    if not m:
        return None
    word = {"Bảng": "Table", "Biểu": "Form"}[m.group(1)] if lang == "en" else m.group(1)
    return f"{word} {m.group(2)}"


def sign(sheet: Sheet, place: str, lang: str) -> None:
    """The place/date line and the signature block (Người lập biểu / Thủ trưởng cơ quan) under the table, left
    and right halves of the first printed page; the date is left for the signer."""
    last = sheet.col_pages[0][1] if sheet.col_pages else sheet.table_cols - 1
    mid = max((last + 1) // 2, 1)
    r = sheet.table_end + 2
    for rr, (left, right, style) in enumerate([(None, t("sign_place", lang, p=place), "italic"),
                                               (t("sign_maker", lang), t("sign_head", lang), "bold"),
                                               (t("sign_maker_note", lang), t("sign_head_note", lang), "italic")]):
        sheet.row_styles[r + rr] = "sign"
        for c0, c1, text in [(0, mid - 1, left), (mid, last, right)]:
            if text:
                sheet.put(r + rr, c0, Cell(text, align="center", bold=style == "bold", italic=style == "italic"))
                sheet.merges[(r + rr, c0)] = (r + rr, c1)


def finish_official(sheets: list[Sheet], place: str, lang: str = "vi") -> None:
    """Give every sheet its number in the title ("Bảng 2." as printed; the others "Phụ biểu 1." …) and sign
    those meant to be signed (:attr:`Sheet.signed`) with the place/date line and the signature block."""
    k = 0
    for s in sheets:
        if s.number is None:
            k += 1
            s.number = t("appendix", lang, n=k)
        s.title = f"{s.number}. {s.title}"
        if s.signed:
            sign(s, place, lang)


def finish(sheet: Sheet, ncols: int) -> Sheet:
    """Close the table proper: its columns, its last row (:attr:`Sheet.table_end`) and the frozen panes."""
    sheet.table_cols = ncols
    sheet.table_end = sheet.last_row
    sheet.freeze = (sheet.first_data_row, NAME_COL + 1)
    return sheet


def chart_block(sheet: Sheet) -> int:
    """First row of the chart block: below the table and the space kept for the signature block
    (:data:`SIGN_ROWS`), on a new printed page, inside the print area. Returns the header row of its data."""
    r = sheet.table_end + SIGN_ROWS + 2
    if r - 1 not in sheet.h_breaks:
        sheet.h_breaks.append(r - 1)
    return r


def structure_chart(sheet: Sheet, cls: Classification, rows: Mapping[str, int], value_col: int, year: object,
                    lang: str) -> None:
    """The land-structure pie (groups of the root, e.g. NNP / PNN / CSD) with its data block (name, code, area,
    share) below the table, in the table's columns 1-4, so that both print."""
    groups = [g for g in cls.parts(cls.root) if g in rows]
    if not groups:
        return
    h = chart_block(sheet)
    sheet.row_styles[h] = "chart"
    c0 = NAME_COL
    sheet.put(h, c0, Cell(t("structure", lang, y=year), bold=True))
    sheet.put(h, c0 + 1, Cell(t("code", lang), bold=True, align="center"))
    sheet.put(h, c0 + 2, Cell(t("area_short", lang), bold=True, align="center"))
    sheet.put(h, c0 + 3, Cell(t("share_short", lang), bold=True, align="center"))
    root_row = rows.get(cls.root)
    for i, g in enumerate(groups):
        r = h + 1 + i
        sheet.row_styles[r] = "chart"
        v = sheet.value(rows[g], value_col)
        sheet.put(r, c0, Cell(display_name(cls, g, lang)))
        sheet.put(r, c0 + 1, Cell(g, align="center"))
        sheet.put(r, c0 + 2, Cell(v, ref(rows[g], value_col), "ha") if not is_missing(v) else Cell(None, fmt="ha"))
        tot = sheet.value(root_row, value_col) if root_row is not None else None
        if not is_missing(v) and not is_missing(tot) and tot:
            sheet.put(r, c0 + 3, Cell(100 * v / tot, f"{ref(r, c0 + 2)}/{ref(root_row, value_col, True, True)}*100",
                                      "pct"))
    last = h + len(groups)
    sheet.charts.append(Chart("pie", t("structure", lang, y=year), (h + 1, c0, last, c0),
                              [(str(year), (h + 1, c0 + 2, last, c0 + 2))], (last + 2, c0)))
    sheet.last_row = max(sheet.last_row, last)


# ---- the sheets ----------------------------------------------------------------------------------------------
def inventory_sheet(name: str, cls: Classification, stock: pd.Series, year: int, lang: str = "vi",
                    title: str = "", printed: PublishedTable | None = None) -> Sheet:
    """Bảng 2 layout: STT, land type, code, area (ha) of ``year``, % of natural area (live formula).

    Rows: the classification codes present in ``stock`` (NaN = not given, shown blank), in display order.
    STT from the classification (I, 1, 1.1); "Trong đó:" lines where the printed table ``printed`` has them.
    """
    s = Sheet(name, title, [WIDTH_STT, WIDTH_NAME, WIDTH_CODE, 14, 14], measure=t("unit_ha", lang),
              mirrors=printed.id if printed else None, number=table_number(printed, lang))
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
              mirrors=printed.id if printed else None, number=table_number(printed, lang))
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
    """Bar chart of the change per land type (level-2 types), one series per consecutive period; its data (code,
    name, one column per period, each a reference to the table's change cell, blank where that is blank) lies
    below the table in the table's columns."""
    codes = [c for c in rows if cls.depth(c) == 2 and cls.relation(c) == "part"] if rows else []
    if not codes or not pairs:
        return
    periods = [p for p in pairs if p[0] != years[0] or p[1] != years[-1] or len(pairs) == 1]
    h = chart_block(s)
    s.row_styles[h] = "chart"
    v0 = NAME_COL + 1  # code in the STT column, the name, then one column per period
    s.put(h, STT_COL, Cell(t("code", lang), bold=True, align="center"))
    s.put(h, NAME_COL, Cell(t("chart_data", lang), bold=True))
    for j, (a, b) in enumerate(periods):
        s.put(h, v0 + j, Cell(f"{a}-{b}", bold=True, align="center"))
    ny = len(years)
    for i, code in enumerate(codes):
        r = h + 1 + i
        s.row_styles[r] = "chart"
        s.put(r, STT_COL, Cell(code, align="center"))
        s.put(r, NAME_COL, Cell(display_name(cls, code, lang)))
        for j, p in enumerate(periods):
            src = 2 + ny + pairs.index(p)
            v = s.value(rows[code], src)
            s.put(r, v0 + j, Cell(None, fmt="ha") if is_missing(v) else Cell(v, ref(rows[code], src), "ha"))
    last = h + len(codes)
    series = [(f"{a}-{b}", (h + 1, v0 + j, last, v0 + j)) for j, (a, b) in enumerate(periods)]
    s.h_breaks.append(last + 1)  # the chart on a page of its own, below its data
    s.charts.append(Chart("bar", t("chart_changes", lang), (h + 1, NAME_COL, last, NAME_COL), series,
                          (last + 1, NAME_COL), (760, 540)))
    s.last_row = max(s.last_row, last)


MATRIX_SPECIAL = {"chua_phan_bo": "unreconciled", "tang_khac": "increase_other", "giam_khac": "decrease_other"}
MATRIX_FONT, MATRIX_SCALE, MATRIX_WIDTH = 10.5, 80, 7.0  # printed at 8.4 pt on A3


def _group_of(cls: Classification | None, code: str) -> str | None:
    """The root's part (e.g. NNP / PNN / CSD) that ``code`` belongs to, if any."""
    if cls is None or code not in cls.table.index:
        return None
    groups = set(cls.parts(cls.root))
    return next((a for a in [code, *cls.ancestors(code)] if a in groups), None)


def _ranges(rows: list[int], col: int) -> str:
    """``E7:E12,E14:E30``: the cells of ``col`` in ``rows`` as contiguous ranges (for a ``SUM``)."""
    out, start = [], None
    for i, r in enumerate(rows):
        start = r if start is None else start
        if i + 1 == len(rows) or rows[i + 1] != r + 1:
            out.append(ref(start, col) if start == r else f"{ref(start, col)}:{ref(r, col)}")
            start = None
    return ",".join(out)


def _sum_cell(sheet: Sheet, r: int, c: int, rows: list[int], **kw: object) -> float | None:
    """A live ``SUM`` of ``rows`` in column ``c`` cached with the sum of their given values (blank: all blank)."""
    vals = [_num(sheet.value(rr, c)) for rr in rows]
    given = [v for v in vals if v is not None]
    v = sum(given) if given else None
    sheet.put(r, c, Cell(v, f"SUM({_ranges(rows, c)})" if rows else None, kw.pop("fmt", "matrix"), **kw))
    return v


def matrix_sheet(name: str, cls: Classification | None, matrix: pd.DataFrame, from_year: object, to_year: object,
                 lang: str = "vi", title: str = "", note: str = "", form: str | None = None) -> Sheet:
    """Biểu 05/TKKK layout: rows = land type at ``from_year``, columns = land type at ``to_year`` (ha).

    ``matrix`` rows (index, or a ``code_from`` column): from codes, then optionally "chua_phan_bo" (the part of
    the total the types do not account for), "tang_khac" (other increase) and "total"; columns: to codes, then
    optionally "chua_phan_bo", "giam_khac" (other decrease) and "total". The producer's totals are not copied:
    every total is a live ``SUM`` of the cells. Rows: the whole area, then each group of the root (NNP, PNN,
    CSD …) above its types, "Chưa phân bổ", "Tăng khác", the area in ``to_year`` (column sums; its first cell
    the total area in ``to_year``), and the net change of each type (area in ``to_year`` − in ``from_year``).
    Printed on A3 landscape at 8.4 pt, the columns split into pages with the label columns and headers repeated.
    ``form``: the official form it follows (e.g. "05/TKKK"), shown as "Biểu 05/TKKK." before the title.
    """
    if "code_from" in matrix.columns:  # a long-index form: the row labels as a column
        matrix = matrix.set_index("code_from")
    from_codes = [c for c in matrix.index if c not in MATRIX_SPECIAL and c != "total"]
    to_codes = [c for c in matrix.columns if c not in MATRIX_SPECIAL and c != "total"]
    extra_cols = [c for c in ("chua_phan_bo", "giam_khac") if c in matrix.columns]
    columns = to_codes + extra_cols
    ncols = 4 + len(columns)
    s = Sheet(name, title, [5, 28, WIDTH_CODE, 10] + [MATRIX_WIDTH] * len(columns), subtitle=[note] if note else [],
              measure=t("unit_ha", lang), font_size=MATRIX_FONT, paper="A3", print_scale=MATRIX_SCALE,
              number=(("Biểu " if lang == "vi" else "Form ") + form) if form else None)
    _matrix_headers(s, columns, from_year, to_year, lang)
    leaf_rows, special_rows, group_rows = _matrix_body(s, cls, matrix, from_codes, columns, lang)
    root_row, end_row = s.first_data_row, max(leaf_rows + special_rows + [s.first_data_row]) + 1
    for rr in leaf_rows + special_rows:  # start area of each row: the sum of where it went
        vals = [v for v in (_num(s.value(rr, c)) for c in range(4, ncols)) if v is not None]
        s.put(rr, 3, Cell(sum(vals) if vals else None, f"SUM({ref(rr, 4)}:{ref(rr, ncols - 1)})", "ha", bold=True))
    body = leaf_rows + special_rows[: 1 if "chua_phan_bo" in matrix.index else 0]
    s.row_styles[root_row] = "total"
    s.put(root_row, 1, Cell(display_name(cls, cls.root, lang) if cls else t("unit_total", lang)))
    s.put(root_row, 2, Cell(cls.root if cls else "", align="center"))
    for c in range(3, ncols):
        for rr, members in [(root_row, body), *group_rows.values()]:
            _sum_cell(s, rr, c, members, fmt="ha" if c == 3 else "matrix", bold=True)
    s.row_styles[end_row] = "total"
    for c in (0, 2):
        s.put(end_row, c, Cell(""))
        s.put(end_row + 1, c, Cell(""))
    s.put(end_row + 1, 3, Cell(None, fmt="ha"))
    s.put(end_row, 1, Cell(t("end_area", lang, y=to_year)))
    for c in range(4, ncols):
        _sum_cell(s, end_row, c, leaf_rows + special_rows, fmt="ha", bold=True)
        if columns[c - 4] in to_codes:
            s.anchors[(str(columns[c - 4]), ("end",))] = (end_row, c)
    last_type = 3 + len(to_codes) + (1 if "chua_phan_bo" in extra_cols else 0)
    vals = [_num(s.value(end_row, c)) for c in range(4, last_type + 1)]
    total = sum(v for v in vals if v is not None) if any(v is not None for v in vals) else None
    s.put(end_row, 3, Cell(total, f"SUM({ref(end_row, 4)}:{ref(end_row, last_type)})", "ha", bold=True,
                           comment=t("end_total", lang, y=to_year)))
    r = _net_change_row(s, end_row + 1, matrix, columns, from_codes, leaf_rows, lang)
    return _finish_wide(s, r, ncols, 4)


def _matrix_body(s: Sheet, cls: Classification | None, matrix: pd.DataFrame, from_codes: list[str],
                 columns: list[str], lang: str) -> tuple[list[int], list[int], dict[str, tuple[int, list[int]]]]:
    """The rows below the whole-area row: each group with its types, then the special rows. Returns the rows of
    the types, of the special rows, and of each group (its row, the rows of its types)."""
    col_of = {c: 4 + j for j, c in enumerate(columns)}
    by_group: dict[str | None, list[str]] = {}
    for code in from_codes:
        by_group.setdefault(_group_of(cls, code), []).append(code)
    r, n = s.first_data_row + 1, 0
    leaf_rows: list[int] = []
    group_rows: dict[str, tuple[int, list[int]]] = {}
    rows = matrix.to_dict("index")  # {row code: {column code: ha}}; the index is unique
    for group, codes in by_group.items():
        if group is not None:
            group_rows[group] = (r, [])
            s.row_styles[r] = "group"
            s.put(r, 0, Cell(str(cls.table.at[group, "stt"] or ""), align="center"))
            s.put(r, 1, Cell(display_name(cls, group, lang)))
            s.put(r, 2, Cell(group, align="center"))
            r += 1
        for code in codes:
            n += 1
            s.put(r, 0, Cell(str(n), align="center"))
            s.put(r, 1, Cell(display_name(cls, code, lang) if cls else str(code)))
            s.put(r, 2, Cell(str(code), align="center"))
            _matrix_row(s, r, rows[code], columns, col_of, code)
            leaf_rows.append(r)
            if group is not None:
                group_rows[group][1].append(r)
            r += 1
    special_rows = []
    for key in ("chua_phan_bo", "tang_khac"):
        if key in matrix.index:
            s.row_styles[r] = "marker"
            s.put(r, 0, Cell(""))
            s.put(r, 1, Cell(t(MATRIX_SPECIAL[key], lang)))
            s.put(r, 2, Cell(""))
            _matrix_row(s, r, rows[key], columns, col_of, key)
            special_rows.append(r)
            r += 1
    return leaf_rows, special_rows, group_rows


def _net_change_row(s: Sheet, r: int, matrix: pd.DataFrame, columns: list[str], from_codes: list[str],
                    leaf_rows: list[int], lang: str) -> int:
    """The net change of each type shown both as a row and as a column: area at the end − at the start (ha)."""
    start_row = dict(zip(from_codes, leaf_rows, strict=True))
    if "chua_phan_bo" in matrix.index and "chua_phan_bo" in columns:
        start_row["chua_phan_bo"] = leaf_rows[-1] + 1
    s.row_styles[r] = "marker"
    s.put(r, 1, Cell(t("net_change", lang)))
    for j, code in enumerate(columns):
        c = 4 + j
        if code not in start_row:
            continue
        a, b = _num(s.value(start_row[code], 3)), _num(s.value(r - 1, c))
        v = None if a is None or b is None else b - a
        s.put(r, c, Cell(v, f"{ref(r - 1, c)}-{ref(start_row[code], 3)}" if v is not None else None, "matrix"))
    return r


def unit_areas_sheet(name: str, areas: pd.DataFrame, root: str, year: object, lang: str = "vi",
                     title: str = "", header: str | None = None) -> Sheet:
    """Per-unit areas (ha): units down, ``root`` (a live ``SUM`` of the codes of the row) then the codes across,
    a last row summing each column. ``areas``: long ``unit, code, area_<year>`` of leaves (codes in order).
    ``header``: the text over the code columns (default: the land types of ``year``); the per-unit conversions
    and permissions sheets use the same layout with pairs or permissions as "codes"."""
    wide = areas.pivot_table(index="unit", columns="code", values=f"area_{year}", aggfunc="sum", sort=False)
    codes = [c for c in dict.fromkeys(areas["code"]) if (wide[c].abs() > 0).any()]
    ncols = 3 + len(codes)
    s = Sheet(name, title, [WIDTH_STT, 28, 12] + [9.5] * len(codes), measure=t("unit_ha", lang))
    first = s.start_table(2, [f"({i + 1})" for i in range(ncols)])
    s.head(first, 0, first + 1, 0, t("stt", lang))
    s.head(first, 1, first + 1, 1, t("admin_unit", lang))
    s.head(first, 2, first + 1, 2, f"{t('unit_total', lang)} ({root})")
    for c0, c1 in column_pages(s.widths, 3, s.paper, s.print_scale or 100) if codes else []:
        s.head(first, c0, first, c1, header or t("to_types", lang, y=year))
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
    """Close a wide sheet (matrix, units × codes): panes frozen after the ``label_cols`` label columns, the columns
    split into printed pages (:func:`column_pages`) with the label columns and header rows repeated."""
    s.last_row = last_row
    finish(s, ncols)
    s.freeze = (s.first_data_row, label_cols)
    s.col_pages = column_pages(s.widths, label_cols, s.paper, s.print_scale or 100)
    s.pages_wide = len(s.col_pages)
    s.repeat_cols = label_cols if s.pages_wide > 1 else 0
    return s


def column_pages(widths: list[float], label_cols: int, paper: str, scale: int) -> list[tuple[int, int]]:
    """First and last column of each printed page across (landscape ``paper``, ``scale`` %), the ``label_cols``
    leading columns repeated on every page; as few pages as fit, with the columns shared evenly between them.
    Widths in characters (as LibreOffice prints them: ≈ 6.3 pt per character with the 0.7 character Excel
    adds, + 3.75 pt padding, at 100 %)."""
    room = {"A4": 730.0, "A3": 1060.0}[paper] * 100.0 / scale
    pt = [6.3 * (w + 0.7) + 3.75 for w in widths]
    room -= sum(pt[:label_cols])
    greedy, start, used = [], label_cols, 0.0
    for c in range(label_cols, len(widths)):
        if used + pt[c] > room and c > start:
            greedy.append((start, c - 1))
            start, used = c, 0.0
        used += pt[c]
    greedy.append((start, len(widths) - 1))
    n, m = len(greedy), len(widths) - label_cols
    size = -(-m // n)
    even = [(label_cols + i * size, min(label_cols + (i + 1) * size, len(widths)) - 1) for i in range(n)]
    return even if all(sum(pt[a: b + 1]) <= room for a, b in even) else greedy


def _matrix_headers(s: Sheet, columns: list[str], from_year: object, to_year: object, lang: str) -> None:
    """Headers of a from × to matrix; the "Loại đất năm …" band is repeated over the columns of each printed page."""
    ncols = 4 + len(columns)
    first = s.start_table(2, [f"({i + 1})" for i in range(ncols)])
    s.head(first, 0, first + 1, 0, t("stt", lang))
    s.head(first, 1, first + 1, 1, t("land", lang))
    s.head(first, 2, first + 1, 2, t("code", lang))
    s.head(first, 3, first + 1, 3, t("area_year", lang, y=from_year))
    band_end = 3 + sum(1 for c in columns if c not in ("giam_khac",))
    for c0, c1 in column_pages(s.widths, 4, s.paper, s.print_scale or 100):
        c1 = min(c1, band_end)
        if c0 <= c1:
            s.head(first, c0, first, c1, t("to_types", lang, y=to_year))
    for j, c in enumerate(columns):
        if c == "giam_khac":
            s.head(first, 4 + j, first + 1, 4 + j, t("decrease_other", lang))
        else:
            s.head(first + 1, 4 + j, first + 1, 4 + j, t("unreconciled_short", lang) if c in MATRIX_SPECIAL
                   else str(c))


def _matrix_row(s: Sheet, r: int, row: Mapping[str, object], columns: list[str], col_of: Mapping[str, int],
                code: str) -> None:
    for c in columns:
        s.put(r, col_of[c], Cell(_num(row.get(c)), fmt="matrix", bold=(c == code)))
        s.anchors[(str(code), ("to", str(c)))] = (r, col_of[c])
