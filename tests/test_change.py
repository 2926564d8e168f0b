"""Net change, the transition matrix and its measures, checked against a small example worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landuse.dataset import load_dataset
from landuse.errors import InputError, UnknownCodeError
from landuse.transitions.change import (
    asset_account,
    components,
    net_change,
    split_matrix,
    transition_matrix,
)
from landuse.transitions.intensity import intensity
from tests.conftest import MINI

# The hand-worked example: 7 plots in two units, three land types (LUC rice, RSX production forest, ONT rural
# residential). Matrix (rows = start, columns = end, ha), in the classification's order LUC, RSX, ONT:
#
#            LUC   RSX   ONT | start
#     LUC     50    15    10 |   75
#     RSX      5   100    10 |  115
#     ONT      0     0    20 |   20
#     end     55   115    40 |  210
PLOTS = pd.DataFrame({
    "plot_id": ["1", "2", "3", "4", "5", "6", "7"],
    "unit": ["U1", "U1", "U1", "U2", "U2", "U2", "U2"],
    "code_from": ["LUC", "LUC", "RSX", "RSX", "LUC", "ONT", "RSX"],
    "code_to": ["LUC", "ONT", "RSX", "LUC", "RSX", "ONT", "ONT"],
    "area_ha": [50.0, 10.0, 100.0, 5.0, 15.0, 20.0, 10.0],
})
HAND = [[50, 15, 10], [5, 100, 10], [0, 0, 20]]
CODES = ["LUC", "RSX", "ONT"]


@pytest.fixture(scope="module")
def matrix(vn2024):
    return transition_matrix(PLOTS, classification=vn2024)


def test_matrix_by_hand(matrix):
    assert list(matrix.columns) == CODES + ["total"]
    assert list(matrix.index) == CODES + ["total"]
    assert matrix.loc[CODES, CODES].to_numpy().tolist() == HAND
    assert matrix.loc[CODES, "total"].tolist() == [75, 115, 20]      # row sums = start areas
    assert matrix.loc["total", CODES].tolist() == [55, 115, 40]      # column sums = end areas
    assert matrix.loc["total", "total"] == 210


def test_matrix_identities_against_groupby(matrix):
    start = PLOTS.groupby("code_from")["area_ha"].sum()
    end = PLOTS.groupby("code_to")["area_ha"].sum()
    assert matrix.loc[CODES, "total"].to_dict() == start.reindex(CODES).to_dict()
    assert matrix.loc["total", CODES].to_dict() == end.reindex(CODES).to_dict()


def test_matrix_by_unit(vn2024):
    m = transition_matrix(PLOTS, by_unit=True, classification=vn2024)
    assert m.loc[("U1", "LUC"), "ONT"] == 10 and m.loc[("U1", "LUC"), "LUC"] == 50
    assert m.loc[("U2", "RSX"), "LUC"] == 5 and m.loc[("U2", "RSX"), "ONT"] == 10
    assert m.loc[("U1", "total"), "total"] == 160 and m.loc[("U2", "total"), "total"] == 50


def test_matrix_at_level_1(vn2024):
    m = transition_matrix(PLOTS, level=1, classification=vn2024)
    # LUC, RSX are in NNP; ONT is in PNN
    assert m.loc["NNP", "NNP"] == 50 + 15 + 5 + 100
    assert m.loc["NNP", "PNN"] == 10 + 10
    assert m.loc["PNN", "PNN"] == 20 and m.loc["PNN", "NNP"] == 0


def test_matrix_unknown_code_names_row(vn2024):
    bad = PLOTS.assign(code_to=["LUC", "ONT", "RSX", "XYZ", "RSX", "ONT", "ONT"])
    with pytest.raises(UnknownCodeError, match="row 5:column code_to: unknown land code 'XYZ'"):
        transition_matrix(bad, classification=vn2024)
    with pytest.raises(UnknownCodeError, match="of-which"):
        transition_matrix(PLOTS.assign(code_from="RSN"), classification=vn2024)


def test_components_by_hand(matrix):
    c = components(matrix).set_index("code")
    # LUC: persistence 50, gain 5, loss 25, net -20, swap 2*min(5,25)=10, exchange 2*min(15,5)=10, shift 0
    assert c.loc["LUC", ["persistence", "gross_gain", "gross_loss", "net_change", "swap", "quantity",
                         "exchange", "shift"]].tolist() == [50, 5, 25, -20, 10, 20, 10, 0]
    # RSX: gain 15 (from LUC), loss 15 (5 to LUC + 10 to ONT); exchange with LUC 2*min(5,15)=10,
    # shift = swap 30 - exchange 10 = 20
    assert c.loc["RSX", ["gross_gain", "gross_loss", "net_change", "swap", "quantity", "exchange",
                         "shift"]].tolist() == [15, 15, 0, 30, 0, 10, 20]
    assert c.loc["ONT", ["gross_gain", "gross_loss", "net_change", "swap", "exchange"]].tolist() == [20, 0, 20, 0, 0]
    # whole landscape: D = 40 = Q 20 + E 10 + S 10
    o = c.loc["overall"]
    assert (o["total_change"], o["quantity"], o["exchange"], o["shift"]) == (40, 20, 10, 10)


def test_component_identities(matrix):
    c = components(matrix).set_index("code").drop("overall")
    assert np.allclose(c["net_change"], c["area_to"] - c["area_from"])          # net = gain - loss = end - start
    assert np.allclose(c["gross_gain"] + c["gross_loss"], c["quantity"] + c["exchange"] + c["shift"])
    o = components(matrix).set_index("code").loc["overall"]
    assert o["total_change"] == pytest.approx(o["quantity"] + o["exchange"] + o["shift"])


def test_intensity_by_hand(matrix):
    t = intensity(matrix, interval_years=5)
    x, u = "intensity_pct_per_year", "uniform_pct_per_year"
    s = 100 * (40 / 210) / 5                                              # 3.8095 %/year
    interval = t[(t["level"] == "interval") & (t["interval"] != "all")].iloc[0]
    assert interval[x] == pytest.approx(s) and interval[u] == pytest.approx(s)  # one interval: U = S
    cat = t[t["level"] == "category"]
    gain = cat[cat["direction"] == "gain"].set_index("category")
    assert gain.loc["LUC", x] == pytest.approx(100 * (5 / 5) / 55)
    assert gain.loc["ONT", x] == pytest.approx(100 * (20 / 5) / 40)
    assert gain["behaviour"].to_dict() == {"LUC": "dormant", "RSX": "dormant", "ONT": "active"}
    loss = cat[cat["direction"] == "loss"].set_index("category")
    assert loss.loc["LUC", x] == pytest.approx(100 * (25 / 5) / 75)
    assert loss["behaviour"].to_dict() == {"LUC": "active", "RSX": "dormant", "ONT": "dormant"}
    tr = t[t["level"] == "transition"]
    # gains of ONT: W = 100*(20/5)/(75+115)
    tg = tr[(tr["direction"] == "gain") & (tr["category"] == "ONT")].set_index("from")
    assert tg[u].iloc[0] == pytest.approx(100 * (20 / 5) / 190)
    assert tg.loc["LUC", x] == pytest.approx(100 * (10 / 5) / 75)
    assert tg["behaviour"].to_dict() == {"LUC": "targeted", "RSX": "avoided"}
    # losses of LUC: V = 100*(25/5)/(115+40)
    tl = tr[(tr["direction"] == "loss") & (tr["category"] == "LUC")].set_index("to")
    assert tl[u].iloc[0] == pytest.approx(100 * (25 / 5) / 155)
    assert tl.loc["ONT", x] == pytest.approx(100 * (10 / 5) / 40)
    assert tl["behaviour"].to_dict() == {"RSX": "avoided", "ONT": "targeted"}
    assert set(t["per"]) == {"year"}


def test_intensity_chosen_categories(matrix):
    t = intensity(matrix, gain="RSX", loss="RSX")
    tr = t[t["level"] == "transition"]
    assert set(tr.loc[tr["direction"] == "gain", "from"]) == {"LUC", "ONT"}
    assert set(tr["category"]) == {"RSX"}
    assert set(t["per"]) == {"interval"}
    with pytest.raises(UnknownCodeError):
        intensity(matrix, gain="DGT")


def test_account_by_hand(matrix):
    a = asset_account(matrix).set_index("code")
    assert a.loc["LUC", ["opening", "additions_total", "reductions_total", "closing"]].tolist() == [75, 5, 25, 55]
    assert a.loc["ONT", ["opening", "additions_total", "reductions_total", "closing"]].tolist() == [20, 20, 0, 40]
    assert a.loc["total", ["opening", "additions_total", "reductions_total", "closing"]].tolist() == [210, 40, 40, 210]
    assert np.allclose(a["closing"], a["opening"] + a["additions_total"] - a["reductions_total"])


def test_account_with_other_changes():
    m = pd.DataFrame([[8.0, 1.0, 1.0], [0.0, 5.0, 0.0]], index=["LUC", "RSX"], columns=["LUC", "RSX", "giam_khac"])
    m.loc["tang_khac"] = [0.0, 3.0, 0.0]
    core, dec, inc = split_matrix(m)
    assert dec.to_dict() == {"LUC": 1.0, "RSX": 0.0} and inc.to_dict() == {"LUC": 0.0, "RSX": 3.0}
    a = asset_account(m).set_index("code")
    assert a.loc["LUC", ["opening", "reductions_other", "closing"]].tolist() == [10, 1, 8]
    assert a.loc["RSX", ["opening", "additions_conversion", "additions_other", "closing"]].tolist() == [5, 1, 3, 9]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["LUC", "LUK", "HNK", "RSX", "ONT", "DGT", "BCS"]),
                          st.sampled_from(["LUC", "LUK", "HNK", "RSX", "ONT", "DGT", "BCS"]),
                          st.floats(min_value=0, max_value=1e4, allow_nan=False)), min_size=1, max_size=60))
def test_marginals_equal_stocks_property(rows):
    df = pd.DataFrame(rows, columns=["code_from", "code_to", "area_ha"])
    m = transition_matrix(df)
    start = df.groupby("code_from")["area_ha"].sum()
    end = df.groupby("code_to")["area_ha"].sum()
    body = m.drop(index="total", columns="total")
    assert np.allclose(body.sum(axis=1).reindex(start.index), start)
    assert np.allclose(body.sum(axis=0).reindex(end.index), end)
    ct = pd.crosstab(df["code_from"], df["code_to"], values=df["area_ha"], aggfunc="sum").fillna(0)
    assert np.allclose(body.reindex(index=ct.index, columns=ct.columns), ct)
    c = components(m).set_index("code")
    assert c.loc["overall", "total_change"] == pytest.approx(
        c.loc["overall", ["quantity", "exchange", "shift"]].sum(), abs=1e-6)


# ---- net change on the bundled data --------------------------------------------------------------------------
def test_net_change_hand_values(langson):
    t = net_change(langson, 2019, 2024).set_index("code")
    # Bảng 3 (p.93, l.4473): TS 831.018 → 830.732, printed change -286
    assert t.loc["TS", ["area_from", "area_to", "change", "status"]].tolist() == [831018, 830732, -286, "ok"]
    # CNT is new in the 2024 classification: marked, not a change from 0 (Bảng 3 prints 79)
    assert t.loc["CNT", "status"] == "not-in-classification" and np.isnan(t.loc["CNT", "change"])
    assert t.loc["CGT", "status"] == "not-in-classification"
    # SKK existed in 2019 (code of the 2013 system) but its cell is blank: no change computed against the blank
    # (Bảng 3 prints 155 = 155 − blank, an error that reconcile flags)
    assert t.loc["SKK", "status"] == "blank" and np.isnan(t.loc["SKK", "change"])
    assert t.loc["SKK", "area_to"] == 155 and np.isnan(t.loc["SKK", "area_from"])
    assert t.loc["SKK", "note"] == "no figure printed for 2019"
    assert t.loc["CNT", "note"] == "not in the 2019 classification"
    assert {"code", "name", "level", "area_from", "area_to", "change", "status"} <= set(t.reset_index().columns)


@pytest.mark.parametrize(("a", "b", "col", "op_to", "op_from"), [(2014, 2019, "c6", "c4", "c3"),
                                                                 (2019, 2024, "c7", "c5", "c4"),
                                                                 (2014, 2024, "c8", "c5", "c3")])
def test_net_change_reproduces_bang3(langson, a, b, col, op_to, op_from):
    b3 = langson.tables["bang3"]
    printed, to_, from_ = b3.values(col), b3.values(op_to), b3.values(op_from)
    right = printed[(printed - (to_ - from_)).abs() < 0.5].dropna()      # cells whose printed formula holds
    t = net_change(langson, a, b).set_index("code")
    ok = t[t["status"] == "ok"].index.intersection(right.index)
    assert len(ok) > 40
    assert np.allclose(t.loc[ok, "change"], right[ok])


def test_net_change_2014_2024_blanks_are_not_changes(langson):
    # 2014 prints no figure for RSN, DNL, DKH, SKK (they existed in vn2013): Bảng 3 (8) shows 141,624, 347, 3, 155
    t = net_change(langson, 2014, 2024).set_index("code")
    blank = t[t["status"] == "blank"]
    assert set(blank.index) == {"RSN", "DNL", "DKH", "SKK"}
    assert blank["change"].isna().all() and (blank["note"] == "no figure printed for 2014").all()
    assert t.loc[t["status"] != "ok", "change"].isna().all()      # never a number against a blank


@pytest.mark.parametrize("level", [-1, 4, 9])
def test_net_change_level_out_of_range(langson, level):
    with pytest.raises(InputError, match="level out of range.*expected 0 to 3"):
        net_change(langson, 2019, 2024, level=level)


def test_net_change_level(langson):
    t = net_change(langson, 2014, 2024, level=1)
    assert t["code"].tolist() == ["NNP", "PNN", "CSD"]
    t3 = net_change(langson, 2014, 2024, level=3)
    assert "LUC" in set(t3["code"]) and "LUA" not in set(t3["code"]) and "HNK" in set(t3["code"])


def test_net_change_other_dataset():
    ds = load_dataset(MINI)
    t = net_change(ds, 2019, 2024, lang="en").set_index("code")
    assert t.loc["LUC", "change"] == 480 - 500 and t.loc["LUC", "name"] == "Specialised rice land"
    assert (t["status"] != "not-in-classification").all()


def test_net_change_unknown_year(langson):
    with pytest.raises(InputError, match="no inventory for year 2020"):
        net_change(langson, 2020, 2024)
