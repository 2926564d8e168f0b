"""Checks on stated conversion flows (``extras["flows"]``: from_code, to_code, area_ha as printed, kind …).

* the same from→to pair stated more than once with different areas;
* the flows out of a category (conversions and other decreases) exceeding its area in the flows' start year
  (manifest ``[files.flows] from_year``). Areas in ha.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landuse.errors import Location
from landuse.readers.tables import ROW, parse_numbers, resolve_number_format
from landuse.reconcile.base import EPS, Context, empty_findings, findings, fmt_value, severity_by_gap


def _flows(ctx: Context) -> pd.DataFrame | None:
    f = ctx.ds.extras.get("flows")
    if f is None or not {"from_code", "to_code", "area_ha"} <= set(f.columns):
        return None
    f = f.copy()
    fmt = resolve_number_format(f["area_ha"], ctx.ds.number_format("flows"), Location.of(ctx.ds.file("flows")),
                                f[ROW] if ROW in f else None, "area_ha")
    values, bad = parse_numbers(f["area_ha"], fmt)
    f["area"] = values
    f["bad"] = bad
    for c in ("kind", "line", "page", "quote"):
        if c not in f:
            f[c] = ""
    f["kind"] = f["kind"].where(f["kind"] != "", "conversion")
    return f


def flows(ctx: Context) -> pd.DataFrame:
    f = _flows(ctx)
    if f is None:
        return empty_findings()
    return pd.concat([_bad(f), _conflicts(ctx, f), _exceeding(ctx, f)], ignore_index=True)


def _bad(f: pd.DataFrame) -> pd.DataFrame:
    b = f[f["bad"]]
    if b.empty:
        return empty_findings()
    msg = "flows l." + b["line"] + " " + b["from_code"] + "→" + b["to_code"] + ": area " + b["area_ha"] + \
        " is not a number"
    return findings(severity="error", check="non-numeric", source="flows", row=b["from_code"], column="area_ha",
                    message=msg, line=b["line"], page=b["page"], code=b["from_code"])


def _conflicts(ctx: Context, f: pd.DataFrame) -> pd.DataFrame:
    c = f[(f["kind"] == "conversion") & f["area"].notna()]
    g = c.groupby(["from_code", "to_code"], sort=False)
    spread = g["area"].agg(["min", "max", "nunique"]).reset_index()
    spread = spread[spread["nunique"] > 1]
    if spread.empty:
        return empty_findings()
    first = c.sort_values("area").drop_duplicates(["from_code", "to_code"])  # smallest statement
    last = c.sort_values("area").drop_duplicates(["from_code", "to_code"], keep="last")
    m = spread.merge(first, on=["from_code", "to_code"]).merge(last, on=["from_code", "to_code"], suffixes=("", "_2"))
    gap = m["max"] - m["min"]
    msg = [f"flow {a}→{b} is stated as {fmt_value(x)} ha (l.{l1}, about {ab1}) and as {fmt_value(y)} ha "
           f"(l.{l2}, about {ab2})" for a, b, x, l1, ab1, y, l2, ab2 in
           zip(m["from_code"], m["to_code"], m["area"], m["line"], m.get("about_code", m["from_code"]),
               m["area_2"], m["line_2"], m.get("about_code_2", m["to_code"]), strict=True)]
    return findings(severity=severity_by_gap(gap, ctx.tolerance), check="flow-conflict", source="flows",
                    row=m["from_code"], column=m["from_code"] + "→" + m["to_code"], expected=m["min"],
                    found=m["max"], difference=gap, message=msg, line=m["line_2"], page=m["page_2"],
                    code=m["from_code"])


def _exceeding(ctx: Context, f: pd.DataFrame) -> pd.DataFrame:
    spec = ctx.ds.manifest.get("files", {}).get("flows", {})
    year = spec.get("from_year")
    if year is None or int(year) not in ctx.ds.years:
        return empty_findings()
    out = f[(f["from_code"] != "") & f["area"].notna() & f["kind"].isin(["conversion", "other_decrease"])]
    out = out.groupby(["from_code", "to_code", "kind"], sort=False)["area"].min().reset_index()  # one per pair
    total = out.groupby("from_code", sort=False)["area"].agg(["sum", "count"])
    stock = ctx.cls.rollup(ctx.ds.inventory[ctx.ds.inventory["year"] == int(year)], [])
    stock = stock.set_index("code")["area_ha"]
    given = ctx.ds.stock(int(year))
    stock = given.reindex(stock.index).fillna(stock)
    total["stock"] = stock.reindex(total.index).fillna(0.0)
    over = total[total["sum"] > total["stock"] + EPS]
    if over.empty:
        return empty_findings()
    gap = over["sum"] - over["stock"]
    msg = [f"flows out of {c} sum to {fmt_value(s)} ha ({n} stated) but {c} had {fmt_value(st)} ha in {year}"
           for c, s, n, st in zip(over.index, over["sum"], over["count"], over["stock"], strict=True)]
    return findings(severity=severity_by_gap(gap, ctx.tolerance), check="flow-exceeds", source="flows",
                    row=np.asarray(over.index), column=str(year), expected=over["stock"], found=over["sum"],
                    difference=gap, message=msg, year=int(year), code=np.asarray(over.index))
