"""The official-tables workbook, laid out sheet by sheet from typed :class:`Parts`.

The parts (findings, the estimated matrix, the fulfilment, the allocation) are computed by the run job
(:mod:`landuse.pipeline`), which calls :func:`write_tables`; this module computes nothing of its own beyond
the layout. A part that is missing is left out, with a note on the cover sheet. Areas in ha.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from landuse import __version__
from landuse.dataset import Dataset, PublishedTable
from landuse.errors import InputError, Location
from landuse.excel.layouts import (
    NAME_COL,
    change_sheet,
    column_key,
    finish_official,
    inventory_sheet,
    matrix_sheet,
    unit_areas_sheet,
)
from landuse.excel.model import Sheet, sheet_ref
from landuse.excel.sheets import allocation_sheet, cover_sheet, findings_sheet, fulfilment_sheet
from landuse.wording import display_findings

if TYPE_CHECKING:
    from allocation.api import AllocationResult
    from landuse.fulfilment import Fulfilment
    from landuse.transitions.estimate import EstimateResult

WORKBOOK_NAME = "bao_cao_dat_dai.xlsx"
SHEET_NAMES = {
    "cover": ("Thông tin chung", "Cover"),
    "inventory": ("Hiện trạng {y}", "Land use {y}"),
    "change": ("Biến động", "Change"),
    "transitions": ("Chu chuyển", "Transitions"),
    "fulfilment": ("Thực hiện quy hoạch", "Plan fulfilment"),
    "allocation": ("Phân bổ {t}", "Allocation {t}"),
    "conversions": ("Chuyển mục đích {s}-{t}", "Conversions {s}-{t}"),
    "units": ("Phân bổ theo đơn vị {t}", "Allocation by unit {t}"),
    "unit_conversions": ("Chuyển mục đích theo đơn vị", "Conversions by unit"),
    "unit_permissions": ("Cần cho phép theo đơn vị", "Permission by unit"),
    "findings": ("Kiểm tra", "Checks"),
}
TITLES = {
    "inventory": ("Kiểm kê đất đai {p} tính đến 31/12/{y}", "Land inventory of {p} as of 31/12/{y}"),
    "change": ("Biến động sử dụng đất {p} thời kỳ {a} - {b}", "Change in land use of {p}, {a} - {b}"),
    "transitions": ("Chu chuyển diện tích của các loại đất {p} thời kỳ {a} - {b}",
                    "Land-type transitions of {p}, {a} - {b}"),
    "fulfilment": ("Đánh giá kết quả thực hiện chỉ tiêu sử dụng đất đến năm {y} của {p}",
                   "Fulfilment of the approved land-use targets by {y}, {p}"),
    "allocation": ("Phân bổ chỉ tiêu sử dụng đất {p} đến năm {t} (kết quả mô hình phân bổ)",
                   "Land-use allocation of {p} to {t} (allocation model)"),
    "conversions": ("Kế hoạch chuyển mục đích sử dụng đất {p} giai đoạn {s} - {t} (kết quả mô hình phân bổ)",
                    "Land-use conversion plan of {p}, {s} - {t} (allocation model)"),
    "units": ("Phân bổ diện tích các loại đất đến năm {t} theo đơn vị hành chính - {p} (kết quả mô hình phân bổ)",
              "Land allocation to {t} by administrative unit - {p} (allocation model)"),
    "unit_conversions": ("Diện tích chuyển mục đích sử dụng đất giai đoạn {s} - {t} theo đơn vị hành chính - {p}",
                         "Land converted {s} - {t} by administrative unit - {p}"),
    "unit_permissions": ("Diện tích chuyển mục đích sử dụng đất phải được cho phép giai đoạn {s} - {t} theo đơn vị "
                         "hành chính - {p}", "Conversions needing permission {s} - {t} by administrative unit - {p}"),
    "findings": ("Kết quả kiểm tra số liệu - {p}", "Data checks - {p}"),
}
UNIT_HEADERS = {"unit_conversions": ("Từ loại đất → sang loại đất", "From land type → to land type"),
                "unit_permissions": ("Loại chuyển mục đích phải được cho phép", "Conversion needing permission")}
ESTIMATED = ("Ma trận ƯỚC TÍNH (không phải số liệu chu chuyển tổng hợp từ thửa đất); hàng: loại đất năm {a}, "
             "cột: loại đất năm {b}", "ESTIMATED matrix (not tallied from plot data); rows: land type in {a}, "
             "columns: land type in {b}")
FROM_PLOTS = ("Ma trận tổng hợp từ số liệu thửa đất; hàng: loại đất năm {a}, cột: loại đất năm {b}",
              "Matrix tallied from plot data; rows: land type in {a}, columns: land type in {b}")
PART_NAMES = {"findings": ("kiểm tra số liệu", "checks"), "transitions": ("ma trận chu chuyển", "transitions"),
              "fulfilment": ("thực hiện quy hoạch", "plan fulfilment"), "allocation": ("phân bổ", "allocation")}
NOTE_TEXTS = {
    "error": ("{part}: bỏ qua do lỗi số liệu đầu vào (chi tiết): {what}", "{key}: {what}"),
    "no-plan": ("{part}: bỏ qua (bộ dữ liệu không khai báo phương án quy hoạch)",
                "{key}: skipped (the dataset defines no plan)"),
}
STATUS_TEXTS = {"optimal": "tối ưu", "infeasible": "không có phương án khả thi"}  # others shown as the solver says


@dataclass(frozen=True)
class PartNote:
    """Why a part of the workbook is missing: ``kind`` error | no-plan, ``what`` the error message (as the
    library wrote it). ``str()`` is the English text."""

    key: str
    kind: str
    what: str

    def text(self, lang: str = "en") -> str:
        part = PART_NAMES.get(self.key, (self.key, self.key))[0 if lang == "vi" else 1]
        return _tr(NOTE_TEXTS[self.kind], lang, part=part[:1].upper() + part[1:], key=self.key, what=self.what)

    def __str__(self) -> str:
        return self.text("en")


@dataclass
class Parts:
    """What the workbook shows beyond the inventory: each part typed, ``None`` when absent; ``notes`` say why
    a part is missing; ``scenario`` is the allocation scenario named on the cover (``None``: the default)."""

    findings: pd.DataFrame | None = None
    estimate: EstimateResult | None = None
    fulfilment: Fulfilment | None = None
    allocation: AllocationResult | None = None
    notes: list[PartNote] = field(default_factory=list)
    scenario: object = None


@dataclass
class TablesReport:
    """What :func:`build_tables` wrote: the file, its sheets, and notes on skipped parts."""

    path: Path
    sheets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _tr(pair: tuple[str, str], lang: str, **kw: object) -> str:
    return (pair[0] if lang == "vi" else pair[1]).format(**kw)


def place(ds: Dataset, lang: str = "vi") -> str:
    """The dataset's name as the report writes it ("tỉnh Lạng Sơn")."""
    level = str(ds.manifest.get("dataset", {}).get("level", ""))
    prefix = {"province": "tỉnh ", "district": "huyện ", "commune": "xã "}.get(level, "") if lang == "vi" else ""
    return prefix + ds.name


# ---- choosing printed tables (numbering, "Trong đó:" lines) -------------------------------------------------
def _kinds(t: PublishedTable) -> list[str]:
    return [c.kind for c in t.columns]


def find_table(ds: Dataset, role: str, year: int | None = None) -> PublishedTable | None:
    """The published table whose layout a sheet reproduces (for STT and "Trong đó:" lines), if any."""
    for t in ds.tables.values():
        kinds, plans = _kinds(t), [c for c in t.columns if c.quantity == "plan"]
        if role == "inventory" and "share_pct" in kinds and any(c.year == year for c in t.columns):
            return t
        if role == "change" and not plans and kinds.count("value") >= 2 and "diff" in kinds:
            return t
    return None


def approved_plan(ds: Dataset, start_year: int, target_year: int) -> str | None:
    """The approved plan the allocation is compared with: the manifest's ``[allocation] approved_plan``, else
    the plan for ``target_year`` fixed before ``start_year`` whose printed table has the most land codes."""
    explicit = ds.manifest.get("allocation", {}).get("approved_plan")
    if explicit in ds.plans:
        return explicit
    cands = [(pid, p) for pid, p in ds.plans.items() if p.get("target_year") == target_year
             and int(p.get("base_year", start_year)) < start_year and p.get("table") in ds.tables]
    if not cands:
        return None
    return max(cands, key=lambda kv: (ds.tables[kv[1]["table"]].raw["code"] != "").sum())[0]


def plan_values(ds: Dataset, pid: str | None, which: str = "column") -> dict:
    if not pid:
        return {}
    p = ds.plans[pid]
    return ds.tables[p["table"]].values(p[which]).to_dict() if p.get("table") in ds.tables else {}


# ---- links from findings to cells -------------------------------------------------------------------------
def finding_key(ds: Dataset, f: Mapping[str, object]) -> tuple | None:
    """What a finding points at, in the keys the sheets register (see ``column_key``), from its key columns
    (:data:`landuse.findings.KEY_COLUMNS`): a published table's column, else a change between two years, else
    the status of a year."""
    table, cid = str(f.get("table", "") or ""), str(f.get("column_id", "") or "")
    year, year_from = f.get("year"), f.get("year_from")
    if table in ds.tables and cid:
        return column_key(ds.tables[table], cid)
    if pd.notna(year) and pd.notna(year_from):
        return ("diff", ("status", int(year)), ("status", int(year_from)))
    if pd.notna(year):
        return ("status", int(year))
    return None


def link_resolver(ds: Dataset, sheets: list[Sheet]) -> Callable[[Mapping[str, object]], str | None]:
    """``finding row → 'Sheet'!F12`` (the cell it concerns), else the row of its land code, else None."""

    def resolve(f: Mapping[str, object]) -> str | None:
        source, code = str(f.get("source", "") or ""), str(f.get("code", "") or f.get("row", "") or "")
        key = finding_key(ds, f)
        ordered = sorted(sheets, key=lambda s: s.mirrors != source)
        if key is not None:
            for s in ordered:
                if (code, key) in s.anchors:
                    return sheet_ref(s.name, *s.anchors[(code, key)])
        for s in ordered:
            if code in s.row_of:
                return sheet_ref(s.name, s.row_of[code], NAME_COL)
        return None

    return resolve


# ---- the workbook ---------------------------------------------------------------------------------------
def allocation_rows(ds: Dataset, table: pd.DataFrame, end_column: str) -> pd.DataFrame:
    """The rows of an allocation table that Bảng 26 shows: tree codes (no derived aggregates), without codes that
    the start inventory lacks and the allocation leaves empty (``end_column``, the area in the target year, is 0
    or blank; e.g. salt land in an inland province)."""
    cls, start = ds.classification, ds.stocks(ds.years[-1])
    t = table[table["code"].isin(cls.codes)]
    end = pd.to_numeric(t.get(end_column, pd.Series(index=t.index, dtype=float)), errors="coerce")
    empty = ~t["code"].isin(start.index) & (end.fillna(0) == 0)
    return t[~empty].reset_index(drop=True)


def _status_text(result: AllocationResult | None) -> str:
    return "" if result is None else str(result.status.value)


def build_sheets(ds: Dataset, parts: Parts, lang: str = "vi") -> list[Sheet]:
    """Every sheet the parts allow, in workbook order (cover excluded)."""
    cls, years, p = ds.classification, ds.years, place(ds, lang)
    last = years[-1]
    sheets = [inventory_sheet(_tr(SHEET_NAMES["inventory"], lang, y=last), cls, ds.stocks(last), last, lang,
                              _tr(TITLES["inventory"], lang, p=p, y=last), find_table(ds, "inventory", last))]
    if len(years) > 1:
        sheets.append(change_sheet(_tr(SHEET_NAMES["change"], lang), cls, {y: ds.stocks(y) for y in years}, lang,
                                   _tr(TITLES["change"], lang, p=p, a=years[0], b=last), find_table(ds, "change")))
    tr = parts.estimate
    if tr is not None:
        a, b = tr.from_year, tr.to_year  # the years the estimate used
        note = _tr(ESTIMATED if tr.estimated else FROM_PLOTS, lang, a=a, b=b)
        sheets.append(matrix_sheet(_tr(SHEET_NAMES["transitions"], lang), cls, tr.matrix, a, b,
                                   lang, _tr(TITLES["transitions"], lang, p=p, a=a, b=b), note, form="05/TKKK"))
    ful = parts.fulfilment
    if ful is not None:
        plan = ds.plans.get(ful.plan, {})
        title = _tr(TITLES["fulfilment"], lang, p=p, y=ful.year)
        sheets.append(fulfilment_sheet(_tr(SHEET_NAMES["fulfilment"], lang), cls, ful.table, ful.base_year, ful.year,
                                       ful.target_year, ful.plan, lang, title, ds.tables.get(plan.get("table"))))
    alloc = parts.allocation
    if alloc is not None:
        sheets += _allocation_sheets(ds, alloc, lang)
    if parts.findings is not None:
        sheets.append(findings_sheet(_tr(SHEET_NAMES["findings"], lang), display_findings(ds, parts.findings, lang),
                                     link_resolver(ds, sheets), lang, _tr(TITLES["findings"], lang, p=p)))
    finish_official(sheets, ds.name, lang)
    return sheets


def _allocation_sheets(ds: Dataset, alloc: AllocationResult, lang: str) -> list[Sheet]:
    """Bảng 26 against the allocation, its conversion matrix and (by unit) the per-unit areas."""
    cls, p, last = ds.classification, place(ds, lang), ds.years[-1]
    ty = alloc.config.target_year
    pid = approved_plan(ds, last, ty)
    base_year = int(ds.plans[pid]["base_year"]) if pid else ds.years[0]
    printed = ds.tables.get(ds.plans[pid]["table"]) if pid else None
    sheets = [allocation_sheet(_tr(SHEET_NAMES["allocation"], lang, t=ty), cls,
                               allocation_rows(ds, alloc.table, alloc.end_column), plan_values(ds, pid, "base_column"),
                               plan_values(ds, pid), base_year, last, ty, str(pid), lang,
                               _tr(TITLES["allocation"], lang, p=p, t=ty), printed, start=ds.stocks(last))]
    if not alloc.conversions.empty:
        sheets.append(matrix_sheet(_tr(SHEET_NAMES["conversions"], lang, s=last, t=ty), cls, alloc.conversions, last,
                                   ty, lang, _tr(TITLES["conversions"], lang, p=p, s=last, t=ty)))
    if alloc.unit_areas is not None and not alloc.unit_areas.empty:
        sheets.append(unit_areas_sheet(_tr(SHEET_NAMES["units"], lang, t=ty), alloc.unit_areas, cls.root, ty, lang,
                                       _tr(TITLES["units"], lang, p=p, t=ty)))
        sheets += _unit_change_sheets(alloc, last, ty, p, lang)
    return sheets


def _status_label(result: AllocationResult | None, lang: str) -> str:
    text = _status_text(result)
    return STATUS_TEXTS.get(text.lower(), text) if lang == "vi" else text


def build_cover(ds: Dataset, sheets: list[Sheet], parts: Parts, lang: str = "vi") -> Sheet:
    alloc, notes, scenario = parts.allocation, parts.notes, parts.scenario
    vi = lang == "vi"
    findings = parts.findings
    n_err = int((findings["severity"] == "error").sum()) if findings is not None else None
    items = [
        ("Bộ dữ liệu" if vi else "Dataset", ds.name),
        ("Hệ thống phân loại" if vi else "Classification", ds.classification.id),
        ("Năm kiểm kê" if vi else "Inventory years", ", ".join(map(str, ds.years))),
        ("Kịch bản" if vi else "Scenario", str(scenario) if scenario else ("mặc định của bộ dữ liệu" if vi
                                                                           else "dataset default")),
        ("Bộ giải" if vi else "Solver", (alloc.solver if alloc is not None else "") or "-"),
        ("Trạng thái phân bổ" if vi else "Allocation status", _status_label(alloc, lang) or "-"),
        ("Số lỗi phát hiện" if vi else "Error findings", "-" if n_err is None else str(n_err)),
        ("Ngày lập" if vi else "Date", dt.date.today().strftime("%d/%m/%Y" if vi else "%Y-%m-%d")),
        ("Phiên bản công cụ" if vi else "Tool version", f"landuse {__version__}"),
    ]
    items += [("Ghi chú" if vi else "Note", n.text(lang) if isinstance(n, PartNote) else str(n)) for n in notes]
    inv = ds.manifest.get("files", {}).get("inventory", {})
    rows = [{"id": "kiểm kê" if vi else "inventory", "title": inv.get("description", ""), "pages": "", "lines": "",
             "file": inv.get("path", "")}]
    rows += [{"id": t.id, "title": t.title, "pages": t.pages, "lines": t.lines, "file": t.path.name}
             for t in ds.tables.values()]
    contents = [(s.name, s.title) for s in sheets]
    title = ("Báo cáo số liệu đất đai - " if vi else "Land data report - ") + place(ds, lang)
    return cover_sheet(_tr(SHEET_NAMES["cover"], lang), title, items, pd.DataFrame(rows), contents, lang)


def check_workbook_path(path: Path | str) -> Path:
    """``path`` if it names an ``.xlsx`` file, else :class:`InputError` (a workbook under another suffix would
    be misread by whatever opens it)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError("the workbook must be an .xlsx file", Location.of(path), expected="a name ending .xlsx",
                         found=path.suffix or "no suffix")
    return path


def _unit_change_sheets(alloc: AllocationResult, start: int, ty: int, place: str, lang: str) -> list[Sheet]:
    """By unit: the conversions (units × from→to pairs) and the area needing permission (units × permission),
    in ha, each with its per-unit total and a provincial total row."""
    from allocation.units import unit_permissions

    col = f"area_{ty}"
    moved = alloc.flows[alloc.flows["code_from"] != alloc.flows["code_to"]]
    conv = pd.DataFrame({"unit": moved["unit"], "code": moved["code_from"] + "→" + moved["code_to"],
                         col: moved["area_ha"]})
    perm = unit_permissions(alloc).rename(columns={"permission": "code", "area_ha": col})
    out = []
    for key, long, total in (("unit_conversions", conv, "Σ"), ("unit_permissions", perm, "Σ")):
        if len(long):
            out.append(unit_areas_sheet(_tr(SHEET_NAMES[key], lang), long, total, ty, lang,
                                        _tr(TITLES[key], lang, p=place, s=start, t=ty), _tr(UNIT_HEADERS[key], lang)))
    return out


def check_lang(lang: str) -> None:
    if lang not in ("vi", "en"):
        raise InputError("unknown language", expected="vi | en", found=lang)


def write_tables(ds: Dataset, out_path: Path | str, parts: Parts, lang: str = "vi",
                 force: bool = False) -> TablesReport:
    """Write the official-tables workbook of ``ds`` and ``parts`` to ``out_path`` (atomically; ``force`` to
    replace a file)."""
    from landuse.excel.writer import write_workbook

    check_lang(lang)
    check_workbook_path(out_path)
    sheets = build_sheets(ds, parts, lang)
    cover = build_cover(ds, sheets, parts, lang)
    path = write_workbook([cover] + sheets, out_path, force=force, lang=lang,
                          properties={"title": cover.title, "comments": f"landuse {__version__}"})
    return TablesReport(Path(path), [s.name for s in [cover] + sheets], [str(n) for n in parts.notes])


def inventory_table(ds: Dataset, year: int | None = None) -> pd.DataFrame:
    """Bảng 2 as a long table: ``code, stt, name, area_ha, share_pct`` (% of the root's area) for ``year``."""
    cls = ds.classification
    year = year or ds.years[-1]
    stock = ds.stocks(year)
    codes = [c for c in cls.codes if c in stock.index]
    area = stock.reindex(codes)
    return pd.DataFrame({"year": year, "code": codes, "stt": [cls.table.at[c, "stt"] for c in codes],
                         "name": [cls.name(c) for c in codes], "area_ha": area.to_numpy(),
                         "share_pct": (100 * area / stock.get(cls.root, float("nan"))).to_numpy()})
