"""The in-memory model of one worksheet: cells (values or live formulas with cached values), headers, print setup.

Layout functions (:mod:`landuse.excel.layouts`) build :class:`Sheet` objects from DataFrames; only
:mod:`landuse.excel.writer` turns them into an ``.xlsx`` file. Keeping the model free of xlsxwriter lets every sheet
be tested with small hand-made frames. Rows and columns are 0-based, as in xlsxwriter; :func:`ref` gives the
A1 reference that a formula uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from landuse.readers.forms import column_letter as col_letter

# Header translations: every text a sheet prints that is not data. Vietnamese texts are those of the report.
TEXTS: dict[str, tuple[str, str]] = {
    "stt": ("STT", "No."),
    "tt": ("TT", "No."),
    "land_type": ("Loại đất theo mục đích sử dụng", "Land type by purpose of use"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "indicator_use": ("Chỉ tiêu sử dụng đất", "Land-use indicator"),
    "land": ("Loại đất", "Land type"),
    "code": ("Mã", "Code"),
    "area_ha": ("Tổng diện tích (ha)", "Total area (ha)"),
    "share_pct": ("Tỷ lệ so với diện tích tự nhiên (%)", "Share of natural area (%)"),
    "status": ("Hiện trạng", "Status"),
    "change": ("Biến động", "Change"),
    "status_year_ha": ("Hiện trạng năm {y} (ha)", "Status {y} (ha)"),
    "status_year": ("Hiện trạng năm {y}", "Status {y}"),
    "approved": ("Phương án được duyệt", "Approved plan"),
    "approved_star": ("Phương án được duyệt*", "Approved plan*"),
    "result_to": ("Kết quả thực hiện đến năm {y}", "Achieved by {y}"),
    "area_only": ("Diện tích (ha)", "Area (ha)"),
    "cmp_plan_base": ("So sánh PA được duyệt với HT năm {b}", "Approved plan minus status {b}"),
    "cmp_actual_base": ("So sánh HT năm {y} với HT năm {b}", "Status {y} minus status {b}"),
    "ratio": ("Tỷ lệ thực hiện (%)", "Fulfilment (%)"),
    "remaining": ("Còn phải thực hiện đến năm {t}", "Remaining to {t}"),
    "assessment": ("Đánh giá", "Assessment"),
    "allocated": ("Phân bổ đến năm {t}", "Allocated {t}"),
    "compare": ("So sánh", "Comparison"),
    "vs_year": ("So với năm {y}", "vs {y}"),
    "vs_plan": ("So với phương án được duyệt", "vs approved plan"),
    "target": ("Chỉ tiêu của kịch bản", "Scenario target"),
    "deviation": ("Sai lệch so với chỉ tiêu", "Deviation from target"),
    "area_year": ("Diện tích năm {y}", "Area {y}"),
    "to_types": ("Loại đất năm {y}", "Land type in {y}"),
    "decrease_other": ("Giảm khác", "Other decrease"),
    "increase_other": ("Tăng khác", "Other increase"),
    "unreconciled_short": ("Chưa phân bổ", "Unreconciled"),
    "end_total": ("Tổng diện tích năm {y} (tổng của hàng này)", "Total area {y} (sum of this row)"),
    "net_change": ("Biến động (tăng +, giảm −)", "Net change (increase +, decrease −)"),
    "unreconciled": ("Chưa phân bổ (các loại đất không cộng khớp tổng)",
                     "Unreconciled: parts do not add up to the total"),
    "end_area": ("Diện tích năm {y}", "Area {y}"),
    "admin_unit": ("Đơn vị hành chính", "Administrative unit"),
    "unit_total": ("Tổng diện tích tự nhiên", "Total area"),
    "all_units": ("Toàn tỉnh (tổng các đơn vị)", "Whole province (sum of units)"),
    "of_which": ("Trong đó:", "of which:"),
    "unit_ha": ("Đơn vị tính: ha", "Unit: ha"),
    "structure": ("Diện tích, cơ cấu sử dụng đất năm {y}", "Land area and structure {y}"),
    "chart_changes": ("Biến động theo loại đất", "Change by land type"),
    "chart_data": ("Số liệu biểu đồ", "Chart data"),
    "share_short": ("Tỷ lệ (%)", "Share (%)"),
    "area_short": ("Diện tích (ha)", "Area (ha)"),
    "parts_sum": ("Tổng các thành phần = {s} (chênh lệch {d}); giữ số liệu nguồn",
                  "Sum of the parts = {s} (difference {d}); source value kept"),
    "sign_place": ("{p}, ngày ..... tháng ..... năm ..........", "{p}, date .........................."),
    "sign_maker": ("NGƯỜI LẬP BIỂU", "PREPARED BY"),
    "sign_head": ("THỦ TRƯỞNG CƠ QUAN", "HEAD OF THE AGENCY"),
    "sign_maker_note": ("(Ký, ghi rõ họ tên)", "(signature, full name)"),
    "sign_head_note": ("(Ký tên, đóng dấu)", "(signature and seal)"),
    "appendix": ("Phụ biểu {n}", "Annex table {n}"),
    "parts_blank": ("Để trống như số liệu nguồn: không cộng được vì các thành phần {codes} không có số liệu",
                    "Left blank as in the source: no sum, the parts {codes} have no figure"),
}

SEVERITY_ORDER = {"error": 0, "rounding": 1, "info": 2}


def t(key: str, lang: str = "vi", **kw: object) -> str:
    """The header text ``key`` in ``lang`` (vi | en) with ``{placeholders}`` filled in."""
    vi, en = TEXTS[key]
    return (vi if lang == "vi" else en).format(**kw)


def ref(row: int, col: int, abs_row: bool = False, abs_col: bool = False) -> str:
    """A1 reference of 0-based (row, col)."""
    return f"{'$' if abs_col else ''}{col_letter(col)}{'$' if abs_row else ''}{row + 1}"


def sheet_ref(sheet: str, row: int, col: int) -> str:
    """``'Sheet name'!B7``: a reference usable in formulas and internal links (quotes doubled)."""
    return "'" + sheet.replace("'", "''") + "'!" + ref(row, col)


def is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


@dataclass(slots=True)
class Cell:
    """One cell: a constant ``value`` or a ``formula`` (without the leading ``=``) whose cached result is ``value``.

    ``fmt``: text | ha | pct | ratio | int | matrix | date; ``link``: an internal target (``'Sheet'!B7``).
    """

    value: object = None
    formula: str | None = None
    fmt: str = "text"
    link: str | None = None
    comment: str | None = None
    bold: bool = False
    italic: bool = False
    align: str | None = None


@dataclass
class Chart:
    """A native chart: ``kind`` pie | bar; series are (name, categories range, values range) in A1 on ``sheet``."""

    kind: str
    title: str
    categories: tuple[int, int, int, int]  # first_row, col, last_row, col
    series: list[tuple[str, tuple[int, int, int, int]]]
    anchor: tuple[int, int]
    size: tuple[int, int] = (480, 320)


@dataclass
class Sheet:
    """A worksheet under construction: title lines, merged headers, the column-number row, data rows."""

    name: str
    title: str
    widths: list[float]
    subtitle: list[str] = field(default_factory=list)
    measure: str | None = None  # the unit of measure line ("Đơn vị tính: ha")
    headers: list[tuple[int, int, int, int, str]] = field(default_factory=list)  # r0, c0, r1, c1, text
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    row_styles: dict[int, str] = field(default_factory=dict)  # row → group | ofwhich | marker | total
    header_rows: tuple[int, int] = (0, 0)  # first and last header row (for repeat_rows)
    freeze: tuple[int, int] = (0, 0)
    last_row: int = 0
    table_cols: int = 0  # columns of the table proper (print area); chart data lies to the right
    pages_wide: int = 1
    repeat_cols: int = 0  # leading columns repeated on every printed page (wide matrices)
    charts: list[Chart] = field(default_factory=list)
    anchors: dict[tuple[str, tuple], tuple[int, int]] = field(default_factory=dict)
    row_of: dict[str, int] = field(default_factory=dict)
    mirrors: str | None = None  # id of the published table this sheet reproduces
    landscape: bool = True
    font_size: float = 11  # body font (pt); the printed size is font_size × print_scale / 100
    paper: str = "A4"  # A4 | A3
    print_scale: int | None = None  # fixed print scale (%); None: fit to pages_wide pages across
    col_pages: list[tuple[int, int]] = field(default_factory=list)  # columns of each printed page across
    table_end: int = 0  # last row of the table proper (set when the table is finished)
    h_breaks: list[int] = field(default_factory=list)  # rows that start a new printed page
    merges: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # (r0, c0) → (r1, c1), no border
    signed: bool = True  # an official table: place/date line and signature block under it
    number: str | None = None  # "Bảng 2", "Biểu 05/TKKK": the title's number as the report prints it

    # ---- building -----------------------------------------------------------------------------------
    def put(self, row: int, col: int, cell: Cell) -> None:
        self.cells[(row, col)] = cell
        self.last_row = max(self.last_row, row)

    def head(self, r0: int, c0: int, r1: int, c1: int, text: str) -> None:
        self.headers.append((r0, c0, r1, c1, text))

    def start_table(self, n_header_rows: int, numbers: list[str] | None = None) -> int:
        """Place title lines; return the first header row. Header rows follow, then the number row."""
        first = 1 + len(self.subtitle) + (1 if self.measure else 0)
        self.header_rows = (first, first + n_header_rows - (0 if numbers else 1))
        if numbers:
            for c, n in enumerate(numbers):
                self.head(first + n_header_rows, c, first + n_header_rows, c, n)
        self.last_row = self.header_rows[1]
        return first

    @property
    def first_data_row(self) -> int:
        return self.header_rows[1] + 1

    def set_width(self, col: int, width: float) -> None:
        """Width of ``col`` in characters (columns beyond the table get their width here, e.g. chart data)."""
        while len(self.widths) <= col:
            self.widths.append(9.0)
        self.widths[col] = width

    def last_row_of_table(self) -> int:
        """Last row holding a cell of the table proper (chart data to the right not counted)."""
        return max([r for (r, c) in self.cells if c < max(self.table_cols, 1)] + [self.header_rows[1]])

    def value(self, row: int, col: int) -> object:
        c = self.cells.get((row, col))
        return None if c is None else c.value


def fmt_number(v: float, lang: str) -> str:
    """Whole-ha text for notes: 44.172 (vi) or 44,172 (en)."""
    s = f"{v:,.0f}"
    return s.replace(",", ".") if lang == "vi" else s
