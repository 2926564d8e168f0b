"""The land classification tree, its derived aggregates, and crosswalks between classifications.

A classification is read from ``data/classification/<id>.csv`` (columns ``code, parent, relation, level,
stt, name_vi, name_en, group``). ``relation`` says how a row relates to its parent:

* ``root``     – the total natural area (one row);
* ``part``     – the rows sharing a parent **partition** it (parent = sum of its parts);
* ``of-which`` – a "Trong đó" subset of its parent (0 ≤ row ≤ parent), never added to its siblings.

Derived aggregates (``aggregates.csv``: e.g. forestry land = RDD + RPH + RSX) are sums of tree codes that are
not rows of the tree. All areas are in ha.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.errors import CrosswalkError, InputError, Location, MissingParentError, UnknownCodeError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CLASSIFICATION_DIR = DATA_DIR / "classification"

ROOT, PART, OF_WHICH = "root", "part", "of-which"
RELATIONS = (ROOT, PART, OF_WHICH)
TREE_COLUMNS = ["code", "parent", "relation", "level", "stt", "name_vi", "name_en", "group"]


def _read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    from landuse.readers.tables import decode_text  # local import: io imports this module

    text = decode_text(path)
    reader = csv.DictReader(text.splitlines())
    rows = [{k: (v or "").strip() for k, v in r.items() if k is not None} for r in reader]
    return list(reader.fieldnames or []), rows


@dataclass(frozen=True)
class _Tree:
    """The classification table as plain lookups (code → parent, relation, depth, names; parent → rows under
    it in display order), built once: the tree is queried thousands of times per run and a boolean scan of
    the table per query dominated ``landuse run``."""

    codes: tuple[str, ...]
    root: str
    parent: dict[str, str]
    relation: dict[str, str]
    depth: dict[str, int]
    group: dict[str, str]
    name_vi: dict[str, str]
    name_en: dict[str, str]
    children: dict[str, tuple[str, ...]]
    parts: dict[str, tuple[str, ...]]
    of_which: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, table: pd.DataFrame) -> _Tree:
        codes = tuple(str(c) for c in table.index)

        def column(name: str, conv=str) -> dict[str, object]:
            return dict(zip(codes, map(conv, table[name].tolist()), strict=True))

        parent, relation = column("parent"), column("relation")
        under: dict[str, dict[str, list[str]]] = {"all": {}, PART: {}, OF_WHICH: {}}
        for c in codes:
            for kind in ("all", relation[c]):
                if kind in under:
                    under[kind].setdefault(parent[c], []).append(c)

        def frozen(d: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
            return {k: tuple(v) for k, v in d.items()}

        root = next(c for c in codes if relation[c] == ROOT)  # the loader checks there is exactly one
        return cls(codes, root, parent, relation, column("level", int), column("group"),
                   column("name_vi"), column("name_en"), frozen(under["all"]), frozen(under[PART]),
                   frozen(under[OF_WHICH]))


@dataclass(frozen=True)
class Classification:
    """A land-code tree plus derived aggregates.

    ``table`` is indexed by code in display order, with columns of :data:`TREE_COLUMNS` (minus ``code``);
    ``aggregates`` maps an aggregate code to the tree codes it sums.
    """

    id: str
    table: pd.DataFrame
    aggregates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    aggregate_names: dict[str, tuple[str, str]] = field(default_factory=dict)

    # ---- structure (precomputed once from ``table``, which is never modified after loading) ---------------
    @cached_property
    def _tree(self) -> _Tree:
        return _Tree.of(self.table)

    @property
    def codes(self) -> list[str]:
        """Tree codes in display order."""
        return list(self._tree.codes)

    @property
    def root(self) -> str:
        return self._tree.root

    def __contains__(self, code: object) -> bool:
        return code in self._tree.relation or code in self.aggregates

    def parent(self, code: str) -> str | None:
        return self._tree.parent[code] or None

    def relation(self, code: str) -> str:
        return self._tree.relation[code]

    def parts(self, code: str) -> list[str]:
        """The rows that partition ``code`` (its sum rule); empty for a leaf."""
        return list(self._tree.parts.get(code, ()))

    def of_which(self, code: str) -> list[str]:
        return list(self._tree.of_which.get(code, ()))

    @cached_property
    def leaves(self) -> list[str]:
        """Codes that are ``part`` rows with no parts of their own (the additive base of the tree)."""
        t = self._tree
        return [c for c in t.codes if t.relation[c] == PART and c not in t.parts]

    def depth(self, code: str) -> int:
        return self._tree.depth[code]

    def ancestors(self, code: str) -> list[str]:
        out, p = [], self.parent(code)
        while p:
            out.append(p)
            p = self.parent(p)
        return out

    def group(self, code: str) -> str:
        return self._tree.group.get(code, "")

    def name(self, code: str, lang: str = "vi") -> str:
        names = self._tree.name_vi if lang == "vi" else self._tree.name_en
        if code in names:
            return names[code]
        if code in self.aggregate_names:
            vi, en = self.aggregate_names[code]
            return vi if lang == "vi" else en
        raise UnknownCodeError(f"unknown land code {code!r} in classification {self.id}")

    def parent_codes(self) -> list[str]:
        """Codes that have parts (their value is a sum rule)."""
        return [c for c in self._tree.codes if c in self._tree.parts]

    def leaves_of(self, code: str) -> list[str]:
        """The leaves whose sum is ``code`` (tree code, aggregate, or of-which row: itself)."""
        if code in self.aggregates:
            out: list[str] = []
            for m in self.aggregates[code]:
                out.extend(self.leaves_of(m))
            return out
        if code not in self.table.index:
            raise UnknownCodeError(f"unknown land code {code!r} in classification {self.id}")
        if self.relation(code) == OF_WHICH or code in self.leaves:
            return [code]
        out = []
        for c in self.parts(code):
            out.extend(self.leaves_of(c))
        return out

    @cached_property
    def membership(self) -> pd.DataFrame:
        """0/1 matrix (rows: every tree code and aggregate; columns: leaves and of-which codes).

        ``membership @ leaf_values`` gives every code's area from the leaf areas.
        """
        t = self.table
        parent, relation = dict(zip(t.index, t["parent"], strict=True)), dict(zip(t.index, t["relation"], strict=True))
        cols = self.leaves + [c for c in t.index if relation[c] == OF_WHICH]
        rows = self.codes + list(self.aggregates)
        pos, rpos = {c: i for i, c in enumerate(cols)}, {c: i for i, c in enumerate(rows)}
        m = np.zeros((len(rows), len(cols)), dtype=np.int8)
        for leaf in self.leaves:  # a leaf counts in itself and in every code up its chain of part rows
            c = leaf
            while c and relation[c] != OF_WHICH:
                m[rpos[c], pos[leaf]] = 1
                c = parent[c] if relation[c] == PART else None
        for c in cols[len(self.leaves):]:  # an of-which row counts only in itself (and in aggregates)
            m[rpos[c], pos[c]] = 1

        def agg_row(code: str) -> np.ndarray:
            return np.max([agg_row(x) if x in self.aggregates else m[rpos[x]] for x in self.aggregates[code]], axis=0)

        for a in self.aggregates:
            m[rpos[a]] = agg_row(a)
        return pd.DataFrame(m, index=rows, columns=cols)

    def check_codes(self, codes: pd.Series, location: Location | None = None,
                    rows: pd.Series | None = None, column: str = "code") -> None:
        """Raise :class:`UnknownCodeError` at the first code not in this classification."""
        known = set(self.table.index) | set(self.aggregates)
        bad = ~codes.isin(known)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            row = int(rows.iloc[i]) if rows is not None else None
            loc = Location(location.file if location else None, row=row, column=column)
            code = codes.iloc[i]
            raise UnknownCodeError(f"unknown land code {code!r} (classification {self.id})"
                                   + _nearest_hint(str(code), known), loc)

    def rollup(self, long: pd.DataFrame, keys: list[str], value: str = "area_ha",
               include_aggregates: bool = False) -> pd.DataFrame:
        """Compute every tree code (and optionally aggregate) from leaf and of-which values.

        ``long`` holds one row per (keys…, code); only leaf and of-which codes are used. A parent is the sum
        of its leaves; it is missing (NaN) only when all its leaves are missing. Returns a long table with
        ``keys + ["code", value]`` in display order.
        """
        m = self.membership
        base = long[long["code"].isin(m.columns)]
        if keys:
            wide = base.groupby(keys + ["code"], sort=False, dropna=False)[value].sum(min_count=1).unstack("code")
        else:
            wide = base.groupby("code")[value].sum(min_count=1).to_frame().T
        wide = wide.reindex(columns=m.columns)
        vals = wide.to_numpy(dtype=float)
        present = ~np.isnan(vals)
        mm = m.to_numpy(dtype=float)
        sums = np.nan_to_num(vals) @ mm.T
        counts = present.astype(float) @ mm.T
        sums[counts == 0] = np.nan
        rows = list(m.index) if include_aggregates else self.codes
        out = pd.DataFrame(sums, index=wide.index, columns=pd.Index(list(m.index), name="code"))[rows]
        if not keys:
            return pd.DataFrame({"code": rows, value: out.iloc[0].to_numpy()})
        return out.stack(future_stack=True).rename(value).reset_index()


    def complete(self, long: pd.DataFrame, value: str = "area_ha", include_aggregates: bool = False) -> pd.Series:
        """Area by code (display order) for one unit and year: the value given in ``long`` where present,
        else the sum of its leaves; NaN only when nothing below it is given (as :meth:`rollup`, for one row)."""
        given = long.groupby("code", sort=False)[value].sum(min_count=1)
        m = self.membership
        leaf = given.reindex(m.columns).to_numpy(dtype=float)
        mm = self._membership_floats
        sums = np.nan_to_num(leaf) @ mm.T
        sums[(~np.isnan(leaf)).astype(float) @ mm.T == 0] = np.nan
        rows = list(m.index) if include_aggregates else self.codes
        rolled = pd.Series(sums, index=pd.Index(list(m.index), name="code"), name=value).reindex(rows)
        return given.reindex(rolled.index).fillna(rolled)

    @cached_property
    def _membership_floats(self) -> np.ndarray:
        return self.membership.to_numpy(dtype=float)


def _nearest_hint(code: str, known: set[str]) -> str:
    import difflib

    near = difflib.get_close_matches(code.upper(), sorted(known), n=1, cutoff=0.5)
    return f"; did you mean {near[0]!r}?" if near else ""


def load_classification(cid: str = "vn2024", directory: Path | None = None) -> Classification:
    """Load classification ``cid`` from ``<directory>/<cid>.csv`` (default: the bundled ``data/classification``).

    Validates that every parent exists, relations are known, exactly one root exists and codes are unique.
    """
    directory = Path(directory) if directory else CLASSIFICATION_DIR
    path = directory / f"{cid}.csv"
    if not path.exists():
        raise InputError(f"classification {cid!r} not found", Location.of(path),
                         expected=f"a file {path.name} in {directory}")
    fields, rows = _read_csv_rows(path)
    missing = [c for c in TREE_COLUMNS if c not in fields]
    if missing:
        from landuse.errors import MissingColumnError

        raise MissingColumnError(f"missing column {missing[0]!r}", Location.of(path, row=1),
                                 expected="columns " + ", ".join(TREE_COLUMNS))
    seen: dict[str, int] = {}
    for i, r in enumerate(rows, start=2):
        loc = Location.of(path, row=i)
        if not r["code"]:
            raise InputError("empty land code", Location.of(path, row=i, column="code"))
        if r["code"] in seen:
            from landuse.errors import DuplicateKeyError

            raise DuplicateKeyError(f"code {r['code']!r} defined twice (first at row {seen[r['code']]})",
                                    Location.of(path, row=i, column="code"))
        seen[r["code"]] = i
        if r["relation"] not in RELATIONS:
            raise InputError("unknown relation", Location.of(path, row=i, column="relation"),
                             expected=" | ".join(RELATIONS), found=r["relation"])
        if r["relation"] != ROOT and not r["parent"]:
            raise MissingParentError(f"code {r['code']!r} has no parent", loc)
    for i, r in enumerate(rows, start=2):
        if r["parent"] and r["parent"] not in seen:
            raise MissingParentError(f"parent {r['parent']!r} of code {r['code']!r} is not in the classification",
                                     Location.of(path, row=i, column="parent"))
    roots = [r["code"] for r in rows if r["relation"] == ROOT]
    if len(roots) != 1:
        raise InputError("a classification needs exactly one root row", Location.of(path, column="relation"),
                         expected="1 row with relation 'root'", found=len(roots))
    _check_tree(rows, path)
    table = pd.DataFrame(rows, columns=fields).set_index("code")
    table["level"] = pd.to_numeric(table["level"], errors="coerce").fillna(0).astype(int)
    aggregates, names = _load_aggregates(directory / "aggregates.csv", cid, set(table.index))
    return Classification(cid, table, aggregates, names)


def _check_tree(rows: list[dict[str, str]], path: Path) -> None:
    """Every code reaches the root by its parents: refuse a code that is its own parent, a root with a
    parent, and a cycle of parents (``A -> B -> A``), naming the file row. Rows are 2, 3, … (header 1)."""
    row_of = {r["code"]: i for i, r in enumerate(rows, start=2)}
    parent = {r["code"]: r["parent"] for r in rows}
    for r in rows:
        if r["parent"] == r["code"]:
            raise InputError(f"code {r['code']!r} is its own parent", Location.of(path, row=row_of[r["code"]],
                             column="parent"), expected="the code of the row it belongs to", found=r["parent"])
        if r["relation"] == ROOT and r["parent"]:
            raise InputError(f"the root {r['code']!r} has a parent", Location.of(path, row=row_of[r["code"]],
                             column="parent"), expected="an empty parent", found=r["parent"])
    done: set[str] = set()  # codes known to reach the root
    for start in parent:
        chain: list[str] = []
        c = start
        while c and c not in done:
            if c in chain:
                loop = chain[chain.index(c):] + [c]
                raise InputError("cycle in the parents: " + " -> ".join(loop),
                                 Location.of(path, row=row_of[c], column="parent"),
                                 expected="a tree: every code reaches the root by its parents", found=parent[c])
            chain.append(c)
            c = parent[c]
        done.update(chain)


def _load_aggregates(path: Path, cid: str, codes: set[str]) -> tuple[dict, dict]:
    if not path.exists():
        return {}, {}
    _, rows = _read_csv_rows(path)
    aggs, names = {}, {}
    for i, r in enumerate(rows, start=2):
        if r.get("system", cid) != cid:
            continue
        members = tuple(r["members"].split())
        for m in members:
            if m not in codes:
                raise UnknownCodeError(f"aggregate {r['code']!r} names unknown code {m!r}",
                                       Location.of(path, row=i, column="members"))
        aggs[r["code"]] = members
        names[r["code"]] = (r.get("name_vi", ""), r.get("name_en", ""))
    return aggs, names


# ---- crosswalk ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Crosswalk:
    """Rules converting codes of ``source`` to codes of ``target``.

    ``rules`` has columns ``from_code, to_code, type, status, note``; ``type`` is ``1:1``, ``n:1`` (merge)
    or ``1:n`` (split: the areas need shares, given by the user, summing to 1 per source code).
    """

    source: Classification
    target: Classification
    rules: pd.DataFrame

    def splits(self) -> dict[str, list[str]]:
        r = self.rules[self.rules["type"] == "1:n"]
        return {k: list(v) for k, v in r.groupby("from_code", sort=False)["to_code"]}

    def convert(self, long: pd.DataFrame, shares: dict[tuple[str, str], float] | None = None,
                keys: tuple[str, ...] = ("unit", "year"), value: str = "area_ha",
                location: Location | None = None) -> pd.DataFrame:
        """Convert a long inventory from source codes to target codes; returns target tree codes, rolled up.

        Source parents (sum rows such as SXN, CDG) are dropped and recomputed in the target tree. A split
        (1:n) needs ``shares[(from, to)]`` for every target, summing to 1 (±1e-6). Unknown codes, codes with
        no rule and splits without shares raise :class:`CrosswalkError` naming the code and its row.
        """
        shares = dict(shares or {})
        src = self.source
        rows = long.get("_row")
        src.check_codes(long["code"], location, rows)
        ruled = set(self.rules["from_code"])
        parents = set(src.parent_codes()) | set(src.aggregates) | {src.root}
        keep = long["code"].isin(ruled)
        dropped = long[~keep & ~long["code"].isin(parents)]
        if len(dropped):
            code = dropped["code"].iloc[0]
            row = int(dropped["_row"].iloc[0]) if "_row" in dropped else None
            raise CrosswalkError(f"code {code!r} has no rule in the crosswalk {src.id} -> {self.target.id}",
                                 Location(location.file if location else None, row=row, column="code"))
        rules = self.rules[["from_code", "to_code", "type"]].copy()
        rules["share"] = 1.0
        split = rules["type"] == "1:n"
        for fc, targets in self.splits().items():
            if not long.loc[keep, "code"].eq(fc).any():
                continue
            given = {t: shares.get((fc, t)) for t in targets}
            if any(v is None for v in given.values()):
                need = ", ".join(f"{fc}->{t}" for t, v in given.items() if v is None)
                raise CrosswalkError(f"code {fc!r} splits into {', '.join(targets)}; shares are needed for {need}",
                                     location)
            if abs(sum(given.values()) - 1) > 1e-6 or min(given.values()) < 0:
                raise CrosswalkError(f"shares of {fc!r} must be ≥ 0 and sum to 1", location,
                                     found=round(sum(given.values()), 6))
            for t, v in given.items():
                rules.loc[split & (rules["from_code"] == fc) & (rules["to_code"] == t), "share"] = v
        merged = long[keep].merge(rules, left_on="code", right_on="from_code")
        merged[value] = merged[value] * merged["share"]
        keys = [k for k in keys if k in long.columns]
        out = merged.groupby(keys + ["to_code"], sort=False, dropna=False)[value].sum(min_count=1).reset_index()
        out = out.rename(columns={"to_code": "code"})
        return self.target.rollup(out, keys, value)


def load_crosswalk(source: str = "vn2013", target: str = "vn2024", directory: Path | None = None) -> Crosswalk:
    directory = Path(directory) if directory else CLASSIFICATION_DIR
    path = directory / f"crosswalk_{source}_{target}.csv"
    src, tgt = load_classification(source, directory), load_classification(target, directory)
    _, rows = _read_csv_rows(path)
    for i, r in enumerate(rows, start=2):
        for col, cls in (("from_code", src), ("to_code", tgt)):
            if r[col] not in cls.table.index:
                raise UnknownCodeError(f"{col} {r[col]!r} is not in classification {cls.id}",
                                       Location.of(path, row=i, column=col))
        if r["type"] not in ("1:1", "n:1", "1:n"):
            raise InputError("unknown rule type", Location.of(path, row=i, column="type"),
                             expected="1:1 | n:1 | 1:n", found=r["type"])
    return Crosswalk(src, tgt, pd.DataFrame(rows))
