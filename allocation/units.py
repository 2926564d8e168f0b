"""Allocation by administrative unit (``landuse allocate --by-unit``).

The provincial model of :mod:`allocation.model` with a unit dimension: each unit's start areas by leaf, each
unit's total fixed (every start hectare of a unit stays in that unit), provincial targets, bounds and shares
over the sum of units, optional unit-level bounds and targets (located projects: industrial parks and
clusters in named communes), and conversion costs that may differ by unit. The allowed pairs, protections,
costs and goal weights are those of the provincial model (:func:`allocation.model.pair_table`,
:func:`~allocation.model.goal_rows`, :func:`~allocation.model.bound_rows`), so that without unit-level rows
the two models have the same optimum: any provincial solution splits into units in proportion to their start
areas, and any unit solution sums to a provincial one with the same objective.

The LP itself is built by :mod:`allocation.matrix` (index arrays, provincial end-area columns, one CSC
matrix for HiGHS). All areas in ha.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocation.config import Config
from allocation.matrix import UnitProblem, build, end_areas, flows
from allocation.model import bound_rows, goal_rows, membership_long, pair_table, start_areas
from allocation.solve_matrix import solve
from landuse.dataset import Dataset
from landuse.errors import ConfigError, InputError, LanduseError, Location
from landuse.io import ROW, VALUE, parse_numbers, read_table

UNIT_ROW_COLUMNS = ["unit", "code", "kind", "area_ha", "label", "source", "row"]
PROJECT_CODES = {"KCN": "SKK", "CCN": "SKN"}  # industrial park -> SKK, industrial cluster -> SKN
_PREFIX = re.compile(r"^(các\s+xã|xã|phường|thị trấn|đặc khu|tại|gồm|\d+\s*xã|0\d\s*xã)\s*:?\s*", re.IGNORECASE)


@dataclass
class UnitAllocation:
    """A by-unit allocation. ``table``: the provincial table (= sum of units) like the provincial result;
    ``unit_flows``: long ``unit, code_from, code_to, area_ha`` (staying included); ``unit_areas``: long
    ``unit, code, area_start, area_2030`` (leaves); ``unit_rows``: the unit-level constraints used."""

    table: pd.DataFrame
    unit_flows: pd.DataFrame
    unit_areas: pd.DataFrame
    unit_rows: pd.DataFrame
    status: str
    solver: str
    objective: float
    config: Config
    seconds: dict[str, float] = field(default_factory=dict)


# ---- checks of the unit inventory --------------------------------------------------------------------
def check_unit_totals(ds: Dataset, year: int, tol: float = 0.5) -> None:
    """Raise :class:`InputError` at the first unit whose leaf areas do not add up to its total (root row)."""
    cls = ds.classification
    inv = ds.inventory[ds.inventory["year"] == year]
    total = inv[inv["code"] == cls.root].set_index("unit")
    leaves = inv[inv["code"].isin(cls.leaves)].groupby("unit")[VALUE].sum()
    diff = (leaves.reindex(total.index).fillna(0.0) - total[VALUE]).abs()
    bad = diff[diff > tol]
    if len(bad):
        u = bad.index[0]
        raise InputError(f"unit {u!r}: its land-type areas add up to {leaves.get(u, 0.0):,.2f} ha, not its total",
                         Location.of(ds.file("inventory"), row=int(total.at[u, ROW]), column=VALUE),
                         expected=f"{cls.root} = the sum of the leaf areas", found=float(total.at[u, VALUE]))


def _canon(name: str) -> str:
    s = unicodedata.normalize("NFC", str(name)).strip()
    s = _PREFIX.sub("", s).strip()
    return " ".join(s.split()).casefold()


def split_communes(text: str) -> list[str]:
    """"xã Hữu Lũng, xã Tuấn Sơn" / "02 xã Hữu Lũng và xã Cai Kinh" -> the commune names (prefixes dropped)."""
    s = unicodedata.normalize("NFC", str(text))
    s = re.sub(r"^(tại|gồm)\s+", "", s.strip(), flags=re.IGNORECASE)
    parts = re.split(r",|\s+và\s+", s)
    return [p for p in (_PREFIX.sub("", x.strip()).strip() for x in parts) if p]


def located_projects(ds: Dataset, target_year: int, key: str = "industrial_zones") -> pd.DataFrame:
    """Unit-level minimum areas from the dataset's located projects (``extras[key]``: kind KCN|CCN, name,
    commune, area_ha, period): for each project planned by ``target_year``, the project's area (split equally
    over the communes it names) becomes a minimum of SKK (KCN) or SKN (CCN) in its unit, summed per unit.

    A project listed in several tables counts once (its last listing). Columns :data:`UNIT_ROW_COLUMNS`.
    """
    if key not in ds.extras:
        return pd.DataFrame(columns=UNIT_ROW_COLUMNS)
    z = ds.extras[key]
    path = ds.file(key)
    z = z[z["period"].astype(str).str.strip() == str(target_year)]
    z = z[z["kind"].isin(list(PROJECT_CODES))]
    z = z.drop_duplicates("name", keep="last")
    fmt = ds.manifest.get(key, {}).get("number_format") or ds.manifest.get("dataset", {}).get("number_format", "vi")
    area, bad = parse_numbers(z["area_ha"], "vi" if fmt == "auto" else fmt)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("not a number", Location.of(path, row=int(z[ROW].iloc[i]), column="area_ha"),
                         expected="an area in ha", found=z["area_ha"].iloc[i])
    recs = []
    for (_, r), a in zip(z.iterrows(), area, strict=True):
        names = split_communes(r["commune"])
        for n in names:
            recs.append({"unit": n, "code": PROJECT_CODES[r["kind"]], "kind": "min", "area_ha": a / len(names),
                         "label": r["name"], "source": Path(str(path)).name, "row": int(r[ROW])})
    rows = pd.DataFrame(recs, columns=UNIT_ROW_COLUMNS)
    return _resolve_units(rows, ds, path, "commune")


def read_unit_rows(path: Path | str, ds: Dataset) -> pd.DataFrame:
    """A CSV/XLSX of unit-level rows: ``unit, code, kind (min|max|target), area_ha[, label]``."""
    t = read_table(path)
    from landuse.io import require_columns

    require_columns(t, ["unit", "code", "kind", "area_ha"], path)
    area, bad = parse_numbers(t["area_ha"], ds.manifest.get("dataset", {}).get("number_format", "vi")
                              if ds.manifest.get("dataset", {}).get("number_format") != "auto" else "vi")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("not a number", Location.of(path, row=int(t[ROW].iloc[i]), column="area_ha"),
                         expected="an area in ha", found=t["area_ha"].iloc[i])
    kinds = ~t["kind"].isin(["min", "max", "target"])
    if kinds.any():
        i = int(np.flatnonzero(kinds.to_numpy())[0])
        raise ConfigError("unknown kind", Location.of(path, row=int(t[ROW].iloc[i]), column="kind"),
                          expected="min | max | target", found=t["kind"].iloc[i])
    t["code"] = t["code"].str.strip().str.upper()
    ds.classification.check_codes(t["code"], Location.of(path), t[ROW])
    rows = pd.DataFrame({"unit": t["unit"].str.strip(), "code": t["code"], "kind": t["kind"], "area_ha": area,
                         "label": t["label"] if "label" in t else t["kind"] + " " + t["code"] + " in " + t["unit"],
                         "source": Path(path).name, "row": t[ROW]})
    return _resolve_units(rows, ds, path, "unit")


def _resolve_units(rows: pd.DataFrame, ds: Dataset, path, column: str) -> pd.DataFrame:
    """Map unit names (any "xã"/"phường" prefix, any case) to the inventory's; unknown -> InputError."""
    known = {_canon(u): u for u in ds.units}
    canon = rows["unit"].map(_canon)
    missing = ~canon.isin(list(known))
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        import difflib

        near = difflib.get_close_matches(rows["unit"].iloc[i], list(ds.units), n=1, cutoff=0.6)
        raise InputError(f"unit {rows['unit'].iloc[i]!r} is not in the inventory"
                         + (f"; did you mean {near[0]!r}?" if near else ""),
                         Location.of(path, row=int(rows["row"].iloc[i]), column=column),
                         expected=f"one of the {len(ds.units)} units of {ds.file('inventory').name}")
    return rows.assign(unit=canon.map(known).to_numpy())


# ---- the problem -------------------------------------------------------------------------------------
def unit_problem(config: Config, start: pd.DataFrame, unit_rows: pd.DataFrame | None = None,
                 unit_cost: pd.DataFrame | None = None, pairs: pd.DataFrame | None = None) -> UnitProblem:
    """Arrays of the by-unit LP. ``start``: long unit, code, area_ha (leaves); ``unit_rows``: as
    :func:`located_projects`; ``unit_cost``: ``unit, code, factor`` multiplying the cost of converting land
    away from ``code`` (any code: applies to its leaves) in that unit (default 1); ``pairs``: a precomputed
    :func:`~allocation.model.pair_table` of ``config`` (it depends on the config only, not on the units)."""
    cls = config.classification
    leaves = list(cls.leaves)
    wide = start.pivot_table(index="unit", columns="code", values="area_ha", aggfunc="sum", sort=False)
    units = list(dict.fromkeys(start["unit"]))
    S = wide.reindex(index=units, columns=leaves).fillna(0.0).to_numpy()
    total = float(S.sum())
    if config.total_ha is not None and abs(config.total_ha - total) > 1e-6:
        raise ConfigError("a planned total different from the start total is not supported by unit",
                          expected=f"no [total] area (or {total:g} ha) with --by-unit", found=config.total_ha)
    pairs = pair_table(config) if pairs is None else pairs
    n = len(leaves)
    allowed = pairs["allowed"].to_numpy().reshape(n, n)
    cost = pairs["cost"].to_numpy(float).reshape(n, n) * config.costs.scale
    if unit_cost is not None and len(unit_cost):
        factor = np.ones((len(units), n))
        pos_u = {u: k for k, u in enumerate(units)}
        pos_l = {c: k for k, c in enumerate(leaves)}
        for u, code, f in zip(unit_cost["unit"], unit_cost["code"], unit_cost["factor"], strict=True):
            factor[pos_u[u], [pos_l[c] for c in cls.leaves_of(code) if c in pos_l]] = float(f)
        cost = cost[None, :, :] * factor[:, :, None]
    members = membership_long(cls)
    codes = list(dict.fromkeys(members["code"]))
    gpos = {c: k for k, c in enumerate(codes)}
    member = np.zeros((len(codes), n))
    member[members["code"].map(gpos).to_numpy(), members["leaf"].map({c: k for k, c in enumerate(leaves)})] = 1
    upos = {u: k for k, u in enumerate(units)}
    province = start.groupby("code", sort=False)["area_ha"].sum().reindex(leaves).fillna(0.0)
    goals = goal_rows(config, pd.DataFrame({"unit": None, "code": leaves, "area_ha": province.to_numpy()}))
    goals = goals[goals["code"].isin(gpos)]
    targets = pd.DataFrame({"g": goals["code"].map(gpos).to_numpy(), "u": _unit_index(goals["unit"], upos),
                            "target": goals["lower"].to_numpy(float), "weight": goals["weight"].to_numpy(float),
                            "label": goals["label"].to_numpy()})
    b = bound_rows(config, total)
    bounds = pd.DataFrame({"g": b["code"].map(gpos).to_numpy(), "u": _unit_index(b["unit"], upos),
                           "lo": np.where(np.isinf(b["lower"]), np.nan, b["lower"]).astype(float),
                           "hi": np.where(np.isinf(b["upper"]), np.nan, b["upper"]).astype(float),
                           "label": b["label"].to_numpy()})
    if unit_rows is not None and len(unit_rows):
        ur = unit_rows.groupby(["unit", "code", "kind"], sort=False).agg(
            area_ha=("area_ha", "sum"), label=("label", lambda s: ", ".join(map(str, s)))).reset_index()
        is_t = ur["kind"] == "target"
        w = config.weights.get("leaf", 1.0)
        targets = pd.concat([targets, pd.DataFrame({
            "g": ur.loc[is_t, "code"].map(gpos).to_numpy(), "u": ur.loc[is_t, "unit"].map(upos).to_numpy(),
            "target": ur.loc[is_t, "area_ha"].to_numpy(float), "weight": w,
            "label": ("unit target " + ur.loc[is_t, "code"] + " in " + ur.loc[is_t, "unit"]).to_numpy()})],
            ignore_index=True)
        hb = ur[~is_t]
        bounds = pd.concat([bounds, pd.DataFrame({
            "g": hb["code"].map(gpos).to_numpy(), "u": hb["unit"].map(upos).to_numpy(),
            "lo": np.where(hb["kind"] == "min", hb["area_ha"], np.nan).astype(float),
            "hi": np.where(hb["kind"] == "max", hb["area_ha"], np.nan).astype(float),
            "label": (hb["kind"] + " " + hb["code"] + " in " + hb["unit"] + " (" + hb["label"] + ")").to_numpy()})],
            ignore_index=True)
    return UnitProblem(units, leaves, S, allowed, cost, codes, member, targets, bounds)


def _unit_index(units: pd.Series, upos: dict[str, int]) -> np.ndarray:
    return np.array([-1 if (u is None or (isinstance(u, float) and np.isnan(u))) else upos[u] for u in units],
                    dtype=int)


def _check_unit_mins(p: UnitProblem) -> None:
    """Unit-level minimums that alone exceed a provincial maximum (e.g. located KCN adding up to more than the
    plan's KCN ceiling) are infeasible for sure: say which, before any solve."""
    from landuse.errors import InfeasibleError

    b = p.bounds
    prov, unit = b[(b["u"] < 0) & b["hi"].notna()], b[(b["u"] >= 0) & b["lo"].notna()]
    for r in prov.itertuples():
        inside = (p.member[unit["g"].to_numpy(int)] <= p.member[r.g]).all(axis=1)
        need = unit.loc[inside, "lo"].sum()
        if need > r.hi + 1e-6:
            raise InfeasibleError(f"infeasible: {r.label} ({r.hi:,.2f} ha) is below the sum of the unit-level minimums "
                                  f"of {p.codes[r.g]} ({need:,.2f} ha: "
                                  + "; ".join(unit.loc[inside, "label"].astype(str).head(4)) + " …)")


def allocate_by_unit(ds: Dataset, config: Config, unit_rows: pd.DataFrame | None = None,
                     unit_cost: pd.DataFrame | None = None, solver: str | None = None,
                     time_limit: float | None = None, projects: bool = True) -> UnitAllocation:
    """Allocate every unit of ``ds`` under ``config`` (+ located projects of the dataset when ``projects``,
    + ``unit_rows``). Raises :class:`InputError` for a unit whose areas do not add up to its total or a
    unit-level row naming an unknown unit; :class:`~landuse.errors.InfeasibleError` when infeasible."""
    t0 = time.perf_counter()
    check_unit_totals(ds, config.start_year)
    rows = [located_projects(ds, config.target_year)] if projects else []
    if unit_rows is not None:
        rows.append(unit_rows)
    urows = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=UNIT_ROW_COLUMNS)
    start = start_areas(ds, config.start_year, by_unit=True)
    p = unit_problem(config, start, urows, unit_cost)
    _check_unit_mins(p)
    lp = build(p)
    t1 = time.perf_counter()
    sol = solve(lp, solver or "highs", time_limit)
    t2 = time.perf_counter()
    if sol.status == "infeasible":
        from landuse.errors import InfeasibleError

        raise InfeasibleError("infeasible: the provincial constraints and the unit-level rows cannot hold together "
                              "(run without --by-unit to find the provincial conflict, or check the unit rows: "
                              + "; ".join(urows["label"].astype(str).head(5)) + ")")
    if sol.status != "optimal":
        raise LanduseError(f"the solver ({sol.solver}) stopped without an allocation: {sol.status}")
    uf = flows(p, lp, sol.x)
    end = end_areas(p, lp, sol.x)
    areas = pd.DataFrame({"unit": np.repeat(p.units, len(p.leaves)), "code": np.tile(p.leaves, len(p.units)),
                          "area_start": p.start.ravel(), "area_2030": end.ravel()})
    from allocation import diagnostics as dg

    cls = config.classification
    table = dg.allocation_table(config, start_areas(ds, config.start_year, False),
                                uf.assign(unit=ds.name), ds.stock(config.start_year))
    t3 = time.perf_counter()
    return UnitAllocation(table, uf, areas, urows, sol.status, sol.solver, sol.objective, config,
                          {"build": t1 - t0, "solve": t2 - t1, "report": t3 - t2, "variables": lp.shape[1],
                           "rows": lp.shape[0], "nnz": lp.nnz, "classification": cls.id})


def allocate_units(ds: Dataset, scenario: Path | str | Config | None = None, unit_rows: Path | str | None = None,
                   projects: bool = True, solver: str | None = None,
                   time_limit: float | None = None) -> UnitAllocation:
    """``landuse allocate --by-unit``: the dataset's default config (+ ``scenario``), its located projects
    (unless ``projects`` is false) and the unit-level rows of the file ``unit_rows``."""
    from allocation.config import load_scenario

    config = scenario if isinstance(scenario, Config) else load_scenario(
        None if scenario in (None, "default") else Path(scenario), ds)
    rows = read_unit_rows(unit_rows, ds) if unit_rows else None
    return allocate_by_unit(ds, config, rows, solver=solver, time_limit=time_limit, projects=projects)
