"""Biểu 03/TKKK sheets (land types down, units across, multi-row headers) into the long inventory."""

from __future__ import annotations

import math

import openpyxl
import pytest
from click.testing import CliRunner

from landuse.cli import main
from landuse.dataset import load_dataset
from landuse.errors import ConfigError, InputError, MissingColumnError, NonNumericError, UnknownCodeError
from landuse.readers.forms import column_letter, read_03tkkk
from tests.conftest import write

UNITS = ["Xã An Bình", "Xã Hòa Lạc", "Phường Đông"]
# (STT, name, code, total, per unit): LUC row has Vietnamese-format text cells, RSN an empty (missing) cell;
# each printed total is the sum of its unit cells (the reader checks it)
ROWS = [
    ("", "Tổng diện tích tự nhiên", "TS", 3000, [1200, 1000.5, 799.5]),
    ("I", "Nhóm đất nông nghiệp", "NNP", 2000, [900, 700, 400]),
    ("1.1", "Đất chuyên trồng lúa", "LUC", "1.384,5", ["1.234,5", 100, 50]),
    ("", "Trong đó:", "", None, [None, None, None]),
    ("", "Đất rừng sản xuất là rừng tự nhiên", "RSN", 100, [60, None, 40]),
]


def build(path, rows=ROWS, units=UNITS, title_year="Năm 2024", merge_units=None, merge_data=None, start_col=1):
    """An 03/TKKK-like sheet: title block, a 2-row header (merged group header above the unit names,
    vertically merged STT/Loại đất/Mã/Tổng cells), a numbering row, then the land-type rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "03TKKK"
    col = start_col  # 1-based column of STT

    def L(k):  # letter of the k-th table column (0 = STT)
        return column_letter(col - 1 + k)

    ws[f"{L(0)}1"] = "Biểu 03/TKKK"
    ws[f"{L(0)}2"] = "THỐNG KÊ, KIỂM KÊ DIỆN TÍCH ĐẤT ĐAI THEO ĐƠN VỊ HÀNH CHÍNH"
    ws.merge_cells(f"{L(0)}2:{L(3 + len(units))}2")
    if title_year:
        ws[f"{L(0)}3"] = f"({title_year})"
    for k, text in enumerate(["STT", "Loại đất", "Mã", "Tổng diện tích"]):
        ws[f"{L(k)}5"] = text
        ws.merge_cells(f"{L(k)}5:{L(k)}6")
    ws[f"{L(4)}5"] = "Diện tích theo đơn vị hành chính"
    ws.merge_cells(f"{L(4)}5:{L(3 + len(units))}5")
    for j, u in enumerate(units):
        if u is not None:
            ws[f"{L(4 + j)}6"] = u
    if merge_units:
        ws.merge_cells(merge_units)
    for k in range(4 + len(units)):
        ws[f"{L(k)}7"] = f"({k + 1})"
    for i, (stt, name, code, total, vals) in enumerate(rows):
        r = 8 + i
        ws[f"{L(0)}{r}"], ws[f"{L(1)}{r}"], ws[f"{L(2)}{r}"], ws[f"{L(3)}{r}"] = stt, name, code, total
        for j, v in enumerate(vals):
            ws[f"{L(4 + j)}{r}"] = v
    if merge_data:
        ws.merge_cells(merge_data)
    wb.save(path)
    return path


def test_reads_the_long_table(tmp_path, vn2024):
    long = read_03tkkk(build(tmp_path / "f.xlsx"), vn2024)
    assert set(long["unit"]) == set(UNITS) and (long["year"] == 2024).all()
    got = long.set_index(["unit", "code"])["area_ha"]
    assert got[("Xã An Bình", "LUC")] == 1234.5          # "1.234,5" in Vietnamese format
    assert got[("Xã Hòa Lạc", "TS")] == 1000.5
    assert got[("Phường Đông", "RSN")] == 40
    assert math.isnan(got[("Xã Hòa Lạc", "RSN")])          # blank = missing, never 0
    assert len(long) == 4 * 3                              # "Trong đó:" skipped, total column not a unit
    row = long[(long["unit"] == "Phường Đông") & (long["code"] == "LUC")].iloc[0]
    assert row["_row"] == 10 and row["cell"] == "G10"


def test_table_not_at_a1_and_csv(tmp_path, vn2024):
    long = read_03tkkk(build(tmp_path / "f.xlsx", start_col=3), vn2024)
    assert long.set_index(["unit", "code"]).loc[("Xã Hòa Lạc", "NNP"), "cell"] == "H9"
    text = ("Biểu 03/TKKK,,,,\nNăm 2023,,,,\nSTT,Loại đất,Mã,Tổng,Xã A\n(1),(2),(3),(4),(5)\n"
            ",Tổng,TS,\"1.500\",\"1.500\"\n")
    long = read_03tkkk(write(tmp_path / "f.csv", text), vn2024, "vi")
    assert long[["unit", "year", "code", "area_ha"]].values.tolist() == [["Xã A", 2023, "TS", 1500.0]]


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"merge_units": "E6:F6", "units": ["Xã A", None, "Xã C"]}, InputError,
     r"f\.xlsx:03TKKK:row 6:column E6.*merged header cell E6:F6 \('Xã A'\) names 2 unit columns"),
    ({"merge_data": "E10:F10"}, InputError, r"row 10:column E10 \(Xã An Bình\).*merged cell E10:F10"),
    ({"units": ["Xã A", None, "Xã C"]}, InputError, r"row 6:column F6: unit column without a name"),
    ({"rows": [("", "x", "LUX", 1, [1, 0, 0])]}, UnknownCodeError, r"row 8:column C8 \(Mã\).*'LUX'.*did you mean"),
    ({"rows": [("", "x", "LUC", 1, [1, "12,5,3", 0])]}, NonNumericError,
     r"row 8:column F8 \(Xã Hòa Lạc\): not a number.*'12,5,3'"),
    ({"rows": [("", "x", "", 1, [1, 2, 3])]}, InputError, r"row 8:column C8 \(Mã\): row with areas but no land code"),
    ({"title_year": None}, ConfigError, r"year"),
])
def test_clear_errors(tmp_path, vn2024, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        read_03tkkk(build(tmp_path / "f.xlsx", **kwargs), vn2024)


def test_merges_without_data_are_fine(tmp_path, vn2024):
    """A "Trong đó:" label merged across Loại đất and Mã (row 11: no areas) and a section title merged over the
    unit columns of an empty row hold no data: read as without the merges."""
    rows = [*ROWS, ("", "II. Nhóm đất phi nông nghiệp", "", None, [None, None, None])]   # row 13
    want = read_03tkkk(build(tmp_path / "a.xlsx", rows=rows), vn2024)
    got = read_03tkkk(build(tmp_path / "b.xlsx", rows=rows, merge_data="B11:C11"), vn2024)
    assert got.equals(want)
    got = read_03tkkk(build(tmp_path / "c.xlsx", rows=rows, merge_data="B13:G13"), vn2024)
    assert got.equals(want)


@pytest.mark.parametrize("merge, pattern", [
    # a code cell merged down over two rows with areas: the merge is the error, not a "missing code"
    ("C9:C10", r"row 9:column C9 \(Mã\): merged cell C9:C10 in the data"),
    # a label merged into the code cell of a row with areas (the code is lost under the merge)
    ("B10:C10", r"row 10:column C10 \(Mã\): merged cell B10:C10 in the data"),
    # a unit cell merged down from a row with areas into the blank "Trong đó:" row
    ("F10:F11", r"row 10:column F10 \(Xã Hòa Lạc\): merged cell F10:F11 in the data"),
])
def test_merges_over_data_are_errors(tmp_path, vn2024, merge, pattern):
    with pytest.raises(InputError, match=pattern):
        read_03tkkk(build(tmp_path / "f.xlsx", merge_data=merge), vn2024)


def test_no_code_header(tmp_path, vn2024):
    p = write(tmp_path / "f.csv", "STT,Loại đất,Code,Xã A\n1,x,LUC,5\n")
    with pytest.raises(MissingColumnError, match="no header row with a 'Mã'"):
        read_03tkkk(p, vn2024)


MANIFEST = """[dataset]
name = "Tỉnh Thử"
classification = "vn2024"
[files.inventory]
path = "03.xlsx"
layout = "03/TKKK"
{extra}
"""


def test_dataset_with_a_03tkkk_inventory(tmp_path):
    build(tmp_path / "03.xlsx", title_year=None)
    write(tmp_path / "manifest.toml", MANIFEST.format(extra="year = 2024"))
    ds = load_dataset(tmp_path)
    assert ds.units == UNITS and ds.years == [2024]
    assert ds.stock(2024)["TS"] == 3000
    r = CliRunner().invoke(main, ["info", "--data", str(tmp_path), "--format", "csv"])
    assert r.exit_code == 0, r.output
    # bad cell: exit 2 with one line naming file, sheet, row and cell
    build(tmp_path / "03.xlsx", rows=[("", "x", "LUC", 1, [1, "abc", 0])], title_year=None)
    r = CliRunner().invoke(main, ["info", "--data", str(tmp_path)])
    assert r.exit_code == 2 and "03.xlsx:03TKKK:row 8:column F8 (Xã Hòa Lạc): not a number" in r.output
    write(tmp_path / "manifest.toml", MANIFEST.replace("03/TKKK", "wide").format(extra=""))
    r = CliRunner().invoke(main, ["info", "--data", str(tmp_path)])
    assert r.exit_code == 2 and "unknown inventory layout" in r.output
