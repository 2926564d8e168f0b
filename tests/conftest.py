"""Shared fixtures: the bundled Lạng Sơn dataset, the tiny synthetic province, and file builders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from landuse.classification import load_classification
from landuse.dataset import DEFAULT_DATASET, load_dataset

TESTS = Path(__file__).resolve().parent
TEST_DATA = TESTS / "data"
MINI = TEST_DATA / "mini"


@pytest.fixture(scope="session")
def langson():
    return load_dataset(DEFAULT_DATASET)


@pytest.fixture(scope="session")
def vn2024():
    return load_classification("vn2024")


@pytest.fixture
def mini_copy(tmp_path) -> Path:
    """A writable copy of the tiny synthetic province dataset."""
    dst = tmp_path / "mini"
    shutil.copytree(MINI, dst)
    return dst


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


RATIO_ROWS = {  # code: 2019 (3), plan 2029 (4), 2024 (5) as in tests/data/mini; printed ratio (8)
    "LUC": (500, 460, 480, "50.00"),   # -20 / -40 = 50 %: as printed
    # -10 / -30 = 33,33 %; each input ±0,5 ha (the baseline shared): 9/30 … 11/30 = 30 … 36,67 %: 40 is off
    "HNK": (400, 370, 390, "40.00"),
    # 40 / 45 = 88,89 %; inputs ±0,5 ha give 39/45 … 41/45 = 86,67 … 91,11 %, so 91,05 is rounding (the printed
    # differences ±0,5 ha alone would give only 39,5/45,5 … 40,5/44,5 = 86,81 … 91,01 %)
    "DGT": (300, 345, 340, "91.05"),
}


def ratio_province(root: Path, plan_extra: str = "") -> Path:
    """The mini province with a Bảng 4-like table ``t4`` (2019, plan 2029, 2024, (6)=(4)-(3), (7)=(5)-(3),
    (8)=(7)/(6)*100) of :data:`RATIO_ROWS`, plan ``p`` on it; ``plan_extra`` is appended to ``[plans.p]``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(MINI / "inventory.csv", root / "inventory.csv")
    rows = ["line,page,stt,name,code,code_printed,c3,c4,c5,c6,c7,c8"]
    for i, (code, (a, p, b, r)) in enumerate(RATIO_ROWS.items()):
        rows.append(f"{10 + i},1,{i + 1},{code} row,{code},,{a},{p},{b},{p - a},{b - a},{r}")
    write(root / "t4.csv", "\n".join(rows) + "\n")
    write(root / "manifest.toml", f"""
[dataset]
name = "Tỉnh Mẫu"
number_format = "en"
classification = "vn2024"

[files.inventory]
path = "inventory.csv"

[plans.p]
table = "t4"
column = "c4"
base_column = "c3"
{plan_extra or 'base_year = 2019'}
start_year = 2020
target_year = 2029

[fulfilment]
plan = "p"
report_year = 2024

[tables.t4]
path = "t4.csv"
code_printed = false
columns = [
  {{ id = "c3", number = "(3)", kind = "value", quantity = "status", year = 2019 }},
  {{ id = "c4", number = "(4)", kind = "value", quantity = "plan", year = 2029, plan = "p" }},
  {{ id = "c5", number = "(5)", kind = "value", quantity = "status", year = 2024 }},
  {{ id = "c6", number = "(6)=(4)-(3)", kind = "diff", operands = ["c4", "c3"] }},
  {{ id = "c7", number = "(7)=(5)-(3)", kind = "diff", operands = ["c5", "c3"] }},
  {{ id = "c8", number = "(8)=(7)/(6)*100", kind = "ratio_pct", operands = ["c7", "c6"] }},
]
""")
    return root
