"""Reading files: number formats, encodings and every bad-input case with its location."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from landuse.classification import load_classification
from landuse.errors import (
    AmbiguousNumberFormatError,
    DuplicateKeyError,
    EmptyFileError,
    MissingColumnError,
    NegativeAreaError,
    NonNumericError,
    UnknownCodeError,
)
from landuse.readers.tables import ROW, detect_number_format, parse_numbers, read_long, read_table
from tests.conftest import TEST_DATA, write

INPUT = TEST_DATA / "input"
CLS = load_classification("vn2024")


@pytest.mark.parametrize("text,fmt,expected", [
    ("43.749", "vi", 43749), ("5,27", "vi", 5.27), ("-1.644,92", "vi", -1644.92), ("830.732", "vi", 830732),
    ("1.234.567,5", "vi", 1234567.5), ("0", "vi", 0), ("12", "en", 12),
    ("43,749", "en", 43749), ("5.27", "en", 5.27), ("-1,644.92", "en", -1644.92), ("1,234,567.5", "en", 1234567.5),
])
def test_parse_numbers(text, fmt, expected):
    values, bad = parse_numbers(pd.Series([text]), fmt)
    assert values.iloc[0] == pytest.approx(expected) and not bad.iloc[0]


@pytest.mark.parametrize("text", ["", "-", " "])
def test_blank_and_dash_are_missing_not_zero(text):
    values, bad = parse_numbers(pd.Series([text]), "vi")
    assert values.isna().iloc[0] and not bad.iloc[0]


@pytest.mark.parametrize("text,fmt", [("12a", "vi"), ("5.27", "vi"), ("5,27", "en"), ("1.2.3", "en")])
def test_bad_numbers_are_flagged(text, fmt):
    _, bad = parse_numbers(pd.Series([text]), fmt)
    assert bad.iloc[0]


@pytest.mark.parametrize("cells,expected", [
    (["1", "5,27"], "vi"), (["1.234.567"], "vi"), (["1.234,5"], "vi"),
    (["5.27", "3"], "en"), (["1,234,567"], "en"), (["12", "7"], None),
])
def test_detect_number_format(cells, expected):
    assert detect_number_format(pd.Series(cells)) == expected


def test_auto_reads_vi_and_en_files_identically():
    vi = read_long(INPUT / "vi_numbers.csv", CLS, "auto")
    en = read_long(INPUT / "en_numbers.csv", CLS, "auto")
    assert vi["area_ha"].tolist() == en["area_ha"].tolist() == [43749, 5.27, 1234567.5]


def test_auto_refuses_ambiguous_file_naming_the_cell():
    with pytest.raises(AmbiguousNumberFormatError, match=r"ambiguous.csv:row 2:column area_ha.*'43.749'"):
        read_long(INPUT / "ambiguous.csv", CLS, "auto")
    # told the format, the same file reads
    assert read_long(INPUT / "ambiguous.csv", CLS, "vi")["area_ha"].tolist() == [43749, 12]


def test_auto_refuses_mixed_formats():
    with pytest.raises(AmbiguousNumberFormatError, match="mixes"):
        read_long(INPUT / "mixed_formats.csv", CLS, "auto")


@pytest.mark.parametrize("name", ["utf8_bom.csv", "utf16.csv", "cp1258.csv"])
def test_encodings(name):
    df = read_long(INPUT / name, CLS, "vi")
    assert df["unit"].tolist() == ["Xã Đồng Đăng", "Phường Kỳ Lừa"]
    assert df["area_ha"].tolist() == [1234.5, 12]


def test_xlsx_numeric_and_text_cells():
    df = read_long(INPUT / "inventory.xlsx", CLS, "vi")
    assert df["area_ha"].tolist() == [43749, 5.27, 1234.5]


@pytest.mark.parametrize("name,error,where", [
    ("unknown_code.csv", UnknownCodeError, r"unknown_code.csv:row 3:column code: unknown land code 'LUX'"),
    ("negative_area.csv", NegativeAreaError, r"negative_area.csv:row 3:column area_ha: negative area"),
    ("duplicate.csv", DuplicateKeyError, r"duplicate.csv:row 4:column code: duplicate .*also at row 2"),
    ("missing_column.csv", MissingColumnError, r"missing_column.csv:row 1: missing required column 'area_ha'"),
    ("non_numeric.csv", NonNumericError, r"non_numeric.csv:row 3:column area_ha: not a number.*'12a'"),
    ("empty.csv", EmptyFileError, r"empty.csv: the file is empty"),
    ("header_only.csv", EmptyFileError, r"header_only.csv: the file has no data rows"),
    ("non_numeric.xlsx", NonNumericError, r"non_numeric.xlsx:row 3:column area_ha: not a number.*'abc'"),
])
def test_bad_input_names_file_row_column(name, error, where):
    with pytest.raises(error, match=where):
        read_long(INPUT / name, CLS, "vi")


def test_utf8_file_with_a_bad_byte_is_refused_not_garbled(tmp_path):
    p = tmp_path / "bad_utf8.csv"
    p.write_bytes("unit,year,code,area_ha\nXã A,2024,LUC,10\n".encode() + b"X\xe3 B,2024,LUK,3\n")
    from landuse.errors import InputError
    with pytest.raises(InputError, match=r"bad_utf8.csv:row 3: invalid UTF-8 byte"):
        read_long(p, CLS, "vi")
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_blank_lines_keep_file_rows(tmp_path, newline):
    # pandas skips blank (and whitespace-only) lines: the rows named must still be the file's lines
    lines = ["unit,year,code,area_ha", "", "T,2024,LUC,10", "   ", "", "T,2024,LUX,5"]
    p = write(tmp_path / "inv.csv", newline.join(lines) + newline)
    with pytest.raises(UnknownCodeError, match=r"inv.csv:row 6:column code: unknown land code 'LUX'"):
        read_long(p, CLS, "en")


def test_read_table_rows_with_blank_lines_and_multiline_fields(tmp_path):
    text = 'a;b\n1;x\n\n2;"two\nlines"\n\n \n3;y\n'
    df = read_table(write(tmp_path / "t.csv", text))
    assert df["a"].tolist() == ["1", "2", "3"]
    assert df[ROW].tolist() == [2, 4, 8]          # line 4 holds the record that ends on line 5
    plain = read_table(write(tmp_path / "u.csv", "a,b\n1,x\n2,y\n"))
    assert plain[ROW].tolist() == [2, 3]


def test_semicolon_file_with_leading_blank_line(tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("\nunit;year;code;area_ha\nXã A;2024;LUC;1.234,5\n", encoding="utf-8")
    df = read_long(p, CLS, "vi")
    assert df["area_ha"].tolist() == [1234.5]


# ---- the number grammar: a thousands group follows a non-zero leading group ---------------------------------
@pytest.mark.parametrize("text,fmt,expected", [
    ("0.500", "en", 0.5), ("0,5", "vi", 0.5), ("0,500", "vi", 0.5), ("1.500", "vi", 1500), ("-0,25", "vi", -0.25),
    ("1.5000000000000000e+00", "vi", 1.5), ("1.5000000000000000e+00", "en", 1.5),  # a typed spreadsheet number
])
def test_grammar_reads(text, fmt, expected):
    values, bad = parse_numbers(pd.Series([text]), fmt)
    assert values.iloc[0] == pytest.approx(expected) and not bad.iloc[0]


@pytest.mark.parametrize("text,fmt", [("0.500", "vi"), ("00.500", "vi"), ("0,500", "en"), ("-0.500", "vi"),
                                      ("NaN", "vi"), ("nan", "en"), ("None", "en"), ("inf", "en"), ("-inf", "vi")])
def test_grammar_refuses(text, fmt):
    values, bad = parse_numbers(pd.Series([text]), fmt)
    assert bad.iloc[0] and values.isna().iloc[0]


@pytest.mark.parametrize("cells,expected", [(["0.500"], "en"), (["0,500"], "vi"), (["1.500", "0.250"], "en")])
def test_a_zero_leading_group_is_evidence(cells, expected):
    """0.500 can only be English (0.5): no Vietnamese thousands group follows a zero; 0,500 only Vietnamese."""
    assert detect_number_format(pd.Series(cells)) == expected


@pytest.mark.parametrize("cells,fmt,fragment", [
    (["830.732", "737.373", "1.234", "12"], "en", "Vietnamese thousands grouping"),
    (["830,732", "737,373", "1,234", "12"], "vi", "English thousands grouping"),
    (["88,76", "12"], "en", "'88,76' cannot be a number in English"),
    (["5.27", "12"], "vi", "'5.27' cannot be a number in Vietnamese"),
])
def test_a_file_contradicting_its_format_is_refused(cells, fmt, fragment):
    from landuse.readers.tables import check_number_format

    with pytest.raises(AmbiguousNumberFormatError, match=re.escape(fragment) + ".*--number-format"):
        check_number_format(pd.Series(cells), fmt)


@pytest.mark.parametrize("cells,fmt", [
    (["830.732", "737.373", "12"], "en"),        # two such numbers: below the evidence threshold (3)
    (["830.732", "737.373", "1.234", "5.5"], "en"),  # one number with one decimal: the file is English
    (["1.234,5", "830,732", "1,234", "737,373"], "vi"),  # a Vietnamese-only number decides
])
def test_a_file_consistent_with_its_format_is_read(cells, fmt):
    from landuse.readers.tables import check_number_format

    check_number_format(pd.Series(cells), fmt)
