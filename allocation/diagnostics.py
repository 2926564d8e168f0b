"""Reading a solved allocation: the 2030 table with deviations, the conversion matrix, conversions needing
permission, binding constraints with shadow prices, and minimal conflicting sets for infeasible set-ups.

All areas in ha. The end-area column is ``area_{target_year}`` (``area_2030`` for a 2030 target; see
:func:`end_column`). ``deviation = area_{target_year} − target`` (negative: below target). A shadow price is
the change of the objective per ha added to a bound; one objective unit = one ha of deviation
from a leaf target (weight 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocation.config import Config
from allocation.model import (
    BOUND,
    BOUNDARY_IN,
    BOUNDARY_OUT,
    FLOW,
    SLACK,
    TOTAL_LABEL,
    LinearProgram,
    Problem,
    build,
    leaves_of_spec,
)
from allocation.solve import solve
from landuse.classification import CLASSIFICATION_DIR, Classification
from landuse.lp import Solution, SolveStatus, SparseLP, resolve_rows, row_ranges
from landuse.readers.tables import read_table

TOL = 1e-6  # ha
FEASIBILITY_TOL = 1e-3  # ha of total slack below which an elastic model counts as feasible


def flows_long(lp: LinearProgram, sol: Solution) -> pd.DataFrame:
    """Conversions as a long table ``unit, code_from, code_to, area_ha`` (staying included; zeros dropped)."""
    return lp.flows(sol.x, TOL)


def _by_code(cls: Classification, leaf_values: pd.Series) -> pd.Series:
    """Every tree code and aggregate from leaf values (of-which codes: NaN, they are not allocated)."""
    m = cls.membership[cls.leaves]
    vals = m.to_numpy(float) @ leaf_values.reindex(cls.leaves, fill_value=0.0).to_numpy(float)
    out = pd.Series(vals, index=m.index)
    of_which = [c for c in cls.codes if cls.relation(c) == "of-which"]
    out[of_which] = np.nan
    return out


def end_column(target_year: int) -> str:
    """Name of the end-area column of allocation tables: ``area_<target year>`` (e.g. ``area_2030``)."""
    return f"area_{int(target_year)}"


def allocation_table(config: Config, start: pd.DataFrame, flows: pd.DataFrame, stock: pd.Series) -> pd.DataFrame:
    """One row per tree code then per aggregate: ``code, name, level, relation, area_start, area_<target year>,
    target, deviation, weight, target_source``. End areas of parents are computed from leaves; the start area is
    the inventory's figure (``stock``) where it gives one, else the sum of the leaves; of-which rows are not
    allocated (end area NaN)."""
    cls = config.classification
    s = _by_code(cls, start.groupby("code")["area_ha"].sum())
    e = _by_code(cls, flows[flows["code_to"] != BOUNDARY_OUT].groupby("code_to")["area_ha"].sum())
    codes = list(cls.codes) + list(cls.aggregates)
    t = config.targets.drop_duplicates("code", keep="last").set_index("code")
    out = pd.DataFrame({"code": codes})
    out["name"] = [cls.name(c) for c in codes]
    out["level"] = pd.array([cls.depth(c) if c in cls.table.index else pd.NA for c in codes], dtype="Int64")
    out["relation"] = [cls.relation(c) if c in cls.table.index else "aggregate" for c in codes]
    # the start area as the inventory gives it (a printed parent may differ from the sum of its rounded leaves:
    # one figure per quantity across outputs); the rollup of leaves only where the inventory has no figure
    given = stock.reindex(codes).to_numpy(float)
    out["area_start"] = np.where(~np.isnan(given), given, s.reindex(codes).to_numpy(float))
    end = end_column(config.target_year)
    out[end] = e.reindex(codes).to_numpy()
    out["target"] = t["target_ha"].reindex(codes).to_numpy(float)
    out["deviation"] = out[end] - out["target"]
    out["weight"] = t["weight"].reindex(codes).to_numpy(float)
    out["target_source"] = t["label"].reindex(codes).fillna("").to_numpy()
    return out


def conversion_matrix(flows: pd.DataFrame, cls: Classification) -> pd.DataFrame:
    """From × to matrix (ha) of leaf codes summed over units, with a ``total`` column (= start area of the row)
    and a ``total`` row (= end area). ``+`` / ``-`` rows/columns appear only with a boundary change."""
    rows = [c for c in cls.leaves] + ([BOUNDARY_IN] if (flows["code_from"] == BOUNDARY_IN).any() else [])
    cols = [c for c in cls.leaves] + ([BOUNDARY_OUT] if (flows["code_to"] == BOUNDARY_OUT).any() else [])
    wide = flows.pivot_table(index="code_from", columns="code_to", values="area_ha", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(index=rows, columns=cols, fill_value=0.0)
    wide["total"] = wide.sum(axis=1)
    wide.loc["total"] = wide.sum(axis=0)
    wide.index.name, wide.columns.name = "code_from", None
    return wide.reset_index()


def permissions(flows: pd.DataFrame, cls: Classification, path=None) -> pd.DataFrame:
    """Area converted that needs permission: one row per (permission, code_from, code_to) with area > 0."""
    path = path or CLASSIFICATION_DIR / "permissions.csv"
    rules = read_table(path)
    moved = flows[flows["code_from"] != flows["code_to"]]
    frames = []
    for name, src, dst, reason in zip(rules["permission"], rules["from"], rules["to"], rules["reason"], strict=True):
        sel = moved[moved["code_from"].isin(leaves_of_spec(cls, src)) & moved["code_to"].isin(leaves_of_spec(cls, dst))]
        g = sel.groupby(["code_from", "code_to"], as_index=False)["area_ha"].sum()
        frames.append(g.assign(permission=name, reason=reason))
    cols = ["permission", "code_from", "code_to", "area_ha", "reason"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return out.reindex(columns=cols)


BINDING_TOL = 1e-7  # objective units: a tightened bound changing the objective by more than this binds
CBC_RESOLVE_MAX_COLUMNS = 20_000  # CBC re-solves binding rows only up to this model size (no warm start)
BINDING_COLUMNS = ["constraint", "kind", "code", "bound", "shadow_price", "per_ha_tighter", "method", "text"]


def binding(lp: LinearProgram, slp: SparseLP, sol: Solution, config: Config,
            notes: list[str] | None = None) -> pd.DataFrame:
    """Hard bounds and shares (and unit-level rows) at their limit whose tightening by 1 ha costs something.

    Only an optimal solution has binding constraints (empty table otherwise). For every bound row whose
    activity is within tolerance of its bound, ``per_ha_tighter`` is the change of the objective when the bound
    moves 1 ha tighter (min + 1, max − 1; a share row is an area row, so 1 ha = 1/total of share); the row is
    reported when that is more than :data:`BINDING_TOL` or the model becomes infeasible (NaN).
    ``shadow_price`` is the LP dual (d objective / d bound, per ha). With HiGHS, where the solver's ranging says
    the optimal basis stays optimal over the whole 1 ha step, the change is the dual × 1 ha exactly
    (``method`` = ``ranging``, no re-solve); at a degenerate optimum (a kink, e.g. a bound equal to a target)
    the dual can be 0 although the bound binds, so those rows are re-solved (``method`` = ``re-solve``): the
    bounds change on the solved model, which starts again from its optimal basis
    (:func:`landuse.lp.resolve_rows`), never a fresh model per row.

    CBC has no warm start (each re-solve is a new model and a full solve: 29 × 4 s at 65 communes), so above
    :data:`CBC_RESOLVE_MAX_COLUMNS` columns the rows at their limit are judged by their dual alone
    (``method`` = ``dual``, ``per_ha_tighter`` = the dual × 1 ha): a row at a kink (dual 0) is then not listed,
    and ``notes`` says how many such rows were not re-solved.
    """
    if not sol.ok or sol.status is not SolveStatus.OPTIMAL or sol.row_dual is None:
        if notes is not None and sol.ok:
            notes.append(f"binding constraints: not computed ({sol.status.text}"
                         + (", no duals" if sol.row_dual is None else "") + ")")
        return pd.DataFrame(columns=BINDING_COLUMNS)
    r = lp.rows
    act = slp.activity(sol.x)
    lo, up = slp.row_lower, slp.row_upper
    at_lo = np.isfinite(lo) & (np.abs(act - lo) <= 1e-6 * np.maximum(1, np.abs(lo)))
    at_up = np.isfinite(up) & (np.abs(act - up) <= 1e-6 * np.maximum(1, np.abs(up)))
    sel = np.flatnonzero(r["kind"].eq(BOUND).to_numpy() & (at_lo | at_up))
    is_min = np.isfinite(lo[sel])
    dual = sol.row_dual[sel]
    sign = np.where(is_min, 1.0, -1.0)           # tightening: min + 1 ha, max − 1 ha
    per_ha = np.full(len(sel), np.nan)
    method = np.full(len(sel), "re-solve", dtype=object)
    ranges = row_ranges(sol)
    if ranges is not None:  # the dual holds over the whole 1 ha step: no re-solve needed
        dn, up_to = ranges
        inside = np.where(is_min, up_to[sel] >= lo[sel] + 1 - 1e-9, dn[sel] <= up[sel] - 1 + 1e-9)
        per_ha[inside], method[inside] = dual[inside] * sign[inside], "ranging"
    elif sol.solver == "cbc" and lp.shape[1] > CBC_RESOLVE_MAX_COLUMNS:
        per_ha, method[:] = dual * sign, "dual"
        if notes is not None and (np.abs(per_ha) <= BINDING_TOL).any():
            notes.append(f"binding constraints: {int((np.abs(per_ha) <= BINDING_TOL).sum())} bound(s) at their limit "
                         f"with a zero dual were not re-solved (cbc, {lp.shape[1]:,} columns > "
                         f"{CBC_RESOLVE_MAX_COLUMNS:,}); use --solver highs to see whether they bind")
    todo = np.flatnonzero(method == "re-solve")
    moved = resolve_rows(slp, sol, sel[todo], np.where(is_min, lo[sel] + 1, lo[sel])[todo],
                         np.where(is_min, up[sel], up[sel] - 1)[todo])
    per_ha[todo] = moved - sol.objective
    keep = np.abs(per_ha) > BINDING_TOL
    keep[todo] |= np.isnan(moved)
    sel, is_min, per_ha, method = sel[keep], is_min[keep], per_ha[keep], method[keep]
    out = pd.DataFrame({"constraint": r["label"].to_numpy()[sel], "code": r["code"].to_numpy()[sel],
                        "bound": np.where(is_min, lo[sel], up[sel]), "shadow_price": sol.row_dual[sel],
                        "per_ha_tighter": per_ha, "method": method})
    out["kind"] = [lab.split(" ")[0] for lab in out["constraint"]]
    out["text"] = [_explain(c, code, b, p, config.classification) + (" (LP dual; not re-solved)" if m == "dual" else "")
                   for c, code, b, p, m in zip(out["constraint"], out["code"], out["bound"], out["per_ha_tighter"],
                                               out["method"], strict=True)]
    return out[BINDING_COLUMNS].sort_values("per_ha_tighter", key=np.abs, ascending=False, ignore_index=True)


def _explain(label: str, code: str, bound: float, price: float, cls: Classification) -> str:
    kind = label.split(" ")[0]
    what = {"bounds.min": "one more ha of the minimum", "bounds.max": "one ha less of the maximum",
            "shares.min": "one more ha of the minimum share", "shares.max": "one ha less of the maximum share",
            "min": "one more ha of the unit minimum", "max": "one ha less of the unit maximum"}.get(
        kind, "moving the bound by 1 ha")
    name = cls.name(code) if code in cls else code
    if np.isnan(price):
        return f"{label} ({name}) is binding at {bound:,.0f} ha: tightening it by 1 ha makes the model infeasible"
    effect = "costs" if price >= 0 else "saves"
    return (f"{label} ({name}) is binding at {bound:,.0f} ha: {what} of {code} {effect} "
            f"{abs(price):.4g} ha of weighted deviation from targets elsewhere")


# ---- infeasibility: a minimal conflicting set -------------------------------------------------------
def _deletion_order(groups: list[str]) -> list[str]:
    """Try to drop conversion rules first and the total last, so the set is named in the scenario's words."""
    def rank(g: str) -> int:
        if g.startswith(("conversions ", "forbid ")):
            return 1
        if g.startswith("protect "):
            return 2
        return 4 if g == TOTAL_LABEL else 3
    return sorted(groups, key=rank)


def conflicts(p: Problem, config: Config, solver: str | None = None) -> pd.DataFrame:
    """A minimal set of hard-constraint groups that cannot hold together (elastic LP + deletion filter).

    Each group (a bound, a share, a unit-level row, a protection, a forbidding rule, the total with the start
    areas) gets slack; a set is infeasible when the least total slack of its groups, with all other groups
    relaxed, is above :data:`FEASIBILITY_TOL`. Groups are dropped one by one while the rest stays infeasible.
    Returns ``constraint, detail, source`` rows.
    """
    lp = build(p, elastic=True)
    group = lp.col_group
    relaxable = (lp.col_kind == SLACK) | ((lp.col_kind == FLOW) & (group != ""))
    groups = _deletion_order(sorted(set(group[relaxable])))

    def infeasible(active: set[str]) -> bool:
        cost = (relaxable & np.isin(group, list(active))).astype(float)
        sol = solve(lp, solver, cost=cost)
        return sol.status is SolveStatus.OPTIMAL and sol.objective > FEASIBILITY_TOL

    active = set(groups)
    if not infeasible(active):
        return pd.DataFrame(columns=["constraint", "detail", "source"])
    for g in groups:
        if infeasible(active - {g}):
            active.discard(g)
    keep = [g for g in groups if g in active]
    return pd.DataFrame({"constraint": keep, "detail": [_detail(g, config, lp) for g in keep],
                         "source": [_source(g, config) for g in keep]})


def _detail(group: str, config: Config, lp: LinearProgram) -> str:
    if group == TOTAL_LABEL:
        return f"total area = {lp.total_ha:,.0f} ha (every {config.start_year} hectare allocated once)"
    b = config.bounds[config.bounds["label"] == group]
    if len(b):
        row = b.iloc[-1]
        if pd.notna(row["share"]):
            return f"{group} = {float(row['share']):g} of the total ({float(row['share']) * lp.total_ha:,.0f} ha)"
        return f"{group} = {float(row['area_ha']):,.0f} ha"
    r = config.rules[config.rules["label"] == group]
    if len(r):
        return f"{group}: {r.iloc[-1]['reason']}"
    rows = lp.rows[(lp.rows["kind"] == BOUND) & (lp.rows["group"] == group)]
    if len(rows):  # a unit-level row (located project)
        lo, up = float(rows["lower"].iloc[0]), float(rows["upper"].iloc[0])
        return f"{group}: {'≥ ' + format(lo, ',.2f') if np.isfinite(lo) else '≤ ' + format(up, ',.2f')} ha"
    return group


def _source(group: str, config: Config) -> str:
    for table in (config.bounds, config.protect, config.rules):
        hit = table[table["label"] == group]
        if len(hit):
            return str(hit.iloc[-1]["source"])
    return f"inventory {config.start_year}" if group == TOTAL_LABEL else ""
