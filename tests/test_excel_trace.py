"""Every numeric cell of every sheet traces to the source: a printed figure (published table / inventory), a
figure the capability computed (allocation, estimate, findings), or the column's stated formula over such cells.

The workbook is read back with openpyxl and walked cell by cell; nothing is taken from the layout code. A
number that is neither a traced constant nor a formula of the kind its column states fails the test — that is
how an invented figure (a SUM over partly printed parts, a 0 for a blank) would show.
"""

from __future__ import annotations

import math
import re

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.cell import get_column_letter

from landuse.excel.workbook import Parts
from landuse.pipeline import build_tables
from tests.test_excel import check_every_formula

REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


@pytest.fixture(scope="module")
def traced(tmp_path_factory, langson):
    parts = Parts()
    path = tmp_path_factory.mktemp("trace") / "tables.xlsx"
    build_tables(langson, path, results=parts)
    return path, openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True), parts


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def number_row(ws) -> int:
    """The row of printed column numbers "(1) (2) …"."""
    return next(r for r in range(1, 12) if ws.cell(r, 1).value == "(1)")


def table_rows(ws) -> range:
    """The data rows: after the column numbers, up to the first empty row."""
    first = number_row(ws) + 1
    r = first
    while any(c.value not in (None, "") for c in ws[r]):
        r += 1
    return range(first, r)


def stated(ws) -> dict[int, str]:
    """Column index → its printed number, e.g. 8 → "(8)=(7)-(4)"."""
    return {c.column: str(c.value) for c in ws[number_row(ws)] if c.value}


def letter_of(numbers: dict[int, str], n: str) -> str:
    return get_column_letter(next(c for c, text in numbers.items() if text.split("=")[0] == n))


def expected_formula(numbers: dict[int, str], col: int, r: int) -> str | None:
    """The formula a derived column states for row ``r``: (k)=(a)-(b) or (k)=(a)/(b)*100."""
    m = re.fullmatch(r"\(\d+\)=(\(\d+\))([-/])(\(\d+\))(\*100)?", numbers[col])
    if not m:
        return None
    a, b = letter_of(numbers, m.group(1)), letter_of(numbers, m.group(3))
    if m.group(2) == "-":
        return f"={a}{r}-{b}{r}"
    return f'=IF({b}{r}=0,"",{a}{r}/{b}{r}*100)'


def is_parts_sum(formula: str, col_letter: str, rows_of_parts: set[int]) -> bool:
    """``=SUM(X7,X9,…)`` over exactly the cells of the parts in this column."""
    if not formula.startswith("=SUM("):
        return False
    refs = REF.findall(formula)
    return {c for c, _ in refs} == {col_letter} and {int(r) for _, r in refs} == rows_of_parts


def codes_by_row(ws, cls, code_col: str | None, names: dict[str, str] | None = None) -> dict[int, str]:
    out = {}
    for r in table_rows(ws):
        if code_col:
            v = ws[f"{code_col}{r}"].value
        else:
            v = (names or {}).get(str(ws[f"B{r}"].value))
        if v:
            out[r] = str(v)
    return out


def check_tree_sheet(ws, wv, cls, rows: dict[int, str], sources: dict[str, pd.Series | dict]) -> int:
    """Walk a tree table: constants equal their column's source by code; formulas are the stated difference /
    ratio, the share of the total, or the SUM of all the code's parts. Returns the number of cells checked."""
    numbers, n = stated(ws), 0
    row_of = {code: r for r, code in rows.items()}
    root_row = row_of.get(cls.root)
    for r, code in rows.items():
        for col, text in numbers.items():
            cell = ws.cell(r, col)
            if cell.value is None or not (cell.data_type == "f" or is_number(cell.value)):
                continue
            where = f"{ws.title}!{cell.coordinate} {code} {text}"
            L = get_column_letter(col)
            num = text.split("=")[0]
            if cell.data_type == "f":
                want = expected_formula(numbers, col, r)
                if want is not None:
                    assert cell.value == want, where
                elif cell.value.startswith("=SUM("):
                    parts = set(cls.parts(code)) if code in cls.table.index else set()
                    assert parts <= set(row_of), where  # every part shown …
                    assert is_parts_sum(cell.value, L, {row_of[p] for p in parts}), where
                    assert all(is_number(wv.cell(row_of[p], col).value) for p in parts), where  # … and printed
                else:  # a share of the total, of the area column to its left: =D7/D$5*100
                    left = get_column_letter(col - 1)
                    assert cell.value == f"={left}{r}/{left}${root_row}*100", where
            else:
                src = sources.get(num)
                assert src is not None, f"{where}: a number in a column without a source"
                v = src.get(code) if hasattr(src, "get") else None
                assert v is not None and not (isinstance(v, float) and math.isnan(v)), f"{where}: not in the source"
                assert cell.value == pytest.approx(float(v), abs=1e-6), where
            n += 1
    return n


def test_tree_sheets_trace_to_the_source(traced, langson):
    _, wb, wv, parts = traced
    cls = langson.classification
    stock = {y: langson.stock(y) for y in langson.years}
    t4, t26 = langson.tables["bang4"], langson.tables["bang26"]
    alloc = parts.allocation.table.set_index("code")
    ful = parts.fulfilment.table
    n = check_tree_sheet(wb["Hiện trạng 2024"], wv["Hiện trạng 2024"], cls,
                         codes_by_row(wb["Hiện trạng 2024"], cls, "C"), {"(4)": stock[2024]})
    names = {cls.name(c): c for c in cls.codes}
    n += check_tree_sheet(wb["Biến động"], wv["Biến động"], cls, codes_by_row(wb["Biến động"], cls, None, names),
                          {"(3)": stock[2014], "(4)": stock[2019], "(5)": stock[2024]})
    fnames = dict(zip(ful["name"], ful["code"], strict=True))
    n += check_tree_sheet(wb["Thực hiện quy hoạch"], wv["Thực hiện quy hoạch"], cls,
                          codes_by_row(wb["Thực hiện quy hoạch"], cls, None, fnames),
                          {"(3)": t4.values("c3"), "(4)": t4.values("c4"), "(5)": t4.values("c5")})
    n += check_tree_sheet(wb["Phân bổ 2030"], wv["Phân bổ 2030"], cls, codes_by_row(wb["Phân bổ 2030"], cls, "C"),
                          {"(4)": t26.values("c4"), "(5)": stock[2024], "(6)": t26.values("c6"),
                           "(7)": alloc["area_2030"], "(11)": alloc["target"]})
    assert n > 700


MATRIX_LABELS = {"Chưa phân bổ": "chua_phan_bo", "Tăng khác": "tang_khac", "Giảm khác": "giam_khac"}


def check_matrix_sheet(ws, matrix: pd.DataFrame) -> int:
    """Constants of a from × to matrix equal the capability's matrix; every other number is a SUM of the body
    (row: the cells to its right; column: cells above) or an end − start difference."""
    if "code_from" in matrix.columns:
        matrix = matrix.set_index("code_from")
    nr = number_row(ws)
    to_of = {}
    for c in ws[nr - 1]:
        label = ws.cell(nr - 1, c.column).value or ws.cell(nr - 2, c.column).value
        if c.column > 4 and label:
            to_of[c.column] = next((k for t, k in MATRIX_LABELS.items() if str(label).startswith(t)), str(label))
    n = 0
    for r in table_rows(ws):
        label = str(ws[f"B{r}"].value or "")
        frm = ws[f"C{r}"].value or next((k for t, k in MATRIX_LABELS.items() if label.startswith(t)), None)
        for c in range(4, ws.max_column + 1):
            cell = ws.cell(r, c)
            if cell.value is None:
                continue
            where = f"{ws.title}!{cell.coordinate}"
            if cell.data_type == "f":
                assert re.fullmatch(r"=SUM\([A-Z$0-9:,]+\)|=[A-Z]+\d+-[A-Z]+\d+", cell.value), where
            else:
                assert is_number(cell.value), where
                assert frm in matrix.index and to_of[c] in matrix.columns, f"{where}: {frm} → {to_of.get(c)}"
                assert cell.value == pytest.approx(float(matrix.at[frm, to_of[c]])), where
            n += 1
    return n


def test_matrix_sheets_trace_to_the_capability(traced):
    _, wb, _, parts = traced
    n = check_matrix_sheet(wb["Chu chuyển"], parts.estimate.matrix)
    n += check_matrix_sheet(wb["Chuyển mục đích 2024-2030"], parts.allocation.conversions)
    assert n > 1000


def test_findings_figures_trace_to_the_printed_cells(traced, langson):
    """"Giá trị in" of each finding is the figure printed at its table, code and column; the difference is
    printed − recomputed."""
    from landuse.wording import find_column

    _, wb, _, parts = traced
    ws = wb["Kiểm tra"]
    found = parts.findings
    head = {c.value: c.column for c in ws[number_row_findings(ws)]}
    checked = 0
    for r in range(number_row_findings(ws) + 1, ws.max_row + 1):
        printed, recomputed, diff = (ws.cell(r, head[k]).value for k in ("Giá trị in", "Giá trị tính lại",
                                                                         "Chênh lệch"))
        if is_number(printed) and is_number(recomputed) and is_number(diff):
            assert diff == pytest.approx(printed - recomputed, abs=1e-6), r
        source, code = ws.cell(r, head["Nguồn"]).value, ws.cell(r, head["Mã"]).value
        table = next((t for t in langson.tables.values() if t.title.split(".")[0] == source), None)
        column = str(ws.cell(r, head["Cột"]).value or "").split(" ")[0]
        spec = find_column(table, column) if table is not None else None
        if spec is not None and is_number(printed):
            assert table.values(spec.id).get(code) == pytest.approx(printed), (r, source, code, column)
            checked += 1
    assert checked > 80 and len(found) > 100


def number_row_findings(ws) -> int:
    return next(r for r in range(1, 6) if ws.cell(r, 1).value == "STT")


def test_every_formula_of_the_real_workbook_recomputes(traced):
    assert check_every_formula(traced[0]) > 1000


def test_no_number_outside_the_traced_sheets(traced):
    """Every sheet with numbers is one the tests above walk (a new sheet must add its trace)."""
    _, wb, _, _ = traced
    walked = {"Hiện trạng 2024", "Biến động", "Thực hiện quy hoạch", "Phân bổ 2030", "Chu chuyển",
              "Chuyển mục đích 2024-2030", "Kiểm tra"}
    with_numbers = {ws.title for ws in wb for row in ws.iter_rows() for c in row
                    if is_number(c.value) or c.data_type == "f"}
    assert with_numbers <= walked, with_numbers - walked
