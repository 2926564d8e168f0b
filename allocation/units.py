"""Allocation by administrative unit (``landuse allocate --by-unit``): the unit-level inputs and the entry point.

The model is the one of :mod:`allocation.model` with one unit per commune instead of one for the province:
each unit's start areas by leaf, each unit's total fixed (every start hectare of a unit stays in that unit),
provincial targets, bounds and shares over the sum of units, optional unit-level bounds and targets
(located projects: industrial parks and clusters in named communes; ``--unit-rows``), and conversion costs
that may differ by unit. Without unit-level rows the two have the same optimum: any provincial solution
splits into units in proportion to their start areas, and any unit solution sums to a provincial one.

This module reads and checks the unit-level inputs (unit totals, located projects, unit-rows files, unit
names) and calls :func:`allocation.api.run_problem`. All areas in ha.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from allocation.api import AllocationResult, run_problem
from allocation.config import Config
from allocation.model import Problem, start_areas
from landuse.dataset import Dataset
from landuse.errors import ConfigError, InfeasibleError, InputError, Location
from landuse.io import ROW, VALUE, parse_numbers, read_table

UNIT_ROW_COLUMNS = ["unit", "code", "kind", "area_ha", "label", "source", "row"]
PROJECT_CODES = {"KCN": "SKK", "CCN": "SKN"}  # industrial park -> SKK, industrial cluster -> SKN
_PREFIX = re.compile(r"^(các\s+xã|xã|phường|thị trấn|đặc khu|tại|gồm|\d+\s*xã|0\d\s*xã)\s*:?\s*", re.IGNORECASE)


# ---- checks of the unit inventory --------------------------------------------------------------------
def check_several_units(ds: Dataset, year: int) -> None:
    """Raise :class:`InputError` when the inventory of ``year`` has fewer than two units: an allocation by
    unit needs a commune-level inventory (a provincial one would only blame the located projects' communes)."""
    units = pd.unique(ds.inventory.loc[ds.inventory["year"] == year, "unit"])
    if len(units) < 2:
        raise InputError(f"allocation by unit needs a commune-level inventory, but the {year} inventory has "
                         f"{len(units)} unit" + (f" ({units[0]!r})" if len(units) else "") + "; write a synthetic one "
                         "with `landuse synth --out DIR` or give the communes' inventory (long table or a 03/TKKK "
                         "sheet, see data/README.md) and pass its folder with --data",
                         Location.of(ds.file("inventory")), expected="two or more units", found=len(units))


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
    exact = {unicodedata.normalize("NFC", str(u)).strip().casefold(): u for u in ds.units}
    canon_of = pd.Series(list(ds.units)).map(_canon)
    counts = canon_of.value_counts()
    known = {c: u for c, u in zip(canon_of, ds.units, strict=True) if counts[c] == 1}  # ambiguous ones dropped
    name = rows["unit"].map(lambda x: unicodedata.normalize("NFC", str(x)).strip().casefold())
    resolved = name.map(exact).fillna(rows["unit"].map(_canon).map(known))  # exact name first, then unique canon
    missing = resolved.isna()
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        import difflib

        near = difflib.get_close_matches(rows["unit"].iloc[i], list(ds.units), n=1, cutoff=0.6)
        raise InputError(f"unit {rows['unit'].iloc[i]!r} is not in the inventory"
                         + (f"; did you mean {near[0]!r}?" if near else ""),
                         Location.of(path, row=int(rows["row"].iloc[i]), column=column),
                         expected=f"one of the {len(ds.units)} units of {ds.file('inventory').name}")
    return rows.assign(unit=resolved.to_numpy())


# ---- the allocation ---------------------------------------------------------------------------------
def _check_unit_mins(p: Problem) -> None:
    """Unit-level minimums that alone exceed a provincial maximum (e.g. located KCN adding up to more than the
    plan's KCN ceiling) are infeasible for sure: say which, before any solve."""
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
                     time_limit: float | None = None, projects: bool = True) -> AllocationResult:
    """Allocate every unit of ``ds`` under ``config`` (+ located projects of the dataset when ``projects``,
    + ``unit_rows``; ``unit_cost``: ``unit, code, factor``). Raises :class:`InputError` for a unit whose areas
    do not add up to its total or a unit-level row naming an unknown unit; :class:`InfeasibleError` (with a
    minimal conflicting set) when infeasible. The result's ``table`` is the provincial sum of the units."""
    check_several_units(ds, config.start_year)
    check_unit_totals(ds, config.start_year)
    rows = [located_projects(ds, config.target_year)] if projects else []
    if unit_rows is not None:
        rows.append(unit_rows)
    urows = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=UNIT_ROW_COLUMNS)
    start = start_areas(ds, config.start_year, by_unit=True)
    if config.total_ha is not None and abs(config.total_ha - float(start["area_ha"].sum())) > 1e-6:
        raise ConfigError("a planned total different from the start total is not supported by unit (each unit's "
                          "total is fixed)", expected=f"no [total] area (or {start['area_ha'].sum():g} ha) by unit",
                          found=config.total_ha)
    res = run_problem(ds, config, start, urows, unit_cost, solver, time_limit, check=_check_unit_mins)
    res.unit_rows = urows
    return res


def allocate_units(ds: Dataset, scenario: Path | str | Config | None = None, unit_rows: Path | str | None = None,
                   projects: bool = True, solver: str | None = None,
                   time_limit: float | None = None) -> AllocationResult:
    """``landuse allocate --by-unit``: the dataset's default config (+ ``scenario``), its located projects
    (unless ``projects`` is false) and the unit-level rows of the file ``unit_rows``."""
    from allocation.config import load_scenario

    config = scenario if isinstance(scenario, Config) else load_scenario(
        None if scenario in (None, "default") else Path(scenario), ds)
    rows = read_unit_rows(unit_rows, ds) if unit_rows else None
    return allocate_by_unit(ds, config, rows, solver=solver, time_limit=time_limit, projects=projects)
