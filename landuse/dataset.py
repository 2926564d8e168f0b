"""A dataset folder (``manifest.toml`` + CSV/XLSX tables) loaded into one in-memory model.

The model is long: the inventory is ``unit, year, code, area_ha`` (+ provenance ``source, page, line``), and
every published table is kept twice: ``raw`` (the printed cells as text, one row per printed row) and
``cells`` (long: one row per printed cell, with the parsed value, NaN for a blank or a dash).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.classification import DATA_DIR, Classification, load_classification
from landuse.errors import ConfigError, InputError, Location
from landuse.readers.tables import (
    ROW,
    VALUE,
    parse_numbers,
    read_table,
    require_columns,
    resolve_number_format,
    to_numbers,
)

DEFAULT_DATASET = DATA_DIR / "langson"
DEFAULT_CLASSIFICATION = "vn2024"  # the classification in force (Land Law 2024); a manifest may name another
COLUMN_KINDS = ("value", "diff", "ratio_pct", "share_pct")
TABLE_BASE_COLUMNS = ["line", "page", "stt", "name", "code"]


def load_toml(path: Path) -> dict:
    """Parse a TOML file; a syntax error becomes an :class:`ConfigError` with line and column."""
    text = toml_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        import re

        m = re.search(r"line (\d+), column (\d+)", str(e))
        loc = Location.of(path, row=int(m.group(1)) if m else None,
                          column=f"char {m.group(2)}" if m else None)
        raise ConfigError(f"malformed TOML ({str(e).split(' (at')[0]})", loc) from None


def toml_text(path: Path) -> str:
    """The text of a TOML file, which must be UTF-8 (TOML's only encoding; a BOM is allowed). A UTF-16 or
    Windows-1258 file raises :class:`ConfigError` naming the file and line, never a bare decoding error."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", Location.of(path)) from None
    except OSError as e:
        raise ConfigError(f"cannot read file ({e.strerror})", Location.of(path)) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError("the file is UTF-16 text", Location.of(path, row=1),
                          expected="UTF-8 text (TOML files must be UTF-8: save it again as UTF-8)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"byte 0x{raw[e.start]:02x} is not UTF-8 (a Windows-1258 or other legacy encoding?)",
                          Location.of(path, row=line),
                          expected="UTF-8 text (TOML files must be UTF-8: save it again as UTF-8)") from None


@dataclass(frozen=True)
class ColumnSpec:
    """One printed column of a published table. ``kind``: value | diff | ratio_pct | share_pct."""

    id: str
    number: str
    label: str
    kind: str
    quantity: str | None = None
    year: int | None = None
    plan: str | None = None
    operands: tuple[str, ...] = ()

    @property
    def derived(self) -> bool:
        return self.kind != "value"


@dataclass
class PublishedTable:
    """A table as printed. ``raw``: printed text per row; ``cells``: long, one row per (row, column)."""

    id: str
    title: str
    path: Path
    pages: str
    lines: str
    code_printed: bool
    columns: list[ColumnSpec]
    raw: pd.DataFrame
    cells: pd.DataFrame
    _by_column: dict[str, pd.Series] | None = field(default=None, init=False, repr=False, compare=False)  # values()

    def column(self, cid: str) -> ColumnSpec:
        for c in self.columns:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def values(self, cid: str) -> pd.Series:
        """Parsed values of column ``cid`` indexed by code (rows without a code dropped; NaN = blank).

        The columns are split once, on the first call (``cells`` does not change after loading); each call
        returns its own copy."""
        if self._by_column is None:
            coded = self.cells[self.cells["code"] != ""]
            self._by_column = {str(k): g.set_index("code")["value"]
                               for k, g in coded.groupby("column", sort=False)}
        got = self._by_column.get(cid)
        if got is None:
            return self.cells.iloc[:0].set_index("code")["value"]
        return got.copy()


@dataclass
class Dataset:
    """Everything in a dataset folder. Areas in ha."""

    root: Path
    manifest: dict
    classification: Classification
    inventory: pd.DataFrame
    tables: dict[str, PublishedTable] = field(default_factory=dict)
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    number_format_option: str | None = None  # --number-format / load_dataset(number_format=...): wins everywhere
    year_classes: dict[int, Classification] = field(default_factory=dict)  # old years' classifications

    @property
    def name(self) -> str:
        return str(self.manifest.get("dataset", {}).get("name", self.root.name))

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.inventory["year"].unique())

    @property
    def units(self) -> list[str]:
        return list(dict.fromkeys(self.inventory["unit"]))

    @property
    def plans(self) -> dict[str, dict]:
        return dict(self.manifest.get("plans", {}))

    def stocks(self, year: int, unit: str | None = None, *, derive: bool = False,
               aggregates: bool = False) -> pd.Series:
        """Area (ha) by code in ``year``: **the** rule every capability uses for "the area of a code in a year".

        * the inventory's value where one is given; a code with no figure is blank (NaN), never 0;
        * ``unit``: that unit's figures; ``None``: the dataset's own unit (its ``name``) when the inventory lists
          it beside other units, else the sum over the units (a code blank in every unit stays blank);
        * ``derive``: a code with no figure of its own gets the sum of its leaves' figures (NaN when none of its
          leaves has one), and the result is in the classification's display order; ``aggregates`` adds the
          classification's aggregates (e.g. PNN's parts grouped otherwise), derived the same way.
        """
        inv = self._year_rows(year, unit)
        if derive:
            return self.classification.complete(inv, VALUE, include_aggregates=aggregates)
        return inv.groupby("code", sort=False)[VALUE].sum(min_count=1)

    def stock(self, year: int, unit: str | None = None) -> pd.Series:
        """Areas (ha) by code for ``year`` as given in the inventory (NaN = not given): :meth:`stocks`."""
        return self.stocks(year, unit)

    def unit_stocks(self, year: int, codes: list[str]) -> pd.DataFrame:
        """Long ``unit, code, area_ha`` of ``codes`` in ``year`` for every unit (blank stays NaN; a code a unit
        does not list is NaN), units in inventory order, codes in the given order."""
        inv = self.inventory[(self.inventory["year"] == year) & self.inventory["code"].isin(codes)]
        units = list(dict.fromkeys(inv["unit"])) or [self.name]
        grid = pd.MultiIndex.from_product([units, codes], names=["unit", "code"])
        return inv.groupby(["unit", "code"])[VALUE].sum(min_count=1).reindex(grid).reset_index()

    def _year_rows(self, year: int, unit: str | None) -> pd.DataFrame:
        inv = self.inventory[self.inventory["year"].to_numpy() == year]
        if unit is not None:
            return inv[inv["unit"].to_numpy() == unit]
        if inv["unit"].nunique() > 1 and (inv["unit"] == self.name).any():
            return inv[inv["unit"] == self.name]
        return inv

    def year_classification(self, year: int) -> Classification | None:
        """The classification in force in ``year``'s inventory when it is not the dataset's own (manifest
        ``[dataset] classification_by_year``), else ``None``. Loaded once, by :func:`load_dataset`."""
        return self.year_classes.get(int(year))

    def number_format(self, key: str | None = None) -> str:
        """The number format (vi | en | auto) in force for the manifest file ``key`` (None: the dataset):
        the ``--number-format`` option, else ``[files.<key>] number_format``, else ``[dataset] number_format``,
        else ``auto``. Pass it to :func:`~landuse.readers.tables.to_numbers`,
        which decides ``auto`` from the file's cells."""
        if self.number_format_option:
            return self.number_format_option
        spec = self.manifest.get("files", {}).get(key, {}) if key else {}
        return str(spec.get("number_format") or self.manifest.get("dataset", {}).get("number_format", "auto"))

    def extra_numbers(self, key: str, columns: list[str], strict: bool = True) -> pd.DataFrame:
        """``extras[key]`` with ``columns`` parsed as numbers in the file's effective :meth:`number_format`
        (blank = NaN); with ``strict`` a non-numeric cell raises :class:`NonNumericError` at its row/column."""
        return to_numbers(self.extras[key], columns, self.number_format(key), self.file(key), strict=strict)

    def file(self, key: str) -> Path | None:
        entry = self.manifest.get("files", {}).get(key)
        return self.root / entry["path"] if entry else None


def _column_specs(tid: str, spec: dict, path: Path) -> list[ColumnSpec]:
    cols = []
    for i, c in enumerate(spec.get("columns", [])):
        kind = c.get("kind", "value")
        if kind not in COLUMN_KINDS:
            raise ConfigError(f"table {tid}: column {c.get('id')!r} has unknown kind",
                              Location.of(path, column=f"tables.{tid}.columns[{i}].kind"),
                              expected=" | ".join(COLUMN_KINDS), found=kind)
        cols.append(ColumnSpec(c["id"], c.get("number", c["id"]), c.get("label", c["id"]), kind,
                               c.get("quantity"), c.get("year"), c.get("plan"), tuple(c.get("operands", ()))))
    ids = {c.id for c in cols}
    for c in cols:
        for op in c.operands:
            if op not in ids:
                raise ConfigError(f"table {tid}: column {c.id} refers to unknown column {op!r}",
                                  Location.of(path, column=f"tables.{tid}.columns"))
    return cols


def cells_of(raw: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """The cells of a wide table, one row each, column by column: ``keys`` repeated, ``column`` (its id) and
    ``printed`` (its text) — what ``raw.melt(id_vars=keys, value_vars=columns, var_name="column",
    value_name="printed")`` gives (a test compares them), without melt's cost on tables this small (≈ 2.5 ms
    against 0.7 ms a table)."""
    if not columns:  # nothing to stack: pandas' own answer (its column types)
        return raw.melt(id_vars=keys, value_vars=columns, var_name="column", value_name="printed")
    n = len(raw)
    out = raw[keys].take(np.tile(np.arange(n), len(columns))).reset_index(drop=True)
    out["column"] = raw.columns[raw.columns.get_indexer(columns)].repeat(n)  # typed as the file's headers
    out["printed"] = pd.concat([raw[c] for c in columns], ignore_index=True)
    out.columns = pd.Index([*keys, "column", "printed"])  # labels typed as melt types them
    return out


def load_published_table(root: Path, tid: str, spec: dict, fmt: str, manifest_path: Path,
                         skipped: list[str] | None = None) -> PublishedTable:
    """Read one published table (wide, as printed) and melt it to long cells.

    Printed cells that are not numbers do not raise: they get ``value`` NaN and ``bad`` True, so the
    reconciliation reports them as findings. When ``skipped`` is a list, value columns missing from the file
    (and the derived columns computed from them) are left out and named in it instead of raising.
    """
    path = root / spec["path"]
    columns = _column_specs(tid, spec, manifest_path)
    raw = read_table(path)
    if skipped is not None:
        gone = {c.id for c in columns if c.id not in raw.columns}
        for c in columns:  # columns are in printed order; operands come first
            if c.id not in gone and any(o in gone for o in c.operands):
                gone.add(c.id)
        for c in columns:
            if c.id in gone:
                why = "not in the file" if c.id not in raw.columns else "an operand is missing"
                skipped.append(f"table {tid}: column {c.number} ({c.id}) {why}")
        columns = [c for c in columns if c.id not in gone]
    require_columns(raw, TABLE_BASE_COLUMNS + [c.id for c in columns], path)
    raw["code"] = raw["code"].str.strip().str.upper()
    if "code_printed" not in raw:
        raw["code_printed"] = raw["code"] if spec.get("code_printed", True) else ""
    long = cells_of(raw, TABLE_BASE_COLUMNS + [ROW], [c.id for c in columns])
    fmt = resolve_number_format(long["printed"], spec.get("number_format", fmt), Location.of(path), long[ROW],
                                "value cells")
    values, bad = parse_numbers(long["printed"], fmt)
    long["value"] = values
    long["bad"] = bad
    stripped = long["printed"].str.strip()
    long["blank"] = stripped.eq("")
    long["dash"] = stripped.isin(["-", "–", "—"])
    meta = pd.DataFrame([{"column": c.id, "number": c.number, "kind": c.kind, "quantity": c.quantity,
                          "year": c.year, "plan": c.plan} for c in columns])
    long = long.merge(meta, on="column", how="left")
    long.insert(0, "table", tid)
    return PublishedTable(tid, spec.get("title", tid), path, str(spec.get("pages", "")), str(spec.get("lines", "")),
                          bool(spec.get("code_printed", True)), columns, raw, long)


def _expect(cond: bool, mpath: Path, key: str, expected: str, found: object = None) -> None:
    if not cond:
        raise ConfigError("invalid manifest entry", Location.of(mpath, column=key), expected=expected, found=found)


def validate_manifest(manifest: dict, mpath: Path) -> None:
    """Check the manifest's structure and types once, so later code may index it safely.

    Raises :class:`ConfigError` naming the key (e.g. ``tables.bang4.path``) and what was expected.
    """
    from landuse.manifest import check_manifest_keys
    from landuse.readers.tables import NUMBER_FORMATS

    meta = manifest.get("dataset", {})
    _expect(isinstance(meta, dict), mpath, "dataset", "a [dataset] table")
    if "number_format" in meta:
        _expect(meta["number_format"] in NUMBER_FORMATS, mpath, "dataset.number_format",
                " | ".join(NUMBER_FORMATS), meta["number_format"])
    for key in ("name", "classification"):
        if key in meta:
            _expect(isinstance(meta[key], str) and meta[key].strip() != "", mpath, f"dataset.{key}", "a text",
                    meta[key])
    if "years" in meta:
        years = meta["years"]
        _expect(isinstance(years, list) and all(isinstance(y, int) for y in years), mpath, "dataset.years",
                "a list of whole years such as [2019, 2024]", years)
    by_year = meta.get("classification_by_year", {})
    _expect(isinstance(by_year, dict) and all(str(k).isdigit() and isinstance(v, str) for k, v in by_year.items()),
            mpath, "dataset.classification_by_year", 'a table of year = "classification id"', by_year)
    _validate_entries(manifest, mpath)
    check_manifest_keys(manifest, mpath)


def _validate_entries(manifest: dict, mpath: Path) -> None:
    """[files.*], [tables.*] and [plans.*]: each a table; paths, years and column ids of the right type."""
    for section in ("files", "tables", "plans"):
        entries = manifest.get(section, {})
        _expect(isinstance(entries, dict), mpath, section, f"[{section}.<id>] tables")
        for eid, spec in entries.items():
            where = f"{section}.{eid}"
            _expect(isinstance(spec, dict), mpath, where, "a table of keys", spec)
            if section in ("files", "tables"):
                _expect(isinstance(spec.get("path"), str) and spec["path"] != "", mpath, f"{where}.path",
                        "a file path relative to the dataset folder", spec.get("path"))
            for ykey in ("year", "base_year", "start_year", "target_year", "from_year", "to_year"):
                if ykey in spec:
                    _expect(isinstance(spec[ykey], int), mpath, f"{where}.{ykey}", "a whole year", spec[ykey])
            if section == "tables":
                cols = spec.get("columns", [])
                _expect(isinstance(cols, list) and all(isinstance(c, dict) for c in cols), mpath,
                        f"{where}.columns", "a list of column tables { id = ..., kind = ... }")
                for i, c in enumerate(cols):
                    _expect(isinstance(c.get("id"), str) and c["id"] != "", mpath, f"{where}.columns[{i}].id",
                            "a column name of the CSV such as \"c4\"", c.get("id"))
                    if "year" in c:
                        _expect(isinstance(c["year"], int), mpath, f"{where}.columns[{i}].year", "a whole year",
                                c["year"])


def _year_classifications(by_year: dict, own: Classification, cdir: Path | None,
                          mpath: Path) -> dict[int, Classification]:
    """The classification of each year that names one other than the dataset's own (each file loaded once)."""
    loaded: dict[str, Classification] = {own.id: own}
    out: dict[int, Classification] = {}
    for year, cid in by_year.items():
        if cid not in loaded:
            try:
                loaded[cid] = load_classification(cid, cdir)
            except InputError as e:
                raise ConfigError(f"classification {cid!r} of year {year} cannot be loaded ({e})",
                                  Location.of(mpath, column="dataset.classification_by_year")) from None
        if cid != own.id:
            out[int(year)] = loaded[cid]
    return out


def load_dataset(path: Path | str | None = None, tables: bool = True, number_format: str | None = None) -> Dataset:
    """Load the dataset folder at ``path`` (default: the bundled Lạng Sơn dataset).

    ``number_format`` (vi | en | auto) overrides the manifest's ``number_format`` for every file.

    Raises :class:`InputError` subclasses for unreadable or invalid files, naming file/row/column. Optional
    files named in the manifest but absent are listed in ``Dataset.skipped``.
    """
    root = Path(path) if path else DEFAULT_DATASET
    if not root.is_dir():
        raise InputError("dataset folder not found", Location.of(root), expected="a folder with manifest.toml")
    mpath = root / "manifest.toml"
    if not mpath.exists():
        raise ConfigError("no manifest.toml in the dataset folder", Location.of(mpath),
                          expected="a manifest (see data/README.md)")
    manifest = load_toml(mpath)
    validate_manifest(manifest, mpath)
    meta = manifest.get("dataset", {})
    fmt = number_format or meta.get("number_format", "auto")
    cdir = root / "classification" if (root / "classification").is_dir() else None
    classification = load_classification(meta.get("classification", DEFAULT_CLASSIFICATION), cdir)
    year_classes = _year_classifications(meta.get("classification_by_year", {}), classification, cdir, mpath)
    inv_spec = manifest.get("files", {}).get("inventory")
    if not inv_spec:
        raise ConfigError("the manifest names no inventory", Location.of(mpath, column="files.inventory"),
                          expected="[files.inventory] path = \"inventory.csv\"")
    from landuse.readers.forms import read_inventory

    inventory = read_inventory(root / inv_spec["path"], inv_spec, classification,
                               number_format or inv_spec.get("number_format", fmt),
                               default_unit=meta.get("name"), manifest=mpath)
    ds = Dataset(root, manifest, classification, inventory, number_format_option=number_format,
                 year_classes=year_classes)
    if tables:
        for tid, spec in manifest.get("tables", {}).items():
            if not (root / spec["path"]).exists():
                ds.skipped.append(f"table {tid}: file {spec['path']} not found")
                continue
            ds.tables[tid] = load_published_table(root, tid, spec, fmt, mpath, ds.skipped)
            codes = ds.tables[tid].raw["code"]
            classification.check_codes(codes[codes != ""], Location.of(root / spec["path"]),
                                       ds.tables[tid].raw.loc[codes != "", ROW])
        for key, spec in manifest.get("files", {}).items():
            if key == "inventory":
                continue
            p = root / spec["path"]
            if p.exists():
                ds.extras[key] = read_table(p)
            else:
                ds.skipped.append(f"file {key}: {spec['path']} not found")
    return ds


def summary(ds: Dataset, codes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Total and group areas (ha) per unit and year: one row per (unit, year), columns = codes.

    Default codes: the root and its direct parts (e.g. TS, NNP, PNN, CSD). Values as given in the inventory;
    where the inventory lacks a parent, it is computed from its leaves (column ``computed`` lists them).
    """
    cls = ds.classification
    codes = codes or tuple([cls.root] + cls.parts(cls.root))
    inv = ds.inventory
    given = inv[inv["code"].isin(codes)].pivot_table(index=["unit", "year"], columns="code", values=VALUE,
                                                     aggfunc="sum")
    rolled = cls.rollup(inv, ["unit", "year"])
    rolled = rolled[rolled["code"].isin(codes)].pivot_table(index=["unit", "year"], columns="code", values=VALUE)
    given = given.reindex(index=rolled.index, columns=list(codes))
    out = given.fillna(rolled.reindex(columns=list(codes)))
    out["computed"] = [",".join(c for c in codes if np.isnan(given.at[i, c])) for i in out.index]
    return out.reset_index()
