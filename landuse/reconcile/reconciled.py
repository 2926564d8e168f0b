"""The reconciled long table: one status area per (unit, year, code), with the source it came from and why.

For each (unit, year, code) every printed status value is a candidate. The chosen value is the first
non-blank one in the order: the inventory, then the published tables in manifest order (an inventory that is
a transcription of a table is represented by that table's cells). Areas in ha; NaN = no value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landuse.dataset import Dataset
from landuse.reconcile.base import Context, fmt_value, observations

RECONCILED_COLUMNS = ["unit", "year", "code", "area_ha", "source", "column", "line", "status", "reason"]


def reconciled_table(ds: Dataset, found: pd.DataFrame | None = None,
                     observed: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One value per (unit, year, code) for every status year printed anywhere; see the module docstring.

    ``status``: ``agreed`` (several sources, same value), ``single`` (one source), ``conflict`` (other sources
    differ; listed in ``reason``), ``not-in-classification`` or ``blank`` (no value anywhere).
    ``found`` (the findings) adds the sum errors of the chosen cell to ``reason``. ``observed``:
    :func:`~landuse.reconcile.base.observations` of ``ds`` when already made.
    """
    obs, carried = observed or observations(ds)
    ctx = Context(ds, 0.0, obs, carried, ds.year_classes)
    o = obs[obs["quantity"] == "status"].copy()
    if o.empty:
        return pd.DataFrame(columns=RECONCILED_COLUMNS)
    o["year"] = o["year"].astype(int)
    o = o.sort_values(["unit", "year", "code", "blank", "order"], kind="stable")
    keys = ["unit", "year", "code"]
    chosen = o.drop_duplicates(keys).copy()
    vals = o[~o["blank"]]
    n_src = vals.groupby(keys)["source"].count().rename("n")
    chosen = chosen.join(n_src, on=keys)
    vals = vals.merge(chosen[keys + ["value"]].rename(columns={"value": "v0"}), on=keys)
    diff = vals[(vals["value"] - vals["v0"]).abs() > 1e-9]
    listed = (diff["source"] + " " + diff["column"] + " " + diff["value"].map(fmt_value).astype(str)).groupby(
        [diff[k] for k in keys]).agg("; ".join).rename("others")
    chosen = chosen.join(listed, on=keys)
    inv_of = {s: t for s, t in carried.items()}
    label = np.where(chosen["source"].str.startswith("inventory-"), "the inventory",
                     "printed in " + chosen["source"] + " " + chosen["column"])
    carried_years = {int(s.split("-")[1]) for s in inv_of}
    label = np.where(chosen["year"].isin(carried_years) & ~chosen["source"].str.startswith("inventory-"),
                     "the " + chosen["year"].astype(str) + " inventory as " + pd.Series(label, index=chosen.index),
                     label)
    new = pd.Series(False, index=chosen.index)
    for y in ctx.year_classes:
        new |= (chosen["year"] == y) & chosen["code"].isin(ctx.new_codes(y))
    status = np.select([chosen["blank"] & new, chosen["blank"], chosen["others"].notna(), chosen["n"] > 1],
                       ["not-in-classification", "blank", "conflict", "agreed"], "single")
    reason = np.select(
        [status == "not-in-classification", status == "blank", status == "conflict", status == "agreed"],
        ["the category is not in that year's classification", "no source prints a value",
         pd.Series(label, index=chosen.index) + "; differs from " + chosen["others"].fillna(""),
         pd.Series(label, index=chosen.index) + "; " + chosen["n"].fillna(0).astype(int).astype(str)
         + " sources agree"], pd.Series(label, index=chosen.index))
    chosen["status"], chosen["reason"] = status, reason
    bad = found[found["check"].isin(["hierarchy", "total"]) & (found["severity"] == "error")] \
        if found is not None and not found.empty else pd.DataFrame()
    if not bad.empty:
        note = ("does not equal the sum of its parts " + bad["expected"].map(fmt_value).astype(str)).groupby(
            [bad["source"], bad["column"], bad["row"]]).first()
        idx = pd.MultiIndex.from_arrays([chosen["source"], chosen["column"], chosen["code"]])
        extra = pd.Series(note.reindex(idx).to_numpy(), index=chosen.index)
        chosen["reason"] = chosen["reason"].where(extra.isna(), chosen["reason"] + "; " + extra.fillna(""))
    chosen["area_ha"] = chosen["value"]
    order = {c: i for i, c in enumerate(ds.classification.codes)}
    chosen["_o"] = chosen["code"].map(order)
    chosen = chosen.sort_values(["unit", "year", "_o"], kind="stable")
    return chosen[RECONCILED_COLUMNS].reset_index(drop=True)
