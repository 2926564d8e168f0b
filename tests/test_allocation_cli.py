"""`landuse allocate` / `landuse compare`: outputs, exit 1 on infeasible (nothing written), exit 2 on bad
scenario input before any solve."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from landuse.cli import main
from tests.conftest import TEST_DATA, write

APPROVED = "data/langson/scenarios/approved_plan.toml"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def no_solve(monkeypatch):
    """Fail the test if anything reaches the solver."""
    def boom(*a, **k):
        raise AssertionError("solver called")
    monkeypatch.setattr("landuse.lp.solve", boom)


def test_allocate_table_and_conversions(runner, tmp_path):
    conv = tmp_path / "chu_chuyen.csv"
    r = runner.invoke(main, ["allocate", "--conversions", str(conv)])
    assert r.exit_code == 0, r.output
    assert "optimal (highs)" in r.output and "Binding constraints" in r.output
    assert "Off target by more than 0.5 ha: NNP +1, CSK -1, CSD -1" in r.output
    m = pd.read_csv(conv).set_index("code_from")
    assert m.at["total", "total"] == pytest.approx(830732)  # TS of Bảng 2 (003 l.3968)
    assert m.at["RPH", "RPH"] == pytest.approx(85310) and m.at["RPH", "total"] == pytest.approx(85310)


def test_allocate_json_and_cbc(runner):
    r = runner.invoke(main, ["allocate", "--format", "json", "--solver", "cbc", "--time-limit", "60"])
    assert r.exit_code == 0, r.output
    rows = {x["code"]: x for x in json.loads(r.output)}
    assert rows["TS"]["area_2030"] == pytest.approx(830732)
    assert rows["RSN"]["area_2030"] is None  # of-which row: not allocated, missing rather than 0
    assert {"code", "name", "level", "area_start", "area_2030", "target", "deviation"} <= set(rows["LUC"])


def test_allocate_infeasible_exit_1_nothing_written(runner, tmp_path):
    conv, out = tmp_path / "c.csv", tmp_path / "t.csv"
    r = runner.invoke(main, ["allocate", "--scenario", str(TEST_DATA / "allocation" / "infeasible.toml"),
                             "--conversions", str(conv), "--format", "csv", "--out", str(out)])
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert "bounds.min NNP = 740,000 ha" in r.output and "total area = 830,732 ha" in r.output
    assert not conv.exists() and not out.exists()


def test_compare_default_and_approved(runner):
    r = runner.invoke(main, ["compare", "default", APPROVED, "--format", "csv"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(__import__("io").StringIO(r.output))
    areas = df[df["section"] == "area"].set_index("code")
    assert areas.at["TS", "difference"] == 0  # both keep the 2024 total
    assert np.allclose(areas["difference"], areas["b"] - areas["a"], equal_nan=True)
    conv = df[df["section"] == "conversion"]
    assert len(conv) and (conv["difference"].abs() > 0.5).all()


@pytest.mark.parametrize("text, message", [
    ("[bound.min]\nLUC = 1\n", "s.toml:row 1:column bound: unknown key 'bound'; did you mean 'bounds'?"),
    ("[bounds.min]\nLUCC = 19455\n", "s.toml:row 2:column bounds.min.LUCC: unknown land code 'LUCC' in "
                                     "[bounds.min]; did you mean 'LUC'?"),
    ("[targets]\nXYZ = 5\n", "unknown land code 'XYZ' in [targets]"),
    ("[targets]\nplann = \"x\"\n", "unknown key 'plann' in [targets]; did you mean 'plan'?"),
    ("[shares.min]\nBLR = 72.47\n", "s.toml:row 2:column shares.min.BLR: shares.min.BLR is out of range: "
                                    "expected between 0 and 1, found 72.47"),
    ("[bounds.min]\nLUC = 20000\n[bounds.max]\nLUC = 19000\n", "bounds.min LUC (20000) is above bounds.max LUC"),
    ("[bounds.max]\nLUC = 19000\n", "bounds.min LUC (19455) is above bounds.max LUC (19000)"),  # default's min
    ("[bounds.min]\nLUC = -5\n", "out of range: expected ≥ 0, found -5"),
    ("[bounds.min]\nLUC = \"many\"\n", "bounds.min.LUC must be a number"),
    ("[targets]\nSKK = \n", "s.toml:row 2"),
    ("[protect]\ncodes = \"RDD\"\n", "protect.codes must be a list of codes"),
    ("[forbid]\npairs = [[\"LUC\"]]\n", "forbid.pairs must be a list of [from, to] pairs"),
    ("[targets]\nplan = \"adjusted\"\n", "unknown plan 'adjusted'; did you mean 'adjusted-2030'?"),
    # of-which rows ("Trong đó") have no leaves of their own: RSN is a subset of RSX in vn2024
    ("[bounds.min]\nRSN = 10\n", "s.toml:row 2:column bounds.min.RSN: RSN is an of-which row ('Trong đó') of RSX, "
                                  "not allocated"),
    ("[targets]\nRSN = 10\n", "s.toml:row 2:column targets.RSN: RSN is an of-which row"),
    ("[shares.max]\nRSN = 0.1\n", "column shares.max.RSN: RSN is an of-which row"),
    ("[costs]\nfrom = 3\n", "s.toml:row 2:column costs.from: costs.from must be a table of CODE = factor"),
    ("[period]\nstart_year = \"x\"\n", "s.toml:row 2:column period.start_year: period.start_year must be a year"),
    ("[period]\ntarget_year = 2030.5\n", "column period.target_year: period.target_year must be a year"),
    ("[costs]\nsuitability = 5\n", "s.toml:row 2:column costs.suitability: costs.suitability must be the key"),
    ("[costs]\nsuitability = \"suitabilty\"\n", "costs.suitability names 'suitabilty', which the dataset does "
                                                 "not have; did you mean 'suitability'?"),
    ("[costs]\nsuitability = \"potential\"\n", "costs.suitability: file 'potential' lacks column(s)"),
    ("[targets]\nskk = 3000\n", "unknown key 'skk' in [targets]; did you mean 'SKK'?"),
    ("[bounds.max]\nLuc = 3000\n", "unknown land code 'Luc' in [bounds.max]; did you mean 'LUC'?"),
])
def test_bad_scenario_exit_2_before_solving(runner, tmp_path, no_solve, text, message):
    path = write(tmp_path / "s.toml", text)
    r = runner.invoke(main, ["allocate", "--scenario", str(path)])
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1


def test_malformed_toml_line_and_column(runner, tmp_path, no_solve):
    path = write(tmp_path / "s.toml", "[targets]\nSKK = 3000\nLUC = = 1\n")
    r = runner.invoke(main, ["allocate", "--scenario", str(path)])
    assert r.exit_code == 2
    assert "s.toml:row 3:column char" in r.output and "malformed TOML" in r.output


def test_run_includes_allocation(runner, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(main, ["run", "--out", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "phan_bo_2030.csv").set_index("code")
    matrix = pd.read_csv(out / "chu_chuyen_2024_2030.csv").set_index("code_from")
    assert table.at["TS", "area_2030"] == pytest.approx(830732)
    assert matrix.at["total", "total"] == pytest.approx(830732)
    assert "allocation 2024→2030: optimal (highs)" in r.output


def test_run_step_result_object(tmp_path):
    from landuse.pipeline import run

    report = run(None, tmp_path / "o")
    res = report.results.allocation
    assert res.status.value == "optimal" and res.table.set_index("code").at["SKK", "area_2030"] == pytest.approx(
        2253)


def test_run_skips_dataset_without_config(runner, tmp_path):
    r = runner.invoke(main, ["run", "--data", str(TEST_DATA / "mini"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0 and "allocation: skipped" in r.output
