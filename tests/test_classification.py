"""The classification tree, aggregates, roll-up and the 2013 → 2024 crosswalk."""

from __future__ import annotations

import pandas as pd
import pytest

from landuse.classification import load_classification, load_crosswalk
from landuse.errors import CrosswalkError, MissingParentError, UnknownCodeError
from tests.conftest import write


def test_tree_matches_bang2_codes(vn2024, langson):
    printed = [c for c in langson.tables["bang2"].raw["code"] if c]
    assert [c for c in vn2024.codes if c not in ("MCS", "LMU")] == printed


def test_every_parent_exists_and_partitions(vn2024):
    t = vn2024.table
    for code in vn2024.codes:
        p = vn2024.parent(code)
        assert p is None or p in t.index
    assert vn2024.root == "TS"
    assert vn2024.parts("TS") == ["NNP", "PNN", "CSD"]
    assert vn2024.parts("LUA") == ["LUC", "LUK"]
    assert vn2024.parts("TVC") == ["MNC", "SON"]
    assert len(vn2024.parts("DSN")) == 10 and len(vn2024.parts("CCC")) == 10 and len(vn2024.parts("CSK")) == 6
    assert len(vn2024.parts("PNN")) == 13


def test_of_which_is_not_a_part(vn2024):
    assert vn2024.relation("RSN") == "of-which"
    assert vn2024.parts("RSX") == []
    assert vn2024.of_which("RSX") == ["RSN"]
    assert "RSN" not in vn2024.leaves_of("NNP")


def test_aggregates(vn2024):
    assert sorted(vn2024.leaves_of("LNP")) == ["RDD", "RPH", "RSX"]
    assert sorted(vn2024.leaves_of("CHN")) == ["HNK", "LUC", "LUK"]
    assert vn2024.name("LNP") == "Đất lâm nghiệp"


def test_rollup_by_hand(vn2024):
    # 2 units; parents computed by hand
    leaves = pd.DataFrame({
        "unit": ["a", "a", "a", "a", "b", "b"],
        "code": ["LUC", "LUK", "RSX", "RSN", "LUC", "BCS"],
        "area_ha": [10.0, 5.0, 100.0, 40.0, 7.0, 3.0],
    })
    out = vn2024.rollup(leaves, ["unit"], include_aggregates=True).set_index(["unit", "code"])["area_ha"]
    assert out["a", "LUA"] == 15 and out["a", "NNP"] == 115 and out["a", "TS"] == 115
    assert out["a", "RSN"] == 40  # of-which kept, not added
    assert out["a", "LNP"] == 100 and out["a", "CHN"] == 15
    assert out["b", "TS"] == 10 and out["b", "CSD"] == 3
    assert pd.isna(out["b", "PNN"])  # nothing given: missing, not 0


def test_unknown_code_suggests_nearest(vn2024):
    with pytest.raises(UnknownCodeError, match="did you mean 'RSX'"):
        vn2024.check_codes(pd.Series(["RSXX"]))


def test_missing_parent_is_refused(tmp_path):
    write(tmp_path / "bad.csv", "code,parent,relation,level,stt,name_vi,name_en,group\n"
          "TS,,root,0,,Tổng,Total,\nNNP,TS,part,1,I,Nông nghiệp,Agri,NNP\nLUA,XXX,part,2,1,Lúa,Rice,NNP\n")
    with pytest.raises(MissingParentError, match=r"bad.csv:row 4:column parent.*'XXX'"):
        load_classification("bad", tmp_path)


# ---- crosswalk ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xwalk():
    return load_crosswalk("vn2013", "vn2024")


def _inv(rows):
    df = pd.DataFrame(rows, columns=["unit", "year", "code", "area_ha"])
    df["_row"] = range(2, len(df) + 2)
    return df


def test_crosswalk_merge(xwalk):
    inv = _inv([("u", 2019, "LUC", 10.0), ("u", 2019, "LUK", 4.0), ("u", 2019, "LUN", 1.0),
                ("u", 2019, "BHK", 6.0), ("u", 2019, "NHK", 2.0), ("u", 2019, "DDT", 3.0), ("u", 2019, "DDL", 1.0)])
    out = xwalk.convert(inv).set_index("code")["area_ha"]
    assert out["LUK"] == 5 and out["LUC"] == 10 and out["LUA"] == 15
    assert out["HNK"] == 8 and out["DDD"] == 4
    assert out["NNP"] == 23 and out["TS"] == 27


def test_crosswalk_split_with_shares(xwalk):
    inv = _inv([("u", 2019, "NKH", 100.0), ("u", 2019, "BCS", 50.0)])
    shares = {("NKH", "CNT"): 0.3, ("NKH", "NKH"): 0.7, ("BCS", "CGT"): 0.2, ("BCS", "BCS"): 0.8}
    out = xwalk.convert(inv, shares).set_index("code")["area_ha"]
    assert out["CNT"] == pytest.approx(30) and out["NKH"] == pytest.approx(70)
    assert out["CGT"] == pytest.approx(10) and out["BCS"] == pytest.approx(40)
    assert out["TS"] == pytest.approx(150)


def test_crosswalk_drops_old_parents(xwalk):
    inv = _inv([("u", 2019, "SXN", 999.0), ("u", 2019, "CDG", 5.0), ("u", 2019, "CLN", 20.0)])
    out = xwalk.convert(inv).set_index("code")["area_ha"]
    assert out["TS"] == 20 and "SXN" not in out.index


def test_crosswalk_refuses_split_without_shares(xwalk):
    inv = _inv([("u", 2019, "NKH", 100.0)])
    with pytest.raises(CrosswalkError, match="NKH->CNT"):
        xwalk.convert(inv)


def test_crosswalk_refuses_bad_shares(xwalk):
    inv = _inv([("u", 2019, "NKH", 100.0)])
    with pytest.raises(CrosswalkError, match="sum to 1"):
        xwalk.convert(inv, {("NKH", "CNT"): 0.5, ("NKH", "NKH"): 0.6})


def test_crosswalk_refuses_unknown_code(xwalk):
    inv = _inv([("u", 2019, "CLN", 1.0), ("u", 2019, "CNT", 1.0)])  # CNT does not exist before 2024
    with pytest.raises(UnknownCodeError, match="row 3"):
        xwalk.convert(inv)


def test_complete_prefers_given_values(vn2024):
    # LUA is printed as 16 although its parts add to 15: the printed value is kept; NNP is not given -> leaves
    long = pd.DataFrame({"code": ["LUA", "LUC", "LUK", "CLN"], "area_ha": [16.0, 10.0, 5.0, 4.0]})
    s = vn2024.complete(long)
    assert s["LUA"] == 16 and s["NNP"] == 19 and pd.isna(s["PNN"])
    assert list(s.index) == vn2024.codes
