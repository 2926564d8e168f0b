"""Land-use change: net change tables, from→to transition matrices (Biểu 05/TKKK) and what they say.

All areas are in ha. Signs: ``change = area_to − area_from`` (a gain is positive).

* :func:`net_change` – net change per category between two inventory years (Bảng 3 columns (6)–(8)), with
  categories that did not exist in a year's classification marked instead of shown as a change from 0.
* :func:`transition_matrix` – the from→to matrix of a plot-level table (one row per plot, codes at both
  dates): rows = land type at the start, columns = at the end, diagonal = unchanged, plus ``total``.
  Codes are mapped to integer indices and the cells summed with :func:`numpy.bincount` (no groupby).
* :func:`components`, :func:`intensity`, :func:`asset_account` – difference components (Pontius &
  Santacruz), intensity analysis (Aldwaik & Pontius) and the SEEA physical asset account of a matrix.
A matrix estimated by an LP from two stocks and known flows is :mod:`landuse.transitions.estimate`'s (which
builds on this module; this module does not import it).

A matrix here is a DataFrame whose index (name ``from``) holds the start codes and whose columns hold the end
codes; it may carry a ``total`` row and column, a ``giam_khac`` column (giảm khác: area leaving the account
without conversion, e.g. a boundary change) and a ``tang_khac`` row (tăng khác). An estimated matrix may also
carry the pseudo-category ``chua_phan_bo`` (row and column): the area of a year's printed total that its
printed parts do not show (see :mod:`landuse.transitions.estimate`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from landuse.classification import OF_WHICH, Classification, load_classification
from landuse.errors import InputError, Location, MissingColumnError, UnknownCodeError
from landuse.readers.tables import ROW, VALUE

TOTAL = "total"
OTHER_DECREASE = "giam_khac"  # giảm khác: a column of 05/TKKK
OTHER_INCREASE = "tang_khac"  # tăng khác: a row of 05/TKKK
GAP = "chua_phan_bo"  # chưa phân bổ: area in a year's total that its printed parts do not show (estimate only)
FROM, TO = "code_from", "code_to"
CHUNK = 1 << 20  # rows per bincount chunk: bounds the temporary index arrays

STATUS_OK = "ok"
STATUS_ABSENT = "not-in-classification"
STATUS_BLANK = "blank"
STATUS_NO_DATA = "no-data"

LABELS_VI = {TOTAL: "Tổng", OTHER_DECREASE: "Giảm khác", OTHER_INCREASE: "Tăng khác", "overall": "Toàn vùng",
             GAP: "Chưa phân bổ (các loại đất không cộng khớp tổng)"}
LABELS_EN = {TOTAL: "Total", OTHER_DECREASE: "Other decrease", OTHER_INCREASE: "Other increase",
             "overall": "Whole landscape", GAP: "Unreconciled: parts do not add up to the total"}


# ---- net change ----------------------------------------------------------------------------------------
def year_classification_codes(ds, year: int) -> set[str] | None:
    """Codes of the classification in force for ``year``'s inventory, or ``None`` when the dataset's own.

    The manifest may say that some inventories were made under an older classification and re-presented in
    the dataset's codes: ``[dataset] classification_by_year = { 2014 = "vn2013", 2019 = "vn2013" }``.
    """
    old = ds.year_classification(year)
    return None if old is None else set(old.codes)


def default_classification() -> Classification:
    """The classification of the default (bundled) dataset, read from its manifest without loading its
    tables: what a plot file is checked against when no ``--data`` is given."""
    from landuse.dataset import DEFAULT_DATASET, load_dataset, load_toml

    meta = load_toml(DEFAULT_DATASET / "manifest.toml").get("dataset", {})
    if "classification" not in meta:
        return load_dataset(DEFAULT_DATASET, tables=False).classification
    cdir = DEFAULT_DATASET / "classification"
    return load_classification(meta["classification"], cdir if cdir.is_dir() else None)


def level_codes(cls: Classification, level: int | None) -> list[str]:
    """Codes shown at ``level``: every tree code when ``None``; else the partition of the total at that depth
    (the codes of depth ``level`` and the leaves above it), in display order."""
    if level is None:
        return cls.codes
    leaves = set(cls.leaves)
    return [c for c in cls.codes if cls.relation(c) != OF_WHICH
            and (cls.depth(c) == level or (c in leaves and cls.depth(c) < level))]


def net_change(ds, from_year: int, to_year: int, level: int | None = None, lang: str = "vi",
               unit: str | None = None) -> pd.DataFrame:
    """Net change per category from ``from_year`` to ``to_year`` (ha; ``change = area_to − area_from``).

    Columns ``code, name, level, area_from, area_to, change, status``. ``status``:

    * ``ok`` – both areas given;
    * ``not-in-classification`` – a year's area is blank and the category did not exist in that year's
      classification (see :func:`year_classification_codes`): ``change`` is NaN, not a change from 0;
    * ``blank`` – one area is blank (no figure printed for that year) in a classification that had the
      category: ``change`` is NaN, never a number computed against the blank (``note`` names the year);
    * ``no-data`` – both areas blank: ``change`` is NaN.

    ``level``: ``None`` for every row of the tree, else the categories that partition the total at that depth
    (0 = the total; see :func:`level_codes`). Column ``note`` explains a status other than ``ok``.
    """
    for y in (from_year, to_year):
        if y not in ds.years:
            raise InputError(f"no inventory for year {y}", expected="one of " + ", ".join(map(str, ds.years)))
    cls = ds.classification
    check_level(cls, level)
    codes = level_codes(cls, level)
    a = ds.stocks(from_year, unit, derive=True).reindex(codes)
    b = ds.stocks(to_year, unit, derive=True).reindex(codes)
    absent = pd.Series(False, index=codes)
    absent_year = np.full(len(codes), to_year)
    for y, s in ((from_year, a), (to_year, b)):
        known = year_classification_codes(ds, y)
        if known is not None:
            here = (s.isna() & ~pd.Index(codes).isin(known)).to_numpy()
            absent_year = np.where(here & ~absent.to_numpy(), y, absent_year)
            absent |= here
    status = np.select([absent.to_numpy(), (a.isna() & b.isna()).to_numpy(), (a.isna() | b.isna()).to_numpy()],
                       [STATUS_ABSENT, STATUS_NO_DATA, STATUS_BLANK], STATUS_OK)
    change = b - a  # NaN whenever either side is blank
    blank_year = np.where(a.isna(), from_year, to_year)
    note = np.select([status == STATUS_ABSENT, status == STATUS_NO_DATA, status == STATUS_BLANK],
                     [[f"not in the {y} classification" for y in absent_year],
                      "no figure printed for either year", [f"no figure printed for {y}" for y in blank_year]], "")
    return pd.DataFrame({
        "code": codes, "name": [cls.name(c, lang) for c in codes], "level": [cls.depth(c) for c in codes],
        "area_from": a.to_numpy(), "area_to": b.to_numpy(), "change": change.to_numpy(), "status": status,
        "note": note,
    })


def check_level(cls: Classification, level: int | None) -> None:
    """Raise :class:`InputError` unless ``level`` is ``None`` or a depth of the tree (0 … deepest)."""
    if level is None:
        return
    deepest = max(cls.depth(c) for c in cls.codes)
    if not 0 <= level <= deepest:
        raise InputError("level out of range",
                         expected=f"0 to {deepest}", found=level)


# ---- transition matrix from plots --------------------------------------------------------------------------
def level_lookup(cls: Classification, level: int | None) -> tuple[dict[str, int], np.ndarray]:
    """(code → index in ``cls.codes`` for codes a plot may carry, index → index of its code at ``level``).

    A code deeper than ``level`` maps to its ancestor of depth ``level``; shallower codes map to themselves.
    Of-which rows (e.g. RSN) are not land types and cannot label a plot.
    """
    codes = cls.codes
    pos = {c: i for i, c in enumerate(codes)}
    allowed = {c: i for c, i in pos.items() if cls.relation(c) != OF_WHICH}
    rep = np.arange(len(codes), dtype=np.int16)
    if level is not None:
        for c, i in pos.items():
            if cls.depth(c) > level:
                anc = [a for a in cls.ancestors(c) if cls.depth(a) == level]
                rep[i] = pos[anc[0]] if anc else i
    return allowed, rep


def code_index(values: pd.Series, allowed: dict[str, int], cls: Classification, column: str,
               rows: pd.Series | Callable[[int], int] | None = None, file: str | None = None) -> np.ndarray:
    """Integer index (into ``cls.codes``) of each code in ``values`` (Categorical or strings), vectorised.

    Raises :class:`UnknownCodeError` naming the first bad row and the number of bad rows. ``rows``: the file
    rows (a Series aligned with ``values``, or a function of the 0-based position such as
    :class:`landuse.readers.plots.FileRows`); default position + 2.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, cats = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, cats = pd.factorize(values, use_na_sentinel=True)
    norm = [str(c).strip().upper() for c in cats]
    lut = np.array([allowed.get(c, -1) for c in norm] + [-1], dtype=np.int16)  # last: NaN (code -1)
    idx = lut[codes]
    if (idx < 0).any():
        bad = np.flatnonzero(idx < 0)
        i = int(bad[0])
        row = i + 2 if rows is None else (int(rows.iloc[i]) if isinstance(rows, pd.Series) else int(rows(i)))
        found = values.iloc[i]
        loc = Location(file, row=row, column=column)
        more = f" ({len(bad)} rows in all)" if len(bad) > 1 else ""
        if pd.isna(found) or str(found).strip() == "":
            raise InputError(f"missing land code{more}", loc, expected="a land code")
        code = str(found).strip().upper()
        if code in cls.table.index and cls.relation(code) == OF_WHICH:
            raise UnknownCodeError(f"{code!r} is a 'Trong đó' (of-which) row, not a land type; use its parent "
                                   f"{cls.parent(code)!r}{more}", loc)
        raise UnknownCodeError(f"unknown land code {code!r} (classification {cls.id}){more}", loc)
    return idx


def _bincount(keys: list[tuple[np.ndarray, int]], weights: np.ndarray) -> np.ndarray:
    """Sum ``weights`` by the mixed-radix key built from ``keys`` = [(index array, radix), …], in chunks so
    that the temporary int64 key never exceeds :data:`CHUNK` rows."""
    size = int(np.prod([r for _, r in keys], dtype=np.int64))
    out = np.zeros(size, dtype=np.float64)
    n = len(weights)
    for s in range(0, n, CHUNK):
        e = min(s + CHUNK, n)
        k = keys[0][0][s:e].astype(np.int64)
        for arr, radix in keys[1:]:
            k *= radix
            k += arr[s:e]
        out += np.bincount(k, weights=weights[s:e], minlength=size)
    return out


class MatrixSum:
    """The from→to cells (ha) of plot tables added batch by batch: codes mapped to integer indices and summed
    with :func:`numpy.bincount` (no groupby); units numbered in order of first appearance across batches.
    :func:`transition_matrix` is one batch; :func:`plot_transitions` adds a file's batches as they are read.
    """

    def __init__(self, cls: Classification, level: int | None = None, by_unit: bool = False) -> None:
        check_level(cls, level)
        self.cls, self.level, self.by_unit = cls, level, by_unit
        self.allowed, self.rep = level_lookup(cls, level)
        self.k = len(cls.codes)
        self.present = np.zeros(self.k, dtype=bool)
        self.units: dict[object, int] = {}
        self.cells = np.zeros((0 if by_unit else 1, self.k, self.k), dtype=np.float64)
        self._luts: dict[str, np.ndarray] = {}
        self._batch = np.zeros((0, self.k, self.k))

    def add(self, plots_df: pd.DataFrame, rows: pd.Series | Callable[[int], int] | None = None,
            file: str | None = None) -> None:
        """Add a plot table (``code_from, code_to, area_ha`` + ``unit``; areas validated already). Unknown codes
        raise naming the file row: from the table's ``_row`` column, else ``rows`` (position → file row), else
        position + 2."""
        for c in (FROM, TO, VALUE) + (("unit",) if self.by_unit else ()):
            if c not in plots_df.columns:
                raise MissingColumnError(f"missing required column {c!r}", Location(file, row=1))
        rows = plots_df[ROW] if ROW in plots_df else rows
        f = self.rep[code_index(plots_df[FROM], self.allowed, self.cls, FROM, rows, file)]
        t = self.rep[code_index(plots_df[TO], self.allowed, self.cls, TO, rows, file)]
        w = plots_df[VALUE].to_numpy()
        w = w if w.dtype == np.float64 else w.astype(np.float64)
        k = self.k
        self.present |= (np.bincount(f, minlength=k) > 0) | (np.bincount(t, minlength=k) > 0)
        if not self.by_unit:
            self.cells[0] += _bincount([(f, k), (t, k)], w).reshape(k, k)
            return
        ucodes, names = pd.factorize(plots_df["unit"])
        glob = np.array([self.units.setdefault(u, len(self.units)) for u in names], dtype=np.int64)
        if len(self.units) > len(self.cells):
            grown = np.zeros((len(self.units), k, k), dtype=np.float64)
            grown[:len(self.cells)] = self.cells
            self.cells = grown
        self.cells[glob] += _bincount([(ucodes, len(names)), (f, k), (t, k)], w).reshape(len(names), k, k)

    def _code_lut(self, column: str, texts: list[str]) -> np.ndarray:
        """Index (after ``level``) of each of a file's code texts, -1 for one that is not a land type;
        extended as the file shows more texts."""
        lut = self._luts.get(column, np.empty(0, dtype=np.int64))
        if len(lut) < len(texts):
            more = [self.allowed.get(str(c).strip().upper(), -1) for c in texts[len(lut):]]
            rep = np.append(self.rep, -1)  # -1 stays -1
            lut = np.concatenate([lut, rep[np.array(more, dtype=np.int64)].astype(np.int64)])
            self._luts[column] = lut
        return lut

    def add_coded(self, chunk) -> bool:
        """Add the plots of a :class:`landuse.readers.plots_lean.CodedChunk` (codes as indices into the
        file's code texts; areas checked already). ``False`` (nothing added) when a plot's code is not a land
        type: :meth:`add` on the batch path names its row.

        The areas are summed by (unit,) from-text, to-text with one :func:`numpy.bincount`; when each text is a
        cell of its own (no ``level``, no two spellings of a code) every cell is the sum of the same plots in the
        same order as :meth:`add`'s bincount of cell keys, so the matrix is the same to the last bit; else the
        pair keys are turned into cell keys first (as :meth:`add` does).
        """
        k = self.k
        lf, lt = self._code_lut(FROM, chunk.from_texts), self._code_lut(TO, chunk.to_texts)
        nf, nt = len(lf), len(lt)
        key = chunk.code_from.astype(np.int64)
        key *= nt
        key += chunk.code_to
        pairs = np.bincount(key, minlength=nf * nt).reshape(nf, nt) > 0
        used_f, used_t = np.flatnonzero(pairs.any(axis=1)), np.flatnonzero(pairs.any(axis=0))
        if (lf[used_f] < 0).any() or (lt[used_t] < 0).any():
            return False
        self.present[lf[used_f]] = True
        self.present[lt[used_t]] = True
        nu, glob = 1, np.zeros(1, dtype=np.int64)
        if self.by_unit:
            here = np.bincount(chunk.unit, minlength=len(chunk.unit_texts)) > 0  # this chunk's units, file order
            local = np.cumsum(here) - 1
            nu = int(local[-1]) + 1
            key += np.take(local * (nf * nt), chunk.unit)
            glob = np.array([self.units.setdefault(chunk.unit_texts[u], len(self.units))
                             for u in np.flatnonzero(here)], dtype=np.int64)
            if len(self.units) > len(self.cells):
                grown = np.zeros((len(self.units), k, k), dtype=np.float64)
                grown[:len(self.cells)] = self.cells
                self.cells = grown
        if self._batch.shape != self.cells.shape:  # a batch's chunks add up here first, as in :func:`_bincount`
            grown = np.zeros_like(self.cells)
            grown[:len(self._batch)] = self._batch
            self._batch = grown
        vf, vt = np.flatnonzero(lf >= 0), np.flatnonzero(lt >= 0)
        if len(np.unique(lf[vf])) == len(vf) and len(np.unique(lt[vt])) == len(vt):  # one cell per text pair
            sums = np.bincount(key, weights=chunk.area, minlength=nu * nf * nt).reshape(nu, nf, nt)
            self._batch[np.ix_(glob, lf[vf], lt[vt])] += sums[np.ix_(np.arange(nu), vf, vt)]
        else:
            cell = (np.maximum(lf, 0)[:, None] * k + np.maximum(lt, 0)[None, :]).ravel()  # text pair -> cell key
            cell = (np.arange(nu)[:, None] * (k * k) + cell[None, :]).ravel()
            self._batch[glob] += np.bincount(np.take(cell, key), weights=chunk.area,
                                             minlength=nu * k * k).reshape(nu, k, k)
        if chunk.batch_end:
            self.cells += self._batch
            self._batch[:] = 0.0
        return True

    def matrix(self, all_codes: bool = False) -> pd.DataFrame:
        """The matrix (see :func:`transition_matrix`) of what was added."""
        cls, present = self.cls, self.present
        if all_codes:
            present = np.zeros(self.k, dtype=bool)
            wanted = set(cls.leaves if self.level is None else level_codes(cls, self.level))
            present[np.unique(self.rep[[i for i, c in enumerate(cls.codes) if c in wanted]])] = True
        sel = np.flatnonzero(present)
        names = [cls.codes[i] for i in sel]

        def block(cells: np.ndarray) -> pd.DataFrame:
            return _with_totals(pd.DataFrame(cells[np.ix_(sel, sel)], index=pd.Index(names, name="from"),
                                             columns=names))

        if not self.by_unit:
            return block(self.cells[0])
        return pd.concat([pd.concat({name: block(self.cells[u])}, names=["unit"])
                          for name, u in self.units.items()])


def transition_matrix(plots_df: pd.DataFrame, level: int | None = None, by_unit: bool = False,
                      classification: Classification | None = None, all_codes: bool = False,
                      file: str | None = None, rows: Callable[[int], int] | None = None) -> pd.DataFrame:
    """The from→to matrix (ha) of a plot table with columns ``code_from, code_to, area_ha`` (+ ``unit``).

    Rows (index ``from``) = land type at the start, columns = at the end, in the classification's order,
    both the same set (the codes present at either date, or every code at ``level`` with ``all_codes``);
    a ``total`` column (row sums = start areas) and a ``total`` row (column sums = end areas). ``level``
    aggregates codes to their ancestor at that depth. ``by_unit``: index (``unit``, ``from``) with one
    block per unit (each with its ``total`` row), units in order of first appearance. Areas must be validated
    already (see :func:`landuse.readers.plots.read_plots`); codes are checked here, errors naming the file row
    from the table's ``_row`` column, else ``rows`` (position → file row), else position + 2.
    """
    acc = MatrixSum(classification or default_classification(), level, by_unit)
    acc.add(plots_df, rows, file)
    return acc.matrix(all_codes)


def _with_totals(m: pd.DataFrame) -> pd.DataFrame:
    """Add a ``total`` column (row sums) and a ``total`` row (column sums)."""
    m = m.copy()
    m[TOTAL] = m.sum(axis=1)
    m.loc[TOTAL] = m.sum(axis=0)
    m.index.name = "from"
    return m


def matrix_table(matrix: pd.DataFrame) -> pd.DataFrame:
    """A matrix as a flat table for CSV/JSON: first column(s) ``unit``/``from``, one column per code."""
    return matrix.reset_index()


# ---- measures of a matrix --------------------------------------------------------------------------------
def split_matrix(matrix: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """(square core matrix, giảm khác by code, tăng khác by code) of a matrix in the 05/TKKK layout.

    Drops ``total`` rows/columns; the core has the same codes (rows' order, then any extra columns) on both
    axes, missing cells 0.
    """
    m = matrix.drop(index=[TOTAL, OTHER_INCREASE], columns=[TOTAL, OTHER_DECREASE], errors="ignore")
    codes = list(dict.fromkeys(list(m.index) + list(m.columns)))
    core = m.reindex(index=codes, columns=codes).fillna(0.0).astype(float)
    core.index.name = "from"
    dec = (matrix[OTHER_DECREASE] if OTHER_DECREASE in matrix.columns else pd.Series(dtype=float))
    inc = (matrix.loc[OTHER_INCREASE] if OTHER_INCREASE in matrix.index else pd.Series(dtype=float))
    dec = dec.reindex(codes).fillna(0.0).astype(float)
    inc = inc.reindex(codes).fillna(0.0).astype(float)
    return core, dec, inc


def _names(codes: list[str], cls: Classification | None, lang: str) -> list[str]:
    labels = LABELS_VI if lang == "vi" else LABELS_EN
    out = []
    for c in codes:
        if c in labels:
            out.append(labels[c])
        elif cls is not None and c in cls:
            out.append(cls.name(c, lang))
        else:
            out.append("")
    return out


def components(matrix: pd.DataFrame, classification: Classification | None = None,
               lang: str = "vi") -> pd.DataFrame:
    """Per category (ha): start and end area, persistence, gross gain and loss, net change (gain − loss),
    total change, swap, and the quantity / exchange / shift components (Pontius & Santacruz 2014).

    Computed on the square core of the matrix (giảm khác / tăng khác left out). The last row ``overall``
    counts each change once: gross gain = gross loss = total change = D, quantity Q = ½Σq, exchange
    E = ½Σe, shift S = ½Σh, swap = E + S, so D = Q + E + S.
    """
    core, _, _ = split_matrix(matrix)
    c = core.to_numpy()
    p = np.diag(c)
    start, end = c.sum(axis=1), c.sum(axis=0)
    gain, loss = end - p, start - p
    swap = 2 * np.minimum(gain, loss)
    exchange = (2 * np.minimum(c, c.T)).sum(axis=1) - 2 * p
    shift = swap - exchange
    codes = list(core.index)
    out = pd.DataFrame({
        "code": codes, "name": _names(codes, classification, lang), "area_from": start, "area_to": end,
        "persistence": p, "gross_gain": gain, "gross_loss": loss, "net_change": gain - loss,
        "total_change": gain + loss, "swap": swap, "quantity": np.abs(gain - loss), "exchange": exchange,
        "shift": shift,
    })
    d = gain.sum()
    q, e, s = out["quantity"].sum() / 2, exchange.sum() / 2, shift.sum() / 2
    overall = {"code": "overall", "name": _names(["overall"], None, lang)[0], "area_from": start.sum(),
               "area_to": end.sum(), "persistence": p.sum(), "gross_gain": d, "gross_loss": loss.sum(),
               "net_change": (gain - loss).sum(), "total_change": d, "swap": e + s, "quantity": q,
               "exchange": e, "shift": s}
    return pd.concat([out, pd.DataFrame([overall])], ignore_index=True)


def asset_account(matrix: pd.DataFrame, classification: Classification | None = None,
                  lang: str = "vi") -> pd.DataFrame:
    """SEEA physical asset account for land per category (ha), with a ``total`` row.

    opening = row sum incl. giảm khác; additions = conversions in (Σ_{i≠j} C_ij) + tăng khác; reductions =
    conversions out (Σ_{k≠j} C_jk) + giảm khác; closing = column sum incl. tăng khác
    = opening + additions − reductions. In the ``total`` row, additions_other − reductions_other is the change
    of the total area (a boundary change). When the matrix has the ``chua_phan_bo`` row/column (an estimate
    whose printed parts do not add up to a year's total), the area moved from or to it is not a conversion:
    columns ``additions_unreconciled`` / ``reductions_unreconciled`` hold it, and the ``chua_phan_bo`` line shows
    the gap itself. The cause split (managed / natural / reappraisal) needs flows tagged by cause and is not
    made here.
    """
    core, dec, inc = split_matrix(matrix)
    c = core.to_numpy()
    p = np.diag(c)
    codes = list(core.index)
    gap = np.zeros((len(codes), len(codes)), dtype=bool)
    if GAP in codes:
        k = codes.index(GAP)
        gap[k, :] = gap[:, k] = True
        np.fill_diagonal(gap, False)
    conv, moved = np.where(gap, 0.0, c), np.where(gap, c, 0.0)
    add_conv, red_conv = conv.sum(axis=0) - p, conv.sum(axis=1) - p
    add_gap, red_gap = moved.sum(axis=0), moved.sum(axis=1)
    cols = {
        "code": codes, "name": _names(codes, classification, lang),
        "opening": c.sum(axis=1) + dec.to_numpy(),
        "additions_conversion": add_conv, "additions_other": inc.to_numpy(),
        "additions_unreconciled": add_gap, "additions_total": add_conv + inc.to_numpy() + add_gap,
        "reductions_conversion": red_conv, "reductions_other": dec.to_numpy(),
        "reductions_unreconciled": red_gap, "reductions_total": red_conv + dec.to_numpy() + red_gap,
        "closing": c.sum(axis=0) + inc.to_numpy(),
    }
    if GAP not in codes:
        del cols["additions_unreconciled"], cols["reductions_unreconciled"]
    out = pd.DataFrame(cols)
    out["net_change"] = out["closing"] - out["opening"]
    total = out.drop(columns=["code", "name"]).sum()
    total_row = pd.DataFrame([{"code": TOTAL, "name": _names([TOTAL], None, lang)[0], **total.to_dict()}])
    return pd.concat([out, total_row], ignore_index=True)


def estimate_years(ds) -> tuple[int, int] | None:
    """The interval to estimate in ``landuse run``: the flows file's ``from_year``/``to_year`` in the manifest
    when both are inventory years, else the last two inventory years (``None`` with fewer than two)."""
    spec = ds.manifest.get("files", {}).get("flows", {})
    a, b = spec.get("from_year"), spec.get("to_year")
    if a in ds.years and b in ds.years:
        return int(a), int(b)
    return (ds.years[-2], ds.years[-1]) if len(ds.years) >= 2 else None
