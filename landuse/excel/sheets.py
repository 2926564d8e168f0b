"""Layouts of the plan tables (Bảng 4, Bảng 26), the findings sheet and the cover sheet.

Like :mod:`landuse.excel.layouts`, each function takes DataFrames and returns a
:class:`~landuse.excel.model.Sheet`; derived cells are live formulas with cached values. Areas in ha;
differences are the later (or planned) area minus the earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from landuse.classification import Classification
from landuse.dataset import PublishedTable
from landuse.excel.layouts import (
    NAME_COL,
    WIDTH_CODE,
    WIDTH_NAME,
    WIDTH_NUM,
    WIDTH_STT,
    Col,
    derived_stt,
    fill_columns,
    finish,
    marker_after,
    structure_chart,
    table_number,
    tree_rows,
)
from landuse.excel.model import SEVERITY_ORDER, Cell, Sheet, is_missing, t

# Vietnamese / English labels of the fulfilment statuses (landuse.fulfilment.STATUSES; a test keeps them in step)
STATUS_TEXT: dict[str, tuple[str, str]] = {
    "no-target": ("Không có chỉ tiêu", "no target"),
    "no-data": ("Thiếu số liệu", "no data"),
    "no-change-planned": ("Không dự kiến thay đổi", "no change planned"),
    "no-time-elapsed": ("Chưa đến kỳ đánh giá", "no time elapsed"),
    "opposite": ("Ngược chiều phương án", "opposite to plan"),
    "over": ("Vượt chỉ tiêu", "beyond the target"),
    "achieved": ("Đã đạt", "achieved"),
    "on-track": ("Đúng tiến độ", "on track"),
    "behind": ("Chậm tiến độ", "behind"),
}
SEVERITY_TEXT = {"error": ("Lỗi", "error"), "rounding": ("Làm tròn", "rounding"), "info": ("Thông tin", "info")}
FINDING_HEADERS = {
    "vi": ["STT", "Mức độ", "Kiểm tra", "Nguồn", "Mã", "Cột", "Giá trị tính lại", "Giá trị in",
           "Chênh lệch", "Nội dung", "Trang", "Ô liên quan"],
    "en": ["No.", "Severity", "Check", "Source", "Code", "Column", "Expected", "Found", "Difference", "Message",
           "Page", "Cell"],
}


def _label(mapping: Mapping[str, tuple[str, str]], key: object, lang: str) -> str:
    if is_missing(key):
        return ""
    pair = mapping.get(str(key))
    return pair[0 if lang == "vi" else 1] if pair else str(key)


def _series(df: pd.DataFrame, col: str) -> dict:
    return dict(zip(df["code"], pd.to_numeric(df[col], errors="coerce"), strict=True)) if col in df else {}


def fulfilment_sheet(name: str, cls: Classification, df: pd.DataFrame, base_year: int, report_year: int,
                     target_year: int, plan_id: str, lang: str = "vi", title: str = "",
                     printed: PublishedTable | None = None) -> Sheet:
    """Bảng 4 layout from a fulfilment frame (``code, name, baseline, plan, actual, status, low_base`` …).

    Columns: (3) baseline, (4) approved plan, (5) actual, (6)=(4)-(3), (7)=(5)-(3), (8)=(7)/(6)*100 (ratio %,
    blank where (6) = 0), then (9)=(4)-(5) still to do by the target year and (10) the assessment.
    """
    widths = [WIDTH_STT, 40] + [WIDTH_NUM] * 7 + [23]
    s = Sheet(name, title, widths, measure=t("unit_ha", lang), mirrors=printed.id if printed else None,
              number=table_number(printed, lang))
    numbers = ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)=(4)-(3)", "(7)=(5)-(3)", "(8)=(7)/(6)*100",
               "(9)=(4)-(5)", "(10)"]
    first = s.start_table(2, numbers)
    for c, text in [(0, t("stt", lang)), (1, t("indicator", lang)), (2, t("status_year_ha", lang, y=base_year)),
                    (3, t("approved", lang)), (8, t("remaining", lang, t=target_year)), (9, t("assessment", lang))]:
        s.head(first, c, first + 1, c, text)
    s.head(first, 4, first, 7, t("result_to", lang, y=report_year))
    for c, text in [(4, t("area_only", lang)), (5, t("cmp_plan_base", lang, b=base_year)),
                    (6, t("cmp_actual_base", lang, y=report_year, b=base_year)), (7, t("ratio", lang))]:
        s.head(first + 1, c, first + 1, c, text)
    codes = [str(c) for c in df["code"]]
    stt = derived_stt(cls, codes)
    names = dict(zip(codes, df["name"], strict=True)) if "name" in df else None
    rows = tree_rows(s, cls, codes, stt, lang, marker_after(printed), names)
    base, plan, act = ("status", base_year), ("plan", plan_id), ("status", report_year)
    planned, actual = ("diff", plan, base), ("diff", act, base)
    cols = [Col(base, values=_series(df, "baseline"), sums=False),
            Col(plan, values=_series(df, "plan"), sums=False),
            Col(act, values=_series(df, "actual"), sums=False),
            Col(planned, "diff", operands=(1, 0)),
            Col(actual, "diff", operands=(2, 0)),
            Col(("ratio_pct", actual, planned), "ratio", operands=(4, 3), fmt="ratio"),
            Col(("diff", plan, act), "diff", operands=(1, 2))]
    fill_columns(s, cls, rows, cols, 2, lang)
    low = _series(df, "low_base") if "low_base" in df else {}
    statuses = dict(zip(codes, df["status"], strict=True)) if "status" in df else {}
    for code, r in rows.items():
        s.put(r, 9, Cell(_label(STATUS_TEXT, statuses.get(code), lang)))
        if low.get(code) and s.cells.get((r, 7)) is not None:
            s.cells[(r, 7)].comment = ("Mẫu số (6) nhỏ: tỷ lệ ít ý nghĩa" if lang == "vi"
                                       else "Small planned change (6): the ratio means little")
    return finish(s, 10)


def allocation_sheet(name: str, cls: Classification, table: pd.DataFrame, base: Mapping, approved: Mapping,
                     base_year: int, start_year: int, target_year: int, approved_id: str, lang: str = "vi",
                     title: str = "", printed: PublishedTable | None = None, start: Mapping | None = None) -> Sheet:
    """Bảng 26 layout with the model's allocation in column (7).

    ``start``: the inventory of ``start_year`` by code for column (5) (blank where it gives no figure, even where
    the model starts a type from 0); default: the table's ``area_start``.

    ``table``: ``code, name, area_start, area_<target_year>, target, deviation`` (ha). ``base``/``approved``: areas of
    ``base_year`` and of the approved plan by code. Columns (8)=(7)-(4), (9)=(7)-(5), (10)=(7)-(6) and
    (12)=(7)-(11) (deviation from the scenario's target) are formulas.
    """
    widths = [WIDTH_STT, WIDTH_NAME - 6, WIDTH_CODE] + [WIDTH_NUM] * 9
    s = Sheet(name, title, widths, measure=t("unit_ha", lang), mirrors=printed.id if printed else None,
              number=table_number(printed, lang))
    numbers = [f"({i})" for i in range(1, 8)] + ["(8)=(7)-(4)", "(9)=(7)-(5)", "(10)=(7)-(6)", "(11)",
                                                  "(12)=(7)-(11)"]
    first = s.start_table(2, numbers)
    for c, text in [(0, t("tt", lang)), (1, t("indicator_use", lang)), (2, t("code", lang)),
                    (3, t("status_year", lang, y=base_year)), (4, t("status_year", lang, y=start_year)),
                    (5, t("approved_star", lang)), (6, t("allocated", lang, t=target_year)),
                    (10, t("target", lang)), (11, t("deviation", lang))]:
        s.head(first, c, first + 1, c, text)
    s.head(first, 7, first, 9, t("compare", lang))
    for c, text in [(7, t("vs_year", lang, y=base_year)), (8, t("vs_year", lang, y=start_year)),
                    (9, t("vs_plan", lang))]:
        s.head(first + 1, c, first + 1, c, text)
    codes = [str(c) for c in table["code"]]
    stt = derived_stt(cls, codes)
    names = dict(zip(codes, table["name"], strict=True)) if "name" in table else None
    rows = tree_rows(s, cls, codes, stt, lang, set(), names)
    for code, r in rows.items():
        s.put(r, 2, Cell(code if code != cls.root else "", align="center"))
    b, st, ap, al = ("status", base_year), ("status", start_year), ("plan", approved_id), ("plan", "allocation")
    start = dict(start) if start is not None else _series(table, "area_start")
    cols = [Col(b, values=dict(base)), Col(st, values=start),
            Col(ap, values=dict(approved)), Col(al, values=_series(table, f"area_{target_year}")),
            Col(("diff", al, b), "diff", operands=(3, 0)), Col(("diff", al, st), "diff", operands=(3, 1)),
            Col(("diff", al, ap), "diff", operands=(3, 2)),
            Col(("target",), values=_series(table, "target"), sums=False),
            Col(("deviation",), "diff", operands=(3, 7))]
    fill_columns(s, cls, rows, cols, 3, lang)
    finish(s, 12)
    structure_chart(s, cls, rows, 6, target_year, lang)
    return s


def findings_sheet(name: str, findings: pd.DataFrame, link: Callable[[Mapping[str, object]], str | None],
                   lang: str = "vi", title: str = "") -> Sheet:
    """The reconciliation findings, errors first, each with an internal link to the cell it concerns.

    ``findings``: the findings schema; the optional text columns of :func:`landuse.wording.display_findings`
    (``check_text``, ``source_text``, ``column_text``, ``message_text``) are shown in place of the keys."""
    heads = FINDING_HEADERS[lang]
    s = Sheet(name, title, [5, 10, 18, 13, 7, 22, 12, 12, 12, 70, 6, 20], signed=False, paper="A3")  # ≈ 9 pt
    first = s.start_table(1)
    for c, text in enumerate(heads):
        s.head(first, c, first, c, text)
    f = findings.copy()
    f["_order"] = f["severity"].map(SEVERITY_ORDER).fillna(9)
    f = f.sort_values("_order", kind="stable")
    numbers = {key: (pd.to_numeric(f[key], errors="coerce") if key in f else pd.Series(np.nan, index=f.index))
               .astype(float).to_numpy() for key in ("expected", "found", "difference")}
    r = s.first_data_row
    for i, row in enumerate(f.to_dict("records")):  # read with .get, as a Series would be
        sev = str(row.get("severity", ""))
        if sev == "error":
            s.row_styles[r] = "error"
        values = [str(i + 1), _label(SEVERITY_TEXT, sev, lang), row.get("check_text", row.get("check")),
                  row.get("source_text", row.get("source")), row.get("row"),
                  row.get("column_text", row.get("column"))]
        for c, v in enumerate(values):
            s.put(r, c, Cell("" if is_missing(v) else str(v), align="center" if c in (0, 4, 5) else None))
        for c, key in [(6, "expected"), (7, "found"), (8, "difference")]:
            v = numbers[key][i]
            s.put(r, c, Cell(None if np.isnan(v) else float(v), fmt="num"))
        msg = row.get("message_text", row.get("message"))
        s.put(r, 9, Cell("" if is_missing(msg) else str(msg)))
        page = row.get("page")
        s.put(r, 10, Cell("" if is_missing(page) else str(page), align="center"))
        target = link(row)
        shown = target.replace("''", "'").lstrip("'").replace("'!", "!", 1) if target else ""
        s.put(r, 11, Cell(shown, link=target))
        r += 1
    s.last_row = max(s.last_row, r - 1)
    s.table_cols = len(heads)
    s.freeze = (s.first_data_row, 0)
    return s


def cover_sheet(name: str, title: str, items: list[tuple[str, str]], sources: pd.DataFrame,
                contents: list[tuple[str, str]], lang: str = "vi") -> Sheet:
    """Cover: key/value lines (dataset, scenario, solver, date, version), the source tables, the sheet list.

    ``sources``: one row per published table (``id, title, pages, lines, file``); ``contents``: (sheet name,
    description) with a link to each sheet.
    """
    s = Sheet(name, title, [24, 80, 9, 12, 16])
    r = 2
    for k, v in items:
        s.put(r, 0, Cell(k, bold=True))
        s.put(r, 1, Cell(v))
        r += 1
    r += 1
    s.put(r, 0, Cell("Bảng nguồn" if lang == "vi" else "Source tables", bold=True))
    r += 1
    heads = (["Bảng", "Tên bảng", "Trang", "Dòng (văn bản)", "Tệp"] if lang == "vi"
             else ["Table", "Title", "Pages", "Lines (text)", "File"])
    for c, h in enumerate(heads):
        s.put(r, c, Cell(h, bold=True, align="center"))
    r += 1
    for _, row in sources.iterrows():
        for c, key in enumerate(["id", "title", "pages", "lines", "file"]):
            s.put(r, c, Cell(str(row.get(key, ""))))
        r += 1
    r += 1
    s.put(r, 0, Cell("Các trang tính" if lang == "vi" else "Sheets", bold=True))
    r += 1
    for sheet_name, desc in contents:
        s.put(r, 0, Cell(sheet_name, link="'" + sheet_name.replace("'", "''") + "'!A1"))
        s.put(r, 1, Cell(desc))
        r += 1
    s.last_row = r - 1
    s.table_cols = 5
    s.header_rows = (0, 0)
    return s


__all__ = ["allocation_sheet", "cover_sheet", "findings_sheet", "fulfilment_sheet", "NAME_COL"]
