"""Intensity analysis over N intervals (Aldwaik & Pontius 2012), as OpenLand and intensity.analysis report it.

Input: one square from–to matrix per interval, ``C[t, i, j]`` = area of category i at year Y_t that is category
j at Y_{t+1} (any unit: intensities are ratios), and the years Y_1 < … < Y_{T+1}; duration d_t = Y_{t+1} − Y_t.
Row total R_ti = Σ_j C_tij (size of i at the start), column total K_tj = Σ_i C_tij (size of j at the end),
extent E_t = Σ_ij C_tij; gain_tj = K_tj − C_tjj, loss_ti = R_ti − C_tii. Every intensity is in % per year:

* interval: S_t = 100 × Σ_j gain_tj / (E_t × d_t) against U = 100 × Σ_t Σ_j gain_tj / Σ_t (E_t × d_t), which is
  the paper's U = 100 × Σ change / (extent × (Y_T − Y_1)) when the extent is the same in every interval (the
  readers check it within rounding); S_t > U: fast, S_t < U: slow;
* category: G_tj = 100 × gain_tj / (d_t × K_tj) and L_ti = 100 × loss_ti / (d_t × R_ti) against S_t
  (active above, dormant below);
* transition, for every category n that gains in interval t: R_tin = 100 × C_tin / (d_t × R_ti) (i ≠ n) against
  W_tn = 100 × gain_tn / (d_t × Σ_{i≠n} R_ti) (targeted above, avoided below); for every category m that loses:
  Q_tmj = 100 × C_tmj / (d_t × K_tj) (j ≠ m) against V_tm = 100 × loss_tm / (d_t × Σ_{j≠m} K_tj);
* stationarity: in how many intervals a category's gain (loss) is active / dormant, a transition targeted /
  avoided, and whether that holds in all of them.

A figure equal to its uniform line (within 1e-9 relative) is ``uniform``; a figure over a size of 0 is NaN with
an empty behaviour. Giảm khác / tăng khác are left out (the analysis runs on the square core, the common extent).
All computation is on a (T, J, J) array, without loops over categories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.classification import Classification
from landuse.errors import InputError, Location, UnknownCodeError
from landuse.transitions.change import _names as code_names
from landuse.transitions.change import split_matrix

COLUMNS = ["level", "interval", "category", "from", "to", "direction", "intensity_pct_per_year",
           "uniform_pct_per_year", "behaviour"]
EXTRA = ["name", "change", "size", "unit", "duration_years", "status"]
STATIONARITY_COLUMNS = ["level", "category", "from", "to", "direction", "intervals", "above", "below",
                        "stationary", "behaviour", "name", "status"]
ALL = "all"
REPORTS = ("intensity", "stationarity", "matrix", "components", "account")
RTOL = 1e-9


@dataclass
class IntensityResult:
    """The three levels and stationarity. ``table``: one row per figure (:data:`COLUMNS` + :data:`EXTRA`);
    ``stationarity``: one row per category or transition and direction. ``cube``: the (T, J, J) matrices
    (``unit``), ``categories`` their labels, ``labels`` the intervals (``2014-2019``), ``years`` the time points."""

    table: pd.DataFrame
    stationarity: pd.DataFrame
    cube: np.ndarray
    categories: list[str]
    years: list[int | float]
    labels: list[str]
    durations: np.ndarray
    unit: str = "ha"
    estimated: bool = False
    names: dict[str, str] = field(default_factory=dict)
    matrices: list[pd.DataFrame] = field(default_factory=list)

    def report(self, name: str, classification=None, lang: str = "vi", gain: str | None = None,
               loss: str | None = None) -> pd.DataFrame:
        """One of :data:`REPORTS` as a flat table: ``intensity`` (:attr:`table`), ``stationarity``, or the
        ``matrix`` / ``components`` / ``account`` of each interval stacked, with a first column ``interval``.
        ``gain`` / ``loss``: keep only the transition rows of that gaining / losing category."""
        from landuse.transitions.change import asset_account, components, matrix_table

        if name in ("intensity", "stationarity"):
            return _only(self.table if name == "intensity" else self.stationarity, gain, loss, self.categories)
        per = {"matrix": lambda m: matrix_table(m), "components": lambda m: components(m, classification, lang),
               "account": lambda m: asset_account(m, classification, lang)}
        if name not in per:
            raise InputError("unknown report", expected=" | ".join(REPORTS), found=name)
        parts = []
        for label, m in zip(self.labels, self.matrices, strict=True):
            t = per[name](m)
            t.insert(0, "interval", label)
            if self.estimated:
                t["status"] = "estimated"
            parts.append(t)
        return pd.concat(parts, ignore_index=True)

    def level(self, level: str, direction: str | None = None) -> pd.DataFrame:
        """Rows of one level (``interval``/``category``/``transition``), optionally one direction."""
        t = self.table[self.table["level"] == level]
        return t if direction is None else t[t["direction"] == direction]


def _only(t: pd.DataFrame, gain: str | None, loss: str | None, categories: list[str]) -> pd.DataFrame:
    """``t`` without the transition rows of other gaining categories than ``gain`` / losing than ``loss``."""
    drop = pd.Series(False, index=t.index)
    for direction, code in (("gain", gain), ("loss", loss)):
        if code is None:
            continue
        if code not in categories:
            raise InputError(f"--{direction}: category {code!r} is not in the matrices", expected=", ".join(categories))
        drop |= (t["level"] == "transition") & (t["direction"] == direction) & (t["category"] != code)
    return t[~drop].reset_index(drop=True)


def parse_years(text: str | Sequence, n_matrices: int, files: Sequence[str] | None = None) -> list[int]:
    """``"2014,2019,2024"`` → ``[2014, 2019, 2024]``: one more year than matrices, strictly increasing.

    A bad list raises :class:`InputError` naming the years and, for a zero-length or backwards interval,
    the matrix file of that interval."""
    parts = [str(x).strip() for x in (text.split(",") if isinstance(text, str) else text)]
    where = Location(column="years")
    try:
        years = [int(p) for p in parts]
    except ValueError:
        bad = next(p for p in parts if not p.lstrip("-").isdigit())
        raise InputError("years: not a year", where, expected="whole years such as 2014,2019,2024",
                         found=bad) from None
    if len(years) != n_matrices + 1:
        raise InputError(f"years: {len(years)} years for {n_matrices} matrices", where,
                         expected=f"{n_matrices + 1} years (one more than the matrices)", found=text)
    for k, (a, b) in enumerate(zip(years, years[1:], strict=False)):
        if b <= a:
            what = "zero-length interval" if a == b else "years not increasing"
            loc = Location.of(files[k]) if files else where
            raise InputError(f"years: {what} {a}-{b} (interval {k + 1})", loc,
                             expected="strictly increasing years", found=text)
    return years


def _behaviour(x: np.ndarray, ref: np.ndarray, above: str, below: str) -> np.ndarray:
    """``above`` / ``below`` / ``uniform`` of each figure against its uniform line; "" where undefined."""
    x, ref = np.broadcast_arrays(np.asarray(x, float), np.asarray(ref, float))
    close = np.isclose(x, ref, rtol=RTOL, atol=1e-12)
    out = np.where(x > ref, above, below).astype(object)
    out[close] = "uniform"
    out[np.isnan(x) | np.isnan(ref)] = ""
    return out


def _pct(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1.0), np.nan)


def intensity_analysis(matrices: Sequence[pd.DataFrame], years: Sequence[int | float] | None = None, *,
                       durations: Sequence[float] | None = None, unit: str = "ha",
                       names: dict[str, str] | None = None, estimated: bool = False) -> IntensityResult:
    """Intensity analysis of the square matrices ``matrices`` (one per interval, the same labels in the same
    order; index = from, columns = to; a ``total``/``giam_khac``/``tang_khac`` line is left out).

    ``years``: the T + 1 time points (labels ``2014-2019``); or ``durations`` (years per interval, labels
    ``1``, ``2``, …) when the dates are unknown. ``names``: a display name per category (extra column)."""
    from landuse.transitions.change import split_matrix

    if not matrices:
        raise InputError("no matrix", expected="at least one from–to matrix")
    cores = [split_matrix(m)[0] for m in matrices]
    cats = list(cores[0].index)
    for k, c in enumerate(cores[1:], start=2):
        if list(c.index) != cats:
            raise InputError(f"matrix {k} has other categories than matrix 1", expected=", ".join(cats),
                             found=", ".join(map(str, c.index)))
    if years is not None:
        years = parse_years(list(years), len(cores))
        d = np.diff(np.asarray(years, dtype=float))
        labels = [f"{a}-{b}" for a, b in zip(years, years[1:], strict=False)]
    else:
        d = np.asarray(durations if durations is not None else [1.0] * len(cores), dtype=float)
        if len(d) != len(cores) or not (d > 0).all():
            raise InputError("interval durations must be positive, one per matrix", found=list(d))
        labels = [str(k + 1) for k in range(len(cores))]
    cube = np.stack([c.to_numpy(dtype=float) for c in cores])
    table = _table(cube, cats, labels, d, unit, names or {}, estimated)
    return IntensityResult(table, stationarity(table), cube, cats, list(years) if years is not None else [],
                           labels, d, unit, estimated, dict(names or {}), list(matrices))


def _table(c: np.ndarray, cats: list[str], labels: list[str], d: np.ndarray, unit: str, names: dict[str, str],
           estimated: bool) -> pd.DataFrame:
    t_n, j_n = c.shape[0], c.shape[1]
    p = np.diagonal(c, axis1=1, axis2=2)          # (T, J) persistence
    start, end = c.sum(axis=2), c.sum(axis=1)      # R_ti, K_tj
    gain, loss = end - p, start - p
    extent = c.sum(axis=(1, 2))
    change = gain.sum(axis=1)
    dd = d[:, None]
    s = _pct(change, extent * d)
    u = _pct(np.array([change.sum()]), np.array([(extent * d).sum()]))[0]
    g_int, l_int = _pct(gain, dd * end), _pct(loss, dd * start)
    off = ~np.eye(j_n, dtype=bool)[None, :, :].repeat(t_n, axis=0)
    # transitions into n (column n): R_tin over i's start size; uniform W_tn over the non-n start area
    r_int = _pct(c, d[:, None, None] * start[:, :, None])
    w = _pct(gain, dd * (extent[:, None] - start))
    # transitions out of m (row m): Q_tmj over j's end size; uniform V_tm over the non-m end area
    q_int = _pct(c, d[:, None, None] * end[:, None, :])
    v = _pct(loss, dd * (extent[:, None] - end))
    frames = [
        _frame("interval", labels + [ALL], "", "", "", "", np.append(s, u), np.full(t_n + 1, u),
               np.append(_behaviour(s, u, "fast", "slow"), "uniform"), np.append(change, change.sum()),
               np.append(extent, np.nan), np.append(d, d.sum())),
    ]
    tt, jj = np.divmod(np.arange(t_n * j_n), j_n)
    lab, cat = np.asarray(labels, dtype=object)[tt], np.asarray(cats, dtype=object)[jj]
    for direction, x, size, amount in (("gain", g_int, end, gain), ("loss", l_int, start, loss)):
        frames.append(_frame("category", lab, cat, "", "", direction, x.ravel(), s[tt],
                             _behaviour(x.ravel(), s[tt], "active", "dormant"), amount.ravel(), size.ravel(), d[tt]))
    t3, i3, j3 = np.nonzero(off & (gain[:, None, :] > 0))  # into n = j3 from i3
    frames.append(_frame("transition", np.asarray(labels, dtype=object)[t3], np.asarray(cats, dtype=object)[j3],
                         np.asarray(cats, dtype=object)[i3], np.asarray(cats, dtype=object)[j3], "gain",
                         r_int[t3, i3, j3], w[t3, j3], _behaviour(r_int[t3, i3, j3], w[t3, j3], "targeted", "avoided"),
                         c[t3, i3, j3], start[t3, i3], d[t3]))
    t3, m3, j3 = np.nonzero(off & (loss[:, :, None] > 0))  # out of m = m3 to j3
    frames.append(_frame("transition", np.asarray(labels, dtype=object)[t3], np.asarray(cats, dtype=object)[m3],
                         np.asarray(cats, dtype=object)[m3], np.asarray(cats, dtype=object)[j3], "loss",
                         q_int[t3, m3, j3], v[t3, m3], _behaviour(q_int[t3, m3, j3], v[t3, m3], "targeted", "avoided"),
                         c[t3, m3, j3], end[t3, j3], d[t3]))
    out = pd.concat(frames, ignore_index=True)
    out["name"] = pd.Series(names, dtype=object).reindex(out["category"].to_numpy()).fillna("").to_numpy()
    out["unit"] = unit
    out["status"] = "estimated" if estimated else ""
    return out[COLUMNS + EXTRA]


def _frame(level, interval, category, frm, to, direction, x, uniform, behaviour, change, size, duration):
    return pd.DataFrame({"level": level, "interval": interval, "category": category, "from": frm, "to": to,
                         "direction": direction, "intensity_pct_per_year": np.asarray(x, dtype=float),
                         "uniform_pct_per_year": np.asarray(uniform, dtype=float), "behaviour": behaviour,
                         "change": np.asarray(change, dtype=float), "size": np.asarray(size, dtype=float),
                         "duration_years": np.asarray(duration, dtype=float)})


_ABOVE = {"category": "active", "transition": "targeted"}
_BELOW = {"category": "dormant", "transition": "avoided"}


def stationarity(table: pd.DataFrame) -> pd.DataFrame:
    """Per category (gain, loss) and per transition (gain into n from i, loss from m to j): the number of
    intervals (``intervals``, all of them), how many were above (active / targeted) and below (dormant /
    avoided) the uniform line, and ``stationary`` (``yes`` when all intervals are on one side); ``behaviour``
    names that side, else ``mixed``. A transition absent from an interval (n did not gain, m did not lose)
    counts on neither side."""
    n_int = table.loc[(table["level"] == "interval") & (table["interval"] != ALL), "interval"].nunique()
    rows = table[table["level"].isin(["category", "transition"])]
    keys = ["level", "category", "from", "to", "direction"]
    above = rows["behaviour"].isin(["active", "targeted"])
    below = rows["behaviour"].isin(["dormant", "avoided"])
    g = rows.assign(above=above.astype(int), below=below.astype(int)).groupby(keys, sort=False)
    out = g[["above", "below"]].sum().reset_index()
    out.insert(5, "intervals", n_int)
    stat = (out["above"] == n_int) | (out["below"] == n_int)
    out["stationary"] = np.where(stat, "yes", "no")
    side_above = out["level"].map(_ABOVE)
    side_below = out["level"].map(_BELOW)
    out["behaviour"] = np.where(out["above"] == n_int, side_above,
                                np.where(out["below"] == n_int, side_below, "mixed"))
    first = g[["name", "status"]].first().reset_index(drop=True)
    out["name"], out["status"] = first["name"].to_numpy(), first["status"].to_numpy()
    return out[STATIONARITY_COLUMNS]


# ---- from files and from the dataset -------------------------------------------------------------------------
def _names(cats: list[str], classification, lang: str) -> dict[str, str]:
    return dict(zip(cats, code_names(cats, classification, lang), strict=True))


def analyse_files(paths: Sequence[Path | str], years: str | Sequence, *, layout: str = "auto", unit: str = "ha",
                  number_format: str = "auto", classification=None, lang: str = "vi") -> IntensityResult:
    """Read one matrix file per interval (:func:`landuse.readers.matrix.read_matrices`) and analyse them.

    ``years`` (``"2014,2019,2024"`` or a list) is checked before any file is read."""
    from landuse.readers.matrix import read_matrices
    from landuse.transitions.change import default_classification

    ys = parse_years(years, len(paths), [str(p) for p in paths])
    cls = classification or default_classification()
    files = read_matrices(paths, layout=layout, unit=unit, number_format=number_format, classification=cls)
    cats = files[0].categories
    res = intensity_analysis([f.core.reindex(index=cats, columns=cats) for f in files], ys, unit=files[0].unit,
                             names=_names(files[0].categories, cls, lang))
    res.matrices = [f.matrix() for f in files]
    return res


def estimate_matrices(ds, years: Sequence[int], known: Sequence = ()) -> list:
    """An estimated matrix (:func:`landuse.transitions.estimate.estimate`) per interval of ``years``, each from
    the two stocks and the flows the dataset states for that interval (the manifest's ``files.flows``
    ``from_year``/``to_year``); an interval with no stated flows is estimated from the stocks alone.
    ``known``: estimates already made by ``estimate(ds, a, b)`` (defaults: the dataset's flows), used as they
    are for an interval with stated flows (the same call)."""
    from landuse.transitions.estimate import FLOW_COLUMNS, estimate

    spec = ds.manifest.get("files", {}).get("flows", {})
    made = {(e.from_year, e.to_year): e for e in known}
    out = []
    for a, b in zip(years, years[1:], strict=False):
        stated = "flows" in ds.extras and spec.get("from_year") == a and spec.get("to_year") == b
        if stated and (a, b) in made:
            out.append(made[(a, b)])
        else:
            out.append(estimate(ds, a, b, None if stated else pd.DataFrame(columns=FLOW_COLUMNS)))
    return out


def analyse_estimate(ds, years: str | Sequence, lang: str = "vi", known: Sequence = ()) -> tuple[IntensityResult, list]:
    """Intensity analysis of the matrices estimated for each interval of ``years`` (every row ``estimated``).

    The estimated matrices may list different codes (a code with data in neither year of an interval is not
    in its matrix): they are aligned on the union, a code missing from an interval's matrix having no area
    there. ``known``: estimates already made (see :func:`estimate_matrices`). Returns ``(result, estimates)``."""
    parts = years.split(",") if isinstance(years, str) else list(years)
    if len(parts) < 2:
        raise InputError("years: one interval needs two years", Location(column="years"),
                         expected="at least two inventory years such as 2019,2024", found=years)
    ys = parse_years(parts, len(parts) - 1)
    for y in ys:
        if y not in ds.years:
            raise InputError(f"years: no inventory for year {y}", Location(column="years"),
                             expected="inventory years: " + ", ".join(map(str, ds.years)))
    ests = estimate_matrices(ds, ys, known)
    from landuse.transitions.change import split_matrix

    cores = [split_matrix(e.matrix)[0] for e in ests]
    cats = list(dict.fromkeys(c for core in cores for c in core.index))
    order = [c for c in ds.classification.codes if c in set(cats)] + [c for c in cats if c not in ds.classification]
    cores = [core.reindex(index=order, columns=order, fill_value=0.0) for core in cores]
    res = intensity_analysis(cores, ys, unit="ha", names=_names(order, ds.classification, lang), estimated=True)
    res.matrices = [e.matrix for e in ests]
    return res, ests


def intervals_run(ds, matrices: Sequence[Path | str], years: str, *, report: str = "intensity",
                  gain: str | None = None, loss: str | None = None, plot: Path | str | None = None,
                  layout: str = "auto", unit: str = "ha", number_format: str = "auto", lang: str = "vi",
                  force: bool = False, out: Path | str | None = None) -> pd.DataFrame:
    """``landuse transitions --matrix … --years …`` (``ds`` None) or ``--estimate --years …`` (``ds`` given):
    the ``report`` table, and the pictures (:func:`landuse.transitions.charts.write_intensity_plot`) to
    ``plot``. ``out`` (written by the caller) and ``plot`` are checked before anything is read."""
    from landuse.output import check_outputs
    from landuse.transitions.charts import check_plot_path, write_intensity_plot

    check_outputs([out, plot], force)
    if plot is not None:
        check_plot_path(plot)
    if ds is None:
        res = analyse_files(matrices, years, layout=layout, unit=unit, number_format=number_format, lang=lang)
        cls = None
    else:
        res, _ = analyse_estimate(ds, years, lang)
        cls = ds.classification
    table = res.report(report, cls, lang, gain, loss)
    if plot is not None:
        write_intensity_plot(res, plot, gain=gain, loss=loss, lang=lang, force=force)
    return table


# ---- `landuse run` step -----------------------------------------------------------------------------------------
RUN_STEM = "cuong_do_bien_dong"  # cường độ biến động


# ---- one interval (``landuse transitions --report intensity``) ------------------------------------------
def intensity(matrix: pd.DataFrame, interval_years: float | None = None, gain: str | None = None,
              loss: str | None = None, classification: Classification | None = None,
              lang: str = "vi") -> pd.DataFrame:
    """Intensity analysis (Aldwaik & Pontius 2012) of one matrix: :func:`landuse.transitions.intensity.
    intensity_analysis` (the one implementation) with one interval of ``interval_years`` years.

    Without ``interval_years`` the figures are per interval (duration 1; column ``per`` = ``interval``, else
    ``year``). ``gain`` / ``loss``: keep only the transition rows of that gaining / losing category (default:
    every category that gains / loses). Computed on the square core (giảm khác / tăng khác left out).
    """
    if interval_years is not None and not interval_years > 0:
        raise InputError("the interval in years must be positive",
                         expected="a number of years > 0", found=interval_years)
    core, _, _ = split_matrix(matrix)
    codes = list(core.index)
    for code in (gain, loss):
        if code is not None and code not in codes:
            raise UnknownCodeError(f"category {code!r} is not in the matrix", expected=", ".join(codes))
    names = _names(codes, classification, lang)
    t = intensity_analysis([core], durations=[interval_years or 1.0], names=names).table
    drop = pd.Series(False, index=t.index)
    for direction, code in (("gain", gain), ("loss", loss)):
        if code is not None:
            drop |= (t["level"] == "transition") & (t["direction"] == direction) & (t["category"] != code)
    t = t[~drop]
    t = t.reset_index(drop=True)
    t["per"] = "year" if interval_years is not None else "interval"
    return t
