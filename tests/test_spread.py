"""The spread model (issue 13): a hand-solved split, the 65-commune synthetic Lạng Sơn (sums, stated figures,
located projects, the rule of thumb, two solvers), the planner's view, and bad input."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from allocation import allocate
from allocation.api import allocate_by_unit
from allocation.config import load_scenario
from allocation.spread import SpreadSettings, UnitDrivers, allocate_spread, solve_spread, spread_problem
from landuse.cli import main
from landuse.dataset import load_dataset
from landuse.synth import write_synthetic
from tests.conftest import write


# ---- a split worked out by hand -------------------------------------------------------------------------------
def _hand(change_cap: float) -> np.ndarray:
    """Three communes hold 60, 30 and 10 ha of leaf A; the province converts 20 ha A→B. Drivers: stock only."""
    start = np.array([[60.0, 0.0], [30.0, 0.0], [10.0, 0.0]])
    drv = UnitDrivers(np.array(["I", "II", "III"], dtype=object), np.array(["", "", ""], dtype=object),
                      np.ones(3), np.ones(3), np.zeros(2, dtype=bool))
    st = SpreadSettings(suitability=0, potential=0, region=0, stock_cap=0.5, change_cap=change_cap, min_change_ha=0)
    sp = spread_problem(start, ["a", "b", "c"], ["A", "B"], (np.array([0]), np.array([1]), np.array([20.0])), drv,
                        st, [])
    sol = solve_spread(sp)
    assert sol.ok
    return sol.x


def test_driver_shares_by_hand():
    # 20 ha in proportion to the stocks 60 : 30 : 10 -> 12, 6, 2; with change_cap 0.7 no cap binds
    # (12 ≤ 14, and every commune converts at most a fifth of its stock), so the driver shares are the answer
    np.testing.assert_allclose(_hand(0.7), [12, 6, 2], atol=1e-6)


def test_capped_commune_hands_the_rest_on_in_proportion_to_target_plus_delta():
    # change_cap 0.45: commune a takes at most 9 ha. The other 3 ha go to b and c minimising
    # Δb²/(6+δ) + Δc²/(2+δ) with Δb + Δc = 3, so Δ ∝ (x̂ + δ); δ = 0.01 × 20 / 3 + 0.001 = 0.0676667.
    # b gets 8.24 ≤ 9 and c 2.76 ≤ 5 (half its stock): no other cap binds
    d = 0.01 * 20 / 3 + 0.001
    db = 3 * (6 + d) / (8 + 2 * d)
    np.testing.assert_allclose(_hand(0.45), [9, 6 + db, 2 + 3 - db], atol=1e-3)
    # with change_cap 0.4 both a and b are capped at 8 ha: c takes the remaining 4 ha
    np.testing.assert_allclose(_hand(0.4), [8, 8, 4], atol=1e-3)


# ---- the 65-commune synthetic Lạng Sơn ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def s65(tmp_path_factory, langson):
    out = tmp_path_factory.mktemp("spread") / "s65"
    write_synthetic(langson, out, 65, seed=11)
    return load_dataset(out)


@pytest.fixture(scope="module")
def spread65(s65):
    return allocate_spread(s65, load_scenario(None, s65))


def _located_2030(root) -> pd.Series:
    """Minimum SKK/SKN per commune from industrial_zones.csv, parsed here by hand: rows planned by 2030, a
    project listed in several tables once (its last listing), its area split equally over the communes named."""
    z = pd.read_csv(root / "industrial_zones.csv", dtype=str)
    z = z[z["period"] == "2030"].drop_duplicates("name", keep="last")
    recs = []
    for kind, commune, area in zip(z["kind"], z["commune"], z["area_ha"], strict=True):
        text = re.sub(r"^(tại|gồm)\s+|\d+\s*xã:?|các xã:|xã|phường", "", commune, flags=re.IGNORECASE)
        names = [n.strip(" :") for n in re.split(r",|\svà\s", text) if n.strip(" :")]
        a = float(area.replace(".", "").replace(",", "."))
        recs += [(n, {"KCN": "SKK", "CCN": "SKN"}[kind], a / len(names)) for n in names]
    return pd.DataFrame(recs, columns=["unit", "code", "area_ha"]).groupby(["unit", "code"])["area_ha"].sum()


def test_units_add_up_to_the_provincial_allocation(s65, spread65):
    """Sum of the communes = the provincial allocation within 1 ha per code: against the joint by-unit LP
    (same located projects) and, without projects, against the provincial LP of issue 6."""
    end = spread65.end_column
    sums = spread65.unit_areas.groupby("code")[end].sum()
    joint = allocate_by_unit(s65, load_scenario(None, s65)).table.set_index("code")[end]
    assert (sums - joint.reindex(sums.index)).abs().max() <= 1.0
    free = allocate_spread(s65, load_scenario(None, s65), projects=False)
    prov = allocate(s65).table.set_index("code")[end]
    got = free.unit_areas.groupby("code")[end].sum()
    assert (got - prov.reindex(got.index)).abs().max() <= 1.0
    # each commune keeps its total; no area is negative
    tot = spread65.unit_areas.groupby("unit")[["area_start", end]].sum()
    np.testing.assert_allclose(tot[end], tot["area_start"], atol=1e-6)
    assert spread65.unit_areas[end].min() >= -1e-6


def test_stated_commune_figures_are_the_start(s65, spread65):
    start = spread65.unit_areas.pivot(index="unit", columns="code", values="area_start")
    figs = pd.read_csv(s65.root / "commune_figures.csv", dtype=str)
    parts = {"LUA": ["LUC", "LUK"], "TS": list(start.columns)}
    for r in figs.itertuples():
        assert start.loc[r.commune, parts.get(r.code, [r.code])].sum() == float(r.area_ha.replace(".", ""))


def test_located_projects_are_met(s65, spread65):
    need = _located_2030(s65.root)
    end = spread65.unit_areas.set_index(["unit", "code"])[spread65.end_column]
    assert len(need) >= 20 and need[("Tân Thành", "SKK")] == pytest.approx(223.7 + 204.7 + 237)
    short = need - end.reindex(need.index)
    assert (short <= 1e-4).all(), short[short > 1e-4]


def test_rule_of_thumb(s65, spread65):
    """No commune takes more than half of a provincial change (gross gain or loss of a land type above 100 ha)
    unless a located project puts it there, or it holds at least half of the land converted."""
    f = spread65.flows[spread65.flows["code_from"] != spread65.flows["code_to"]]
    start = spread65.unit_areas.pivot(index="unit", columns="code", values="area_start")
    stock_share = start / start.sum()
    located = set(_located_2030(s65.root).index)
    checked = 0
    for side in ("code_to", "code_from"):
        per = f.groupby([side, "unit"])["area_ha"].sum()
        for code, g in per.groupby(level=0):
            if g.sum() <= 100:
                continue
            checked += 1
            unit = g.droplevel(0).idxmax()
            if g.max() <= 0.5 * g.sum() or (unit, code) in located:
                continue
            origins = f[(f["unit"] == unit) & (f[side] == code)]["code_from"].unique()
            assert stock_share.loc[unit, origins].max() >= 0.5, (side, code, unit, g.max(), g.sum())
    assert checked >= 15


def test_two_solvers_give_the_same_split(s65, spread65, tmp_path):
    # OSQP runs in its own process: in one process with the whole test suite's libraries its setup crashed
    out = tmp_path / "osqp.csv"
    p = subprocess.run([sys.executable, "-m", "landuse", "allocate", "--data", str(s65.root), "--by-unit",
                        "--qp-solver", "osqp", "--unit-areas", str(out), "--format", "csv"],
                       capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert p.returncode == 0, p.stderr
    a = spread65.unit_areas.set_index(["unit", "code"])[spread65.end_column]
    b = pd.read_csv(out).set_index(["unit", "code"])["area_2030"]
    assert (a - b.reindex(a.index)).abs().max() <= 1.0


def test_driver_weight_moves_the_split(s65, tmp_path):
    """Turning the region driver up sends more built land to region-I communes (the factor 1.5 ^ 3)."""
    scen = write(tmp_path / "region.toml", "[spread]\nregion = 3\n")
    base = allocate_spread(s65, load_scenario(None, s65), projects=False)
    more = allocate_spread(s65, load_scenario(scen, s65), projects=False)
    units = pd.read_csv(s65.root / "communes.csv")
    region_i = set(units.loc[units["region"] == "I", "name"])

    def built_gain(res) -> float:
        f = res.flows[(res.flows["code_from"] != res.flows["code_to"]) & res.flows["unit"].isin(region_i)]
        return float(f[f["code_to"].isin(["ONT", "ODT", "DGT", "TMD"])]["area_ha"].sum())

    assert built_gain(more) > built_gain(base) + 10


# ---- the CLI ------------------------------------------------------------------------------------------------
def test_unit_view_and_unit_areas(s65, tmp_path):
    areas = tmp_path / "areas.csv"
    r = CliRunner().invoke(main, ["allocate", "--data", str(s65.root), "--unit", "xã Na Dương", "--unit-areas",
                                  str(areas)])
    assert r.exit_code == 0, r.output
    assert "Na Dương: allocation 2024 → 2030" in r.stdout
    assert "located project / unit row: min SKK in Na Dương (KCN Na Dương)" in r.stdout   # Bảng 18 row 7
    t = pd.read_csv(areas)
    assert list(t.columns) == ["unit", "code", "area_start", "area_2030", "change"]
    np.testing.assert_allclose(t["change"], t["area_2030"] - t["area_start"], atol=1e-9)
    assert t.loc[(t["unit"] == "Na Dương") & (t["code"] == "SKK"), "area_2030"].iloc[0] >= 220.3 - 1e-4
    # the same view on stdout of a real process
    p = subprocess.run([sys.executable, "-m", "landuse", "allocate", "--data", str(s65.root), "--unit", "Na Dương"],
                       capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert p.returncode == 0, p.stderr
    assert "KCN Na Dương" in p.stdout and "Conversions (ha)" in p.stdout


def test_unknown_unit_exit_2(s65):
    r = CliRunner().invoke(main, ["allocate", "--data", str(s65.root), "--unit", "Na Dươn"])
    assert r.exit_code == 2
    assert "unit 'Na Dươn' is not in the inventory; did you mean 'Na Dương'?" in r.stderr


def _copy(ds, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(ds.root, root)
    return root


@pytest.mark.parametrize("body, where", [
    ("[spread]\nstock = -1\n", r"bad.toml:row 2:column spread.stock: spread.stock is out of range"),
    ("[spread]\nregion = nan\n", r"bad.toml:row 2:column spread.region: spread.region is out of range"),
    ("[spread]\npotential = \"high\"\n", r"bad.toml:row 2:column spread.potential: spread.potential must be a number"),
    ("[spread]\nstock_cap = 1.5\n", r"bad.toml:row 2:column spread.stock_cap: spread.stock_cap is out of range"),
])
def test_bad_driver_weight_exit_2(s65, tmp_path, body, where):
    scen = write(tmp_path / "bad.toml", body)
    r = CliRunner().invoke(main, ["allocate", "--data", str(s65.root), "--by-unit", "--scenario", str(scen)])
    assert r.exit_code == 2, r.output
    assert re.search(where, r.stderr), r.stderr


def test_unit_row_contradicting_a_located_project_exit_2(s65, tmp_path):
    rows = write(tmp_path / "rows.csv", "unit,code,kind,area_ha\nNa Sầm,ONT,min,5\nxã Na Dương,SKK,max,100\n")
    r = CliRunner().invoke(main, ["allocate", "--data", str(s65.root), "--unit-rows", str(rows)])
    assert r.exit_code == 2, r.output
    assert ("rows.csv:row 3:column area_ha: unit 'Na Dương': the max of SKK (100.00 ha) is below the 220.30 ha "
            "that industrial_zones.csv locates there") in r.stderr


@pytest.mark.parametrize("edit, where", [
    # a commune of communes.csv the inventory does not have
    ("communes", "communes.csv:row 46:column name: commune 'Na Dương Mới' is not in the inventory"),
    # an inventory unit communes.csv does not list
    ("drop", "inventory.csv:column unit: unit 'Na Dương' of the inventory is not in communes.csv"),
])
def test_communes_and_inventory_disagree_exit_2(s65, tmp_path, edit, where):
    root = _copy(s65, tmp_path)
    p = root / "communes.csv"
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    if edit == "drop":
        lines = [ln for ln in lines if ",Na Dương," not in ln]
    else:
        lines = [ln.replace("Na Dương", "Na Dương Mới") for ln in lines]
    p.write_text("".join(lines), encoding="utf-8")
    r = CliRunner().invoke(main, ["allocate", "--data", str(root), "--by-unit", "--no-projects"])
    assert r.exit_code == 2, r.output
    assert where in r.stderr


@pytest.mark.parametrize("name, text, where", [
    ("rows.csv", "unit,code,kind,area_ha\nNa Sầm,ONT,min,5\nxã Na Sầm,ONT,min,5\n",
     "rows.csv:row 3:column unit: duplicate row: unit 'Na Sầm', code 'ONT', kind 'min'"),
    ("costs.csv", "unit,code,factor\nNa Sầm,LUC,2\nNa Sầm,LUC,3\n",
     "costs.csv:row 3:column unit: duplicate row: unit 'Na Sầm', code 'LUC' is already given at row 2"),
])
def test_duplicate_unit_rows_and_costs_exit_2(s65, tmp_path, name, text, where):
    p = write(tmp_path / name, text)
    opt = "--unit-rows" if name == "rows.csv" else "--unit-costs"
    r = CliRunner().invoke(main, ["allocate", "--data", str(s65.root), opt, str(p)])
    assert r.exit_code == 2, r.output
    assert where in r.stderr


def test_spread_that_cannot_meet_the_provincial_conversions_exit_1(s65, tmp_path):
    """Kiên Mộc must keep at most 1.000 ha of its production forest, but no commune converts more than half of
    its stock of a land type in a conversion above 100 ha: exit 1 naming both."""
    kien_moc = s65.stock(2024, "Kiên Mộc")["RSX"]
    assert kien_moc == 30612   # 003 l.3749
    rows = write(tmp_path / "rows.csv", "unit,code,kind,area_ha\nKiên Mộc,RSX,max,1000\n")
    out = tmp_path / "t.csv"
    r = CliRunner().invoke(main, ["allocate", "--data", str(s65.root), "--unit-rows", str(rows), "--format", "csv",
                                  "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "infeasible" in r.stderr and "max RSX in Kiên Mộc" in r.stderr and "cap: Kiên Mộc" in r.stderr
    assert not out.exists()


def test_workbook_by_unit_sheets(s65, spread65, tmp_path):
    """`landuse tables --by-unit`: per-unit conversions and per-unit area needing permission, each with a
    province row equal to the provincial figures (the conversion matrix off its diagonal; the permissions)."""
    import openpyxl

    out = tmp_path / "t.xlsx"
    r = CliRunner().invoke(main, ["tables", "--data", str(s65.root), "--by-unit", "--lang", "en", "--out", str(out)])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out, data_only=True)

    def province_row(name: str) -> dict:
        grid = [list(row) for row in wb[name].iter_rows(values_only=True)]
        head = next(row for row in grid if row[1] and "Administrative" in str(row[1]) or row[2] == "Σ (Σ)")
        total = next(row for row in grid if row[1] == "Whole province (sum of units)")
        codes = next(row for row in grid[grid.index(head) + 1:] if any(isinstance(v, str) and v for v in row[3:]))
        return {c: v for c, v in zip(codes[3:], total[3:], strict=True) if c} | {"Σ": total[2]}

    conv = spread65.conversions.set_index("code_from").drop(index="total", columns="total", errors="ignore")
    moved = float(conv.to_numpy().sum() - np.trace(conv.loc[conv.index, conv.index].to_numpy()))
    got = province_row("Conversions by unit")
    assert got["Σ"] == pytest.approx(moved, abs=0.01)
    assert got["RSX→SKK"] == pytest.approx(conv.at["RSX", "SKK"], abs=0.01)
    perm = spread65.permissions.groupby("permission")["area_ha"].sum()
    got = province_row("Permission by unit")
    for name, v in perm.items():
        assert got[name] == pytest.approx(v, abs=0.01)


@pytest.mark.parametrize("projects", [False, True])
def test_highs_and_cbc_stage_1_give_the_same_split(s65, spread65, projects):
    """Stage 1 by HiGHS or CBC (provincial LP without projects, joint by-unit LP with them): the same per-unit
    answer within 1 ha per cell (measured: 0.0002 ha)."""
    cfg = load_scenario(None, s65)
    a = spread65 if projects else allocate_spread(s65, cfg, projects=False)
    b = allocate_spread(s65, cfg, projects=projects, solver="cbc")
    x = a.unit_areas.set_index(["unit", "code"])[a.end_column]
    y = b.unit_areas.set_index(["unit", "code"])[b.end_column]
    assert b.solver == "cbc"
    assert (x - y.reindex(x.index)).abs().max() <= 1.0
