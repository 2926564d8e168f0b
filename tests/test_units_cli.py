"""`landuse allocate --by-unit` and `--batch` on small synthetic data: per-unit flows against the provincial
conversions, unit totals against the inventory, batch results against single runs, bad unit inputs."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from landuse.cli import main
from landuse.synth import write_synthetic
from tests.conftest import MINI, TEST_DATA, write


@pytest.fixture(scope="module")
def syn6(tmp_path_factory, langson):
    """A synthetic Lạng Sơn of 6 units (no located projects: the real commune names are not used)."""
    out = tmp_path_factory.mktemp("syn") / "s6"
    write_synthetic(langson, out, 6, seed=3)
    return out


@pytest.fixture
def runner():
    return CliRunner()


def _copy(src, tmp_path):
    dst = tmp_path / "data"
    shutil.copytree(src, dst)
    return dst


def test_by_unit_flows_sum_to_the_provincial_conversions(runner, syn6, tmp_path):
    uf, conv, table = tmp_path / "uf.csv", tmp_path / "conv.csv", tmp_path / "t.csv"
    r = runner.invoke(main, ["allocate", "--data", str(syn6), "--by-unit", "--unit-flows", str(uf),
                             "--format", "csv", "--out", str(table)])
    assert r.exit_code == 0, r.output
    # the provincial model of the same data (every unit summed into one)
    r = runner.invoke(main, ["allocate", "--data", str(syn6), "--conversions", str(conv), "--format", "csv"])
    assert r.exit_code == 0, r.output
    flows = pd.read_csv(uf)
    assert list(flows.columns) == ["unit", "code_from", "code_to", "area_ha"]
    summed = flows.groupby(["code_from", "code_to"])["area_ha"].sum()
    m = pd.read_csv(conv).set_index("code_from").drop(index="total", columns="total")
    prov = m.stack()
    prov = prov[prov > 1e-6]
    both = pd.concat([summed.rename("units"), prov.rename("province")], axis=1).fillna(0.0)
    assert (both["units"] - both["province"]).abs().max() <= 1.0
    # unit totals conserved: what leaves a unit's leaves = what arrives = the unit's TS in the inventory
    inv = pd.read_csv(syn6 / "inventory.csv")
    ts = inv[inv["code"] == "TS"].set_index("unit")["area_ha"].astype(float)
    out_of = flows.groupby("unit")["area_ha"].sum()
    into = flows[flows["code_to"] != "-"].groupby("unit")["area_ha"].sum()
    np.testing.assert_allclose(out_of.reindex(ts.index), ts, atol=1e-6)
    np.testing.assert_allclose(into.reindex(ts.index), ts, atol=1e-6)
    # the table is the provincial sum of the units
    t = pd.read_csv(table).set_index("code")
    end = flows.groupby("code_to")["area_ha"].sum()
    np.testing.assert_allclose(t.loc[end.index, "area_2030"], end, atol=1e-6)


def test_batch_two_scenarios_equal_single_runs(runner, tmp_path):
    hand = TEST_DATA / "allocation" / "hand.toml"
    a = write(tmp_path / "a.toml", hand.read_text(encoding="utf-8"))
    b = write(tmp_path / "b.toml", hand.read_text(encoding="utf-8").replace("SKK = 125", "SKK = 160"))
    out_dir = tmp_path / "out"
    r = runner.invoke(main, ["allocate", "--data", str(MINI), "--batch", str(a), "--batch", str(b), "--jobs", "2",
                             "--out-dir", str(out_dir), "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert "allocating" in r.stderr
    summary = pd.read_csv(pd.io.common.StringIO(r.stdout))
    assert list(summary["job"]) == ["a", "b"] and set(summary["status"]) == {"optimal"}
    for name, path in (("a", a), ("b", b)):
        single = tmp_path / f"single_{name}.csv"
        r = runner.invoke(main, ["allocate", "--data", str(MINI), "--scenario", str(path), "--format", "csv",
                                 "--out", str(single)])
        assert r.exit_code == 0, r.output
        got, want = pd.read_csv(out_dir / f"{name}.csv"), pd.read_csv(single)
        pd.testing.assert_frame_equal(got, want)
    assert pd.read_csv(out_dir / "b.csv").set_index("code").at["SKK", "area_2030"] == pytest.approx(160)


def test_bad_unit_total_exit_2(runner, syn6, tmp_path):
    root = _copy(syn6, tmp_path)
    inv = pd.read_csv(root / "inventory.csv", dtype=str)
    unit = inv["unit"].iloc[0]
    row = inv.index[(inv["unit"] == unit) & (inv["code"] == "TS")][0]
    inv.loc[row, "area_ha"] = str(float(inv.loc[row, "area_ha"]) + 5)
    inv.to_csv(root / "inventory.csv", index=False)
    r = runner.invoke(main, ["allocate", "--data", str(root), "--by-unit"])
    assert r.exit_code == 2
    assert f"inventory.csv:row {row + 2}:column area_ha: unit '{unit}'" in r.stderr
    assert "Traceback" not in r.output


def test_project_in_a_unit_that_does_not_exist_exit_2(runner, syn6, tmp_path):
    root = _copy(syn6, tmp_path)
    write(root / "industrial_zones.csv", "table,kind,stt,name,commune,area_ha,period\n"
          "bang19,CCN,1,CCN Thử,Xã Không Có Thật,\"12,5\",2030\n")
    with (root / "manifest.toml").open("a", encoding="utf-8") as f:
        f.write('\n[files.industrial_zones]\npath = "industrial_zones.csv"\n')
    r = runner.invoke(main, ["allocate", "--data", str(root), "--by-unit"])
    assert r.exit_code == 2, r.output
    assert "industrial_zones.csv:row 2:column commune: unit 'Không Có Thật' is not in the inventory" in r.stderr
    # --no-projects ignores the file
    r = runner.invoke(main, ["allocate", "--data", str(root), "--by-unit", "--no-projects", "--format", "csv"])
    assert r.exit_code == 0, r.output


def test_unit_rows_unit_not_in_inventory_exit_2(runner, syn6, tmp_path):
    units = pd.read_csv(syn6 / "inventory.csv")["unit"].unique()
    rows = write(tmp_path / "rows.csv", f"unit,code,kind,area_ha\n{units[0]},ONT,min,10\nXã Ở Đâu,SKN,min,1\n")
    r = runner.invoke(main, ["allocate", "--data", str(syn6), "--unit-rows", str(rows)])
    assert r.exit_code == 2
    assert "rows.csv:row 3:column unit: unit 'Xã Ở Đâu' is not in the inventory" in r.stderr


def test_unit_rows_are_met(runner, syn6, tmp_path):
    """A unit-level minimum above what the unit gets without it is met (the row binds)."""
    inv = pd.read_csv(syn6 / "inventory.csv")
    u = inv["unit"].iloc[0]
    base_f, uf = tmp_path / "base.csv", tmp_path / "uf.csv"
    r = runner.invoke(main, ["allocate", "--data", str(syn6), "--by-unit", "--unit-flows", str(base_f)])
    assert r.exit_code == 0, r.output
    base = pd.read_csv(base_f)
    need = int(base[(base["unit"] == u) & (base["code_to"] == "SKN")]["area_ha"].sum()) + 40
    rows = write(tmp_path / "rows.csv", f"unit,code,kind,area_ha\n{u},SKN,min,{need}\n")
    r = runner.invoke(main, ["allocate", "--data", str(syn6), "--unit-rows", str(rows), "--unit-flows", str(uf)])
    assert r.exit_code == 0, r.output
    f = pd.read_csv(uf)
    got = f[(f["unit"] == u) & (f["code_to"] == "SKN")]["area_ha"].sum()
    assert got >= need - 1e-6
    # the provincial SKN is the same with or without the row (the row only moves it between units)
    assert f[f["code_to"] == "SKN"]["area_ha"].sum() == pytest.approx(
        base[base["code_to"] == "SKN"]["area_ha"].sum(), abs=1e-6)


def test_tables_by_unit_sheet(runner, syn6, tmp_path):
    """The workbook gets one sheet of per-unit 2030 areas: each unit's row adds up to its inventory total
    (unit totals are fixed) and the last row to the province's."""
    import openpyxl
    out = tmp_path / "t.xlsx"
    r = runner.invoke(main, ["tables", "--data", str(syn6), "--by-unit", "--lang", "en", "--out", str(out)])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out, data_only=True)
    name = next(n for n in wb.sheetnames if n.startswith("Allocation by unit"))
    ws = wb[name]
    inv = pd.read_csv(syn6 / "inventory.csv")
    ts = inv[inv["code"] == "TS"].set_index("unit")["area_ha"].astype(float)
    rows = {ws.cell(r, 2).value: ws.cell(r, 3).value for r in range(1, ws.max_row + 1)
            if ws.cell(r, 2).value in set(ts.index) | {"Whole province (sum of units)"}}
    assert set(rows) == set(ts.index) | {"Whole province (sum of units)"}
    for unit, total in ts.items():
        assert rows[unit] == pytest.approx(total, abs=1e-6)
    assert rows["Whole province (sum of units)"] == pytest.approx(ts.sum(), abs=1e-6)
    # without --by-unit there is no such sheet
    out2 = tmp_path / "t2.xlsx"
    assert runner.invoke(main, ["tables", "--data", str(syn6), "--lang", "en", "--out", str(out2)]).exit_code == 0
    assert not any(n.startswith("Allocation by unit") for n in openpyxl.load_workbook(out2).sheetnames)


@pytest.mark.parametrize("extra", [[], ["--data", str(MINI)]])
def test_by_unit_on_a_one_unit_dataset_says_so(runner, extra):
    """The bundled (provincial) dataset has one unit: the error is about the inventory, not the projects."""
    r = runner.invoke(main, ["allocate", "--by-unit", *extra])
    assert r.exit_code == 2, r.output
    assert "inventory.csv: allocation by unit needs a commune-level inventory" in r.stderr
    assert "has 1 unit" in r.stderr and "landuse synth" in r.stderr and "03/TKKK" in r.stderr
    assert "industrial_zones" not in r.stderr and "Traceback" not in r.output


@pytest.mark.parametrize("body, where", [
    ("{u},SKN,max,10\n{u},SKN,min,20\n", "rows.csv:row 3:column area_ha: unit '{u}': the minimum of SKN"),
    ("{u},RSN,min,5\n", "rows.csv:row 2:column code: RSN cannot be allocated"),
    ("{u},SKN,min,\n", "rows.csv:row 2:column area_ha: missing area"),
])
def test_bad_unit_rows_exit_2(runner, syn6, tmp_path, body, where):
    u = pd.read_csv(syn6 / "inventory.csv")["unit"].iloc[0]
    rows = write(tmp_path / "rows.csv", "unit,code,kind,area_ha\n" + body.format(u=u))
    r = runner.invoke(main, ["allocate", "--data", str(syn6), "--unit-rows", str(rows)])
    assert r.exit_code == 2, r.output
    assert where.format(u=u) in r.stderr and "Traceback" not in r.output


def test_tables_by_unit_no_projects(runner, syn6, tmp_path):
    """`tables --by-unit` honours the located projects (a project in an unknown commune is an error) and
    `--no-projects` skips them, as `allocate --by-unit --no-projects` does."""
    root = _copy(syn6, tmp_path)
    write(root / "industrial_zones.csv", "table,kind,stt,name,commune,area_ha,period\n"
          "bang19,CCN,1,CCN Thử,Xã Không Có Thật,\"12,5\",2030\n")
    with (root / "manifest.toml").open("a", encoding="utf-8") as f:
        f.write('\n[files.industrial_zones]\npath = "industrial_zones.csv"\n')
    out = tmp_path / "t.xlsx"
    r = runner.invoke(main, ["tables", "--data", str(root), "--by-unit", "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert "industrial_zones.csv:row 2:column commune: unit 'Không Có Thật'" in r.stderr and not out.exists()
    r = runner.invoke(main, ["tables", "--data", str(root), "--by-unit", "--no-projects", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.exists()


def test_readme_tables_by_unit_on_synthetic_langson(runner, tmp_path):
    """README: `landuse synth --units 65 --out S && landuse tables --data S --by-unit --out F.xlsx` works, with
    the located projects met (KCN Đồng Bành, 162 ha of SKK in xã Chi Lăng: industrial_zones.csv row 2)."""
    import openpyxl

    s, out = tmp_path / "s", tmp_path / "s.xlsx"
    assert runner.invoke(main, ["synth", "--units", "65", "--out", str(s)]).exit_code == 0
    r = runner.invoke(main, ["tables", "--data", str(s), "--by-unit", "--out", str(out)])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(out, data_only=True)["Phân bổ theo đơn vị 2030"]
    grid = [list(row) for row in ws.iter_rows(values_only=True)]
    col = next(c for row in grid for c, v in enumerate(row) if v == "SKK")
    chi_lang = next(row for row in grid if row[1] == "Chi Lăng")
    assert chi_lang[col] >= 162 - 0.5


def _converted_away(flows: pd.DataFrame, unit: str) -> float:
    f = flows[(flows["unit"] == unit) & (flows["code_from"] != flows["code_to"])]
    return float(f["area_ha"].sum())


def test_unit_costs_move_conversions_to_cheaper_units(runner, syn6, tmp_path):
    # Issue 8: costs that may differ by unit. Making every conversion out of one unit 20× dearer must move
    # conversions out of it (the goals still dominate, so the provincial 2030 table is unchanged within 1 ha).
    inv = pd.read_csv(syn6 / "inventory.csv")
    unit = sorted(inv["unit"].unique())[0]
    cheap, dear = tmp_path / "cheap.csv", tmp_path / "dear.csv"
    write(cheap, f"unit,code,factor\n{unit},*,1\n")
    write(dear, f"unit,code,factor\n{unit},*,20\n")
    runs = {}
    for name, costs in (("cheap", cheap), ("dear", dear)):
        uf, table = tmp_path / f"{name}_uf.csv", tmp_path / f"{name}_t.csv"
        r = runner.invoke(main, ["allocate", "--data", str(syn6), "--unit-costs", str(costs), "--unit-flows",
                                 str(uf), "--format", "csv", "--out", str(table)])
        assert r.exit_code == 0, r.output
        runs[name] = (pd.read_csv(uf), pd.read_csv(table).set_index("code")["area_2030"])
    assert _converted_away(runs["dear"][0], unit) < _converted_away(runs["cheap"][0], unit) - 1.0
    diff = (runs["dear"][1] - runs["cheap"][1]).dropna().abs()
    assert diff.max() <= 1.0


@pytest.mark.parametrize("text,where", [
    ("unit,code,factor\nXã Không Có,*,2\n", r"costs.csv:row 2:column unit: unit 'Xã Không Có' is not in the"),
    ("unit,code,factor\n{u},LUX,2\n", r"costs.csv:row 2:column code: unknown land code 'LUX'"),
    ("unit,code,factor\n{u},LUC,-1\n", r"costs.csv:row 2:column factor: bad cost factor"),
])
def test_bad_unit_costs(runner, syn6, tmp_path, text, where):
    unit = sorted(pd.read_csv(syn6 / "inventory.csv")["unit"].unique())[0]
    p = write(tmp_path / "costs.csv", text.format(u=unit))
    r = runner.invoke(main, ["allocate", "--data", str(syn6), "--unit-costs", str(p)])
    assert r.exit_code == 2, r.output
    assert re.search(where, r.output), r.output
