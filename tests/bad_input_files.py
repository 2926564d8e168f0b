"""Builders of the bad-input corpus (tests/test_bad_input.py): each writes a small dataset or file into a
temporary folder and returns its path or the command line that reads it."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from tests.conftest import MINI, TEST_DATA, ratio_province, write

MINI_INV = (MINI / "inventory.csv").read_text(encoding="utf-8")
# the same figures in Vietnamese format: "10,610" (English thousands) -> 10.610
VI_INV = re.sub(r'"(\d+),(\d{3})"', r"\1.\2", MINI_INV)
HAND = TEST_DATA / "allocation" / "hand.toml"
TREE_HEAD = "code,parent,relation,level,stt,name_vi,name_en,group\n"
TREE = TREE_HEAD + "TS,,root,0,,Tổng,Total,\nA,TS,part,1,1,Đất A,A,A\nB,TS,part,1,2,Đất B,B,B\n"
TREE_INV = "unit,year,code,area_ha\nX,2024,TS,10\nX,2024,A,4\nX,2024,B,6\n"


# ---- builders: each writes a dataset or a file into ``d`` and returns its path --------------------------------
def dataset(
    d: Path,
    inventory: str | bytes = MINI_INV,
    fmt: str = "en",
    inv_keys: str = "",
    extra: str = "",
    dataset_keys: str = "",
    inv_name: str = "inventory.csv",
) -> Path:
    """The mini province (or ``inventory``) with a manifest in ``fmt``; ``extra`` is appended to the manifest."""
    root = d / "ds"
    root.mkdir(parents=True, exist_ok=True)
    inv = root / inv_name
    inv.write_bytes(inventory if isinstance(inventory, bytes) else inventory.encode("utf-8"))
    write(
        root / "manifest.toml",
        f'[dataset]\nname = "Tỉnh Mẫu"\nnumber_format = "{fmt}"\nclassification = '
        f'"vn2024"\n{dataset_keys}\n[files.inventory]\npath = "{inv_name}"\n{inv_keys}\n{extra}\n',
    )
    return root


def inv_row(text: str, code: str, value: str) -> str:
    """``text`` (a mini inventory) with the 2024 area of ``code`` printed as ``value``."""
    out, n = re.subn(
        rf"^(Tỉnh Mẫu,2024,{code},)(\"[^\"]*\"|[^\n]*)$", lambda m: m.group(1) + value, text, count=1, flags=re.M
    )
    assert n == 1
    return out


def tree(d: Path, rows: str, inventory: str = TREE_INV) -> Path:
    """A dataset whose own classification ``tiny`` (in ``<dataset>/classification``) has ``rows``."""
    root = dataset(d, inventory, fmt="en")
    write(root / "classification" / "tiny.csv", TREE_HEAD + rows)
    m = (
        (root / "manifest.toml")
        .read_text(encoding="utf-8")
        .replace('classification = "vn2024"', 'classification = "tiny"')
    )
    write(root / "manifest.toml", m)
    return root


def units(d: Path) -> Path:
    """The mini province as two communes (Xã An, Xã Bình), each with the mini figures: totals add up."""
    lines = MINI_INV.splitlines()
    body = [ln.replace("Tỉnh Mẫu,", f"{u},", 1) for u in ("Xã An", "Xã Bình") for ln in lines[1:]]
    return dataset(d, "\n".join([lines[0], *body]) + "\n")


def xlsx(path: Path, rows: list[list], formula: str | None = None) -> Path:
    """An XLSX file of ``rows`` (typed as given); ``formula`` = "B3:=A2*2" puts a formula with no saved value."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if formula:
        cell, f = formula.split(":", 1)
        ws[cell] = f  # openpyxl writes formulas without a cached result
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def parquet(path: Path, area: list[float]) -> Path:
    n = len(area)
    pd.DataFrame(
        {
            "plot_id": [str(i) for i in range(n)],
            "unit": ["X"] * n,
            "code_from": ["LUC"] * n,
            "code_to": ["SKK"] * n,
            "area_ha": area,
        }
    ).to_parquet(path)
    return path


PLOTS_HEAD = "plot_id,unit,code_from,code_to,area_ha\n"


def plots(d: Path, *areas: str) -> Path:
    body = "".join(f'{i},X,LUC,SKK,"{a}"\n' for i, a in enumerate(areas, 1))
    return write(d / "plots.csv", PLOTS_HEAD + body)


def scenario(d: Path, body: str) -> Path:
    return write(d / "s.toml", "[period]\ntarget_year = 2030\n" + body)


FORM_HEAD = "Biểu 03/TKKK,,,,\nNăm 2024,,,,\nSTT,Loại đất,Mã,Tổng,Xã An,Xã Bình\n(1),(2),(3),(4),(5),(6)\n"


def form(d: Path, body: str) -> Path:
    """A dataset whose inventory is a 03/TKKK sheet (CSV) with two communes, numbers in Vietnamese format."""
    return dataset(d, FORM_HEAD + body, fmt="vi", inv_keys='layout = "03/TKKK"', inv_name="form.csv")


def cp1258(text: str) -> bytes:
    """``text`` in Windows-1258: a letter with a tone mark is its base letter (â, ơ, …) + a combining mark."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            nfd = unicodedata.normalize("NFD", ch)
            out.append((unicodedata.normalize("NFC", nfd[:-1]) + nfd[-1]).encode("cp1258"))
    return b"".join(out)


# ---- small helpers used by the cases ---------------------------------------------------------------------------
def mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def write_bytes(p: Path, data: bytes) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def reencode(root: Path, name: str, encoding: str, tail: bytes = b"") -> Path:
    p = root / name
    text = p.read_text(encoding="utf-8")
    p.write_bytes((cp1258(text) if encoding == "cp1258" else text.encode(encoding)) + tail)
    return root


def append(root: Path, name: str, text: str) -> Path:
    p = root / name
    p.write_text(p.read_text(encoding="utf-8") + text, encoding="utf-8")
    return root


def replace(root: Path, name: str, old: str, new: str) -> Path:
    p = root / name
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new), encoding="utf-8")
    return root


def manifest_only(d: Path, text: str) -> Path:
    write(d / "m" / "manifest.toml", text)
    return d / "m"


def missing_inventory(d: Path) -> Path:
    root = dataset(d)
    return replace(root, "manifest.toml", 'path = "inventory.csv"', 'path = "gone.csv"')


def alloc(d: Path, scenario_path: Path) -> list[str]:
    return ["allocate", "--data", str(dataset(d)), "--scenario", str(scenario_path)]


def unit_rows(d: Path, body: str) -> list[str]:
    return [
        "allocate",
        "--data",
        str(units(d)),
        "--unit-rows",
        str(write(d / "u.csv", "unit,code,kind,area_ha\n" + body)),
    ]


def unit_costs(d: Path, body: str) -> list[str]:
    return ["allocate", "--data", str(units(d)), "--unit-costs", str(write(d / "c.csv", "unit,code,factor\n" + body))]


def fulfil(d: Path, option: str, body: str, *more: str) -> list[str]:
    return ["fulfilment", "--data", str(ratio_province(d / "r")), option, str(write(d / "f.csv", body)), *more]
