"""The allocation LP, built from arrays: one DataFrame row per variable, constraints as one sparse matrix.

Variables (all ≥ 0, ha):

* ``flow``: area of leaf ``from`` at the start year that is leaf ``to`` in the target year, per ``unit``,
  for allowed pairs only (``from == to``: the area that stays). With a planned total different from the start
  total, pseudo-codes ``+`` (tăng khác, land entering the boundary) and ``-`` (giảm khác) appear as from / to.
* ``end``: the end area of each leaf over the whole area (Σ of its inflows over all units): rows about the
  whole area reference these, so their length does not grow with the number of units.
* ``under`` / ``over``: deviation below / above a goal (target, or the start area of a leaf without target).

Rows: ``supply`` (every start hectare accounted: Σ_to flow = start area), ``total`` (Σ of end areas = total;
the supply rows and the total row form one group, "total area", in conflict reports),
``bound`` (hard min / max area of any code, shares already turned into areas), ``goal`` (end area + under −
over = target). The end area of a code is Σ flows into its leaves; no end-area variables are needed.

Nothing here loops over variables: blocks are built with merges on (unit, leaf) so the same code serves one
unit (the province) or many (communes, issue 8). ``elastic=True`` builds the diagnostic variant: forbidden
pairs are kept (flagged with the rule that forbids them) and every hard row gets slack columns.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocation.config import Config
from landuse.classification import Classification

FLOW, END, UNDER, OVER, SLACK = "flow", "end", "under", "over", "slack"
SUPPLY, TOTAL, BOUND, GOAL = "supply", "total", "bound", "goal"
BOUNDARY_IN, BOUNDARY_OUT = "+", "-"
START_LABEL, TOTAL_LABEL = "start areas", "total area"
VAR_COLUMNS = ["kind", "unit", "from", "to", "code", "group", "cost", "lower", "upper"]
ROW_COLUMNS = ["kind", "label", "code", "unit", "lower", "upper", "group"]


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

    def csc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column-wise (start, index, value) arrays, as HiGHS takes them."""
        order = np.lexsort((self.row, self.col))
        start = np.concatenate([[0], np.cumsum(np.bincount(self.col, minlength=self.shape[1]))])
        return start.astype(np.int32), self.row[order].astype(np.int32), self.val[order].astype(float)


@dataclass
class LinearProgram:
    """min cost·x  s.t.  lower_r ≤ A x ≤ upper_r,  lower_v ≤ x ≤ upper_v. Tables describe every column/row."""

    variables: pd.DataFrame
    rows: pd.DataFrame
    matrix: Matrix
    total_ha: float

    @property
    def cost(self) -> np.ndarray:
        return self.variables["cost"].to_numpy(dtype=float)


def start_areas(ds, year: int, by_unit: bool = False) -> pd.DataFrame:
    """Leaf areas (ha) at ``year``: long ``unit, code, area_ha``; blanks and dashes count as 0.

    With ``by_unit=False`` all units are summed into one unit named after the dataset.
    """
    cls = ds.classification
    inv = ds.inventory[(ds.inventory["year"] == year) & ds.inventory["code"].isin(cls.leaves)]
    inv = inv.assign(area_ha=inv["area_ha"].fillna(0.0))
    if not by_unit:
        inv = inv.assign(unit=ds.name)
    units = list(dict.fromkeys(inv["unit"])) or [ds.name]
    grid = pd.MultiIndex.from_product([units, cls.leaves], names=["unit", "code"])
    out = inv.groupby(["unit", "code"])["area_ha"].sum().reindex(grid, fill_value=0.0)
    return out.reset_index()


def leaves_of_spec(cls: Classification, spec: str) -> list[str]:
    """Leaves named by a rule spec: ``*`` (all), ``X`` (code or aggregate), ``not X`` (all outside X)."""
    spec = spec.strip()
    if spec == "*":
        return list(cls.leaves)
    if spec.startswith("not "):
        inside = set(leaves_of_spec(cls, spec[4:]))
        return [c for c in cls.leaves if c not in inside]
    return [c for c in cls.leaves_of(spec) if c in cls.leaves]


def membership_long(cls: Classification) -> pd.DataFrame:
    """``code, leaf`` for every code and aggregate (of-which rows excluded: not allocated)."""
    m = cls.membership[cls.leaves]
    long = m.stack().rename("in").reset_index()
    long.columns = ["code", "leaf", "in"]
    return long.loc[long["in"] == 1, ["code", "leaf"]]


def pair_table(config: Config) -> pd.DataFrame:
    """Every leaf pair: ``from, to, allowed, group`` (the rule deciding a forbidden pair), ``cost`` (cost units).

    Rules apply in order (a later rule overrides an earlier one), then protections; staying is always allowed.
    """
    cls = config.classification
    leaves = list(cls.leaves)
    grid = pd.MultiIndex.from_product([leaves, leaves], names=["from", "to"]).to_frame(index=False)
    allowed = np.ones(len(grid), dtype=bool)
    group = np.full(len(grid), "", dtype=object)
    rules = config.rules
    for src, dst, rule, label in zip(rules["from"], rules["to"], rules["rule"], rules["label"], strict=True):
        # one pass per rule (a handful), not per pair
        mask = (grid["from"].isin(leaves_of_spec(cls, src)).to_numpy()
                & grid["to"].isin(leaves_of_spec(cls, dst)).to_numpy())
        allowed[mask] = rule == "allow"
        group[mask] = "" if rule == "allow" else label
    for p in config.protect.itertuples(index=False):
        inside = leaves_of_spec(cls, p.code)
        mask = grid["from"].isin(inside).to_numpy() & ~grid["to"].isin(inside).to_numpy()
        allowed[mask] = False
        group[mask] = p.label
    stay = (grid["from"] == grid["to"]).to_numpy()
    allowed[stay], group[stay] = True, ""
    grid["allowed"], grid["group"] = allowed, group
    grid["cost"] = _pair_costs(config, grid)
    return grid


def _factor(cls: Classification, leaf: str, factors: dict[str, float]) -> float:
    """Factor of the most specific code listed for ``leaf``: itself, its ancestors, then aggregates."""
    for code in [leaf] + cls.ancestors(leaf) + [a for a, m in cls.aggregates.items() if leaf in cls.leaves_of(a)]:
        if code in factors:
            return float(factors[code])
    return 1.0


def _pair_costs(config: Config, grid: pd.DataFrame) -> np.ndarray:
    cls, rule = config.classification, config.costs
    f_from = {leaf: _factor(cls, leaf, rule.from_factor) for leaf in cls.leaves}
    f_to = {leaf: _factor(cls, leaf, rule.to_factor) for leaf in cls.leaves}
    good = dict.fromkeys(cls.leaves, 0.0)
    if config.suitability is not None:
        for code, share in zip(config.suitability["code"], config.suitability["good_share"], strict=True):
            for leaf in leaves_of_spec(cls, code):
                good[leaf] = float(share)
    cost = (rule.default * grid["from"].map(f_from) * grid["to"].map(f_to)
            * (1.0 + rule.suitability_weight * grid["from"].map(good))).to_numpy(dtype=float, copy=True)
    # fixed tie-break: up to +tie_break per pair from a hash of its codes, so the optimum is unique in practice
    # and every solver returns the same conversion plan (pairs are otherwise often equally cheap)
    u = np.array([zlib.crc32(f"{a}>{b}".encode()) / 2**32 for a, b in zip(grid["from"], grid["to"], strict=True)])
    cost *= 1.0 + rule.tie_break * u
    cost[(grid["from"] == grid["to"]).to_numpy()] = 0.0
    return cost


def _flows(config: Config, start: pd.DataFrame, pairs: pd.DataFrame, elastic: bool, total: float) -> pd.DataFrame:
    have = start[start["area_ha"] > 0][["unit", "code"]].rename(columns={"code": "from"})
    p = pairs if elastic else pairs[pairs["allowed"]]
    flows = have.merge(p[["from", "to", "group", "cost", "allowed"]], on="from")
    flows["group"] = np.where(flows["allowed"], "", flows["group"])
    flows = flows.drop(columns="allowed")
    start_total = float(start["area_ha"].sum())
    if abs(total - start_total) > 1e-6:  # planned boundary change: land may leave or enter, at a cost
        units = start["unit"].drop_duplicates()
        out = have.assign(to=BOUNDARY_OUT)
        inn = pd.MultiIndex.from_product([units, config.classification.leaves], names=["unit", "to"]).to_frame(
            index=False).assign(**{"from": BOUNDARY_IN})
        extra = pd.concat([out, inn], ignore_index=True).assign(group="", cost=config.costs.boundary)
        flows = pd.concat([flows, extra], ignore_index=True)
    flows["kind"], flows["code"] = FLOW, ""
    flows["cost"] = flows["cost"] * config.costs.scale
    flows["lower"], flows["upper"] = 0.0, np.inf
    return flows


def goal_rows(config: Config, start: pd.DataFrame) -> pd.DataFrame:
    """Targets (of allocated codes) plus keep-start goals for every (unit, leaf) without a target."""
    cls = config.classification
    allocatable = set(cls.codes) | set(cls.aggregates)
    of_which = {c for c in cls.codes if cls.relation(c) == "of-which"}
    t = config.targets[config.targets["code"].isin(allocatable - of_which)]
    rows = pd.DataFrame({"kind": GOAL, "label": "targets " + t["code"], "code": t["code"], "unit": t["unit"],
                         "lower": t["target_ha"], "upper": t["target_ha"], "group": "", "weight": t["weight"]})
    keep = start[~start["code"].isin(set(t["code"]))]
    keep_rows = pd.DataFrame({"kind": GOAL, "label": "keep start " + keep["code"], "code": keep["code"],
                              "unit": keep["unit"], "lower": keep["area_ha"], "upper": keep["area_ha"], "group": "",
                              "weight": config.weights["keep_start"]})
    return pd.concat([rows, keep_rows], ignore_index=True)


def bound_rows(config: Config, total: float) -> pd.DataFrame:
    b = config.bounds
    area = np.where(b["share"].notna(), b["share"].astype(float) * total, b["area_ha"].astype(float))
    is_min = (b["kind"] == "min").to_numpy()
    return pd.DataFrame({"kind": BOUND, "label": b["label"], "code": b["code"], "unit": b["unit"],
                         "lower": np.where(is_min, area, -np.inf), "upper": np.where(is_min, np.inf, area),
                         "group": b["label"]})


def _code_entries(rows: pd.DataFrame, flows: pd.DataFrame, members: pd.DataFrame,
                  leaf_col: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of coefficient 1 for rows summing the end area of their code: rows over the whole area use
    the end-area columns (≤ one per leaf, whatever the number of units); per-unit rows use that unit's flows."""
    r = rows[["code", "unit"]].reset_index(names="row").merge(members, on="code")
    whole = r[r["unit"].isna()]
    f = flows[["unit", "to"]].reset_index(names="col")
    per_unit = r[r["unit"].notna()].merge(f, left_on=["leaf", "unit"], right_on=["to", "unit"])
    rr = np.concatenate([whole["row"].to_numpy(np.int64), per_unit["row"].to_numpy(np.int64)])
    cc = np.concatenate([whole["leaf"].map(leaf_col).to_numpy(np.int64), per_unit["col"].to_numpy(np.int64)])
    return rr, cc


def build(config: Config, start: pd.DataFrame, elastic: bool = False) -> LinearProgram:
    """The LP for ``config`` and start areas ``start`` (long: unit, code, area_ha of leaves).

    Columns: flows, then one end-area column per leaf (whole area: E_j = Σ flows into j over all units), then
    goal deviations (under, over). Rows: supply, end-area definitions (Σ flows into j − E_j = 0), total,
    bounds, goals. Rows over the whole area reference E_j only, so they stay short at any number of units.
    """
    cls = config.classification
    leaves = list(cls.leaves)
    total = float(config.total_ha if config.total_ha is not None else start["area_ha"].sum())
    flows = _flows(config, start, pair_table(config), elastic, total)
    nf, nl = len(flows), len(leaves)
    supply = start[start["area_ha"] > 0]
    supply_rows = pd.DataFrame({"kind": SUPPLY, "label": START_LABEL, "code": supply["code"], "unit": supply["unit"],
                                "lower": supply["area_ha"], "upper": supply["area_ha"], "group": TOTAL_LABEL})
    end_rows = pd.DataFrame({"kind": END, "label": "end area", "code": leaves, "unit": None, "lower": 0.0,
                             "upper": 0.0, "group": ""})
    total_row = pd.DataFrame([{"kind": TOTAL, "label": TOTAL_LABEL, "code": cls.root, "unit": None,
                               "lower": total, "upper": total, "group": TOTAL_LABEL}])
    goals = goal_rows(config, start)
    rows = pd.concat([supply_rows, end_rows, total_row, bound_rows(config, total), goals.drop(columns="weight")],
                     ignore_index=True)
    rows["unit"] = rows["unit"].astype(object).where(rows["unit"].notna(), None)
    ns, ng = len(supply_rows), len(goals)
    first_code_row = ns + nl + 1
    leaf_col = {leaf: nf + k for k, leaf in enumerate(leaves)}
    # supply: flows out of (unit, from)
    s_idx = pd.Series(np.arange(ns), index=pd.MultiIndex.from_frame(supply_rows[["unit", "code"]]))
    out_of = (flows["from"] != BOUNDARY_IN).to_numpy()
    sr = s_idx.reindex(pd.MultiIndex.from_frame(flows.loc[out_of, ["unit", "from"]])).to_numpy(np.int64)
    # end-area definitions: + flows into leaf j, − E_j
    into = (flows["to"] != BOUNDARY_OUT).to_numpy()
    er = ns + flows.loc[into, "to"].map({leaf: k for k, leaf in enumerate(leaves)}).to_numpy(np.int64)
    # bounds and goals over end areas of codes
    cr, cc = _code_entries(rows.iloc[first_code_row:].reset_index(drop=True), flows, membership_long(cls), leaf_col)
    g_rows = np.arange(len(rows) - ng, len(rows))
    blocks = [  # (row indices, column indices, values)
        (sr, np.flatnonzero(out_of), 1.0),
        (er, np.flatnonzero(into), 1.0),
        (ns + np.arange(nl), nf + np.arange(nl), -1.0),
        (np.full(nl, ns + nl), nf + np.arange(nl), 1.0),  # total = Σ E_j
        (cr + first_code_row, cc, 1.0),
        (g_rows, nf + nl + np.arange(ng), 1.0),  # + under
        (g_rows, nf + nl + ng + np.arange(ng), -1.0),  # − over
    ]
    end_vars = pd.DataFrame({"kind": END, "unit": None, "from": "", "to": "", "code": leaves, "group": "",
                             "cost": 0.0, "lower": 0.0, "upper": np.inf})
    dev = pd.DataFrame({"kind": np.repeat([UNDER, OVER], ng), "unit": np.tile(goals["unit"].to_numpy(), 2),
                        "from": "", "to": "", "code": np.tile(goals["code"].to_numpy(), 2), "group": "",
                        "cost": np.tile(goals["weight"].to_numpy(dtype=float), 2), "lower": 0.0, "upper": np.inf})
    variables = pd.concat([flows[VAR_COLUMNS], end_vars[VAR_COLUMNS], dev[VAR_COLUMNS]], ignore_index=True)
    if elastic:
        variables, blocks = _add_slacks(rows, variables, blocks)
    matrix = Matrix(np.concatenate([b[0] for b in blocks]).astype(np.int64),
                    np.concatenate([b[1] for b in blocks]).astype(np.int64),
                    np.concatenate([np.full(len(b[0]), b[2], dtype=float) for b in blocks]),
                    (len(rows), len(variables)))
    return LinearProgram(variables.reset_index(drop=True), rows, matrix, total)


def _add_slacks(rows: pd.DataFrame, variables: pd.DataFrame, blocks: list) -> tuple[pd.DataFrame, list]:
    """One slack column up and one down for every hard row (diagnostics only); slacks belong to the row's group.
    End-area definitions are identities and goals already have deviations: neither gets slack."""
    hard = np.flatnonzero(rows["kind"].isin([SUPPLY, TOTAL, BOUND]).to_numpy())
    n0, nh = len(variables), len(hard)
    slack = pd.DataFrame({"kind": SLACK, "unit": rows["unit"].to_numpy()[np.tile(hard, 2)], "from": "", "to": "",
                          "code": rows["code"].to_numpy()[np.tile(hard, 2)],
                          "group": rows["group"].to_numpy()[np.tile(hard, 2)], "cost": 0.0, "lower": 0.0,
                          "upper": np.inf})
    variables = pd.concat([variables, slack[VAR_COLUMNS]], ignore_index=True)
    return variables, blocks + [(hard, n0 + np.arange(nh), 1.0), (hard, n0 + nh + np.arange(nh), -1.0)]
