"""The allocation LP — one builder for the province (one unit) and for its units (communes), from arrays.

Two steps: :func:`problem` turns a :class:`~allocation.config.Config` and start areas into a :class:`Problem`
(plain arrays: units × leaves start areas, the allowed pairs and their costs, code membership, targets and
bounds); :func:`build` turns a :class:`Problem` into a :class:`LinearProgram` (one sparse matrix and a table of
rows). What depends on the config only (pair rules, protections, costs, membership, config targets and bounds)
is computed once per config and cached.

Columns (all ≥ 0, ha):

* flows ``x[u, i, j]``: area of unit ``u`` that is leaf ``i`` at the start and leaf ``j`` in the target year,
  for allowed pairs only and only where ``u`` has land in ``i`` (staying: ``i == j``). With a planned total
  different from the start total, pseudo-codes ``+`` (tăng khác, land entering) and ``-`` (giảm khác) appear
  as from / to;
* ``E[j]``: the end area of leaf ``j`` over the whole area (Σ of its inflows over all units). Rows about the
  whole area reference these, so their length does not grow with the number of units;
* ``EU[u, j]``: the same for one unit, only for units that carry unit-level rows (located projects);
* ``under`` / ``over``: deviation below / above each goal.

Rows: ``supply`` (Σ_j x[u, i, j] = start[u, i]: every start hectare accounted for, each unit's total fixed),
``end`` definitions (Σ inflows − E = 0, and the same per unit), ``total`` (Σ E = total), ``bound`` (hard
min / max area of a code, shares already turned into areas), ``goal`` (Σ E + under − over = target).
Objective: Σ weight·(under + over) + Σ cost·x. The supply rows and the total row form one group, "total
area", in conflict reports.

Nothing loops over variables in Python. ``elastic=True`` builds the diagnostic variant used to name
conflicts: forbidden pairs are kept (each tagged with the rule that forbids it) and every hard row gets slack
columns; its own costs are set by the caller.
"""

from __future__ import annotations

import weakref
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from allocation.config import Config
from landuse.classification import Classification
from landuse.errors import ConfigError, InputError, Location
from landuse.lp import SparseLP

FLOW, END, UNDER, OVER, SLACK = "flow", "end", "under", "over", "slack"
SUPPLY, TOTAL, BOUND, GOAL = "supply", "total", "bound", "goal"
BOUNDARY_IN, BOUNDARY_OUT = "+", "-"
START_LABEL, TOTAL_LABEL = "start areas", "total area"


@dataclass
class Matrix:
    """A sparse matrix in coordinate form (row, col, value arrays)."""

    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    shape: tuple[int, int]

    def dot(self, x: np.ndarray) -> np.ndarray:
        """A @ x."""
        return np.bincount(self.row, weights=self.val * x[self.col], minlength=self.shape[0])



@dataclass
class Problem:
    """An allocation problem as arrays. Areas in ha; ``cost`` in objective units per ha converted.

    ``start`` (U, n): start area of each unit and leaf; ``allowed`` (n, n): allowed pairs (staying always is);
    ``cost`` (n, n), or (U, n, n) when costs differ by unit; ``member[g, j]`` = 1 when leaf ``j`` belongs to
    ``codes[g]`` (any level or aggregate). ``targets``: ``g, u, target, weight, label``; ``bounds``: ``g, u,
    lo, hi, label`` (NaN = no bound); ``u`` = unit index, −1 = the whole area. ``total``: a planned total
    different from the start total (None: the start total); land then enters / leaves at ``boundary_cost``.
    ``pair_group`` (n, n): the rule forbidding each pair ("" when allowed), for conflict reports.
    """

    units: list[str]
    leaves: list[str]
    start: np.ndarray
    allowed: np.ndarray
    cost: np.ndarray
    codes: list[str]
    member: np.ndarray
    targets: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"g": [], "u": [], "target": [], "weight": [], "label": []}))
    bounds: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"g": [], "u": [], "lo": [], "hi": [], "label": []}))
    total: float | None = None
    boundary_cost: float = 0.0
    pair_group: np.ndarray | None = None


@dataclass
class LinearProgram:
    """min cost·x  s.t.  rows.lower ≤ A x ≤ rows.upper,  col_lower ≤ x ≤ col_upper.

    The first ``len(flow_unit)`` columns are flows: ``flow_unit`` indexes ``units``, ``flow_from`` /
    ``flow_to`` index ``codes`` (the leaves, then ``+`` and ``-``). ``col_kind`` / ``col_group`` name every
    column's kind and (elastic model) the constraint group that relaxing it relaxes ("" = none).
    """

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    rows: pd.DataFrame
    matrix: Matrix
    total_ha: float
    units: list[str]
    codes: list[str]
    flow_unit: np.ndarray
    flow_from: np.ndarray
    flow_to: np.ndarray
    col_kind: np.ndarray
    col_group: np.ndarray
    n_leaves: int = 0

    def sparse(self, cost: np.ndarray | None = None) -> SparseLP:
        """This LP (optionally with another cost vector) for :mod:`landuse.lp`; rows named ``kind label code
        [unit]`` in solution-check messages."""
        r = self.rows
        names = (r["kind"].astype(str) + " " + r["label"].astype(str) + " " + r["code"].astype(str)
                 + np.where(r["unit"].isna(), "", " in " + r["unit"].astype(str))).to_numpy()
        return SparseLP(self.cost if cost is None else cost, self.matrix.row, self.matrix.col, self.matrix.val,
                        r["lower"].to_numpy(float), r["upper"].to_numpy(float), self.col_lower, self.col_upper,
                        names)

    @property
    def n_flow(self) -> int:
        return len(self.flow_unit)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def nnz(self) -> int:
        return len(self.matrix.val)

    def flows(self, x: np.ndarray, tol: float = 1e-6) -> pd.DataFrame:
        """Conversions (long): ``unit, code_from, code_to, area_ha`` of every flow above ``tol`` ha, staying
        included (``code_from == code_to``)."""
        v = x[: self.n_flow]
        keep = v > tol
        codes, units = np.array(self.codes, dtype=object), np.array(self.units, dtype=object)
        return pd.DataFrame({"unit": units[self.flow_unit[keep]], "code_from": codes[self.flow_from[keep]],
                             "code_to": codes[self.flow_to[keep]], "area_ha": v[keep]})

    def end_areas(self, x: np.ndarray) -> np.ndarray:
        """End areas (U, n leaves) in ha: Σ_i x[u, i, j] (land leaving the boundary excluded)."""
        out = np.zeros((len(self.units), self.n_leaves + 2))
        np.add.at(out, (self.flow_unit, self.flow_to), x[: self.n_flow])
        return out[:, : self.n_leaves]


# ---- start areas and rule specs ---------------------------------------------------------------------
BLANK_ROOM_HA = 0.5  # a printed parent leaves "no room" for a blank part when it exceeds its given parts by ≤ this


def start_areas(ds, year: int, by_unit: bool = False) -> pd.DataFrame:
    """Leaf areas (ha) at ``year`` (:meth:`Dataset.unit_stocks` / :meth:`Dataset.stocks`): long ``unit, code,
    area_ha``. With ``by_unit=False`` one unit named after the dataset.

    A blank leaf is read as 0 ha only where the inventory says so: some printed ancestor of it (its parent, …,
    the total) is no larger than the sum of its printed leaves plus :data:`BLANK_ROOM_HA` (rounding), i.e. it
    leaves no area for the blank. Any other blank leaf raises :class:`InputError` naming the unit, year and
    code: the allocation cannot guess its area.
    """
    cls = ds.classification
    if by_unit:
        long = ds.unit_stocks(year, cls.codes)
    else:
        s = ds.stocks(year).reindex(cls.codes)
        long = pd.DataFrame({"unit": ds.name, "code": cls.codes, "area_ha": s.to_numpy(dtype=float)})
    wide = long.pivot(index="unit", columns="code", values="area_ha").reindex(
        index=list(dict.fromkeys(long["unit"])), columns=cls.codes)
    leaves = wide[cls.leaves].to_numpy(dtype=float)
    member = cls.membership.loc[cls.codes, cls.leaves].to_numpy(dtype=float)  # codes × leaves
    room = wide.to_numpy(dtype=float) - np.nan_to_num(leaves) @ member.T
    closed = (room <= BLANK_ROOM_HA) & ~np.isnan(room)  # (units, codes): a printed code with no room left
    covered = (closed.astype(float) @ member) > 0        # (units, leaves)
    open_blank = np.isnan(leaves) & ~covered
    if open_blank.any():
        u, j = (int(k[0]) for k in np.nonzero(open_blank))
        n = int(open_blank.sum())
        raise InputError(f"{wide.index[u]}: the {year} inventory has no area for {cls.leaves[j]} and no printed "
                         "total that leaves it 0 ha; the allocation cannot start from a blank"
                         + (f" ({n} blank leaves in all)" if n > 1 else ""),
                         Location.of(ds.file("inventory"), column=f"{cls.leaves[j]} {year}"),
                         expected="an area for every land type of the start year (0 where there is none)")
    out = pd.DataFrame(np.nan_to_num(leaves), index=wide.index, columns=cls.leaves).stack()
    return out.rename("area_ha").rename_axis(["unit", "code"]).reset_index()


def _member(cls: Classification) -> pd.DataFrame:
    """Codes (tree codes and aggregates with at least one leaf) × leaves, 0/1."""
    m = cls.membership[cls.leaves]
    return m[m.to_numpy().sum(axis=1) > 0]


def spec_mask(cls: Classification, spec: str, member: pd.DataFrame | None = None) -> np.ndarray:
    """Boolean mask over ``cls.leaves`` of a rule spec: ``*`` (all), ``X`` (code or aggregate), ``not X``."""
    spec = spec.strip()
    if spec == "*":
        return np.ones(len(cls.leaves), dtype=bool)
    if spec.startswith("not "):
        return ~spec_mask(cls, spec[4:], member)
    m = _member(cls) if member is None else member
    if spec in m.index:
        return m.loc[spec].to_numpy() > 0
    return np.isin(cls.leaves, cls.leaves_of(spec))  # an of-which code: no leaves


def leaves_of_spec(cls: Classification, spec: str) -> list[str]:
    """Leaves named by a rule spec (see :func:`spec_mask`), in leaf order."""
    return list(np.array(cls.leaves, dtype=object)[spec_mask(cls, spec)])


# ---- what depends on the config only (cached per config) --------------------------------------------
@dataclass
class _ConfigParts:
    allowed: np.ndarray       # (n, n) bool
    group: np.ndarray         # (n, n) object: label of the rule forbidding the pair
    cost: np.ndarray          # (n, n) objective units per ha
    codes: list[str]
    member: np.ndarray        # (G, n)
    targets: pd.DataFrame     # g, target, weight, label (config targets of allocatable codes)
    bounds: pd.DataFrame      # g, kind, area_ha, share, label


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _parts(config: Config) -> _ConfigParts:
    hit = _CACHE.get(config)
    if hit is None:
        hit = _CACHE[config] = _compute_parts(config)
    return hit


def _compute_parts(config: Config) -> _ConfigParts:
    cls = config.classification
    m = _member(cls)
    codes = list(m.index)
    gpos = {c: k for k, c in enumerate(codes)}
    allowed, group = _pair_rules(config, m)
    t = config.targets[config.targets["code"].isin(gpos)]
    targets = pd.DataFrame({"g": t["code"].map(gpos).to_numpy(int), "target": t["target_ha"].to_numpy(float),
                            "weight": t["weight"].to_numpy(float), "label": ("targets " + t["code"]).to_numpy()})
    b = config.bounds
    bounds = pd.DataFrame({"g": b["code"].map(gpos).to_numpy(int), "kind": b["kind"].to_numpy(),
                           "area_ha": b["area_ha"].to_numpy(float), "share": b["share"].to_numpy(float),
                           "label": b["label"].to_numpy()})
    return _ConfigParts(allowed, group, _pair_costs(config, m) * config.costs.scale, codes,
                        m.to_numpy(float), targets, bounds)


def _pair_rules(config: Config, m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rules apply in order (a later one overrides), then protections; staying is always allowed."""
    cls = config.classification
    n = len(cls.leaves)
    allowed = np.ones((n, n), dtype=bool)
    group = np.full((n, n), "", dtype=object)
    r = config.rules
    for src, dst, rule, label in zip(r["from"], r["to"], r["rule"], r["label"], strict=True):  # a handful
        mask = np.outer(spec_mask(cls, src, m), spec_mask(cls, dst, m))
        allowed[mask] = rule == "allow"
        group[mask] = "" if rule == "allow" else label
    for code, label in zip(config.protect["code"], config.protect["label"], strict=True):
        inside = spec_mask(cls, code, m)
        mask = np.outer(inside, ~inside)
        allowed[mask], group[mask] = False, label
    np.fill_diagonal(allowed, True)
    np.fill_diagonal(group, "")
    return allowed, group


def _factors(cls: Classification, m: pd.DataFrame, factors: dict[str, float]) -> np.ndarray:
    """Per leaf, the factor of the most specific listed code containing it (itself, its ancestors nearest
    first, then aggregates in their order); 1 where none is listed."""
    aggs = list(cls.aggregates)
    listed = [c for c in factors if c in m.index]
    listed.sort(key=lambda c: (1, aggs.index(c)) if c in cls.aggregates else (0, -cls.depth(c)))
    out = np.ones(m.shape[1])
    if listed:
        inside = m.loc[listed].to_numpy() > 0                     # (k, n), most specific first
        first = inside.argmax(axis=0)
        vals = np.array([float(factors[c]) for c in listed])
        out = np.where(inside.any(axis=0), vals[first], 1.0)
    return out


def _pair_costs(config: Config, m: pd.DataFrame) -> np.ndarray:
    """(n, n) cost units per ha: default × from factor × to factor × (1 + suitability weight × good share of
    the origin), × a fixed tie-break of up to +tie_break from a hash of the pair's codes (so the optimum is
    unique in practice and every solver returns the same plan); staying costs 0."""
    cls, rule = config.classification, config.costs
    leaves = list(cls.leaves)
    good = np.zeros(len(leaves))
    if config.suitability is not None:
        for code, share in zip(config.suitability["code"], config.suitability["good_share"], strict=True):
            good[spec_mask(cls, code, m)] = float(share)
    f_from = _factors(cls, m, rule.from_factor) * (1.0 + rule.suitability_weight * good)
    cost = rule.default * np.outer(f_from, _factors(cls, m, rule.to_factor))
    u = np.array([[zlib.crc32(f"{a}>{b}".encode()) for b in leaves] for a in leaves], dtype=float) / 2**32
    cost *= 1.0 + rule.tie_break * u
    np.fill_diagonal(cost, 0.0)
    return cost


# ---- config + start areas (+ unit rows) -> Problem ---------------------------------------------------
def problem(config: Config, start: pd.DataFrame, unit_rows: pd.DataFrame | None = None,
            unit_cost: pd.DataFrame | None = None) -> Problem:
    """The arrays of the allocation of ``start`` (long ``unit, code, area_ha`` of leaves; one unit = the
    province) under ``config``. Leaves without a target get a low-weight goal of keeping their start area
    over the whole area. ``unit_rows``: ``unit, code, kind (min|max|target), area_ha, label`` (located projects
    and unit-level targets); ``unit_cost``: ``unit, code, factor`` multiplying the cost of converting land
    away from ``code`` (any code: applies to its leaves) in that unit."""
    cls = config.classification
    parts = _parts(config)
    leaves = list(cls.leaves)
    n = len(leaves)
    units = list(dict.fromkeys(start["unit"]))
    upos = {u: k for k, u in enumerate(units)}
    lpos = {c: k for k, c in enumerate(leaves)}
    S = np.zeros((len(units), n))
    inside = start["code"].isin(lpos).to_numpy()
    np.add.at(S, (start["unit"].map(upos).to_numpy()[inside], start["code"].map(lpos).to_numpy()[inside]),
              start["area_ha"].to_numpy(float)[inside])
    start_total = float(S.sum())
    total = float(config.total_ha) if config.total_ha is not None else start_total
    cost = parts.cost
    if unit_cost is not None and len(unit_cost):
        factor = np.ones((len(units), n))
        for u, code, f in zip(unit_cost["unit"], unit_cost["code"], unit_cost["factor"], strict=True):
            factor[upos[u], spec_mask(cls, code)] = float(f)
        cost = cost[None, :, :] * factor[:, :, None]
    gpos = {c: k for k, c in enumerate(parts.codes)}
    t = parts.targets
    targeted = {parts.codes[g] for g in t["g"]}
    keep = np.array([leaf not in targeted for leaf in leaves], dtype=bool)
    keep_g = np.array([gpos[leaf] for leaf in np.array(leaves)[keep]], dtype=int)
    targets = pd.concat([t.assign(u=-1), pd.DataFrame({
        "g": keep_g, "u": -1, "target": S.sum(axis=0)[keep], "weight": config.weights["keep_start"],
        "label": ["keep start " + leaf for leaf in np.array(leaves)[keep]]})], ignore_index=True)
    b = parts.bounds
    area = np.where(np.isnan(b["share"].to_numpy(float)), b["area_ha"].to_numpy(float),
                    b["share"].to_numpy(float) * total)
    is_min = (b["kind"] == "min").to_numpy()
    bounds = pd.DataFrame({"g": b["g"].to_numpy(int), "u": -1, "lo": np.where(is_min, area, np.nan),
                           "hi": np.where(is_min, np.nan, area), "label": b["label"].to_numpy()})
    if unit_rows is not None and len(unit_rows):
        ut, ub = _unit_rows(unit_rows, gpos, upos, config.weights.get("leaf", 1.0))
        targets = pd.concat([targets, ut], ignore_index=True)
        bounds = pd.concat([bounds, ub], ignore_index=True)
    return Problem(units, leaves, S, parts.allowed, cost, parts.codes, parts.member,
                   targets[["g", "u", "target", "weight", "label"]], bounds[["g", "u", "lo", "hi", "label"]],
                   None if abs(total - start_total) <= 1e-6 else total, config.costs.boundary * config.costs.scale,
                   parts.group)


def _unit_rows(rows: pd.DataFrame, gpos: dict, upos: dict, weight: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Unit-level targets and bounds (summed per unit, code and kind; labels joined)."""
    missing = ~rows["unit"].isin(upos)
    if missing.any():
        raise ConfigError(f"unit {rows['unit'][missing].iloc[0]!r} has no start areas",
                          expected="a unit of the inventory")
    ur = rows.groupby(["unit", "code", "kind"], sort=False).agg(
        area_ha=("area_ha", "sum"), label=("label", lambda s: ", ".join(map(str, s)))).reset_index()
    is_t = (ur["kind"] == "target").to_numpy()
    t, b = ur[is_t], ur[~is_t]
    base = (b["kind"] + " " + b["code"] + " in " + b["unit"]).astype(str)
    targets = pd.DataFrame({"g": t["code"].map(gpos).to_numpy(int), "u": t["unit"].map(upos).to_numpy(int),
                            "target": t["area_ha"].to_numpy(float), "weight": weight,
                            "label": ("unit target " + t["code"] + " in " + t["unit"]).to_numpy()})
    bounds = pd.DataFrame({"g": b["code"].map(gpos).to_numpy(int), "u": b["unit"].map(upos).to_numpy(int),
                           "lo": np.where(b["kind"] == "min", b["area_ha"], np.nan).astype(float),
                           "hi": np.where(b["kind"] == "max", b["area_ha"], np.nan).astype(float),
                           "label": np.where(base == b["label"].astype(str), base, base + " (" + b["label"].astype(str)
                                             + ")")})
    return targets, bounds


# ---- Problem -> LinearProgram -------------------------------------------------------------------------
def flow_index(start: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays (u, i, j) of the flow columns: allowed pairs from (unit, leaf) with start area > 0."""
    allowed = allowed | np.eye(allowed.shape[0], dtype=bool)
    pi, pj = np.nonzero(allowed)                          # allowed pairs, sorted by i then j
    u, i = np.nonzero(start > 0)                          # (unit, leaf) with land, sorted by u then i
    counts = np.bincount(pi, minlength=allowed.shape[0])  # pairs leaving each leaf
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    reps = counts[i]
    offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    return np.repeat(u, reps), np.repeat(i, reps), pj[np.repeat(first[i], reps) + offs]


def build(p: Problem, elastic: bool = False) -> LinearProgram:
    """The LP of ``p`` (see the module docstring). ``elastic``: keep forbidden pairs (tagged with their rule's
    group) and add slack columns to every hard row (supply, total, bounds), for :func:`diagnostics.conflicts`."""
    U, n = p.start.shape
    allowed = np.ones_like(p.allowed) if elastic else p.allowed
    xu, xi, xj = flow_index(p.start, allowed)
    cost = p.cost[xi, xj] if p.cost.ndim == 2 else p.cost[xu, xi, xj]
    cost = np.where(xi == xj, 0.0, cost)
    group = np.full(len(xu), "", dtype=object)
    if elastic and p.pair_group is not None:
        bad = ~(p.allowed | np.eye(n, dtype=bool))[xi, xj]
        group[bad] = p.pair_group[xi[bad], xj[bad]]
    start_total = float(p.start.sum())
    total = start_total if p.total is None else float(p.total)
    if p.total is not None:  # planned boundary change: land may leave (to "-") or enter (from "+") any unit
        ou, oi = np.nonzero(p.start > 0)
        iu, ij = np.divmod(np.arange(U * n), n)
        xu = np.concatenate([xu, ou, iu])
        xi = np.concatenate([xi, oi, np.full(len(iu), n)])
        xj = np.concatenate([xj, np.full(len(ou), n + 1), ij])
        cost = np.concatenate([cost, np.full(len(ou) + len(iu), p.boundary_cost)])
        group = np.concatenate([group, np.full(len(ou) + len(iu), "", dtype=object)])
    nx = len(xu)
    t, b = p.targets.reset_index(drop=True), p.bounds.reset_index(drop=True)
    tu, bu = t["u"].to_numpy(int), b["u"].to_numpy(int)
    unit_rows = np.unique(np.concatenate([tu, bu]))
    unit_rows = unit_rows[unit_rows >= 0]
    k_u = len(unit_rows)
    upos = np.full(U, -1)
    upos[unit_rows] = np.arange(k_u)
    nt = len(t)
    # columns: x | E[j] | EU[k, j] | under | over
    e0, eu0 = nx, nx + n
    d0 = eu0 + n * k_u
    ncol = d0 + 2 * nt
    # rows: supply (u, i) | E definitions | EU definitions | total | bounds | goals
    su, si = np.nonzero(p.start > 0)
    ns = len(su)
    supply_id = np.full((U, n + 2), -1)
    supply_id[su, si] = np.arange(ns)
    r_e0 = ns
    r_eu0 = r_e0 + n
    r_tot = r_eu0 + n * k_u
    r_b0 = r_tot + 1
    r_g0 = r_b0 + len(b)
    nrow = r_g0 + nt
    R, C, V = [], [], []

    def add(r, c, v):
        R.append(np.asarray(r, dtype=np.int64))
        C.append(np.asarray(c, dtype=np.int64))
        V.append(np.broadcast_to(np.asarray(v, dtype=float), np.shape(r)))

    xcol = np.arange(nx)
    out_of = xi < n
    add(supply_id[xu[out_of], xi[out_of]], xcol[out_of], 1.0)      # Σ_j x[u, i, j] = start[u, i]
    into = xj < n
    add(r_e0 + xj[into], xcol[into], 1.0)                            # Σ inflows − E[j] = 0
    add(r_e0 + np.arange(n), e0 + np.arange(n), -1.0)
    if k_u:
        sel = np.flatnonzero(into & (upos[xu] >= 0))
        add(r_eu0 + upos[xu[sel]] * n + xj[sel], sel, 1.0)
        kk = np.arange(n * k_u)
        add(r_eu0 + kk, eu0 + kk, -1.0)
    add(np.full(n, r_tot), e0 + np.arange(n), 1.0)                   # Σ E = total
    for frame, r0, u in ((b, r_b0, bu), (t, r_g0, tu)):
        if not len(frame):
            continue
        gi, jj = np.nonzero(p.member[frame["g"].to_numpy(int)] > 0)  # (row of frame, leaf) memberships
        add(r0 + gi, np.where(u[gi] < 0, e0 + jj, eu0 + upos[np.maximum(u[gi], 0)] * n + jj), 1.0)
    kt = np.arange(nt)
    add(r_g0 + kt, d0 + kt, 1.0)                                      # + under
    add(r_g0 + kt, d0 + nt + kt, -1.0)                                # − over
    c = np.zeros(ncol)
    c[:nx] = cost
    w = t["weight"].to_numpy(float)
    c[d0:d0 + nt], c[d0 + nt:] = w, w
    lo = np.zeros(nrow)
    up = np.zeros(nrow)
    lo[:ns] = up[:ns] = p.start[su, si]
    lo[r_tot] = up[r_tot] = total
    if len(b):
        lo[r_b0:r_g0] = np.nan_to_num(b["lo"].to_numpy(float), nan=-np.inf)
        up[r_b0:r_g0] = np.nan_to_num(b["hi"].to_numpy(float), nan=np.inf)
    lo[r_g0:] = up[r_g0:] = t["target"].to_numpy(float)
    leaves, codes, names = np.array(p.leaves, dtype=object), np.array(p.codes, dtype=object), np.array(
        list(p.units) + [None], dtype=object)
    b_label, t_label = b["label"].astype(str).to_numpy(), t["label"].astype(str).to_numpy()
    rows = pd.DataFrame({
        "kind": np.concatenate([np.repeat([SUPPLY, END], [ns, n + n * k_u]), [TOTAL],
                                np.repeat([BOUND, GOAL], [len(b), nt])]),
        "label": np.concatenate([np.repeat([START_LABEL, "end area"], [ns, n + n * k_u]), [TOTAL_LABEL],
                                 b_label, t_label]),
        "code": np.concatenate([leaves[si], leaves, np.tile(leaves, k_u), [codes[0] if len(codes) else ""],
                                codes[b["g"].to_numpy(int)], codes[t["g"].to_numpy(int)]]),
        "unit": np.concatenate([names[su], names[np.full(n, U)], np.repeat(names[unit_rows], n), [None],
                                names[np.where(bu < 0, U, bu)], names[np.where(tu < 0, U, tu)]]),
        "lower": lo, "upper": up,
        "group": np.concatenate([np.repeat([TOTAL_LABEL, ""], [ns, n + n * k_u]), [TOTAL_LABEL], b_label,
                                 np.repeat("", nt)]),
    })
    kind = np.concatenate([np.repeat([FLOW, END, END, UNDER, OVER], [nx, n, n * k_u, nt, nt])]).astype(object)
    col_group = np.concatenate([group, np.full(ncol - nx, "", dtype=object)])
    col_lo, col_up = np.zeros(ncol), np.full(ncol, np.inf)
    if elastic:  # one slack up and one down per hard row, in the row's group (costs set by the caller)
        hard = np.flatnonzero(rows["kind"].isin([SUPPLY, TOTAL, BOUND]).to_numpy())
        nh = len(hard)
        add(hard, ncol + np.arange(nh), 1.0)
        add(hard, ncol + nh + np.arange(nh), -1.0)
        c = np.concatenate([c, np.zeros(2 * nh)])
        kind = np.concatenate([kind, np.full(2 * nh, SLACK, dtype=object)])
        col_group = np.concatenate([col_group, np.tile(rows["group"].to_numpy()[hard], 2)])
        col_lo, col_up = np.zeros(ncol + 2 * nh), np.full(ncol + 2 * nh, np.inf)
        ncol += 2 * nh
    matrix = Matrix(np.concatenate(R), np.concatenate(C), np.concatenate(V), (nrow, ncol))
    return LinearProgram(c, col_lo, col_up, rows, matrix, total, list(p.units),
                         list(p.leaves) + [BOUNDARY_IN, BOUNDARY_OUT], xu, xi, xj, kind, col_group, n)
