"""Allocation configuration: the dataset's default config plus an optional scenario TOML -> one :class:`Config`.

The dataset's default is the TOML named by ``[allocation] config`` in its manifest (for the bundled data
``data/langson/allocation.toml``). A scenario file has the same format and overrides it key by key. All
areas are in ha, shares are fractions 0–1 of the natural area (the total), weights are per ha.

```toml
[scenario]            # name = "...", description = "...", base = "default" | "none" (ignore the default)
[period]              # start_year = 2024 (default: latest inventory year), target_year = 2030
[targets]             # goal areas: plan = "<plan id of the manifest>" or from_table = "bang26" + column = "c7"
SKK = 3000            #   (a blank cell = no target), then CODE = ha for any code or aggregate; false drops one
[total]               # area = ha: a planned total different from the start total (boundary change)
[bounds.min]          # hard minimum area, ha          [bounds.max]  hard maximum area, ha
[shares.min]          # hard minimum share, 0–1        [shares.max]  hard maximum share, 0–1
[protect]             # codes = [...]: their start land may not be converted away; release = [...] undoes
[weights]             # CODE = per-ha weight of deviating from its target; leaf / parent / keep_start defaults
[forbid]              # pairs = [["LUC", "SKK"]]  from -> to (codes stand for all their leaves)
[allow]               # pairs = [...]: overrides forbidding rules of the conversion matrix
[conversions]         # rules = "file.csv" (default: data/classification/conversions.csv)
[costs]               # default, from = {CODE = factor}, to = {...}, suitability, suitability_weight, scale
[spread]              # by unit: driver weights stock, suitability, potential, region (≥ 0), region_factor =
                      #   {I = 1.5, ...}, stock_cap, change_cap (0–1): see allocation/spread.py
```
Every problem raises :class:`~landuse.errors.ConfigError` naming the file, line and key, before any solve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.classification import CLASSIFICATION_DIR, Classification
from landuse.dataset import Dataset, load_toml, toml_text
from landuse.errors import ConfigError, Location, UnknownCodeError, did_you_mean
from landuse.readers.tables import ROW, read_table

# Default weights (objective units per ha): a leaf target dominates a parent target, which dominates keeping a
# leaf without target at its start area, which dominates conversion costs (scaled so that the costliest pair
# stays far below the keep-start weight). 1 objective unit = 1 ha of deviation from a leaf target.
LEAF_WEIGHT, PARENT_WEIGHT, KEEP_START_WEIGHT = 1.0, 0.1, 0.01
# Default conversion cost rule (cost units per ha, before ``scale``): 1 per ha converted, multiplied by the
# factor of the most specific origin code listed in ``cost_factors.csv`` of the classification folder (the
# dataset's ``classification/`` if it has one, else data/classification: converting specialised rice land or
# protected forest costs most, unused land least), times (1 + suitability_weight × share of H1+H2 land of the
# origin's purpose).
DEFAULT_COST = 1.0
COST_FACTORS_FILE = "cost_factors.csv"
DEFAULT_SCALE = 1e-3  # max pair cost ≈ 3 × 2 × 1.05 × 1e-3 < keep-start weight 0.01
DEFAULT_BOUNDARY_COST = 10.0
DEFAULT_TIE_BREAK = 0.05  # + up to 5 % per pair, fixed by a hash of the pair's codes (unique optimum)

SECTIONS: dict[str, set[str] | None] = {  # None: keys are land codes (plus the listed reserved keys)
    "scenario": {"name", "description", "base"},
    "period": {"start_year", "target_year"},
    "targets": {"plan", "from_table", "column"},
    "total": {"area"},
    "bounds": {"min", "max"},
    "shares": {"min", "max"},
    "protect": {"codes", "release"},
    "weights": {"leaf", "parent", "keep_start"},
    "forbid": {"pairs"},
    "allow": {"pairs"},
    "conversions": {"rules"},
    "costs": {"default", "from", "to", "suitability", "suitability_weight", "scale", "boundary",
              "tie_break"},
    "spread": {"stock", "suitability", "potential", "region", "region_factor", "stock_cap", "change_cap",
               "min_change_ha"},
}
CODE_KEYED = {"targets", "weights", "bounds.min", "bounds.max", "shares.min", "shares.max", "costs.from", "costs.to"}


@dataclass(frozen=True)
class CostRule:
    """Conversion cost per ha (cost units; the objective uses ``scale`` × cost). Staying costs 0."""

    default: float = DEFAULT_COST
    from_factor: dict[str, float] = field(default_factory=dict)
    to_factor: dict[str, float] = field(default_factory=dict)
    suitability: str | None = "suitability"
    suitability_weight: float = 1.0
    scale: float = DEFAULT_SCALE
    boundary: float = DEFAULT_BOUNDARY_COST
    tie_break: float = DEFAULT_TIE_BREAK


@dataclass(eq=False)
class Config:
    """One validated allocation set-up. Tables are long; ``unit`` None = the whole area (issue 8: a unit).

    * ``targets``: code, unit, target_ha, weight, label, source (goals; deviations are weighted per ha)
    * ``bounds``: label, kind (min|max), code, unit, area_ha, share (None for area bounds), source (hard)
    * ``protect``: code, label, source;  ``rules``: from, to, rule (allow|forbid), reason, label, source
    """

    name: str
    classification: Classification
    start_year: int
    target_year: int
    total_ha: float | None
    targets: pd.DataFrame
    bounds: pd.DataFrame
    protect: pd.DataFrame
    rules: pd.DataFrame
    weights: dict[str, float]
    costs: CostRule
    suitability: pd.DataFrame | None = None  # purpose code -> good_share (H1+H2 of graded)
    sources: tuple[str, ...] = ()


# ---- reading and checking one TOML ------------------------------------------------------------------
class _Doc:
    """A parsed TOML file with helpers that raise located errors."""

    def __init__(self, path: Path, data: dict, codes: set[str]):
        self.path, self.data, self.codes = Path(path), data, codes
        try:
            self.lines = toml_text(Path(path)).splitlines()
        except ConfigError:
            self.lines = []

    def line_of(self, section: str, key: str | None = None) -> int | None:
        cur, sec_line = "", None
        for i, raw in enumerate(self.lines, 1):
            s = raw.split("#", 1)[0].strip()
            m = re.match(r"^\[\s*([^\]]+?)\s*\]$", s)
            if m:
                cur = m.group(1).replace(" ", "").replace('"', "")
                hit = cur == section or cur.startswith(section + ".")
                sec_line = i if hit and sec_line is None else sec_line
                continue
            if key is None:
                continue
            pat = rf'^"?{re.escape(key)}"?\s*='
            if (cur == section and re.match(pat, s)) or (
                    section.startswith(cur) and re.search(rf'(^|[{{,.\s]){re.escape(key)}\s*=', s)):
                return i
        return sec_line

    def error(self, message: str, section: str, key: str | None = None, **kw) -> ConfigError:
        col = f"{section}.{key}" if key else section
        return ConfigError(message, Location.of(self.path, row=self.line_of(section, key), column=col), **kw)

    def number(self, value: object, section: str, key: str, lo: float = 0.0, hi: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{section}.{key} must be a number", section, key, expected="a number", found=value)
        v = float(value)
        if not np.isfinite(v):
            raise self.error(f"{section}.{key} is out of range (not a finite number)", section, key,
                             expected="a finite number (not nan or inf)", found=value)
        if v < lo or (hi is not None and v > hi):
            rng = f"between {lo:g} and {hi:g}" if hi is not None else f"≥ {lo:g}"
            raise self.error(f"{section}.{key} is out of range", section, key, expected=rng, found=value)
        return v

    def code(self, code: object, section: str, key: str | None = None,
             classification: Classification | None = None) -> str:
        """``code`` checked against the classification; with ``classification``, also allocatable."""
        c = str(code)
        loc = Location.of(self.path, row=self.line_of(section, key or c), column=f"{section}.{key or c}")
        if c not in self.codes:
            raise UnknownCodeError(f"unknown land code {c!r} in [{section}]" + _hint(c, self.codes), loc)
        if classification is not None:
            check_allocatable(c, classification, loc)
        return c

    def table(self, section: str) -> dict:
        node: object = self.data
        for part in section.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if not isinstance(node, dict):
            raise self.error(f"[{section}] must be a table", section)
        return node

    def check_keys(self) -> None:
        for key, value in self.data.items():
            if key not in SECTIONS:
                raise self.error(f"unknown key {key!r}" + _hint(key, set(SECTIONS)), key)
            if not isinstance(value, dict):
                raise self.error(f"{key} must be a table ([{key}])", key)
            allowed = SECTIONS[key] or set()
            for sub, v in value.items():
                path = f"{key}.{sub}"
                if key in ("bounds", "shares") and sub in allowed:
                    if not isinstance(v, dict):
                        raise self.error(f"[{path}] must be a table of CODE = value", path)
                    continue
                if sub in allowed or (key in CODE_KEYED and sub.upper() == sub and sub not in allowed):
                    continue
                near = allowed | (self.codes if key in CODE_KEYED else set())
                raise self.error(f"unknown key {sub!r} in [{key}]" + _hint(sub, near), key, sub)


def _hint(word: str, choices: set[str]) -> str:
    """"; did you mean 'X'?" for the nearest choice (:func:`landuse.errors.did_you_mean`)."""
    return did_you_mean(word, choices)


def check_allocatable(code: str, classification: Classification, location: Location | None = None) -> None:
    """Raise :class:`ConfigError` at ``location`` when ``code`` has no leaves of its own to allocate: an of-which
    row ("Trong đó", e.g. RSN) is a subset of its parent, not a part, so it can carry no target, bound, share or
    unit-level row. Tree codes with leaves and aggregates pass; unknown codes are left to the caller."""
    if code in classification.table.index and classification.relation(code) == "of-which":
        raise ConfigError(f"{code} is an of-which row ('Trong đó') of {classification.parent(code)}, not allocated",
                          location, expected="a land code with leaves (a part of the tree or an aggregate)",
                          found=code)


def _pairs(doc: _Doc, section: str) -> list[tuple[str, str]]:
    raw = doc.table(section).get("pairs", [])
    if not isinstance(raw, list) or any(not isinstance(p, list) or len(p) != 2 for p in raw):
        raise doc.error(f"{section}.pairs must be a list of [from, to] pairs", section, "pairs",
                        expected='[["LUC", "SKK"], ...]', found=raw)
    return [(doc.code(a, section, "pairs"), doc.code(b, section, "pairs")) for a, b in raw]


# ---- merging the default and a scenario -------------------------------------------------------------
@dataclass
class _Layer:
    """The raw, checked content of one TOML file (default or scenario)."""

    doc: _Doc
    targets: dict[str, float | None] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    bounds: dict[tuple[str, str, str], float | None] = field(default_factory=dict)  # (what, kind, code)


def _read_layer(path: Path, ds: Dataset) -> _Layer:
    cls = ds.classification
    codes = set(cls.codes) | set(cls.aggregates)
    doc = _Doc(path, load_toml(path), codes)
    doc.check_keys()
    layer = _Layer(doc)
    for key, v in doc.table("targets").items():
        if key in SECTIONS["targets"]:
            continue
        code = doc.code(key, "targets", classification=cls)
        layer.targets[code] = None if v is False else doc.number(v, "targets", key)
    for key, v in doc.table("weights").items():
        if key not in SECTIONS["weights"]:
            doc.code(key, "weights", classification=cls)
        layer.weights[key] = doc.number(v, "weights", key)
    for what in ("bounds", "shares"):
        hi = 1.0 if what == "shares" else None
        for kind in ("min", "max"):
            sec = f"{what}.{kind}"
            for key, v in doc.table(sec).items():
                code = doc.code(key, sec, classification=cls)
                layer.bounds[(what, kind, code)] = None if v is False else doc.number(v, sec, key, 0.0, hi)
        lo, up = doc.table(f"{what}.min"), doc.table(f"{what}.max")
        for code in set(lo) & set(up):
            if lo[code] is not False and up[code] is not False and lo[code] > up[code]:
                raise doc.error(f"{what}.min {code} ({lo[code]:g}) is above {what}.max {code} ({up[code]:g})",
                                f"{what}.min", code, expected=f"min ≤ max for {code}")
    return layer


def _plan_targets(doc: _Doc, ds: Dataset) -> tuple[pd.Series, str] | None:
    t = doc.table("targets")
    if "plan" in t:
        plans = ds.plans
        pid = str(t["plan"])
        if pid not in plans:
            raise doc.error(f"unknown plan {pid!r}" + _hint(pid, set(plans)), "targets", "plan",
                            expected="a plan id of the manifest's [plans.*]")
        table, column = plans[pid]["table"], plans[pid]["column"]
        label = f"plan {pid} ({table} {column})"
    elif "from_table" in t:
        table, column = str(t["from_table"]), str(t.get("column", ""))
        label = f"{table} {column}"
    else:
        return None
    if table not in ds.tables:
        raise doc.error(f"unknown table {table!r}" + _hint(table, set(ds.tables)), "targets",
                        "plan" if "plan" in t else "from_table")
    pt = ds.tables[table]
    if column not in {c.id for c in pt.columns}:
        raise doc.error(f"table {table} has no column {column!r}" + _hint(column, {c.id for c in pt.columns}),
                        "targets", "column")
    values = pt.values(column).dropna()
    return values[~values.index.duplicated()], label


def _year(doc: _Doc, value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(f"period.{key} must be a year (an integer)", "period", key, expected="a year, e.g. 2030",
                        found=value)
    return int(value)


def _period(layers: list[_Layer], ds: Dataset) -> tuple[int, int]:
    start, target = max(ds.years), None
    for layer in layers:
        p = layer.doc.table("period")
        start = _year(layer.doc, p["start_year"], "start_year") if "start_year" in p else start
        target = _year(layer.doc, p["target_year"], "target_year") if "target_year" in p else target
        if start not in ds.years:
            raise layer.doc.error(f"no inventory for start_year {start}", "period", "start_year",
                                  expected=f"one of {ds.years}")
    if target is None:
        years = [int(v["target_year"]) for v in ds.plans.values() if "target_year" in v]
        target = max(years) if years else start
    if target < start:
        doc = next((la.doc for la in reversed(layers) if "target_year" in la.doc.table("period")),
                   next((la.doc for la in reversed(layers) if "start_year" in la.doc.table("period")), None))
        if doc is not None:
            raise doc.error(f"the target year {target} is before the start year {start}", "period", "target_year",
                            expected=f"a target_year ≥ start_year ({start})", found=target)
        raise ConfigError(f"the target year {target} is before the start year {start}",
                          expected=f"a target year ≥ {start}", found=target)
    return start, target


SUITABILITY_COLUMNS = ["code", "graded_ha", "h1_ha", "h2_ha"]


def _suitability(ds: Dataset, key: str | None, named: _Doc | None = None) -> pd.DataFrame | None:
    """Share of H1+H2 land by purpose code from ``extras[key]`` (columns code, graded_ha, h1_ha, h2_ha).

    ``named``: the TOML whose ``[costs] suitability`` names ``key`` — then a missing extra or missing columns
    raise a located :class:`ConfigError`; with the built-in default (None) they mean "no suitability data"."""
    if not key or key not in ds.extras or not set(SUITABILITY_COLUMNS) <= set(ds.extras[key].columns):
        if named is None:
            return None
        if not key or key not in ds.extras:
            raise named.error(f"costs.suitability names {key!r}, which the dataset does not have"
                              + _hint(str(key), set(ds.extras)), "costs", "suitability",
                              expected="a [files.*] key of the manifest with a loaded file", found=key)
        missing = [c for c in SUITABILITY_COLUMNS if c not in ds.extras[key].columns]
        raise named.error(f"costs.suitability: file {key!r} lacks column(s) {', '.join(missing)}", "costs",
                          "suitability", expected="columns " + ", ".join(SUITABILITY_COLUMNS),
                          found=", ".join(c for c in ds.extras[key].columns if not c.startswith("_")))
    s = ds.extra_numbers(key, ["graded_ha", "h1_ha", "h2_ha"])
    s = s[s["code"].str.strip() != ""]
    vals = {c: s[c].fillna(0.0).to_numpy(float) for c in ("graded_ha", "h1_ha", "h2_ha")}
    good = np.divide(vals["h1_ha"] + vals["h2_ha"], vals["graded_ha"], out=np.zeros(len(s)),
                     where=vals["graded_ha"] > 0)
    out = pd.DataFrame({"code": s["code"].str.strip().to_numpy(), "good_share": good})
    return out[out["code"].isin(ds.classification.codes)].drop_duplicates("code")


def default_from_factors(ds: Dataset) -> dict[str, float]:
    """Cost factors by origin code (``code, factor``) from ``cost_factors.csv`` of the dataset's
    ``classification/`` folder, else of the bundled data/classification. An unknown code or a factor that is
    not a number ≥ 0 raises :class:`ConfigError` at its row."""
    local = ds.root / "classification" / COST_FACTORS_FILE
    path = local if local.exists() else CLASSIFICATION_DIR / COST_FACTORS_FILE
    if not path.exists():
        return {}
    t = read_table(path)
    codes = t["code"].str.strip().str.upper()
    factors = pd.to_numeric(t["factor"], errors="coerce")
    bad = factors.isna() | ~np.isfinite(factors) | (factors < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError("bad cost factor", Location.of(path, row=int(t[ROW].iloc[i]), column="factor"),
                          expected="a number ≥ 0", found=t["factor"].iloc[i])
    ds.classification.check_codes(codes, Location.of(path), t[ROW], column="code")
    return dict(zip(codes, factors.astype(float), strict=True))


def _costs(layers: list[_Layer], ds: Dataset) -> tuple[CostRule, _Doc | None]:
    """The cost rule, and the TOML that named ``[costs] suitability`` last (None: the built-in default)."""
    rule, named = CostRule(from_factor=default_from_factors(ds)), None
    for layer in layers:
        c = layer.doc.table("costs")
        kw = {}
        for key in ("default", "suitability_weight", "scale", "boundary", "tie_break"):
            if key in c:
                kw[key] = layer.doc.number(c[key], "costs", key)
        if "suitability" in c:
            v = c["suitability"]
            if v is not False and not isinstance(v, str):
                raise layer.doc.error("costs.suitability must be the key of a manifest [files.*] file or false",
                                      "costs", "suitability", expected='"suitability" | false', found=v)
            kw["suitability"] = v or None
            named = layer.doc if v else None
        for key, attr in (("from", "from_factor"), ("to", "to_factor")):
            if key in c:
                sec = f"costs.{key}"
                if not isinstance(c[key], dict):
                    raise layer.doc.error(f"{sec} must be a table of CODE = factor", "costs", key,
                                          expected=f"{sec} = {{ LUC = 3.0 }} or [{sec}]", found=c[key])
                merged = dict(getattr(rule, attr))
                merged.update({layer.doc.code(k, sec): layer.doc.number(v, sec, k) for k, v in c[key].items()})
                kw[attr] = merged
        rule = replace(rule, **kw)
    return rule, named


def _rules(layers: list[_Layer], ds: Dataset) -> pd.DataFrame:
    """Conversion rules in order of precedence (a later row overrides an earlier one)."""
    path = None
    for layer in layers:
        r = layer.doc.table("conversions").get("rules")
        if r:
            path = (layer.doc.path.parent / str(r)).resolve()
    if path is None:
        local = ds.root / "classification" / "conversions.csv"
        path = local if local.exists() else CLASSIFICATION_DIR / "conversions.csv"
    frames = [_read_rules(path, ds.classification)]
    for layer in layers:
        for section, rule in (("allow", "allow"), ("forbid", "forbid")):
            pairs = _pairs(layer.doc, section)
            frames.append(pd.DataFrame({"from": [a for a, _ in pairs], "to": [b for _, b in pairs], "rule": rule,
                                        "reason": f"[{section}] pairs of {layer.doc.path.name}",
                                        "label": [f"{section} {a}→{b}" for a, b in pairs],
                                        "source": layer.doc.path.name}))
    return pd.concat(frames, ignore_index=True)


def _read_rules(path: Path, cls: Classification) -> pd.DataFrame:
    t = read_table(path)
    from landuse.readers.tables import require_columns

    require_columns(t, ["from", "to", "rule", "reason"], path)
    for col in ("from", "to"):
        spec = t[col].str.strip()
        bare = spec.str.replace(r"^not\s+", "", regex=True)
        ok = bare.eq("*") | bare.isin(set(cls.codes) | set(cls.aggregates))
        if not ok.all():
            i = int(np.flatnonzero(~ok.to_numpy())[0])
            raise UnknownCodeError(f"unknown land code {bare.iloc[i]!r}" + _hint(bare.iloc[i], set(cls.codes)),
                                   Location.of(path, row=int(t["_row"].iloc[i]), column=col))
    bad = ~t["rule"].isin(["allow", "forbid"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError("unknown rule", Location.of(path, row=int(t["_row"].iloc[i]), column="rule"),
                          expected="allow | forbid", found=t["rule"].iloc[i])
    out = t[["from", "to", "rule", "reason"]].copy()
    out["label"] = [f"conversions {a}→{b} ({path.name} row {r})"
                    for a, b, r in zip(t["from"], t["to"], t["_row"], strict=True)]
    out["source"] = path.name
    return out


def _default_path(ds: Dataset) -> Path | None:
    name = ds.manifest.get("allocation", {}).get("config")
    return ds.root / name if name else None


def load_scenario(path: Path | str | None, ds: Dataset) -> Config:
    """The dataset's default allocation config overridden by the scenario at ``path`` (None: default only).

    Raises :class:`ConfigError` / :class:`UnknownCodeError` (file, line, key) for malformed TOML, unknown keys
    or codes (with the nearest valid one), shares outside 0–1, negative areas or min > max.
    """
    cls = ds.classification
    layers: list[_Layer] = []
    scenario = _read_layer(Path(path), ds) if path is not None else None
    base = (scenario.doc.table("scenario").get("base", "default") if scenario else "default")
    if base not in ("default", "none"):
        raise scenario.doc.error("unknown base", "scenario", "base", expected="default | none", found=base)
    default = _default_path(ds)
    if base == "default" and default is not None:
        if not default.exists():
            raise ConfigError("allocation config named in the manifest not found", Location.of(default))
        layers.append(_read_layer(default, ds))
    if scenario:
        layers.append(scenario)
    start, target = _period(layers, ds)
    targets = _merge_targets(layers, ds)
    weights, code_w, bounds, protect, total = _merge_layers(layers, cls)
    _check_min_max(bounds, layers[-1].doc if layers else None)
    leaves = set(cls.leaves)
    tdf = pd.DataFrame([{"code": c, "unit": None, "target_ha": v,
                         "weight": code_w.get(c, weights["leaf"] if c in leaves else weights["parent"]),
                         "label": lab, "source": src} for c, (v, lab, src) in targets.items()],
                       columns=["code", "unit", "target_ha", "weight", "label", "source"])
    bdf = pd.DataFrame([{"label": f"{what}.{kind} {code}", "kind": kind, "code": code, "unit": None,
                         "area_ha": v if what == "bounds" else np.nan, "share": v if what == "shares" else None,
                         "source": src} for (what, kind, code), (v, src) in bounds.items()],
                       columns=["label", "kind", "code", "unit", "area_ha", "share", "source"])
    pdf = pd.DataFrame([{"code": c, "label": f"protect {c}", "source": s} for c, s in protect.items()],
                       columns=["code", "label", "source"])
    costs, named = _costs(layers, ds)
    name = layers[-1].doc.table("scenario").get("name") or layers[-1].doc.path.stem if layers else "default"
    return Config(str(name), cls, start, target, total, tdf, bdf, pdf, _rules(layers, ds), weights, costs,
                  _suitability(ds, costs.suitability, named), tuple(str(layer.doc.path) for layer in layers))


def _merge_targets(layers: list[_Layer], ds: Dataset) -> dict[str, tuple[float, str, str]]:
    """The last layer naming a plan/table sets the base; explicit codes override in order (false drops)."""
    targets: dict[str, tuple[float, str, str]] = {}
    for layer in layers:
        plan = _plan_targets(layer.doc, ds)
        if plan is not None:
            values, label = plan
            targets = {c: (float(v), label, layer.doc.path.name) for c, v in values.items()}
        for code, v in layer.targets.items():
            if v is None:
                targets.pop(code, None)
            else:
                targets[code] = (v, f"targets {code}", layer.doc.path.name)
    return targets


def _merge_layers(layers: list[_Layer], cls: Classification | None = None):
    """Weights, bounds/shares, protections and the planned total, later layers overriding earlier ones.
    Protected codes must be allocatable (``cls``: no of-which row)."""
    weights = {"leaf": LEAF_WEIGHT, "parent": PARENT_WEIGHT, "keep_start": KEEP_START_WEIGHT}
    code_w: dict[str, float] = {}
    bounds: dict[tuple[str, str, str], tuple[float, str]] = {}
    protect: dict[str, str] = {}
    total = None
    for layer in layers:
        for k, v in layer.weights.items():
            (weights if k in SECTIONS["weights"] else code_w)[k] = v
        for key, v in layer.bounds.items():
            if v is None:
                bounds.pop(key, None)
            else:
                bounds[key] = (v, layer.doc.path.name)
        p = layer.doc.table("protect")
        for code in _code_list(layer.doc, p, "codes", cls):
            protect[code] = layer.doc.path.name
        for code in _code_list(layer.doc, p, "release"):
            protect.pop(code, None)
        if "area" in layer.doc.table("total"):
            total = layer.doc.number(layer.doc.table("total")["area"], "total", "area")
    return weights, code_w, bounds, protect, total


def _code_list(doc: _Doc, table: dict, key: str, cls: Classification | None = None) -> list[str]:
    v = table.get(key, [])
    if not isinstance(v, list):
        raise doc.error(f"protect.{key} must be a list of codes", "protect", key, expected='["RDD", "RPH"]', found=v)
    return [doc.code(c, "protect", key, classification=cls) for c in v]


def _check_min_max(bounds: dict, doc: _Doc | None) -> None:
    """min > max across layers (e.g. a scenario max below the default's min) is bad input, not infeasibility."""
    for (what, kind, code), (v, _src) in bounds.items():
        if kind == "min" and (what, "max", code) in bounds and v > bounds[(what, "max", code)][0] and doc:
            hi = bounds[(what, "max", code)][0]
            raise doc.error(f"{what}.min {code} ({v:g}) is above {what}.max {code} ({hi:g})", f"{what}.max", code,
                            expected=f"min ≤ max for {code}")
