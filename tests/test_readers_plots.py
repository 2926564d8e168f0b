"""Reading a plot-level file: formats, number formats, and bad input named by row."""

from __future__ import annotations

import pandas as pd
import pytest

from landuse.errors import (
    DuplicateKeyError,
    InputError,
    MissingColumnError,
    NegativeAreaError,
    NonNumericError,
    UnknownCodeError,
)
from landuse.readers.plots import read_plots, read_plots_located
from landuse.transitions.reports import plot_transitions
from tests.conftest import write

HEADER = "plot_id,unit,code_from,code_to,area_ha\n"
GOOD = HEADER + "1,A,LUC,LUC,10\n2,A,LUC,ONT,2.5\n3,B,RSX,CLN,4\n"


def test_read_csv(tmp_path):
    df = read_plots(write(tmp_path / "p.csv", GOOD))
    assert df["area_ha"].tolist() == [10, 2.5, 4]
    assert list(df.columns) == ["plot_id", "unit", "code_from", "code_to", "area_ha"]


def test_vietnamese_numbers_and_extra_columns(tmp_path):
    text = "plot_id;unit;note;code_from;code_to;area_ha\n1;A;x;LUC;LUC;1.234,5\n2;A;y;LUC;ONT;0,25\n"
    df = read_plots(write(tmp_path / "p.csv", text))
    assert df["area_ha"].tolist() == [1234.5, 0.25]
    assert "note" not in df


def test_xlsx_and_parquet_same_matrix(tmp_path):
    src = pd.read_csv(write(tmp_path / "p.csv", GOOD), dtype=str)
    src.to_excel(tmp_path / "p.xlsx", index=False)
    src.assign(area_ha=src["area_ha"].astype(float)).to_parquet(tmp_path / "p.parquet")
    m_csv = plot_transitions(tmp_path / "p.csv")[1]
    assert m_csv.loc["LUC", "ONT"] == 2.5
    pd.testing.assert_frame_equal(plot_transitions(tmp_path / "p.xlsx")[1], m_csv)
    pd.testing.assert_frame_equal(plot_transitions(tmp_path / "p.parquet")[1], m_csv)


def test_cp1258_file(tmp_path):
    text = "plot_id,unit,code_from,code_to,area_ha\n1,Tân Đoàn,LUC,LUC,10\n"
    df = read_plots(write(tmp_path / "p.csv", text, encoding="cp1258"))
    assert df["unit"].iloc[0] == "Tân Đoàn"


@pytest.mark.parametrize(("rows", "error", "match"), [
    ("1,A,LUC,LUC,10\n2,A,LUC,ONT,-1\n", NegativeAreaError, r"p.csv:row 3:column area_ha: negative area"),
    ("1,A,LUC,LUC,10\n2,A,LUC,ONT,\n", NonNumericError, r"row 3:column area_ha: missing area"),
    ("1,A,LUC,LUC,10\n2,A,LUC,ONT,abc\n", NonNumericError, r"row 3:column area_ha: not a number"),
    ("1,A,LUC,LUC,10\n2,A,LUC,ONT,1\n1,A,RSX,RSX,3\n", DuplicateKeyError,
     r"row 4:column plot_id: plot_id '1' occurs twice in unit 'A', also at row 2"),
])
def test_bad_rows(tmp_path, rows, error, match):
    with pytest.raises(error, match=match):
        read_plots(write(tmp_path / "p.csv", HEADER + rows), number_format="en")


def test_same_plot_id_in_two_units_is_fine(tmp_path):
    df = read_plots(write(tmp_path / "p.csv", HEADER + "1,A,LUC,LUC,10\n1,B,LUC,ONT,1\n"))
    assert len(df) == 2


def test_unknown_code_names_row(tmp_path):
    p = write(tmp_path / "p.csv", HEADER + "1,A,LUC,LUC,10\n2,A,LUC,ONX,1\n")
    with pytest.raises(UnknownCodeError, match=r"p.csv:row 3:column code_to: unknown land code 'ONX'"):
        plot_transitions(p)


def test_missing_column(tmp_path):
    with pytest.raises(MissingColumnError, match="code_to"):
        read_plots(write(tmp_path / "p.csv", "plot_id,unit,code_from,area_ha\n1,A,LUC,1\n"))


def test_unit_moved_between_dates(tmp_path):
    text = "plot_id,unit_from,unit_to,code_from,code_to,area_ha\n1,A,A,LUC,LUC,10\n2,A,B,LUC,ONT,1\n"
    p = write(tmp_path / "p.csv", text)
    assert read_plots(p)["unit"].tolist() == ["A", "B"]          # accepted for the whole area
    with pytest.raises(InputError, match=r"row 3:column unit_to: plot '2' is in unit 'A' at the start and 'B'"):
        read_plots(p, by_unit=True)


# Blank lines (pandas skips them) must not shift the rows named: the file below has its plots on lines
# 2, 4, 7 and 8 (line 3 empty, lines 5-6 blank / spaces).
BLANKS = HEADER + "1,A,LUC,LUC,10\n\n2,A,LUC,ONT,1\n\n   \n3,B,RSX,CLN,{area}\n{last},B,CLN,{code},1\n"


@pytest.mark.parametrize("encoding", ["utf-8", "cp1258"])   # the fast reader and the general one
@pytest.mark.parametrize(("area", "last", "code", "error", "match"), [
    ("-4", "4", "RSX", NegativeAreaError, r"row 7:column area_ha: negative area"),
    ("", "4", "RSX", NonNumericError, r"row 7:column area_ha: missing area"),
    ("4", "1", "RSX", DuplicateKeyError, r"row 8:column plot_id: plot_id '1' occurs twice.*also at row 2"),
    ("4", "4", "XYZ", UnknownCodeError, r"row 8:column code_to: unknown land code 'XYZ'"),
])
def test_blank_lines_do_not_shift_rows(tmp_path, encoding, area, last, code, error, match):
    text = BLANKS.format(area=area, last=last, code=code).replace("1,A,LUC,LUC", "1,Đ,LUC,LUC")
    if error is DuplicateKeyError:
        text = text.replace("1,B,CLN", "1,Đ,CLN")
    p = write(tmp_path / "p.csv", text, encoding=encoding)
    with pytest.raises(error, match=match):
        plot_transitions(p)


@pytest.mark.parametrize("spaces", ["", "   "])
def test_fast_reader_rows_with_blank_lines(tmp_path, spaces):
    # UTF-8 with empty lines only: the fast reader (no row column) and a lazy scan of the file; with a line
    # of spaces pyarrow gives up and the general reader numbers the rows. Either way the plots are on 2, 4, 7, 8.
    text = BLANKS.format(area="4", last="4", code="RSX").replace("\n   \n", f"\n{spaces}\n")
    df, rows = read_plots_located(write(tmp_path / "p.csv", text))
    assert [rows(i) for i in range(len(df))] == [2, 4, 7, 8]
    if not spaces:
        assert rows.rows is None and rows.delimiter == ","


def test_blank_lines_are_skipped(tmp_path):
    df = read_plots(write(tmp_path / "p.csv", BLANKS.format(area="4", last="4", code="RSX")))
    assert df["plot_id"].tolist() == ["1", "2", "3", "4"]
