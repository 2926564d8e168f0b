"""The lean Parquet path (pyarrow + numpy, :mod:`landuse.readers.plots_lean`) gives the batch path's matrix to the
last bit, and declines — so that the batch path names the row — whenever something is wrong or unusual.

The batch path (``scan_plots`` + ``MatrixSum.add``, what ``plot_transitions`` ran before) is the second method; the
fixed table's sums are also worked out by hand.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import landuse.readers.plots as plots_mod
import landuse.readers.plots_lean as lean
import landuse.transitions.change as change_mod
from landuse.errors import DuplicateKeyError, InputError, NegativeAreaError, NonNumericError, UnknownCodeError
from landuse.readers.plots import scan_plots
from landuse.readers.plots_lean import Declined, parquet_chunks
from landuse.transitions.change import TOTAL, MatrixSum, default_classification
from landuse.transitions.reports import _lean as lean_sum
from landuse.transitions.reports import plot_transitions

CODES = ["LUC", "LUK", "CLN", "RSX", "ONT", "ODT", "SON", "DGT"]


def _plots(n: int, seed: int = 0, units: int = 7, per_unit_ids: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = rng.integers(0, units, n)
    ids = np.arange(n)
    if per_unit_ids:  # communes number their plots 1, 2, … each
        ids = pd.Series(unit).groupby(unit).cumcount().to_numpy() + 1
    return pd.DataFrame({
        "plot_id": ids, "unit": [f"U{u}" for u in unit],
        "code_from": rng.choice(CODES, n), "code_to": rng.choice(CODES, n),
        "area_ha": np.round(rng.lognormal(-1, 1, n), 4),
    })


def _write(df: pd.DataFrame, path, row_group_size: int | None = None, **kw):
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=row_group_size, **kw)
    return path


def _batch_path(path, level=None, by_unit=False) -> pd.DataFrame:
    """The matrix by the batch path alone (the second method)."""
    acc = MatrixSum(default_classification(), level, by_unit)
    for b in scan_plots(path, by_unit=by_unit):
        acc.add(b.frame, b.rows, str(path))
    return acc.matrix()


def _lean(path, level=None, by_unit=False) -> pd.DataFrame:
    acc = MatrixSum(default_classification(), level, by_unit)
    for chunk in parquet_chunks(path, by_unit):  # raises Declined if the lean path does not take the file
        assert acc.add_coded(chunk)
    return acc.matrix()


@pytest.fixture
def small_batches(monkeypatch):
    """Read 7 plots at a time, batches of 20 (row groups of 50 are over 2 × 20), bincount chunks of 8: read
    batches straddle chunk ends, and units and codes first appear in later batches."""
    monkeypatch.setattr(lean, "READ_ROWS", 7)
    monkeypatch.setattr(plots_mod, "BATCH_ROWS", 20)
    monkeypatch.setattr(lean, "CHUNK", 8)
    monkeypatch.setattr(change_mod, "CHUNK", 8)


def test_hand_sums(tmp_path):
    df = pd.DataFrame({"plot_id": [1, 2, 3, 4], "unit": ["A", "A", "B", "B"], "code_from": ["LUC", "LUC", "RSX", "LUC"],
                       "code_to": ["LUC", "ONT", "RSX", "ONT"], "area_ha": [10.5, 2.25, 40.0, 0.25]})
    m = _lean(_write(df, tmp_path / "p.parquet"))
    assert m.loc["LUC", "LUC"] == 10.5 and m.loc["LUC", "ONT"] == 2.5 and m.loc["RSX", "RSX"] == 40.0
    assert m.loc[TOTAL, TOTAL] == 53.0 and m.loc["LUC", TOTAL] == 13.0 and m.loc[TOTAL, "ONT"] == 2.5
    u = _lean(tmp_path / "p.parquet", by_unit=True)
    assert list(dict.fromkeys(u.index.get_level_values("unit"))) == ["A", "B"]
    assert u.loc[("B", "LUC"), "ONT"] == 0.25 and u.loc[("A", TOTAL), TOTAL] == 12.75


@pytest.mark.parametrize("level", [None, 1, 2])
@pytest.mark.parametrize("by_unit", [False, True])
@pytest.mark.parametrize("per_unit_ids", [False, True])
def test_same_matrix_to_the_last_bit(tmp_path, small_batches, level, by_unit, per_unit_ids):
    path = _write(_plots(1000, per_unit_ids=per_unit_ids), tmp_path / "p.parquet", row_group_size=50)
    lean_m, batch_m = _lean(path, level, by_unit), _batch_path(path, level, by_unit)
    pd.testing.assert_frame_equal(lean_m, batch_m, check_exact=True)
    _, m = plot_transitions(path, level=level, by_unit=by_unit)
    pd.testing.assert_frame_equal(m, batch_m, check_exact=True)


def test_row_groups_read_whole_and_codes_that_differ_between_them(tmp_path, small_batches):
    df = _plots(120)
    df.loc[:59, "code_to"] = "LUC"  # the first row groups' dictionaries lack the other codes
    df.loc[100:, "unit"] = "LATE"  # a unit first seen in the last row group
    path = _write(df, tmp_path / "p.parquet", row_group_size=30)  # ≤ 2 × 20: one batch per row group
    for by_unit in (False, True):
        pd.testing.assert_frame_equal(_lean(path, by_unit=by_unit), _batch_path(path, by_unit=by_unit),
                                      check_exact=True)
    assert _lean(path, by_unit=True).index.get_level_values("unit")[-1] == "LATE"


def test_two_spellings_of_a_code_are_one_code(tmp_path, small_batches):
    df = _plots(200)
    df.loc[::3, "code_from"] = " luc"
    path = _write(df, tmp_path / "p.parquet", row_group_size=50)
    m = _lean(path)
    pd.testing.assert_frame_equal(m, _batch_path(path), check_exact=True)
    assert m.loc["LUC", TOTAL] == pytest.approx(df.loc[df["code_from"].str.strip().str.upper() == "LUC",
                                                       "area_ha"].sum())


def test_memory_pool_is_restored(tmp_path):
    before = pa.default_memory_pool().backend_name
    _lean(_write(_plots(10), tmp_path / "p.parquet"))
    assert pa.default_memory_pool().backend_name == before


@pytest.mark.parametrize("change", [
    lambda df: df.assign(plot_id=df["plot_id"].astype(str)),  # text ids
    lambda df: df.assign(area_ha=df["area_ha"].astype(str)),  # text areas
    lambda df: df.assign(unit_from=df["unit"], unit_to=df["unit"]),
    lambda df: df.assign(plot_id=df["plot_id"] * 10 ** 9),  # ids too far apart for a dense check
    lambda df: df.drop(columns="code_to"),
])
def test_files_the_lean_path_does_not_take(tmp_path, change):
    path = _write(change(_plots(50)), tmp_path / "p.parquet")
    with pytest.raises(Declined):
        list(parquet_chunks(path))


def test_no_statistics_declines(tmp_path):
    path = _write(_plots(50), tmp_path / "p.parquet", write_statistics=False)
    with pytest.raises(Declined):
        list(parquet_chunks(path))
    assert plot_transitions(path)[1].loc[TOTAL, TOTAL] == pytest.approx(_plots(50)["area_ha"].sum())


def test_a_corrupt_page_in_a_late_row_group_declines_and_the_batch_path_words_it(tmp_path):
    """The page is decoded in the read-ahead thread: its error still reaches the lean path (decline)."""
    path = _write(_plots(3000), tmp_path / "p.parquet", row_group_size=500)
    start = pq.ParquetFile(path).metadata.row_group(5).column(4).data_page_offset
    data = bytearray(path.read_bytes())
    data[start + 40:start + 200] = b"\xab" * 160
    path.write_bytes(bytes(data))
    with pytest.raises(Declined):
        list(parquet_chunks(path))
    with pytest.raises(InputError, match="cannot read Parquet file"):
        plot_transitions(path)


@pytest.mark.parametrize(("row", "column", "value", "error", "match"), [
    (97, "area_ha", -1.0, NegativeAreaError, r"row 99:column area_ha: negative area"),
    (97, "area_ha", np.inf, NonNumericError, r"row 99:column area_ha: not a finite number"),
    (97, "area_ha", None, NonNumericError, r"row 99:column area_ha: missing area"),
    (97, "plot_id", None, InputError, r"row 99:column plot_id: empty plot_id"),
    (97, "code_to", "XYZ", UnknownCodeError, r"row 99:column code_to: unknown land code 'XYZ'"),
    (97, "code_from", None, InputError, r"row 99:column code_from: missing land code"),
    (97, "plot_id", 3, DuplicateKeyError, r"row 99:column plot_id: plot_id '3' occurs twice, also at row 5"),
])
def test_bad_plots_in_a_late_batch_are_named_by_the_batch_path(tmp_path, small_batches, row, column, value, error,
                                                               match):
    df = _plots(120).drop(columns="unit")
    df[column] = df[column].astype(object if value is None or isinstance(value, str) else df[column].dtype)
    if column == "plot_id" and value is None:
        df[column] = df[column].astype("Int64")
    df.loc[row, column] = value
    path = _write(df, tmp_path / "p.parquet", row_group_size=50)
    assert not lean_sum(path, MatrixSum(default_classification()), "auto")  # declined: the batch path names the row
    with pytest.raises(error, match=match):
        plot_transitions(path)


def test_a_plot_twice_in_one_unit_when_communes_number_their_plots(tmp_path, small_batches):
    df = _plots(200, per_unit_ids=True)
    first = df.index[df["unit"] == "U3"][0]
    late = df.index[df["unit"] == "U3"][-1]
    df.loc[late, "plot_id"] = df.loc[first, "plot_id"]
    path = _write(df, tmp_path / "p.parquet", row_group_size=50)
    assert not lean_sum(path, MatrixSum(default_classification(), by_unit=True), "auto")
    with pytest.raises(DuplicateKeyError, match=rf"row {late + 2}:column plot_id: plot_id '1' occurs twice in unit "
                                                rf"'U3', also at row {first + 2}"):
        plot_transitions(path)


# ---- CSV ------------------------------------------------------------------------------------------------
@pytest.fixture
def small_csv_blocks(monkeypatch):
    """Parse 256 bytes of CSV at a time and sum in chunks of 8 plots: codes, units and area texts first appear
    in later blocks, and chunks straddle blocks."""
    monkeypatch.setattr(lean, "CSV_BLOCK", 256)
    monkeypatch.setattr(lean, "CHUNK", 8)
    monkeypatch.setattr(change_mod, "CHUNK", 8)


def _csv(df: pd.DataFrame, path, sep: str = ",", decimal: str = "."):
    df.to_csv(path, index=False, sep=sep, decimal=decimal)
    return path


def _lean_csv(path, level=None, by_unit=False, number_format="auto") -> pd.DataFrame:
    acc = MatrixSum(default_classification(), level, by_unit)
    for chunk in lean.csv_chunks(path, by_unit, number_format):  # raises Declined if not taken
        assert acc.add_coded(chunk)
    return acc.matrix()


@pytest.mark.parametrize("level", [None, 1])
@pytest.mark.parametrize("by_unit", [False, True])
@pytest.mark.parametrize("per_unit_ids", [False, True])
def test_csv_same_matrix_to_the_last_bit(tmp_path, small_csv_blocks, level, by_unit, per_unit_ids):
    path = _csv(_plots(300, per_unit_ids=per_unit_ids), tmp_path / "p.csv")
    batch_m = _batch_path(path, level, by_unit)
    pd.testing.assert_frame_equal(_lean_csv(path, level, by_unit), batch_m, check_exact=True)
    pd.testing.assert_frame_equal(plot_transitions(path, level=level, by_unit=by_unit)[1], batch_m, check_exact=True)


def test_csv_vietnamese_numbers_read_by_the_shared_rules(tmp_path, small_csv_blocks):
    df = pd.DataFrame({"plot_id": [1, 2, 3], "code_from": ["LUC", "LUC", "RSX"], "code_to": ["LUC", "ONT", "RSX"],
                       "area_ha": ["1.234,5", "0,25", "12"]})
    path = _csv(df, tmp_path / "p.csv", sep=";")
    m = _lean_csv(path)
    assert m.loc["LUC", "LUC"] == 1234.5 and m.loc["LUC", "ONT"] == 0.25 and m.loc[TOTAL, TOTAL] == 1246.75
    pd.testing.assert_frame_equal(m, _batch_path(path), check_exact=True)


@pytest.mark.parametrize("ids", [["007", "1", "2"], ["+7", "1", "2"], ["T-1", "T-2", "T-3"], [" 7", "1", "2"]])
def test_csv_ids_that_are_not_canonical_integers_decline(tmp_path, ids):
    text = "plot_id,code_from,code_to,area_ha\n" + "".join(f"{i},LUC,LUC,1\n" for i in ids)
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(Declined):
        list(lean.csv_chunks(path))
    assert plot_transitions(path)[1].loc[TOTAL, TOTAL] == 3.0


@pytest.mark.parametrize(("line", "error", "match"), [
    ("98,U1,LUC,LUC,-1", NegativeAreaError, r"row 100:column area_ha: negative area"),
    ("98,U1,LUC,LUC,", NonNumericError, r"row 100:column area_ha: missing area"),
    ("98,U1,LUC,LUC,1.2.3", NonNumericError, r"row 100:column area_ha: not a number"),
    ("98,U1,LUC,XYZ,1", UnknownCodeError, r"row 100:column code_to: unknown land code 'XYZ'"),
    ("3,U1,LUC,LUC,1", DuplicateKeyError, r"row 100:column plot_id: plot_id '3' occurs twice in unit 'U1', also "
                                           r"at row 5"),
    (",U1,LUC,LUC,1", InputError, r"row 100:column plot_id: empty plot_id"),
])
def test_csv_bad_plots_are_named_by_the_batch_path(tmp_path, small_csv_blocks, line, error, match):
    df = _plots(120).assign(unit="U1")
    lines = df.to_csv(index=False).splitlines()
    lines[99] = line  # file row 100
    path = tmp_path / "p.csv"
    path.write_text("\n".join(lines) + "\n")
    assert not lean_sum(path, MatrixSum(default_classification()), "auto")
    with pytest.raises(error, match=match):
        plot_transitions(path)


@pytest.mark.parametrize("per_unit_ids", [False, True])
def test_csv_ids_far_apart_are_checked_by_a_sort(tmp_path, small_csv_blocks, per_unit_ids):
    df = _plots(200, per_unit_ids=per_unit_ids)
    df["plot_id"] = df["plot_id"] * 10 ** 9 - 5  # parcel numbers: far apart, one negative
    path = _csv(df, tmp_path / "p.csv")
    pd.testing.assert_frame_equal(_lean_csv(path, by_unit=True), _batch_path(path, by_unit=True), check_exact=True)
    lines = path.read_text().splitlines()
    same_unit = df.index[(df["unit"] == df.loc[150, "unit"]) & (df.index < 150)][0]
    lines[151] = lines[151].replace(lines[151].split(",")[0], str(df.loc[same_unit, "plot_id"]), 1)  # file row 152
    bad = tmp_path / "q.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(Declined):
        _lean_csv(bad)
    with pytest.raises(DuplicateKeyError, match=rf"row 152:column plot_id: .* also at row {same_unit + 2}"):
        plot_transitions(bad)


# ---- through the real command ------------------------------------------------------------------------------
def _command(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "landuse", "transitions", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8", timeout=300)


def _file(df: pd.DataFrame, tmp_path, kind: str):
    """Parquet in row groups of 70,000 plots, or CSV (4 MB blocks: three or more): read ahead by a thread."""
    if kind == "csv":
        return _csv(df, tmp_path / "p.csv")
    return _write(df, tmp_path / "p.parquet", row_group_size=70_000)


@pytest.fixture(scope="module")
def command_files(tmp_path_factory) -> dict[tuple[str, bool], tuple]:
    """(file kind, by unit) -> (file, the batch path's matrix): one Parquet and one CSV file of 300,000 plots."""
    from landuse.transitions.change import matrix_table

    folder, df = tmp_path_factory.mktemp("command"), _plots(300_000, per_unit_ids=True)
    files = {kind: _file(df, folder, kind) for kind in ("parquet", "csv")}
    return {(kind, by_unit): (path, matrix_table(_batch_path(path, by_unit=by_unit)))
            for kind, path in files.items() for by_unit in (False, True)}


@pytest.mark.parametrize("by_unit", [False, True])
@pytest.mark.parametrize("kind", ["parquet", "csv"])
@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_the_command_prints_the_batch_paths_table(command_files, fmt, kind, by_unit):
    """The printed table is the batch path's, byte for byte."""
    from landuse.output import render

    path, table = command_files[(kind, by_unit)]
    p = _command(path, "--format", fmt, *(["--by-unit"] if by_unit else []))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout == render(table, fmt, lang="en")


@pytest.mark.parametrize("kind", ["parquet", "csv"])
@pytest.mark.parametrize(("column", "value", "message"), [
    ("area_ha", -1.0, "column area_ha: negative area"),
    ("area_ha", None, "column area_ha: missing area"),
    ("code_to", "XYZ", "column code_to: unknown land code 'XYZ'"),
    ("plot_id", 5, "column plot_id: plot_id '5' occurs twice"),
])
def test_the_command_names_the_row_of_a_bad_plot_late_in_the_file(tmp_path, column, value, message, kind):
    df = _plots(300_000).drop(columns="unit")
    df[column] = df[column].astype(object) if value is None or isinstance(value, str) else df[column]
    df.loc[250_001, column] = value
    p = _command(_file(df, tmp_path, kind), "--format", "csv")
    assert p.returncode == 2 and p.stdout == ""
    assert f"p.{kind}:row 250003:{message}" in p.stderr and "Traceback" not in p.stderr, p.stderr
