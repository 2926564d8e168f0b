"""`landuse transitions --matrix … --years …` and `--estimate --years …` through the command line."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from click.testing import CliRunner

from landuse.cli import main
from tests.conftest import write
from tests.test_matrix import LONG_2, WIDE_1, WIDE_2

X = "intensity_pct_per_year"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def files(tmp_path):
    return str(write(tmp_path / "a.csv", WIDE_1)), str(write(tmp_path / "b.csv", WIDE_2))


def invoke(runner, *args):
    return runner.invoke(main, ["transitions", *args])


def test_intensity_json(runner, files):
    a, b = files
    r = invoke(runner, "--matrix", a, "--matrix", b, "--years", "2000,2005,2015", "--report", "intensity",
               "--format", "json")
    assert r.exit_code == 0, r.output
    recs = json.loads(r.output)
    iv = {x["interval"]: x for x in recs if x["level"] == "interval"}
    # the same landscape as tests/test_intensity.py: S1 = 100·20/(100·5), S2 = 100·15/(100·10), U = 100·35/(100·15)
    assert iv["2000-2005"][X] == pytest.approx(4) and iv["2005-2015"][X] == pytest.approx(1.5)
    assert iv["all"][X] == pytest.approx(35 / 15) and iv["2000-2005"]["behaviour"] == "fast"
    crop = next(x for x in recs if x["level"] == "transition" and x["interval"] == "2000-2005"
                and x["direction"] == "gain" and x["category"] == "Crop" and x["from"] == "Forest")
    assert crop[X] == pytest.approx(100 * 10 / (5 * 60))
    assert crop["uniform_pct_per_year"] == pytest.approx(100 * 10 / (5 * 70))
    assert crop["behaviour"] == "targeted" and crop["to"] == "Crop"


def test_intensity_csv_subprocess(files, tmp_path):
    a, _ = files
    b = str(write(tmp_path / "b_long.csv", LONG_2.replace("km2", "area_ha")))  # long layout, same figures
    p = subprocess.run([sys.executable, "-m", "landuse", "transitions", "--matrix", a, "--matrix", b, "--years",
                        "2000,2005,2015", "--report", "intensity", "--format", "csv"],
                       capture_output=True, text=True, encoding="utf-8")
    assert p.returncode == 0, p.stderr
    df = pd.read_csv(io.StringIO(p.stdout), keep_default_na=False)
    assert list(df.columns[:9]) == ["level", "interval", "category", "from", "to", "direction", X,
                                    "uniform_pct_per_year", "behaviour"]
    g = df[(df["level"] == "category") & (df["direction"] == "gain") & (df["interval"] == "2005-2015")]
    assert g.set_index("category").loc["Crop", X] == pytest.approx(100 * 10 / (10 * 40))   # 2.5 %/year


def test_stationarity_table_subprocess(files):
    a, b = files
    p = subprocess.run([sys.executable, "-m", "landuse", "transitions", "--matrix", a, "--matrix", b, "--years",
                        "2000,2005,2015", "--report", "stationarity", "--format", "json"],
                       capture_output=True, text=True, encoding="utf-8")
    assert p.returncode == 0, p.stderr
    recs = json.loads(p.stdout)
    crop = next(x for x in recs if x["level"] == "category" and x["category"] == "Crop" and x["direction"] == "gain")
    assert [crop["above"], crop["intervals"], crop["stationary"], crop["behaviour"]] == [2, 2, "yes", "active"]


def test_components_per_interval(runner, files):
    a, b = files
    r = invoke(runner, "--matrix", a, "--matrix", b, "--years", "2000,2005,2015", "--report", "components",
               "--format", "json")
    assert r.exit_code == 0, r.output
    recs = {(x["interval"], x["code"]): x for x in json.loads(r.output)}
    assert recs[("2000-2005", "overall")]["total_change"] == 20 and recs[("2005-2015", "overall")]["total_change"] == 15


def test_gain_filter(runner, files):
    a, b = files
    r = invoke(runner, "--matrix", a, "--matrix", b, "--years", "2000,2005,2015", "--gain", "Urban", "--format",
               "json", "--report", "intensity")
    recs = json.loads(r.output)
    assert {x["category"] for x in recs if x["level"] == "transition" and x["direction"] == "gain"} == {"Urban"}
    r = invoke(runner, "--matrix", a, "--matrix", b, "--years", "2000,2005,2015", "--gain", "Water",
               "--report", "intensity")
    assert r.exit_code == 2 and "--gain: category 'Water' is not in the matrices" in r.output


@pytest.mark.parametrize("suffix", [".html", ".png"])
def test_pictures(runner, files, tmp_path, suffix):
    a, b = files
    out = tmp_path / f"ia{suffix}"
    r = invoke(runner, "--matrix", a, "--matrix", b, "--years", "2000,2005,2015", "--report", "intensity",
               "--plot", str(out), "--format", "csv")
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    if suffix == ".png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        text = data.decode("utf-8")
        assert "Cường độ biến động hằng năm theo khoảng thời gian" in text and "<script" not in text
        assert "2000 → 2005 → 2015" in text and "Cường độ chuyển sang" in text
        svgs = re.findall(r"<svg.*?</svg>", text, re.S)
        assert len(svgs) >= 6 and all(ET.fromstring(x).tag.endswith("svg") for x in svgs)  # well-formed
        assert "http" not in text.replace("http://www.w3.org/2000/svg", "")              # self-contained
    r = invoke(runner, "--matrix", a, "--matrix", b, "--years", "2000,2005,2015", "--plot", str(out))
    assert r.exit_code == 2 and "exists" in r.output                     # never replaced without --force


def test_english_labels(runner, files, tmp_path):
    a, b = files
    out = tmp_path / "ia.html"
    r = invoke(runner, "--matrix", a, "--matrix", b, "--years", "2000,2005,2015", "--plot", str(out), "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "Annual change intensity by time interval" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (["--years", "2000,2005"], r"years: 2 years for 2 matrices"),
    (["--years", "2000,2005,2005"], r"b\.csv: years: zero-length interval 2005-2005"),
    (["--years", "2005,2000,2015"], r"a\.csv: years: years not increasing"),
])
def test_bad_years_cli(runner, files, args, message):
    a, b = files
    r = invoke(runner, "--matrix", a, "--matrix", b, *args)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert re.search(message, r.output), r.output


@pytest.mark.parametrize(("second", "message"), [
    (WIDE_2.replace("Urban", "Built"), r"category 'Urban' of .*a\.csv is not in .*b\.csv"),
    (WIDE_2.replace("Crop,0,30,0", "Crop,0,-30,0"), r"b\.csv:row 3:column C3 \(Crop\): negative area"),
    (WIDE_2.replace("Crop,0,30,0", "Crop,0,x,0"), r"b\.csv:row 3:column C3 \(Crop\): not a number"),
    (WIDE_1.replace("Crop,5,20,5,30", "Crop,5,20,5,35"), r"b\.csv:row 3:column E3 \(total\): the row's total"),
    (WIDE_2.replace("Crop,0,30,0", "Crop,0,40,0"), r"b\.csv:row 3: start size of 'Crop' differs"),
])
def test_bad_matrix_cli(runner, tmp_path, second, message):
    a = write(tmp_path / "a.csv", WIDE_1)
    b = write(tmp_path / "b.csv", second)
    r = invoke(runner, "--matrix", str(a), "--matrix", str(b), "--years", "2000,2005,2015")
    assert r.exit_code == 2 and "Traceback" not in r.output and re.search(message, r.output), r.output


def test_bad_flag_combinations(runner, files):
    a, _ = files
    r = invoke(runner, "--matrix", a)
    assert r.exit_code == 2 and "--years" in r.output
    r = invoke(runner, "--matrix", a, "--years", "2000,2005", "--interval-years", "5")
    assert r.exit_code == 2 and "do not combine" in r.output
    r = invoke(runner, "--report", "stationarity")
    assert r.exit_code == 2 and "needs --years" in r.output


def test_bad_matrix_subprocess(tmp_path):
    a = write(tmp_path / "a.csv", WIDE_1.replace("Crop,5,20", "Crop,5,-1"))
    p = subprocess.run([sys.executable, "-m", "landuse", "transitions", "--matrix", str(a), "--years", "2000,2005"],
                       capture_output=True, text=True, encoding="utf-8")
    assert p.returncode == 2 and p.stdout == "" and "Traceback" not in p.stderr
    assert "a.csv:row 3:column C3 (Crop): negative area" in p.stderr


def test_estimate_bundled_two_intervals(runner):
    r = invoke(runner, "--estimate", "--years", "2014,2019,2024", "--report", "intensity", "--format", "json")
    assert r.exit_code == 0, r.output
    recs = json.loads(r.output)
    assert {x["status"] for x in recs} == {"estimated"}
    iv = {x["interval"]: x for x in recs if x["level"] == "interval"}
    assert set(iv) == {"2014-2019", "2019-2024", "all"}
    # U is the duration-weighted mean of S_t: two 5-year intervals over (almost) the same extent
    w = [iv[k]["size"] * iv[k]["duration_years"] for k in ("2014-2019", "2019-2024")]
    assert iv["all"][X] == pytest.approx((iv["2014-2019"][X] * w[0] + iv["2019-2024"][X] * w[1]) / sum(w))
    # a category's gain intensity is 100 × gain / (5 years × end size), checked on the rows' own areas
    rsx = next(x for x in recs if x["level"] == "category" and x["category"] == "RSX" and x["direction"] == "gain"
               and x["interval"] == "2019-2024")
    assert rsx[X] == pytest.approx(100 * rsx["change"] / (5 * rsx["size"])) and rsx["name"] == "Đất rừng sản xuất"


def test_estimate_wrong_year(runner):
    r = invoke(runner, "--estimate", "--years", "2014,2020")
    assert r.exit_code == 2 and "years: no inventory for year 2020" in r.output
    r = invoke(runner, "--estimate", "--years", "2019")
    assert r.exit_code == 2 and "years: one interval needs two years" in r.output


def test_run_step_writes_tables_and_pictures(langson, tmp_path):
    from landuse.pipeline import STEP_NAMES, Results, output_files, step_intensity

    assert "intensity" in STEP_NAMES
    results = Results(langson, png=True)
    step_intensity(results)
    for name, writer in output_files(results):
        if name.startswith("cuong_do"):
            writer(tmp_path / name)
    assert {p.name for p in tmp_path.iterdir()} == {"cuong_do_bien_dong.csv", "cuong_do_bien_dong_on_dinh.csv",
                                                    "cuong_do_bien_dong.html", "cuong_do_bien_dong.png"}
    t = pd.read_csv(tmp_path / "cuong_do_bien_dong.csv", keep_default_na=False)
    assert set(t["interval"]) == {"2014-2019", "2019-2024", "all"} and set(t["status"]) == {"estimated"}
    assert "(ước tính)" in (tmp_path / "cuong_do_bien_dong.html").read_text(encoding="utf-8")
    assert results.intensity.estimated
    results.png = False  # landuse run without --png: the HTML charts only
    assert {n for n, _ in output_files(results) if n.startswith("cuong_do")} == {
        "cuong_do_bien_dong.csv", "cuong_do_bien_dong_on_dinh.csv", "cuong_do_bien_dong.html"}


def test_estimate_subprocess_json():
    p = subprocess.run([sys.executable, "-m", "landuse", "transitions", "--estimate", "--years", "2014,2019,2024",
                        "--report", "stationarity", "--format", "json"], capture_output=True, text=True,
                       encoding="utf-8")
    assert p.returncode == 0, p.stderr
    recs = json.loads(p.stdout)
    assert {x["status"] for x in recs} == {"estimated"} and {x["intervals"] for x in recs} == {2}
    for x in recs:  # above + below never exceed the intervals; stationary means one side holds all of them
        assert x["above"] + x["below"] <= 2
        assert (x["stationary"] == "yes") == (2 in (x["above"], x["below"]))


def test_05tkkk_cli_names(runner, tmp_path):
    from tests.test_matrix import TKKK

    p = write(tmp_path / "05.csv", TKKK)
    r = invoke(runner, "--matrix", str(p), "--years", "2019,2024", "--report", "intensity", "--format", "json")
    assert r.exit_code == 0, r.output
    recs = json.loads(r.output)
    ont = next(x for x in recs if x["level"] == "category" and x["category"] == "ONT" and x["direction"] == "gain")
    # on the square part (giảm/tăng khác left out): ONT ends with 10 + 10 + 20 = 40, of which 20 gained
    assert ont[X] == pytest.approx(100 * 20 / (5 * 40)) and ont["name"] == "Đất ở tại nông thôn"
