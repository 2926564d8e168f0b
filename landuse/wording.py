"""Findings in words, from their structured fields (check, source table, code, column, year, figures).

The checks write an English ``message`` for the terminal; a Vietnamese reader needs the quantity named in words
("diện tích năm 2014", "phương án được duyệt (QĐ 236/QĐ-TTg)", "tỷ lệ thực hiện"), not a printed column number
alone. :func:`finding_messages` composes each finding's text from its fields and the manifest (the column's
kind, year and plan; the table's printed number "Bảng 26"; the plan's decision), never by translating the
English text. Figures are in ha, in the language's number format (vi: 719.739 and 2,13).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd

from landuse.dataset import ColumnSpec, Dataset, PublishedTable

CHECK_NAMES: dict[str, tuple[str, str]] = {
    "blank-operand": ("Ô trống trong phép tính", "blank operand"),
    "blank-part": ("Thành phần để trống", "blank part"),
    "blank-result": ("Kết quả để trống", "blank result"),
    "boundary": ("Thay đổi địa giới", "boundary change"),
    "classification": ("Hệ thống phân loại", "classification"),
    "code": ("Mã loại đất", "land code"),
    "cross-table": ("Số liệu giữa các bảng", "across tables"),
    "derived": ("Cột tính theo công thức", "derived column"),
    "flow-conflict": ("Luồng chuyển mâu thuẫn", "conflicting flows"),
    "hierarchy": ("Tổng các thành phần", "sum of the parts"),
    "total": ("Tổng diện tích", "total area"),
}


def check_name(check: object, lang: str = "vi") -> str:
    """The check's name in ``lang`` (an unknown check keeps its key)."""
    pair = CHECK_NAMES.get(str(check))
    return str(check) if pair is None else pair[0 if lang == "vi" else 1]


def number(v: object, lang: str = "vi") -> str:
    """A figure as people read it: whole numbers with thousands separators, else two decimals; blank as "-"."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "-"
    f = float(v)
    s = f"{f:,.0f}" if abs(f - round(f)) < 1e-9 else f"{f:,.2f}"
    return s.translate(str.maketrans(",.", ".,")) if lang == "vi" else s


def table_name(ds: Dataset, source: str) -> str:
    """``Bảng 26`` for a published table, ``số liệu kiểm kê năm 2024`` for an inventory, else the source key."""
    t = ds.tables.get(source)
    if t is not None:
        m = re.match(r"\s*((?:Bảng|Biểu)\s+[\w/.-]*\w)\.\s", t.title)
        return m.group(1) if m else t.id
    m = re.fullmatch(r"inventory[-_ ]?(\d{4})", source or "")
    if m:
        return f"số liệu kiểm kê năm {m.group(1)}"
    if source == "flows":
        return "các luồng chuyển đổi nêu trong thuyết minh"
    return str(source)


def _plan_words(ds: Dataset, spec: ColumnSpec) -> str:
    """``phương án được duyệt (QĐ 236/QĐ-TTg)``: the printed column label with the decision the plan cites."""
    label = ds.plans.get(spec.plan or "", {}).get("label", "")
    decision = re.search(r"\(([^()]*\d+/[^()]*)\)", label)
    words = spec.label.rstrip("*").strip()
    words = words[:1].lower() + words[1:]
    return f"{words} ({decision.group(1)})" if decision and decision.group(1) not in words else words


def column_words(ds: Dataset, table: PublishedTable, spec: ColumnSpec) -> str:
    """What a printed column holds, in Vietnamese words."""
    if spec.kind == "value":
        return f"diện tích năm {spec.year}" if spec.quantity != "plan" else _plan_words(ds, spec)
    ops = [table.column(o) for o in spec.operands]
    if spec.kind == "diff" and len(ops) == 2:
        if all(o.kind == "value" and o.quantity != "plan" for o in ops):
            return f"biến động diện tích năm {ops[1].year}–{ops[0].year}"
        return f"chênh lệch giữa {column_words(ds, table, ops[0])} và {column_words(ds, table, ops[1])}"
    if spec.kind == "ratio_pct":
        return "tỷ lệ thực hiện"
    if spec.kind == "share_pct":
        return "tỷ lệ so với diện tích tự nhiên"
    return spec.label[:1].lower() + spec.label[1:]


def find_column(table: PublishedTable, column: object) -> ColumnSpec | None:
    """The column a finding names by its printed number ``(6)`` (or its id)."""
    col = str(column or "").strip()
    for spec in table.columns:
        if spec.id == col or spec.number.split("=")[0].strip() == col:
            return spec
    return None


class _Finding:
    """One finding's fields with the words derived from them (table, column, code, place in the text)."""

    def __init__(self, ds: Dataset, row: Mapping[str, object]):
        self.ds, self.row = ds, row
        self.source = str(row.get("source") or "")
        self.table = ds.tables.get(self.source)
        self.spec = find_column(self.table, row.get("column")) if self.table is not None else None
        self.code = str(row.get("row") or "")
        cls = ds.classification
        self.code_words = f"{self.code} ({cls.name(self.code)})" if self.code in cls.table.index else self.code
        line = row.get("line")
        self.where = table_name(ds, self.source) + (f", dòng {line}" if str(line or "").strip() else "")
        self.col = (column_words(ds, self.table, self.spec) if self.spec is not None
                    else self._free_column(str(row.get("column") or "")))
        self.years = [str(int(y)) for y in (row.get("year_from"), row.get("year")) if pd.notna(y)]  # key columns

    def _free_column(self, col: str) -> str:
        """The quantity of a finding outside a published table's columns, in words, from its year key columns."""
        y0, y1 = self.row.get("year_from"), self.row.get("year")
        if pd.notna(y0) and pd.notna(y1):
            return f"biến động diện tích năm {int(y0)}–{int(y1)}"
        return f"diện tích năm {int(y1)}" if pd.notna(y1) and col in ("", str(int(y1))) else (col or "")

    def n(self, key: str) -> str:
        return number(self.row.get(key), "vi")

    def value(self, spec: ColumnSpec) -> float | None:
        v = self.table.values(spec.id).get(self.code) if self.table is not None else None
        return None if v is None or pd.isna(v) else float(v)

    def blank_operands(self) -> str:
        ops = [self.table.column(o) for o in (self.spec.operands if self.spec else ())]
        blank = [f"{column_words(self.ds, self.table, o)} {o.number}" for o in ops if self.value(o) is None]
        return " và ".join(blank) or "một số hạng"

    def blank_parts(self) -> list[str]:
        cls = self.ds.classification
        parts = cls.parts(self.code) if self.code in cls.table.index else []
        vals = self.table.values(self.spec.id) if self.table is not None and self.spec else pd.Series(dtype=float)
        return [p for p in parts if p in vals.index and pd.isna(vals[p])]

    def other_print(self) -> str:
        """Where else the same quantity is printed with the ``expected`` figure (cross-table findings)."""
        if self.spec is None:
            return "bảng khác"
        want = self.row.get("expected")
        for t in self.ds.tables.values():
            if t.id == self.source:
                continue
            for s in t.columns:
                same = (s.kind == "value" and s.quantity == self.spec.quantity
                        and (s.year == self.spec.year if s.quantity != "plan" else self._same_plan(s.plan)))
                v = t.values(s.id).get(self.code) if same else None
                if same and (pd.isna(want) and (v is None or pd.isna(v)) or (v is not None and v == want)):
                    return f"{table_name(self.ds, t.id)} cột {s.number.split('=')[0]}"
        return "bảng khác"

    def _same_plan(self, other: str | None) -> bool:
        plans, mine = self.ds.plans, self.spec.plan
        linked = {mine, plans.get(mine or "", {}).get("same_as")}
        return other in linked or plans.get(other or "", {}).get("same_as") == mine


def _vi_hierarchy(f: _Finding) -> str:
    return (f"{f.where}: {f.col} của {f.code_words} in {f.n('found')}, tổng các thành phần là {f.n('expected')} "
            f"(chênh lệch {f.n('difference')} ha)")


def _vi_derived(f: _Finding) -> str:
    formula = f.spec.number if f.spec else ""
    return (f"{f.where}: {f.col} {formula} của {f.code_words} in {f.n('found')}, tính lại từ các số in được là "
            f"{f.n('expected')} (chênh lệch {f.n('difference')})")


def _vi_blank_operand(f: _Finding) -> str:
    return (f"{f.where}: {f.col} {f.spec.number if f.spec else ''} của {f.code_words} in {f.n('found')} dù "
            f"{f.blank_operands()} để trống; chỉ khớp công thức khi coi ô trống là 0")


def _vi_blank_part(f: _Finding) -> str:
    if pd.isna(f.row.get("found")):
        return (f"{f.where}: {f.col} của {f.code_words} để trống, dù các thành phần có số liệu "
                f"(tổng {f.n('expected')})")
    parts = ", ".join(f.blank_parts())
    return (f"{f.where}: {f.col} của {f.code_words} in {f.n('found')} nhưng các thành phần {parts} để trống "
            "(không phân tách được)")


def _vi_blank_result(f: _Finding) -> str:
    return (f"{f.where}: {f.col} {f.spec.number if f.spec else ''} của {f.code_words} để trống, nhưng công thức từ "
            f"các số in được cho {f.n('expected')} (số 0 bị để trống?)")


def _vi_boundary(f: _Finding) -> str:
    years = f.years or ["?", "?"]
    return (f"Tổng diện tích tự nhiên thay đổi {f.n('difference')} ha từ năm {years[0]} ({f.n('expected')}) đến năm "
            f"{years[-1]} ({f.n('found')}): do thay đổi địa giới hành chính, không phải biến động sử dụng đất")


def _vi_classification(f: _Finding) -> str:
    year = f.spec.year if f.spec is not None and f.spec.year else ""
    return (f"{f.where}: {f.col} của {f.code_words} để trống vì loại đất này không có trong hệ thống phân loại "
            f"áp dụng năm {year} (không phải biến động từ 0)")


def _vi_code(f: _Finding) -> str:
    raw = f.table.raw if f.table is not None else None
    printed = ""
    if raw is not None and "line" in raw and "code_printed" in raw:
        hit = raw[raw["line"].astype(str) == str(f.row.get("line"))]
        printed = str(hit["code_printed"].iloc[0]).strip() if len(hit) else ""
    if printed and printed.lower() != "nan":
        return f"{f.where}: mã in là '{printed}' nhưng dòng này là {f.code_words}"
    return f"{f.where}: không in mã; dòng được xác định là {f.code_words} theo tên và vị trí"


def _vi_cross_table(f: _Finding) -> str:
    return (f"{f.code_words}, {f.col}: {f.where} cột {f.spec.number.split('=')[0] if f.spec else ''} in "
            f"{f.n('found')}, {f.other_print()} in {f.n('expected')}")


def _vi_flow_conflict(f: _Finding) -> str:
    return (f"Luồng chuyển {f.row.get('column')} được nêu hai lần với số khác nhau: {f.n('expected')} ha và "
            f"{f.n('found')} ha (dòng {f.row.get('line')})")


VI_TEMPLATES: dict[str, Callable[[_Finding], str]] = {
    "hierarchy": _vi_hierarchy, "total": _vi_hierarchy, "derived": _vi_derived,
    "blank-operand": _vi_blank_operand, "blank-part": _vi_blank_part, "blank-result": _vi_blank_result,
    "boundary": _vi_boundary, "classification": _vi_classification, "code": _vi_code,
    "cross-table": _vi_cross_table, "flow-conflict": _vi_flow_conflict,
}
SEVERITY_SUFFIX = {"rounding": " — trong sai số làm tròn"}


def finding_message(ds: Dataset, row: Mapping[str, object], lang: str = "vi") -> str:
    """One finding in words: Vietnamese composed from its fields; English is the check's own message. A check
    without a Vietnamese template keeps its message."""
    msg = "" if pd.isna(row.get("message")) else str(row.get("message"))
    template = VI_TEMPLATES.get(str(row.get("check")))
    if lang != "vi" or template is None:
        return msg
    return template(_Finding(ds, row)) + SEVERITY_SUFFIX.get(str(row.get("severity")), "")


def finding_messages(ds: Dataset, findings: pd.DataFrame, lang: str = "vi") -> pd.Series:
    """:func:`finding_message` of every row (index kept)."""
    rows = findings.to_dict("records")  # each row read with .get, as a Series would be
    return pd.Series([finding_message(ds, r, lang) for r in rows], index=findings.index, dtype=object)


def column_label(ds: Dataset, source: object, column: object, lang: str = "vi") -> str:
    """A finding's column as printed, with its words in Vietnamese: ``(4) diện tích năm 2020``."""
    col = "" if column is None or pd.isna(column) else str(column)
    t = ds.tables.get(str(source or ""))
    spec = find_column(t, col) if t is not None else None
    if lang != "vi" or spec is None:
        return col
    return f"{col} {column_words(ds, t, spec)}"


def display_findings(ds: Dataset, findings: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """The findings with the texts a person reads beside the key fields (kept for links): ``check_text``,
    ``source_text`` ("Bảng 26"), ``column_text`` ("(4) diện tích năm 2020"), ``message_text``."""
    out = findings.copy()
    vi = lang == "vi"
    out["check_text"] = [check_name(c, lang) for c in findings["check"]] if vi else findings["check"]
    out["source_text"] = [table_name(ds, str(s)) if vi else s for s in findings["source"]]
    out["column_text"] = [column_label(ds, s, c, lang) for s, c in zip(findings["source"], findings["column"],
                                                                       strict=True)]
    out["message_text"] = finding_messages(ds, findings, lang)
    return out


def localized_findings(ds: Dataset, findings: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """The findings with ``check`` and ``message`` in ``lang`` (English: unchanged)."""
    if lang != "vi":
        return findings
    out = findings.copy()
    out["message"] = finding_messages(ds, findings, lang)
    out["check"] = [check_name(c, lang) for c in findings["check"]]
    return out


def findings_report(ds: Dataset, findings: pd.DataFrame, fmt: str = "table", lang: str = "en") -> str:
    """``landuse reconcile``'s output: the table for people with checks and messages in ``lang``; csv / json the
    findings as they are (machine fields, whatever the language)."""
    from landuse.reconcile import render_report

    return render_report(localized_findings(ds, findings, lang) if fmt == "table" else findings, fmt)
