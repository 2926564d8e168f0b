"""The official-tables workbook, read back with openpyxl: names, headers, values, live formulas, links, safety."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from landuse.cli import main
from landuse.errors import InputError
from landuse.excel.layouts import matrix_sheet
from landuse.excel.sheets import allocation_sheet, findings_sheet, fulfilment_sheet
from landuse.excel.workbook import Parts, build_sheets, link_resolver
from landuse.excel.writer import CLASSIC_FUNCTIONS, FastFormulaWorksheet, write_workbook
from landuse.findings import conform
from landuse.pipeline import build_tables
from landuse.transitions.estimate import estimate_transitions
from tests.conftest import MINI

EVIL = '=HYPERLINK("x")'


@pytest.fixture(scope="module")
def book(tmp_path_factory, langson):
    """The bundled dataset's workbook (whatever capabilities are installed), opened twice: formulas and values."""
    path = tmp_path_factory.mktemp("xl") / "tables.xlsx"
    build_tables(langson, path)
    return path, openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


def rows_by_label(ws, col: str, first: int = 1) -> dict[str, int]:
    """Row number of each non-empty label in column ``col`` of the table that starts at or after row ``first``
    (up to the first empty row after it: the signature block and the chart data come after a gap)."""
    out, seen = {}, False
    for r in range(first, ws.max_row + 1):
        empty = all(c.value in (None, "") for c in ws[r])
        if empty and seen:
            break
        seen = seen or not empty
        if ws[f"{col}{r}"].value:
            out[str(ws[f"{col}{r}"].value)] = r
    return out


def header_texts(ws, last_row: int = 8) -> set[str]:
    return {str(c.value) for row in ws.iter_rows(min_row=1, max_row=last_row) for c in row if c.value is not None}


# ---- an independent evaluator of the workbook's formulas ------------------------------------------------------
TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(?P<str>"(?:[^"]|"")*")
                   |(?P<ref>(?:'(?:[^']|'')+'!|[A-Za-z_][\w.]*!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)
                   |(?P<func>[A-Z]+)\(|(?P<op>[-+*/=(),]))""", re.X)


class Formulas:
    """Recompute the formulas of an openpyxl workbook (loaded with formulas) from its constants.

    Supports exactly what the workbook writes: numbers, "" strings, A1 references and ranges (optionally on
    another sheet), + - * / and unary minus, ``=`` comparison, ``SUM(...)`` and ``IF(c, a, b)``. A referenced
    formula cell is recomputed in turn (never read from the cache); a blank cell is 0 in arithmetic and skipped
    by SUM; text in arithmetic is an error. Anything else raises, so an unforeseen formula fails the test.
    """

    def __init__(self, wb):
        self.wb, self.memo = wb, {}

    def value(self, sheet: str, coord: str):
        key = (sheet, coord)
        if key not in self.memo:
            v = self.wb[sheet][coord].value
            if isinstance(v, str) and v.startswith("=") and self.wb[sheet][coord].data_type == "f":
                self.memo[key] = None  # a reference cycle would read a blank; none is expected
                self.memo[key] = self.evaluate(sheet, v[1:])
            else:
                self.memo[key] = v
        return self.memo[key]

    def evaluate(self, sheet: str, text: str):
        tokens, pos = [], 0
        while pos < len(text):
            m = TOKEN.match(text, pos)
            assert m and m.end() > pos, f"cannot read formula {text!r} at {pos}"
            tokens.append((m.lastgroup, m.group(m.lastgroup)))
            pos = m.end()
        self.tokens, self.i, self.sheet = tokens, 0, sheet
        out = self.compare()
        assert self.i == len(tokens), f"trailing tokens in {text!r}"
        return out

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        assert value is None or tok[1] == value, f"expected {value!r}, got {tok}"
        self.i += 1
        return tok

    def compare(self):
        left = self.additive()
        if self.peek() == ("op", "="):
            self.take()
            return left == self.additive()
        return left

    def additive(self):
        v = self.multiplicative()
        while self.peek() in (("op", "+"), ("op", "-")):
            op, w = self.take()[1], self.multiplicative()
            v = num(v) + num(w) if op == "+" else num(v) - num(w)
        return v

    def multiplicative(self):
        v = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op, w = self.take()[1], self.unary()
            v = num(v) * num(w) if op == "*" else num(v) / num(w)
        return v

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return -num(self.unary())
        return self.primary()

    def primary(self):
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "ref":
            cells = self.cells(text)
            assert len(cells) == 1, f"range {text} outside SUM"
            return cells[0]
        if kind == "op" and text == "(":
            v = self.compare()
            self.take(")")
            return v
        if kind == "func":
            args = [self.argument()]
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.argument())
            self.take(")")
            if text == "SUM":
                return sum(num(v) for a in args for v in (a if isinstance(a, list) else [a])
                           if v is not None and v != "")
            if text == "IF" and len(args) == 3:
                return args[1] if args[0] else args[2]
        raise AssertionError(f"unsupported formula element {kind} {text!r}")

    def argument(self):
        kind, text = self.peek()
        nxt = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else (None, None)
        if kind == "ref" and nxt[1] in (",", ")"):
            self.take()
            return self.cells(text)
        return self.compare()

    def cells(self, text: str) -> list:
        sheet = self.sheet
        if "!" in text:
            prefix, text = text.rsplit("!", 1)
            sheet = prefix[1:-1].replace("''", "'") if prefix.startswith("'") else prefix
        text = text.replace("$", "")
        first, _, last = text.partition(":")
        c0, r0 = openpyxl.utils.cell.coordinate_from_string(first)
        c1, r1 = openpyxl.utils.cell.coordinate_from_string(last or first)
        i0, i1 = (openpyxl.utils.cell.column_index_from_string(c) for c in (c0, c1))
        saved = (self.tokens, self.i, self.sheet)
        out = [self.value(sheet, f"{openpyxl.utils.cell.get_column_letter(c)}{r}")
               for r in range(r0, r1 + 1) for c in range(i0, i1 + 1)]
        self.tokens, self.i, self.sheet = saved
        return out


def num(v) -> float:
    assert not isinstance(v, str) or v == "", f"text {v!r} in arithmetic"
    return 0.0 if v in (None, "") else float(v)


def check_every_formula(path) -> int:
    """Recompute every formula cell of every sheet and compare with its cached value; the number checked."""
    wb, cached = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    ev, n = Formulas(wb), 0
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                got, want = ev.value(ws.title, c.coordinate), cached[ws.title][c.coordinate].value
                where = f"{ws.title}!{c.coordinate} {c.value}"
                if got in (None, ""):
                    assert want in (None, ""), where
                else:
                    assert isinstance(want, (int, float)), f"{where}: no cached number (recomputed {got})"
                    assert want == pytest.approx(got, rel=1e-9, abs=1e-6), where
                n += 1
    return n


def test_formula_evaluator_on_hand_made_cells():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "A b"
    ws["A1"], ws["A2"], ws["A3"], ws["A5"] = 10, 4, "=SUM(A1:A2,A4)-A1/$A$2*2", '=IF(A2-4=0,"",A1/A2*100)'
    ws["A6"] = "=-'A b'!A3+A5"
    ev = Formulas(wb)
    assert ev.value("A b", "A3") == 14 - 5 and ev.value("A b", "A5") == "" and ev.value("A b", "A6") == -9
    ws["A7"] = "=ROUND(A1,0)"
    with pytest.raises(AssertionError, match="unsupported"):
        Formulas(wb).value("A b", "A7")


def test_formula_check_catches_a_wrong_cached_value(tmp_path):
    import xlsxwriter

    path = tmp_path / "w.xlsx"
    with xlsxwriter.Workbook(path) as w:
        ws = w.add_worksheet("S")
        ws.write_number("A1", 3)
        ws.write_number("A2", 4)
        ws.write_formula("A3", "=A1+A2", None, 7)
        ws.write_formula("A4", "=A3*2", None, 15)  # should be 14
    with pytest.raises(AssertionError, match=r"S!A4 =A3\*2"):
        check_every_formula(path)


def test_every_formula_recomputes_to_its_cached_value(tmp_path, langson):
    """The independent check of every derived cell: the whole workbook (every part), each formula recomputed by
    the evaluator above from the constants it depends on and compared with the value cached by the writer."""
    import landuse.fulfilment as ful
    parts = fake_parts(langson)
    parts.estimate = estimate_transitions(langson, 2019, 2024)
    parts.fulfilment = ful.assess(langson)
    res = build_tables(langson, tmp_path / "all.xlsx", results=parts)
    wb = openpyxl.load_workbook(res.path)
    with_formulas = {ws.title for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"}
    assert {"Hiện trạng 2024", "Biến động", "Chu chuyển", "Thực hiện quy hoạch", "Phân bổ 2030",
            "Chuyển mục đích 2024-2030"} <= with_formulas
    assert check_every_formula(res.path) > 500


def test_sheet_names_and_order(book):
    _, wb, _ = book
    assert wb.sheetnames[:3] == ["Thông tin chung", "Hiện trạng 2024", "Biến động"]
    assert all(len(n) <= 31 for n in wb.sheetnames)


def test_bang2_headers_as_printed(book):
    _, wb, _ = book
    # Bảng 2 header, 003 l.3957-3966
    heads = header_texts(wb["Hiện trạng 2024"])
    assert {"STT", "Loại đất theo mục đích sử dụng", "Mã", "Tổng diện tích (ha)",
            "Tỷ lệ so với diện tích tự nhiên (%)", "(1)", "(2)", "(3)", "(4)", "(5)"} <= heads


def test_bang3_headers_as_printed(book):
    _, wb, _ = book
    # Bảng 3 header, 003 l.4445-4471
    heads = header_texts(wb["Biến động"])
    assert {"STT", "Loại đất theo mục đích sử dụng", "Hiện trạng", "Biến động", "2014", "2019", "2024",
            "2014-2019", "2019-2024", "2014-2024", "(6)=(4)-(3)", "(7)=(5)-(4)", "(8)=(5)-(3)"} <= heads
    ws = wb["Biến động"]
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert "C3:E3" in merged and "F3:H3" in merged  # "Hiện trạng" over (3)-(5), "Biến động" over (6)-(8)


def test_bang2_every_value_equals_the_dataset(book, langson):
    _, wb, vals = book
    ws, wv = wb["Hiện trạng 2024"], vals["Hiện trạng 2024"]
    stock = langson.stock(2024)
    rows = rows_by_label(ws, "C", 5)
    assert set(rows) == set(stock.index)  # every code of the 2024 inventory, nothing else (no LMU, MCS)
    total = stock["TS"]
    for code, r in rows.items():
        v = wv[f"D{r}"].value
        if math.isnan(stock[code]):
            assert v is None, code
            continue
        assert v == pytest.approx(stock[code]), code
        # (5) is a live formula on (4) and the natural area; its cached value is 100 * area / total
        assert ws[f"E{r}"].value == f"=D{r}/D${rows['TS']}*100"
        assert wv[f"E{r}"].value == pytest.approx(100 * stock[code] / total)


def test_bang2_shares_round_to_the_printed_column_5(book, langson):
    """Independent check: the cached shares agree with Bảng 2 col (5) as printed, within its rounding (the
    report divides unrounded areas, so the second decimal may differ by one, e.g. CCC 2,14 vs 2,135)."""
    _, wb, vals = book
    rows = rows_by_label(wb["Hiện trạng 2024"], "C", 5)
    printed = langson.tables["bang2"].values("c5").dropna()
    for code, p in printed.items():
        assert abs(vals["Hiện trạng 2024"][f"E{rows[code]}"].value - p) <= 0.0105, code


def test_bang2_parent_sums_are_formulas_only_where_the_parts_add_up(book):
    _, wb, vals = book
    ws = wb["Hiện trạng 2024"]
    rows = rows_by_label(ws, "C", 5)
    # LUA = LUC + LUK: 20.895 + 22.854 = 43.749 as printed (Bảng 2, l.3971-3973) -> live SUM
    assert ws[f"D{rows['LUA']}"].value == f"=SUM(D{rows['LUC']},D{rows['LUK']})"
    assert vals["Hiện trạng 2024"][f"D{rows['LUA']}"].value == 43749
    # TS printed 830.732 but NNP + PNN + CSD = 737.373 + 53.842 + 39.516 = 830.731 -> value kept, comment says so
    cell = ws[f"D{rows['TS']}"]
    assert cell.value == 830732
    assert cell.comment is not None and "830.731" in cell.comment.text
    # DSN printed 998, its parts add to 999 (6.1-6.10, l.4012-4023) -> constant
    assert ws[f"D{rows['DSN']}"].value == 998


def test_bang2_numbering_and_styles(book):
    _, wb, _ = book
    ws = wb["Hiện trạng 2024"]
    rows = rows_by_label(ws, "C", 5)
    assert [ws[f"A{rows[c]}"].value for c in ["NNP", "LUA", "LUC", "PNN", "DVH", "CSD"]] == \
        ["I", "1", "1.1", "II", "6.1", "III"]
    assert ws[f"B{rows['NNP'] + 1}"].value == "Trong đó:"  # as printed after I and II
    assert ws[f"B{rows['NNP']}"].font.b and not ws[f"B{rows['LUA']}"].font.b
    assert ws[f"B{rows['RSN']}"].font.i  # of-which row in italics
    assert ws[f"D{rows['LUA']}"].number_format == "#,##0" and ws[f"E{rows['LUA']}"].number_format == "0.00"


def test_bang3_values_and_difference_formulas(book, langson):
    _, wb, vals = book
    ws, wv = wb["Biến động"], vals["Biến động"]
    names = {langson.classification.name(c): c for c in langson.classification.codes}
    stocks = {y: langson.stock(y) for y in (2014, 2019, 2024)}
    rows = {names[v]: r for v, r in rows_by_label(ws, "B", 6).items() if v in names}
    assert set(rows) == set().union(*(set(s.index) for s in stocks.values()))
    cols = {2014: "C", 2019: "D", 2024: "E"}
    diffs = {"F": (2019, 2014), "G": (2024, 2019), "H": (2024, 2014)}
    for code, r in rows.items():
        for y, c in cols.items():
            v = stocks[y].get(code, np.nan)
            got = wv[f"{c}{r}"].value
            assert (got is None) if pd.isna(v) else got == pytest.approx(v), (code, y)
        for c, (b, a) in diffs.items():
            d = stocks[b].get(code, np.nan) - stocks[a].get(code, np.nan)
            if pd.isna(d):
                assert wv[f"{c}{r}"].value is None, (code, c)
            else:
                assert ws[f"{c}{r}"].value == f"={cols[b]}{r}-{cols[a]}{r}"
                assert wv[f"{c}{r}"].value == pytest.approx(d), (code, c)
    # Bảng 3 row "1.1 Đất trồng lúa": 44.171, 43.661, 43.749 → -510, 88, -422 (l.4479)
    r = rows["LUA"]
    assert [wv[f"{c}{r}"].value for c in "FGH"] == [-510, 88, -422]


def test_bang3_matches_net_change_of_the_library(book, langson):
    import landuse.transitions.change as change
    _, wb, vals = book
    nc = change.net_change(langson, 2019, 2024).set_index("code")["change"]
    ws = wb["Biến động"]
    names = {langson.classification.name(c): c for c in langson.classification.codes}
    rows = {names[v]: r for v, r in rows_by_label(ws, "B", 6).items() if v in names}
    checked = blanks = 0
    for code, d in nc.items():
        if code not in rows:
            continue
        cell = vals["Biến động"][f"G{rows[code]}"].value
        if pd.isna(d):   # a blank operand (e.g. SKK 2019): the sheet leaves the cell blank too
            assert cell is None, (code, cell)
            blanks += 1
        else:
            assert cell == pytest.approx(d), code
        checked += 1
    assert checked > 40 and blanks >= 1
    assert nc["SKK"] != nc["SKK"] and vals["Biến động"][f"G{rows['SKK']}"].value is None


def test_print_setup(book):
    _, wb, _ = book
    for name in ["Hiện trạng 2024", "Biến động"]:
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows and ws.freeze_panes
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text


def test_charts_present(book):
    _, wb, _ = book
    assert len(wb["Hiện trạng 2024"]._charts) == 1  # structure pie NNP / PNN / CSD
    assert len(wb["Biến động"]._charts) == 1  # changes per land type
    ws = wb["Hiện trạng 2024"]
    data = {ws.cell(r, 2).value: ws.cell(r, 4).value for r in range(1, ws.max_row + 1)}
    rows = rows_by_label(ws, "C", 5)
    assert data["Nhóm đất nông nghiệp"] == f"=D{rows['NNP']}"  # the chart data refers to the table's cell


def test_cover_lists_sources(book):
    _, wb, _ = book
    texts = header_texts(wb["Thông tin chung"], 60)
    assert "85-87" in texts and "93-95" in texts  # pages of Bảng 2 and Bảng 3 from the manifest
    assert any(t.startswith("landuse ") for t in texts)


def test_plan_sheets_number_rows_by_position_not_as_misprinted(book, tmp_path, langson):
    """Bảng 4 (l.5302-5385) lists DVH … DBV straight under group 2 as 2.4 … 2.14 but prints "8" for SKK at
    position 2.8 (transcriber's note in bang4.csv); Bảng 26 prints "1.10" for NKH with no 1.9 row (l.23492).
    The generated sheets number by position: 2.8 and 1.9."""
    _, wb, _ = book
    ws = wb["Thực hiện quy hoạch"]
    stt = {ws[f"B{r}"].value: ws[f"A{r}"].value for r in range(6, ws.max_row + 1)}
    name = langson.classification.name
    assert [stt[name(c)] for c in ["DVH", "DTT", "SKK", "DGT", "DBV"]] == ["2.4", "2.7", "2.8", "2.9", "2.14"]
    assert [stt[name(c)] for c in ["NNP", "LUA", "CLN", "PNN", "TSC", "CSD"]] == ["1", "1.1", "1.2", "2", "2.1", "3"]
    assert stt[name("RSN")] in ("", None)  # of-which row
    a = build_sheets(langson, fake_parts(langson))
    alloc = next(s for s in a if s.name == "Phân bổ 2030")
    nums = {code: alloc.value(r, 0) for code, r in alloc.row_of.items()}
    assert (nums["NTS"], nums["CNT"], nums["NKH"], nums["SKK"]) == ("1.7", "1.8", "1.9", "2.7.1")


def test_cover_notes_in_the_workbook_language(tmp_path):
    from landuse.dataset import load_dataset

    ds = load_dataset(MINI)  # no plan: the fulfilment sheet is skipped, with a note
    for lang, text in [("vi", "Thực hiện quy hoạch: bỏ qua (bộ dữ liệu không khai báo phương án quy hoạch)"),
                       ("en", "fulfilment: skipped (the dataset defines no plan)")]:
        res = build_tables(ds, tmp_path / f"{lang}.xlsx", lang=lang)
        ws = openpyxl.load_workbook(res.path).worksheets[0]
        notes = [r[1] for r in ws.iter_rows(values_only=True) if r[0] in ("Ghi chú", "Note")]
        assert text in notes, notes
        assert "fulfilment: skipped (the dataset defines no plan)" in res.notes  # the terminal stays English


def test_english_labels(tmp_path, langson):
    path = build_tables(langson, tmp_path / "en.xlsx", lang="en").path
    wb = openpyxl.load_workbook(path)
    assert "Land use 2024" in wb.sheetnames and "Change" in wb.sheetnames
    ws = wb["Land use 2024"]
    assert "Land type by purpose of use" in header_texts(ws)
    assert "Agricultural land group" in {c.value for c in ws["B"]}


def test_other_dataset_without_published_tables(tmp_path):
    from landuse.dataset import load_dataset

    ds = load_dataset(MINI)
    wb = openpyxl.load_workbook(build_tables(ds, tmp_path / "m.xlsx").path, data_only=True)
    ws = wb["Hiện trạng 2024"]
    rows = rows_by_label(ws, "C", 5)
    assert ws[f"D{rows['TS']}"].value == pytest.approx(ds.stock(2024)["TS"])
    assert ws[f"A{rows['NNP']}"].value == "I"
    assert "Biến động" in wb.sheetnames


# ---- layouts from hand-made frames ---------------------------------------------------------------------------
def _save(sheets, tmp_path, name="t.xlsx"):
    path = write_workbook(sheets, tmp_path / name)
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True), path


def test_fulfilment_layout_formulas(tmp_path, vn2024):
    # DOMAIN §4.3 synthetic example: 1.000 → plan 1.500, 1.200 in 2024: (6)=500, (7)=200, (8)=40,00
    df = pd.DataFrame({"code": ["LUA", "CLN"], "name": ["Đất trồng lúa", "Đất trồng cây lâu năm"],
                       "baseline": [1000.0, 300.0], "plan": [1500.0, 300.0], "actual": [1200.0, 310.0],
                       "status": ["behind", "no_change_planned"], "low_base": [False, True]})
    s = fulfilment_sheet("Thực hiện quy hoạch", vn2024, df, 2020, 2024, 2030, "p", "vi", "T")
    wb, wv, _ = _save([s], tmp_path)
    ws, v = wb.active, wv.active
    r = rows_by_label(ws, "B", 5)["Đất trồng lúa"]
    assert ws[f"F{r}"].value == f"=D{r}-C{r}" and v[f"F{r}"].value == 500
    assert ws[f"G{r}"].value == f"=E{r}-C{r}" and v[f"G{r}"].value == 200
    assert ws[f"H{r}"].value == f'=IF(F{r}=0,"",G{r}/F{r}*100)' and v[f"H{r}"].value == pytest.approx(40.0)
    assert v[f"I{r}"].value == 300 and v[f"J{r}"].value == "Chậm tiến độ"
    r2 = r + 1  # planned change 0: the ratio is undefined, left blank
    assert v[f"F{r2}"].value == 0 and v[f"H{r2}"].value is None
    assert "(8)=(7)/(6)*100" in header_texts(ws)
    assert "Kết quả thực hiện đến năm 2024" in header_texts(ws)


def test_fulfilment_matches_library(tmp_path, langson):
    import landuse.fulfilment as ful
    res = ful.assess(langson)
    df = res.table
    sheets = build_sheets(langson, Parts(fulfilment=res))
    s = next(x for x in sheets if x.name == "Thực hiện quy hoạch")
    wb, wv, path = _save([s], tmp_path)
    ws, ev = wv.active, Formulas(wb)
    for code, ratio in df.set_index("code")["ratio_pct"].dropna().items():
        r = s.row_of[str(code)] + 1
        assert wb.active[f"H{r}"].value.startswith("=IF(")
        # the formula recomputed from the sheet's constants, and the value cached, both equal the library's
        assert ev.value(ws.title, f"H{r}") == pytest.approx(ratio, rel=1e-9), code
        assert ws[f"H{r}"].value == pytest.approx(ratio, rel=1e-9), code
    check_every_formula(path)


def test_matrix_layout_sums(tmp_path, vn2024):
    """05/TKKK: whole-area and group rows, readable special rows, totals that mean something (worked by hand)."""
    m = pd.DataFrame([[90.0, 5.0, 5.0, 100.0], [0.0, 48.0, 2.0, 50.0], [3.0, 0.0, 0.0, 3.0],
                      [93.0, 53.0, 7.0, 153.0]],
                     index=["LUA", "ONT", "tang_khac", "total"], columns=["LUA", "ONT", "giam_khac", "total"])
    s = matrix_sheet("Chu chuyển", vn2024, m, 2019, 2024, "vi", "T", "Ma trận ƯỚC TÍNH")
    wb, wv, path = _save([s], tmp_path)
    ws, v = wb.active, wv.active
    rows = rows_by_label(ws, "C", 5)
    labels = rows_by_label(ws, "B", 5)
    r = rows["LUA"]
    assert ws[f"D{r}"].value == f"=SUM(E{r}:G{r})" and v[f"D{r}"].value == 100
    assert rows["TS"] < rows["NNP"] < r < rows["PNN"] < rows["ONT"]  # whole area, then each group over its types
    assert [v[f"{c}{rows['TS']}"].value for c in "DEFG"] == [150, 90, 53, 7]  # 100 + 50 in 2019; 90 + 0; 5 + 48
    assert [v[f"{c}{rows['NNP']}"].value for c in "DEF"] == [100, 90, 5]
    end = labels["Diện tích năm 2024"]
    assert v[f"E{end}"].value == 93 and v[f"F{end}"].value == 53  # 90 + 0 + 3, 5 + 48 + 0
    assert v[f"D{end}"].value == 146  # the area in 2024: 150 in 2019 + 3 other increase - 7 other decrease
    assert v[f"G{end}"].value == 7  # other decrease in all
    net = labels["Biến động (tăng +, giảm −)"]
    assert v[f"E{net}"].value == -7 and v[f"F{net}"].value == 3  # 93 - 100, 53 - 50
    assert "Giảm khác" in header_texts(ws) and "Tăng khác" in labels and "tang_khac" not in labels
    assert "ƯỚC TÍNH" in ws["A2"].value
    check_every_formula(path)


def test_matrix_prints_readably_on_pages_across(tmp_path, langson):
    """The 52-column 05/TKKK: A3 landscape at ≥ 8 pt, split by explicit column breaks into pages that each carry
    the "Loại đất năm …" band and the repeated label columns and header rows."""
    res = estimate_transitions(langson, 2019, 2024)
    s = next(x for x in build_sheets(langson, Parts(estimate=res)) if x.name == "Chu chuyển")
    wb, _, _ = _save([s], tmp_path)
    ws = wb.active
    assert ws.page_setup.paperSize == 8 and ws.page_setup.orientation == "landscape"
    scale = ws.page_setup.scale / 100
    fonts = {c.font.sz for row in ws.iter_rows(min_row=s.first_data_row + 1, max_row=s.last_row + 1) for c in row
             if c.value is not None}
    assert min(fonts) * scale >= 8
    breaks = [b.id for b in ws.col_breaks.brk]
    assert len(breaks) >= 1
    band = [rng for rng in ws.merged_cells.ranges if ws.cell(rng.min_row, rng.min_col).value == "Loại đất năm 2024"]
    assert sorted(rng.min_col - 1 for rng in band) == [4] + breaks  # one band starting on each printed page
    assert ws.print_title_cols == "$A:$D" and ws.print_title_rows
    assert ws.title == "Chu chuyển" and wb.active["A1"].value.startswith("Biểu 05/TKKK. ")


def test_allocation_layout(tmp_path, vn2024):
    table = pd.DataFrame({"code": ["TS", "NNP", "PNN", "CSD"], "name": ["a", "b", "c", "d"], "level": [0, 1, 1, 1],
                          "area_start": [1000.0, 700.0, 200.0, 100.0], "area_2030": [1000.0, 650.0, 280.0, 70.0],
                          "target": [1000.0, 640.0, 280.0, 80.0], "deviation": [0.0, 10.0, 0.0, -10.0]})
    base = {"TS": 1000.0, "NNP": 720.0, "PNN": 150.0, "CSD": 130.0}
    approved = {"TS": 1000.0, "NNP": 660.0, "PNN": 290.0, "CSD": 50.0}
    s = allocation_sheet("Phân bổ 2030", vn2024, table, base, approved, 2020, 2024, 2030, "qd", "vi", "T")
    wb, wv, _ = _save([s], tmp_path)
    ws, v = wb.active, wv.active
    rows = rows_by_label(ws, "C", 5)
    r = rows["NNP"]
    # (8)=(7)-(4): 650-720, (9)=(7)-(5): 650-700, (10)=(7)-(6): 650-660, (12)=(7)-(11): 650-640
    assert [v[f"{c}{r}"].value for c in "HIJL"] == [-70, -50, -10, 10]
    assert ws[f"H{r}"].value == f"=G{r}-D{r}"
    t = rows_by_label(ws, "B", 5)["a"]
    assert ws[f"G{t}"].value == f"=SUM(G{rows['NNP']},G{rows['PNN']},G{rows['CSD']})" and v[f"G{t}"].value == 1000
    assert len(ws._charts) == 1  # 2030 structure pie


def test_findings_errors_first_with_links(tmp_path, langson):
    sheets = build_sheets(langson, Parts())
    f = pd.DataFrame({"severity": ["info", "rounding", "error"], "check": ["a", "b", "formula"],
                      "source": ["bang2", "bang3", "bang3"], "row": ["LUA", "NNP", "NNP"],
                      "table": ["bang2", "bang3", "bang3"], "column_id": ["c4", "c7", "c6"],
                      "code": ["LUA", "NNP", "NNP"],
                      "column": ["(4)", "(7)", "(6)"], "expected": [1.0, 17651.0, 31367.0],
                      "found": [1.0, 17652.0, 31366.0], "difference": [0.0, 1.0, -1.0],
                      "message": ["x", "y", "printed (6) differs"], "page": [85, 93, 93]})
    fs = findings_sheet("Kiểm tra", f, link_resolver(langson, sheets), "vi", "T")
    wb, _, _ = _save(sheets + [fs], tmp_path)
    ws = wb["Kiểm tra"]
    first = 3
    assert [ws[f"B{first + i}"].value for i in range(3)] == ["Lỗi", "Làm tròn", "Thông tin"]
    # NNP, Bảng 3 col (6) = 2014-2019 change: the cell F of the NNP row of "Biến động"
    nnp = sheets[1].row_of["NNP"] + 1
    assert ws[f"L{first}"].hyperlink.location == f"'Biến động'!F{nnp}"
    assert ws[f"L{first + 1}"].hyperlink.location == f"'Biến động'!G{nnp}"
    lua = sheets[0].row_of["LUA"] + 1
    assert ws[f"L{first + 2}"].hyperlink.location == f"'Hiện trạng 2024'!D{lua}"


def test_findings_of_the_library_all_link_to_their_cells(tmp_path, langson):
    import landuse.reconcile as rec
    findings = rec.reconcile(langson)
    sheets = build_sheets(langson, Parts(findings=findings))
    wb, _, _ = _save(sheets, tmp_path)
    ws = wb["Kiểm tra"]
    n = ws.max_row - 2
    assert n == len(findings)
    sev = [ws[f"B{r}"].value for r in range(3, ws.max_row + 1)]
    assert sev == sorted(sev, key=["Lỗi", "Làm tròn", "Thông tin"].index)  # errors first
    change = next(s for s in sheets if s.name == "Biến động")
    for r in range(3, ws.max_row + 1):
        assert ws[f"L{r}"].hyperlink is not None, r
        src, code, col = ws[f"D{r}"].value, ws[f"E{r}"].value, ws[f"F{r}"].value
        if src == "bang3" and col in ("(6)", "(7)", "(8)"):  # Bảng 3's differences: the same cell of "Biến động"
            letter = {"(6)": "F", "(7)": "G", "(8)": "H"}[col]
            assert ws[f"L{r}"].hyperlink.location == f"'Biến động'!{letter}{change.row_of[code] + 1}"


def test_user_strings_stay_text(tmp_path, vn2024):
    """A code, a name or a message that looks like a formula or URL is written as a string."""
    df = pd.DataFrame({"code": [EVIL], "name": ["+1+2"], "baseline": [1.0], "plan": [2.0], "actual": [1.5],
                       "status": ["@SUM(A1)"]})
    s1 = fulfilment_sheet("A", vn2024, df, 2020, 2024, 2030, "p", "vi", "-title")
    m = pd.DataFrame([[1.0]], index=[EVIL], columns=["http://example.com"])
    s2 = matrix_sheet("B", None, m, 2019, 2024, "vi", EVIL)
    f = pd.DataFrame({"severity": ["error"], "check": [EVIL], "source": ["-x"], "row": [EVIL], "column": ["=1"],
                      "expected": [1], "found": [2], "difference": [1], "message": ["http://evil.example"]})
    s3 = findings_sheet("C", f, lambda row: None, "vi", "T")
    wb, _, path = _save([s1, s2, s3], tmp_path)
    texts = [c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    evil = [c for c in texts if c.value in (EVIL, "+1+2", "@SUM(A1)", "=1", "-title", "-x")]
    assert len(evil) >= 8 and all(c.data_type == "s" for c in evil)
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
        assert "HYPERLINK" not in xml  # only in the shared strings, never inside <f>
        assert not any(n.startswith("xl/worksheets/_rels") and "evil" in z.read(n).decode() for n in z.namelist())
        assert "HYPERLINK" in z.read("xl/sharedStrings.xml").decode()


# ---- CLI -------------------------------------------------------------------------------------------------
def test_cli_tables(tmp_path):
    out = tmp_path / "t.xlsx"
    r = CliRunner().invoke(main, ["tables", "--out", str(out), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "Land use 2024" in openpyxl.load_workbook(out).sheetnames
    again = CliRunner().invoke(main, ["tables", "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    assert CliRunner().invoke(main, ["tables", "--out", str(out), "--force"]).exit_code == 0


@pytest.mark.parametrize("name", ["x.csv", "x", "x.xls"])
def test_cli_tables_needs_xlsx_suffix(tmp_path, name):
    r = CliRunner().invoke(main, ["tables", "--out", str(tmp_path / name)])
    assert r.exit_code == 2 and "must be an .xlsx file" in r.output and "Traceback" not in r.output
    assert not (tmp_path / name).exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match=r"\.xlsx"):
        build_tables(SimpleNamespace(), tmp_path / name)


def test_cli_tables_bad_data_exit_2(tmp_path):
    r = CliRunner().invoke(main, ["tables", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "x.xlsx")])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert not (tmp_path / "x.xlsx").exists()


def test_cli_tables_missing_folder(tmp_path):
    r = CliRunner().invoke(main, ["tables", "--out", str(tmp_path / "no" / "x.xlsx")])
    assert r.exit_code == 2 and "output folder does not exist" in r.output and "Traceback" not in r.output


def test_cli_run_writes_workbook_and_summary(tmp_path):
    out = tmp_path / "outputs"
    r = CliRunner().invoke(main, ["run", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "bao_cao_dat_dai.xlsx").exists()
    csv = pd.read_csv(out / "hien_trang_2024.csv").set_index("code")
    assert csv.at["NNP", "area_ha"] == 737373 and round(csv.at["NNP", "share_pct"], 2) == 88.76  # Bảng 2 row I
    assert "bao_cao_dat_dai.xlsx" in r.output and "Wrote" in r.output
    assert not list(out.glob(".*.tmp")) and not list(out.glob(".bao_cao*"))


# ---- LibreOffice ---------------------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_renders_pdf(book, tmp_path):
    path, wb, _ = book
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (Path(path).stem + ".pdf")
    assert pdf.exists() and pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Tổng diện tích tự nhiên" in text and "Trang 1 /" in text
        assert text.count("(6)=(4)-(3)") >= 2  # the header repeats on every page of Bảng 3




# ---- the whole workbook with every part, through the producers' contracts ------------------------------------
def fake_parts(ds):
    """Parts shaped like the capabilities' results, made from the dataset by simple rules (no solver)."""
    cls = ds.classification
    a0, a1 = ds.stock(2019), ds.stock(2024)
    leaves = [c for c in cls.leaves if not pd.isna(a0.get(c, np.nan)) and not pd.isna(a1.get(c, np.nan))]
    stay = np.minimum(a0[leaves].to_numpy(), a1[leaves].to_numpy())
    m = pd.DataFrame(np.diag(stay), index=leaves, columns=leaves)
    m["giam_khac"] = a0[leaves].to_numpy() - stay
    m.loc["tang_khac"] = list(a1[leaves].to_numpy() - stay) + [0.0]
    m["total"] = m.sum(axis=1)
    m.loc["total"] = m.sum(axis=0)
    b26 = ds.tables["bang26"]
    codes = [c for c in b26.raw["code"] if c]
    adj = b26.values("c7")
    codes = codes + ["LMU", "LNP"]  # a code absent from the data, allocated nothing, and an aggregate
    table = pd.DataFrame({"code": codes, "name": [cls.name(c) for c in codes],
                          "level": [cls.depth(c) if c in cls.codes else np.nan for c in codes],
                          "area_start": [a1.get(c, np.nan) for c in codes],
                          "area_2030": [adj.get(c, 0.0 if c == "LMU" else 1.0) for c in codes],
                          "target": [adj.get(c, np.nan) for c in codes], "deviation": 0.0})
    conv = pd.DataFrame([[700.0, 20.0, 0.0, 720.0], [0.0, 50.0, 0.0, 50.0], [5.0, 10.0, 30.0, 45.0],
                         [705.0, 80.0, 30.0, 815.0]], index=["NNP", "PNN", "CSD", "total"],
                        columns=["NNP", "PNN", "CSD", "total"]).rename_axis("code_from").reset_index()
    findings = conform(pd.DataFrame({"severity": ["rounding", "error"], "check": ["share", "sum"],
                                     "source": ["bang2", "inventory-2024"], "row": ["CCC", "TS"],
                                     "column": ["(5)", "2024"], "expected": [2.13, 830731], "found": [2.14, 830732],
                                     "difference": [0.01, 1], "message": ["m1", "m2"], "table": ["bang2", ""],
                                     "column_id": ["c5", ""], "year": [2024, 2024], "code": ["CCC", "TS"]}))
    allocation = SimpleNamespace(table=table, conversions=conv, status=SimpleNamespace(value="optimal"),
                                 solver="highs", config=SimpleNamespace(target_year=2030), end_column="area_2030",
                                 unit_areas=None)
    return Parts(estimate=SimpleNamespace(matrix=m, estimated=True, from_year=2019, to_year=2024),
                 allocation=allocation, findings=findings)


def test_workbook_with_every_part(tmp_path, langson):
    parts = fake_parts(langson)
    res = build_tables(langson, tmp_path / "all.xlsx", results=parts)
    wb = openpyxl.load_workbook(res.path)
    for name in ["Chu chuyển", "Phân bổ 2030", "Chuyển mục đích 2024-2030", "Kiểm tra"]:
        assert name in wb.sheetnames
    assert wb.sheetnames[-1] == "Kiểm tra"
    ws = wb["Kiểm tra"]
    assert ws["B3"].value == "Lỗi"  # the error first
    inv = next(s for s in build_sheets(langson, parts) if s.name == "Hiện trạng 2024")
    assert ws["L3"].hyperlink.location == f"'Hiện trạng 2024'!D{inv.row_of['TS'] + 1}"
    assert ws["L4"].hyperlink.location == f"'Hiện trạng 2024'!E{inv.row_of['CCC'] + 1}"
    cover = header_texts(wb["Thông tin chung"], 40)
    assert "tối ưu" in cover and "highs" in cover  # "optimal", in Vietnamese
    a = wb["Phân bổ 2030"]
    assert {"Hiện trạng năm 2020", "Hiện trạng năm 2024", "Phương án được duyệt*", "So sánh",
            "(8)=(7)-(4)", "(9)=(7)-(5)", "(10)=(7)-(6)"} <= header_texts(a)
    v = openpyxl.load_workbook(res.path, data_only=True)["Phân bổ 2030"]
    rows = rows_by_label(a, "C", 5)
    assert "LMU" not in rows and "LNP" not in rows and "RSN" in rows
    # Bảng 26 row 1.1 LUA: 2020 43.647, approved 40.861 (QĐ 236), here (7) = 40.441 → (8) -3.206, (10) -420
    r = rows["LUA"]
    assert [v[f"D{r}"].value, v[f"F{r}"].value, v[f"G{r}"].value] == [43647, 40861, 40441]
    assert [v[f"H{r}"].value, v[f"J{r}"].value] == [-3206, -420]


def test_transition_sheet_matches_the_library(tmp_path, langson):
    res = estimate_transitions(langson, 2019, 2024)
    sheets = build_sheets(langson, Parts(estimate=res))
    s = next(x for x in sheets if x.name == "Chu chuyển")
    wb, wv, path = _save([s], tmp_path)
    ws, v, ev = wb.active, wv.active, Formulas(wb)
    m = res.matrix
    assert ("ƯỚC TÍNH" in ws["A2"].value) == bool(res.estimated)
    rows = rows_by_label(ws, "C", s.first_data_row + 1)
    labels = rows_by_label(ws, "B", s.first_data_row + 1)
    codes = [c for c in m.index if c not in ("tang_khac", "total", "chua_phan_bo")]
    assert [c for c in rows if c not in ("TS", "NNP", "PNN", "CSD")] == codes
    gap = next(r for t, r in labels.items() if t.startswith("Chưa phân bổ"))
    assert v[f"D{gap}"].value == pytest.approx(461)     # 2019: TS 831,018 − leaves 830,557
    assert "chua_phan_bo" not in {c.value for row in ws.iter_rows() for c in row}  # no pseudo-code shows
    for code in codes:
        r = rows[code]
        assert ws[f"D{r}"].value.startswith("=SUM(")
        assert ev.value(ws.title, f"D{r}") == pytest.approx(m.at[code, "total"]) == v[f"D{r}"].value
    end = labels["Diện tích năm 2024"]
    tos = [c for c in m.columns if c not in ("giam_khac", "total")]
    for j, to in enumerate(tos):  # every column total recomputed from the matrix cells
        letter = openpyxl.utils.cell.get_column_letter(5 + j)
        assert ev.value(ws.title, f"{letter}{end}") == pytest.approx(m.at["total", to]), to
    # the totals mean something: the whole area in 2019 (row TS) and in 2024 (the corner), as inventoried
    assert v[f"D{rows['TS']}"].value == pytest.approx(langson.stock(2019)["TS"])  # 831,018
    assert v[f"D{end}"].value == pytest.approx(langson.stock(2024)["TS"])  # 830,732
    check_every_formula(path)


def test_every_fulfilment_status_has_a_label():
    from landuse.excel.sheets import STATUS_TEXT
    from landuse.fulfilment import STATUSES

    assert set(STATUS_TEXT) == set(STATUSES)
    assert all(vi and en and vi != en for vi, en in STATUS_TEXT.values())


# ---- the formula shortcut (issue 16) --------------------------------------------------------------------
_NAMES = sorted(CLASSIC_FUNCTIONS) + ["XLOOKUP", "SORT", "FILTER", "STDEV.S", "SINGLE", "LAMBDA", "XSUM", "CONCAT",
                                      "TEXTJOIN", "sum", "_xlfn.SORT", "IFS", "SUMX"]
_ARGS = st.sampled_from(["A1", "B7:B9", "'Bảng 2'!C4", "1.5", '"SORT(x)"', "D2,D4:D6", ""])


@st.composite
def _formula(draw, depth=2):
    name = draw(st.sampled_from(_NAMES))
    args = [draw(_formula(depth - 1)) if depth and draw(st.booleans()) else draw(_ARGS)
            for _ in range(draw(st.integers(1, 3)))]
    return f"{name}({','.join(args)})"


@settings(max_examples=400, deadline=None)
@given(body=_formula(), prefix=st.sampled_from(["", "=", "{=", "{"]), future=st.booleans())
def test_the_formula_shortcut_gives_xlsxwriters_own_text(body, prefix, future):
    """FastFormulaWorksheet._prepare_formula against xlsxwriter's Worksheet._prepare_formula on generated formulas
    mixing classic and newer functions, with and without '=' and array braces, future functions on or off."""
    from xlsxwriter.worksheet import Worksheet

    formula = prefix + body + ("}" if prefix.startswith("{") else "")
    fast, plain = FastFormulaWorksheet(), Worksheet()
    fast.use_future_functions = plain.use_future_functions = future
    assert fast._prepare_formula(formula) == plain._prepare_formula(formula)
    assert fast._prepare_formula(formula, True) == plain._prepare_formula(formula, True)
