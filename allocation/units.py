"""Allocation by administrative unit (``landuse allocate --by-unit``): the unit-level inputs and the entry point.

The model is the one of :mod:`allocation.model` with one unit per commune instead of one for the province:
each unit's start areas by leaf, each unit's total fixed (every start hectare of a unit stays in that unit),
provincial targets, bounds and shares over the sum of units, optional unit-level bounds and targets
(located projects: industrial parks and clusters in named communes; ``--unit-rows``), and conversion costs
that may differ by unit. Without unit-level rows the two have the same optimum: any provincial solution
splits into units in proportion to their start areas, and any unit solution sums to a provincial one.

This module reads and checks the unit-level inputs (unit totals, located projects, unit-rows files, unit
names) and gives them to :func:`allocation.api.allocate_by_unit` (it imports nothing from the api). All areas in ha.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from allocation.config import Config
from allocation.model import Problem, start_areas
from landuse.classification import CLASSIFICATION_DIR
from landuse.dataset import Dataset
from landuse.errors import ConfigError, InfeasibleError, InputError, Location, NegativeAreaError
from landuse.readers.tables import ROW, VALUE, read_table, require_columns, to_numbers

if TYPE_CHECKING:
    from allocation.api import AllocationResult

UNIT_ROW_COLUMNS = ["unit", "code", "kind", "area_ha", "label", "source", "row"]
PROJECT_CODES_FILE = "project_codes.csv"  # kind of located project (KCN, CCN) -> the land code it needs
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


def located_projects(ds: Dataset, target_year: int, key: str = "industrial_zones",
                     number_format: str | None = None) -> pd.DataFrame:
    """Unit-level minimum areas from the dataset's located projects (``extras[key]``: kind KCN|CCN, name,
    commune, area_ha, period): for each project planned by ``target_year``, the project's area (split equally
    over the communes it names) becomes a minimum of SKK (KCN) or SKN (CCN) in its unit, summed per unit.

    A project listed in several tables counts once (its last listing). Numbers in ``number_format`` (the
    CLI's --number-format), else the file's or the dataset's manifest format, else detected from the file.
    Columns :data:`UNIT_ROW_COLUMNS`.
    """
    if key not in ds.extras:
        return pd.DataFrame(columns=UNIT_ROW_COLUMNS)
    z = ds.extras[key]
    path = ds.file(key)
    require_columns(z, ["kind", "name", "commune", "area_ha", "period"], path)
    z = z[z["period"].astype(str).str.strip() == str(target_year)]
    codes = project_codes(ds)
    z = z[z["kind"].isin(list(codes))]
    z = z.drop_duplicates("name", keep="last")
    z = _numbers(z, number_format or ds.number_format(key), path)
    recs = []
    for (_, r), a in zip(z.iterrows(), z["area_ha"], strict=True):
        names = split_communes(r["commune"])
        for n in names:
            recs.append({"unit": n, "code": codes[r["kind"]], "kind": "min", "area_ha": a / len(names),
                         "label": r["name"], "source": Path(str(path)).name, "row": int(r[ROW])})
    rows = pd.DataFrame(recs, columns=UNIT_ROW_COLUMNS)
    return _resolve_units(rows, ds, path, "commune")


def project_codes(ds: Dataset) -> dict[str, str]:
    """Kind of located project -> land code (``project_codes.csv`` of the dataset's ``classification/`` folder,
    else of the bundled data/classification; e.g. KCN industrial park -> SKK). Codes checked against the
    dataset's classification."""
    local = ds.root / "classification" / PROJECT_CODES_FILE
    path = local if local.exists() else CLASSIFICATION_DIR / PROJECT_CODES_FILE
    t = read_table(path)
    require_columns(t, ["kind", "code"], path)
    codes = t["code"].str.strip().str.upper()
    ds.classification.check_codes(codes, Location.of(path), t[ROW], column="code")
    return dict(zip(t["kind"].str.strip(), codes, strict=True))


def read_unit_rows(path: Path | str, ds: Dataset, number_format: str | None = None) -> pd.DataFrame:
    """A CSV/XLSX of unit-level rows: ``unit, code, kind (min|max|target), area_ha[, label]`` (ha).

    The file is the user's, not the dataset's: its numbers are read in ``number_format`` (the CLI's
    --number-format) or else in the format detected from the file itself (``74.9`` is 74.9 ha). Every row
    needs a non-negative area, a code whose land can be allocated (a leaf or a code made of leaves, not an
    of-which line such as RSN) and, per unit and code, a minimum no larger than the maximum; else
    :class:`InputError` naming the file, row and column.
    """
    t = read_table(path)
    require_columns(t, ["unit", "code", "kind", "area_ha"], path)
    t = _numbers(t, number_format or ds.number_format_option or "auto", path)
    blank = t["area_ha"].isna()
    if blank.any():
        i = int(np.flatnonzero(blank.to_numpy())[0])
        raise InputError("missing area", Location.of(path, row=int(t[ROW].iloc[i]), column="area_ha"),
                         expected="an area in ha (0 or more)", found="a blank cell")
    neg = t["area_ha"] < 0
    if neg.any():
        i = int(np.flatnonzero(neg.to_numpy())[0])
        raise NegativeAreaError("negative area", Location.of(path, row=int(t[ROW].iloc[i]), column="area_ha"),
                                expected="an area in ha (0 or more)", found=t["area_ha"].iloc[i])
    t["kind"] = t["kind"].str.strip().str.lower()
    kinds = ~t["kind"].isin(["min", "max", "target"])
    if kinds.any():
        i = int(np.flatnonzero(kinds.to_numpy())[0])
        raise ConfigError("unknown kind", Location.of(path, row=int(t[ROW].iloc[i]), column="kind"),
                          expected="min | max | target", found=t["kind"].iloc[i])
    t["code"] = t["code"].str.strip().str.upper()
    cls = ds.classification
    cls.check_codes(t["code"], Location.of(path), t[ROW])
    leaves = set(cls.leaves)
    no_land = t["code"].map(lambda c: cls.relation(c) == "of-which" or not set(cls.leaves_of(c)) & leaves)
    if no_land.any():
        i = int(np.flatnonzero(no_land.to_numpy())[0])
        c = t["code"].iloc[i]
        raise InputError(f"{c} cannot be allocated: it is an of-which line (part of {cls.parent(c)}), not land of "
                         "its own", Location.of(path, row=int(t[ROW].iloc[i]), column="code"),
                         expected="a land code of the classification's partition (e.g. its parent)", found=c)
    rows = pd.DataFrame({"unit": t["unit"].str.strip(), "code": t["code"], "kind": t["kind"],
                         "area_ha": t["area_ha"].to_numpy(float),
                         "label": t["label"] if "label" in t else t["kind"] + " " + t["code"] + " in " + t["unit"],
                         "source": Path(path).name, "row": t[ROW]})
    rows = _resolve_units(rows, ds, path, "unit")
    _check_duplicates(rows, ["unit", "code", "kind"] + (["label"] if "label" in t else []), path)
    _check_min_max(rows, path)
    return rows


def _check_duplicates(rows: pd.DataFrame, key: list[str], path: Path | str) -> None:
    """The same ``key`` twice (unit however spelled; for unit rows: unit, code, kind and, when the file has
    labels, label — two projects of one commune need their own labels to add up) -> InputError at the second
    row."""
    dup = rows.duplicated(key, keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = rows[(rows[key] == rows[key].iloc[i]).all(axis=1)]["row"].iloc[0]
        what = ", ".join(f"{k} {rows[k].iloc[i]!r}" for k in key)
        raise InputError(f"duplicate row: {what} is already given at row {int(first)}",
                         Location.of(path, row=int(rows["row"].iloc[i]), column="unit"),
                         expected="one row per " + ", ".join(key))


def _check_min_max(rows: pd.DataFrame, path: Path | str) -> None:
    """Per (unit, code): the largest minimum must not exceed the smallest maximum -> else InputError at the
    row of that minimum."""
    lo = rows[rows["kind"] == "min"].groupby(["unit", "code"])["area_ha"].max()
    hi = rows[rows["kind"] == "max"].groupby(["unit", "code"])["area_ha"].min()
    both = pd.concat([lo.rename("lo"), hi.rename("hi")], axis=1, join="inner")
    bad = both[both["lo"] > both["hi"] + 1e-9]
    if len(bad):
        (unit, code), r = bad.index[0], bad.iloc[0]
        m = rows[(rows["unit"] == unit) & (rows["code"] == code) & (rows["kind"] == "min") & (rows["area_ha"] == r.lo)]
        raise InputError(f"unit {unit!r}: the minimum of {code} ({r.lo:,.2f} ha) is above its maximum "
                         f"({r.hi:,.2f} ha)", Location.of(path, row=int(m["row"].iloc[0]), column="area_ha"),
                         expected="min ≤ max for each unit and code", found=r.lo)


def read_unit_costs(path: Path | str, ds: Dataset, number_format: str | None = None) -> pd.DataFrame:
    """A CSV/XLSX of per-unit cost factors: ``unit, code, factor`` — converting land of ``code`` (a leaf, a
    parent or aggregate, or ``*``) away in ``unit`` costs ``factor`` × the default cost (e.g. 3 where the
    land is highly suitable for farming). Unknown units or codes and factors that are blank or < 0 raise
    :class:`InputError` at their row and column."""
    t = read_table(path)
    require_columns(t, ["unit", "code", "factor"], path)
    t = to_numbers(t, ["factor"], number_format or ds.number_format_option or "auto", path)
    bad = t["factor"].isna() | (t["factor"] < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("bad cost factor", Location.of(path, row=int(t[ROW].iloc[i]), column="factor"),
                         expected="a number ≥ 0", found=t["factor"].iloc[i])
    codes = t["code"].str.strip().str.upper()
    known = codes.eq("*") | codes.isin(set(ds.classification.codes) | set(ds.classification.aggregates))
    if not known.all():
        ds.classification.check_codes(codes[~known], Location.of(path), t.loc[~known, ROW])
    rows = pd.DataFrame({"unit": t["unit"].str.strip(), "code": codes, "factor": t["factor"].astype(float),
                         "row": t[ROW].astype(int)})
    rows = _resolve_units(rows, ds, path, "unit")
    _check_duplicates(rows, ["unit", "code"], path)
    return rows[["unit", "code", "factor"]]


def _numbers(t: pd.DataFrame, fmt: str, path: Path | str) -> pd.DataFrame:
    """``t`` with its area_ha column parsed in ``fmt`` (vi | en | auto: detected from the column)."""
    return to_numbers(t, ["area_ha"], fmt, path)


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


@dataclass
class UnitProblem:
    """The by-unit inputs of an allocation: start areas per unit and leaf (long ``unit, code, area_ha``), the
    unit-level rows (located projects and the user's, :data:`UNIT_ROW_COLUMNS`) and per-unit cost factors."""

    start: pd.DataFrame
    rows: pd.DataFrame
    costs: pd.DataFrame | None = None

    @staticmethod
    def check(p: Problem) -> None:
        """Before the solve: unit-level minimums that alone exceed a provincial maximum (see
        :func:`_check_unit_mins`)."""
        _check_unit_mins(p)


def unit_problem(ds: Dataset, config: Config, unit_rows: pd.DataFrame | None = None,
                 unit_cost: pd.DataFrame | None = None, projects: bool = True,
                 number_format: str | None = None) -> UnitProblem:
    """The by-unit inputs of allocating every unit of ``ds`` under ``config`` (+ located projects of the dataset
    when ``projects``, + ``unit_rows``; ``unit_cost``: ``unit, code, factor``). Raises :class:`InputError` for a
    unit whose areas do not add up to its total or a unit-level row naming an unknown unit."""
    check_several_units(ds, config.start_year)
    check_unit_totals(ds, config.start_year)
    rows = [located_projects(ds, config.target_year, number_format=number_format)] if projects else []
    if unit_rows is not None:
        rows.append(unit_rows)
    urows = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=UNIT_ROW_COLUMNS)
    start = start_areas(ds, config.start_year, by_unit=True)
    if config.total_ha is not None and abs(config.total_ha - float(start["area_ha"].sum())) > 1e-6:
        raise ConfigError("a planned total different from the start total is not supported by unit (each unit's "
                          "total is fixed)", expected=f"no [total] area (or {start['area_ha'].sum():g} ha) by unit",
                          found=config.total_ha)
    return UnitProblem(start, urows, unit_cost)


UNIT_METHODS = ("spread", "lp")  # by-unit allocation: drivers split the provincial one, or one joint LP


# ---- per-unit tables and the planner's view of one unit ------------------------------------------------------
def unit_areas_table(res: AllocationResult) -> pd.DataFrame:
    """``unit, code, area_start, area_<target year>, change`` (ha; change = end − start) of every unit and leaf
    (``--unit-areas``)."""
    t = res.unit_areas.copy()
    t["change"] = t[res.end_column] - t["area_start"]
    return t[["unit", "code", "area_start", res.end_column, "change"]]


def unit_permissions(res: AllocationResult, path: Path | None = None) -> pd.DataFrame:
    """Per unit, the area converted that needs permission (``data/classification/permissions.csv``: rice and
    forest land to other uses, …): ``unit, permission, code_from, code_to, area_ha``."""
    from allocation.model import leaves_of_spec
    from landuse.classification import CLASSIFICATION_DIR

    cls = res.config.classification
    rules = read_table(path or CLASSIFICATION_DIR / "permissions.csv")
    moved = res.flows[res.flows["code_from"] != res.flows["code_to"]]
    frames = []
    for name, src, dst in zip(rules["permission"], rules["from"], rules["to"], strict=True):  # a handful of rules
        sel = moved[moved["code_from"].isin(leaves_of_spec(cls, src)) & moved["code_to"].isin(leaves_of_spec(cls, dst))]
        frames.append(sel.groupby(["unit", "code_from", "code_to"], as_index=False, sort=False)["area_ha"].sum()
                      .assign(permission=name))
    cols = ["unit", "permission", "code_from", "code_to", "area_ha"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def find_unit(ds: Dataset, name: str) -> str:
    """The inventory's spelling of unit ``name`` (exact, else any case and with or without "xã"/"phường" when
    that is unambiguous); else :class:`InputError` with the nearest name."""
    import difflib

    units = [str(u) for u in ds.units]
    key = unicodedata.normalize("NFC", name).strip().casefold()
    exact = [u for u in units if unicodedata.normalize("NFC", u).strip().casefold() == key]
    canon = [u for u in units if _canon(u) == _canon(name)]
    if exact or len(canon) == 1:
        return (exact or canon)[0]
    near = difflib.get_close_matches(name, units, n=1, cutoff=0.6)
    raise InputError(f"unit {name!r} is not in the inventory" + (f"; did you mean {near[0]!r}?" if near else ""),
                     Location.of(ds.file("inventory"), column="unit"),
                     expected=f"one of the {len(units)} units (--unit)", found=name)


def unit_view(res: AllocationResult, unit: str) -> str:
    """A planner's view of one unit: its drivers, start and end areas (ha) of each land type it has, and every
    conversion with where it comes from and goes and what put it there."""
    from landuse.output import render

    cls, ty = res.config.classification, res.config.target_year
    a = unit_areas_table(res)
    a = a[(a["unit"] == unit) & ((a["area_start"].abs() > 0.005) | (a[res.end_column].abs() > 0.005))].copy()
    a.insert(2, "name", a["code"].map(lambda c: cls.name(c)[:38]))
    spread = res.spread
    lines = [f"{unit}: allocation {res.config.start_year} → {ty} ({res.config.name})"]
    if spread is not None:
        k = spread.units.index(unit)
        d, st = spread.drivers, spread.settings
        lines.append(f"Drivers: region class {d.region[k] or '?'} (factor {st.region_factor.get(str(d.region[k]), 1):g}"
                     f" for built land), former district {d.district[k] or '?'} (suitability ×{d.suitability[k]:.2f}, "
                     f"potential ×{d.potential[k]:.2f} of the province); weights stock {st.stock:g}, suitability "
                     f"{st.suitability:g}, potential {st.potential:g}, region {st.region:g}; caps {st.stock_cap:.0%} "
                     f"of a stock, {st.change_cap:.0%} of a provincial conversion > {st.min_change_ha:g} ha")
        lines.append(f"Provincial conversions from: {spread.stage1}")
    lines += ["", f"Areas (ha), total {a['area_start'].sum():,.2f}:",
              render(a.drop(columns="unit"), "table", "{:,.2f}").rstrip("\n")]
    if spread is not None:
        f = spread.flows[(spread.flows["unit"] == unit) & (spread.flows["area_ha"] > 0.005)]
        f = f[["code_from", "code_to", "area_ha", "share_pct", "driver_ha", "reason"]].sort_values(
            "area_ha", ascending=False, kind="stable")
    else:
        f = res.flows[(res.flows["unit"] == unit) & (res.flows["code_from"] != res.flows["code_to"])]
        f = f.assign(reason="joint LP (--unit-method lp): the cheapest corner").sort_values("area_ha", ascending=False)
    lines += ["", f"Conversions (ha), {f['area_ha'].sum():,.2f} in all; share_pct = share of the provincial "
              "conversion, driver_ha = what the drivers alone give:", render(f, "table", "{:,.2f}").rstrip("\n")]
    perm = unit_permissions(res)
    perm = perm[perm["unit"] == unit].groupby("permission", sort=False)["area_ha"].sum()
    lines.append("Needing permission: " + ("; ".join(f"{p} {v:,.2f} ha" for p, v in perm.items()) or "none"))
    return "\n".join(lines) + "\n"
