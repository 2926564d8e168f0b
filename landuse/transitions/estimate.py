"""Estimating a transition matrix (Biểu 05/TKKK) when no plot data exist: an LP over two stocks and known flows.

Unknowns (ha, ≥ 0) over the leaf codes with data in either year: the cells ``x[i, j]`` (i at the start, j at
the end), ``giảm khác`` g[i] and ``tăng khác`` a[j]. Constraints:

* row sums:    Σ_j x[i, j] + g[i] = start stock of i   (the inventory's leaf value; blank read as 0, said so)
* column sums: Σ_i x[i, j] + a[j] = end stock of j
* every known flow (the dataset's ``flows`` file, or ``--flows``) as a fixed value, through a pair of elastic
  variables: Σ_{cells of the flow} x + e⁺ − e⁻ = stated area. A partner named by a group code (e.g. CSK) is the
  sum over its leaves, its own diagonal cells left out. Other increases / decreases fix a[j] / g[i].
* forbidden conversions (optional) have upper bound 0.

When a year's leaf areas do not add up to its printed total (TS; a parent printed larger than its parts, or a
blank part), that gap is not a boundary change: it gets its own pseudo-category :data:`GAP` (``chua_phan_bo``,
"chưa phân bổ / unreconciled: parts do not add up to the total"), a row with start stock = the start gap and a
column with end stock = the end gap (a negative gap, parts larger than the total, goes to the other side), with
no giảm khác / tăng khác of its own. Row sums then total the start TS and column sums the end TS, so giảm khác /
tăng khác carry exactly TS(end) − TS(start), the real change of the total.

Objective: minimise Σ_{i≠j} x + Σ g + Σ a + Σ_k M/n_k·(e⁺_k + e⁻_k) with M = :data:`ELASTIC_COST` and n_k the
number of cells flow k sums over, so a statement about a group (e.g. LUA → CSK) is relaxed before a statement
about single land types when they conflict. A giảm khác / tăng khác
pair costs 2 against 1 for a conversion, so area moves by conversion unless the two years' printed totals
differ (a boundary change): that difference is carried in giảm khác / tăng khác (moving the gap area costs 1 per
ha, like a conversion). Known flows that cannot
all hold together are relaxed as little as possible and named in the findings. The result is an estimate,
and every output line says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.errors import (
    InfeasibleError,
    InputError,
    Location,
    NegativeAreaError,
    NonNumericError,
    NoSolutionError,
)
from landuse.findings import PRINTED_COLUMNS, conform
from landuse.lp import Solution, SolveStatus, SparseLP
from landuse.lp import solve as solve_lp
from landuse.readers.tables import ROW, VALUE, parse_numbers, read_table, require_columns, resolve_number_format
from landuse.transitions.change import GAP, OTHER_DECREASE, OTHER_INCREASE, _with_totals, matrix_table

ELASTIC_COST = 10000.0
OTHER_COST = 1.0
FLOW_KINDS = ("conversion", "other_increase", "other_decrease")
FLOW_COLUMNS = ["from_code", "to_code", VALUE, "kind"]
ESTIMATED = "estimated"
TOL = 1e-6


@dataclass
class EstimateResult:
    """An estimated matrix. ``matrix``: 05/TKKK layout (index ``from`` = codes [+ ``chua_phan_bo``] +
    ``tang_khac`` + ``total``; columns = codes [+ ``chua_phan_bo``] + ``giam_khac`` + ``total``; ha).
    ``boundary_ha``: the change of the total area (TS end − TS start, from the printed totals) carried in
    giảm khác / tăng khác; ``gap_ha``: {year: printed total − sum of the leaf areas} (the ``chua_phan_bo`` row
    and column). ``findings``: relaxed or conflicting known flows and
    notes on the inputs. ``flows``: each known flow with its estimated value."""

    matrix: pd.DataFrame
    findings: pd.DataFrame
    flows: pd.DataFrame
    from_year: int
    to_year: int
    status: str
    solver: str
    notes: list[str] = field(default_factory=list)
    estimated: bool = True
    boundary_ha: float = 0.0
    gap_ha: dict[int, float] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """The matrix as a flat table with ``status`` = ``estimated`` on every line."""
        t = matrix_table(self.matrix)
        relaxed = self.flows.loc[self.flows["status"] == "relaxed", "flow"].tolist()
        t["status"] = ESTIMATED + (f" (relaxed known flows: {'; '.join(relaxed)})" if relaxed else "")
        return t


# ---- known flows -------------------------------------------------------------------------------------------
def read_flows(ds, flows: pd.DataFrame | Path | str | None = None, number_format: str | None = None
               ) -> tuple[pd.DataFrame, str | None]:
    """Known flows as ``from_code, to_code, area_ha (float), kind, about_code, page, line, _row, mention``.

    ``flows``: a table (strings or numbers), a file, or ``None`` for the dataset's ``flows`` file; numbers are
    read in ``number_format``, else the dataset's format in force for the file (:meth:`Dataset.number_format`:
    ``--number-format``, the manifest's, else detected). Returns the
    table and the file name (for messages). Raises for unreadable areas, negative areas, unknown kinds or
    codes, naming the row.
    """
    src: str | None = None
    if flows is None:
        if "flows" not in ds.extras:
            return pd.DataFrame(columns=FLOW_COLUMNS + [ROW, "mention"]), None
        df, src = ds.extras["flows"].copy(), str(ds.file("flows"))
        number_format = number_format or ds.number_format("flows")
    elif isinstance(flows, (str, Path)):
        src = str(flows)
        df = read_table(flows)
        number_format = number_format or ds.number_format()
    else:
        df = flows.copy()
    if ROW not in df:
        df[ROW] = np.arange(2, len(df) + 2)
    require_columns(df, FLOW_COLUMNS, src)
    df = df.fillna("") if df[VALUE].dtype == object else df
    for c in ("from_code", "to_code", "kind", "about_code", "page", "line"):
        if c in df:
            df[c] = df[c].astype(str).str.strip()
        else:
            df[c] = ""
    df["from_code"], df["to_code"] = df["from_code"].str.upper(), df["to_code"].str.upper()
    df[VALUE] = _flow_areas(df, number_format or "auto", src)
    _validate_flows(df, ds.classification, src)
    df["mention"] = [_mention(p, ln, a, r) for p, ln, a, r in
                     zip(df["page"], df["line"], df["about_code"], df[ROW], strict=True)]
    return df, src


def _flow_areas(df: pd.DataFrame, fmt: str, src: str | None) -> pd.Series:
    if pd.api.types.is_numeric_dtype(df[VALUE]):
        values, bad = df[VALUE].astype(float), df[VALUE].isna()
    else:
        fmt = resolve_number_format(df[VALUE], fmt, Location.of(src), df[ROW], VALUE)
        values, bad = parse_numbers(df[VALUE], fmt)
        bad = bad | values.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise NonNumericError("not an area", Location.of(src, row=int(df[ROW].iloc[i]), column=VALUE),
                              expected="an area in ha", found=df[VALUE].iloc[i])
    return values


def _validate_flows(df: pd.DataFrame, cls, src: str | None) -> None:
    def where(mask: pd.Series, col: str) -> Location:
        return Location.of(src, row=int(df.loc[mask, ROW].iloc[0]), column=col)

    neg = df[VALUE] < 0
    if neg.any():
        raise NegativeAreaError("negative flow area", where(neg, VALUE), expected="an area ≥ 0 ha")
    kind = ~df["kind"].isin(FLOW_KINDS)
    if kind.any():
        raise InputError("unknown flow kind", where(kind, "kind"), expected=" | ".join(FLOW_KINDS),
                         found=df.loc[kind, "kind"].iloc[0])
    need = {"from_code": df["kind"].isin(["conversion", "other_decrease"]),
            "to_code": df["kind"].isin(["conversion", "other_increase"])}
    for col, needed in need.items():
        empty = needed & df[col].eq("")
        if empty.any():
            raise InputError(f"a {df.loc[empty, 'kind'].iloc[0]} flow needs {col}", where(empty, col))
        named = df[col].ne("")
        cls.check_codes(df.loc[named, col], Location.of(src), df.loc[named, ROW], column=col)


def _mention(page: str, line: str, about: str, row: int) -> str:
    """Where a flow is stated: ``p.96 l.4779 about LUA`` (or the file row)."""
    parts = [f"p.{page}" if page else "", f"l.{line}" if line else "", f"about {about}" if about else ""]
    return " ".join(p for p in parts if p) or f"row {row}"


def _flow_name(kind: str, f: str, t: str) -> str:
    if kind == "other_increase":
        return f"tăng khác {t}"
    if kind == "other_decrease":
        return f"giảm khác {f}"
    return f"{f}→{t}"


def dedupe_flows(df: pd.DataFrame) -> pd.DataFrame:
    """One constraint per distinct statement (kind, from, to, area); mentions joined. Statements of the same
    (kind, from, to) with different areas stay separate (they conflict; the LP keeps at most one)."""
    if df.empty:
        return pd.DataFrame(columns=["flow", "kind", "from_code", "to_code", VALUE, "mentions", "row", "n_stated"])
    g = df.groupby(["kind", "from_code", "to_code", VALUE], sort=False)
    mentions: list[list[str]] = [[] for _ in range(g.ngroups)]
    for k, m in zip(g.ngroup().to_numpy(), df["mention"], strict=True):  # statements: tens of rows
        if k >= 0:
            mentions[k].append(m)
    out = g[ROW].first().rename("row").reset_index()
    out.insert(len(out.columns) - 1, "mentions", ["; ".join(m) for m in mentions])
    out["n_stated"] = out.groupby(["kind", "from_code", "to_code"])[VALUE].transform("size")
    names = zip(out["kind"], out["from_code"], out["to_code"], strict=True)
    out.insert(0, "flow", [_flow_name(k, f, t) for k, f, t in names])
    return out


# ---- LP --------------------------------------------------------------------------------------------------
def _solve(cost: np.ndarray, ub: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
           rhs: np.ndarray, solver: str | None = None) -> Solution:
    """min cost·x s.t. A x = rhs, 0 ≤ x ≤ ub (A in COO form), through :mod:`landuse.lp` (solution checked).
    Raises :class:`InfeasibleError` (exit 1) or :class:`NoSolutionError` (exit 4) unless optimal."""
    lp = SparseLP(cost, rows, cols, vals, rhs, rhs, np.zeros(len(cost)), ub)
    sol = solve_lp(lp, solver)
    if sol.status is SolveStatus.INFEASIBLE:
        raise InfeasibleError(f"the estimate LP is infeasible ({sol.solver}): the stocks and bounds cannot hold "
                              "together")
    if sol.status is not SolveStatus.OPTIMAL:
        raise NoSolutionError(f"the estimate LP is not solved ({sol.solver}): {sol.status.text}"
                              + (f": {sol.message}" if sol.message else ""))
    return sol


def _leaves(cls, code: str, pos: dict[str, int]) -> list[int]:
    return [pos[c] for c in cls.leaves_of(code) if c in pos]


def _flow_terms(flows: pd.DataFrame, cls, pos: dict[str, int], n: int) -> list[list[int]]:
    """Variable indices summed by each flow: cells (i*n + j), g (n² + i) or a (n² + n + j)."""
    out = []
    for kind, f, t in zip(flows["kind"], flows["from_code"], flows["to_code"], strict=False):
        if kind == "conversion":
            out.append([i * n + j for i in _leaves(cls, f, pos) for j in _leaves(cls, t, pos) if i != j])
        elif kind == "other_decrease":
            out.append([n * n + i for i in _leaves(cls, f, pos)])
        else:
            out.append([n * n + n + j for j in _leaves(cls, t, pos)])
    return out


def _total(ds, year: int, leaves: pd.Series) -> float:
    """The year's printed/given total (root code), else the sum of its leaf areas (ha)."""
    t = ds.stocks(year).get(ds.classification.root, np.nan)
    return float(np.nansum(leaves)) if np.isnan(t) else float(t)


def gap_stocks(gap0: float, gap1: float) -> tuple[float, float]:
    """(start, end) stock of the :data:`GAP` pseudo-category for the gaps (total − leaf sum, ha) of the two
    years: a positive gap is area of that year, a negative one (parts larger than the total) is put on the
    other side, so that start − end = gap0 − gap1 and both stay ≥ 0."""
    return max(gap0, 0.0) + max(-gap1, 0.0), max(gap1, 0.0) + max(-gap0, 0.0)


def unbalanced_parents(ds, year: int, tol: float = TOL) -> list[tuple[str, float, float]]:
    """(code, printed area, sum of its parts) of every parent whose printed area differs from the sum of its
    parts in ``year`` (parts: given area, else the sum of their leaves), in display order."""
    cls = ds.classification
    given = ds.stocks(year).reindex(cls.codes)
    have = ds.stocks(year, derive=True)
    out = []
    for c in cls.codes:
        parts = cls.parts(c)
        if parts and not np.isnan(given[c]):
            ps = float(np.nansum(have.reindex(parts)))
            if abs(ps - given[c]) > tol:
                out.append((c, float(given[c]), ps))
    return out


def estimate(ds, from_year: int, to_year: int, flows: pd.DataFrame | Path | str | None = None,
             forbidden: list[tuple[str, str]] | None = None, number_format: str | None = None,
             solver: str | None = None) -> EstimateResult:
    """Estimate the from→to matrix from the stocks of two years and the known flows (see the module text).

    ``forbidden``: (from, to) pairs (codes or groups) that may not convert. ``solver``: highs | cbc (default:
    highs when installed); anything but a checked optimum raises (exit 1 infeasible, 4 no solution). Marginals
    hold exactly: row sums (with giảm khác) = start stocks, column sums (with tăng khác) = end stocks, leaf
    values of the inventory.
    """
    cls = ds.classification
    for y in (from_year, to_year):
        if y not in ds.years:
            raise InputError(f"no inventory for year {y}", expected="one of " + ", ".join(map(str, ds.years)))
    raw, src = read_flows(ds, flows, number_format)
    known = dedupe_flows(raw)
    s0, s1 = ds.stocks(from_year).reindex(cls.leaves), ds.stocks(to_year).reindex(cls.leaves)
    mentioned = set()
    for col in ("from_code", "to_code"):
        mentioned |= {c for c in known[col] if c and c in cls.table.index and c in cls.leaves}
    codes = [c for c in cls.leaves if not (np.isnan(s0[c]) and np.isnan(s1[c])) or c in mentioned]
    t0, t1 = _total(ds, from_year, s0), _total(ds, to_year, s1)
    gaps = {from_year: t0 - float(np.nansum(s0)), to_year: t1 - float(np.nansum(s1))}
    notes = _input_notes(ds, from_year, to_year, s0.reindex(codes), s1.reindex(codes), t0, t1, gaps)
    start, end = s0.reindex(codes).fillna(0.0).to_numpy(), s1.reindex(codes).fillna(0.0).to_numpy()
    p0, p1 = gap_stocks(gaps[from_year], gaps[to_year])
    if p0 > TOL or p1 > TOL:  # the pseudo-category chua_phan_bo, last
        codes, start, end = codes + [GAP], np.append(start, p0), np.append(end, p1)
    n = len(codes)
    pos = {c: i for i, c in enumerate(codes)}
    terms = _flow_terms(known, cls, pos, n)
    k = len(known)
    nx = n * n + 2 * n
    nv = nx + 2 * k
    cost = np.zeros(nv)
    cost[: n * n] = 1.0
    cost[np.arange(n) * (n + 1)] = 0.0  # persistence is free
    cost[n * n: nx] = OTHER_COST
    cells = np.array([max(1, len(idx)) for idx in terms], dtype=float)
    cost[nx:] = np.repeat(ELASTIC_COST / cells, 2)  # a statement about a group yields before a specific one
    ub = np.full(nv, np.inf)
    if codes[-1] == GAP:  # the gap is not a boundary change: no giảm khác / tăng khác of its own
        ub[[n * n + n - 1, n * n + 2 * n - 1]] = 0.0
    for f, t in forbidden or []:
        for i in _leaves(cls, f, pos):
            for j in _leaves(cls, t, pos):
                if i != j:
                    ub[i * n + j] = 0.0
    ii, jj = np.divmod(np.arange(n * n), n)
    rows = [ii, n + jj, np.arange(n), n + np.arange(n)]
    cols = [np.arange(n * n), np.arange(n * n), n * n + np.arange(n), n * n + n + np.arange(n)]
    vals = [np.ones(n * n), np.ones(n * n), np.ones(n), np.ones(n)]
    for q, idx in enumerate(terms):
        r = 2 * n + q
        rows += [np.full(len(idx) + 2, r)]
        cols += [np.array(idx + [nx + 2 * q, nx + 2 * q + 1], dtype=np.int64)]
        vals += [np.array([1.0] * len(idx) + [1.0, -1.0])]
    rhs = np.concatenate([start, end, known[VALUE].to_numpy(dtype=float)])
    res = _solve(cost, ub, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), rhs, solver)
    status, solver = res.status.value, res.solver
    sol = np.where(np.abs(res.x) < 1e-9, 0.0, res.x)
    matrix = _layout(sol, codes, n)
    known = known.copy()
    known["estimated_ha"] = [float(sol[idx].sum()) for idx in terms]
    known["deviation_ha"] = known["estimated_ha"] - known[VALUE]
    known["status"] = np.where(np.abs(known["deviation_ha"]) > TOL, "relaxed", "held")
    findings = _findings(known, src, notes)
    return EstimateResult(matrix, findings, known, from_year, to_year, status, solver,
                          [m for m in findings["message"]], boundary_ha=t1 - t0, gap_ha=gaps)


def _layout(sol: np.ndarray, codes: list[str], n: int) -> pd.DataFrame:
    x = sol[: n * n].reshape(n, n)
    g, a = sol[n * n: n * n + n], sol[n * n + n: n * n + 2 * n]
    m = pd.DataFrame(x, index=codes, columns=codes)
    m[OTHER_DECREASE] = g
    m.loc[OTHER_INCREASE] = list(a) + [0.0]
    return _with_totals(m)


Note = tuple[str, str, str, float | None, float | None]  # (severity, check, message, expected, found)


def _input_notes(ds, y0: int, y1: int, s0: pd.Series, s1: pd.Series, t0: float, t1: float,
                 gaps: dict[int, float]) -> list[Note]:
    """Notes on the inputs: blanks read as 0, each year's leaf sum against its printed total (the gap, with
    the parents whose parts do not add up), and the change of the total carried in giảm khác / tăng khác."""
    root = ds.classification.root
    notes: list[Note] = []
    for y, s in ((y0, s0), (y1, s1)):
        blank = [c for c in s.index if np.isnan(s[c])]
        if blank:
            notes.append(("info", "blank-stock", f"estimated: {y} inventory has no area for {', '.join(blank)}; "
                                                 "read as 0 ha", None, None))
    for y, s, t in ((y0, s0, t0), (y1, s1, t1)):
        gap = gaps[y]
        if abs(gap) <= TOL:
            continue
        parents = "; ".join(f"{c} {v:,.0f} ha vs parts {ps:,.0f} ha ({v - ps:+,.0f})"
                            for c, v, ps in unbalanced_parents(ds, y))
        notes.append(("warning", "unreconciled-gap",
                      f"estimated: {y} leaf areas sum to {np.nansum(s):,.0f} ha, the printed {root} is {t:,.0f} ha: "
                      f"the parts {'miss' if gap > 0 else 'exceed the total by'} {abs(gap):,.0f} ha"
                      + (f" (parents whose printed parts do not add up: {parents})" if parents else "")
                      + f"; carried in the row/column {GAP} (chưa phân bổ / unreconciled), not as a boundary "
                        "change", t, float(np.nansum(s))))
    notes.append(("info", "boundary", f"estimated: total {root} {y0} {t0:,.0f} ha → {y1} {t1:,.0f} ha "
                                      f"({t1 - t0:+,.0f} ha boundary change) is carried in giảm khác / tăng khác, "
                                      "not in conversions", t0, t1))
    return notes


def _findings(known: pd.DataFrame, src: str | None, notes: list[Note]) -> pd.DataFrame:
    recs = []
    for _key, grp in known[known["n_stated"] > 1].groupby(["kind", "from_code", "to_code"], sort=False):
        stated = "; ".join(f"{a:,.0f} ha ({m})" for a, m in zip(grp[VALUE], grp["mentions"], strict=False))
        recs.append({"severity": "warning", "check": "flow-mentions-differ", "source": src,
                     "row": int(grp["row"].iloc[0]), "column": VALUE, "expected": None, "found": None,
                     "difference": float(grp[VALUE].max() - grp[VALUE].min()),
                     "message": f"estimated: known flow {grp['flow'].iloc[0]} is stated with different areas: "
                                f"{stated}"})
    for r in known[known["status"] == "relaxed"].itertuples():
        recs.append({"severity": "warning", "check": "known-flow-relaxed", "source": src, "row": int(r.row),
                     "column": VALUE, "expected": float(getattr(r, VALUE)), "found": r.estimated_ha,
                     "difference": r.deviation_ha,
                     "message": f"estimated: known flow {r.flow} {getattr(r, VALUE):,.0f} ha ({r.mentions}) cannot "
                                f"hold together with the stocks and the other known flows; the estimate has "
                                f"{r.estimated_ha:,.0f} ha"})
    for severity, check, msg, expected, found in notes:
        diff = found - expected if expected is not None and found is not None else None
        recs.append({"severity": severity, "check": check, "source": "inventory", "row": None, "column": None,
                     "expected": expected, "found": found, "difference": diff, "message": msg})
    return conform(pd.DataFrame(recs, columns=PRINTED_COLUMNS[:9]))


def estimate_transitions(ds, from_year: int, to_year: int, flows: pd.DataFrame | Path | str | None = None,
                         **kwargs):
    """Estimate the 05/TKKK matrix from two stocks and known flows: see :func:`~.estimate.estimate`."""
    return estimate(ds, from_year, to_year, flows, **kwargs)
