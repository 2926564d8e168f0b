"""The workbook as an official document: no figure the source leaves blank, one figure per quantity, printed
charts, numbered titles, signature block, no local path (issue 12, section 5). Values from the seed report."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries

from landuse.pipeline import build_tables
from tests.test_excel import rows_by_label


@pytest.fixture(scope="module")
def full(tmp_path_factory, langson):
    """The bundled dataset's workbook with every part (real reconciliation, estimate, fulfilment, allocation)."""
    path = tmp_path_factory.mktemp("official") / "tables.xlsx"
    res = build_tables(langson, path)
    return path, openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True), res


# ---- 1. a parent is a SUM only where every part is printed -------------------------------------------------------
@pytest.mark.parametrize("code", ["CSK", "DSN", "CCC"])
def test_bang26_parents_blank_where_the_report_leaves_them_blank(full, code):
    """Bảng 26 (l.23518, 23636, 23680) prints DSN, CSK and CCC blank in (4) 2020 and (6) approved plan, with
    only some of their parts printed (e.g. CSK 2020: only SKN … printed, sum 31). The sheet leaves them blank,
    says why in a comment, and so leaves "So với năm 2020" (8) and "So với phương án" (10) blank too."""
    _, wb, wv, _ = full
    ws, v = wb["Phân bổ 2030"], wv["Phân bổ 2030"]
    r = rows_by_label(ws, "C", 5)[code]
    for col in "DF":  # (4) 2020, (6) approved plan
        assert v[f"{col}{r}"].value is None and ws[f"{col}{r}"].value is None, (code, col)
        assert ws[f"{col}{r}"].comment is not None and "không có số liệu" in ws[f"{col}{r}"].comment.text
    assert v[f"H{r}"].value is None and v[f"J{r}"].value is None  # (8)=(7)-(4), (10)=(7)-(6): no invented 7,606


def test_every_table_sheet_sums_only_complete_printed_parts(full, langson):
    """On every tree sheet, each ``=SUM`` parent has all its classification parts as rows with a figure."""
    _, wb, wv, _ = full
    cls = langson.classification
    checked = 0
    for name in ["Hiện trạng 2024", "Biến động", "Phân bổ 2030"]:
        ws, v = wb[name], wv[name]
        code_col = "C" if name != "Biến động" else None
        names = {cls.name(c): c for c in cls.codes}
        rows = (rows_by_label(ws, code_col, 5) if code_col else
                {names[k]: r for k, r in rows_by_label(ws, "B", 5).items() if k in names})
        for code, r in rows.items():
            for cell in ws[r]:
                if isinstance(cell.value, str) and cell.value.startswith("=SUM("):
                    col = cell.column_letter
                    parts = cls.parts(code)
                    assert parts and all(p in rows and v[f"{col}{rows[p]}"].value is not None for p in parts), \
                        (name, code, col)
                    checked += 1
    assert checked > 20


# ---- 2. one figure per quantity ------------------------------------------------------------------------------
def test_one_figure_for_dsn_and_pnn_2024(full, langson):
    """Bảng 2 prints DSN 2024 = 998 and PNN = 53.842 (l.4007, l.4000), as Bảng 26 (5) does; the parts of DSN add
    to 999 after rounding. The allocation sheet, the inventory sheet and allocate's area_start all show 998 and
    53,842."""
    from allocation.api import allocate

    printed = langson.tables["bang2"].values("c4")
    assert (printed["DSN"], printed["PNN"]) == (998, 53842)
    _, wb, wv, _ = full
    inv, alloc = wv["Hiện trạng 2024"], wv["Phân bổ 2030"]
    ri, ra = rows_by_label(wb["Hiện trạng 2024"], "C", 5), rows_by_label(wb["Phân bổ 2030"], "C", 5)
    for code in ("DSN", "PNN"):
        assert inv[f"D{ri[code]}"].value == alloc[f"E{ra[code]}"].value == printed[code]
    table = allocate(langson).table.set_index("code")
    assert table.at["DSN", "area_start"] == 998 and table.at["PNN", "area_start"] == 53842
    assert table.at["TS", "area_start"] == 830732  # Bảng 2 (4) TS as printed (its groups add to 830,731)


# ---- 4. charts print ---------------------------------------------------------------------------------------------
def test_charts_inside_the_print_area_and_chart_data_cached(full):
    _, wb, wv, _ = full
    n = 0
    for ws in wb:
        if not ws._charts:
            continue
        area = ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area
        c0, r0, c1, r1 = range_boundaries(area.split("!")[-1].replace("$", ""))
        for ch in ws._charts:
            frm = ch.anchor._from
            assert c0 - 1 <= frm.col <= c1 - 1 and r0 - 1 <= frm.row <= r1 - 1, ws.title
            n += 1
        for row in ws.iter_rows():  # every formula has a cached number (a blank source gives a blank, no formula)
            for c in row:
                if c.data_type == "f":
                    assert isinstance(wv[ws.title][c.coordinate].value, (int, float)) or \
                        wv[ws.title][c.coordinate].value in ("",) and "IF(" in c.value, (ws.title, c.coordinate)
    assert n >= 3  # the two structure pies and the change bars


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice / poppler not installed")
def test_pdf_shows_the_charts_and_a_readable_matrix(full, tmp_path):
    path = full[0]
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / (Path(path).stem + ".pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Biến động theo loại đất" in text  # the bar chart's title: only the chart prints it
    assert "88.76%" in text  # the pie's data label (NNP share of Bảng 2)
    pages = [p.strip() for p in text.split("\f")]
    first = next(i for i, p in enumerate(pages) if p.startswith("Biểu 05/TKKK."))
    after = next(i for i, p in enumerate(pages) if i > first and p.startswith("Bảng 4."))
    matrix = pages[first:after]  # the pages of the 05/TKKK sheet, up to Bảng 4's first page
    assert len(matrix) >= 3 and all("Loại đất năm 2024" in p for p in matrix)  # the band on every page


# ---- 7. a document a land officer signs ---------------------------------------------------------------------------
def test_titles_numbered_as_in_the_report(full, langson):
    _, wb, _, _ = full
    for sheet, tid in [("Hiện trạng 2024", "bang2"), ("Biến động", "bang3"), ("Thực hiện quy hoạch", "bang4"),
                       ("Phân bổ 2030", "bang26")]:
        number = re.match(r"(Bảng \d+)\.", langson.tables[tid].title).group(1)
        assert wb[sheet]["A1"].value.startswith(number + ". "), sheet
    assert wb["Chu chuyển"]["A1"].value.startswith("Biểu 05/TKKK. ")
    assert re.match(r"Phụ biểu \d+\. ", wb["Kiểm tra"]["A1"].value)


def test_signature_block_under_every_table(full, langson):
    _, wb, _, _ = full
    for name in ["Hiện trạng 2024", "Biến động", "Chu chuyển", "Thực hiện quy hoạch", "Phân bổ 2030"]:
        ws = wb[name]
        texts = {c.value: c.row for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
        assert "NGƯỜI LẬP BIỂU" in texts and "THỦ TRƯỞNG CƠ QUAN" in texts, name
        place = next(t for t in texts if t.startswith(f"{langson.name}, ngày"))
        area = ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area
        last = range_boundaries(area.split("!")[-1].replace("$", ""))[3]
        assert texts[place] < texts["NGƯỜI LẬP BIỂU"] <= last, name  # printed with the table


def test_cover_has_no_local_path(full, langson):
    _, wb, _, _ = full
    texts = [str(c.value) for row in wb["Thông tin chung"].iter_rows() for c in row if c.value is not None]
    assert not any(str(langson.root) in t or "/work" in t or "\\" in t for t in texts)
    assert langson.name in texts
