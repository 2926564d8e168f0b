"""The command line: `landuse info`, `landuse run`, and exit code 2 with one clear line on bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from landuse.cli import main
from tests.conftest import MINI, write


@pytest.fixture
def runner():
    return CliRunner()


def test_version_and_help(runner):
    assert runner.invoke(main, ["--version"]).output.startswith("landuse, version")
    out = runner.invoke(main, ["--help"]).output
    assert "info" in out and "run" in out


def test_every_command_has_help_text():
    for name, cmd in main.commands.items():
        assert cmd.help and len(cmd.help.strip()) > 10, name


def test_info_langson_totals(runner):
    r = runner.invoke(main, ["info"])
    assert r.exit_code == 0, r.output
    lines = {ln.split()[2]: ln for ln in r.output.splitlines() if ln.strip().startswith("Lạng Sơn")}
    # Bảng 3 (l.4473-4730) and Bảng 2: TS, NNP, PNN, CSD per year, as printed
    assert "831,009 688,355 48,001 94,653" in lines["2014"]
    assert "831,018 719,722 51,312 59,985" in lines["2019"]
    assert "830,732 737,373 53,842 39,516" in lines["2024"]


def test_info_json(runner):
    r = runner.invoke(main, ["info", "--format", "json"])
    rows = json.loads(r.output)
    assert [(x["year"], x["TS"]) for x in rows] == [(2014, 831009), (2019, 831018), (2024, 830732)]


def test_info_other_dataset(runner):
    r = runner.invoke(main, ["info", "--data", str(MINI), "--format", "csv"])
    assert r.exit_code == 0
    assert "Tỉnh Mẫu,2019,10610.0,8670.0,840.0,1100.0" in r.output


def test_bad_input_exit_2_one_line(runner, mini_copy):
    write(mini_copy / "inventory.csv", "unit,year,code,area_ha\nA,2024,LUC,10\nA,2024,LUC,-1\n")
    r = runner.invoke(main, ["info", "--data", str(mini_copy)])
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert "inventory.csv:row 3:column area_ha: negative area" in r.output


def test_malformed_manifest(runner, mini_copy):
    write(mini_copy / "manifest.toml", "[dataset]\nname = \"x\n")
    r = runner.invoke(main, ["info", "--data", str(mini_copy)])
    assert r.exit_code == 2 and "manifest.toml:row 2" in r.output and "malformed TOML" in r.output


def test_run_writes_nothing_when_loading_fails(runner, mini_copy, tmp_path):
    write(mini_copy / "inventory.csv", "unit,year,code,area_ha\nA,2024,XYZ,10\n")
    out = tmp_path / "out"
    r = runner.invoke(main, ["run", "--data", str(mini_copy), "--out", str(out)])
    assert r.exit_code == 2 and "unknown land code 'XYZ'" in r.output
    assert not out.exists()


def test_run_refuses_foreign_folder(runner, tmp_path):
    out = tmp_path / "mine"
    write(out / "notes.txt", "a user's file")
    r = runner.invoke(main, ["run", "--data", str(MINI), "--out", str(out)])
    assert r.exit_code == 2 and "did not write" in r.output
    assert (out / "notes.txt").read_text() == "a user's file"


def test_out_file_is_not_overwritten(runner, tmp_path):
    target = write(tmp_path / "mine.csv", "precious")
    r = runner.invoke(main, ["info", "--format", "csv", "--out", str(target)])
    assert r.exit_code == 2 and "refusing to overwrite" in r.output
    assert target.read_text() == "precious"
    r = runner.invoke(main, ["info", "--format", "csv", "--out", str(target), "--force"])
    assert r.exit_code == 0 and target.read_text().startswith("unit,year")


def test_info_sums_units(runner, mini_copy):
    inv = (mini_copy / "inventory.csv").read_text(encoding="utf-8")
    body = inv.split("\n", 1)[1]
    write(mini_copy / "inventory.csv", inv + body.replace("Tỉnh Mẫu", "Xã Hai"))
    r = runner.invoke(main, ["info", "--data", str(mini_copy), "--format", "json"])
    rows = json.loads(r.output)
    assert [(x["unit"], x["year"], x["TS"]) for x in rows] == [("(2 units)", 2019, 21220), ("(2 units)", 2024, 21220)]
    r = runner.invoke(main, ["info", "--data", str(mini_copy), "--format", "json", "--by-unit"])
    assert len(json.loads(r.output)) == 4
