"""Allocation by unit: a hand-solved model, the provincial equivalence on a synthetic 65-commune Lạng Sơn,
located projects, unit totals, and bad input with locations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocation import allocate
from allocation.api import allocate_by_unit
from allocation.config import load_scenario
from allocation.model import Problem, build
from allocation.solve import SolveStatus, solve
from allocation.units import located_projects, read_unit_rows, split_communes
from landuse.dataset import load_dataset
from landuse.errors import InputError
from landuse.synth import write_synthetic
from tests.conftest import write


def hand_problem() -> Problem:
    """Two units, leaves A B C. u0: A 10, C 5; u1: B 8, C 2 (ha). Province goal: B = 12 (weight 1). Unit rule:
    C ≥ 7 in u0. Converting costs 0.001/ha, but C→B costs 0.002/ha.

    By hand: u0 must turn 2 ha of A into C (its only other land). B needs +4 ha: from u0's A (0.001) rather
    than from u1's C (0.002). Optimum: u0 A→A 4, A→B 4, A→C 2, C→C 5; u1 stays; objective 6 × 0.001."""
    cost = np.full((3, 3), 1e-3)
    cost[2, 1] = 2e-3
    return Problem(["u0", "u1"], ["A", "B", "C"], np.array([[10.0, 0, 5], [0, 8, 2]]), np.ones((3, 3), bool),
                       cost, ["A", "B", "C"], np.eye(3),
                       pd.DataFrame({"g": [1], "u": [-1], "target": [12.0], "weight": [1.0], "label": ["B"]}),
                       pd.DataFrame({"g": [2], "u": [0], "lo": [7.0], "hi": [np.nan], "label": ["C u0"]}))


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_hand_solved(solver):
    p = hand_problem()
    lp = build(p)
    sol = solve(lp, solver)
    assert sol.status == SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(0.006, abs=1e-9)
    np.testing.assert_allclose(lp.end_areas(sol.x), [[4, 4, 7], [0, 8, 2]], atol=1e-7)
    f = lp.flows(sol.x).set_index(["unit", "code_from", "code_to"])["area_ha"]
    assert f[("u0", "A", "B")] == pytest.approx(4) and f[("u0", "A", "C")] == pytest.approx(2)


def test_variables_only_where_land_is():
    p = hand_problem()
    lp = build(p)
    # u0 has A and C (3 targets each), u1 has B and C: 4 × 3 flow columns, none out of an empty leaf
    assert lp.n_flow == 12
    assert not ((lp.flow_unit == 0) & (lp.flow_from == 1)).any()
    assert not ((lp.flow_unit == 1) & (lp.flow_from == 0)).any()


def test_split_communes():
    assert split_communes("xã Hữu Lũng, xã Tuấn Sơn") == ["Hữu Lũng", "Tuấn Sơn"]
    assert split_communes("Gồm 03 xã: Hữu Lũng, Cai Kinh và Tân Thành") == ["Hữu Lũng", "Cai Kinh", "Tân Thành"]
    assert split_communes("Phường Đông Kinh và xã Chiến Thắng") == ["Đông Kinh", "Chiến Thắng"]


@pytest.fixture(scope="module")
def syn65(tmp_path_factory, langson):
    out = tmp_path_factory.mktemp("syn") / "s65"
    write_synthetic(langson, out, 65, seed=11)
    return load_dataset(out)


def test_provincial_sums_equal_the_provincial_allocation(syn65, tmp_path):
    ds = syn65
    # 1. the provincial model of issue 6 on the same province
    prov = allocate(ds)
    # same optimum value without unit rows: a provincial solution splits into units and back
    free = allocate_by_unit(ds, load_scenario(None, ds), projects=False)
    assert free.objective == pytest.approx(prov.objective, rel=1e-7)
    # 2. a case with a unique optimum: every leaf's target = the provincial 2030 area (reachable with zero
    # deviation); the located KCN of 2030 add up to 2,253.06 ha, the default ceiling (Bảng 18's unrounded total)
    leaves = prov.table.set_index("code").loc[ds.classification.leaves, "area_2030"].dropna()
    lines = ["[targets]"] + [f"{c} = {v!r}" for c, v in leaves.items()]
    scen = write(tmp_path / "unique.toml", "\n".join(lines) + "\n")
    cfg = load_scenario(scen, ds)
    ref = allocate(ds, cfg).table.set_index("code")["area_2030"]
    res = allocate_by_unit(ds, cfg)
    got = res.table.set_index("code")["area_2030"]
    diff = (got - ref).dropna().abs()
    assert diff.max() <= 1.0, diff.sort_values().tail()
    # located projects met: the KCN/CCN of 2030 from industrial_zones.csv, per commune
    need = located_projects(ds, 2030).groupby(["unit", "code"])["area_ha"].sum()
    end = res.unit_areas.set_index(["unit", "code"])["area_2030"]
    assert len(need) > 10
    assert (end.reindex(need.index) >= need - 1e-6).all()
    assert need[("Tân Thành", "SKN")] >= 74.9   # "CCN Hoà Sơn 1, Xã Tân Thành, 74,9" and others there
    # unit totals conserved, and per-unit flows add up to the start areas
    tot = res.unit_areas.groupby("unit")[["area_start", "area_2030"]].sum()
    np.testing.assert_allclose(tot["area_2030"], tot["area_start"], atol=1e-6)
    inv = ds.inventory[ds.inventory["code"] == "TS"].set_index("unit")["area_ha"]
    np.testing.assert_allclose(tot["area_start"].reindex(inv.index), inv, atol=1e-9)
    out_of = res.unit_flows.groupby(["unit", "code_from"])["area_ha"].sum()
    start = res.unit_areas.set_index(["unit", "code"])["area_start"]
    np.testing.assert_allclose(out_of, start.reindex(out_of.index), atol=1e-6)


def test_bad_unit_total(syn65, tmp_path):
    inv = pd.read_csv(syn65.root / "inventory.csv", dtype=str)
    row = inv.index[(inv["unit"] == "Kỳ Lừa") & (inv["code"] == "TS")][0]
    inv.loc[row, "area_ha"] = str(int(inv.loc[row, "area_ha"]) + 5)
    root = tmp_path / "bad"
    import shutil

    shutil.copytree(syn65.root, root)
    inv.to_csv(root / "inventory.csv", index=False)
    ds = load_dataset(root)
    with pytest.raises(InputError, match=rf"inventory.csv:row {row + 2}:column area_ha: unit 'Kỳ Lừa'"):
        allocate_by_unit(ds, load_scenario(None, ds))


def test_project_in_a_unit_that_does_not_exist(syn65, tmp_path):
    import shutil

    root = tmp_path / "bad"
    shutil.copytree(syn65.root, root)
    text = (root / "industrial_zones.csv").read_text(encoding="utf-8").replace("Xã Tân Văn", "Xã Tân Vắn Mới")
    (root / "industrial_zones.csv").write_text(text, encoding="utf-8")
    ds = load_dataset(root)
    with pytest.raises(InputError, match=r"industrial_zones.csv:row \d+:column commune: unit 'Tân Vắn Mới' is not "
                                         r"in the inventory; did you mean 'Tân Văn'"):
        located_projects(ds, 2030)


def test_unit_rows_file(syn65, tmp_path):
    p = write(tmp_path / "rows.csv", "unit,code,kind,area_ha\nxã Bắc Sơn,ONT,min,500\nXã Không Có,SKN,min,1\n")
    with pytest.raises(InputError, match=r"rows.csv:row 3:column unit: unit 'Xã Không Có' is not in the inventory"):
        read_unit_rows(p, syn65)
    p = write(tmp_path / "rows.csv", "unit,code,kind,area_ha\nxã Bắc Sơn,ONT,min,500\n")
    rows = read_unit_rows(p, syn65)
    assert rows[["unit", "code", "kind", "area_ha"]].values.tolist() == [["Bắc Sơn", "ONT", "min", 500.0]]


def test_located_projects_over_the_provincial_ceiling_are_named(syn65, tmp_path):
    # the KCN areas of 2030 in industrial_zones.csv (Bảng 18, KCN 1-8: 162 + 599,76 + 223,7 + 350 + 204,7 + 237
    # + 220,3 + 255,6) add up to 2,253.06 ha; a scenario capping SKK at the rounded 2,253 ha (Bảng 26 /
    # l.23233) is infeasible before any solve, naming the ceiling and the projects
    from landuse.errors import InfeasibleError

    scen = write(tmp_path / "cap.toml", "[bounds.max]\nSKK = 2253\n")
    with pytest.raises(InfeasibleError,
                       match=r"bounds.max SKK \(2,253.00 ha\).*\(2,253.06 ha: min SKK in Chi Lăng \(KCN Đồng Bành\)"):
        allocate_by_unit(syn65, load_scenario(scen, syn65))
    assert allocate_by_unit(syn65, load_scenario(None, syn65)).status.value == "optimal"


@pytest.mark.parametrize("body, match", [
    # a blank area is an error, not a dropped row
    ("Bắc Sơn,ONT,min,500\nBắc Sơn,SKN,min,\n", r"rows.csv:row 3:column area_ha: missing area"),
    ("Bắc Sơn,ONT,min,-5\n", r"rows.csv:row 2:column area_ha: negative area"),
    # min above max of the same unit and code (spelled differently): the row of the minimum
    ("xã Bắc Sơn,ONT,max,400\nBắc Sơn,ONT,min,500\n",
     r"rows.csv:row 3:column area_ha: unit 'Bắc Sơn': the minimum of ONT \(500.00 ha\) is above its maximum"),
    # RSN is an of-which line of RSX: no land of its own to allocate
    ("Bắc Sơn,ONT,min,5\nBắc Sơn,RSN,min,5\n", r"rows.csv:row 3:column code: RSN cannot be allocated"),
])
def test_bad_unit_rows(syn65, tmp_path, body, match):
    p = write(tmp_path / "rows.csv", "unit,code,kind,area_ha\n" + body)
    with pytest.raises(InputError, match=match):
        read_unit_rows(p, syn65)


def test_unit_rows_min_equal_max_and_other_units_are_fine(syn65, tmp_path):
    p = write(tmp_path / "rows.csv", "unit,code,kind,area_ha\nBắc Sơn,ONT,max,500\nBắc Sơn,ONT,min,500\n"
                                     "Kỳ Lừa,ONT,min,600\n")
    assert read_unit_rows(p, syn65)["area_ha"].tolist() == [500.0, 500.0, 600.0]


@pytest.mark.parametrize("cells, fmt, want", [
    (["74.9"], None, [74.9]),                      # detected from the file: English decimals (dataset is vi)
    (['"74,9"', '"1.250,5"'], None, [74.9, 1250.5]),  # detected: Vietnamese
    (["12"], None, [12.0]),                        # plain integers in either format
    (["1.250"], "vi", [1250.0]),                   # the CLI's --number-format decides an ambiguous token
    (["1.250"], "en", [1.25]),
])
def test_unit_rows_number_format_is_the_files(syn65, tmp_path, cells, fmt, want):
    p = write(tmp_path / "rows.csv", "unit,code,kind,area_ha,label\n"
              + "".join(f"Xã Tân Thành,SKN,min,{c},CCN {k}\n" for k, c in enumerate(cells)))
    assert read_unit_rows(p, syn65, fmt)["area_ha"].tolist() == want


def test_unit_rows_ambiguous_number_asks_for_the_format(syn65, tmp_path):
    p = write(tmp_path / "rows.csv", "unit,code,kind,area_ha\nXã Tân Thành,SKN,min,1.250\n")
    with pytest.raises(InputError, match=r"rows.csv:row 2:column area_ha: cannot tell whether '1.250'"):
        read_unit_rows(p, syn65)
