"""The bad-input corpus: every input the tool reads, each bad in one way, through the command line.

Each case builds its files in ``tmp_path``, runs one command line through :class:`click.testing.CliRunner` and
checks the exit code and a fragment of the message (file, row/line, key or what was expected). A few cases
also run as a real subprocess, which must exit with the same code and never print a traceback. The numbers
and texts of the files are written here; the expected messages name what the file shows (e.g. ``0.500``
cannot be a Vietnamese integer because a thousands group follows a non-zero leading group).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from landuse.cli import main
from tests.bad_input_files import (
    MINI_INV,
    PLOTS_HEAD,
    TREE,
    TREE_HEAD,
    VI_INV,
    alloc,
    append,
    cp1258,
    dataset,
    form,
    fulfil,
    inv_row,
    manifest_only,
    missing_inventory,
    mkdir,
    parquet,
    plots,
    reencode,
    replace,
    scenario,
    tree,
    unit_costs,
    unit_rows,
    write_bytes,
    xlsx,
)
from tests.conftest import ratio_province, write


# ---- the cases -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], list[str]]  # writes the files into tmp_path, returns the command line
    code: int
    fragment: str  # a regular expression searched in the output (stderr and stdout)


def info(root: Path, *opts: str) -> list[str]:
    return ["info", "--data", str(root), *opts]


CASES = [
    # -- §3 numbers in dataset files ------------------------------------------------------------------------------
    Case(
        "vi-0.500-is-not-an-integer",
        lambda d: info(dataset(d, inv_row(VI_INV, "LUC", "0.500"), "vi")),
        2,
        r"inventory\.csv:row \d+:column area_ha.*'0\.500'",
    ),
    Case("en-0,500-is-not-an-integer", lambda d: info(dataset(d, inv_row(MINI_INV, "LUC", '"0,500"'))), 2, r"'0,500'"),
    Case(
        "bundled-data-read-as-en",
        lambda d: ["info", "--number-format", "en"],
        2,
        r"inventory\.csv.*'831\.009'.*--number-format vi",
    ),
    Case(
        "english-reexport-under-vi-manifest",
        lambda d: info(dataset(d, MINI_INV, "vi")),
        2,
        r"'10,610'.*English thousands grouping.*--number-format en",
    ),
    Case(
        "english-reexport-under-vi-option",
        lambda d: info(dataset(d), "--number-format", "vi"),
        2,
        r"English thousands grouping.*--number-format en",
    ),
    Case(
        "88,76-cannot-be-english",
        lambda d: info(dataset(d, inv_row(VI_INV, "LUC", '"88,76"'), "vi"), "--number-format", "en"),
        2,
        r"'88,76' cannot be a number in English",
    ),
    Case(
        "nan-text-is-not-blank",
        lambda d: info(dataset(d, inv_row(MINI_INV, "LUC", "NaN"))),
        2,
        r"column area_ha: not a number.*'NaN'",
    ),
    Case("none-text-is-not-blank", lambda d: info(dataset(d, inv_row(MINI_INV, "LUC", "None"))), 2, r"'None'"),
    Case("inf-text", lambda d: info(dataset(d, inv_row(MINI_INV, "LUC", "inf"))), 2, r"not a number.*'inf'"),
    Case("minus-inf-text", lambda d: info(dataset(d, inv_row(MINI_INV, "LUC", "-inf"))), 2, r"'-inf'"),
    Case("exponent-text", lambda d: info(dataset(d, inv_row(MINI_INV, "LUC", "1e999"))), 2, r"'1e999'"),
    Case("vi-bad-grouping", lambda d: info(dataset(d, inv_row(VI_INV, "LUC", "1.234.56"), "vi")), 2, r"'1\.234\.56'"),
    Case("en-two-decimal-commas", lambda d: info(dataset(d, inv_row(MINI_INV, "LUC", '"12,5,3"'))), 2, r"'12,5,3'"),
    Case(
        "auto-only-ambiguous",
        lambda d: info(dataset(d, MINI_INV, "auto")),
        2,
        r"cannot tell whether '10,610' is thousands or decimals",
    ),
    Case(
        "auto-mixed-formats",
        lambda d: info(dataset(d, inv_row(inv_row(MINI_INV, "LUC", '"5,27"'), "SKK", "5.5"), "auto")),
        2,
        r"mixes Vietnamese \('5,27'\) and English \('5\.5'\)",
    ),
    Case("negative-area", lambda d: info(dataset(d, inv_row(MINI_INV, "LUC", "-5"))), 2, r"negative area"),
    Case(
        "duplicate-key",
        lambda d: info(dataset(d, MINI_INV + "Tỉnh Mẫu,2024,LUC,500\n")),
        2,
        r"duplicate \(unit, year, code\)",
    ),
    Case(
        "unknown-code",
        lambda d: info(dataset(d, MINI_INV + "Tỉnh Mẫu,2024,LUX,5\n")),
        2,
        r"unknown land code 'LUX'.*did you mean",
    ),
    Case(
        "missing-column",
        lambda d: info(dataset(d, "unit,year,code\nX,2024,TS\n")),
        2,
        r"missing required column 'area_ha'",
    ),
    Case("empty-file", lambda d: info(dataset(d, "")), 2, r"inventory\.csv: the file is empty"),
    Case("header-only", lambda d: info(dataset(d, "unit,year,code,area_ha\n")), 2, r"no data rows"),
    Case(
        "bad-year",
        lambda d: info(dataset(d, MINI_INV.replace("Tỉnh Mẫu,2024,LUC", "Tỉnh Mẫu,20x4,LUC"))),
        2,
        r"column year: not a year",
    ),
    Case(
        "bad-byte-after-utf8-bom",
        lambda d: info(dataset(d, b"\xef\xbb\xbf" + MINI_INV.encode() + b"X,2024,LUC,\xff\n")),
        2,
        r"inventory\.csv:row 72: cannot decode the file.*0xff",
    ),
    Case(
        "odd-length-utf16",
        lambda d: info(dataset(d, MINI_INV.encode("utf-16") + b"\x00")),
        2,
        r"inventory\.csv.*cannot decode the file.*odd number of bytes",
    ),
    Case(
        "bad-utf8-byte",
        lambda d: info(dataset(d, MINI_INV.encode() + b"X,2024,LUC,5\xe1\n")),
        2,
        r"inventory\.csv:row 72: invalid UTF-8 byte",
    ),
    Case(
        "xlsx-uncached-formula",
        lambda d: info(
            dataset(
                d,
                inv_name="inventory.xlsx",
                inventory=xlsx(
                    d / "x.xlsx",
                    [["unit", "year", "code", "area_ha"], ["X", 2024, "TS", 10], ["X", 2024, "NNP", None]],
                    formula="D3:=D2*0.5",
                ).read_bytes(),
            )
        ),
        2,
        r"inventory\.xlsx:Sheet:row 3:column D3: formula cell D3 has no saved value.*open and save it in Excel",
    ),
    Case(
        "xlsx-nan-text",
        lambda d: info(
            dataset(
                d,
                inv_name="inventory.xlsx",
                inventory=xlsx(
                    d / "x.xlsx", [["unit", "year", "code", "area_ha"], ["X", 2024, "TS", "NaN"]]
                ).read_bytes(),
            )
        ),
        2,
        r"inventory\.xlsx:row 2:column area_ha: not a number",
    ),
    Case("inventory-not-found", lambda d: info(missing_inventory(d)), 2, r"gone\.csv: file not found"),
    Case(
        "malformed-csv",
        lambda d: info(dataset(d, 'unit,year,code,area_ha\nX,2024,TS,"10\nX,2024,A,1,2,3\n')),
        2,
        r"inventory\.csv",
    ),
    # -- §4 manifest ----------------------------------------------------------------------------------------------
    Case(
        "manifest-key-typo-pln",
        lambda d: info(dataset(d, extra='[fulfilment]\npln = "p"\n')),
        2,
        r"fulfilment\.pln: unknown key pln in \[fulfilment\]; did you mean 'plan'",
    ),
    Case(
        "manifest-section-typo",
        lambda d: info(dataset(d, extra='[fulfilmnet]\nplan = "p"\n')),
        2,
        r"unknown key fulfilmnet; did you mean 'fulfilment'",
    ),
    Case(
        "manifest-dataset-key-typo",
        lambda d: info(dataset(d, dataset_keys='numberformat = "vi"')),
        2,
        r"dataset\.numberformat: unknown key numberformat.*did you mean 'number_format'",
    ),
    Case(
        "manifest-file-key-typo",
        lambda d: info(dataset(d, inv_keys='layuot = "long"')),
        2,
        r"files\.inventory\.layuot.*did you mean 'layout'",
    ),
    Case(
        "manifest-plan-key-typo",
        lambda d: info(dataset(d, extra='[plans.p]\ntabel = "t"\n')),
        2,
        r"plans\.p\.tabel.*did you mean 'table'",
    ),
    Case(
        "manifest-table-column-key-typo",
        lambda d: info(dataset(d, extra='[tables.t]\npath = "t.csv"\ncolumns = [{ id = "c4", knd = "value" }]\n')),
        2,
        r"tables\.t\.columns\[0\]\.knd.*did you mean 'kind'",
    ),
    Case(
        "manifest-utf16",
        lambda d: info(reencode(dataset(d), "manifest.toml", "utf-16")),
        2,
        r"manifest\.toml:row 1: the file is UTF-16 text.*UTF-8",
    ),
    Case(
        "manifest-cp1258",
        lambda d: info(reencode(dataset(d), "manifest.toml", "cp1258")),
        2,
        r"manifest\.toml:row 2: byte 0x[0-9a-f]{2} is not UTF-8",
    ),
    Case(
        "manifest-malformed",
        lambda d: info(append(dataset(d), "manifest.toml", "[dataset\n")),
        2,
        r"manifest\.toml:row \d+.*malformed TOML",
    ),
    Case("manifest-number-format", lambda d: info(dataset(d, fmt="fr")), 2, r"dataset\.number_format.*'fr'"),
    Case("manifest-years-type", lambda d: info(dataset(d, dataset_keys='years = "2024"')), 2, r"dataset\.years"),
    Case("manifest-missing", lambda d: info(mkdir(d / "empty")), 2, r"no manifest\.toml"),
    Case("dataset-folder-missing", lambda d: info(d / "nowhere"), 2, r"dataset folder not found"),
    Case(
        "manifest-no-inventory", lambda d: info(manifest_only(d, '[dataset]\nname = "X"\n')), 2, r"names no inventory"
    ),
    Case(
        "manifest-unknown-classification",
        lambda d: info(replace(dataset(d), "manifest.toml", '"vn2024"', '"vn1999"')),
        2,
        r"classification 'vn1999' not found",
    ),
    Case(
        "manifest-unknown-layout",
        lambda d: info(dataset(d, inv_keys='layout = "wide"')),
        2,
        r"files\.inventory\.layout.*'wide'",
    ),
    # -- §4 classification ----------------------------------------------------------------------------------------
    Case(
        "classification-own-parent",
        lambda d: info(tree(d, "TS,,root,0,,T,T,\nA,A,part,1,1,A,A,A\nB,TS,part,1,2,B,B,B\n")),
        2,
        r"tiny\.csv:row 3:column parent: code 'A' is its own parent",
    ),
    Case(
        "classification-cycle",
        lambda d: info(tree(d, "TS,,root,0,,T,T,\nA,B,part,1,1,A,A,A\nB,A,part,1,2,B,B,B\n")),
        2,
        r"tiny\.csv:row \d:column parent: cycle in the parents: (A -> B -> A|B -> A -> B)",
    ),
    Case(
        "classification-long-cycle",
        lambda d: info(tree(d, "TS,,root,0,,T,T,\nA,C,part,1,1,A,A,A\nB,A,part,2,2,B,B,B\nC,B,part,3,3,C,C,C\n")),
        2,
        r"cycle in the parents",
    ),
    Case(
        "classification-root-with-parent",
        lambda d: info(tree(d, "TS,A,root,0,,T,T,\nA,TS,part,1,1,A,A,A\nB,TS,part,1,2,B,B,B\n")),
        2,
        r"tiny\.csv:row 2:column parent: the root 'TS' has a parent",
    ),
    Case(
        "classification-unknown-parent",
        lambda d: info(tree(d, "TS,,root,0,,T,T,\nA,TS,part,1,1,A,A,A\nB,Z,part,1,2,B,B,B\n")),
        2,
        r"tiny\.csv:row 4:column parent: parent 'Z'",
    ),
    Case(
        "classification-duplicate-code",
        lambda d: info(tree(d, "TS,,root,0,,T,T,\nA,TS,part,1,1,A,A,A\nA,TS,part,1,2,B,B,B\n")),
        2,
        r"tiny\.csv:row 4:column code: code 'A' defined twice",
    ),
    Case(
        "classification-unknown-relation",
        lambda d: info(tree(d, "TS,,root,0,,T,T,\nA,TS,sum,1,1,A,A,A\n")),
        2,
        r"tiny\.csv:row 3:column relation: unknown relation",
    ),
    Case(
        "classification-two-roots",
        lambda d: info(tree(d, "TS,,root,0,,T,T,\nA,,root,0,1,A,A,A\n")),
        2,
        r"exactly one root",
    ),
    Case(
        "classification-missing-column",
        lambda d: info(replace(tree(d, "TS,,root,0,,T,T,\n"), "classification/tiny.csv", ",group", "")),
        2,
        r"tiny\.csv:row 1: missing column 'group'",
    ),
    Case(
        "classification-no-parent",
        lambda d: info(tree(d, "TS,,root,0,,T,T,\nA,,part,1,1,A,A,A\n")),
        2,
        r"code 'A' has no parent",
    ),
    Case(
        "classification-odd-utf16",
        lambda d: info(reencode(tree(d, TREE[len(TREE_HEAD) :]), "classification/tiny.csv", "utf-16", b"\x00")),
        2,
        r"tiny\.csv.*odd number of bytes",
    ),
    # -- §3 plot files -----------------------------------------------------------------------------------------
    Case(
        "plots-vi-0.500",
        lambda d: ["transitions", str(plots(d, "1.500", "0.500", "2.000")), "--number-format", "vi"],
        2,
        r"plots\.csv:row 3:column area_ha: '0\.500' cannot be a number in Vietnamese",
    ),
    Case(
        "plots-nan-text",
        lambda d: ["transitions", str(plots(d, "1.5", "NaN"))],
        2,
        r"plots\.csv:row 3:column area_ha: not a number.*'NaN'",
    ),
    Case("plots-inf-text", lambda d: ["transitions", str(plots(d, "1.5", "inf"))], 2, r"row 3.*'inf'"),
    Case(
        "plots-parquet-inf",
        lambda d: ["transitions", str(parquet(d / "p.parquet", [1.5, float("inf")]))],
        2,
        r"p\.parquet:row 3:column area_ha: not a finite number",
    ),
    Case(
        "plots-parquet-nan",
        lambda d: ["transitions", str(parquet(d / "p.parquet", [1.5, float("nan")]))],
        2,
        r"p\.parquet:row 3:column area_ha: missing area",
    ),
    Case(
        "plots-xlsx-uncached-formula",
        lambda d: [
            "transitions",
            str(
                xlsx(
                    d / "p.xlsx",
                    [
                        ["plot_id", "unit", "code_from", "code_to", "area_ha"],
                        [1, "X", "LUC", "SKK", 1.5],
                        [2, "X", "LUC", "SKK", None],
                    ],
                    formula="E3:=E2*2",
                )
            ),
        ],
        2,
        r"p\.xlsx.*E3.*open and save it",
    ),
    Case(
        "plots-xlsx-nan-text",
        lambda d: [
            "transitions",
            str(
                xlsx(
                    d / "p.xlsx",
                    [["plot_id", "unit", "code_from", "code_to", "area_ha"], [1, "X", "LUC", "SKK", "nan"]],
                )
            ),
        ],
        2,
        r"p\.xlsx:row 2:column area_ha: not a number",
    ),
    Case("plots-blank-area", lambda d: ["transitions", str(plots(d, "1.5", ""))], 2, r"row 3:column area_ha: missing"),
    Case("plots-negative", lambda d: ["transitions", str(plots(d, "1.5", "-2"))], 2, r"row 3.*negative area"),
    Case(
        "plots-duplicate-id",
        lambda d: ["transitions", str(write(d / "p.csv", PLOTS_HEAD + "1,X,LUC,SKK,1\n1,X,LUC,SKK,2\n"))],
        2,
        r"p\.csv:row 3:column plot_id: plot_id '1' occurs twice",
    ),
    Case(
        "plots-missing-column",
        lambda d: ["transitions", str(write(d / "p.csv", "plot_id,code_from,area_ha\n1,LUC,1\n"))],
        2,
        r"missing required column 'code_to'",
    ),
    Case(
        "plots-unknown-code",
        lambda d: ["transitions", str(write(d / "p.csv", PLOTS_HEAD + "1,X,LUC,XYZ,1\n"))],
        2,
        r"p\.csv:row 2.*'XYZ'",
    ),
    Case(
        "plots-en-grouping-under-vi",
        lambda d: ["transitions", str(plots(d, "1,500", "2,250", "3,125")), "--number-format", "vi"],
        2,
        r"English thousands grouping.*--number-format en",
    ),
    Case(
        "plots-vi-decimal-under-en",
        lambda d: ["transitions", str(plots(d, "88,76", "1")), "--number-format", "en"],
        2,
        r"'88,76' cannot be a number in English",
    ),
    Case(
        "plots-auto-ambiguous",
        lambda d: ["transitions", str(plots(d, "1,500", "2"))],
        2,
        r"row 2:column area_ha: cannot tell whether '1,500'",
    ),
    Case("plots-empty", lambda d: ["transitions", str(write(d / "p.csv", ""))], 2, r"p\.csv: the file is empty"),
    Case(
        "plots-bad-byte-after-bom",
        lambda d: [
            "transitions",
            str(
                write_bytes(
                    d / "p.csv", b"\xef\xbb\xbf" + (PLOTS_HEAD + "1,X,LUC,SKK,1\n").encode() + b"2,X,LUC,SKK,\xff\n"
                )
            ),
        ],
        2,
        r"p\.csv:row 3: cannot decode",
    ),
    # -- §4 scenarios --------------------------------------------------------------------------------------------
    Case(
        "scenario-inf-target",
        lambda d: alloc(d, scenario(d, "[targets]\nSKK = inf\n")),
        2,
        r"s\.toml:row 4:column targets\.SKK: targets\.SKK is out of range \(not a finite number\)",
    ),
    Case(
        "scenario-nan-target",
        lambda d: alloc(d, scenario(d, "[targets]\nSKK = nan\n")),
        2,
        r"targets\.SKK is out of range \(not a finite number\)",
    ),
    Case(
        "scenario-inf-weight",
        lambda d: alloc(d, scenario(d, "[weights]\nSKK = inf\n")),
        2,
        r"weights\.SKK is out of range \(not a finite number\)",
    ),
    Case(
        "scenario-inf-default-weight",
        lambda d: alloc(d, scenario(d, "[weights]\nleaf = inf\n")),
        2,
        r"weights\.leaf is out of range \(not a finite number\)",
    ),
    Case(
        "scenario-inf-bound",
        lambda d: alloc(d, scenario(d, "[bounds.max]\nSKK = inf\n")),
        2,
        r"bounds\.max\.SKK is out of range \(not a finite number\)",
    ),
    Case(
        "scenario-inf-total",
        lambda d: alloc(d, scenario(d, "[total]\narea = inf\n")),
        2,
        r"total\.area is out of range \(not a finite number\)",
    ),
    Case(
        "scenario-nan-cost",
        lambda d: alloc(d, scenario(d, "[costs]\nscale = nan\n")),
        2,
        r"costs\.scale is out of range \(not a finite number\)",
    ),
    Case(
        "scenario-target-before-start",
        lambda d: alloc(d, write(d / "s.toml", "[period]\ntarget_year = 2020\n")),
        2,
        r"s\.toml:row 2:column period\.target_year: the target year 2020 is before the start year 2024",
    ),
    Case(
        "scenario-protect-of-which",
        lambda d: alloc(d, scenario(d, '[protect]\ncodes = ["RSN"]\n')),
        2,
        r"protect\.codes: RSN is an of-which row",
    ),
    Case(
        "scenario-utf16",
        lambda d: alloc(d, write_bytes(d / "s.toml", "[targets]\nSKK = 5\n".encode("utf-16"))),
        2,
        r"s\.toml:row 1: the file is UTF-16 text",
    ),
    Case(
        "scenario-cp1258",
        lambda d: alloc(d, write_bytes(d / "s.toml", cp1258('[scenario]\nname = "Kịch bản"\n'))),
        2,
        r"s\.toml:row 2: byte 0x[0-9a-f]{2} is not UTF-8",
    ),
    Case(
        "scenario-section-typo",
        lambda d: alloc(d, scenario(d, "[target]\nSKK = 5\n")),
        2,
        r"unknown key 'target'; did you mean 'targets'",
    ),
    Case(
        "scenario-unknown-code", lambda d: alloc(d, scenario(d, "[targets]\nSKX = 5\n")), 2, r"unknown land code 'SKX'"
    ),
    Case(
        "scenario-share-above-1",
        lambda d: alloc(d, scenario(d, "[shares.max]\nSKK = 1.5\n")),
        2,
        r"shares\.max\.SKK.*between 0 and 1",
    ),
    Case(
        "scenario-min-above-max",
        lambda d: alloc(d, scenario(d, "[bounds.min]\nSKK = 50\n[bounds.max]\nSKK = 40\n")),
        2,
        r"bounds\.min SKK \(50\) is above bounds\.max SKK \(40\)",
    ),
    Case(
        "scenario-negative-bound",
        lambda d: alloc(d, scenario(d, "[bounds.min]\nSKK = -5\n")),
        2,
        r"bounds\.min\.SKK is out of range",
    ),
    Case(
        "scenario-start-year-unknown",
        lambda d: alloc(d, write(d / "s.toml", "[period]\nstart_year = 2023\n")),
        2,
        r"no inventory for start_year 2023",
    ),
    Case(
        "scenario-year-as-text",
        lambda d: alloc(d, write(d / "s.toml", '[period]\ntarget_year = "2030"\n')),
        2,
        r"period\.target_year must be a year",
    ),
    # -- §4 unit rows and unit costs -----------------------------------------------------------------------------
    Case(
        "unit-rows-duplicate-target",
        lambda d: unit_rows(d, "Xã An,SKK,target,30\nXã An,SKK,target,40\n"),
        2,
        r"u\.csv:row 3:column unit: duplicate row: unit 'Xã An', code 'SKK', kind 'target' is already given at row 2",
    ),
    Case(
        "unit-rows-duplicate-by-prefix",
        lambda d: unit_rows(d, "Xã An,SKK,target,30\nAn,SKK,target,40\n"),
        2,
        r"u\.csv:row 3.*duplicate row",
    ),
    Case(
        "unit-rows-unknown-unit",
        lambda d: unit_rows(d, "Xã Cư,SKK,min,30\n"),
        2,
        r"u\.csv:row 2:column unit: unit 'Xã Cư' is not in the inventory",
    ),
    Case("unit-rows-bad-kind", lambda d: unit_rows(d, "Xã An,SKK,least,30\n"), 2, r"column kind: unknown kind"),
    Case("unit-rows-blank-area", lambda d: unit_rows(d, "Xã An,SKK,min,\n"), 2, r"row 2:column area_ha: missing area"),
    Case("unit-rows-negative", lambda d: unit_rows(d, "Xã An,SKK,min,-3\n"), 2, r"negative area"),
    Case("unit-rows-of-which", lambda d: unit_rows(d, "Xã An,RSN,min,3\n"), 2, r"RSN cannot be allocated"),
    Case(
        "unit-rows-min-above-max",
        lambda d: unit_rows(d, "Xã An,SKK,min,30\nXã An,SKK,max,20\n"),
        2,
        r"minimum of SKK .* is above its maximum",
    ),
    Case("unit-rows-nan-text", lambda d: unit_rows(d, "Xã An,SKK,min,NaN\n"), 2, r"row 2:column area_ha: not a number"),
    Case(
        "unit-costs-duplicate",
        lambda d: unit_costs(d, "Xã An,LUC,2\nXã An,LUC,3\n"),
        2,
        r"c\.csv:row 3:column unit: duplicate row: unit 'Xã An', code 'LUC' is already given at row 2",
    ),
    Case("unit-costs-negative", lambda d: unit_costs(d, "Xã An,LUC,-2\n"), 2, r"row 2:column factor: bad cost factor"),
    Case("unit-costs-unknown-code", lambda d: unit_costs(d, "Xã An,LUX,2\n"), 2, r"unknown land code 'LUX'"),
    Case("unit-costs-inf", lambda d: unit_costs(d, "Xã An,LUC,inf\n"), 2, r"row 2:column factor: not a number"),
    # -- plan and status files -----------------------------------------------------------------------------------
    Case(
        "plan-file-not-a-number",
        lambda d: fulfil(d, "--plan-file", "code,year,area_ha\nLUC,2029,4x0\n"),
        2,
        r"f\.csv:row 2:column area_ha: not a number",
    ),
    Case(
        "plan-file-missing-column",
        lambda d: fulfil(d, "--plan-file", "code,area_ha\nLUC,460\n"),
        2,
        r"missing required column 'year'",
    ),
    Case(
        "plan-file-outside-period",
        lambda d: fulfil(d, "--plan-file", "code,year,area_ha\nLUC,2040,460\n"),
        2,
        r"outside the plan period",
    ),
    Case(
        "plan-file-nan-text",
        lambda d: fulfil(d, "--plan-file", "code,year,area_ha\nLUC,2029,nan\n"),
        2,
        r"row 2:column area_ha: not a number",
    ),
    Case(
        "status-file-unknown-code",
        lambda d: fulfil(d, "--status-file", "code,year,area_ha\nLUX,2024,480\n"),
        2,
        r"unknown land code 'LUX'",
    ),
    Case(
        "status-file-duplicate",
        lambda d: fulfil(d, "--status-file", "code,year,area_ha\nLUC,2024,480\nLUC,2024,481\n"),
        2,
        r"row 3.*duplicate",
    ),
    Case(
        "status-file-grouping-under-en",
        lambda d: fulfil(
            d,
            "--status-file",
            "code,year,area_ha\nLUC,2024,1.480\nHNK,2024,1.390\nDGT,2024,1.340\n",
            "--number-format",
            "en",
        ),
        2,
        r"Vietnamese thousands grouping.*--number-format vi",
    ),
    Case(
        "fulfilment-manifest-pln",
        lambda d: [
            "fulfilment",
            "--data",
            str(replace(ratio_province(d / "r"), "manifest.toml", 'plan = "p"', 'pln = "p"')),
        ],
        2,
        r"unknown key pln in \[fulfilment\]; did you mean 'plan'",
    ),
    # -- §3 03/TKKK forms ----------------------------------------------------------------------------------------
    Case(
        "form-total-not-sum",
        lambda d: info(form(d, ',Tổng,TS,"1.500","1.000",400\n')),
        2,
        r"form\.csv:row 5:column D5 \(Tổng\): the total column of TS .* is not the sum of its 2 unit columns",
    ),
    Case(
        "form-total-decimal-off",
        lambda d: info(form(d, ',Tổng,TS,"10,5","5,2","5,1"\n')),
        2,
        r"column D5 \(Tổng\).*not the sum",
    ),
    Case(
        "form-no-code-header",
        lambda d: info(replace(form(d, ",Tổng,TS,3,1,2\n"), "form.csv", "Loại đất,Mã", "Loại đất,Ký hiệu")),
        2,
        r"no header row with a 'Mã'",
    ),
    Case("form-bad-number", lambda d: info(form(d, ",Tổng,TS,3,1,2x\n")), 2, r"form\.csv:row 5:column F5 \(Xã Bình\)"),
    Case(
        "form-vi-0.500",
        lambda d: info(form(d, ',Tổng,TS,"1.500","0.500",1000\n')),
        2,
        r"form\.csv:row 5:column E5 \(Xã An\): '0\.500' cannot be a number in Vietnamese",
    ),
    Case(
        "form-no-year",
        lambda d: info(replace(form(d, ",Tổng,TS,3,1,2\n"), "form.csv", "Năm 2024", "Năm")),
        2,
        r"inventory year is not in the sheet's title",
    ),
    Case(
        "form-row-without-code",
        lambda d: info(form(d, ",Tổng,TS,3,1,2\n,Đất A,,3,1,2\n")),
        2,
        r"row 6:column C6 \(Mã\): row with areas but no land code",
    ),
    # -- §3 numeric options ----------------------------------------------------------------------------------------
    Case(
        "reconcile-tolerance-nan",
        lambda d: ["reconcile", "--tolerance", "nan"],
        2,
        r"Invalid value for '--tolerance': 'nan' is not a finite number",
    ),
    Case("reconcile-tolerance-inf", lambda d: ["reconcile", "--tolerance", "inf"], 2, r"'inf' is not a finite number"),
    Case("reconcile-tolerance-negative", lambda d: ["reconcile", "--tolerance", "-1"], 2, r"--tolerance"),
    Case("reconcile-tolerance-text", lambda d: ["reconcile", "--tolerance", "two"], 2, r"'two' is not a valid"),
    Case(
        "fulfilment-over-tolerance-nan",
        lambda d: ["fulfilment", "--over-tolerance", "nan"],
        2,
        r"Invalid value for '--over-tolerance': 'nan' is not a finite number",
    ),
    Case(
        "fulfilment-over-tolerance-minus-inf",
        lambda d: ["fulfilment", "--over-tolerance", "-inf"],
        2,
        r"--over-tolerance",
    ),
    Case(
        "transitions-interval-nan",
        lambda d: ["transitions", str(plots(d, "1.5")), "--interval-years", "nan"],
        2,
        r"'nan' is not a finite number",
    ),
    Case(
        "transitions-interval-zero",
        lambda d: ["transitions", str(plots(d, "1.5")), "--interval-years", "0"],
        2,
        r"--interval-years",
    ),
    Case("allocate-time-limit-nan", lambda d: ["allocate", "--time-limit", "nan"], 2, r"'nan' is not a finite number"),
    Case("allocate-time-limit-zero", lambda d: ["allocate", "--time-limit", "0"], 2, r"--time-limit"),
    Case("allocate-time-limit-negative", lambda d: ["allocate", "--time-limit", "-5"], 2, r"--time-limit"),
    Case(
        "allocate-jobs-negative",
        lambda d: ["allocate", "--batch", str(d), "--jobs", "-3"],
        2,
        r"Invalid value for '--jobs'",
    ),
    # -- output paths ----------------------------------------------------------------------------------------------
    Case(
        "out-exists",
        lambda d: info(dataset(d), "--format", "csv", "--out", str(write(d / "o.csv", "mine\n"))),
        2,
        r"o\.csv: file exists; refusing to overwrite it",
    ),
    Case(
        "out-is-folder", lambda d: info(dataset(d), "--format", "csv", "--out", str(mkdir(d / "f"))), 2, r"is a folder"
    ),
    Case(
        "out-parent-missing",
        lambda d: info(dataset(d), "--format", "csv", "--out", str(d / "no" / "o.csv")),
        2,
        r"output folder does not exist",
    ),
    Case(
        "reconciled-exists",
        lambda d: ["reconcile", "--reconciled", str(write(d / "r.csv", "mine\n"))],
        2,
        r"r\.csv: file exists",
    ),
    Case(
        "allocate-conversions-exists",
        lambda d: ["allocate", "--data", str(dataset(d)), "--conversions", str(write(d / "c.csv", "mine\n"))],
        2,
        r"c\.csv: file exists",
    ),
    Case(
        "synth-out-not-empty",
        lambda d: ["synth", "--data", str(dataset(d)), "--out", str(mkdir(d / "ds"))],
        2,
        r"exists and is not empty",
    ),
]


# ---- running them --------------------------------------------------------------------------------------------
def test_corpus_is_large_and_named_uniquely():
    assert len(CASES) >= 80 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path):
    args = case.build(tmp_path)
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == case.code, result.output
    assert re.search(case.fragment, result.output, re.S), result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output


SUBPROCESS = [
    "bundled-data-read-as-en",
    "classification-cycle",
    "plots-parquet-inf",
    "manifest-utf16",
    "scenario-protect-of-which",
    "reconcile-tolerance-nan",
    "allocate-jobs-negative",
    "form-total-not-sum",
]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SUBPROCESS], ids=SUBPROCESS)
def test_bad_input_subprocess(case: Case, tmp_path):
    """The same exit code and message from the installed command, with no traceback on stderr (and within a
    minute: a cycle in the classification once made `info` loop forever)."""
    args = case.build(tmp_path)
    p = subprocess.run(
        [sys.executable, "-m", "landuse", *map(str, args)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert p.returncode == case.code, p.stderr
    assert re.search(case.fragment, p.stderr, re.S), p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""


# ---- awkward but valid: read, and read right ---------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["vi", "en", "auto"])
def test_typed_xlsx_numbers_are_numbers(tmp_path, fmt):
    """A typed 1.5 ha in an XLSX plot file is 1.5 ha in every number format (it has no format: it is a number);
    a typed 1234.25 is not mistaken for grouping either."""
    from landuse.readers.plots import read_plots

    head = ["plot_id", "unit", "code_from", "code_to", "area_ha"]
    path = xlsx(
        tmp_path / "p.xlsx",
        [head, [1, "X", "LUC", "SKK", 1.5], [2, "X", "LUC", "SKK", 1234.25], [3, "X", "LUC", "LUC", 7]],
    )
    assert read_plots(path, number_format=fmt)["area_ha"].tolist() == [1.5, 1234.25, 7.0]


def test_typed_xlsx_inventory_reads_under_either_format(tmp_path):
    rows = [["unit", "year", "code", "area_ha"], ["X", 2024, "TS", 10.5], ["X", 2024, "NNP", 10.5]]
    for fmt in ("vi", "en"):
        root = dataset(
            tmp_path / fmt,
            inv_name="inventory.xlsx",
            fmt=fmt,
            inventory=xlsx(tmp_path / f"{fmt}.xlsx", rows).read_bytes(),
        )
        from landuse.dataset import load_dataset

        assert load_dataset(root).stock(2024).to_dict() == {"TS": 10.5, "NNP": 10.5}


def test_form_total_within_rounding_is_read(tmp_path):
    """Total 10,5 printed over parts 5,2 + 5,2 = 10,4: each of the three figures may be off by 0,05 when
    rounded to one decimal, so a gap of 0,1 ≤ 0,15 is rounding and the form is read (a gap of 0,2 is refused,
    see the case form-total-decimal-off)."""
    from landuse.dataset import load_dataset

    ds = load_dataset(form(tmp_path, ',Tổng,TS,"10,5","5,2","5,2"\n,Đất A,NNP,,"5,2",\n'))
    got = ds.inventory.set_index(["unit", "code"])["area_ha"]
    assert got[("Xã An", "TS")] == 5.2 and got[("Xã Bình", "TS")] == 5.2
    assert got.isna().sum() == 1  # the blank cell stays blank; the partly printed row is not checked


def test_bundled_data_still_reads_as_vietnamese():
    """The guard against English on the bundled data does not touch its own format: TS 2024 = 830.732 ha as
    printed in Bảng 2 (830.732 in Vietnamese format)."""
    from landuse.dataset import load_dataset

    assert load_dataset(number_format="vi").stock(2024)["TS"] == 830732


def test_manifest_schema_accepts_the_documented_manifest():
    """Every key of the manifest example in data/README.md is in the schema (the schema refuses typos only)."""
    import tomllib

    from landuse.manifest import check_manifest_keys
    from tests.conftest import TESTS

    text = (TESTS.parent / "data" / "README.md").read_text(encoding="utf-8")
    block = text.split("## manifest.toml", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    check_manifest_keys(tomllib.loads(block), Path("README.md"))


def test_every_float_option_refuses_nan_and_inf():
    """No command takes a plain click FLOAT: each float option is the shared FiniteFloat type."""
    import click

    from landuse.cli import FiniteFloat

    opts = [(name, p) for name, cmd in main.commands.items() for p in cmd.params
            if isinstance(p.type, click.types.FloatParamType)]
    plain = [(name, p.name) for name, p in opts if not isinstance(p.type, FiniteFloat)]
    assert len(opts) >= 4 and not plain, plain
