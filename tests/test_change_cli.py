"""`landuse change` and `landuse transitions` through the command line."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from landuse.cli import main
from landuse.summary import run
from tests.conftest import write

PLOTS = "plot_id,unit,code_from,code_to,area_ha\n1,A,LUC,LUC,10\n2,A,LUC,ONT,2.5\n3,B,RSX,CLN,4\n4,B,CLN,RSX,1\n"


@pytest.fixture
def runner():
    return CliRunner()


def test_change_json(runner):
    r = runner.invoke(main, ["change", "--from", "2019", "--to", "2024", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {x["code"]: x for x in json.loads(r.output)}
    assert rows["TS"]["change"] == -286
    assert rows["CNT"]["change"] is None and rows["CNT"]["status"] == "not-in-classification"


def test_transitions_matrix_csv(runner, tmp_path):
    p = write(tmp_path / "p.csv", PLOTS)
    r = runner.invoke(main, ["transitions", str(p), "--format", "csv"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.output))
    assert df.columns[0] == "from" and df.columns[-1] == "total"
    assert df["from"].iloc[-1] == "total"
    assert df.set_index("from").loc["LUC", "ONT"] == 2.5


@pytest.mark.parametrize("report", ["components", "intensity", "account"])
def test_transitions_reports(runner, tmp_path, report):
    p = write(tmp_path / "p.csv", PLOTS)
    r = runner.invoke(main, ["transitions", str(p), "--report", report, "--interval-years", "5", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)


def test_transitions_bad_input_exit_2(runner, tmp_path):
    p = write(tmp_path / "p.csv", PLOTS + "5,B,XYZ,RSX,1\n")
    r = runner.invoke(main, ["transitions", str(p)])
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert "p.csv:row 6:column code_from: unknown land code 'XYZ'" in r.output


def test_transitions_needs_plots_or_estimate(runner):
    r = runner.invoke(main, ["transitions"])
    assert r.exit_code == 2 and "--estimate" in r.output


def test_estimate_every_line_says_estimated(runner, tmp_path):
    out = tmp_path / "m.csv"
    r = runner.invoke(main, ["transitions", "--estimate", "--from", "2019", "--to", "2024", "--format", "csv",
                             "--out", str(out), "--plot", str(tmp_path / "m.html")])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert df["status"].str.startswith("estimated").all()
    assert df["from"].tolist()[-2:] == ["tang_khac", "total"]
    assert "giam_khac" in df.columns
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "Tăng (ha)" in html and "ước tính" in html


def test_plot_png(runner, tmp_path):
    pytest.importorskip("matplotlib")
    p = write(tmp_path / "p.csv", PLOTS)
    r = runner.invoke(main, ["transitions", str(p), "--plot", str(tmp_path / "m.png")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_writes_change_tables(tmp_path):
    report = run(None, tmp_path / "out")
    names = {p.name for p in report.files}
    assert {"bien_dong_2014_2019.csv", "bien_dong_2019_2024.csv", "bien_dong_2014_2024.csv",
            "chu_chuyen_uoc_tinh_2019_2024.csv"} <= names
    assert report.results["transitions"].estimated
    m = pd.read_csv(tmp_path / "out" / "chu_chuyen_uoc_tinh_2019_2024.csv")
    assert m["status"].str.startswith("estimated").all()
