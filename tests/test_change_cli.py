"""`landuse change` and `landuse transitions` through the command line."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from landuse.cli import main
from landuse.pipeline import run
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


# PLOTS by hand: LUC→LUC 10, LUC→ONT 2.5, RSX→CLN 4, CLN→RSX 1. Start: LUC 12.5, CLN 1, RSX 4, ONT 0 (17.5 ha);
# end: LUC 10, CLN 4, RSX 1, ONT 2.5. Gains: CLN 4, RSX 1, ONT 2.5 (D = 7.5); losses: LUC 2.5, CLN 1, RSX 4.
def transitions_json(runner, tmp_path, report, *extra):
    p = write(tmp_path / "p.csv", PLOTS)
    r = runner.invoke(main, ["transitions", str(p), "--report", report, "--format", "json", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_transitions_report_components(runner, tmp_path):
    rows = {x["code"]: x for x in transitions_json(runner, tmp_path, "components")}
    assert set(rows) == {"LUC", "CLN", "RSX", "ONT", "overall"}
    # CLN gains 4 (from RSX), loses 1 (to RSX): net +3 = quantity, swap 2·min(4, 1) = 2, all of it exchange
    cln = rows["CLN"]
    assert [cln[k] for k in ("gross_gain", "gross_loss", "net_change", "quantity", "swap", "exchange", "shift")] \
        == pytest.approx([4, 1, 3, 3, 2, 2, 0])
    assert rows["LUC"]["persistence"] == 10 and rows["LUC"]["net_change"] == -2.5
    # overall: D = 7.5 = Q (2.5 + 3 + 3 + 2.5)/2 = 5.5 + E (2 + 2)/2 = 2 + S 0
    o = rows["overall"]
    assert [o["total_change"], o["quantity"], o["exchange"], o["shift"]] == pytest.approx([7.5, 5.5, 2, 0])


def test_transitions_report_intensity(runner, tmp_path):
    rows = transitions_json(runner, tmp_path, "intensity", "--interval-years", "5")
    x = "intensity_pct_per_year"
    assert {r["per"] for r in rows} == {"year"}
    interval = next(r for r in rows if r["level"] == "interval")
    assert interval[x] == pytest.approx(100 * (7.5 / 17.5) / 5)            # 8.571 %/year
    gain = {r["category"]: r for r in rows if r["level"] == "category" and r["direction"] == "gain"}
    assert gain["CLN"][x] == pytest.approx(100 * (4 / 5) / 4)                # 20 %/year: active
    assert gain["CLN"]["behaviour"] == "active" and gain["LUC"]["behaviour"] == "dormant"
    loss = {r["category"]: r for r in rows if r["level"] == "category" and r["direction"] == "loss"}
    assert loss["LUC"][x] == pytest.approx(100 * (2.5 / 5) / 12.5)          # 4 %/year: dormant
    assert loss["LUC"]["behaviour"] == "dormant"
    # transition level for CLN (gain 4 ha): uniform W = 100·(4/5)/(12.5 + 4 + 0); from RSX 100·(4/5)/4
    tg = {r["from"]: r for r in rows if r["level"] == "transition" and r["direction"] == "gain"
          and r["category"] == "CLN"}
    assert tg["RSX"]["uniform_pct_per_year"] == pytest.approx(100 * 0.8 / 16.5)
    assert tg["RSX"][x] == pytest.approx(20) and tg["RSX"]["behaviour"] == "targeted"
    assert tg["LUC"]["behaviour"] == "avoided"


def test_transitions_report_intensity_per_interval(runner, tmp_path):
    rows = transitions_json(runner, tmp_path, "intensity")
    interval = next(r for r in rows if r["level"] == "interval")
    assert interval["per"] == "interval" and interval["intensity_pct_per_year"] == pytest.approx(100 * 7.5 / 17.5)


def test_transitions_report_account(runner, tmp_path):
    rows = {x["code"]: x for x in transitions_json(runner, tmp_path, "account")}
    luc, ont, tot = rows["LUC"], rows["ONT"], rows["total"]
    assert [luc["opening"], luc["reductions_conversion"], luc["additions_total"], luc["closing"]] == [12.5, 2.5, 0, 10]
    assert [ont["opening"], ont["additions_conversion"], ont["closing"]] == [0, 2.5, 2.5]
    assert [tot["opening"], tot["additions_conversion"], tot["reductions_conversion"], tot["closing"]] \
        == [17.5, 7.5, 7.5, 17.5]
    assert tot["additions_other"] == 0 and "additions_unreconciled" not in tot


@pytest.mark.parametrize(("args", "message"), [
    (["--interval-years", "0"], "--interval-years"),
    (["--interval-years", "-2"], "--interval-years"),
    (["--level", "-1"], "--level"),
    (["--level", "9"], "level out of range"),
])
def test_transitions_bad_options(runner, tmp_path, args, message):
    p = write(tmp_path / "p.csv", PLOTS)
    r = runner.invoke(main, ["transitions", str(p), "--report", "intensity", *args])
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output


@pytest.mark.parametrize(("level", "message"), [("9", "level out of range: expected 0 to 3, found 9"),
                                                ("-1", "-1 is not in the range x>=0")])
def test_change_level_out_of_range(runner, level, message):
    r = runner.invoke(main, ["change", "--from", "2019", "--to", "2024", "--level", level])
    assert r.exit_code == 2 and message in r.output and "(no rows)" not in r.output


def test_change_blank_is_not_a_change(runner):
    r = runner.invoke(main, ["change", "--from", "2014", "--to", "2024", "--format", "json"])
    rows = {x["code"]: x for x in json.loads(r.output)}
    for code in ("RSN", "DNL", "DKH", "SKK"):                     # Bảng 3 (8) prints 141,624, 347, 3, 155
        assert rows[code]["change"] is None and rows[code]["status"] == "blank", code


def test_outputs_checked_before_anything_is_written(runner, tmp_path):
    p = write(tmp_path / "p.csv", PLOTS)
    taken = write(tmp_path / "taken.csv", "mine\n")
    r = runner.invoke(main, ["transitions", str(p), "--plot", str(tmp_path / "pp.html"), "--out", str(taken)])
    assert r.exit_code == 2 and "file exists" in r.output
    assert not (tmp_path / "pp.html").exists() and taken.read_text() == "mine\n"
    r = runner.invoke(main, ["transitions", str(p), "--plot", str(tmp_path / "no" / "pp.html")])
    assert r.exit_code == 2 and "output folder does not exist" in r.output and "Traceback" not in r.output
    r = runner.invoke(main, ["transitions", str(p), "--plot", str(tmp_path / "pp.svg")])
    assert r.exit_code == 2 and "unknown picture type" in r.output
    r = runner.invoke(main, ["change", "--from", "2019", "--to", "2024", "--out", str(tmp_path / "no" / "c.csv")])
    assert r.exit_code == 2 and "output folder does not exist" in r.output


def test_plots_without_data_use_the_default_datasets_classification(runner, tmp_path, monkeypatch):
    from landuse import dataset
    from landuse.transitions import change

    root = tmp_path / "ds"
    write(root / "manifest.toml", '[dataset]\nname = "X"\nclassification = "vn2013"\n')
    monkeypatch.setattr(dataset, "DEFAULT_DATASET", root)
    assert change.default_classification().id == "vn2013"
    # a vn2024-only code (CNT, concentrated livestock land) is unknown under the default dataset's vn2013
    p = write(tmp_path / "p.csv", "plot_id,unit,code_from,code_to,area_ha\n1,A,LUC,CNT,1\n")
    r = runner.invoke(main, ["transitions", str(p)])
    assert r.exit_code == 2 and "unknown land code 'CNT' (classification vn2013)" in r.output


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
    est = report.results.estimate
    assert est.estimated and (est.from_year, est.to_year) == (2019, 2024)
    m = pd.read_csv(tmp_path / "out" / "chu_chuyen_uoc_tinh_2019_2024.csv")
    assert m["status"].str.startswith("estimated").all()
