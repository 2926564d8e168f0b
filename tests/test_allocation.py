"""The allocation LP: a hand-solved case, shadow prices checked by re-solving, CBC = HiGHS, infeasibility."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation import SolveStatus, allocate, load_scenario
from landuse.dataset import load_dataset
from landuse.errors import InfeasibleError
from tests.conftest import MINI, TEST_DATA, write

HAND = TEST_DATA / "allocation" / "hand.toml"
INFEASIBLE = TEST_DATA / "allocation" / "infeasible.toml"


@pytest.fixture(scope="module")
def mini():
    return load_dataset(MINI)


def _area(res, code):
    return float(res.table.set_index("code").at[code, res.end_column])


# ---- a small allocation solved by hand -----------------------------------------------------------------
def test_hand_solved_optimum(mini):
    """SKK must grow from 25 to 125 ha. Any other leaf giving land loses keep-start (0.01/ha) plus its
    conversion cost (0.001 × factor). DCS is cheapest (factor 0.2) but may give only 500 − 450 = 50 ha
    (bounds.min DCS); the next cheapest origin is BCS (0.4). So 50 ha DCS→SKK and 50 ha BCS→SKK:
    objective = 50 × (0.01 + 0.0002) + 50 × (0.01 + 0.0004) = 0.51 + 0.52 = 1.03."""
    res = allocate(mini, HAND)
    assert res.status is SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(1.03, abs=1e-9)
    assert _area(res, "SKK") == pytest.approx(125)
    assert _area(res, "DCS") == pytest.approx(450)
    assert _area(res, "BCS") == pytest.approx(40)
    moved = res.flows[res.flows["code_from"] != res.flows["code_to"]]
    got = {(f, t): round(a, 6) for f, t, a in zip(moved["code_from"], moved["code_to"], moved["area_ha"],
                                                    strict=True)}
    assert got == {("DCS", "SKK"): 50.0, ("BCS", "SKK"): 50.0}
    # CSD leaves to non-agricultural: no permission rule covers unused land
    assert res.permissions.empty


def test_hand_shadow_price_matches_resolve(mini, tmp_path):
    """One more ha of bounds.min DCS moves 1 ha of supply from DCS (0.0102/ha) to BCS (0.0104/ha)."""
    res = allocate(mini, HAND)
    b = res.binding.set_index("constraint")
    assert b.at["bounds.min DCS", "shadow_price"] == pytest.approx(0.0002, abs=1e-9)
    moved = write(tmp_path / "moved.toml", HAND.read_text(encoding="utf-8").replace("DCS = 450", "DCS = 451"))
    again = allocate(mini, moved)
    assert again.objective - res.objective == pytest.approx(b.at["bounds.min DCS", "shadow_price"], abs=1e-9)
    assert b.at["bounds.min DCS", "per_ha_tighter"] == pytest.approx(again.objective - res.objective, abs=1e-9)
    assert "one more ha of the minimum of DCS costs 0.0002" in b.at["bounds.min DCS", "text"]


def test_hand_same_answer_cbc_and_highs(mini):
    h, c = allocate(mini, HAND, solver="highs"), allocate(mini, HAND, solver="cbc")
    assert (h.solver, c.solver) == ("highs", "cbc")
    assert c.objective == pytest.approx(h.objective, abs=1e-7)
    np.testing.assert_allclose(c.table["area_2030"].fillna(-1), h.table["area_2030"].fillna(-1), atol=1e-6)
    sh = h.binding.set_index("constraint")["shadow_price"]
    sc = c.binding.set_index("constraint")["shadow_price"]
    assert sc["bounds.min DCS"] == pytest.approx(sh["bounds.min DCS"], abs=1e-9)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(skk=st.integers(0, 2000), dgt=st.integers(0, 2000))
def test_property_conservation(tmp_path_factory, skk, dgt):
    """Whatever the targets: every start hectare is allocated once and the total is conserved."""
    ds = load_dataset(MINI)
    path = write(tmp_path_factory.mktemp("s") / "s.toml", f"[targets]\nSKK = {skk}\nDGT = {dgt}\n")
    res = allocate(ds, path)
    start = ds.stock(2024).reindex(ds.classification.leaves).fillna(0.0)
    conv = res.conversions.set_index("code_from")
    np.testing.assert_allclose(conv.loc[ds.classification.leaves, "total"], start, atol=1e-6)
    assert _area(res, "TS") == pytest.approx(float(start.sum()), abs=1e-6)


# ---- infeasible scenarios --------------------------------------------------------------------------------
def test_infeasible_names_minimal_conflicting_set(langson, tmp_path):
    """NNP + PNN + CSD = TS, so minima of 740,000 + 60,000 + 35,000 = 835,000 ha exceed the 830,732 ha total."""
    total = float(langson.stock(2024)["TS"])
    assert 740_000 + 60_000 + 35_000 > total
    with pytest.raises(InfeasibleError) as e:
        allocate(langson, INFEASIBLE)
    assert e.value.exit_code == 1
    assert set(e.value.conflicts["constraint"]) == {"bounds.min NNP", "bounds.min PNN", "bounds.min CSD",
                                                    "total area"}
    assert "bounds.min NNP = 740,000 ha" in str(e.value) and "total area = 830,732 ha" in str(e.value)
    # minimal: dropping any one of the three minima leaves a feasible allocation
    text = INFEASIBLE.read_text(encoding="utf-8")
    for code in ("NNP", "PNN", "CSD"):
        lines = [ln for ln in text.splitlines() if not ln.startswith(f"{code} =")]
        res = allocate(langson, write(tmp_path / f"no_{code}.toml", "\n".join(lines) + "\n"))
        assert res.status is SolveStatus.OPTIMAL


def test_infeasible_protection_and_forbidden_pair(mini, tmp_path):
    """NTS (50 ha in 2024) must reach 300 ha: +250. Open sources: MNC→NTS (30 ha, allowed by its own row).
    Closed: each agricultural type by its protection, unused land by `protect CSD` (NCS also by its own
    forbid row), built land by the `PNN→NNP` row. Releasing any closed group of ≥ 220 ha fixes it: LUA 780,
    HNK 390, CLN 305, BLR 7,155, CSD 590 without NCS, PNN 890 without MNC; NKH (20 ha) does not, nor does the
    NCS→NTS row (NCS stays protected). The total is in the set: without it NTS could grow from nothing."""
    path = write(tmp_path / "s.toml", """
[scenario]
base = "none"
[bounds.min]
NTS = 300
[protect]
codes = ["LUA", "HNK", "CLN", "BLR", "NKH", "CSD"]
""")
    with pytest.raises(InfeasibleError) as e:
        allocate(mini, path)
    got = set(e.value.conflicts["constraint"])
    assert got == {"bounds.min NTS", "protect LUA", "protect HNK", "protect CLN", "protect BLR", "protect CSD",
                   "conversions PNN→NNP (conversions.csv row 5)", "total area"}


# ---- the bundled Lạng Sơn default (Done-when of the issue) ----------------------------------------------
@pytest.fixture(scope="module")
def default_result():
    return allocate(load_dataset())


def test_default_total_and_leaf_targets(langson, default_result):
    t = default_result.table.set_index("code")
    cls = langson.classification
    assert t.at["TS", "area_2030"] == pytest.approx(float(langson.stock(2024)["TS"]), abs=1e-6)
    c7 = langson.tables["bang26"].values("c7").dropna()
    leaf_targets = c7[c7.index.isin(cls.leaves)]
    assert len(leaf_targets) > 40
    np.testing.assert_allclose(t.loc[leaf_targets.index, "area_2030"], leaf_targets, atol=1.0)


def test_default_deviations_where_targets_conflict(langson, default_result):
    """The printed figures disagree by 1 ha in three places (computed here from Bảng 26 col (7)):
    NNP vs the sum of its leaves, CSK vs its leaves, and therefore CSD vs TS − NNP leaves − PNN."""
    cls = langson.classification
    c7 = langson.tables["bang26"].values("c7").dropna()
    nnp_leaves = c7.reindex(cls.leaves_of("NNP")).sum()
    csk_leaves = c7.reindex(cls.leaves_of("CSK")).sum()
    assert nnp_leaves - c7["NNP"] == 1 and csk_leaves - c7["CSK"] == -1
    csd = c7["TS"] - nnp_leaves - c7.reindex(cls.leaves_of("PNN")).sum()
    dev = default_result.deviations().set_index("code")["deviation"]
    assert dict(dev.round(6)) == {"NNP": nnp_leaves - c7["NNP"], "CSK": csk_leaves - c7["CSK"],
                                  "CSD": csd - c7["CSD"]}


def test_default_conversions_protections_shares(langson, default_result):
    cls = langson.classification
    conv = default_result.conversions.set_index("code_from")
    start = langson.stock(2024).reindex(cls.leaves).fillna(0.0)
    np.testing.assert_allclose(conv.loc[cls.leaves, "total"], start, atol=1e-6)
    np.testing.assert_allclose(conv.loc["total", cls.leaves], default_result.table.set_index("code").loc[
        cls.leaves, "area_2030"], atol=1e-6)
    f = default_result.flows
    for code in ("RDD", "RPH"):  # protected in data/langson/allocation.toml
        out = f[f["code_from"] == code]
        assert (out["code_to"] == code).all() and out["area_ha"].sum() == pytest.approx(start[code])
    t = default_result.table.set_index("code")
    assert t.at["BLR", "area_2030"] >= 0.7246 * t.at["TS", "area_2030"] - 1e-6
    assert t.at["BLR", "area_2030"] >= 601998 - 1e-6  # 003 l.23155-23156
    assert t.at["LUC", "area_2030"] >= 19455 - 1e-6
    # forbidden pairs of data/classification/conversions.csv carry nothing
    moved = f[f["code_from"] != f["code_to"]]
    assert not moved["code_to"].isin(cls.leaves_of("CSD")).any()
    assert not (moved["code_from"].isin(cls.leaves_of("PNN")) & moved["code_to"].isin(cls.leaves_of("NNP"))
                & ~((moved["code_from"] == "MNC") & (moved["code_to"] == "NTS"))).any()
    assert not ((moved["code_from"] == "NCS") & moved["code_to"].isin(["LUC", "LUK", "NTS"])).any()


def test_default_permissions_match_flows(langson, default_result):
    """Rice leaving LUA needs permission: its area equals the net decrease of LUA (no land enters LUA)."""
    cls = langson.classification
    p = default_result.permissions
    rice = p[p["permission"] == "rice land to other uses"]["area_ha"].sum()
    t = default_result.table.set_index("code")
    assert rice == pytest.approx(t.at["LUA", "area_start"] - t.at["LUA", "area_2030"], abs=1e-6)
    f = default_result.flows
    agri = f[f["code_from"].isin(cls.leaves_of("NNP")) & f["code_to"].isin(cls.leaves_of("PNN"))]["area_ha"].sum()
    assert p[p["permission"] == "agricultural to non-agricultural"]["area_ha"].sum() == pytest.approx(agri)


def test_default_shadow_price_by_resolving(langson, default_result, tmp_path):
    """CAN's minimum equals its target (258 ha), a kink where the LP dual is not the marginal cost. One more ha:
    CAN 1 ha over its leaf target (weight 1), PNN 1 ha over its target (parent weight 0.1), the hectare taken
    from unused land puts CSD 1 ha further below target (0.1) and one CSD leaf 1 ha off its start area
    (keep-start 0.01): 1.21, plus a conversion-cost difference below 0.01."""
    b = default_result.binding.set_index("constraint")
    assert "bounds.min CAN" in b.index
    moved = write(tmp_path / "can.toml", "[bounds.min]\nCAN = 259\n")
    again = allocate(langson, moved)
    delta = again.objective - default_result.objective
    assert b.at["bounds.min CAN", "per_ha_tighter"] == pytest.approx(delta, abs=1e-6)
    assert delta == pytest.approx(1.21, abs=0.01)


def test_default_binding_lists_every_bound_at_its_limit_that_costs(langson, default_result, tmp_path):
    """Second method, independent of diagnostics.binding: for every hard bound and share of the default config,
    read whether the allocation sits on it (table), then re-solve the whole allocation from a scenario file with
    that bound 1 ha tighter. Binding = on it and the objective moves by > 1e-7 (or the model turns infeasible).
    Expected on the bundled data (measured so): LUC, CAN, CQP and BLR minimums (about 1.30, 1.21, 1.21, 1.21);
    the SKK / SKN ceilings (2,253.06 / 1,527.05 ha) are 0.06 / 0.05 ha above the allocated targets and so
    are not at their limit."""
    cfg = default_result.config
    total = float(default_result.table.set_index("code").at[langson.classification.root, "area_2030"])
    area = default_result.table.set_index("code")["area_2030"]
    expected: dict[str, float] = {}
    for label, kind, code, ha, share in zip(cfg.bounds["label"], cfg.bounds["kind"], cfg.bounds["code"],
                                            cfg.bounds["area_ha"], cfg.bounds["share"], strict=True):
        is_share = share is not None and not (isinstance(share, float) and np.isnan(share))
        limit = float(share) * total if is_share else float(ha)
        if abs(float(area[code]) - limit) > 1e-6 * max(1.0, limit):
            continue
        step = 1.0 if kind == "min" else -1.0
        value = (limit + step) / total if is_share else limit + step
        section = "shares" if is_share else "bounds"
        path = write(tmp_path / f"{section}_{kind}_{code}.toml", f"[{section}.{kind}]\n{code} = {value!r}\n")
        try:
            delta = allocate(langson, path).objective - default_result.objective
        except InfeasibleError:
            delta = float("nan")
        if np.isnan(delta) or abs(delta) > 1e-7:
            expected[label] = delta
    assert set(expected) == {"bounds.min LUC", "bounds.min CAN", "bounds.min CQP", "bounds.min BLR"}
    b = default_result.binding.set_index("constraint")
    assert set(b.index) == set(expected)
    for label, delta in expected.items():
        assert b.at[label, "per_ha_tighter"] == pytest.approx(delta, abs=1e-6)
        assert "one more ha of the minimum of " + label.split()[-1] + " costs" in b.at[label, "text"]
    assert b.at["bounds.min LUC", "shadow_price"] == pytest.approx(0, abs=1e-9)  # a kink: the dual says 0
    assert expected["bounds.min LUC"] == pytest.approx(1.30, abs=0.01)


def test_default_same_answer_cbc_and_highs(langson, default_result):
    c = allocate(langson, solver="cbc")
    assert c.objective == pytest.approx(default_result.objective, rel=1e-7)
    np.testing.assert_allclose(c.table["area_2030"].fillna(-1), default_result.table["area_2030"].fillna(-1),
                               atol=1e-3)
    m1 = default_result.conversions.set_index("code_from")
    m2 = c.conversions.set_index("code_from")
    np.testing.assert_allclose(m2.to_numpy(float), m1.to_numpy(float), atol=1e-3)


def test_approved_plan_scenario(langson):
    path = langson.root / "scenarios" / "approved_plan.toml"
    cfg = load_scenario(path, langson)
    c6 = langson.tables["bang26"].values("c6")
    assert set(cfg.targets["code"]) == set(c6.dropna().index)  # blank cell = no target
    assert "HNK" not in set(cfg.targets["code"])
    res = allocate(langson, path)
    assert res.status is SolveStatus.OPTIMAL
    t = res.table.set_index("code")
    # the approved plan's total predates the 2024 boundary correction: TS is fixed, so it deviates
    assert t.at["TS", "deviation"] == pytest.approx(float(langson.stock(2024)["TS"]) - c6["TS"])
    # the approved forest types sum below the adjusted floor of 601,998 ha: forest is held at the floor
    assert c6.reindex(["RDD", "RPH", "RSX"]).sum() < 601998
    assert t.at["BLR", "area_2030"] == pytest.approx(601998, abs=1e-6)


# ---- number format of extras: one helper (Dataset.number_format / extra_numbers) -------------------------
def test_suitability_numbers_follow_number_format_option(langson):
    """suitability.csv prints LUA graded 43.478, H1 22.687, H2 20.792 (003 l.4362). The manifest says vi
    (thousands dots: 43,478 ha); --number-format en wins, as it does for every other file: read as English,
    this file (every number with three digits after its dot) contradicts the format and is refused, naming
    the option to set; a file that is English is read as English (43.478 ha) by the allocation too."""
    import dataclasses

    from landuse.errors import AmbiguousNumberFormatError

    assert langson.number_format("suitability") == "vi"
    vi = langson.extra_numbers("suitability", ["graded_ha", "h1_ha"]).set_index("code")
    assert vi.at["LUA", "graded_ha"] == pytest.approx(43478) and vi.at["LUA", "h1_ha"] == pytest.approx(22687)
    en = dataclasses.replace(langson, extras=dict(langson.extras), number_format_option="en")
    assert en.number_format("suitability") == "en" and en.number_format() == "en"
    with pytest.raises(AmbiguousNumberFormatError, match=r"suitability\.csv.*--number-format vi"):
        en.extra_numbers("suitability", ["graded_ha"])
    english = langson.extras["suitability"].copy()
    english.loc[english["code"] != "LUA", "graded_ha"] = "100.5"  # one decimal: English only
    en.extras["suitability"] = english
    assert en.extra_numbers("suitability", ["graded_ha"]).set_index("code").at["LUA", "graded_ha"] == pytest.approx(
        43.478)
    # the allocation's good-farmland share reads through the same helper: (22.687 + 20.792) / 43.478
    good = load_scenario(None, en).suitability.set_index("code")["good_share"]
    assert good["LUA"] == pytest.approx((22.687 + 20.792) / 43.478)


# ---- the end-area column is named after the target year ---------------------------------------------------
def test_end_column_named_after_target_year(mini, tmp_path, default_result):
    """With [period] target_year = 2035 the hand case (SKK 25 → 125 ha, see test_hand_solved_optimum) reports
    ``area_2035``, and the workbook reads that column back (the Bảng 26 sheet's allocated column, SKK row)."""
    from landuse.excel.workbook import Parts, allocation_rows, build_sheets

    text = HAND.read_text(encoding="utf-8").replace("target_year = 2030", "target_year = 2035")
    path = write(tmp_path / "y.toml", text)
    res = allocate(mini, path)
    assert res.end_column == "area_2035" and "area_2030" not in res.table.columns
    assert res.table.set_index("code").at["SKK", "area_2035"] == pytest.approx(125)
    assert len(allocation_rows(mini, res.table, res.end_column)) > 0
    sheet = next(s for s in build_sheets(mini, Parts(allocation=res), "en") if s.name == "Allocation 2035")
    row = sheet.row_of["SKK"]
    values = [c.value for (r, _), c in sheet.cells.items() if r == row and isinstance(c.value, float)]
    assert any(v == pytest.approx(125) for v in values)
    assert default_result.end_column == "area_2030"  # the bundled 2030 run keeps the CLI's column name


def test_a_blank_start_area_stays_blank_and_is_explained(langson):
    """Leaves with no 2024 figure in the inventory file (blank cells, read here straight from the CSV) are not
    shown as 0 ha of start area; the note says the model counts them as 0. An of-which target is flagged."""
    import csv

    from landuse.dataset import DEFAULT_DATASET
    with open(DEFAULT_DATASET / "inventory.csv", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f) if r["year"] == "2024"]
    blank = {r["code"] for r in rows if r["area_ha"].strip() in ("", "-")}  # "-": a printed dash, no figure
    leaves = set(langson.classification.leaves)
    blank_leaves = (blank | (leaves - {r["code"] for r in rows})) & leaves
    assert {"LMU", "DNG"} <= blank_leaves  # Bảng 2 prints no figure for them
    t = allocate(langson).table.set_index("code")
    assert t.loc[sorted(blank_leaves), "area_start"].isna().all()
    assert t.loc[sorted(blank_leaves), "note"].str.contains("modelled as 0 ha").all()
    assert t.loc["RSN", "note"].startswith("of-which row")
    printed = t.drop(sorted(blank_leaves)).query("relation == 'part'")
    assert printed["area_start"].notna().all()
