"""The synthetic province generator: exact sums, skew, determinism, the written dataset folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from landuse.cli import main
from landuse.dataset import load_dataset, load_toml
from landuse.synth import balance, largest_remainder, round_matrix, synthetic_inventory


def test_largest_remainder_by_hand():
    # 10 * (1/3, 1/3, 1/3) = 3.33 each: floors 3,3,3, one ha left goes to the first (stable order)
    assert largest_remainder(np.array([1.0, 1.0, 1.0]), 10).tolist() == [4, 3, 3]
    # 7 * (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4 -> floors 3,2,1 (6); the largest remainder is 0.5
    assert largest_remainder(np.array([5.0, 3.0, 2.0]), 7).tolist() == [4, 2, 1]
    assert largest_remainder(np.array([0.0, 0.0]), 0).tolist() == [0, 0]


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12), st.integers(2, 12), st.integers(0, 10_000))
def test_round_matrix_keeps_both_margins(n, m, seed):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 500, n)
    cols = largest_remainder(rng.random(m) + 0.01, int(rows.sum()))
    x = balance(rng.random((n, m)) + 1e-3, rows, cols)
    out = round_matrix(x, rows, cols)
    assert (out >= 0).all()
    assert out.sum(1).tolist() == rows.tolist()
    assert out.sum(0).tolist() == cols.tolist()


@pytest.mark.parametrize("n, m, seed, zero_rows, noise", [
    (1, 1, 0, 0, 0.0), (1, 30, 1, 0, 0.0), (40, 1, 2, 0, 0.0), (65, 55, 3, 0, 0.0), (650, 55, 4, 30, 0.0),
    (3321, 55, 5, 200, 0.0), (300, 20, 6, 10, 0.05),   # noise: margins of x only ≈ rows and cols (±5 %)
])
def test_round_matrix_random_margins_exact(n, m, seed, zero_rows, noise):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 20_000, n)
    rows[rng.choice(n, zero_rows, replace=False)] = 0
    cols = largest_remainder(rng.lognormal(0, 1.5, m), int(rows.sum()))
    x = balance(rng.lognormal(0, 1.3, (n, m)), rows, cols) * rng.uniform(1 - noise, 1 + noise, (n, m))
    out = round_matrix(x, rows, cols)
    assert out.dtype.kind == "i" and (out >= 0).all()
    assert (out.sum(axis=1) == rows).all() and (out.sum(axis=0) == cols).all()
    assert (out[rows == 0] == 0).all()
    # rounding, not reshuffling: on balanced input every cell stays within 2 ha of x (mostly within 1)
    if noise == 0:
        assert np.abs(out - x).max() < 2 and np.abs(out - x).mean() < 0.5


def test_round_matrix_refuses_margins_of_different_totals():
    with pytest.raises(ValueError, match="differs"):
        round_matrix(np.ones((2, 2)), np.array([2, 2]), np.array([2, 3]))


@pytest.fixture(scope="module")
def synth65(langson):
    return synthetic_inventory(langson, 65, seed=7)


def _wide(inv: pd.DataFrame, root: str) -> tuple[pd.DataFrame, pd.Series]:
    leaves = inv[inv["code"] != root].pivot(index="unit", columns="code", values="area_ha")
    total = inv[inv["code"] == root].set_index("unit")["area_ha"]
    return leaves, total


def test_unit_stocks_sum_exactly_to_the_province(langson, synth65):
    inv, units = synth65
    cls = langson.classification
    leaves, total = _wide(inv, cls.root)
    # the provincial leaves as read from inventory.csv (2024 rows of Bảng 2), missing leaves dropped
    prov = langson.inventory.query("year == 2024").set_index("code")["area_ha"].reindex(cls.leaves).dropna()
    assert sorted(leaves.columns) == sorted(prov.index)
    assert (leaves.sum(axis=0).reindex(prov.index) == prov).all()
    assert (leaves.sum(axis=1).reindex(total.index) == total).all()           # unit totals fixed
    assert total.sum() == langson.stock(2024)[cls.root]                          # TS of the province
    assert (inv["area_ha"] % 1 == 0).all() and (inv["area_ha"] >= 0).all()
    assert list(units["name"]) == list(langson.extras["communes"]["name"])       # the 65 real names
    assert inv["source"].str.contains("synthetic").all()


def test_skew(synth65):
    inv, units = synth65
    leaves, total = _wide(inv, "TS")
    wards = units.loc[units["kind"] == "phường", "name"]
    # urban residential land is concentrated in the wards, far beyond their share of the area
    ward_area = total[wards].sum() / total.sum()
    assert leaves.loc[wards, "ODT"].sum() / leaves["ODT"].sum() > 5 * ward_area
    # rice is concentrated: the fifth of units with most rice hold most of it
    rice = (leaves["LUC"] + leaves["LUK"]).sort_values(ascending=False)
    assert rice.iloc[: len(rice) // 5].sum() > 0.5 * rice.sum()
    # and wards hold almost no forest
    forest = leaves[["RDD", "RPH", "RSX"]].sum(axis=1)
    assert forest[wards].sum() < 0.5 * ward_area * forest.sum()


def test_deterministic_by_seed(langson, synth65):
    again, _ = synthetic_inventory(langson, 65, seed=7)
    pd.testing.assert_frame_equal(again, synth65[0])
    other, _ = synthetic_inventory(langson, 65, seed=8)
    assert not other["area_ha"].equals(synth65[0]["area_ha"])


def test_generated_names_for_other_sizes(langson):
    inv, units = synthetic_inventory(langson, 200, seed=1)
    assert len(units) == 200 and units["name"].is_unique
    assert set(inv["unit"]) == set(units["name"])
    leaves, total = _wide(inv, "TS")
    assert leaves.to_numpy().sum() == langson.stock(2024)["TS"]


def test_cli_writes_a_loadable_marked_dataset(tmp_path, langson):
    out = tmp_path / "syn"
    r = CliRunner().invoke(main, ["synth", "--units", "65", "--seed", "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    manifest = load_toml(out / "manifest.toml")
    assert manifest["dataset"]["synthetic"] is True and "SYNTHETIC" in manifest["dataset"]["note"]
    ds = load_dataset(out)
    assert len(ds.units) == 65 and ds.years == [2024]
    assert ds.stock(2024)["TS"] == langson.stock(2024)["TS"]
    assert "bang26" in ds.tables and "industrial_zones" in ds.extras
    # a second run into the same folder is refused without --force, and nothing is changed
    before = (out / "inventory.csv").read_bytes()
    r = CliRunner().invoke(main, ["synth", "--seed", "4", "--out", str(out)])
    assert r.exit_code == 2 and "not empty" in r.output
    assert (out / "inventory.csv").read_bytes() == before
    r = CliRunner().invoke(main, ["synth", "--units", "12", "--seed", "4", "--out", str(out), "--force"])
    assert r.exit_code == 0, r.output
    assert len(load_dataset(out).units) == 12
    assert "industrial_zones" not in load_toml(out / "manifest.toml")["files"]


@pytest.mark.parametrize("n", ["0", "-3"])
def test_cli_refuses_fewer_than_one_unit(tmp_path, n):
    out = tmp_path / "syn"
    r = CliRunner().invoke(main, ["synth", "--units", n, "--out", str(out)])
    assert r.exit_code == 2 and "at least 1" in r.output
    assert not out.exists()


# ---- the stated commune figures (issue 13) ------------------------------------------------------------
def _vi(cell: str) -> float:
    """A whole number as the report prints it: '.' groups thousands ('42.268' = 42268 ha)."""
    return float(str(cell).replace(".", ""))


def test_every_stated_commune_figure_is_kept(langson, synth65):
    inv, units = synth65
    w = inv.pivot(index="unit", columns="code", values="area_ha")
    figs = pd.read_csv(langson.root / "commune_figures.csv", dtype=str)
    assert len(figs) == 184   # DOMAIN.md §7.2: 181 "commune (N ha)" mentions + DKH, DPC and the two extremes
    parts = {"LUA": ["LUC", "LUK"]}   # Bảng 2: Đất trồng lúa = chuyên trồng lúa + lúa còn lại
    for r in figs.itertuples():
        got = w.loc[r.commune, parts.get(r.code, [r.code])].sum()
        assert got == _vi(r.area_ha), (r.code, r.commune)
    # the extremes of 003 l.3690-3694: the smallest and the largest natural area
    ts = w["TS"]
    assert ts.idxmin() == "Tam Thanh" and ts.min() == 2729 and (ts.drop("Tam Thanh") > 2729).all()
    assert ts.idxmax() == "Kiên Mộc" and ts.max() == 42268 and (ts.drop("Kiên Mộc") < 42268).all()
    # no ward of 31,846 ha: every phường is below the provincial mean of 12.780 ha per unit (l.3689)
    wards = units.loc[units["kind"] == "phường", "name"]
    assert (ts[wards] < 12780).all()
    # DPC only in Na Sầm (l.3880-3881: "chỉ có trên địa bàn xã Na Sầm")
    assert w["DPC"][w["DPC"] > 0].index.tolist() == ["Na Sầm"]


def test_industrial_land_only_where_parks_and_clusters_are_located(langson, synth65):
    inv, _ = synth65
    w = inv.pivot(index="unit", columns="code", values="area_ha")
    z = pd.read_csv(langson.root / "industrial_zones.csv", dtype=str)
    z = z[z["period"] == "2030"]   # planned by 2030 (Bảng 18-21), not "after 2030"
    for kind, code in (("KCN", "SKK"), ("CCN", "SKN")):
        text = " ".join(z.loc[z["kind"] == kind, "commune"])
        holders = w.index[w[code] > 0]
        assert len(holders) > 0
        assert all(u in text for u in holders), (code, [u for u in holders if u not in text])


def test_unnamed_communes_stay_below_the_named_ones(langson, synth65):
    """The report names where each land type is concentrated: a commune it does not name holds less of a
    leaf than the largest figure it names (e.g. RSX: no commune beyond Kiên Mộc's 30.612 ha)."""
    inv, _ = synth65
    w = inv.pivot(index="unit", columns="code", values="area_ha")
    figs = pd.read_csv(langson.root / "commune_figures.csv", dtype=str)
    figs = figs[figs["code"].isin(langson.classification.leaves) & (figs["rule"] == "exact")]
    for code, g in figs.groupby("code"):
        others = w[code].drop(g["commune"])
        assert others.max() <= g["area_ha"].map(_vi).max(), code


def test_bad_stated_figure_names_row_and_column(langson, tmp_path):
    import shutil

    from landuse.errors import InputError

    root = tmp_path / "ls"
    shutil.copytree(langson.root, root)
    p = root / "commune_figures.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("Na Dương", "Na Dươngg", 1)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"commune_figures.csv:row 4:column commune: commune 'Na Dươngg'"):
        synthetic_inventory(load_dataset(root), 65, seed=7)
