"""Reading from–to matrices (landuse.readers.matrix): wide, long, 05/TKKK; located errors."""

from __future__ import annotations

import pytest

from landuse.classification import load_classification
from landuse.errors import DuplicateKeyError, InputError, NegativeAreaError, NonNumericError, UnknownCodeError
from landuse.readers.matrix import read_matrices, read_matrix
from tests.conftest import write

CLS = load_classification("vn2024")

# Two intervals of a three-category landscape (100 units), any labels. Interval 1 (rows = start):
#            Forest  Crop  Urban | total        interval 2:  Forest  Crop  Urban | total
#   Forest       50    10      0 |    60                        40    10      5 |    55
#   Crop          5    20      5 |    30                         0    30      0 |    30
#   Urban         0     0     10 |    10                         0     0     15 |    15
#   total        55    30     15 |   100                        40    40     20 |   100
WIDE_1 = "from,Forest,Crop,Urban,total\nForest,50,10,0,60\nCrop,5,20,5,30\nUrban,0,0,10,10\ntotal,55,30,15,100\n"
WIDE_2 = "from,Forest,Crop,Urban\nForest,40,10,5\nCrop,0,30,0\nUrban,0,0,15\n"
LONG_2 = "from,to,km2\nForest,Forest,40\nForest,Crop,10\nForest,Urban,5\nCrop,Crop,30\nUrban,Urban,15\n"

# 05/TKKK as exported: codes down (Mã) and across, start column "Năm 2019", giảm khác column, tăng khác row and
# the end-area row. RSX: 5 + 100 + 10 + giảm khác 2 = 117 at the start; its column 15 + 100 + tăng khác 1 = 116.
TKKK = """Biểu 05/TKKK,,,,,,,
CHU CHUYỂN DIỆN TÍCH CỦA CÁC LOẠI ĐẤT,,,,,,,
STT,Loại đất,Mã,Năm 2019,Biến động đến năm 2024,,,Giảm khác
,,,,LUC,RSX,ONT,
(1),(2),(3),(4),(5),(6),(7),(8)
1,Đất chuyên trồng lúa,LUC,75,50,15,10,
2,Đất rừng sản xuất,RSX,117,5,100,10,2
3,Đất ở tại nông thôn,ONT,20,,,20,
,Tăng khác,,,,1,,
,Diện tích cuối kỳ năm 2024,,,55,116,40,2
"""


def test_wide_with_totals(tmp_path):
    m = read_matrix(write(tmp_path / "a.csv", WIDE_1))
    assert m.layout == "wide" and m.categories == ["Forest", "Crop", "Urban"] and m.unit == "ha"
    assert m.core.loc["Forest", "Crop"] == 10 and m.core.loc["Crop", "Urban"] == 5
    assert m.start.tolist() == [60, 30, 10] and m.end.tolist() == [55, 30, 15]


def test_wide_columns_in_another_order(tmp_path):
    m = read_matrix(write(tmp_path / "a.csv", "x,Urban,Forest\nForest,1,9\nUrban,3,0\n"))
    assert m.categories == ["Forest", "Urban"]
    assert m.core.loc["Forest", "Urban"] == 1 and m.core.loc["Urban", "Urban"] == 3


def test_long_km2(tmp_path):
    m = read_matrix(write(tmp_path / "b.csv", LONG_2))
    assert m.layout == "long" and m.unit == "km²"
    assert m.core.loc["Forest", "Urban"] == 5 and m.core.loc["Crop", "Forest"] == 0   # an unlisted pair has none
    assert m.start.tolist() == [55, 30, 15]


def test_05tkkk_csv(tmp_path):
    m = read_matrix(write(tmp_path / "05.csv", TKKK), classification=CLS)
    assert m.layout == "05/TKKK" and m.categories == ["LUC", "RSX", "ONT"]
    assert m.core.loc["RSX", "ONT"] == 10 and m.core.loc["ONT", "LUC"] == 0
    assert m.decrease["RSX"] == 2 and m.increase["RSX"] == 1
    assert m.start.tolist() == [75, 117, 20] and m.end.tolist() == [55, 116, 40]


def test_05tkkk_xlsx(tmp_path):
    import csv
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in csv.reader(io.StringIO(TKKK)):
        ws.append([float(c) if c.replace(".", "").isdigit() else (c or None) for c in row])
    ws.merge_cells("E3:G3")
    p = tmp_path / "05.xlsx"
    wb.save(p)
    m = read_matrix(p, classification=CLS)
    assert m.layout == "05/TKKK" and m.core.loc["LUC", "RSX"] == 15 and m.end.tolist() == [55, 116, 40]


def test_05tkkk_unknown_code_layout_forced(tmp_path):
    with pytest.raises(UnknownCodeError, match="no land code"):
        read_matrix(write(tmp_path / "x.csv", "Mã,Năm 2019\nFOREST,1\n"), classification=CLS)


@pytest.mark.parametrize(("text", "error", "where"), [
    (WIDE_1.replace("Crop,5,20", "Crop,5,2o"), NonNumericError, r"a\.csv:row 3:column C3 \(Crop\).*'2o'"),
    (WIDE_1.replace("Crop,5,20", "Crop,-5,20"), NegativeAreaError, r"a\.csv:row 3:column B3 \(Forest\)"),
    (WIDE_1.replace("Crop,5,20,5,30", "Crop,5,20,5,32"), InputError,
     r"a\.csv:row 3:column E3 \(total\): the row's total does not match.*expected 30"),
    (WIDE_1.replace("total,55,30", "total,57,30"), InputError,
     r"a\.csv:row 5:column B5 \(Forest\): the column's total does not match"),
    ("from,Forest,Crop\nForest,1,2\nUrban,3,4\n", InputError, r"a\.csv:row 3: category 'Urban' has a row but no"),
    ("from,Forest,Crop\nForest,1,\nCrop,3,4\n", InputError, r"a\.csv:row 2:column C2 \(Crop\): blank cell"),
    ("from,A,A\nA,1,2\n", DuplicateKeyError, r"a\.csv:column C: category 'A' appears twice"),
])
def test_bad_wide(tmp_path, text, error, where):
    with pytest.raises(error, match=where):
        read_matrix(write(tmp_path / "a.csv", text))


def test_blank_cell_checked_by_totals_is_zero(tmp_path):
    m = read_matrix(write(tmp_path / "a.csv", WIDE_1.replace("Urban,0,0,10", "Urban,,,10")))
    assert m.core.loc["Urban"].tolist() == [0, 0, 10]


@pytest.mark.parametrize(("text", "where"), [
    ("from,to,km2\nA,B,x\n", r"b\.csv:row 2:column C2 \(km2\): not a number"),
    ("from,to,km2\nA,B,\n", r"b\.csv:row 2:column C2 \(km2\): missing area"),
    ("from,to,km2\nA,B,1\nA,B,2\n", r"b\.csv:row 3:column A3: the pair \('A', 'B'\) is listed twice"),
    ("from,km2\nA,1\n", r"b\.csv:row 1: missing required column 'to'"),
])
def test_bad_long(tmp_path, text, where):
    with pytest.raises(InputError, match=where):
        read_matrix(write(tmp_path / "b.csv", text))


def test_sequence_ok(tmp_path):
    a, b = write(tmp_path / "a.csv", WIDE_1), write(tmp_path / "b.csv", WIDE_2)
    files = read_matrices([a, b])
    assert [f.layout for f in files] == ["wide", "wide"]


def test_sequence_other_categories(tmp_path):
    a = write(tmp_path / "a.csv", WIDE_1)
    b = write(tmp_path / "b.csv", WIDE_2.replace("Urban", "Built"))
    with pytest.raises(InputError, match=r"a\.csv:row 4: category 'Urban' of .*a\.csv is not in "
                                         r".*b\.csv"):
        read_matrices([a, b])


def test_sequence_totals_differ(tmp_path):
    # Crop ends interval 1 with 30; interval 2 starts it with 0 + 32 + 0 = 32 (more than one unit of rounding)
    a = write(tmp_path / "a.csv", WIDE_1)
    b = write(tmp_path / "b.csv", WIDE_2.replace("Crop,0,30,0", "Crop,0,32,0"))
    with pytest.raises(InputError, match=r"b\.csv:row 3: start size of 'Crop' differs from its end size in .*a\.csv"
                                         r" \(.*row 5:column C \(Crop\): 30\).*expected 30 within ±1 for rounding, "
                                         r"found 32"):
        read_matrices([a, b])


def test_sequence_within_rounding(tmp_path):
    # 30.0 (one decimal, so ±0.1) vs 30.04: within rounding
    a = write(tmp_path / "a.csv", WIDE_1.replace(",30,100", ",30.0,100"))
    b = write(tmp_path / "b.csv", WIDE_2.replace("Crop,0,30,0", "Crop,0,30.04,0"))
    assert len(read_matrices([a, b])) == 2


def test_sequence_units_differ(tmp_path):
    a = write(tmp_path / "a.csv", WIDE_1)
    b = write(tmp_path / "b.csv", LONG_2)
    with pytest.raises(InputError, match=r"b\.csv: the unit differs"):
        read_matrices([a, b])


def test_wide_blank_corner_and_vietnamese_numbers(tmp_path):
    m = read_matrix(write(tmp_path / "a.csv", ';Rừng;Lúa\nRừng;1.234,5;10\nLúa;0;20,25\n'))
    assert m.categories == ["Rừng", "Lúa"]
    assert m.core.loc["Rừng", "Rừng"] == 1234.5 and m.core.loc["Lúa", "Lúa"] == 20.25


def test_blank_in_increase_row_without_totals_is_refused(tmp_path):
    text = "from,A,B,giảm khác\nA,1,0,0\nB,0,2,1\ntăng khác,,3,\n"
    with pytest.raises(InputError, match=r"a\.csv:row 4:column B4 \(A\): blank cell"):
        read_matrix(write(tmp_path / "a.csv", text))
    m = read_matrix(write(tmp_path / "a.csv", text.replace("tăng khác,,3,", "tăng khác,0,3,")))
    assert m.increase.tolist() == [0, 3] and m.decrease.tolist() == [0, 1] and m.end.tolist() == [1, 5]
