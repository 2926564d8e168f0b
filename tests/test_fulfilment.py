"""Plan fulfilment: ratios, statuses, low-base flags, plan versions, user files and bad input.

Expected numbers are worked out by hand in each test from the printed cells of Bảng 4 (003 l.5268-5391) and
Bảng 26 (l.23386-23848), or from the tiny synthetic province (tests/data/mini), never from the code.
"""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from landuse.cli import main
from landuse.errors import ConfigError, InputError, UnknownCodeError
from landuse.fulfilment import COLUMNS, STATUSES, LowBase, assess, classify, compare_versions, fulfilment
from landuse.pipeline import run
from tests.conftest import MINI, ratio_province, write


@pytest.fixture(scope="module")
def b4(langson):
    return fulfilment(langson).set_index("code")


def ratio(baseline, plan, actual):
    return 100 * (actual - baseline) / (plan - baseline)


# ---- Bảng 4 as printed ----------------------------------------------------------------------------
def test_columns_and_display_order(b4, langson):
    assert list(b4.reset_index().columns) == COLUMNS
    codes = list(b4.index)
    # Bảng 4's rows, all of them, in the classification's display order (TS first, CSD last)
    assert codes[0] == "TS" and codes[-1] == "CSD" and len(codes) == 25
    rank = [langson.classification.codes.index(c) for c in codes]
    assert rank == sorted(rank)
    assert "HNK" not in codes and "ONT" not in codes  # the plan has no figure at that level


def test_luc_ratio(b4):
    # LUC: HT 2020 21.153, PA 19.954, HT 2024 20.895 -> 100 * -258 / -1199 = 21,52 (printed 21,52)
    row = b4.loc["LUC"]
    assert (row.baseline, row.plan, row.actual) == (21153, 19954, 20895)
    assert (row.planned_change, row.actual_change) == (-1199, -258)
    assert round(row.ratio_pct, 2) == 21.52 == row.printed_ratio_pct
    assert row.remaining == 19954 - 20895
    assert row.status == "behind"  # 21.52 % < 40 % of the period elapsed (4 of 10 years)


def test_cln_ratio_recomputed_from_inputs(b4):
    # CLN: 28.951 -> 31.565 against 31.713: 100 * 2614 / 2762 = 94,64; printed 94,63 (from c7 printed 2.613)
    row = b4.loc["CLN"]
    assert row.ratio_pct == pytest.approx(94.6, abs=0.05)
    assert row.ratio_pct == pytest.approx(100 * 2614 / 2762)
    assert row.printed_ratio_pct == 94.63
    assert row.status == "on-track"
    # inputs within ±0,5 ha give 2613/2762 … 2615/2763 = 94,61 … 94,64 %: 94,63 is rounding, no note
    assert "printed ratio" not in row.note


def test_no_printed_ratio_note_where_reconcile_says_rounding(b4, langson):
    """Bảng 4's printed ratios are all rounding for the reconciliation; fulfilment must not contradict it."""
    from landuse.reconcile import reconcile

    f = reconcile(langson)
    ratio_findings = f[(f["source"] == "bang4") & (f["column"] == "(8)") & (f["check"] == "derived")]
    assert len(ratio_findings) >= 10 and set(ratio_findings["severity"]) == {"rounding"}
    assert not b4["note"].str.contains("printed ratio").any()


def test_printed_ratio_note_only_beyond_rounding(tmp_path):
    from landuse.dataset import load_dataset
    from landuse.reconcile import reconcile

    ds = load_dataset(ratio_province(tmp_path / "p"))
    df = fulfilment(ds).set_index("code")
    assert df["printed_ratio_pct"].to_dict() == {"LUC": 50.0, "HNK": 40.0, "DGT": 91.05}
    # HNK 40,00 lies outside 30 … 36,67 % (conftest.RATIO_ROWS): noted; DGT 91,05 inside 86,67 … 91,11: not
    assert "printed ratio 40.00 % vs 33.33 %" in df.loc["HNK", "note"]
    assert "printed ratio" not in df.loc["DGT", "note"] and "printed ratio" not in df.loc["LUC", "note"]
    f = reconcile(ds)
    sev = f[(f["source"] == "t4") & (f["check"] == "derived")].set_index("row")["severity"].to_dict()
    assert sev == {"HNK": "error", "DGT": "rounding"}  # the same judgement


def test_rph_opposite(b4):
    # RPH: plan +447 ha (99.151 -> 99.598), actual 85.310: -13.841 ha, the other way; ratio < 0 still shown
    row = b4.loc["RPH"]
    assert row.status == "opposite"
    assert row.ratio_pct == pytest.approx(100 * -13841 / 447)
    assert row.low_base  # 447 ha < 1 % of 99.151 ha
    assert "planned +447 ha, moved -13,841 ha" in row.note


def test_no_target_row(b4):
    # TSC: blank PA cell; Bảng 4 prints a ratio 20,65 anyway
    row = b4.loc["TSC"]
    assert row.status == "no-target" and np.isnan(row.plan) and np.isnan(row.ratio_pct)
    assert row.printed_ratio_pct == 20.65 and "prints a ratio" in row.note
    assert not row.low_base


def test_total_no_change_planned(b4):
    # TS: PA = HT 2020 = 831.018; the 2024 inventory has 830.732 (-286 ha)
    row = b4.loc["TS"]
    assert row.status == "no-change-planned" and np.isnan(row.ratio_pct)
    assert "moved -286 ha" in row.note


@pytest.mark.parametrize("code,status", [
    ("LUA", "opposite"),   # -2.198 planned, +104 actual
    ("RDD", "over"),       # -50 planned, -105 actual: 210 %
    ("CSD", "over"),       # -13.088 planned, -20.298 actual: 155 %
    ("DTL", "on-track"),   # 385 / 507 = 75,9 % >= 40 %
    ("DYT", "on-track"),   # 20 / 48 = 41,7 % >= 40 %
    ("SKK", "behind"),     # 124 / 2.024 = 6,1 %
    ("DBV", "opposite"),   # +10 planned, -1 actual
])
def test_statuses_bang4(b4, code, status):
    assert b4.loc[code, "status"] == status


def test_elapsed_share(b4, langson):
    assert set(b4["elapsed_pct"]) == {40.0}  # (2024 - 2020) / (2030 - 2020)
    # base year 2019 from the inventory: (2024 - 2019) / (2030 - 2019) = 45,45 %
    df = fulfilment(langson, base_year=2019).set_index("code")
    assert df["elapsed_pct"].iloc[0] == pytest.approx(500 / 11)
    assert df.loc["NNP", "baseline"] == 719722  # Bảng 3 col (4)
    # DYT 20/48 = 41,7 % is on track at 40 % elapsed; from 2019 the base moves, so recompute by hand
    assert df.loc["LUC", "ratio_pct"] == pytest.approx(ratio(df.loc["LUC", "baseline"], 19954, 20895))
    assert df["printed_ratio_pct"].isna().all()  # the printed ratio is for base 2020 only


def test_ratios_match_printed_within_rounding(b4):
    """Where a printed ratio lies within what whole-ha rounding of the three printed inputs allows, ours
    lies in the same interval (each input ±0,5 ha; interval by brute force over the corners)."""
    checked = 0
    for code, row in b4.dropna(subset=["ratio_pct", "printed_ratio_pct"]).iterrows():
        corners = [ratio(row.baseline + a, row.plan + p, row.actual + c)
                   for a, p, c in itertools.product((-0.5, 0.5), repeat=3)]
        lo, hi = min(corners) - 0.005, max(corners) + 0.005
        if lo <= row.printed_ratio_pct <= hi:
            assert lo <= row.ratio_pct <= hi, code
            checked += 1
    assert checked >= 15


def test_low_base_thresholds(b4, langson):
    # default: below max(1 % of the baseline, 10 ha)
    assert b4.loc["NNP", "low_base"]        # 1.072 < 7.197,44
    assert b4.loc["RDD", "low_base"]        # 50 < 131,29
    assert not b4.loc["CQP", "low_base"]    # 1.625 >= 108,51
    assert not b4.loc["DBV", "low_base"]    # 10 is not below 10
    off = fulfilment(langson, low_base="0").set_index("code")
    assert not off["low_base"].any()
    ha = fulfilment(langson, low_base="25ha").set_index("code")
    assert list(ha.index[ha["low_base"]]) == ["DBV"]  # the only |planned change| < 25 ha with a ratio


def test_low_base_parse():
    assert LowBase.parse("1%,10ha") == LowBase(1, 10) == LowBase.parse(None)
    assert LowBase.parse("2.5%") == LowBase(2.5, 0) and LowBase.parse("25 ha") == LowBase(0, 25)
    with pytest.raises(InputError, match="low-base"):
        LowBase.parse("3x")


def test_levels(langson):
    assert list(fulfilment(langson, level=1)["code"]) == ["TS", "NNP", "PNN", "CSD"]
    two = fulfilment(langson, level=2)
    assert "LUA" in set(two["code"]) and not {"LUC", "RSN", "DVH"} & set(two["code"])
    with pytest.raises(InputError, match="level out of range"):
        fulfilment(langson, level=9)


# ---- statuses on synthetic numbers ------------------------------------------------------------------
def test_classify_precedence_and_tolerance():
    import pandas as pd

    planned = pd.Series([0.0, 100, 100, 100, 100, 100, 100, -100, np.nan])
    actual = pd.Series([5.0, -10, 150, 103, 60, 40, 100, -60, 10])
    r = 100 * actual / planned.where(planned != 0)
    has_plan = planned.notna()
    st = classify(planned, actual, r, has_plan, pd.Series([True] * 9), elapsed_pct=50)
    assert list(st) == ["no-change-planned", "opposite", "over", "achieved", "on-track", "behind", "achieved",
                        "on-track", "no-target"]
    assert classify(planned, actual, r, has_plan, pd.Series([True] * 9), 50, over_tolerance=1)[3] == "over"
    assert set(st) <= set(STATUSES)


@pytest.fixture
def mini_plan(tmp_path):
    """Plan to 2029 for the synthetic province, base 2019 (elapsed (2024-2019)/(2029-2019) = 50 %).

    2019 -> 2024 in tests/data/mini/inventory.csv: CLN 300 -> 305, LUK 300 -> 300, LUC 500 -> 480,
    HNK 400 -> 390, DGT 300 -> 340, RSX 5.000 -> 5.100, RPH 2.000 -> 1.955, LUA 800 -> 780, NTS 50 -> 50.
    """
    return write(tmp_path / "plan.csv", "code,year,area_ha\n"
                 "CLN,2029,300\nLUK,2029,300\nLUC,2029,460\nHNK,2029,370\nDGT,2029,340\nRSX,2029,5090\n"
                 "RPH,2029,2100\nLUA,2029,780.5\nNTS,2029,51\nRDD,2029,\nLUC,2025,490\n")


def test_synthetic_statuses(mini_plan):
    from landuse.dataset import load_dataset

    ds = load_dataset(MINI)
    res = assess(ds, plan_file=mini_plan, base_year=2019, year=2024)
    df = res.table.set_index("code")
    assert res.target_year == 2029 and set(df["elapsed_pct"]) == {50.0}
    expected = {
        "CLN": "no-change-planned",  # plan = baseline 300; moved +5
        "LUK": "no-change-planned",  # plan = baseline 300; did not move
        "LUC": "on-track",           # -20 / -40 = 50 % >= 50 %
        "HNK": "behind",             # -10 / -30 = 33 %
        "DGT": "achieved",           # +40 / +40 = 100 %
        "RSX": "over",               # +100 / +90 = 111 %
        "RPH": "opposite",           # -45 vs +100
        "LUA": "achieved",           # -20 / -19,5 = 102,6 % (within 5 points)
        "NTS": "behind",             # 0 / +1 = 0 %, low base
        "RDD": "no-target",
    }
    assert df["status"].to_dict() == expected
    assert "moved +5 ha (300 → 305)" in df.loc["CLN", "note"]
    assert "did not move" in df.loc["LUK", "note"]
    assert df.loc["LUA", "ratio_pct"] == pytest.approx(100 * 20 / 19.5)
    assert df.loc["NTS", "low_base"] and not df.loc["RSX", "low_base"]  # 90 ha >= max(50, 10)
    assert df.loc["RSX", "remaining"] == -10 and "beyond the target by 10 ha" in df.loc["RSX", "note"]
    assert df["printed_ratio_pct"].isna().all()


def test_year_equals_base_year(langson):
    # adjusted-2030 is based on 2024 (Bảng 26 col (5)): in 2024 nothing can be measured yet
    df = fulfilment(langson, "adjusted-2030").set_index("code")
    assert set(df["elapsed_pct"]) == {0.0} and df["ratio_pct"].isna().all()
    assert df.loc["CLN", "status"] == "no-time-elapsed"
    assert df.loc["CLN", "remaining"] == 37437 - 31565  # Bảng 26 (9)
    assert df.loc["TS", "status"] == "no-change-planned"


def test_other_plan_version(langson):
    df = fulfilment(langson, "qd236-bang26").set_index("code")
    # LUC in Bảng 26: 21.154 -> 20.895 against 19.655: 100 * -259 / -1.499
    assert df.loc["LUC", "ratio_pct"] == pytest.approx(100 * 259 / 1499)
    assert df.loc["ONT", "status"] == "no-target"  # blank (6)
    assert df.loc["CLN", "status"] == "over"       # 2.614 / 1.887 = 138,5 %


def test_compare_plans(langson):
    res = compare_versions(langson)
    cmp = res.table.set_index("code")
    assert res.plans == ["qd236-bang4", "qd236-bang26"]  # same base and target year
    assert cmp.loc["LUC", "plan_qd236-bang4"] == 19954 and cmp.loc["LUC", "plan_qd236-bang26"] == 19655
    assert cmp.loc["LUC", "differs"] and "plan 19,954 vs 19,655 (299 ha)" in cmp.loc["LUC", "difference"]
    assert cmp.loc["LUC", "ratio_spread_pp"] == pytest.approx(100 * 258 / 1199 - 100 * 259 / 1499)
    assert "status on-track vs over" in cmp.loc["CLN", "difference"]
    # RDD and CQP are printed alike in both tables
    assert not cmp.loc["RDD", "differs"] and not cmp.loc["CQP", "differs"]
    # ONT (a Bảng 26 row) and TSC (in both) have no figure in either version: not compared
    assert "ONT" not in cmp.index and "TSC" not in cmp.index and len(cmp) == 24


# ---- bad input ---------------------------------------------------------------------------------------
def test_plan_file_unknown_code(langson, tmp_path):
    f = write(tmp_path / "p.csv", "code,year,area_ha\nLUC,2030,19000\nXYZ,2030,5\n")
    with pytest.raises(UnknownCodeError, match=r"p.csv:row 3:column code: unknown land code 'XYZ'"):
        fulfilment(langson, plan_file=f)


@pytest.mark.parametrize("year", [2035, 2020])
def test_plan_file_year_outside_period(langson, tmp_path, year):
    f = write(tmp_path / "p.csv", f"code,year,area_ha\nLUC,2030,19000\nCLN,{year},30000\n")
    with pytest.raises(InputError, match=rf"p.csv:row 3:column year: plan figure for {year} is outside the plan "
                                         r"period 2021–2030"):
        fulfilment(langson, plan_file=f)


def test_plan_file_uses_table_baseline(langson, tmp_path):
    f = write(tmp_path / "p.csv", "code,year,area_ha\nLUC,2030,19000\n")
    df = fulfilment(langson, plan_file=f).set_index("code")
    assert list(df.index) == ["LUC"]
    assert df.loc["LUC", "ratio_pct"] == pytest.approx(100 * -258 / (19000 - 21153))


def test_base_year_without_status(langson):
    with pytest.raises(InputError, match="no status for the base year 2018") as e:
        fulfilment(langson, base_year=2018)
    assert "inventory.csv:column year" in str(e.value) and "2014, 2019, 2024" in str(e.value)


def test_status_file(langson, tmp_path):
    # the 2024 CLN status replaced by the plan figure: 100 % achieved
    f = write(tmp_path / "s.csv", "code,year,area_ha\nCLN,2024,31713\n")
    df = fulfilment(langson, status_file=f).set_index("code")
    assert df.loc["CLN", "ratio_pct"] == 100 and df.loc["CLN", "status"] == "achieved"
    assert df.loc["LUC", "actual"] == 20895  # others still from Bảng 4
    bad = write(tmp_path / "bad.csv", "code,year,area_ha\nCLN,2024,31713\nQQQ,2024,1\n")
    with pytest.raises(UnknownCodeError, match="bad.csv:row 3:column code"):
        fulfilment(langson, status_file=bad)
    missing = write(tmp_path / "m.csv", "code,year,area_ha\nCLN,2024,31713\n")
    with pytest.raises(InputError, match="m.csv:column year: no status for the base year 2017"):
        fulfilment(langson, base_year=2017, status_file=missing)


def test_unknown_plan_and_report_year(langson):
    with pytest.raises(ConfigError, match="unknown plan 'nope'.*qd236-bang4, qd236-bang26, adjusted-2030"):
        fulfilment(langson, "nope")
    with pytest.raises(InputError, match="report year 2019 is before the base year 2020"):
        fulfilment(langson, year=2019)


@pytest.mark.parametrize("extra,key,found", [
    ('base_year = "abc"', "base_year", "'abc'"),
    ("base_year = 2019.5", "base_year", "2019.5"),
])
def test_plan_years_of_the_wrong_type(tmp_path, extra, key, found):
    from landuse.dataset import load_dataset

    root = ratio_province(tmp_path / "p", extra)
    # the manifest check at load time names the key (the plan parser's own check stays as a second guard)
    with pytest.raises(ConfigError, match=rf"manifest.toml:column plans\.p\.{key}: .*expected a whole year, "
                                          rf"found {re.escape(found)}"):
        fulfilment(load_dataset(root))
    r = CliRunner().invoke(main, ["fulfilment", "--data", str(root)])
    assert r.exit_code == 2 and f"plans.p.{key}" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("old,new,key", [
    ('table = "t4"', "table = 4", "table"),
    ('table = "t4"', 'table = ["t4"]', "table"),
    ('column = "c4"', 'column = ""', "column"),
    ('base_column = "c3"', "base_column = 3", "base_column"),
    ("target_year = 2029", 'target_year = "2029"', "target_year"),
    ("target_year = 2029", "", "target_year"),
    ("start_year = 2020", "start_year = true", "start_year"),
])
def test_plan_keys_missing_or_of_the_wrong_type(tmp_path, old, new, key):
    from landuse.dataset import load_dataset

    root = ratio_province(tmp_path / "p")
    manifest = root / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"manifest.toml:column plans\.p\.{key}"):
        fulfilment(load_dataset(root))
    r = CliRunner().invoke(main, ["fulfilment", "--data", str(root)])
    assert r.exit_code == 2 and f"plans.p.{key}" in r.output and "Traceback" not in r.output


def test_plan_file_without_manifest_plan_needs_base_year(tmp_path):
    from landuse.dataset import load_dataset

    f = write(tmp_path / "p.csv", "code,year,area_ha\nLUC,2029,460\n")
    with pytest.raises(InputError, match="needs a base year"):
        fulfilment(load_dataset(MINI), plan_file=f)
    with pytest.raises(ConfigError, match="defines no plan"):
        fulfilment(load_dataset(MINI))


# ---- CLI and landuse run -----------------------------------------------------------------------------
def test_cli_json_equals_library(langson):
    r = CliRunner().invoke(main, ["fulfilment", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {x["code"]: x for x in json.loads(r.output)}
    lib = fulfilment(langson).set_index("code")
    assert rows["LUC"]["ratio_pct"] == pytest.approx(lib.loc["LUC", "ratio_pct"])
    assert rows["TSC"]["ratio_pct"] is None and rows["TSC"]["status"] == "no-target"


def test_cli_table_header_and_compare():
    r = CliRunner().invoke(main, ["fulfilment", "--level", "1"])
    assert r.exit_code == 0 and "4 of 10 years elapsed = 40.0 %" in r.output
    r = CliRunner().invoke(main, ["fulfilment", "--compare-plans", "--format", "csv"])
    assert r.exit_code == 0 and "ratio_pct_qd236-bang26" in r.output.splitlines()[0]


@pytest.mark.parametrize("args,message", [
    (["--plan", "nope"], "unknown plan 'nope'"),
    (["--plan", "qd236-bang4", "--plan", "qd236-bang26"], "--plan given 2 times"),
    (["--base-year", "2018"], "no status for the base year 2018"),
    (["--low-base", "abc"], "bad low-base threshold"),
])
def test_cli_bad_input_exit_2(args, message):
    r = CliRunner().invoke(main, ["fulfilment", *args])
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_cli_plan_file_outside_period(tmp_path):
    f = write(tmp_path / "p.csv", "code,year,area_ha\nLUC,2040,1\n")
    r = CliRunner().invoke(main, ["fulfilment", "--plan-file", str(f)])
    assert r.exit_code == 2 and "p.csv:row 2:column year: plan figure for 2040 is outside" in r.output


def test_run_writes_fulfilment(tmp_path):
    report = run(None, tmp_path / "out")
    names = [p.name for p in report.files]
    assert "thuc_hien_quy_hoach.csv" in names
    df = report.results.fulfilment.table
    assert df.set_index("code").loc["RPH", "status"] == "opposite"
    text = (tmp_path / "out" / "thuc_hien_quy_hoach.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("code,name,level,baseline,plan,actual")


def test_run_without_plan_skips(tmp_path):
    report = run(MINI, tmp_path / "out")
    assert report.results.fulfilment is None
    assert any("fulfilment: skipped" in n for n in report.notes)
