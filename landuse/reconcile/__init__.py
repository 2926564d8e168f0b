"""Reconciliation: every place where the inventories and the published tables do not add up.

``reconcile(ds)`` runs the checks and returns one findings table (columns :data:`FINDING_COLUMNS`), one row
per finding, errors first:

* ``hierarchy`` / ``total`` / ``of-which`` / ``blank-part`` — sums within each column of areas (:mod:`.sums`);
* ``boundary`` — the total natural area's change between inventories (a boundary change, not land use);
* ``derived`` / ``blank-operand`` / ``blank-result`` — printed derived cells recomputed (:mod:`.cells`);
* ``non-numeric`` / ``code`` — unreadable printed cells, printed codes that differ from the row's code;
* ``cross-table`` — the same quantity printed in several places (:mod:`.compare`);
* ``classification`` — categories missing from an old year's classification (not a change from 0);
* ``flow-conflict`` / ``flow-exceeds`` — stated conversion flows (:mod:`.flows`);
* ``skipped`` — what could not be checked.

Severity: ``error`` when a gap exceeds the tolerance (ha), ``rounding`` within it (or, for percent cells,
within what inputs rounded to ±0.5 ha can give), ``info`` for notes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landuse.dataset import Dataset
from landuse.findings import COLUMNS as FINDING_COLUMNS
from landuse.findings import concat, conform, empty_findings, findings, order_by_severity
from landuse.reconcile.base import SEVERITIES, Context, observations
from landuse.reconcile.cells import derived_cells, non_numeric, printed_codes
from landuse.reconcile.compare import cross_table
from landuse.reconcile.flows import flows
from landuse.reconcile.reconciled import reconciled_table
from landuse.reconcile.sums import boundary, continuity, hierarchy

__all__ = ["FINDING_COLUMNS", "SEVERITIES", "reconcile", "reconciled_table", "summary", "render_report",
           "DEFAULT_TOLERANCE"]

DEFAULT_TOLERANCE = 2.0


def reconcile(ds: Dataset, tolerance: float = DEFAULT_TOLERANCE,
              observed: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Run every check on ``ds``; ``tolerance`` in ha. Returns the findings, errors first, then rounding, info.
    ``observed``: :func:`~landuse.reconcile.base.observations` of ``ds`` when already made."""
    obs, carried = observed or observations(ds)
    ctx = Context(ds, float(tolerance), obs, carried, ds.year_classes)
    parts = [skipped(ds), non_numeric(ctx), printed_codes(ctx), derived_cells(ctx)]
    parts += [hierarchy(ctx), boundary(ctx), continuity(ctx), cross_table(ctx), flows(ctx)]
    f = _merge_repeats(concat(parts))
    return order_by_severity(conform(f))


def skipped(ds: Dataset) -> pd.DataFrame:
    """What the loader could not read (missing tables, files, columns) and checks that cannot run."""
    notes = list(ds.skipped)
    if not ds.tables:
        notes.append("no published tables: only the inventory was checked")
    if "flows" not in ds.extras:
        notes.append("no conversion flows: flow checks skipped")
    if not notes:
        return empty_findings()
    return findings(severity="info", check="skipped", source="dataset", message=[f"skipped: {n}" for n in notes])


def _merge_repeats(f: pd.DataFrame) -> pd.DataFrame:
    """One finding for the same sum inconsistency printed in several sources (e.g. 2024 in three tables)."""
    if "_key" not in f:
        return f
    keyed = f["_key"].notna() & f["_key"].ne("")
    k = f[keyed]
    if k.empty:
        return f
    cols = ["check", "_key", "_unit", "row", "expected", "found"]
    sig = k[cols[0]].astype(str)
    for c in cols[1:]:
        sig = sig + "|" + k[c].map(str)
    first = ~sig.duplicated()
    also = (k["source"] + " " + k["column"]).groupby(sig).agg(lambda s: ", ".join(s.iloc[1:]))
    k = k[first].copy()
    extra = sig[first].map(also)
    k["message"] = k["message"] + np.where(extra != "", "; the same in " + extra, "")
    return pd.concat([k, f[~keyed]]).sort_index()


def summary(found: pd.DataFrame) -> pd.DataFrame:
    """Counts of findings by check and severity (one row per check, one column per severity, and total)."""
    if found.empty:
        return pd.DataFrame(columns=["check", *SEVERITIES, "total"])
    t = pd.crosstab(found["check"], found["severity"]).reindex(columns=list(SEVERITIES), fill_value=0)
    t["total"] = t.sum(axis=1)
    return t.sort_values(["error", "total"], ascending=False).reset_index()


def render_report(found: pd.DataFrame, fmt: str = "table") -> str:
    """The findings as text: ``table`` = counts by check and severity, then the findings (errors first);
    ``csv`` / ``json`` = the findings table."""
    from landuse.output import render

    if fmt != "table":
        return render(found, fmt)
    head = f"{len(found)} finding(s): " + ", ".join(f"{(found['severity'] == s).sum()} {s}" for s in SEVERITIES)
    shown = found[["severity", "check", "source", "row", "column", "message"]]
    return (head + "\n\n" + render(summary(found), "table") + "\n" + render(shown, "table"))
