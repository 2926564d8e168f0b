"""Checks on single printed cells: derived columns recomputed from their operands, non-numeric cells and
printed codes that differ from the row's code.

Derived cells (``kind`` diff | ratio_pct | share_pct in the manifest) are recomputed from the printed operand
cells of the same row. Each printed value stands for any unrounded value within half its last digit (±0.5 ha
for whole hectares), so a recomputation is an interval; a printed percent inside what those inputs can give is
``rounding``, outside it ``error``. A percent of differences (Bảng 4's ratio (8)=(7)/(6)) is judged against the
value columns the differences are made of (each ±0.5 ha, a shared operand counted once), since a difference of
two rounded figures can itself be off by 1 ha (:mod:`landuse.intervals`). Differences in ha are judged by the
tolerance. A derived cell printed although an operand is blank (the blank taken as 0) is a ``blank-operand``
finding, not an arithmetic slip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landuse.dataset import ColumnSpec, PublishedTable
from landuse.intervals import half_unit, linear_bounds, ratio_bounds, within
from landuse.reconcile.base import EPS, Context, empty_findings, findings, fmt_value, severity_by_gap


def formula(spec: ColumnSpec, cols: dict[str, ColumnSpec], root: str) -> str:
    """The recomputation in printed column numbers, e.g. ``(4)-(3)`` or ``100×(7)/(6)``."""
    n = [cols[o].number.split("=")[0] for o in spec.operands]
    if spec.kind == "diff":
        return f"{n[0]}-{n[1]}"
    if spec.kind == "ratio_pct":
        return f"100×{n[0]}/{n[1]}"
    return f"100×{n[0]}/{n[0]}[{root}]"


def _order(specs: list[ColumnSpec]) -> list[ColumnSpec]:
    """Derived columns so that every operand is computed before it is used."""
    done = {c.id for c in specs if not c.derived}
    todo = [c for c in specs if c.derived]
    out: list[ColumnSpec] = []
    while todo:
        ready = [c for c in todo if all(o in done for o in c.operands)] or todo[:1]
        for c in ready:
            out.append(c)
            done.add(c.id)
            todo.remove(c)
    return out


class _Wide:
    """A table's cells as wide arrays (printed rows × table columns; code rows only).

    ``rows``: ``code, line, page`` of each row (index ``_row``); ``col``: column id → array column;
    ``value`` (a dash read as 0, NaN = blank), ``half`` (half a unit of the printed value, 0 for a dash) and the
    masks ``dash``, ``blank`` (not a dash), ``bad`` (not a number)."""

    def __init__(self, t: PublishedTable):
        c = t.cells[t.cells["code"] != ""]
        self.rows = c.drop_duplicates("_row").set_index("_row")[["code", "line", "page"]]
        self.codes = self.rows["code"].to_numpy()
        names = sorted(set(c["column"]))
        self.col = {k: j for j, k in enumerate(names)}
        i = self.rows.index.get_indexer(c["_row"])
        j = c["column"].map(self.col).to_numpy(dtype=np.intp)
        shape = (len(self.rows), len(names))

        def grid(col: str, fill: object, dtype: type) -> np.ndarray:
            out = np.full(shape, fill, dtype=dtype)
            out[i, j] = c[col].to_numpy(dtype=dtype)
            return out

        # a (row, column) without a cell counts as a dash, not blank, not a number (as the former pivot read it)
        self.dash = grid("dash", True, bool)
        self.blank = grid("blank", True, bool) & ~self.dash
        self.bad = grid("bad", True, bool)
        self.value = np.where(self.dash, 0.0, grid("value", np.nan, float))
        self.half = np.where(self.dash, 0.0, half_unit(self.value))

    def ix(self, cids: list[str] | tuple[str, ...]) -> list[int]:
        return [self.col[c] for c in cids]


def _expand(cid: str, cols: dict[str, ColumnSpec], w: _Wide) -> np.ndarray:
    """Coefficients (rows × table columns) of column ``cid`` over the cells it stands for.

    A value cell is itself. A difference cell printed as the exact difference of its printed operands (the
    usual case: the table subtracts rounded figures) is expanded into its operands, recursively, so that each
    underlying value keeps its own ±half unit and a value shared by two operands is one input; a difference
    printed otherwise (an author's own rounding, a slip, a blank) is an input of its own.
    """
    unit = np.zeros(w.value.shape)
    unit[:, w.col[cid]] = 1.0
    spec = cols[cid]
    if spec.kind != "diff":
        return unit
    a, b = spec.operands
    va, vb, vp = (w.value[:, w.col[c]] for c in (a, b, cid))
    exact = ~np.isnan(vp) & (np.abs(vp - (np.nan_to_num(va) - np.nan_to_num(vb))) < EPS)
    exact &= ~(w.bad[:, w.ix([a, b, cid])].any(axis=1) | w.blank[:, w.ix([a, b])].any(axis=1))
    combined = _expand(a, cols, w) - _expand(b, cols, w)
    return np.where(exact[:, None], combined, unit)


def _interval(spec: ColumnSpec, cols: dict[str, ColumnSpec], w: _Wide,
              root_row: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, lo, hi) of the recomputation from the printed cells, blanks read as 0; lo … hi is what unrounded
    inputs within ±half a unit of the underlying printed values can give (see :mod:`landuse.intervals`).
    ``root_row``: the position of the root code's row (None when the table has none)."""
    values = np.nan_to_num(w.value, nan=0.0)
    half = w.half
    a = values[:, w.col[spec.operands[0]]]
    if spec.kind == "diff":
        b = values[:, w.col[spec.operands[1]]]
        _, lo, hi = linear_bounds(_expand(spec.operands[0], cols, w) - _expand(spec.operands[1], cols, w),
                                  values, half)
        return a - b, lo, hi
    if spec.kind == "ratio_pct":
        b = values[:, w.col[spec.operands[1]]]
        _, lo, hi = ratio_bounds(_expand(spec.operands[0], cols, w), _expand(spec.operands[1], cols, w),
                                 values, half)
    else:  # share of the root row's value: two inputs, the row's cell and the root's
        if root_row is None:
            nan = np.full(len(a), np.nan)
            return nan, nan, nan
        j = w.col[spec.operands[0]]
        b = np.full(len(a), np.nan_to_num(w.value[root_row, j]))
        hb = np.full(len(a), w.half[root_row, j])
        ha = w.half[:, j]
        ones, zeros = np.ones(len(a)), np.zeros(len(a))
        _, lo, hi = ratio_bounds(np.column_stack([ones, zeros]), np.column_stack([zeros, ones]),
                                 np.column_stack([a, b]), np.column_stack([ha, hb]))
    with np.errstate(divide="ignore", invalid="ignore"):
        point = np.where(b != 0, 100 * a / b, np.nan)
    return point, lo, hi


def derived_cells(ctx: Context) -> pd.DataFrame:
    """Recompute every derived cell of every published table; see the module docstring.

    Also records in ``ctx.read_as_zero`` the blank cells the table's own arithmetic reads as 0.
    """
    out = [empty_findings()]
    for t in ctx.ds.tables.values():
        out.append(_table_derived(ctx, t))
    return pd.concat(out, ignore_index=True)


def _table_derived(ctx: Context, t: PublishedTable) -> pd.DataFrame:
    cols = {c.id: c for c in t.columns}
    derived = _order(t.columns)
    if not derived or t.cells["code"].eq("").all():
        return empty_findings()
    w = _Wide(t)
    roots = np.flatnonzero(w.codes == ctx.cls.root)
    root_row = int(roots[0]) if len(roots) else None
    # blank operand cells: "real" blanks, and blanks of categories that did not exist that year (continuity)
    new_blank = np.zeros_like(w.blank)
    for c in t.columns:
        if c.kind == "value" and c.quantity == "status" and c.year is not None and c.id in w.col:
            j = w.col[c.id]
            new_blank[:, j] = w.blank[:, j] & np.isin(w.codes, list(ctx.new_codes(c.year)))
    real_blank = w.blank & ~new_blank
    taint_real = np.zeros_like(w.blank)
    taint_new = np.zeros_like(w.blank)
    frames = []
    for spec in derived:
        ops = list(spec.operands)
        oj, pj = w.ix(ops), w.col[spec.id]
        op_real = (real_blank[:, oj] | taint_real[:, oj]).any(axis=1)
        op_new = (new_blank[:, oj] | taint_new[:, oj]).any(axis=1) & ~op_real
        if spec.kind == "share_pct" and root_row is not None:
            op_real |= bool(w.blank[root_row, oj[0]])
        op_bad = w.bad[:, oj].any(axis=1)
        pblank, pbad = w.blank[:, pj], w.bad[:, pj]
        taint_real[:, pj] = op_real & ~pblank
        taint_new[:, pj] = op_new & ~pblank
        point, lo, hi = _interval(spec, cols, w, root_row)
        ok = ~(op_bad | pbad)
        f = formula(spec, cols, ctx.cls.root)
        base = dict(source=t.id, column=spec.number.split("=")[0], table=t.id, column_id=spec.id, year=spec.year)
        frames.append(_blank_operand(ctx, t, w, spec, base, ok & ~pblank & op_real, lo, hi, real_blank, taint_real,
                                     ops))
        frames.append(_blank_result(ctx, t, w, spec, f, base,
                                    ok & pblank & ~(op_real | op_new) & ~w.blank[:, oj].any(axis=1), point))
        frames.append(_arithmetic(ctx, t, w, spec, f, base, ok & ~pblank & ~(op_real | op_new), point, lo, hi,
                                  w.value[:, pj], w.half[:, pj]))
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty_findings()


def _rows(w: _Wide, mask: np.ndarray) -> pd.DataFrame:
    return w.rows[mask]


def _blank_operand(ctx, t, w, spec, base, mask, lo, hi, real_blank, taint, ops) -> pd.DataFrame:
    if not mask.any():
        return empty_findings()
    r = _rows(w, mask)
    pj, oj = w.col[spec.id], w.ix(ops)
    p = w.value[mask, pj]
    hp = w.half[mask, pj]
    as_zero = (p >= lo[mask] - hp - EPS) & (p <= hi[mask] + hp + EPS)
    blanks, tainted, codes = real_blank[mask][:, oj], taint[mask][:, oj], w.codes[mask]
    numbers = [ctx_number(t, o) for o in ops]
    names = [[n for n, b in zip(numbers, row, strict=True) if b] for row in blanks]
    derived_ops = [[n for n, d in zip(numbers, row, strict=True) if d] for row in tainted]
    names = [f"{' and '.join(n)} {'are' if len(n) > 1 else 'is'} blank" if n
             else f"{', '.join(d)} was computed from a blank" for n, d in zip(names, derived_ops, strict=True)]
    for k in np.flatnonzero(as_zero):
        for n, b in zip(numbers, blanks[k], strict=True):
            if b:
                ctx.read_as_zero.add((t.id, n, str(codes[k])))
    small = (np.abs(p) <= ctx.tolerance + EPS) if spec.kind == "diff" else (np.abs(p) < EPS)
    how = np.where(as_zero, "it equals the formula with the blank read as 0",
                   "it does not equal the formula even with the blank read as 0")
    msg = [f"{t.id} {spec.number} l.{ln} {code}: printed {fmt_value(v)} although {n}; {h}"
           for ln, code, v, n, h in zip(r["line"], r["code"], p, names, how, strict=True)]
    return findings(severity=np.where(small, "info", "error"), check="blank-operand", **_row_code(r),
                    expected=np.nan, found=p, difference=np.nan, message=msg, line=r["line"].to_numpy(),
                    page=r["page"].to_numpy(), **base)


def _row_code(r: pd.DataFrame) -> dict[str, np.ndarray]:
    """The finding's printed ``row`` and key ``code``: both the row's land code."""
    return {"row": r["code"].to_numpy(), "code": r["code"].to_numpy()}


def ctx_number(t: PublishedTable, cid: str) -> str:
    return t.column(cid).number.split("=")[0]


def _blank_result(ctx, t, w, spec, f, base, mask, point) -> pd.DataFrame:
    mask = mask & ~np.isnan(point)
    if not mask.any():
        return empty_findings()
    r = _rows(w, mask)
    e = point[mask]
    zero = np.abs(e) < EPS
    msg = [f"{t.id} {spec.number} l.{ln} {code}: blank, but {f} of the printed cells gives {fmt_value(v)}"
           + (" (a 0 left blank)" if z else "") for ln, code, v, z in zip(r["line"], r["code"], e, zero, strict=True)]
    sev = np.where(zero, "info", np.where(np.abs(e) > ctx.tolerance + EPS, "error", "rounding"))
    return findings(severity=sev, check="blank-result", **_row_code(r), expected=e, found=np.nan,
                    difference=np.nan, message=msg, line=r["line"].to_numpy(), page=r["page"].to_numpy(), **base)


def _arithmetic(ctx, t, w, spec, f, base, mask, point, lo, hi, p, hp) -> pd.DataFrame:
    undefined = mask & np.isnan(point)
    gap = p - point
    off = mask & ~np.isnan(point) & (np.abs(gap) > hp + EPS)
    frames = []
    if undefined.any():
        r = _rows(w, undefined)
        msg = [f"{t.id} {spec.number} l.{ln} {code}: printed {fmt_value(v)} but {f} is undefined (divisor 0)"
               for ln, code, v in zip(r["line"], r["code"], p[undefined], strict=True)]
        frames.append(findings(severity="error", check="derived", **_row_code(r), found=p[undefined],
                               message=msg, line=r["line"].to_numpy(), page=r["page"].to_numpy(), **base))
    if off.any():
        r = _rows(w, off)
        if spec.kind == "diff":
            sev = severity_by_gap(gap[off], ctx.tolerance)
            why = np.where(sev == "error", "", " (within the tolerance: rounding)")
        else:
            inside = within(p[off], lo[off], hi[off])
            sev = np.where(inside, "rounding", "error")
            rng = [f" (inputs within ±0,5 ha give {fmt_value(a)} … {fmt_value(b)})" for a, b in zip(lo[off], hi[off],
                                                                                                  strict=True)]
            why = np.where(inside, np.char.add(np.array(rng, dtype=object).astype(str), ": rounding"),
                           np.array(rng, dtype=object).astype(str))
        msg = [f"{t.id} {spec.number} l.{ln} {code}: printed {fmt_value(v)}, {f} of the printed cells gives "
               f"{fmt_value(round(e, 2))}{y}" for ln, code, v, e, y in zip(r["line"], r["code"], p[off], point[off],
                                                                            why, strict=True)]
        frames.append(findings(severity=sev, check="derived", **_row_code(r), expected=point[off],
                               found=p[off], difference=gap[off], message=msg, line=r["line"].to_numpy(),
                               page=r["page"].to_numpy(), **base))
    return pd.concat(frames, ignore_index=True) if frames else empty_findings()


def non_numeric(ctx: Context) -> pd.DataFrame:
    """Printed cells that are not numbers (nor blank, nor a dash)."""
    frames = [empty_findings()]
    for t in ctx.ds.tables.values():
        c = t.cells[t.cells["bad"]]
        if c.empty:
            continue
        col = c["number"].str.split("=").str[0]
        msg = [f"{t.id} {n} l.{ln} {code or name}: printed {p!r} is not a number"
               for n, ln, code, name, p in zip(c["number"], c["line"], c["code"], c["name"], c["printed"], strict=True)]
        frames.append(findings(severity="error", check="non-numeric", source=t.id, row=c["code"].to_numpy(),
                               column=col.to_numpy(), message=msg, line=c["line"].to_numpy(),
                               page=c["page"].to_numpy(), table=t.id, column_id=c["column"].to_numpy(),
                               year=c["year"].to_numpy(), code=c["code"].to_numpy()))
    return pd.concat(frames, ignore_index=True)


def printed_codes(ctx: Context) -> pd.DataFrame:
    """Printed Mã cells that differ from the code the row is keyed to (error) or are blank (info)."""
    frames = [empty_findings()]
    for t in ctx.ds.tables.values():
        if not t.code_printed:
            continue
        r = t.raw[t.raw["code"] != ""]
        pc = r["code_printed"].fillna("").str.strip().str.upper()
        wrong, blank = (pc != "") & (pc != r["code"]), pc == ""
        for mask, sev, text in ((wrong, "error", "Mã printed {p!r} but the row is {c} ({n})"),
                                (blank, "info", "Mã not printed; the row is {c} ({n}) by its name and position")):
            s = r[mask]
            if s.empty:
                continue
            msg = [f"{t.id} l.{ln}: " + text.format(p=p, c=c, n=n)
                   for ln, p, c, n in zip(s["line"], s["code_printed"], s["code"], s["name"], strict=True)]
            frames.append(findings(severity=sev, check="code", source=t.id, row=s["code"].to_numpy(), column="Mã",
                                   expected=np.nan, found=np.nan, message=msg, line=s["line"].to_numpy(),
                                   page=s["page"].to_numpy(), table=t.id, code=s["code"].to_numpy()))
    return pd.concat(frames, ignore_index=True)
