"""Writing :class:`~landuse.excel.model.Sheet` models to an ``.xlsx`` workbook (the only module using xlsxwriter).

Security: the workbook never turns strings into formulas, numbers or URLs (``strings_to_formulas`` etc. off),
every text cell is written with ``write_string`` (a land name ``=HYPERLINK("x")`` stays text), formulas are
only those the layouts build, and the file is written to a temporary file and renamed.
Print setup: A4 landscape, fit to one page wide (wide matrices: a few pages with the label columns repeated),
header rows repeated on every page, page numbers in the footer, frozen panes below the headers.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from landuse.errors import InputError, Location
from landuse.excel.model import Cell, Sheet
from landuse.output import atomic_path

FONT = "Times New Roman"
NUM_FORMATS = {"ha": "#,##0", "pct": "0.00", "ratio": "0.00", "num": "#,##0.##", "int": "0",
               "matrix": '#,##0;-#,##0;""', "text": "@"}
STYLE_FONT = {"group": {"bold": True}, "total": {"bold": True}, "ofwhich": {"italic": True},
              "marker": {"italic": True}, "error": {"font_color": "#9C0006"}}
PAPER = {"A4": 9, "A3": 8}
FOOTER = {"vi": "&CTrang &P / &N", "en": "&CPage &P of &N"}
LINE_HEIGHT = 15.0
UNBORDERED = ("sign", "chart")  # row styles printed without the table's borders (signature, chart data)


# Functions Excel has had since 2007, which xlsxwriter never rewrites; the layouts' formulas use only these.
CLASSIC_FUNCTIONS = frozenset({"SUM", "IF", "IFERROR", "ROUND", "ABS", "MIN", "MAX", "AND", "OR", "NOT",
                               "HYPERLINK"})
_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(?=\()")


class FastFormulaWorksheet(Worksheet):
    """xlsxwriter's worksheet, with a shortcut for formulas that call only :data:`CLASSIC_FUNCTIONS`.

    xlsxwriter runs about thirty regular-expression substitutions over every formula to prefix the functions
    Excel added later (``XLOOKUP`` → ``_xlfn.XLOOKUP``): on the bundled workbook's 1,290 formulas, 0.03 s of a
    0.2 s workbook. None of them can match a formula whose every call is a classic function, so such a
    formula is only stripped of its ``=`` (and array braces) as xlsxwriter strips it; any other formula goes
    through xlsxwriter's own rewriting. A test checks both give the same text over generated formulas.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        if self.use_future_functions or expand_future_functions or "_xlfn." in formula:
            return super()._prepare_formula(formula, expand_future_functions)
        if not all(name in CLASSIC_FUNCTIONS for name in _CALL.findall(formula)):
            return super()._prepare_formula(formula, expand_future_functions)
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula


class Formats:
    """Cache of xlsxwriter formats keyed by their properties."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self.cache: dict[tuple, object] = {}
        self.by_cell: dict[tuple, object] = {}  # the same formats keyed by what a cell asks for
        self.size: float = 11  # body font of the sheet being written (pt)

    def get(self, **props: object) -> object:
        props.setdefault("font_size", self.size)
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            base = {"font_name": FONT, "valign": "vcenter"}
            self.cache[key] = self.wb.add_format({**base, **props})
        return self.cache[key]

    def cell(self, cell: Cell, style: str, bordered: bool, wrap: bool = True) -> object:
        key = (self.size, style, cell.fmt, cell.fmt == "text" and wrap, cell.bold, cell.italic, cell.align,
               bool(cell.link), bordered)
        got = self.by_cell.get(key)
        if got is None:
            got = self.by_cell[key] = self._cell(cell, style, bordered, wrap)
        return got

    def _cell(self, cell: Cell, style: str, bordered: bool, wrap: bool) -> object:
        props: dict[str, object] = dict(STYLE_FONT.get(style, {}))
        if cell.fmt != "text":
            props["num_format"] = NUM_FORMATS[cell.fmt]
        elif wrap:
            props["text_wrap"] = True
        if cell.bold:
            props["bold"] = True
        if cell.italic:
            props["italic"] = True
        if cell.align:
            props["align"] = cell.align
        if cell.link:
            props.update(font_color="#0563C1", underline=1)
        if bordered:
            props["border"] = 1
        return self.get(**props)


def _lines(text: str, width: float) -> int:
    """Rough number of wrapped lines of ``text`` in a column ``width`` characters wide."""
    return max(1, sum(max(1, math.ceil(len(part) * 0.85 / max(width - 1, 1))) for part in str(text).split("\n")))


def _write_text_block(ws, fm: Formats, s: Sheet) -> None:
    last_col = max(s.table_cols - 1, 0)
    if s.col_pages:  # a wide matrix: keep the title on the first printed page
        last_col = s.col_pages[0][1]
    elif s.pages_wide > 1:
        last_col = max(math.ceil(s.table_cols / s.pages_wide) - 1, 0)
    title_fmt = fm.get(bold=True, font_size=fm.size + 2, align="center", text_wrap=True)
    ws.merge_range(0, 0, 0, last_col, "", title_fmt)
    ws.write_string(0, 0, s.title, title_fmt)
    ws.set_row(0, LINE_HEIGHT * 1.3 * _lines(s.title, sum(s.widths[: last_col + 1]) * 0.85))
    r = 1
    for line in s.subtitle:
        f = fm.get(italic=True, align="center", text_wrap=True)
        ws.merge_range(r, 0, r, last_col, "", f)
        ws.write_string(r, 0, line, f)
        ws.set_row(r, LINE_HEIGHT * _lines(line, sum(s.widths[: last_col + 1])))
        r += 1
    if s.measure:
        f = fm.get(italic=True, align="right")
        ws.merge_range(r, max(last_col - 2, 0), r, last_col, "", f) if last_col >= 2 else None
        ws.write_string(r, max(last_col - 2, 0) if last_col >= 2 else last_col, s.measure, f)


def _write_headers(ws, fm: Formats, s: Sheet) -> None:
    head_fmt = fm.get(bold=True, align="center", text_wrap=True, border=1)
    num_fmt = fm.get(italic=True, align="center", text_wrap=True, border=1, font_size=fm.size - 1)
    first, last = s.header_rows
    heights: dict[int, float] = {}
    for r0, c0, r1, c1, text in s.headers:
        f = num_fmt if (r0 == last and r1 == last and text.startswith("(")) else head_fmt
        if (r0, c0) != (r1, c1):
            ws.merge_range(r0, c0, r1, c1, "", f)
        ws.write_string(r0, c0, text, f)
        need = LINE_HEIGHT * _lines(text, sum(s.widths[c0: c1 + 1])) / (r1 - r0 + 1)
        for rr in range(r0, r1 + 1):
            heights[rr] = max(heights.get(rr, LINE_HEIGHT), need)
    for rr, h in heights.items():
        ws.set_row(rr, h)


def _write_cell(ws, fm: Formats, r: int, c: int, cell: Cell, style: str, bordered: bool, wrap: bool,
                merge_to: tuple[int, int] | None = None) -> None:
    f = fm.cell(cell, style, bordered, wrap)
    if merge_to is not None:
        ws.merge_range(r, c, *merge_to, "", f)
    if cell.link:
        ws.write_url(r, c, "internal:" + cell.link, f, string=str(cell.value or cell.link))
    elif cell.formula is not None:
        cached = "" if cell.value is None else cell.value
        ws.write_formula(r, c, "=" + cell.formula, f, cached)
    elif cell.value is None:
        ws.write_blank(r, c, None, f)
    elif isinstance(cell.value, str):
        ws.write_string(r, c, cell.value, f)
    else:
        ws.write_number(r, c, float(cell.value), f)
    if cell.comment:
        ws.write_comment(r, c, cell.comment, {"x_scale": 2, "y_scale": 1.2})


def _row_heights(ws, s: Sheet) -> None:
    """Heights for data rows whose text wraps (Excel does not size merged/wrapped rows on its own)."""
    need: dict[int, int] = {}
    for (r, c), cell in s.cells.items():
        if r < s.first_data_row or c >= s.table_cols or cell.fmt != "text" or not isinstance(cell.value, str):
            continue
        if s.row_styles.get(r) in UNBORDERED:
            continue
        need[r] = max(need.get(r, 1), _lines(cell.value, s.widths[c] * 12 / s.font_size))
    for r, n in need.items():
        if n > 1:
            ws.set_row(r, LINE_HEIGHT * s.font_size / 11 * n)


def _widths(s: Sheet) -> list[float]:
    """Given widths, widened where a number (formatted with separators) would not fit."""
    widths, pad = list(s.widths), 3 if s.font_size >= 11 else 0
    for (_r, c), cell in s.cells.items():
        if c < len(widths) and cell.fmt != "text" and isinstance(cell.value, int | float):
            widths[c] = max(widths[c], len(f"{cell.value:,.0f}") + pad)
    return widths


def _charts(wb, ws, s: Sheet) -> None:
    for ch in s.charts:
        chart = wb.add_chart({"type": ch.kind})
        for name, (r0, c0, r1, c1) in ch.series:
            series = {"name": name, "categories": [s.name, *ch.categories], "values": [s.name, r0, c0, r1, c1]}
            if ch.kind == "pie":
                series["data_labels"] = {"percentage": True, "leader_lines": True, "num_format": "0.00%",
                                         "position": "best_fit"}
            chart.add_series(series)
        chart.set_title({"name": ch.title, "name_font": {"size": 11, "bold": True}})
        if ch.kind == "bar":
            # in a bar chart xlsxwriter's x axis is the (horizontal) value axis, y the category axis
            chart.set_y_axis({"reverse": True, "label_position": "low", "num_font": {"size": 8}})
            chart.set_x_axis({"num_format": "#,##0", "major_gridlines": {"visible": True}})
            chart.set_legend({"position": "bottom"})
        else:
            chart.set_legend({"position": "right"})
        chart.set_size({"width": ch.size[0], "height": ch.size[1]})
        ws.insert_chart(ch.anchor[0], ch.anchor[1], chart, {"x_offset": 5, "y_offset": 5})


def _print_setup(ws, s: Sheet, lang: str) -> None:
    ws.set_paper(PAPER[s.paper])
    ws.set_landscape() if s.landscape else ws.set_portrait()
    ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
    ws.center_horizontally()
    if s.print_scale:
        ws.set_print_scale(s.print_scale)
    else:
        ws.fit_to_pages(s.pages_wide, 0)
    if len(s.col_pages) > 1:
        ws.set_v_pagebreaks([c0 for c0, _ in s.col_pages[1:]])
    ws.set_footer(FOOTER.get(lang, FOOTER["vi"]))
    if s.headers:
        ws.repeat_rows(*s.header_rows)
        ws.freeze_panes(*s.freeze)
    if s.repeat_cols:
        ws.repeat_columns(0, s.repeat_cols - 1)
        ws.print_across()
    if s.h_breaks:
        ws.set_h_pagebreaks(sorted(s.h_breaks))
    last = s.last_row_of_table()
    for ch in s.charts:  # a chart below the table prints with it (rows of the default 20 px)
        last = max(last, ch.anchor[0] + math.ceil((ch.size[1] + 10) / 20))
    ws.print_area(0, 0, last, max(s.table_cols - 1, 0))


def write_sheet(wb: xlsxwriter.Workbook, fm: Formats, s: Sheet, lang: str = "vi") -> None:
    ws = wb.add_worksheet(s.name, worksheet_class=FastFormulaWorksheet)
    fm.size = s.font_size
    for c, w in enumerate(_widths(s)):
        ws.set_column(c, c, w)
    _write_text_block(ws, fm, s)
    _write_headers(ws, fm, s)
    for (r, c), cell in sorted(s.cells.items()):
        in_table = c < s.table_cols
        plain = s.row_styles.get(r) in UNBORDERED
        bordered = bool(s.headers) and in_table and r >= s.first_data_row and not plain
        _write_cell(ws, fm, r, c, cell, s.row_styles.get(r, "normal") if in_table else "normal", bordered,
                    in_table and not plain, s.merges.get((r, c)))
    _row_heights(ws, s)
    _charts(wb, ws, s)
    fm.size = 11
    _print_setup(ws, s, lang)


def write_workbook(sheets: list[Sheet], path: Path | str, force: bool = False, lang: str = "vi",
                   properties: dict | None = None) -> Path:
    """Write ``sheets`` (in order) to ``path`` atomically; refuse to replace a user's file without ``force``."""
    path = Path(path)
    if not path.parent.exists():
        raise InputError("output folder does not exist", Location.of(path.parent))
    with atomic_path(path, force) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False, "nan_inf_to_errors": True})
        if properties:
            wb.set_properties(properties)
        fm = Formats(wb)
        for s in sheets:
            write_sheet(wb, fm, s, lang)
        wb.close()
    return path
