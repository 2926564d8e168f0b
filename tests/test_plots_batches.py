"""The plot-file path built for speed gives the same matrix and the same errors as the plain rules.

A fixed plot table's matrix is compared with ``pandas.crosstab`` on the string codes (a second method), for
CSV and Parquet, read whole and in batches of 4 plots (so that units, codes and duplicate plot ids span
batches). Duplicate plot ids are checked on integer keys: ids written differently ("007", "7") stay different.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import landuse.readers.plots as plots_mod
from landuse.errors import DuplicateKeyError, NegativeAreaError, NonNumericError, UnknownCodeError
from landuse.readers.plots import read_plots
from landuse.transitions.change import TOTAL, transition_matrix
from landuse.transitions.reports import plot_transitions
from tests.conftest import write

# 11 plots, ids numbered per unit (as communes do), unit U2 first seen after U1, B after both
PLOTS = pd.DataFrame({
    "plot_id": ["1", "2", "3", "1", "2", "4", "3", "5", "6", "1", "4"],
    "unit": ["U1", "U1", "U1", "U2", "U2", "U1", "U2", "U2", "U1", "B", "U2"],
    "code_from": ["LUC", "LUC", "RSX", "LUC", "RSX", "CLN", "ONT", "LUC", "RSX", "CLN", "LUC"],
    "code_to": ["LUC", "ONT", "RSX", "CLN", "RSX", "CLN", "ONT", "ONT", "LUC", "ONT", "LUC"],
    "area_ha": [10.5, 2.25, 40.0, 3.0, 12.0, 1.75, 0.5, 0.25, 7.0, 1.0, 0.0],
})


def _expected(df: pd.DataFrame) -> pd.DataFrame:
    """The matrix by a second method: crosstab on the string codes, the union of codes on both axes."""
    ct = pd.crosstab(df["code_from"], df["code_to"], values=df["area_ha"], aggfunc="sum").fillna(0.0)
    codes = sorted(set(df["code_from"]) | set(df["code_to"]))
    return ct.reindex(index=codes, columns=codes, fill_value=0.0)


def _files(tmp_path) -> dict[str, object]:
    csv = tmp_path / "p.csv"
    PLOTS.to_csv(csv, index=False)
    pq = tmp_path / "p.parquet"
    PLOTS.assign(plot_id=PLOTS["plot_id"].astype(int)).to_parquet(pq)
    return {"csv": csv, "parquet": pq}


@pytest.fixture(params=[None, 4], ids=["whole", "batches-of-4"])
def batch_rows(request, monkeypatch):
    if request.param:
        monkeypatch.setattr(plots_mod, "BATCH_ROWS", request.param)
    return request.param


def test_hand_sums_of_the_fixed_input():
    # worked out by hand from PLOTS: LUC→LUC 10.5 + 0 (a zero-area plot still counts), LUC→ONT 2.25 + 0.25
    m = _expected(PLOTS)
    assert m.loc["LUC", "LUC"] == 10.5 and m.loc["LUC", "ONT"] == 2.5 and m.loc["RSX", "RSX"] == 52.0
    assert m.to_numpy().sum() == pytest.approx(78.25)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_matrix_equals_crosstab(tmp_path, batch_rows, fmt):
    path = _files(tmp_path)[fmt]
    _, m = plot_transitions(path)
    body = m.drop(index=TOTAL, columns=TOTAL)
    exp = _expected(PLOTS)
    pd.testing.assert_frame_equal(body.sort_index().sort_index(axis=1), exp, check_names=False)
    np.testing.assert_allclose(m.loc[TOTAL, TOTAL], PLOTS["area_ha"].sum())
    order = [c for c in m.index if c != TOTAL]  # classification order, not file order
    assert order == [c for c in m.columns if c != TOTAL]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_matrix_by_unit_equals_crosstab_per_unit(tmp_path, batch_rows, fmt):
    path = _files(tmp_path)[fmt]
    _, m = plot_transitions(path, by_unit=True)
    assert list(dict.fromkeys(m.index.get_level_values("unit"))) == ["U1", "U2", "B"]  # first appearance
    for unit, part in PLOTS.groupby("unit"):
        got = m.loc[unit].drop(index=TOTAL, columns=TOTAL)
        got = got.loc[(got != 0).any(axis=1) | got.index.isin(part["code_from"]),
                      (got != 0).any(axis=0) | got.columns.isin(part["code_to"])]
        exp = _expected(part)
        got = got.reindex(index=exp.index, columns=exp.columns, fill_value=0.0)
        pd.testing.assert_frame_equal(got, exp, check_names=False)


def test_same_matrix_as_from_the_frame_in_memory(tmp_path, batch_rows):
    _, m = plot_transitions(_files(tmp_path)["parquet"], by_unit=True)
    pd.testing.assert_frame_equal(m, transition_matrix(PLOTS, by_unit=True))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_duplicate_across_batches_names_both_rows(tmp_path, batch_rows, fmt):
    df = PLOTS.copy()
    df.loc[9, ["plot_id", "unit"]] = ["2", "U2"]  # file row 11 repeats (U2, 2) of file row 6
    path = tmp_path / f"d.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.assign(plot_id=df["plot_id"].astype(int)).to_parquet(path)
    with pytest.raises(DuplicateKeyError, match=r"row 11:column plot_id: plot_id '2' occurs twice in unit 'U2', "
                                                r"also at row 6"):
        plot_transitions(path)


def test_ids_written_differently_are_different_plots(tmp_path):
    text = "plot_id,unit,code_from,code_to,area_ha\n7,A,LUC,LUC,1\n007,A,LUC,LUC,2\n+7,A,LUC,LUC,3\n 7,A,LUC,LUC,4\n"
    df = read_plots(write(tmp_path / "p.csv", text))
    assert len(df) == 4
    with pytest.raises(DuplicateKeyError, match=r"row 6:column plot_id: plot_id '007' occurs twice.*also at row 3"):
        read_plots(write(tmp_path / "q.csv", text + "007,A,RSX,RSX,1\n"))


def test_text_ids_and_no_unit_column(tmp_path):
    text = "plot_id,code_from,code_to,area_ha\nT-1,LUC,LUC,1\nT-2,LUC,ONT,2\nT-1,RSX,RSX,3\n"
    with pytest.raises(DuplicateKeyError, match=r"row 4:column plot_id: plot_id 'T-1' occurs twice, also at row 2"):
        read_plots(write(tmp_path / "p.csv", text))


def test_ids_far_apart_are_compared_exactly(tmp_path):
    ids = [-(2 ** 62), 5, 2 ** 62, 5 + 2 ** 32]
    df = pd.DataFrame({"plot_id": ids, "unit": "A", "code_from": "LUC", "code_to": "LUC", "area_ha": 1.0})
    df.to_parquet(tmp_path / "p.parquet")
    assert len(read_plots(tmp_path / "p.parquet")) == 4
    df.loc[3, "plot_id"] = 2 ** 62
    df.to_parquet(tmp_path / "q.parquet")
    with pytest.raises(DuplicateKeyError, match=r"row 5:.*also at row 4"):
        read_plots(tmp_path / "q.parquet")


@pytest.mark.parametrize(("area", "error", "match"), [
    ("-0.25", NegativeAreaError, r"p.parquet:row 10:column area_ha: negative area"),
    (float("nan"), NonNumericError, r"p.parquet:row 10:column area_ha: missing area"),
])
def test_bad_area_in_a_later_batch_names_its_row(tmp_path, batch_rows, area, error, match):
    df = PLOTS.assign(plot_id=PLOTS["plot_id"].astype(int))
    df.loc[8, "area_ha"] = float(area)
    df.to_parquet(tmp_path / "p.parquet")
    with pytest.raises(error, match=match):
        plot_transitions(tmp_path / "p.parquet")


def test_unknown_code_in_a_later_batch_names_its_row(tmp_path, batch_rows):
    df = PLOTS.assign(plot_id=PLOTS["plot_id"].astype(int))
    df.loc[9, "code_to"] = "XYZ"
    df.to_parquet(tmp_path / "p.parquet")
    with pytest.raises(UnknownCodeError, match=r"row 11:column code_to: unknown land code 'XYZ'"):
        plot_transitions(tmp_path / "p.parquet")


def test_area_tokens_parsed_once_each_keep_the_grammar(tmp_path):
    head = "plot_id;unit;code_from;code_to;area_ha\n"
    rows = "".join(f"{i};A;LUC;LUC;{a}\n" for i, a in enumerate(["1.234,5", "0,25", "1.234,5", " 0,25 ", "12"]))
    df = read_plots(write(tmp_path / "p.csv", head + rows))
    assert df["area_ha"].tolist() == [1234.5, 0.25, 1234.5, 0.25, 12.0]
    bad = rows + "9;A;LUC;LUC;1.23.4\n"
    with pytest.raises(NonNumericError, match=r"row 7:column area_ha: not a number.*Vietnamese"):
        read_plots(write(tmp_path / "q.csv", head + bad))


def test_parquet_with_text_areas(tmp_path, batch_rows):
    df = PLOTS.assign(area_ha=PLOTS["area_ha"].map(lambda v: f"{v:.2f}".replace(".", ",")))
    df.to_parquet(tmp_path / "p.parquet")
    _, m = plot_transitions(tmp_path / "p.parquet")
    assert m.loc["LUC", "ONT"] == pytest.approx(2.5)
    assert m.loc[TOTAL, TOTAL] == pytest.approx(78.25)
