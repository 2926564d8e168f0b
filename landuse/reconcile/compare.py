"""Cross-table comparison: every value printed for the same quantity in more than one place.

Two value columns hold the same quantity when their (quantity, year, plan) match; plan columns match when
their plans are prints of the same plan (manifest ``[plans.<id>] same_as``). For each quantity the first
source (an inventory not carried by a table, then the tables in manifest order) is the reference and every
other source is compared with it, naming both places. Areas in ha.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landuse.reconcile.base import EPS, Context, empty_findings, findings, fmt_value, key_label, keys, severity_by_gap


def _where(source: pd.Series, column: pd.Series, line: pd.Series) -> pd.Series:
    ln = line.fillna("").astype(str)
    return source + " " + column + np.where(ln != "", " l." + ln, "")


def _text(printed: pd.Series, value: pd.Series, blank: pd.Series, dash: pd.Series) -> pd.Series:
    t = printed.fillna("").astype(str).str.strip()
    alt = pd.Series([fmt_value(v) for v in value.to_numpy()], index=value.index)
    t = t.where(t != "", alt)
    return t.where(~blank.astype(bool) | dash.astype(bool), "blank")


def cross_table(ctx: Context) -> pd.DataFrame:
    """Compare every source of a quantity with the quantity's reference source, code by code."""
    obs = ctx.obs
    if obs.empty:
        return empty_findings()
    srcs = obs.drop_duplicates(["key", "source", "column"]).sort_values(["order", "source"], kind="stable")
    if srcs.groupby("key")["source"].nunique().max() < 2:
        return empty_findings()
    ref_col = srcs.groupby("key").head(1)[["key", "source", "column"]]
    ref = obs.merge(ref_col, on=["key", "source", "column"])
    other = obs.merge(ref_col.rename(columns={"source": "rs", "column": "rc"}), on="key")
    other = other[other["source"] != other["rs"]]
    cols = ["key", "unit", "code", "source", "table", "column", "col_id", "year", "value", "printed", "blank", "dash",
            "line", "page"]
    m = other[cols].merge(ref[cols], on=["key", "unit", "code"], suffixes=("", "_r"))
    both = ~m["blank"] & ~m["blank_r"]
    v, vr = m["value"].where(~m["dash"], 0.0), m["value_r"].where(~m["dash_r"], 0.0)
    gap = v - vr
    nil = both & (gap.abs() <= EPS) & (m["dash"] != m["dash_r"])
    differ = both & (gap.abs() > EPS)
    one_blank = (m["blank"] & ~m["dash"]) != (m["blank_r"] & ~m["dash_r"])
    one_blank &= ~(m["dash"] | m["dash_r"])
    sev = pd.Series(severity_by_gap(gap.fillna(0), ctx.tolerance), index=m.index).where(differ, "info")
    keep = differ | nil | one_blank
    m, sev, gap, differ = m[keep], sev[keep], gap[keep], differ[keep]
    if m.empty:
        return empty_findings()
    here = _where(m["source"], m["column"], m["line"])
    there = _where(m["source_r"], m["column_r"], m["line_r"])
    t, tr = _text(m["printed"], m["value"], m["blank"], m["dash"]), _text(m["printed_r"], m["value_r"],
                                                                         m["blank_r"], m["dash_r"])
    unit = np.where(obs["unit"].nunique() > 1, " (" + m["unit"].astype(str) + ")", "")
    msg = (m["code"] + unit + " " + m["key"].map(key_label) + ": " + here + " prints " + t + ", " + there
           + " prints " + tr)
    return findings(severity=sev, check="cross-table", source=m["source"], row=m["code"], column=m["column"],
                    expected=m["value_r"], found=m["value"], difference=gap.where(differ), message=msg,
                    line=m["line"], page=m["page"], _unit=m["unit"], **keys(m))
