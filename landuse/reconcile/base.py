"""Shared pieces of the reconciliation: the findings frame, severities, and the table of printed values.

Every check works on one long table of **observations**: one row per printed value cell (published tables)
or inventory figure, keyed by ``source`` (table id or ``inventory-<year>``), ``column`` (printed column
number or year), ``code`` and a comparison ``key`` (quantity | year | plan) saying which quantity the value
is, so that checks stay generic over the manifest's column specs. Areas in ha.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from landuse.classification import Classification
from landuse.dataset import Dataset
from landuse.findings import COLUMNS, empty_findings, findings  # noqa: F401 - re-exported for the checks

FINDING_COLUMNS = COLUMNS
SEVERITIES = ("error", "rounding", "info")  # the severities a reconciliation gives
EPS = 1e-6

OBS_COLUMNS = ["source", "table", "column", "col_id", "unit", "code", "key", "quantity", "year", "plan", "value",
               "printed", "blank", "dash", "bad", "line", "page", "order"]


def keys(frame: pd.DataFrame, code: str = "code") -> dict[str, object]:
    """The findings key columns (:data:`landuse.findings.KEY_COLUMNS`) of rows of an observations-like frame
    (columns ``table, col_id, unit, year`` and ``code``), to pass to :func:`findings`."""
    return {"table": frame["table"], "column_id": frame["col_id"], "unit": frame["unit"], "year": frame["year"],
            "code": frame[code]}


def severity_by_gap(gap: np.ndarray | pd.Series, tolerance: float) -> np.ndarray:
    """``error`` when |gap| exceeds ``tolerance`` (ha), else ``rounding``."""
    return np.where(np.abs(np.asarray(gap, dtype=float)) > tolerance + EPS, "error", "rounding")


def fmt_value(v: float) -> str:
    """A number as Vietnamese print would show it (``.`` thousands, ``,`` decimals)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "blank"
    s = f"{v:,.2f}".rstrip("0").rstrip(".") if abs(v - round(v)) > EPS else f"{round(v):,d}"
    return s.replace(",", "_").replace(".", ",").replace("_", ".")


def shown(printed: pd.Series, value: pd.Series) -> pd.Series:
    """The printed text where there is one, else the value formatted; ``blank`` for an empty cell."""
    text = printed.fillna("").astype(str).str.strip()
    alt = pd.Series([fmt_value(x) for x in value.to_numpy()], index=value.index)
    return text.where(text != "", alt)


def place(source: pd.Series, column: pd.Series, line: pd.Series) -> pd.Series:
    """``bang4 (3) l.5270`` — where a value is printed."""
    ln = line.fillna("").astype(str)
    return source.astype(str) + " " + column.astype(str) + np.where(ln != "", " l." + ln, "")


@dataclass
class Context:
    """What every check needs: the dataset, the tolerance (ha) and the observations table."""

    ds: Dataset
    tolerance: float
    obs: pd.DataFrame
    carried: dict[str, str] = field(default_factory=dict)  # inventory source -> table source it transcribes
    year_classes: dict[int, Classification] = field(default_factory=dict)
    read_as_zero: set[tuple[str, str, str]] = field(default_factory=set)  # (source, column, code)

    @property
    def cls(self) -> Classification:
        return self.ds.classification

    def new_codes(self, year: int) -> set[str]:
        """Codes of the dataset classification that did not exist in the classification in force in ``year``."""
        old = self.year_classes.get(int(year))
        return set() if old is None else set(self.cls.codes) - set(old.codes)


def plan_groups(ds: Dataset) -> dict[str, str]:
    """Plan id -> id of the plan it is a print of (manifest ``same_as``; chains followed), else itself."""
    plans = ds.plans
    out = {}
    for pid in plans:
        seen, cur = {pid}, pid
        while plans.get(cur, {}).get("same_as") and plans[cur]["same_as"] not in seen:
            cur = plans[cur]["same_as"]
            seen.add(cur)
        out[pid] = cur
    return out


def _key(quantity: pd.Series, year: pd.Series, plan: pd.Series) -> pd.Series:
    y = pd.to_numeric(year, errors="coerce")
    ys = y.round().astype("Int64").astype("string").fillna("").astype(str)
    return quantity.fillna("").astype(str) + "|" + ys + "|" + plan.fillna("").astype(str)


def key_label(key: str) -> str:
    """``status|2024|`` -> ``status 2024``; ``plan|2030|qd236`` -> ``plan qd236 (2030)``."""
    q, y, p = (key.split("|") + ["", "", ""])[:3]
    return f"plan {p} ({y})" if p else f"{q} {y}".strip()


def table_cells(ds: Dataset) -> pd.DataFrame:
    """All published tables' cells (rows with a code), with ``source`` and the short printed column number."""
    frames = [t.cells for t in ds.tables.values()]
    if not frames:
        return pd.DataFrame(columns=["table", "source", "col_id", "line", "page", "code", "column", "printed", "value",
                                     "bad", "blank", "dash", "number", "kind", "quantity", "year", "plan", "_row"])
    cells = pd.concat(frames, ignore_index=True)
    cells = cells[cells["code"] != ""].copy()
    cells["col_id"] = cells["column"]
    cells["column"] = cells["number"].str.split("=").str[0].str.strip()
    cells["source"] = cells["table"]
    return cells


def observations(ds: Dataset) -> tuple[pd.DataFrame, dict[str, str]]:
    """Value observations of every table value column and every inventory year.

    An inventory year whose every figure is a transcription of one published table's cells (same table named in
    ``source``, same line, same value) is *carried* by that table: it is left out (the table's cells stand for it),
    so that one printed inconsistency is reported once. Returns (observations, {inventory source: table}).
    """
    groups = plan_groups(ds)
    cells = table_cells(ds)
    vals = cells[cells["kind"] == "value"].copy()
    units = ds.units
    vals["unit"] = units[0] if len(units) == 1 else ds.name  # a published table describes the whole dataset
    vals["plan"] = vals["plan"].map(lambda p: groups.get(p, p) if isinstance(p, str) and p else "")
    vals["key"] = _key(vals["quantity"], vals["year"], vals["plan"])
    order = {tid: i + 1 for i, tid in enumerate(ds.tables)}
    vals["order"] = vals["source"].map(order)
    inv = ds.inventory.copy()
    inv["source_table"] = inv["source"] if "source" in inv else ""
    inv["line"] = inv["line"].astype(str) if "line" in inv else ""
    inv["page"] = inv["page"].astype(str) if "page" in inv else ""
    inv["source"] = "inventory-" + inv["year"].astype(str)
    inv["column"] = inv["year"].astype(str)
    inv["col_id"] = ""
    inv["table"] = ""
    inv["quantity"], inv["plan"] = "status", ""
    inv["key"] = _key(inv["quantity"], inv["year"], inv["plan"])
    inv["value"] = inv["area_ha"]
    inv["printed"] = ""
    inv["blank"] = inv["value"].isna()
    inv["dash"] = inv["bad"] = False
    inv["order"] = 0
    carried = _carried(inv, vals)
    inv = inv[~inv["source"].isin(carried)]
    obs = pd.concat([x[OBS_COLUMNS] for x in (inv, vals) if len(x)] or [inv[OBS_COLUMNS]], ignore_index=True)
    for c in ("blank", "dash", "bad"):
        obs[c] = obs[c].astype(bool)
    obs["value"] = obs["value"].astype(float)
    obs["year"] = pd.to_numeric(obs["year"], errors="coerce")
    obs["line"] = obs["line"].fillna("").astype(str)
    obs["page"] = obs["page"].fillna("").astype(str)
    return obs, carried


def _carried(inv: pd.DataFrame, vals: pd.DataFrame) -> dict[str, str]:
    status = vals[vals["quantity"] == "status"][["source", "line", "year", "code", "value"]]
    m = inv.merge(status, left_on=["source_table", "line", "year", "code"],
                  right_on=["source", "line", "year", "code"], how="left", suffixes=("", "_t"))
    same = (m["value"] == m["value_t"]) | (m["value"].isna() & m["value_t"].isna() & m["source_t"].notna())
    ok = same.groupby(m["source"]).all()
    tables = m.groupby("source")["source_table"].first()
    return {s: str(tables[s]) for s in ok.index[ok]}
