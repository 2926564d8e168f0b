"""Plan fulfilment: how far each land-use target of an approved plan has been carried out.

For every category the plan sets a figure for (areas in ha; changes = later − earlier)::

    planned_change = plan − baseline            (plan: the target-year figure; baseline: status at the base year)
    actual_change  = actual − baseline          (actual: status at the report year)
    ratio_pct      = 100 × actual_change / planned_change
    remaining      = plan − actual              (ha still to change to reach the target; sign = direction)
    elapsed_pct    = 100 × (year − base_year) / (target_year − base_year)

Plans are described in the dataset manifest (``[plans.<id>]``: ``table``, ``column``, ``base_year``,
``base_column``, ``start_year``, ``target_year``, ``label``) and ``[fulfilment]`` names the default plan and
report year; nothing here knows a table name or a year. A user may also give the plan figures
(``plan_file``) or the statuses (``status_file``) as long tables ``code, year, area_ha``.

Statuses, in order of precedence (the first that applies):

* ``no-target``        the plan has no figure for the category (blank cell): no ratio;
* ``no-data``          the baseline or the actual status is missing: no ratio;
* ``no-change-planned`` plan = baseline: the ratio is undefined; ``note`` says whether and how far the area moved;
* ``no-time-elapsed``  the report year is the base year: nothing can be measured yet, no ratio;
* ``opposite``         the area moved the other way from the planned change (ratio < 0);
* ``over``             beyond the target in the planned direction by more than ``over_tolerance`` points
                       (ratio > 100 + tolerance, default 105 %);
* ``achieved``         the target is reached: 100 % ≤ ratio ≤ 100 + tolerance;
* ``on-track``         0 ≤ ratio < 100 and ratio ≥ elapsed share of the plan period;
* ``behind``           ratio < elapsed share.

``low_base`` flags a shown ratio whose planned change is small (|planned_change| below ``LowBase``: by
default 1 % of the baseline or 10 ha, whichever is larger), where ratios explode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.dataset import Dataset, PublishedTable
from landuse.errors import ConfigError, InputError, Location
from landuse.intervals import half_unit, ratio_bounds, within
from landuse.readers.tables import ROW, VALUE, read_long

STATUSES = ("no-target", "no-data", "no-change-planned", "no-time-elapsed", "opposite", "over", "achieved",
            "on-track", "behind")
COLUMNS = ["code", "name", "level", "baseline", "plan", "actual", "planned_change", "actual_change", "ratio_pct",
           "printed_ratio_pct", "elapsed_pct", "remaining", "status", "low_base", "note"]
DEFAULT_OVER_TOLERANCE = 5.0  # percentage points above 100 % still counted as "achieved"
OUTPUT_FILE = "thuc_hien_quy_hoach.csv"
COMPARE_FILE = "so_sanh_phuong_an.csv"


# ---- thresholds -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LowBase:
    """Low-base threshold: a planned change below ``max(pct % of |baseline|, ha)`` is flagged (ha)."""

    pct: float = 1.0
    ha: float = 10.0

    @classmethod
    def parse(cls, text: str | LowBase | None) -> LowBase:
        """``"1%,10ha"`` (default), ``"2%"``, ``"25ha"``, ``"0"`` (off). Decimal point: ``.``."""
        if text is None:
            return cls()
        if isinstance(text, LowBase):
            return text
        pct = ha = 0.0
        for tok in str(text).replace(" ", "").lower().split(","):
            m = re.fullmatch(r"(\d+(?:\.\d+)?)(%|ha)?", tok)
            if not m or (m.group(2) is None and float(m.group(1)) != 0):
                raise InputError("bad low-base threshold",
                                 expected="a share of the baseline and/or an area, e.g. '1%,10ha', '2%', '25ha', '0'",
                                 found=str(text))
            if m.group(2) == "%":
                pct = float(m.group(1))
            elif m.group(2) == "ha":
                ha = float(m.group(1))
        return cls(pct, ha)

    def threshold(self, baseline: pd.Series) -> pd.Series:
        """Threshold in ha per row: the larger of ``pct`` % of |baseline| and ``ha``."""
        return np.maximum(baseline.abs().fillna(0) * self.pct / 100, self.ha)

    def __str__(self) -> str:
        return f"{self.pct:g}% of the baseline or {self.ha:g} ha"


# ---- plans ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanSpec:
    """One plan version: where its figures are (a published table column, or a user file) and its period."""

    id: str
    label: str
    base_year: int
    start_year: int
    target_year: int
    table: str | None = None
    column: str | None = None
    base_column: str | None = None
    file: Path | None = None

    @property
    def period(self) -> str:
        return f"{self.start_year}–{self.target_year}"


def _manifest_path(ds: Dataset) -> Path:
    return ds.root / "manifest.toml"


def default_plan_id(ds: Dataset) -> str | None:
    """``[fulfilment] plan`` of the manifest, else the only plan, else None."""
    pid = ds.manifest.get("fulfilment", {}).get("plan")
    if pid:
        return str(pid)
    return next(iter(ds.plans)) if len(ds.plans) == 1 else None


def default_report_year(ds: Dataset) -> int:
    """``[fulfilment] report_year`` of the manifest, else the latest inventory year."""
    y = ds.manifest.get("fulfilment", {}).get("report_year")
    if y is None:
        return max(ds.years)
    return _plan_key({"report_year": y}, "report_year", int, "a year (an integer)", _manifest_path(ds), "fulfilment")


def plan_spec(ds: Dataset, plan: str | None = None) -> PlanSpec:
    """The manifest's plan ``plan`` (default: :func:`default_plan_id`), validated against the loaded tables."""
    mpath = _manifest_path(ds)
    pid = plan or default_plan_id(ds)
    if pid is None:
        raise ConfigError("the dataset defines no plan to assess", Location.of(mpath, column="plans"),
                          expected="[plans.<id>] entries and [fulfilment] plan = \"<id>\", or --plan-file")
    if pid not in ds.plans:
        raise ConfigError(f"unknown plan {pid!r}", Location.of(mpath, column="plans"),
                          expected="one of " + (", ".join(ds.plans) or "(none defined)"))
    p = ds.plans[pid]
    where = f"plans.{pid}"
    if not isinstance(p, dict):
        raise ConfigError(f"plan {pid!r} is not a table of keys", Location.of(mpath, column=where),
                          expected=f"[{where}] with table, column, base_year, target_year", found=repr(p))
    for key in ("table", "column", "base_year", "target_year"):
        if key not in p:
            raise ConfigError(f"plan {pid!r} lacks {key!r}", Location.of(mpath, column=f"{where}.{key}"))
    for key in ("table", "column", "base_column"):
        _plan_key(p, key, str, "a text (a table or column id)", mpath, where)
    if p["table"] not in ds.tables:
        raise ConfigError(f"plan {pid!r} refers to table {p['table']!r}, which is not loaded",
                          Location.of(mpath, column=f"{where}.table"), expected="one of " + ", ".join(ds.tables))
    t = ds.tables[p["table"]]
    ids = [c.id for c in t.columns]
    for key in ("column", "base_column"):
        if p.get(key) is not None and p[key] not in ids:
            raise ConfigError(f"plan {pid!r}: column {p[key]!r} is not a column of table {t.id}",
                              Location.of(mpath, column=f"{where}.{key}"), expected="one of " + ", ".join(ids))
    base = _plan_key(p, "base_year", int, "a year (an integer)", mpath, where)
    target = _plan_key(p, "target_year", int, "a year (an integer)", mpath, where)
    start = _plan_key(p, "start_year", int, "a year (an integer)", mpath, where)
    start = base + 1 if start is None else start
    if not base < target or not start <= target:
        raise ConfigError(f"plan {pid!r}: years out of order", Location.of(mpath, column=where),
                          expected="base_year < target_year and start_year ≤ target_year",
                          found=f"base {base}, start {start}, target {target}")
    return PlanSpec(pid, str(p.get("label", pid)), base, start, target, t.id, p["column"], p.get("base_column"))


def _plan_key(p: dict, key: str, kind: type, expected: str, mpath: Path, where: str):
    """``p[key]`` checked to be of ``kind`` (an integer year, or a non-empty text); None when absent.

    A wrong type is a :class:`ConfigError` at ``plans.<id>.<key>`` of the manifest.
    """
    v = p.get(key)
    if v is None:
        return None
    ok = (isinstance(v, int) and not isinstance(v, bool)) if kind is int else (isinstance(v, str) and v.strip() != "")
    if not ok:
        raise ConfigError(f"bad value for {key}", Location.of(mpath, column=f"{where}.{key}"),
                          expected=expected, found=v)
    return v


def versions_of(ds: Dataset, plan: str | None = None) -> list[str]:
    """Plan ids in the manifest with the same base and target year as ``plan`` (default plan): its versions."""
    ref = ds.plans.get(plan or default_plan_id(ds) or "")
    if ref is None:
        return list(ds.plans)
    return [pid for pid, p in ds.plans.items()
            if p.get("base_year") == ref.get("base_year") and p.get("target_year") == ref.get("target_year")]


# ---- inputs -----------------------------------------------------------------------------------------
def _unique(s: pd.Series) -> pd.Series:
    s = s[s.index != ""]
    return s[~s.index.duplicated()]


def _rolled(cls, long: pd.DataFrame) -> pd.Series:
    """Given values by code, parents (and aggregates) not given computed from their leaves (ha)."""
    return cls.complete(long, VALUE, include_aggregates=True)


def read_status_file(path: Path | str, ds: Dataset, number_format: str = "auto") -> pd.DataFrame:
    """A user's status table (``code, year, area_ha``; blank = missing) validated against the classification."""
    return read_long(path, ds.classification, number_format, keys=["year", "code"])


def read_plan_file(path: Path | str, ds: Dataset, spec: PlanSpec | None, base_year: int | None,
                   number_format: str = "auto") -> tuple[PlanSpec, pd.Series]:
    """A user's plan table (``code, year, area_ha``; blank area = no target) -> (period, target figures).

    The period is that of the manifest plan ``spec`` if given, else ``base_year`` + 1 to the file's last
    year. A figure for a year outside the period raises :class:`InputError` at its row; the figures of the
    target year are the plan (rows of other years inside the period are not used).
    """
    path = Path(path)
    df = read_long(path, ds.classification, number_format, keys=["year", "code"])
    if spec is None:
        if base_year is None:
            raise InputError("a plan file needs a base year: the dataset defines no plan",
                             Location.of(path), expected="a base year")
        spec = PlanSpec(f"file:{path.name}", f"plan file {path.name}", base_year, base_year + 1,
                        int(df["year"].max()))
    else:
        spec = PlanSpec(f"file:{path.name}", f"plan file {path.name} (period of {spec.id})", spec.base_year,
                        spec.start_year, spec.target_year)
    outside = (df["year"] < spec.start_year) | (df["year"] > spec.target_year)
    if outside.any():
        i = int(np.flatnonzero(outside.to_numpy())[0])
        raise InputError(f"plan figure for {df['year'].iloc[i]} is outside the plan period {spec.period}",
                         Location.of(path, row=int(df[ROW].iloc[i]), column="year"),
                         expected=f"a year from {spec.start_year} to {spec.target_year}")
    target = df[df["year"] == spec.target_year]
    if target.empty:
        raise InputError(f"no plan figures for the target year {spec.target_year}", Location.of(path, column="year"),
                         expected=f"rows with year {spec.target_year}", found=sorted(set(df["year"])))
    return spec, target.set_index("code")[VALUE]


def _status_sources(ds: Dataset, spec: PlanSpec, year: int, status: pd.DataFrame | None,
                    status_file: Path | None) -> list[tuple[str, pd.Series, str | None]]:
    """Every place that gives the status of ``year``, first = preferred: (label, values by code, table column)."""
    out: list[tuple[str, pd.Series, str | None]] = []
    if status is not None and (status["year"] == year).any():
        out.append((f"{Path(status_file).name} ({year})", _rolled(ds.classification, status[status["year"] == year]),
                    None))
    if spec.table:
        t = ds.tables[spec.table]
        cols = [c for c in t.columns if c.kind == "value" and c.quantity == "status" and c.year == year]
        if year == spec.base_year and spec.base_column:
            cols = [t.column(spec.base_column)] + [c for c in cols if c.id != spec.base_column]
        for c in cols:
            out.append((f"{t.id} {c.number} ({year})", _unique(t.values(c.id)), c.id))
    if year in ds.years:
        out.append((f"inventory ({year})", ds.stocks(year, derive=True, aggregates=True), None))
    return out


def _status(ds: Dataset, spec: PlanSpec, year: int, what: str, status: pd.DataFrame | None,
            status_file: Path | None, codes: pd.Index) -> tuple[pd.Series, str, str | None]:
    """Status of ``year`` for ``codes``, each from its first source that has it; (values, labels of the sources
    used, table column of the first source)."""
    sources = _status_sources(ds, spec, year, status, status_file)
    if not sources:
        looked = []
        if status is not None:
            looked.append(f"{Path(status_file).name} has {', '.join(map(str, sorted(set(status['year']))))}")
        if spec.table:
            t = ds.tables[spec.table]
            ys = sorted({c.year for c in t.columns if c.quantity == "status" and c.year})
            looked.append(f"table {t.id} has {', '.join(map(str, ys)) or 'none'}")
        looked.append(f"the inventory has {', '.join(map(str, ds.years))}")
        where = status_file if status is not None else ds.file("inventory")
        raise InputError(f"no status for the {what} {year}", Location.of(where, column="year"),
                         expected=f"a status for {year}", found="; ".join(looked))
    values = pd.Series(np.nan, index=codes, dtype=float)
    used = []
    for label, s, _ in sources:
        fill = values.isna() & s.reindex(codes).notna().to_numpy()
        if fill.any() or not used:
            values[fill] = s.reindex(codes)[fill]
            used.append(label if len(used) == 0 or fill.all() else f"{label} for {', '.join(codes[fill])}")
    return values, " + ".join(used), sources[0][2]


def _printed_ratio(t: PublishedTable, spec: PlanSpec, actual_col: str | None) -> pd.Series | None:
    """The table's printed ratio column computed from exactly these inputs, if it has one."""
    if actual_col is None or spec.base_column is None:
        return None
    cols = {c.id: c for c in t.columns}

    def is_diff(cid: str, a: str, b: str) -> bool:
        c = cols.get(cid)
        return c is not None and c.kind == "diff" and tuple(c.operands) == (a, b)

    for c in t.columns:
        if (c.kind == "ratio_pct" and len(c.operands) == 2 and is_diff(c.operands[0], actual_col, spec.base_column)
                and is_diff(c.operands[1], spec.column, spec.base_column)):
            return _unique(t.values(c.id))
    return None


# ---- computation ------------------------------------------------------------------------------------
def classify(planned_change: pd.Series, actual_change: pd.Series, ratio_pct: pd.Series, has_plan: pd.Series,
             has_data: pd.Series, elapsed_pct: float, over_tolerance: float = DEFAULT_OVER_TOLERANCE) -> np.ndarray:
    """Status per row (see the module docstring), vectorised. Changes in ha, ratio and elapsed share in %."""
    nothing_planned = np.isclose(planned_change.fillna(0).to_numpy(dtype=float), 0.0, atol=1e-9)
    r = ratio_pct.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        conds = [
            ~has_plan.to_numpy(dtype=bool),
            ~has_data.to_numpy(dtype=bool),
            nothing_planned,
            np.full(len(r), elapsed_pct <= 0),
            (planned_change * actual_change).to_numpy(dtype=float) < 0,
            r > 100 + over_tolerance,
            r >= 100,
            r >= elapsed_pct,
        ]
    return np.select(conds, list(STATUSES[:-1]), default=STATUSES[-1])


def _ha(v: float, sign: bool = True) -> str:
    text = f"{v:{'+' if sign else ''},.0f}" if float(v).is_integer() else f"{v:{'+' if sign else ''},.2f}"
    return text


def printed_off_rounding(df: pd.DataFrame) -> np.ndarray:
    """True where the printed ratio lies outside what baseline, plan and actual within ±half their last digit
    (±0.5 ha for whole ha) can give: a printed ratio that rounding of the inputs does not explain.

    The same interval as the reconciliation's check of the printed ratio column (:mod:`landuse.intervals`).
    """
    values = df[["baseline", "plan", "actual"]].to_numpy(dtype=float)
    half = half_unit(values)
    n = len(df)
    num = np.tile([-1.0, 0.0, 1.0], (n, 1))  # actual − baseline
    den = np.tile([-1.0, 1.0, 0.0], (n, 1))  # plan − baseline
    _, lo, hi = ratio_bounds(num, den, np.nan_to_num(values), half)
    printed = df["printed_ratio_pct"].to_numpy(dtype=float)
    known = ~np.isnan(printed) & df["ratio_pct"].notna().to_numpy()
    return known & ~within(np.nan_to_num(printed), lo, hi)


def _notes(df: pd.DataFrame, year: int, threshold: pd.Series, printed_off: np.ndarray) -> list[str]:
    notes = []
    for r, thr, off in zip(df.itertuples(index=False), threshold, printed_off, strict=True):
        parts = []
        if r.status == "no-target":
            parts.append("no figure in the plan")
            if not np.isnan(r.printed_ratio_pct):
                parts.append(f"the source prints a ratio ({r.printed_ratio_pct:.2f} %) anyway")
        elif r.status == "no-data":
            parts.append("no status for the " + ("base year" if np.isnan(r.baseline) else f"report year {year}"))
        elif r.status == "no-change-planned":
            moved = r.actual_change
            parts.append("plan = baseline (no change planned); "
                         + ("the area did not move" if moved == 0 else
                            f"the area moved {_ha(moved)} ha ({_ha(r.baseline, False)} → {_ha(r.actual, False)})"))
        elif r.status == "no-time-elapsed":
            parts.append(f"report year = base year: nothing to measure yet; planned change {_ha(r.planned_change)} ha")
        elif r.status == "opposite":
            parts.append(f"planned {_ha(r.planned_change)} ha, moved {_ha(r.actual_change)} ha (the other way)")
        elif r.status == "over":
            parts.append(f"beyond the target by {_ha(abs(r.remaining), False)} ha")
        if r.low_base:
            parts.append(f"low base: planned change {_ha(r.planned_change)} ha is below {_ha(thr, False)} ha, "
                         "read the ratio with care")
        if off:
            parts.append(f"printed ratio {r.printed_ratio_pct:.2f} % vs {r.ratio_pct:.2f} % recomputed from the "
                         "printed baseline, plan and status: more than rounding of the inputs (±0.5 ha) explains")
        notes.append("; ".join(parts))
    return notes


def _order(ds: Dataset, codes: pd.Index) -> list[str]:
    cls = ds.classification
    rank = {c: i for i, c in enumerate(cls.codes + list(cls.aggregates))}
    return sorted(codes, key=lambda c: rank.get(c, len(rank)))


def _level(ds: Dataset, code: str) -> int:
    cls = ds.classification
    if code in cls.aggregates:
        return min(cls.depth(m) for m in cls.aggregates[code])
    return cls.depth(code)


@dataclass
class _Inputs:
    spec: PlanSpec
    plan: pd.Series
    baseline: pd.Series
    actual: pd.Series
    printed: pd.Series | None
    sources: dict[str, str] = field(default_factory=dict)


def _inputs(ds: Dataset, plan: str | None, base_year: int | None, year: int, plan_file: Path | None,
            status_file: Path | None, number_format: str) -> _Inputs:
    manifest_plan = plan_spec(ds, plan) if (plan or default_plan_id(ds) or plan_file is None) else None
    spec = manifest_plan
    if plan_file is not None:
        period, plan_values = read_plan_file(plan_file, ds, manifest_plan, base_year, number_format)
        spec = PlanSpec(period.id, period.label, period.base_year, period.start_year, period.target_year,
                        manifest_plan.table if manifest_plan else None, None,
                        manifest_plan.base_column if manifest_plan else None, Path(plan_file))
        plan_source = Path(plan_file).name
    else:
        t = ds.tables[spec.table]
        plan_values = _unique(t.values(spec.column))
        plan_source = f"{t.id} {t.column(spec.column).number}"
    if base_year is not None and base_year != spec.base_year:
        spec = PlanSpec(spec.id, spec.label, base_year, spec.start_year, spec.target_year, spec.table,
                        spec.column, None, spec.file)
    if year < spec.base_year:
        raise InputError(f"report year {year} is before the base year {spec.base_year}",
                         expected=f"a year from {spec.base_year}")
    if spec.base_year >= spec.target_year:
        raise InputError(f"base year {spec.base_year} is not before the target year {spec.target_year}",
                         expected=f"a year before {spec.target_year}")
    status = read_status_file(status_file, ds, number_format) if status_file is not None else None
    codes = pd.Index(plan_values.index)
    baseline, base_src, _ = _status(ds, spec, spec.base_year, "base year", status, status_file, codes)
    actual, actual_src, actual_col = _status(ds, spec, year, "report year", status, status_file, codes)
    printed = None
    if spec.table and spec.file is None and status is None:
        printed = _printed_ratio(ds.tables[spec.table], spec, actual_col)
    return _Inputs(spec, plan_values, baseline, actual, printed,
                   {"plan": plan_source, "baseline": base_src, "actual": actual_src})


@dataclass
class Fulfilment:
    """A fulfilment table (:data:`COLUMNS`; ha and %) with what it was computed for: the plan, its period,
    the report year, the elapsed share of the period (%), the thresholds and the sources of the figures."""

    table: pd.DataFrame
    plan: str
    label: str
    base_year: int
    year: int
    start_year: int
    target_year: int
    elapsed_pct: float
    low_base: str
    over_tolerance: float
    sources: dict[str, str] = field(default_factory=dict)


@dataclass
class PlanComparison:
    """Fulfilment under several plan versions side by side (see :func:`compare_versions`)."""

    table: pd.DataFrame
    plans: list[str]
    year: int


def fulfilment(ds: Dataset, plan: str | None = None, base_year: int | None = None, year: int | None = None,
               level: int | None = None, low_base: LowBase | str | None = None, *,
               plan_file: Path | str | None = None, status_file: Path | str | None = None,
               over_tolerance: float = DEFAULT_OVER_TOLERANCE, number_format: str = "auto") -> pd.DataFrame:
    """The table of :func:`assess` (same arguments)."""
    return assess(ds, plan, base_year, year, level, low_base, plan_file=plan_file, status_file=status_file,
                  over_tolerance=over_tolerance, number_format=number_format).table


def assess(ds: Dataset, plan: str | None = None, base_year: int | None = None, year: int | None = None,
           level: int | None = None, low_base: LowBase | str | None = None, *,
           plan_file: Path | str | None = None, status_file: Path | str | None = None,
           over_tolerance: float = DEFAULT_OVER_TOLERANCE, number_format: str = "auto") -> Fulfilment:
    """Fulfilment of plan ``plan`` (a manifest plan id; default ``[fulfilment] plan``) at ``year``.

    One row per category the plan covers (a row of its table, or of ``plan_file``), in classification
    display order, down to depth ``level`` (0 = the total; default: every covered row). Areas and changes
    in ha (change = later − earlier), ``ratio_pct`` and ``elapsed_pct`` in %. ``baseline`` is the status at
    ``base_year`` (default: the plan's), ``actual`` the status at ``year`` (default: ``[fulfilment]
    report_year``); each comes from ``status_file`` if given, else the plan's table, else the inventory.
    ``printed_ratio_pct`` is the table's printed ratio for the same inputs (NaN when it has none); ``note``
    mentions it only where it lies outside what the inputs within ±0.5 ha can give (as ``landuse reconcile``).
    The result carries the plan, years and the sources of the figures as fields.
    """
    lb = LowBase.parse(low_base)
    year = int(year) if year is not None else default_report_year(ds)
    inp = _inputs(ds, plan, base_year, year, Path(plan_file) if plan_file else None,
                  Path(status_file) if status_file else None, number_format)
    spec = inp.spec
    codes = _order(ds, inp.plan.index)
    if level is not None:
        depth = max([ds.classification.depth(c) for c in ds.classification.codes])
        if not 0 <= level <= depth:
            raise InputError("level out of range",
                             expected=f"0 to {depth}", found=level)
        codes = [c for c in codes if _level(ds, c) <= level]
    df = pd.DataFrame({"code": codes})
    df["name"] = [ds.classification.name(c) for c in codes]
    df["level"] = [_level(ds, c) for c in codes]
    df["baseline"] = inp.baseline.reindex(codes).to_numpy(dtype=float)
    df["plan"] = inp.plan.reindex(codes).to_numpy(dtype=float)
    df["actual"] = inp.actual.reindex(codes).to_numpy(dtype=float)
    df["planned_change"] = df["plan"] - df["baseline"]
    df["actual_change"] = df["actual"] - df["baseline"]
    elapsed = 100 * (year - spec.base_year) / (spec.target_year - spec.base_year)
    defined = df["planned_change"].notna() & ~np.isclose(df["planned_change"].fillna(0), 0) & (elapsed > 0)
    df["ratio_pct"] = (100 * df["actual_change"] / df["planned_change"]).where(defined & df["actual_change"].notna())
    printed = inp.printed.reindex(codes) if inp.printed is not None else pd.Series(np.nan, index=codes)
    df["printed_ratio_pct"] = printed.to_numpy(dtype=float)
    df["elapsed_pct"] = elapsed
    df["remaining"] = df["plan"] - df["actual"]
    df["status"] = classify(df["planned_change"], df["actual_change"], df["ratio_pct"], df["plan"].notna(),
                            df["baseline"].notna() & df["actual"].notna(), elapsed, over_tolerance)
    threshold = lb.threshold(df["baseline"])
    df["low_base"] = df["ratio_pct"].notna() & (df["planned_change"].abs() < threshold)
    df["note"] = _notes(df, year, threshold, printed_off_rounding(df))
    return Fulfilment(df[COLUMNS], spec.id, spec.label, spec.base_year, year, spec.start_year, spec.target_year,
                      elapsed, str(lb), over_tolerance, inp.sources)


def describe(res: Fulfilment | PlanComparison) -> str:
    """A one-paragraph header for a fulfilment or comparison table (plan, years, elapsed share, sources)."""
    df = res.table
    if isinstance(res, PlanComparison):
        return (f"Plan versions compared: {', '.join(res.plans)}; report year {res.year}. "
                f"{int(df['differs'].sum())} of {len(df)} row(s) differ.")
    a, src = res, res.sources
    lines = [f"Plan {a.plan}: {a.label}",
             f"Base year {a.base_year}, target {a.target_year}, report year {a.year}: "
             f"{a.year - a.base_year} of {a.target_year - a.base_year} years elapsed = "
             f"{a.elapsed_pct:.1f} % (on-track needs a ratio at least this).",
             f"Figures: plan {src.get('plan')}; baseline {src.get('baseline')}; actual {src.get('actual')}. "
             f"Low base: below {a.low_base}."]
    counts = df["status"].value_counts()
    lines.append("Statuses: " + ", ".join(f"{s} {counts[s]}" for s in STATUSES if s in counts))
    return "\n".join(lines)


# ---- plan versions side by side ----------------------------------------------------------------------
COMPARED = ("baseline", "plan", "actual", "ratio_pct", "status")


def _differences(wide: pd.DataFrame, ids: list[str]) -> tuple[pd.Series, pd.Series]:
    """(differs, text) per row: a plan figure in one version and not in another, or figures (plan, baseline,
    actual: among the versions that have them) or statuses (among the versions with a figure) that differ."""
    texts: list[list[str]] = [[] for _ in range(len(wide))]
    for q in ("plan", "baseline", "actual"):
        block = wide[[f"{q}_{p}" for p in ids]]
        spread = (block.max(axis=1) - block.min(axis=1)).fillna(0)
        partial = block.notna().any(axis=1) & block.isna().any(axis=1) if q == "plan" else spread < 0
        for i in np.flatnonzero(((spread > 0) | partial).to_numpy()):
            vals = " vs ".join("blank" if np.isnan(v) else _ha(v, False) for v in block.iloc[i])
            texts[i].append(f"{q} {vals}" + (f" ({_ha(spread.iloc[i], False)} ha)" if spread.iloc[i] > 0 else ""))
    has = wide[[f"plan_{p}" for p in ids]].notna().to_numpy()
    status = wide[[f"status_{p}" for p in ids]].to_numpy()
    for i in range(len(wide)):
        shown = status[i][has[i]]
        if len(set(shown)) > 1:
            texts[i].append("status " + " vs ".join(status[i]))
    text = pd.Series(["; ".join(t) for t in texts], index=wide.index)
    return text.ne(""), text


def compare_plans(ds: Dataset, plans: list[str] | tuple[str, ...] | None = None, base_year: int | None = None,
                  year: int | None = None, level: int | None = None, low_base: LowBase | str | None = None, *,
                  plan_file: Path | str | None = None, status_file: Path | str | None = None,
                  over_tolerance: float = DEFAULT_OVER_TOLERANCE, number_format: str = "auto") -> pd.DataFrame:
    """The table of :func:`compare_versions` (same arguments)."""
    return compare_versions(ds, plans, base_year, year, level, low_base, plan_file=plan_file, status_file=status_file,
                            over_tolerance=over_tolerance, number_format=number_format).table


def compare_versions(ds: Dataset, plans: list[str] | tuple[str, ...] | None = None, base_year: int | None = None,
                     year: int | None = None, level: int | None = None, low_base: LowBase | str | None = None, *,
                     plan_file: Path | str | None = None, status_file: Path | str | None = None,
                     over_tolerance: float = DEFAULT_OVER_TOLERANCE, number_format: str = "auto",
                     known: Mapping[str, Fulfilment] | None = None) -> PlanComparison:
    """Fulfilment under several plan versions side by side (default: :func:`versions_of` the default plan).

    Columns ``code, name, level``, then ``baseline_<id>, plan_<id>, actual_<id>, ratio_pct_<id>,
    status_<id>`` for each version, ``ratio_spread_pp`` (max − min ratio, percentage points), ``differs``
    and ``difference`` (which figures or statuses differ, with the spread in ha). A ``plan_file`` is added
    as one more version (id ``file:<name>``). Rows: every category for which at least one version sets a
    figure, in display order; ``status_<id>`` is ``not-covered`` where a version has no such row.
    ``known``: versions already assessed with these same arguments (by plan id), used as they are.
    """
    ids = list(plans) if plans else versions_of(ds)
    kw = dict(base_year=base_year, year=year, level=level, low_base=low_base, status_file=status_file,
              over_tolerance=over_tolerance, number_format=number_format)
    known = known or {}
    results = {p: known[p] if p in known else assess(ds, p, **kw) for p in ids}
    if plan_file is not None:
        r = assess(ds, ids[0] if ids else None, plan_file=plan_file, **kw)
        results[r.plan] = r
    tables = {p: r.table for p, r in results.items()}
    if not tables:
        raise ConfigError("no plan versions to compare", Location.of(_manifest_path(ds), column="plans"))
    wide = None
    for pid, t in tables.items():
        part = t[["code", "name", "level", *COMPARED]].rename(columns={q: f"{q}_{pid}" for q in COMPARED})
        wide = part if wide is None else wide.merge(part, on=["code", "name", "level"], how="outer")
    ids = list(tables)
    wide = wide[wide[[f"plan_{p}" for p in ids]].notna().any(axis=1)]
    wide = wide.set_index("code").loc[_order(ds, pd.Index(wide["code"]))].reset_index()
    for pid in ids:
        wide[f"status_{pid}"] = wide[f"status_{pid}"].fillna("not-covered")
    ratios = wide[[f"ratio_pct_{p}" for p in ids]]
    wide["ratio_spread_pp"] = ratios.max(axis=1) - ratios.min(axis=1)
    wide["differs"], wide["difference"] = _differences(wide, ids)
    return PlanComparison(wide.reset_index(drop=True), ids, next(iter(results.values())).year)
