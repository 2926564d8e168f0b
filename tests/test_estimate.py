"""The LP estimate of a transition matrix from stocks and known flows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landuse.dataset import load_dataset
from landuse.errors import InputError, NonNumericError, UnknownCodeError
from landuse.transitions.change import asset_account
from landuse.transitions.estimate import estimate_transitions
from tests.conftest import write

INVENTORY = """unit,year,code,area_ha
T,2019,LUC,100
T,2019,RSX,200
T,2019,ONT,50
T,2024,LUC,80
T,2024,RSX,210
T,2024,ONT,62
"""
MANIFEST = """[dataset]
name = "T"
number_format = "en"
classification = "vn2024"
[files.inventory]
path = "inventory.csv"
[files.flows]
path = "flows.csv"
"""


def tiny(tmp_path, flows: str, extra: str = ""):
    write(tmp_path / "manifest.toml", MANIFEST)
    write(tmp_path / "inventory.csv", INVENTORY + extra)
    write(tmp_path / "flows.csv", "from_code,to_code,area_ha,kind,about_code,page,line\n" + flows)
    return load_dataset(tmp_path)


def test_tiny_estimate_by_hand(tmp_path):
    # LUC 100 → 80 loses 20; ONT 50 → 62 gains 12 = the known LUC→ONT flow; RSX 200 → 210 gains 10.
    # The cheapest matrix: LUC→ONT 12 (known), LUC→RSX 8, and the +2 ha of total area as tăng khác of RSX.
    ds = tiny(tmp_path, "LUC,ONT,12,conversion,LUC,1,10\n")
    r = estimate_transitions(ds, 2019, 2024)
    m = r.matrix
    assert r.estimated
    assert m.loc["LUC", ["LUC", "RSX", "ONT", "giam_khac"]].tolist() == pytest.approx([80, 8, 12, 0])
    assert m.loc["RSX", ["LUC", "RSX", "ONT"]].tolist() == pytest.approx([0, 200, 0])
    assert m.loc["ONT", ["LUC", "RSX", "ONT"]].tolist() == pytest.approx([0, 0, 50])
    assert m.loc["tang_khac", ["LUC", "RSX", "ONT"]].tolist() == pytest.approx([0, 2, 0])
    assert m.loc[["LUC", "RSX", "ONT"], "total"].tolist() == pytest.approx([100, 200, 50])
    assert m.loc["total", ["LUC", "RSX", "ONT"]].tolist() == pytest.approx([80, 210, 62])
    assert (r.flows["status"] == "held").all()
    assert set(r.table()["status"]) == {"estimated"}


def test_tiny_inconsistent_flow_is_named(tmp_path):
    # ONT→RSX 60 ha is more than ONT's whole start area (50 ha): it cannot hold
    ds = tiny(tmp_path, "LUC,ONT,12,conversion,LUC,1,10\nONT,RSX,60,conversion,RSX,2,20\n")
    r = estimate_transitions(ds, 2019, 2024)
    relaxed = r.findings[r.findings["check"] == "known-flow-relaxed"]
    assert relaxed["message"].str.contains("ONT→RSX 60 ha").tolist() == [True]
    assert relaxed["row"].tolist() == [3]
    assert relaxed["message"].str.contains("p.2 l.20").all()
    assert r.matrix.loc["LUC", "ONT"] == pytest.approx(12)
    assert r.matrix.loc[["LUC", "RSX", "ONT"], "total"].tolist() == pytest.approx([100, 200, 50])
    assert r.matrix.loc["total", ["LUC", "RSX", "ONT"]].tolist() == pytest.approx([80, 210, 62])
    assert all(s.startswith("estimated (relaxed known flows: ONT→RSX") for s in r.table()["status"])


def test_group_partner_is_sum_over_leaves(tmp_path):
    # LUA (= LUC here) → PNN group 12 ha: the only PNN leaf with data is ONT
    ds = tiny(tmp_path, "LUA,PNN,12,conversion,LUA,1,10\n,RSX,2,other_increase,RSX,1,11\n")
    r = estimate_transitions(ds, 2019, 2024)
    assert r.matrix.loc["LUC", "ONT"] == pytest.approx(12)
    assert r.matrix.loc["tang_khac", "RSX"] == pytest.approx(2)
    assert (r.flows["status"] == "held").all()


@pytest.mark.parametrize(("row", "error", "match"), [
    ("LUC,XYZ,12,conversion,LUC,1,10\n", UnknownCodeError, "flows.csv:row 2:column to_code: unknown land code"),
    ("LUC,ONT,abc,conversion,LUC,1,10\n", NonNumericError, "flows.csv:row 2:column area_ha"),
    ("LUC,ONT,12,swap,LUC,1,10\n", InputError, "row 2:column kind: unknown flow kind"),
    ("LUC,,12,conversion,LUC,1,10\n", InputError, "row 2:column to_code: a conversion flow needs to_code"),
])
def test_bad_flows(tmp_path, row, error, match):
    ds = tiny(tmp_path, row)
    with pytest.raises(error, match=match):
        estimate_transitions(ds, 2019, 2024)


# ---- the bundled Lạng Sơn data ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def est(langson):
    return estimate_transitions(langson, 2019, 2024)


def inventory_year(ds, year):
    return ds.inventory.query(f"year == {year}").set_index("code")["area_ha"]


def test_langson_marginals_exact(langson, est):
    m = est.matrix
    codes = [c for c in m.index if c not in ("tang_khac", "total", "chua_phan_bo")]
    inv0, inv1 = inventory_year(langson, 2019), inventory_year(langson, 2024)
    start, end = inv0.reindex(codes).fillna(0), inv1.reindex(codes).fillna(0)
    rows = codes + ["chua_phan_bo"]
    body = m.loc[rows, rows + ["giam_khac"]]
    assert np.allclose(body.sum(axis=1)[codes], start, atol=1e-6)                # rows incl. giảm khác
    assert np.allclose(m.loc[rows + ["tang_khac"], codes].sum(axis=0), end, atol=1e-6)   # cols incl. tăng khác
    # the gap row: printed TS 2019 831,018 − sum of the 2019 leaves; the 2024 leaves add up to TS (no gap)
    gap0 = inv0["TS"] - inv0.reindex(langson.classification.leaves).sum()
    assert gap0 == pytest.approx(461)
    assert body.sum(axis=1)["chua_phan_bo"] == pytest.approx(gap0)
    assert m.loc[rows + ["tang_khac"], "chua_phan_bo"].sum() == pytest.approx(0)
    assert m.loc["chua_phan_bo", ["giam_khac"]].sum() == 0 and m.loc["tang_khac", "chua_phan_bo"] == 0
    # whole matrix: rows total the printed 2019 TS, columns the printed 2024 TS
    assert body.to_numpy().sum() == pytest.approx(inv0["TS"])
    assert m.loc[rows + ["tang_khac"], rows].to_numpy().sum() == pytest.approx(inv1["TS"])
    assert (m.drop(index="total", columns="total").to_numpy() >= -1e-9).all()


def test_langson_boundary_change_is_the_change_of_ts(langson, est):
    # Bảng 3 / reconcile / `landuse change`: TS 831,018 → 830,732 = −286 ha; that and only that is giảm/tăng khác
    inv0, inv1 = inventory_year(langson, 2019), inventory_year(langson, 2024)
    m = est.matrix
    other = m.loc["tang_khac"].drop(["total", "giam_khac"], errors="ignore").sum() - m["giam_khac"].drop("total").sum()
    assert other == pytest.approx(inv1["TS"] - inv0["TS"]) == pytest.approx(-286)
    assert est.boundary_ha == pytest.approx(-286) and est.gap_ha == {2019: pytest.approx(461), 2024: 0}
    # the stated other changes hold: tăng khác RSX 101, DGT 56, SON 17 (p.97, 102, 104); giảm khác SON 17
    assert m.loc["tang_khac", ["RSX", "DGT", "SON"]].tolist() == pytest.approx([101, 56, 17])
    assert m.loc["tang_khac"].drop(["total", "giam_khac"], errors="ignore").sum() == pytest.approx(174)
    assert m["giam_khac"].drop("total").sum() == pytest.approx(174 + 286)


def test_langson_account_shows_boundary_and_gap(langson, est):
    a = asset_account(est.matrix, langson.classification).set_index("code")
    tot = a.loc["total"]
    assert tot["opening"] == pytest.approx(831018) and tot["closing"] == pytest.approx(830732)
    assert tot["additions_other"] - tot["reductions_other"] == pytest.approx(-286)      # the boundary change
    assert tot["additions_conversion"] == pytest.approx(tot["reductions_conversion"])
    assert tot["additions_unreconciled"] == pytest.approx(461) == pytest.approx(tot["reductions_unreconciled"])
    gap = a.loc["chua_phan_bo"]
    assert gap["opening"] == pytest.approx(461) and gap["closing"] == 0
    assert gap["reductions_unreconciled"] == pytest.approx(461) and "không cộng khớp" in gap["name"]
    assert np.allclose(a["opening"] + a["additions_total"] - a["reductions_total"], a["closing"])


def test_langson_known_flows_held(est):
    m = est.matrix
    # stated in the prose (flows_2019_2024.csv), checked in the matrix cells directly
    assert m.loc["NCS", "RSX"] == pytest.approx(9503)        # p.97 l.4828
    assert m.loc["RPH", "RSX"] == pytest.approx(26488)       # p.97 l.4826
    assert m.loc["HNK", "RSX"] == pytest.approx(2879)        # p.96 l.4788 and p.97 l.4824
    assert m.loc["DNL", "SON"] == pytest.approx(99)          # p.104 l.5172
    assert m.loc["tang_khac", "RSX"] == pytest.approx(101)   # tăng khác, p.97 l.4828
    assert m.loc["SON", "giam_khac"] == pytest.approx(17)    # giảm khác, p.104 l.5170
    assert m.loc[["LUC", "LUK"], "CGT"].sum() == pytest.approx(49)   # LUA → CGT, p.96 l.4784
    held = est.flows[est.flows["status"] == "held"]
    assert len(held) >= len(est.flows) - 2


def test_langson_inconsistent_flows_named(est):
    f = est.findings
    # RPH → CLN is stated as 145 ha (CLN's paragraph) and 273 ha (RPH's paragraph): at most one can hold
    differ = f[f["check"] == "flow-mentions-differ"]["message"]
    assert differ.str.contains("RPH→CLN").any() and differ.str.contains("145 ha").any()
    relaxed = f[f["check"] == "known-flow-relaxed"]["message"]
    assert relaxed.str.contains("RPH→CLN").any()
    assert relaxed.str.startswith("estimated").all()
    assert est.matrix.loc["RPH", "CLN"] in (pytest.approx(145), pytest.approx(273))


def test_langson_notes_on_blanks_and_totals(est):
    msgs = " | ".join(est.findings["message"])
    assert "2019 inventory has no area for CNT" in msgs and "read as 0 ha" in msgs
    gap = est.findings[est.findings["check"] == "unreconciled-gap"]
    assert len(gap) == 1 and gap["severity"].iloc[0] == "warning"
    msg = gap["message"].iloc[0]
    assert "leaf areas sum to 830,557 ha" in msg and "printed TS is 831,018 ha" in msg and "miss 461 ha" in msg
    assert "CSK 1,375 ha vs parts 956 ha (+419)" in msg and "chua_phan_bo" in msg     # Bảng 3 CSK, SKK blank
    assert gap["difference"].iloc[0] == pytest.approx(830557 - 831018)
    boundary = est.findings.loc[est.findings["check"] == "boundary", "message"].iloc[0]
    assert "831,018 ha → 2024 830,732 ha (-286 ha boundary change)" in boundary


def test_tiny_gap_row_by_hand(tmp_path):
    # TS printed 360 in 2019 but the leaves sum to 350 (a 10 ha gap); 2024 TS 352 = its leaves: boundary −8 ha.
    # Cheapest: LUC → ONT 12 (known), LUC → giảm khác 8 (the boundary change), the 10 ha gap → RSX.
    ds = tiny(tmp_path, "LUC,ONT,12,conversion,LUC,1,10\n", extra="T,2019,TS,360\nT,2024,TS,352\n")
    r = estimate_transitions(ds, 2019, 2024)
    m = r.matrix
    assert list(m.index) == ["LUC", "RSX", "ONT", "chua_phan_bo", "tang_khac", "total"]
    assert m.loc["LUC", ["LUC", "RSX", "ONT", "chua_phan_bo", "giam_khac"]].tolist() == pytest.approx([80, 0, 12, 0, 8])
    assert m.loc["chua_phan_bo", ["LUC", "RSX", "ONT", "chua_phan_bo", "giam_khac"]].tolist() == pytest.approx(
        [0, 10, 0, 0, 0])
    assert m.loc["tang_khac"].sum() == pytest.approx(0)
    assert m.loc["total", "total"] == pytest.approx(360)                                  # rows: the 2019 TS
    assert m.loc["total", ["LUC", "RSX", "ONT", "chua_phan_bo"]].sum() == pytest.approx(352)  # columns: 2024 TS
    assert r.boundary_ha == pytest.approx(-8) and r.gap_ha == {2019: pytest.approx(10), 2024: 0}


def test_negative_gap_goes_to_the_other_side(tmp_path):
    # 2024 TS printed 350 but the leaves sum to 352: the 2 ha the parts show too many enter the gap row at the
    # start (so the 2024 columns still total the leaves) and the boundary change is TS 350 − TS 350 = 0
    ds = tiny(tmp_path, "LUC,ONT,12,conversion,LUC,1,10\n", extra="T,2019,TS,350\nT,2024,TS,350\n")
    r = estimate_transitions(ds, 2019, 2024)
    m = r.matrix
    assert m.loc["chua_phan_bo", "total"] == pytest.approx(2) and m.loc["total", "chua_phan_bo"] == 0
    assert m["giam_khac"].drop("total").sum() == pytest.approx(0) and m.loc["tang_khac"].sum() == pytest.approx(0)
    assert m.loc["total", ["LUC", "RSX", "ONT"]].tolist() == pytest.approx([80, 210, 62])


def test_flows_from_a_table(langson):
    flows = pd.DataFrame({"from_code": ["NCS"], "to_code": ["RSX"], "area_ha": [1000.0],
                          "kind": ["conversion"]})
    r = estimate_transitions(langson, 2019, 2024, flows)
    assert r.matrix.loc["NCS", "RSX"] == pytest.approx(1000)
