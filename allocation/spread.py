"""Spreading a provincial allocation over its communes by stated drivers (``landuse allocate --by-unit``).

Two stages. **Stage 1** is the provincial allocation: the provincial LP (:func:`allocation.api.run_problem`, the
province as one unit) or, when located projects or unit rows exist, the joint by-unit LP
(:func:`allocation.api.allocate_by_unit`), because only it picks conversions whose origin land lies in the
communes the rows name (the provincial LP turned unused hill land into industrial clusters, and the communes of
the clusters have none). Only its provincial conversions ``F[i→j]`` (ha) are kept. **Stage 2** splits each
conversion over the communes:

* a commune's *driver share* of ``i→j`` is proportional to its **score**
  ``stock^w_stock × suitability^w_suit × potential^w_pot × region^w_region / unit cost factor``, where ``stock``
  is its 2024 area of ``i`` (the land converted; a commune without it gets none), ``suitability`` the mean
  H1–H4 score (4…1) of its former district relative to the province (for a destination that the survey grades —
  farm and forest land — high suitability draws the change; for any other destination, e.g. built land, it
  repels it: build on the land least suited to farming), ``potential`` the mean potential score (3 high … 1 low)
  of its former district relative to the province, ``region`` the factor of its Bảng 16 class (I / II / III) for
  destinations the survey does not grade (development goes to the less disadvantaged communes first); the
  weights ``w`` (exponents ≥ 0; 0 turns a driver off) and the region factors are set in the scenario TOML
  (``[spread]``, defaults in the dataset's allocation TOML);
* the answer minimises ``Σ (x − x̂)² / (x̂ + δ)`` (``x̂`` = driver share × ``F``; ``δ`` a small positive floor)
  subject to: every provincial conversion split exactly (``Σ_u x = F``); no commune converts more land of a type
  than it has; **caps** on provincial conversions above ``min_change_ha`` (100 ha) — no commune converts more
  than ``stock_cap`` of its stock of one land type in them (or 1.5 × the province's converted share of that
  type where that is larger), and no commune takes more than ``change_cap`` of one of them unless no split can
  keep it below (it holds most of the land converted); flows a located project or unit row asks for (into
  its code, in its commune) are exempt from both caps; located projects (minimums from ``industrial_zones``)
  and ``--unit-rows`` (min / max / target of a code's end area in a commune) hold.

The objective is strictly convex (a positive diagonal Hessian), so the optimum is **unique**: any exact solver
gives the same split. It is solved by Clarabel (interior point) or OSQP (operator splitting, polished) through
:func:`solve_qp`, the one solver call of this module (HiGHS's active-set QP took 103 s on 2,829 columns where
Clarabel takes 0.2 s); stage 1 uses the LP solver the user chose (HiGHS or CBC). When the caps conflict with the
unit rows, :class:`~landuse.errors.InfeasibleError` (exit 1) names the constraints an elastic LP had to relax.
All areas in ha.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocation.api import AllocationResult, _permissions_path, run_problem
from allocation.config import Config, _Doc
from allocation.model import Matrix, spec_mask, start_areas
from landuse.dataset import Dataset, load_toml
from landuse.errors import ConfigError, InfeasibleError, InputError, LanduseError, Location
from landuse.readers.tables import ROW, require_columns

DRIVERS = ("stock", "suitability", "potential", "region")
SETTING_KEYS = (*DRIVERS, "stock_cap", "change_cap", "min_change_ha", "region_factor")
TOL = 1e-6  # ha


# ---- settings: the [spread] tables of the default config and the scenario ----------------------------
@dataclass(frozen=True)
class SpreadSettings:
    """Driver weights (exponents ≥ 0), region factors (> 0, by Bảng 16 class) and caps (shares 0–1)."""

    stock: float = 1.0
    suitability: float = 1.0
    potential: float = 1.0
    region: float = 1.0
    region_factor: dict[str, float] = field(default_factory=dict)  # from the dataset's [spread]; a class without one: 1
    stock_cap: float = 0.5
    change_cap: float = 0.5
    min_change_ha: float = 100.0
    sources: tuple[str, ...] = ()


def spread_settings(config: Config) -> SpreadSettings:
    """The ``[spread]`` keys of the config's TOML files (default, then scenario: later keys override).

    A weight that is negative or not a number, a cap outside 0–1 or a region factor ≤ 0 raises
    :class:`~landuse.errors.ConfigError` naming the file, line and key."""
    vals: dict = {"region_factor": {}}
    used = []
    for src in config.sources:
        path = Path(src)
        doc = _Doc(path, load_toml(path), set())
        t = doc.table("spread")
        if not t:
            continue
        used.append(path.name)
        for key, v in t.items():
            if key == "region_factor":
                if not isinstance(v, dict):
                    raise doc.error("spread.region_factor must be a table of factors by region class",
                                    "spread", key)
                for cls_, f in v.items():
                    vals["region_factor"][str(cls_)] = doc.number(f, "spread", key, lo=1e-9)
            elif key in ("stock_cap", "change_cap"):
                vals[key] = doc.number(v, "spread", key, 0.0, 1.0)
            elif key == "min_change_ha":
                vals[key] = doc.number(v, "spread", key, 0.0)
            elif key in DRIVERS:
                vals[key] = doc.number(v, "spread", key, 0.0)
            else:
                raise doc.error(f"unknown key {key!r} in [spread]", "spread", key,
                                expected=" | ".join(SETTING_KEYS), found=key)
    return SpreadSettings(**vals, sources=tuple(used))


# ---- the drivers by commune ---------------------------------------------------------------------------
@dataclass
class UnitDrivers:
    """Per unit: Bảng 16 class, former district, suitability and potential scores relative to the province
    (1 = the provincial mean; 1 where unknown); ``graded``: leaves the suitability survey grades."""

    region: np.ndarray
    district: np.ndarray
    suitability: np.ndarray
    potential: np.ndarray
    graded: np.ndarray
    notes: list[str] = field(default_factory=list)


def _district_key(name: object) -> str:
    s = unicodedata.normalize("NFC", str(name)).casefold()
    s = re.sub(r"\(cũ\)|khu vực|huyện|thành phố|thị xã", " ", s)
    return " ".join(s.split())


def _scores(ds: Dataset, key: str, weights: dict[str, float], label: str) -> tuple[dict[str, float], float] | None:
    """Mean ordinal score per former district (``weights``: column -> score) and the provincial mean, from the
    ``dimension == district`` rows (and the ``total`` row) of ``extras[key]``; None when absent."""
    if key not in ds.extras or "dimension" not in ds.extras[key]:
        return None
    cols = list(weights)
    base = "graded_ha" if "graded_ha" in ds.extras[key] else "surveyed_ha"
    t = ds.extra_numbers(key, [base, *cols])
    val = sum(t[c].fillna(0.0) * w for c, w in weights.items()) / t[base]
    dist = t["dimension"] == "district"
    out = dict(zip(t.loc[dist, label].map(_district_key), val[dist], strict=True))
    tot = t["dimension"] == "total"
    mean = float(val[tot].iloc[0]) if tot.any() else float(np.mean(list(out.values())))
    return out, mean


def unit_drivers(ds: Dataset, units: list[str], leaves: list[str]) -> UnitDrivers:
    """Drivers of ``units`` from the dataset's ``communes`` (name, region, former_district), ``suitability``
    and ``potential`` files. A unit of the inventory missing from ``communes`` (or the reverse), or a former
    district the surveys do not list, raises :class:`InputError` with file, row and column."""
    n = len(units)
    d = UnitDrivers(np.full(n, "", dtype=object), np.full(n, "", dtype=object), np.ones(n), np.ones(n),
                    np.zeros(len(leaves), dtype=bool))
    if "communes" not in ds.extras:
        d.notes.append("no communes file: region and district drivers are neutral")
        return d
    c = ds.extras["communes"]
    path = ds.file("communes")
    require_columns(c, ["name"], path)
    names = c["name"].map(lambda x: unicodedata.normalize("NFC", str(x)).strip())
    missing = ~names.isin(units)
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise InputError(f"commune {names.iloc[i]!r} is not in the inventory",
                         Location.of(path, row=int(c[ROW].iloc[i]), column="name"),
                         expected=f"one of the {n} units of {ds.file('inventory').name}")
    absent = [u for u in units if u not in set(names)]
    if absent:
        raise InputError(f"unit {absent[0]!r} of the inventory is not in {path.name}",
                         Location.of(ds.file("inventory"), column="unit"),
                         expected=f"one of the {len(names)} communes of {path.name}")
    pos = dict(zip(names, range(len(names)), strict=True))
    idx = np.array([pos[u] for u in units])
    if "region" in c:
        d.region = c["region"].fillna("").to_numpy(object)[idx]
    if "former_district" not in c:
        d.notes.append(f"{path.name} has no former_district: suitability and potential drivers are neutral")
        return d
    dist = c["former_district"].map(_district_key).to_numpy(object)
    d.district = c["former_district"].to_numpy(object)[idx]
    for key, attr, w, label in (("suitability", "suitability", {"h1_ha": 4, "h2_ha": 3, "h3_ha": 2, "h4_ha": 1},
                                 "label"),
                                ("potential", "potential", {"high_ha": 3, "medium_ha": 2, "low_ha": 1}, "label")):
        got = _scores(ds, key, w, label)
        if got is None:
            d.notes.append(f"no {key} file: its driver is neutral")
            continue
        score, mean = got
        unknown = ~pd.Series(dist).isin(score)
        if unknown.any():
            i = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(f"former district {c['former_district'].iloc[i]!r} is not in {ds.file(key).name}",
                             Location.of(path, row=int(c[ROW].iloc[i]), column="former_district"),
                             expected="a district of " + ", ".join(sorted(score)))
        setattr(d, attr, np.array([score[x] / mean for x in dist])[idx])
    if "suitability" in ds.extras and "code" in ds.extras["suitability"]:
        s = ds.extras["suitability"]
        codes = s.loc[s.get("dimension", pd.Series("purpose", index=s.index)) == "purpose", "code"]
        cls = ds.classification
        for code in codes.dropna().astype(str).str.strip():
            if code in cls:
                d.graded |= spec_mask(cls, code)
    return d


# ---- stage 2 as arrays ----------------------------------------------------------------------------------
@dataclass
class SpreadProblem:
    """Stage 2 as arrays. ``F`` (P,) provincial conversions ``pair_from → pair_to`` (leaf indices, ha); one
    column ``k`` per (unit ``k_unit``, pair ``k_pair``) where the unit has the origin land; ``target`` (K,) the
    driver share × F; ``upper`` (K,) column caps; rows of ``matrix`` with ``lower``/``upper`` and a ``label``
    and ``kind`` (pair | stock | cap | unit) each; ``exempt`` (K,) flows a located project or unit row asks for;
    ``factors`` (K, 4) the driver factors of each column (stock share, suitability, potential, region)."""

    units: list[str]
    leaves: list[str]
    start: np.ndarray
    F: np.ndarray
    pair_from: np.ndarray
    pair_to: np.ndarray
    k_unit: np.ndarray
    k_pair: np.ndarray
    target: np.ndarray
    delta: np.ndarray
    upper: np.ndarray
    matrix: Matrix
    rows: pd.DataFrame
    exempt: np.ndarray
    capped_pair: np.ndarray
    factors: np.ndarray
    exempt_label: np.ndarray


def provincial_pairs(flows: pd.DataFrame, leaves: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(from, to, area) of the provincial conversions (ha, > TOL, staying excluded) as leaf indices."""
    lpos = {c: k for k, c in enumerate(leaves)}
    f = flows[(flows["code_from"] != flows["code_to"]) & flows["code_from"].isin(lpos) & flows["code_to"].isin(lpos)]
    g = f.groupby(["code_from", "code_to"], sort=True)["area_ha"].sum()
    g = g[g > TOL]
    return (g.index.get_level_values(0).map(lpos).to_numpy(int), g.index.get_level_values(1).map(lpos).to_numpy(int),
            g.to_numpy(float))


def _scores_matrix(S: np.ndarray, drv: UnitDrivers, st: SpreadSettings, cost_factor: np.ndarray,
                   pf: np.ndarray, pt: np.ndarray, ku: np.ndarray, kp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score per column and its factors (stock share of the origin, suitability, potential, region)."""
    stock = S[ku, pf[kp]]
    share = stock / np.bincount(kp, weights=stock, minlength=len(pf))[kp]
    graded = drv.graded[pt[kp]]
    suit = np.where(graded, drv.suitability[ku], 1.0 / drv.suitability[ku])
    pot = drv.potential[ku]
    reg = np.array([st.region_factor.get(str(r), 1.0) for r in drv.region])[ku]
    reg = np.where(graded, 1.0, reg)
    score = (stock ** st.stock * suit ** st.suitability * pot ** st.potential * reg ** st.region
             / cost_factor[ku, pf[kp]])
    return score, np.column_stack([share, suit, pot, reg])


def unit_row_masks(rows: pd.DataFrame, cls, leaves: list[str], upos: dict) -> list[tuple[int, np.ndarray, str, str,
                                                                                        float, str]]:
    """Unit rows grouped per (unit, code, kind) (mins and targets summed, maxima the least):
    ``(unit index, leaf mask, code, kind, area_ha, label)``."""
    if rows is None or not len(rows):
        return []
    agg = {"min": "sum", "target": "sum", "max": "min"}
    out = []
    for (u, code, kind), g in rows.groupby(["unit", "code", "kind"], sort=False):
        a = float(getattr(g["area_ha"], agg[kind])())
        base = f"{kind} {code} in {u}"
        named = [str(x) for x in g["label"] if str(x) != base]
        label = base + (" (" + ", ".join(named) + ")" if named else "")
        out.append((upos[u], spec_mask(cls, code), code, kind, a, label))
    return out


def spread_problem(start: np.ndarray, units: list[str], leaves: list[str], pairs, drv: UnitDrivers,
                   st: SpreadSettings, unit_rows: list, cost_factor: np.ndarray | None = None) -> SpreadProblem:
    """Stage 2 of provincial ``pairs`` (from, to, ha) over units with ``start`` (U, n) ha (see the module doc)."""
    pf, pt, F = pairs
    U, n = start.shape
    cost_factor = np.ones((U, n)) if cost_factor is None else cost_factor
    P = len(F)
    holds = start[:, pf] > TOL                                   # (U, P)
    ku, kp = np.nonzero(holds)
    order = np.lexsort((ku, kp))
    ku, kp = ku[order], kp[order]
    K = len(ku)
    score, factors = _scores_matrix(start, drv, st, cost_factor, pf, pt, ku, kp)
    target = F[kp] * score / np.bincount(kp, weights=score, minlength=P)[kp]
    nhold = np.bincount(kp, minlength=P)
    delta = 0.01 * F[kp] / nhold[kp] + 1e-3
    # exempt flows: into the code of a min/target unit row, in its unit, from land outside that code
    exempt = np.zeros(K, dtype=bool)
    exempt_label = np.full(K, "", dtype=object)
    for u, mask, _code, kind, _a, label in unit_rows:
        if kind in ("min", "target"):
            hit = (ku == u) & mask[pt[kp]] & ~mask[pf[kp]]
            exempt |= hit
            exempt_label[hit] = np.where(exempt_label[hit] == "", label, exempt_label[hit] + "; " + label)
    # stock cap per origin: max(stock_cap, 1.5 × the province's converted share), at most 1
    s_tot = start.sum(axis=0)
    out_share = np.divide(np.bincount(pf, weights=F, minlength=n), s_tot, out=np.zeros(n), where=s_tot > 0)
    cap_i = np.minimum(1.0, np.maximum(st.stock_cap, 1.5 * out_share))
    # change cap per pair above min_change_ha unless the holders cannot keep every commune under it
    big = F > st.min_change_ha
    room = np.minimum(cap_i[pf[kp]] * start[ku, pf[kp]], st.change_cap * F[kp])
    capped_pair = big & (np.bincount(kp, weights=room, minlength=P) >= F * (1 + 1e-9))
    upper = np.where(capped_pair[kp] & ~exempt, np.minimum(start[ku, pf[kp]], st.change_cap * F[kp]),
                     start[ku, pf[kp]])
    rows_r, rows_c, rows_v, lab = [], [], [], []
    lo, hi, kind = [], [], []

    def add(cols: np.ndarray, vals: np.ndarray, row_lo: float, row_hi: float, label: str, k: str) -> None:
        rows_r.append(np.full(len(cols), len(lab)))
        rows_c.append(cols)
        rows_v.append(vals)
        lab.append(label)
        lo.append(row_lo)
        hi.append(row_hi)
        kind.append(k)

    # pair rows: Σ_u x = F  (one sparse block; labels name the provincial conversion)
    rows_r.append(kp.copy())
    rows_c.append(np.arange(K))
    rows_v.append(np.ones(K))
    lab.extend(f"provincial conversion {leaves[a]}→{leaves[b]} ({f:,.1f} ha)"
               for a, b, f in zip(pf, pt, F, strict=True))
    lo.extend(F)
    hi.extend(F)
    kind.extend(["pair"] * P)
    base = P
    # stock rows per (unit, origin): non-exempt flows of big conversions ≤ cap × stock; all flows ≤ stock
    key = ku * n + pf[kp]
    uk, inv = np.unique(key, return_inverse=True)
    m = len(uk)
    ne = ~exempt & big[kp]
    rows_r.append(base + inv[ne])
    rows_c.append(np.flatnonzero(ne))
    rows_v.append(np.ones(int(ne.sum())))
    su, si = uk // n, uk % n
    lab.extend(f"cap: {units[a]} converts at most {cap_i[b]:.0%} of its {leaves[b]}"
               for a, b in zip(su, si, strict=True))
    lo.extend([-np.inf] * m)
    hi.extend(cap_i[si] * start[su, si])
    kind.extend(["cap"] * m)
    base += m
    ex_keys = np.unique(inv[~ne])
    if len(ex_keys):
        remap = np.full(m, -1)
        remap[ex_keys] = np.arange(len(ex_keys))
        sel = remap[inv] >= 0
        rows_r.append(base + remap[inv[sel]])
        rows_c.append(np.flatnonzero(sel))
        rows_v.append(np.ones(int(sel.sum())))
        lab.extend(f"stock: {units[su[q]]} has {start[su[q], si[q]]:,.1f} ha of {leaves[si[q]]}" for q in ex_keys)
        lo.extend([-np.inf] * len(ex_keys))
        hi.extend(start[su[ex_keys], si[ex_keys]])
        kind.extend(["stock"] * len(ex_keys))
        base += len(ex_keys)
    # unit rows: end area of the code in the unit = start + inflows − outflows
    for u, mask, _code, k, a, label in unit_rows:
        inflow = (ku == u) & mask[pt[kp]] & ~mask[pf[kp]]
        outflow = (ku == u) & mask[pf[kp]] & ~mask[pt[kp]]
        cols = np.flatnonzero(inflow | outflow)
        s0 = float(start[u, mask].sum())
        add(cols, np.where(inflow[cols], 1.0, -1.0),
            a - s0 if k in ("min", "target") else -np.inf, a - s0 if k in ("max", "target") else np.inf, label, "unit")
    mat = Matrix(np.concatenate(rows_r).astype(np.int64), np.concatenate(rows_c).astype(np.int64),
                 np.concatenate(rows_v).astype(float), (len(lab), K))
    rows = pd.DataFrame({"kind": kind, "label": lab, "lower": np.array(lo, float), "upper": np.array(hi, float)})
    return SpreadProblem(units, leaves, start, F, pf, pt, ku, kp, target, delta, upper, mat, rows, exempt,
                         capped_pair, factors, exempt_label)


# ---- the one solver call ----------------------------------------------------------------------------------
@dataclass
class QPSolution:
    """``x`` (ha) per column when ``ok``; ``status`` as the solver reports it."""

    ok: bool
    status: str
    x: np.ndarray | None = None
    seconds: float = 0.0


QP_SOLVERS = ("clarabel", "osqp")


def solve_qp(cost: np.ndarray, hess_diag: np.ndarray | None, col_lo: np.ndarray, col_hi: np.ndarray,
             matrix: Matrix, row_lo: np.ndarray, row_hi: np.ndarray, solver: str = "clarabel") -> QPSolution:
    """min cost·x + ½ Σ hess_diag·x²  s.t.  row_lo ≤ A x ≤ row_hi, col_lo ≤ x ≤ col_hi (an LP when
    ``hess_diag`` is None). ``solver``: ``clarabel`` (interior point) or ``osqp`` (operator splitting, polished).
    The only place this module talks to a solver."""
    import scipy.sparse as sps

    t0 = time.perf_counter()
    n = len(cost)
    A = sps.csc_matrix((matrix.val, (matrix.row, matrix.col)), shape=matrix.shape)
    P = sps.diags(np.zeros(n) if hess_diag is None else np.asarray(hess_diag, float), format="csc")
    A = sps.vstack([A, sps.identity(n, format="csc")], format="csc")
    lo, hi = np.concatenate([row_lo, col_lo]), np.concatenate([row_hi, col_hi])
    sol = (_clarabel if solver == "clarabel" else _osqp)(P, np.asarray(cost, float), A, lo, hi)
    sol.seconds = time.perf_counter() - t0
    return sol


def _clarabel(P, q, A, lo, hi) -> QPSolution:
    """l ≤ A x ≤ u as Clarabel's cones: equalities (zero cone) then one-sided rows (nonnegative cone)."""
    import clarabel
    import scipy.sparse as sps

    eq = np.isfinite(lo) & np.isfinite(hi) & (np.abs(hi - lo) <= 1e-12)
    up = np.isfinite(hi) & ~eq
    dn = np.isfinite(lo) & ~eq
    A_ = sps.vstack([A[eq], A[up], -A[dn]], format="csc")
    b = np.concatenate([hi[eq], hi[up], -lo[dn]])
    cones = [clarabel.ZeroConeT(int(eq.sum())), clarabel.NonnegativeConeT(int(up.sum() + dn.sum()))]
    st = clarabel.DefaultSettings()
    st.verbose = False
    st.tol_gap_abs = st.tol_gap_rel = st.tol_feas = 1e-9
    res = clarabel.DefaultSolver(sps.triu(P, format="csc"), q, A_, b, cones, st).solve()
    status = str(res.status)
    ok = status.endswith("Solved") and not status.endswith("AlmostSolved")
    out = QPSolution(ok or status.endswith("AlmostSolved"), status)
    if out.ok:
        out.x = np.asarray(res.x, dtype=float)
    return out


def _osqp(P, q, A, lo, hi) -> QPSolution:
    import osqp
    import scipy.sparse as sps

    P, A = sps.csc_matrix(sps.triu(P)), sps.csc_matrix(A)
    for mat in (P, A):
        mat.sum_duplicates()
        mat.sort_indices()
    big = 1e20  # OSQP's infinity is 1e30; finite bounds keep its setup on the safe side
    m = osqp.OSQP()
    m.setup(P=P, q=np.ascontiguousarray(q), A=A, l=np.where(np.isfinite(lo), lo, -big),
            u=np.where(np.isfinite(hi), hi, big), verbose=False, eps_abs=1e-6, eps_rel=1e-6,
            max_iter=400_000, polishing=True, scaling=25)
    res = m.solve()
    status = str(res.info.status)
    out = QPSolution(status.startswith("solved"), status)
    if out.ok:
        out.x = np.asarray(res.x, dtype=float)
    return out


def solve_spread(sp: SpreadProblem, solver: str = "clarabel") -> QPSolution:
    """The unique split: min Σ (x − x̂)² / (x̂ + δ) under the rows of ``sp``."""
    w = 1.0 / (sp.target + sp.delta)
    return solve_qp(-2.0 * sp.target * w, 2.0 * w, np.zeros(len(w)), sp.upper, sp.matrix,
                    sp.rows["lower"].to_numpy(float), sp.rows["upper"].to_numpy(float), solver)


def conflicts(sp: SpreadProblem) -> pd.DataFrame:
    """Which caps, column caps and unit rows an elastic LP must relax to split the provincial conversions
    (the pair rows and the stocks stay hard): ``constraint, relaxed_ha``, largest first."""
    K, R = len(sp.target), len(sp.rows)
    soft = np.flatnonzero(sp.rows["kind"].isin(["cap", "unit"]).to_numpy())
    lower, upper = sp.rows["lower"].to_numpy(float), sp.rows["upper"].to_numpy(float)
    # slack columns: + and − on every soft row, and one per capped column (x − s ≤ cap)
    capped = np.flatnonzero(sp.upper < sp.start[sp.k_unit, sp.pair_from[sp.k_pair]] - TOL)
    r = [sp.matrix.row, soft, soft, R + np.arange(len(capped)), R + np.arange(len(capped))]
    c = [sp.matrix.col, K + np.arange(len(soft)), K + len(soft) + np.arange(len(soft)), capped,
         K + 2 * len(soft) + np.arange(len(capped))]
    v = [sp.matrix.val, np.ones(len(soft)), -np.ones(len(soft)), np.ones(len(capped)), -np.ones(len(capped))]
    n_col = K + 2 * len(soft) + len(capped)
    m = Matrix(np.concatenate(r), np.concatenate(c), np.concatenate(v).astype(float), (R + len(capped), n_col))
    stock = sp.start[sp.k_unit, sp.pair_from[sp.k_pair]]
    col_hi = np.concatenate([stock, np.full(n_col - K, np.inf)])
    cost = np.concatenate([np.zeros(K), np.ones(n_col - K)])
    sol = solve_qp(cost, None, np.zeros(n_col), col_hi, m, np.concatenate([lower, np.full(len(capped), -np.inf)]),
                   np.concatenate([upper, sp.upper[capped]]))
    if sol.ok and np.any(sol.x[K:] < -1e-6):  # numerically unreliable
        sol.ok = False
    if not sol.ok:
        return pd.DataFrame({"constraint": ["the stocks of the communes (a provincial conversion needs more land of "
                                            "its type than the communes have)"], "relaxed_ha": [np.nan]})
    s = sol.x[K:]
    rel_rows = s[: len(soft)] + s[len(soft): 2 * len(soft)]
    rel_cols = s[2 * len(soft):]
    labels = list(sp.rows["label"].to_numpy()[soft]) + [
        f"cap: {sp.units[sp.k_unit[k]]} takes at most {sp.upper[k]:,.1f} ha of "
        f"{sp.leaves[sp.pair_from[sp.k_pair[k]]]}→{sp.leaves[sp.pair_to[sp.k_pair[k]]]}" for k in capped]
    out = pd.DataFrame({"constraint": labels, "relaxed_ha": np.concatenate([rel_rows, rel_cols])})
    out = out[out["relaxed_ha"] > 1e-4].sort_values("relaxed_ha", ascending=False, kind="stable")
    # the provincial conversions into or out of what had to be relaxed
    return out.reset_index(drop=True)


# ---- the entry point ----------------------------------------------------------------------------------------
@dataclass
class SpreadDetail:
    """How stage 2 split the province: ``flows`` (one row per commune conversion: ``unit, code_from, code_to,
    area_ha, driver_ha`` (its driver share × the provincial conversion), ``provincial_ha``, ``share_pct`` (of
    the provincial conversion), ``stock_share_pct`` (the commune's share of the province's origin land),
    ``suitability, potential, region`` (driver factors), ``reason``), the settings and drivers used, and which
    stage 1 gave the provincial conversions."""

    flows: pd.DataFrame
    settings: SpreadSettings
    drivers: UnitDrivers
    stage1: str
    units: list[str]


def _project_conflicts(rows: pd.DataFrame) -> None:
    """A unit row (not a located project) whose maximum or target is below a located project's minimum of the
    same unit and code -> InputError at that row's area_ha."""
    if rows is None or not len(rows) or "source" not in rows:
        return
    proj = rows[rows["kind"] == "min"].groupby(["unit", "code", "source"])["area_ha"].sum().reset_index()
    caps = rows[rows["kind"].isin(["max", "target"])]
    both = caps.merge(proj, on=["unit", "code"], suffixes=("", "_min"))
    both = both[(both["source"] != both["source_min"]) & (both["area_ha"] < both["area_ha_min"] - 1e-9)]
    if len(both):
        r = both.iloc[0]
        raise InputError(f"unit {r['unit']!r}: the {r['kind']} of {r['code']} ({r['area_ha']:,.2f} ha) is below the "
                         f"{r['area_ha_min']:,.2f} ha that {r['source_min']} locates there",
                         Location.of(r["source"], row=int(r["row"]), column="area_ha"),
                         expected=f"≥ {r['area_ha_min']:g} (the located projects)", found=r["area_ha"])


def _cost_factor(unit_cost: pd.DataFrame | None, cls, units: list[str]) -> np.ndarray:
    out = np.ones((len(units), len(cls.leaves)))
    if unit_cost is not None and len(unit_cost):
        upos = {u: k for k, u in enumerate(units)}
        for u, code, f in zip(unit_cost["unit"], unit_cost["code"], unit_cost["factor"], strict=True):
            out[upos[u], spec_mask(cls, code)] = max(float(f), 1e-9)
    return out


def allocate_spread(ds: Dataset, config: Config, unit_rows: pd.DataFrame | None = None,
                    unit_cost: pd.DataFrame | None = None, solver: str | None = None,
                    time_limit: float | None = None, projects: bool = True,
                    number_format: str | None = None, qp_solver: str = "clarabel") -> AllocationResult:
    """Allocate ``ds`` under ``config`` and spread the provincial conversions over its units by the drivers of
    the config's ``[spread]`` (see the module doc). Same inputs and result as
    :func:`allocation.api.allocate_by_unit`, plus ``result.spread`` (:class:`SpreadDetail`). ``solver``
    solves stage 1 (highs | cbc), ``qp_solver`` stage 2 (clarabel | osqp)."""
    if qp_solver not in QP_SOLVERS:
        raise ConfigError("unknown QP solver", expected=" | ".join(QP_SOLVERS), found=qp_solver)
    from allocation.api import allocate_by_unit
    from allocation.units import (
        UNIT_ROW_COLUMNS,
        check_several_units,
        check_unit_totals,
        located_projects,
    )

    t0 = time.perf_counter()
    check_several_units(ds, config.start_year)
    check_unit_totals(ds, config.start_year)
    settings = spread_settings(config)
    parts = ([located_projects(ds, config.target_year, number_format=number_format)] if projects else []) + (
        [unit_rows] if unit_rows is not None else [])
    parts = [p for p in parts if len(p)]
    urows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=UNIT_ROW_COLUMNS)
    _project_conflicts(urows)
    cls = config.classification
    leaves = list(cls.leaves)
    start = start_areas(ds, config.start_year, by_unit=True)
    units = list(dict.fromkeys(start["unit"]))
    S = start.pivot(index="unit", columns="code", values="area_ha").reindex(index=units, columns=leaves).to_numpy()
    drv = unit_drivers(ds, units, leaves)
    if len(urows):  # the joint LP's provincial conversions can be sited where the unit rows ask
        stage = allocate_by_unit(ds, config, unit_rows, unit_cost, solver, time_limit, projects, number_format)
        used = "joint by-unit LP (unit rows: its provincial conversions fit the communes they name)"
    else:
        stage = run_problem(ds, config, start_areas(ds, config.start_year), None, None, solver, time_limit)
        used = "provincial LP"
    t1 = time.perf_counter()
    masks = unit_row_masks(urows, cls, leaves, {u: k for k, u in enumerate(units)})
    sp = spread_problem(S, units, leaves, provincial_pairs(stage.flows, leaves), drv, settings, masks,
                        _cost_factor(unit_cost, cls, units))
    sol = solve_spread(sp, qp_solver)
    if not sol.ok:
        if "infeasible" not in sol.status.lower():
            raise LanduseError(f"the spread model stopped without an answer: {sol.status}")
        conf = conflicts(sp)
        items = "; ".join(f"{c} (short by {r:,.1f} ha)" if r == r else c
                          for c, r in zip(conf["constraint"].head(8), conf["relaxed_ha"].head(8), strict=True))
        raise InfeasibleError("infeasible: the provincial conversions cannot be split over the communes under these "
                              f"constraints together: {items}", conf)
    t2 = time.perf_counter()
    x = np.clip(sol.x, 0.0, None)
    res = _result(ds, config, stage, sp, x, start)
    res.unit_rows = urows
    res.spread = SpreadDetail(explain(sp, x, settings), settings, drv, used, units)
    res.seconds = {"stage1": t1 - t0, "spread_build_and_solve": t2 - t1, "spread_solve": sol.seconds,
                   "report": time.perf_counter() - t2, "columns": len(x), "rows": len(sp.rows)}
    return res


def _result(ds: Dataset, config: Config, stage: AllocationResult, sp: SpreadProblem, x: np.ndarray,
            start: pd.DataFrame) -> AllocationResult:
    """The by-unit AllocationResult of the split ``x``: per-unit flows (staying included), the provincial table
    as the sum of the units, conversions, permissions; binding constraints and status from stage 1."""
    from allocation import diagnostics as dg

    U, n = sp.start.shape
    pf, pt = sp.pair_from[sp.k_pair], sp.pair_to[sp.k_pair]
    out = np.zeros((U, n))
    np.add.at(out, (sp.k_unit, pf), x)
    gain = np.zeros((U, n))
    np.add.at(gain, (sp.k_unit, pt), x)
    stay = sp.start - out
    su, si = np.nonzero(stay > TOL)
    units, leaves = np.array(sp.units, dtype=object), np.array(sp.leaves, dtype=object)
    moved = x > TOL
    flows = pd.DataFrame({"unit": np.concatenate([units[su], units[sp.k_unit[moved]]]),
                          "code_from": np.concatenate([leaves[si], leaves[pf[moved]]]),
                          "code_to": np.concatenate([leaves[si], leaves[pt[moved]]]),
                          "area_ha": np.concatenate([stay[su, si], x[moved]])})
    order = {u: k for k, u in enumerate(sp.units)}
    flows = flows.sort_values(["unit", "code_from", "code_to"], key=lambda s: s.map(order) if s.name == "unit" else s,
                              kind="stable").reset_index(drop=True)
    cls = config.classification
    res = AllocationResult(
        table=dg.allocation_table(config, start, flows, ds.stock(config.start_year)),
        conversions=dg.conversion_matrix(flows, cls), flows=flows,
        permissions=dg.permissions(flows, cls, _permissions_path(ds)), binding=stage.binding,
        status=stage.status, solver=stage.solver, objective=stage.objective, config=config,
        notes=list(stage.notes))
    end = sp.start - out + gain
    res.unit_areas = pd.DataFrame({"unit": np.repeat(sp.units, n), "code": np.tile(sp.leaves, U),
                                   "area_start": sp.start.ravel(), dg.end_column(config.target_year): end.ravel()})
    return res


def explain(sp: SpreadProblem, x: np.ndarray, st: SpreadSettings) -> pd.DataFrame:
    """One row per commune conversion (> 0.05 ha or with a driver share > 0.05 ha): what the drivers asked
    (``driver_ha``), what it got, and the reason in words (see :class:`SpreadDetail`)."""
    keep = (x > 0.05) | (sp.target > 0.05)
    k = np.flatnonzero(keep)
    pf, pt = sp.pair_from[sp.k_pair[k]], sp.pair_to[sp.k_pair[k]]
    F = sp.F[sp.k_pair[k]]
    xs, tg, fac = x[k], sp.target[k], sp.factors[k]
    leaves = np.array(sp.leaves, dtype=object)
    share = 100 * xs / F
    near = np.abs(xs - tg) <= np.maximum(0.5, 0.01 * tg)
    reasons = []
    for j in range(len(k)):  # words for a few thousand rows
        frm = leaves[pf[j]]
        drivers = f"drivers: {fac[j, 0]:.1%} of the province's {frm}"
        extra = [f"{name} ×{v:.2f}" for name, v, w in zip(("suitability", "potential", "region"), fac[j, 1:],
                                                         (st.suitability, st.potential, st.region), strict=True)
                 if w > 0 and abs(np.log(v)) > 0.02]
        drivers += (", " + ", ".join(extra)) if extra else ""
        if sp.exempt[k[j]] and xs[j] > tg[j] + 0.5:
            reasons.append(f"located project / unit row: {sp.exempt_label[k[j]]}")
        elif not sp.capped_pair[sp.k_pair[k[j]]] and share[j] > 100 * st.change_cap:
            reasons.append(f"holds most of the {frm} that can be converted ({fac[j, 0]:.0%}); {drivers}")
        elif near[j]:
            reasons.append(drivers)
        elif xs[j] < tg[j]:
            reasons.append(f"{drivers}; lowered by a cap or by located projects elsewhere")
        else:
            reasons.append(f"{drivers}; raised to take what capped or project communes could not")
    units = np.array(sp.units, dtype=object)
    return pd.DataFrame({"unit": units[sp.k_unit[k]], "code_from": leaves[pf], "code_to": leaves[pt],
                         "area_ha": xs, "driver_ha": tg, "provincial_ha": F, "share_pct": share,
                         "stock_share_pct": 100 * fac[:, 0], "suitability": fac[:, 1], "potential": fac[:, 2],
                         "region": fac[:, 3], "reason": reasons})
