"""The Vietnamese workbook and terminal: findings in words from their fields, ``--lang vi|en`` with numbers in
the language's format in ``table`` output (csv / json stay machine numbers)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from landuse.cli import main
from landuse.excel.workbook import Parts
from landuse.pipeline import build_tables
from landuse.wording import CHECK_NAMES, finding_message, number


@pytest.fixture(scope="module")
def findings(langson):
    from landuse.reconcile import reconcile

    return reconcile(langson)


def one(findings, check, source, code, column):
    hit = findings[(findings["check"] == check) & (findings["source"] == source) & (findings["row"] == code)
                   & (findings["column"] == column)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_numbers_in_vietnamese():
    assert [number(719739.0), number(2.14), number(-1072.0), number(None)] == ["719.739", "2,14", "-1.072", "-"]
    assert number(719739.0, "en") == "719,739"


def test_hierarchy_finding_names_the_quantity(langson, findings):
    """Bảng 3 l.4548 prints DSN 2014 = 904; its parts (l.4550-4568) add to 865."""
    msg = finding_message(langson, one(findings, "hierarchy", "bang3", "DSN", "(3)"), "vi")
    assert msg == ("Bảng 3, dòng 4548: diện tích năm 2014 của DSN (Đất xây dựng công trình sự nghiệp) in 904, "
                   "tổng các thành phần là 865 (chênh lệch 39 ha)")


def test_blank_operand_names_the_blank_quantity_not_only_its_number(langson, findings):
    """Bảng 4 l.5296 TSC: the approved plan (4) is blank, yet (6)=(4)-(3) is printed (-173 = 0 - 173)."""
    msg = finding_message(langson, one(findings, "blank-operand", "bang4", "TSC", "(6)"), "vi")
    assert "in -173 dù phương án được duyệt (QĐ 236/QĐ-TTg) (4) để trống" in msg
    ratio = finding_message(langson, one(findings, "blank-operand", "bang4", "TSC", "(8)"), "vi")
    assert ratio.startswith("Bảng 4, dòng 5296: tỷ lệ thực hiện (8)=(7)/(6)*100")


def test_cross_table_finding_names_the_other_print(langson, findings):
    """NNP 2020: Bảng 26 (4) l.23391 prints 719.739, Bảng 4 (3) l.5270 prints 719.744."""
    msg = finding_message(langson, one(findings, "cross-table", "bang26", "NNP", "(4)"), "vi")
    assert "Bảng 26, dòng 23391 cột (4) in 719.739" in msg and "Bảng 4 cột (3) in 719.744" in msg


def test_english_keeps_the_checks_message(langson, findings):
    row = findings.iloc[0]
    assert finding_message(langson, row, "en") == row["message"]


ENGLISH = ("printed", "blank", "the sum of", "prints", "is not in", "gives", "parts", "rounding")


def test_checks_sheet_is_vietnamese(tmp_path, langson, findings):
    path = build_tables(langson, tmp_path / "vi.xlsx", results=Parts(findings=findings))
    ws = openpyxl.load_workbook(path.path)["Kiểm tra"]
    head = {c.value: c.column for c in ws[2]}
    rows = range(3, ws.max_row + 1)
    messages = [ws.cell(r, head["Nội dung"]).value for r in rows]
    checks = {ws.cell(r, head["Kiểm tra"]).value for r in rows}
    assert len(messages) == len(findings) == 137
    assert checks <= {vi for vi, _ in CHECK_NAMES.values()}
    assert not [m for m in messages if any(w in m for w in ENGLISH)]
    cols = {ws.cell(r, head["Cột"]).value for r in rows}
    assert "(4) diện tích năm 2020" in cols and "(8) tỷ lệ thực hiện" in cols
    assert {ws.cell(r, head["Nguồn"]).value for r in rows} >= {"Bảng 2", "Bảng 3", "Bảng 4", "Bảng 26"}
    assert ws.page_setup.paperSize == 8  # A3: the long messages print at a readable size


# ---- --lang on the commands that print tables ----------------------------------------------------------------
def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "landuse", *args], capture_output=True, text=True, timeout=300)


def test_info_lang_vi_numbers():
    """Bảng 3: TS 2014 = 831.009 ha; NNP share 2014 = 688.355 / 831.009 = 82,83 %."""
    for out in (CliRunner().invoke(main, ["info", "--lang", "vi"]).output, run("info", "--lang", "vi").stdout):
        assert "831.009" in out and "82,83" in out and "831,009" not in out
    en = run("info").stdout
    assert "831,009" in en and "82.83" in en  # the default output is unchanged
    csv = pd.read_csv(__import__("io").StringIO(run("info", "--lang", "vi", "--format", "csv").stdout))
    assert csv.loc[csv["year"] == 2014, "TS"].iloc[0] == 831009  # machine numbers whatever the language


def test_reconcile_lang_vi():
    r = CliRunner().invoke(main, ["reconcile", "--lang", "vi"])
    assert r.exit_code == 0 and "Tổng các thành phần" in r.output and "diện tích năm 2014" in r.output
    p = run("reconcile", "--lang", "vi")
    assert p.returncode == 0 and "Bảng 3, dòng 4548: diện tích năm 2014" in p.stdout
    recs = json.loads(run("reconcile", "--lang", "vi", "--format", "json").stdout)
    assert {r["check"] for r in recs} <= set(CHECK_NAMES)  # json keeps the keys


def test_fulfilment_lang_vi():
    """Bảng 4 NNP: plan 718.672 − 2020 719.744 = −1.072 ha planned."""
    for out in (CliRunner().invoke(main, ["fulfilment", "--lang", "vi"]).output,
                run("fulfilment", "--lang", "vi").stdout):
        assert "-1.072,00" in out and "719.744,00" in out


def test_allocate_lang_vi():
    """The start area of NNP as Bảng 2 prints it: 737.373."""
    r = CliRunner().invoke(main, ["allocate", "--lang", "vi"])
    assert r.exit_code == 0 and "737.373" in r.output and "737,373" not in r.output
    p = run("allocate", "--lang", "vi")
    assert p.returncode == 0 and "737.373" in p.stdout


def test_compare_lang_vi():
    """default against itself: the areas of NNP in 2030 side by side, in Vietnamese number format."""
    r = CliRunner().invoke(main, ["compare", "default", "default", "--lang", "vi"])
    assert r.exit_code == 0
    row = next(line for line in r.output.splitlines() if " NNP " in f" {line} ")
    assert re.search(r"\d{3}\.\d{3},\d{2}", row) and not re.search(r"\d,\d{3}\.", row)
