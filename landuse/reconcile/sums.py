"""Checks within one column of areas: the hierarchy (parent = sum of its parts; of-which ≤ parent), the total
natural area, boundary changes of the total between inventories, and classification continuity.

A blank part counts as 0 when its category did not exist in that year's classification, or when the table's
own derived cells read it as 0; any other blank part means "not given", and the breakdown is then incomplete:
the listed parts may not exceed the parent, but need not add up to it. Parts that are no row of the table at
all (the table prints a selection) make the breakdown incomplete the same way, unless the category holds no
area anywhere in the dataset (e.g. salt land in an inland province). Areas in ha.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landuse.reconcile.base import (
    EPS,
    Context,
    empty_findings,
    findings,
    fmt_value,
    key_label,
    keys,
    severity_by_gap,
    shown,
)

COL_KEYS = ["source", "column", "unit"]


def _edges(ctx: Context, relation: str) -> pd.DataFrame:
    t = ctx.cls.table
    e = t[t["relation"] == relation].reset_index()[["code", "parent"]]
    return e.rename(columns={"code": "child"})


def _present_codes(ctx: Context) -> set[str]:
    """Codes holding a non-zero area somewhere in the dataset (inventory or any table value cell)."""
    o = ctx.obs
    return set(o.loc[o["value"].fillna(0) != 0, "code"])


def hierarchy(ctx: Context) -> pd.DataFrame:
    """Parent against the sum of its parts, and of-which rows against their parent, in every value column."""
    obs = ctx.obs
    if obs.empty:
        return empty_findings()
    cols = obs.drop_duplicates(COL_KEYS)[COL_KEYS + ["key", "order", "year", "table", "col_id"]]
    parts = cols.merge(_edges(ctx, "part"), how="cross")
    child = obs[COL_KEYS + ["code", "value", "blank", "dash"]].rename(columns={"code": "child"})
    parts = parts.merge(child, on=COL_KEYS + ["child"], how="left")
    parts["row"] = parts["blank"].notna()
    parts["blank"] = parts["blank"].fillna(False).astype(bool)
    trip = pd.MultiIndex.from_frame(parts[["source", "column", "child"]])
    zero = pd.Series(trip.isin(list(ctx.read_as_zero)) if ctx.read_as_zero else False, index=parts.index, dtype=bool)
    new = pd.Series(False, index=parts.index)
    for y in parts["year"].dropna().unique():
        new |= (parts["year"] == y) & parts["child"].isin(ctx.new_codes(int(y)))
    present = _present_codes(ctx)
    parts["not_given"] = parts["blank"] & ~zero & ~new
    parts["missing"] = ~parts["row"] & parts["child"].isin(present)
    parts["listed"] = parts["row"] & ~parts["blank"]
    parts["ng_name"] = (parts["child"] + ", ").where(parts["not_given"], "")
    g = parts.groupby(COL_KEYS + ["parent", "year", "table", "col_id"], sort=False, dropna=False)
    agg = pd.DataFrame({"total": g["value"].sum(min_count=1), "listed": g["listed"].sum(),
                        "not_given": g["not_given"].sum(), "missing": g["missing"].sum(),
                        "ng": g["ng_name"].sum().str.removesuffix(", ")}).reset_index()
    par = obs.rename(columns={"code": "parent"})
    agg = agg.merge(par[COL_KEYS + ["parent", "key", "value", "printed", "blank", "line", "page"]],
                    on=COL_KEYS + ["parent"], how="inner")
    agg = agg[agg["listed"] > 0]
    out = [_sum_findings(ctx, agg), _blank_findings(agg), _of_which(ctx)]
    return pd.concat(out, ignore_index=True)


def _where(a: pd.DataFrame) -> pd.Series:
    multi = a["unit"].nunique() > 1
    unit = np.where(multi, " (" + a["unit"].astype(str) + ")", "")
    ln = np.where(a["line"] != "", " l." + a["line"].astype(str), "")
    return a["source"] + " " + a["column"] + ln + unit


def _sum_findings(ctx: Context, agg: pd.DataFrame) -> pd.DataFrame:
    a = agg[~agg["blank"] & agg["value"].notna()].copy()
    complete = (a["not_given"] == 0) & (a["missing"] == 0)
    a["gap"] = a["value"] - a["total"]
    bad = (complete & (a["gap"].abs() > EPS)) | (~complete & (a["gap"] < -ctx.tolerance - EPS))
    a, complete = a[bad], complete[bad]
    if a.empty:
        return empty_findings()
    root = a["parent"] == ctx.cls.root
    what = np.where(complete, "the sum of its parts", "the sum of its listed parts (which may not exceed it)")
    msg = (_where(a) + " " + a["parent"] + ": printed " + shown(a["printed"], a["value"]) + ", " + what + " is "
           + a["total"].map(fmt_value) + " (" + a["key"].map(key_label) + ")")
    return findings(severity=severity_by_gap(a["gap"], ctx.tolerance), check=np.where(root, "total", "hierarchy"),
                    source=a["source"], row=a["parent"], column=a["column"], expected=a["total"], found=a["value"],
                    difference=a["gap"], message=msg, line=a["line"], page=a["page"], _key=a["key"], _unit=a["unit"],
                    **keys(a, "parent"))


def _blank_findings(agg: pd.DataFrame) -> pd.DataFrame:
    """A non-blank parent with parts that are blank (not given), and a blank parent with printed parts."""
    rest = agg["value"] - agg["total"]
    a = agg[(~agg["blank"] & (agg["not_given"] > 0) & (rest.abs() > EPS)) | agg["blank"]]
    if a.empty:
        return empty_findings()
    rest = a["value"] - a["total"]
    msg = np.where(a["blank"], _where(a) + " " + a["parent"] + ": blank, but its parts are printed (sum "
                   + a["total"].map(fmt_value) + ")",
                   _where(a) + " " + a["parent"] + ": printed " + shown(a["printed"], a["value"]) + " but its parts "
                   + a["ng"] + " are blank (" + rest.map(fmt_value) + " ha not broken down)")
    return findings(severity="info", check="blank-part", source=a["source"], row=a["parent"], column=a["column"],
                    expected=np.where(a["blank"], a["total"], np.nan), found=a["value"], message=msg,
                    line=a["line"], page=a["page"], _key=a["key"], _unit=a["unit"], **keys(a, "parent"))


def _of_which(ctx: Context) -> pd.DataFrame:
    obs = ctx.obs
    e = _edges(ctx, "of-which")
    ch = obs.merge(e, left_on="code", right_on="child")
    par = obs[COL_KEYS + ["code", "value", "printed"]].rename(columns={"code": "parent", "value": "pv",
                                                                       "printed": "pp"})
    m = ch.merge(par, on=COL_KEYS + ["parent"])
    m = m[(m["value"] > m["pv"] + EPS)]
    if m.empty:
        return empty_findings()
    gap = m["value"] - m["pv"]
    msg = (_where(m) + " " + m["code"] + ": printed " + shown(m["printed"], m["value"]) + ", more than its parent "
           + m["parent"] + " (" + shown(m["pp"], m["pv"]) + ") of which it is a part")
    return findings(severity=severity_by_gap(gap, ctx.tolerance), check="of-which", source=m["source"],
                    row=m["code"], column=m["column"], expected=m["pv"], found=m["value"], difference=gap,
                    message=msg, line=m["line"], page=m["page"], _key=m["key"], _unit=m["unit"], **keys(m))


def boundary(ctx: Context) -> pd.DataFrame:
    """The total natural area's change between consecutive inventories: a boundary change, not land use."""
    cls, inv = ctx.cls, ctx.ds.inventory
    rolled = cls.rollup(inv, ["unit", "year"])
    tot = rolled[rolled["code"] == cls.root].set_index(["unit", "year"])["area_ha"]
    given = inv[inv["code"] == cls.root].groupby(["unit", "year"])["area_ha"].sum(min_count=1)
    tot = given.reindex(tot.index).fillna(tot).reset_index().sort_values(["unit", "year"])
    tot["prev"] = tot.groupby("unit")["area_ha"].shift()
    tot["prev_year"] = tot.groupby("unit")["year"].shift()
    d = tot[tot["prev"].notna() & tot["area_ha"].notna()].copy()
    d["change"] = d["area_ha"] - d["prev"]
    d = d[d["change"].abs() > EPS]
    if d.empty:
        return empty_findings()
    multi = inv["unit"].nunique() > 1
    py = d["prev_year"].astype(int).astype(str)
    yy = d["year"].astype(str)
    msg = [f"{u + ': ' if multi else ''}the total natural area ({cls.root}) changes by {fmt_value(c)} ha from "
           f"{a} ({fmt_value(p)}) to {b} ({fmt_value(v)}): a boundary change, not a land-use change"
           for u, c, a, p, b, v in zip(d["unit"], d["change"], py, d["prev"], yy, d["area_ha"], strict=True)]
    return findings(severity="info", check="boundary", source="inventory-" + yy, row=cls.root,
                    column=py + "-" + yy, expected=d["prev"], found=d["area_ha"], difference=d["change"],
                    message=msg, _unit=d["unit"], unit=d["unit"], year=d["year"], year_from=d["prev_year"],
                    code=cls.root)


def continuity(ctx: Context) -> pd.DataFrame:
    """Blank cells of categories that did not exist in the classification in force that year (info)."""
    obs = ctx.obs
    frames = [empty_findings()]
    for y, old in ctx.year_classes.items():
        new = ctx.new_codes(y)
        o = obs[(obs["quantity"] == "status") & (obs["year"] == y) & obs["blank"] & obs["code"].isin(new)]
        if o.empty:
            continue
        msg = (_where(o) + " " + o["code"] + ": blank because the category is not in the " + old.id
               + " classification in force in " + str(y) + " (not a change from 0)")
        frames.append(findings(severity="info", check="classification", source=o["source"], row=o["code"],
                               column=o["column"], message=msg, line=o["line"], page=o["page"], _unit=o["unit"],
                               **keys(o)))
    return pd.concat(frames, ignore_index=True)
