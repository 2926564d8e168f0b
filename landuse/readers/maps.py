"""Two land-use maps (vector layers or rasters) → plot records, the table :func:`landuse.readers.plots.read_plots`
produces, so that the matrix, components, intensity, asset account, ``--by-unit`` and the workbook work on maps
exactly as on a plot file.

What a map must contain
-----------------------
* **Vector** (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, anything GDAL reads): one layer of polygons (name it
  when the file has several), a text field with the land code of each polygon (``code_field``; every code a land
  type of the classification), optionally a unit field (commune), and a CRS. Both maps in the same CRS.
* **Raster** (GeoTIFF, anything GDAL reads): band 1 of integer pixel values, a CRS, and a legend CSV with
  columns ``value, code`` (pixel value → land code). Both rasters on the same grid (CRS, pixel size, extent).
  Pixels equal to the raster's nodata value are outside the map.
* Areas are in ha, from a **projected** CRS (VN-2000 / TM-3 or UTM zones, EPSG:3405, 9210, …; the CRS's linear
  unit is honoured). A geographic CRS (degrees) is refused unless ``geodesic=True``: areas are then geodesic,
  on the CRS's ellipsoid (:class:`pyproj.Geod`).

Vector overlay: both layers read with :func:`pyogrio.raw.read` (WKB → shapely 2 arrays), candidate pairs from a
:class:`shapely.STRtree` bulk query on bounding boxes, the areas of the pairwise intersections computed by
:mod:`landuse.readers.polygon_area` (vectorised numpy; GEOS intersections only when the pieces' polygons are
needed: a change map or geodesic areas), pieces that only touch dropped.

Raster overlay: both rasters read in strips of rows (``block_pixels`` at a time, so memory is bounded by the
strip, not the map), pixel values → legend index with a lookup table, pixel counts per (from, to) pair by
:func:`numpy.bincount`.

Map checks: problems that make the input unreadable or ambiguous raise :class:`~landuse.errors.InputError`
naming the file, layer, feature id and field (different CRS or grid, geographic CRS, unknown codes, missing
field, non-polygon geometry); problems that leave a matrix but make it disagree with the maps are findings
(the schema of :func:`landuse.reconcile.base.findings`): invalid geometries (repaired with
:func:`shapely.make_valid`; the finding gives the area before and after), gaps and overlaps inside one map (their
area), different extents, and the overlay's area against each map's area.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.errors import EmptyFileError, InputError, Location, MissingColumnError, UnknownCodeError
from landuse.readers.tables import VALUE

M2_PER_HA = 10_000.0
TOLERANCE_HA = 0.01  # findings above this area (ha) are errors, below it rounding
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".asc")
BLOCK_PIXELS = 1 << 21  # pixels per strip read from each raster (bounds memory)
MIN_PIECE = 1e-6  # CRS units² (1 mm² in metres): overlaps below this are pairs that only touch (rounding)


@dataclass(frozen=True)
class MapSpec:
    """One map to read: ``path``; for a vector map the ``code_field`` (land code), the ``layer`` (when the file
    has several) and an optional ``unit_field``."""

    path: Path
    code_field: str | None = None
    layer: str | None = None
    unit_field: str | None = None

    @property
    def is_raster(self) -> bool:
        return Path(self.path).suffix.lower() in RASTER_SUFFIXES


@dataclass
class MapOverlay:
    """The overlay of two maps.

    ``plots``: ``plot_id, [unit,] code_from, code_to, area_ha`` (ha) — one row per piece of the overlay (vector:
    the intersection of feature ``fid_from`` of the first map with ``fid_to`` of the second; raster: one row per
    from→to pair, with its ``pixels``). ``findings``: the map checks. ``area_from``/``area_to``: area of each
    map (ha; after repairs, overlaps counted once); ``area_overlay`` = ``plots.area_ha.sum()``.
    ``geometry``: the pieces' shapely polygons (vector only; for a change map). ``rasters``: the two rasters and
    the legend (raster only; for a change map).
    """

    plots: pd.DataFrame
    findings: pd.DataFrame
    crs: str
    kind: str
    area_from: float
    area_to: float
    geometry: np.ndarray | None = field(default=None, repr=False)
    rasters: tuple[Path, Path, Path] | None = None

    @property
    def area_overlay(self) -> float:
        return float(self.plots[VALUE].sum())


def require_maps() -> None:
    """Raise a one-line :class:`InputError` when the optional ``landuse[maps]`` libraries are missing."""
    try:
        import pyogrio  # noqa: F401
        import pyproj  # noqa: F401
        import shapely  # noqa: F401
    except ImportError as e:
        raise InputError(f"reading maps needs the optional libraries ({e.name} is missing): "
                         "pip install 'landuse[maps]'") from None


# ---- shared: CRS, areas, codes, findings -----------------------------------------------------------------
def _crs(text, path: Path, geodesic: bool):
    """The map's :class:`pyproj.CRS` and the factor (m per CRS unit) of a projected CRS."""
    from pyproj import CRS

    if text is None or str(text).strip() == "":
        raise InputError("the map has no coordinate reference system", Location.of(path),
                         expected="a projected CRS (e.g. VN-2000 / TM-3, EPSG:9210)")
    crs = CRS.from_user_input(text)
    if crs.is_geographic:
        if not geodesic:
            raise InputError(f"the map's CRS {crs.name!r} is geographic (degrees): areas need a projected CRS",
                             Location.of(path), expected="a projected CRS such as VN-2000 (EPSG:3405, 9210), "
                             "or --geodesic for geodesic areas on the ellipsoid")
        return crs, None
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return crs, float(unit)


def _same_crs(a, b, pa: Path, pb: Path) -> None:
    if not a.equals(b, ignore_axis_order=True):
        raise InputError(f"the two maps have different coordinate systems: {a.name!r} ({a.to_string()}) and "
                         f"{b.name!r} ({b.to_string()})", Location.of(pb),
                         expected=f"the CRS of {pa.name} (reproject one map first, e.g. with ogr2ogr -t_srs)")


def _findings(**cols) -> pd.DataFrame:
    from landuse.reconcile.base import findings

    return findings(**cols)


def _no_findings() -> pd.DataFrame:
    from landuse.reconcile.base import empty_findings

    return empty_findings()


def _severity(area: np.ndarray | float) -> np.ndarray:
    """``error`` above :data:`TOLERANCE_HA`, ``rounding`` above 10⁻⁹ ha, else ``info`` (the areas agree)."""
    a = np.abs(np.asarray(area, dtype=float))
    return np.where(a > TOLERANCE_HA, "error", np.where(a > 1e-9, "rounding", "info"))


def _allowed_codes(classification) -> dict[str, int]:
    from landuse.transitions.change import level_lookup

    return level_lookup(classification, None)[0]


def _unknown_code(code: str, n: int, classification, loc: Location, what: str) -> UnknownCodeError:
    from landuse.classification import OF_WHICH, _nearest_hint

    more = f" ({n} {what} in all)" if n > 1 else ""
    if code in classification.table.index and classification.relation(code) == OF_WHICH:
        return UnknownCodeError(f"{code!r} is a 'Trong đó' (of-which) row, not a land type; use its parent "
                                f"{classification.parent(code)!r}{more}", loc)
    hint = _nearest_hint(code, set(_allowed_codes(classification)))
    return UnknownCodeError(f"unknown land code {code!r} (classification {classification.id}){more}{hint}", loc)


def coverage_findings(area_from: float, area_to: float, area_overlay: float, src_from: str,
                      src_to: str) -> pd.DataFrame:
    """``map-coverage``: the overlay's area against each map's area (ha; ``difference = overlay − map``). A
    difference is land of one map that the other does not cover (different extents, or gaps), which the
    matrix cannot place."""
    diff = np.array([area_overlay - area_from, area_overlay - area_to])
    return _findings(severity=_severity(diff), check="map-coverage", source=[src_from, src_to], row="",
                     column="area_ha", expected=[area_from, area_to], found=area_overlay, difference=diff,
                     message=[f"overlay area {area_overlay:,.4f} ha vs area of {s} {a:,.4f} ha"
                              for s, a in ((src_from, area_from), (src_to, area_to))])


# ---- vector maps ------------------------------------------------------------------------------------------
@dataclass
class Layer:
    """One vector map read and checked: feature ids, polygons (repaired), codes, units, CRS, areas (ha)."""

    source: str  # file[:layer], for findings
    fids: np.ndarray
    geoms: np.ndarray
    codes: np.ndarray
    units: np.ndarray | None
    crs: object
    factor: float | None  # m per CRS unit; None = geographic (geodesic areas)
    bounds: tuple[float, float, float, float]
    findings: pd.DataFrame


def _layer_name(path: Path, layer: str | None, option: str) -> str | None:
    import pyogrio

    try:
        layers = [str(x) for x in pyogrio.list_layers(path)[:, 0]]
    except Exception as e:  # noqa: BLE001 - GDAL cannot open it: bad input
        raise InputError(f"cannot read the map ({str(e).splitlines()[0]})", Location.of(path),
                         expected="a vector file GDAL reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf)") from None
    if layer is None:
        if len(layers) > 1:
            raise InputError(f"the file has {len(layers)} layers", Location.of(path),
                             expected=f"{option} one of " + ", ".join(layers))
        return layers[0] if layers else None
    if layer not in layers:
        raise InputError(f"no layer {layer!r}", Location.of(path), expected="one of " + ", ".join(layers))
    return layer


def areas_ha(geoms: np.ndarray, factor: float | None, crs=None) -> np.ndarray:
    """Area (ha) of each polygon: planar × (m per CRS unit)² / 10⁴, or geodesic on ``crs``'s ellipsoid when
    ``factor`` is ``None`` (a geographic CRS; one :class:`pyproj.Geod` call per polygon)."""
    import shapely

    if factor is not None:
        return shapely.area(geoms) * (factor * factor / M2_PER_HA)
    geod = crs.get_geod()
    return np.array([abs(geod.geometry_area_perimeter(g)[0]) if g is not None else 0.0 for g in geoms]) / M2_PER_HA


def _field_values(names: list[str], fields: list, name: str | None, path: Path, layer: str | None,
                  option: str) -> np.ndarray | None:
    if name is None:
        return None
    if name not in names:
        raise MissingColumnError(f"no field {name!r}", Location(str(path), sheet=layer, column=name),
                                 expected=f"{option}: one of " + ", ".join(names))
    return np.asarray(fields[names.index(name)], dtype=object)


def _check_codes(codes: np.ndarray, fids: np.ndarray, spec: MapSpec, layer: str | None, classification) -> np.ndarray:
    """Codes stripped and upper-cased; raises at the first blank or unknown code naming layer, feature id and
    field."""
    s = pd.Series(codes, dtype=object)
    blank = s.isna() | (s.astype(str).str.strip() == "")
    if blank.any():
        i = int(np.flatnonzero(blank.to_numpy())[0])
        raise InputError(f"feature id {fids[i]}: missing land code ({int(blank.sum())} features in all)",
                         Location(str(spec.path), sheet=layer, column=spec.code_field), expected="a land code")
    norm = s.astype(str).str.strip().str.upper()
    if classification is None:
        return norm.to_numpy(dtype=object)
    bad = ~norm.isin(list(_allowed_codes(classification)))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        code = norm.iloc[i]
        n = int((norm[bad] == code).sum())
        loc = Location(str(spec.path), sheet=f"{layer} feature id {fids[i]}" if layer else f"feature id {fids[i]}",
                       column=spec.code_field)
        raise _unknown_code(code, n, classification, loc, "features with this code")
    return norm.to_numpy(dtype=object)


def _repair(geoms: np.ndarray, fids: np.ndarray, factor, crs, source: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Invalid polygons repaired with :func:`shapely.make_valid` (structure method: polygonal result); one
    ``map-invalid-geometry`` finding per repaired feature (expected = area after repair, found = area before,
    ha; ``difference = before − after``)."""
    import shapely

    bad = np.flatnonzero(~shapely.is_valid(geoms))
    if not len(bad):
        return geoms, _no_findings()
    reasons = shapely.is_valid_reason(geoms[bad])
    before = areas_ha(geoms[bad], factor, crs)
    fixed = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    after = areas_ha(fixed, factor, crs)
    geoms = geoms.copy()
    geoms[bad] = fixed
    diff = before - after
    msg = [f"invalid polygon ({r}) repaired with make_valid: area {b:,.4f} → {a:,.4f} ha"
           for r, b, a in zip(reasons, before, after, strict=True)]
    return geoms, _findings(severity=_severity(diff), check="map-invalid-geometry", source=source,
                            row=[f"feature id {f}" for f in fids[bad]], column="geometry", expected=after,
                            found=before, difference=diff, message=msg)


def topology_findings(geoms: np.ndarray, fids: np.ndarray, factor, crs, source: str) -> pd.DataFrame:
    """``map-overlap`` and ``map-gap`` findings of one layer (areas in ha).

    The layer's union is first built as a coverage (:func:`shapely.coverage_union_all`, fast: it only drops
    shared edges); when that union is invalid or smaller than the sum of the polygons, the polygons overlap (or
    do not share vertices) and the union is recomputed with :func:`shapely.union_all`, and every overlapping pair
    found with an :class:`~shapely.STRtree` self-query gets a finding (its features and the area they share).
    Gaps are the holes of the union (land inside the map's outline that no polygon covers): one finding each,
    at the hole's representative point.
    """
    import shapely

    geoms = geoms[~shapely.is_empty(geoms)]
    total = float(areas_ha(geoms, factor, crs).sum())
    try:
        union = shapely.coverage_union_all(geoms)
        gap = abs(float(areas_ha(np.array([union]), factor, crs)[0]) - total)
        simple = shapely.is_valid(union) and gap <= 1e-9 * max(1.0, total)
    except shapely.errors.GEOSException:  # polygons not noded as a coverage (T-junctions, overlaps)
        simple = False
    rows = []
    if not simple:
        union = shapely.union_all(geoms)
        rows.append(_overlaps(geoms, fids, factor, crs, source))
    holes = np.array([shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors], dtype=object)
    if len(holes):
        area = areas_ha(holes, factor, crs)
        pts = shapely.get_coordinates(shapely.point_on_surface(holes))
        rows.append(_findings(severity=_severity(area), check="map-gap", source=source,
                              row=[f"near x={x:.2f} y={y:.2f}" for x, y in pts], column="geometry", expected=0.0,
                              found=area, difference=area,
                              message=[f"gap of {a:,.4f} ha inside the map: no polygon covers it" for a in area]))
    return pd.concat(rows, ignore_index=True) if rows else _no_findings()


def _overlaps(geoms: np.ndarray, fids: np.ndarray, factor, crs, source: str) -> pd.DataFrame:
    import shapely

    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    area = areas_ha(shapely.intersection(geoms[i], geoms[j]), factor, crs)
    pos = area > 0
    i, j, area = i[pos], j[pos], area[pos]
    return _findings(severity=_severity(area), check="map-overlap", source=source,
                     row=[f"feature ids {fids[a]} and {fids[b]}" for a, b in zip(i, j, strict=True)],
                     column="geometry", expected=0.0, found=area, difference=area,
                     message=[f"features {fids[a]} and {fids[b]} overlap on {x:,.4f} ha (counted in both)"
                              for a, b, x in zip(i, j, area, strict=True)])


def read_layer(spec: MapSpec, classification=None, geodesic: bool = False, option: str = "--layer-from",
               check_topology: bool = True) -> Layer:
    """Read one vector map: polygons (invalid ones repaired), codes checked against ``classification``, units,
    CRS; its findings (repairs, gaps, overlaps)."""
    import pyogrio.raw
    import shapely

    path = Path(spec.path)
    if not path.exists():
        raise InputError("file not found", Location.of(path))
    layer = _layer_name(path, spec.layer, option)
    info = pyogrio.read_info(path, layer=layer)
    names = [str(n) for n in info["fields"]]
    if spec.code_field is None:
        raise InputError("a vector map needs --code-field (the field holding the land code)", Location.of(path),
                         expected="one of " + ", ".join(names))
    if spec.code_field not in names:
        raise MissingColumnError(f"no field {spec.code_field!r}", Location(str(path), sheet=layer,
                                 column=spec.code_field), expected="--code-field: one of " + ", ".join(names))
    wanted = [n for n in (spec.code_field, spec.unit_field) if n is not None and n in names]
    meta, fids, wkb, fields = pyogrio.raw.read(path, layer=layer, columns=wanted, return_fids=True)
    fids = np.asarray(fids if fids is not None else np.arange(len(wkb)), dtype=np.int64)
    codes = _field_values(wanted, fields, spec.code_field, path, layer, "--code-field")
    if codes is None or not len(wkb):
        raise EmptyFileError("the map has no features", Location(str(path), sheet=layer),
                             expected="polygons with a land code")
    crs, factor = _crs(meta.get("crs"), path, geodesic)
    units = _field_values(wanted, fields, spec.unit_field, path, layer, "--unit-field") \
        if spec.unit_field in names else None
    geoms = shapely.from_wkb(wkb)
    kind = shapely.get_type_id(geoms)
    nonpoly = np.flatnonzero((kind != 3) & (kind != 6) & (kind != -1))
    if len(nonpoly):
        i = int(nonpoly[0])
        raise InputError(f"feature id {fids[i]} is a {shapely.get_type_id(geoms[i])} geometry, not a polygon",
                         Location(str(path), sheet=layer, column="geometry"),
                         expected="Polygon or MultiPolygon features", found=geoms[i].geom_type)
    codes = _check_codes(codes, fids, spec, layer, classification)
    source = f"{path.name}:{layer}" if layer else path.name
    geoms, repairs = _repair(geoms, fids, factor, crs, source)
    found = [repairs]
    if check_topology:
        found.append(topology_findings(geoms, fids, factor, crs, source))
    bounds = tuple(float(x) for x in shapely.total_bounds(geoms))
    return Layer(source, fids, geoms, codes, units, crs, factor, bounds,
                 pd.concat([f for f in found if len(f)], ignore_index=True) if any(len(f) for f in found)
                 else _no_findings())


def overlay_pieces(a: np.ndarray, b: np.ndarray, keep_geometry: bool = False):
    """Pairs ``(i, j)`` of polygons of ``a`` and ``b`` that overlap, the area of each overlap (CRS units²) and,
    with ``keep_geometry``, its polygon.

    Candidates from one :class:`shapely.STRtree` bulk query on bounding boxes. Areas by
    :func:`landuse.readers.polygon_area.intersection_areas` (vectorised numpy, no polygon built); with
    ``keep_geometry`` by :func:`shapely.intersection` (GEOS). Pairs that only touch (area below
    :data:`MIN_PIECE` units², i.e. rounding) are dropped.
    """
    import shapely

    from landuse.readers.polygon_area import intersection_areas

    i, j = shapely.STRtree(b).query(a)
    if keep_geometry:
        pieces = shapely.intersection(a[i], b[j])
        area = shapely.area(pieces)
    else:
        pieces, area = None, intersection_areas(a, b, i, j)
    keep = area > MIN_PIECE
    return i[keep], j[keep], area[keep], (pieces[keep] if pieces is not None else None)


def _extent_findings(a: Layer, b: Layer) -> pd.DataFrame:
    if np.allclose(a.bounds, b.bounds, rtol=0, atol=1e-6 * max(1.0, *map(abs, a.bounds))):
        return _no_findings()
    return _findings(severity="error", check="map-extent", source=[a.source, b.source], row="", column="extent",
                     message=[f"extent of {x.source}: {_fmt_bounds(x.bounds)} differs from {y.source}: "
                              f"{_fmt_bounds(y.bounds)}" for x, y in ((a, b), (b, a))])


def _fmt_bounds(b) -> str:
    return f"x {b[0]:.2f}…{b[2]:.2f}, y {b[1]:.2f}…{b[3]:.2f}"


def _unit_columns(a: Layer, b: Layer, i: np.ndarray, j: np.ndarray, by_unit: bool, spec: MapSpec) -> dict:
    """``unit`` of each piece: the second map's unit field (the end unit) where it has one, else the first's.
    With ``by_unit``, a piece whose unit differs between the maps (a boundary move) is refused, as for plots."""
    if a.units is None and b.units is None:
        if spec.unit_field is not None:
            raise MissingColumnError(f"no field {spec.unit_field!r} in either map",
                                     Location(str(spec.path), column=spec.unit_field), expected="--unit-field")
        if by_unit:
            raise MissingColumnError("--by-unit needs --unit-field (the field holding the unit of each polygon)",
                                     Location(str(spec.path)))
        return {}
    uf = a.units[i] if a.units is not None else None
    ut = b.units[j] if b.units is not None else None
    if by_unit and uf is not None and ut is not None:
        moved = pd.Series(uf).astype(str).str.strip().to_numpy() != pd.Series(ut).astype(str).str.strip().to_numpy()
        if moved.any():
            k = int(np.flatnonzero(moved)[0])
            raise InputError(f"land of feature id {a.fids[i[k]]} ({a.source}) is in unit {uf[k]!r} at the start "
                             f"and {ut[k]!r} at the end (feature id {b.fids[j[k]]} of {b.source}; "
                             f"{int(moved.sum())} such pieces); per-unit matrices need that move as giảm khác / "
                             "tăng khác — drop --by-unit for the whole area", Location(b.source))
    return {"unit": ut if ut is not None else uf}


def overlay_vector(spec_from: MapSpec, spec_to: MapSpec, classification=None, geodesic: bool = False,
                   by_unit: bool = False, check_topology: bool = True, keep_geometry: bool = False) -> MapOverlay:
    """Overlay two vector maps into plot records (one per piece; areas in ha) with the map checks."""
    a = read_layer(spec_from, classification, geodesic, "--layer-from", check_topology)
    b = read_layer(spec_to, classification, geodesic, "--layer-to", check_topology)
    _same_crs(a.crs, b.crs, Path(spec_from.path), Path(spec_to.path))
    i, j, area, pieces = overlay_pieces(a.geoms, b.geoms, keep_geometry or a.factor is None)
    area = areas_ha(pieces, None, a.crs) if a.factor is None else area * (a.factor * a.factor / M2_PER_HA)
    plots = pd.DataFrame({"plot_id": np.arange(1, len(i) + 1), **_unit_columns(a, b, i, j, by_unit, spec_from),
                          "code_from": pd.Categorical(a.codes[i]), "code_to": pd.Categorical(b.codes[j]),
                          VALUE: area, "fid_from": a.fids[i], "fid_to": b.fids[j]})
    area_a = _union_area(a)
    area_b = _union_area(b)
    found = [a.findings, b.findings, _extent_findings(a, b),
             coverage_findings(area_a, area_b, float(area.sum()), a.source, b.source)]
    return MapOverlay(plots, pd.concat([f for f in found if len(f)], ignore_index=True), a.crs.to_string(),
                      "vector", area_a, area_b, pieces if keep_geometry else None)


def _union_area(layer: Layer) -> float:
    """The map's area (ha): the sum of its polygons less the area counted twice where they overlap."""
    total = float(areas_ha(layer.geoms, layer.factor, layer.crs).sum())
    f = layer.findings
    return total - float(f.loc[f["check"] == "map-overlap", "found"].sum()) if len(f) else total


# ---- raster maps ------------------------------------------------------------------------------------------
def read_legend(path: Path | str, classification=None) -> tuple[np.ndarray, np.ndarray]:
    """A legend CSV (columns ``value, code``; other columns ignored): sorted integer pixel values and their
    codes. Each value once; codes must be land types of ``classification``."""
    from landuse.readers.tables import read_table

    path = Path(path)
    if not path.exists():
        raise InputError("legend file not found", Location.of(path))
    df = read_table(path)
    df.columns = [str(c).strip().lower() for c in df.columns]
    for c in ("value", "code"):
        if c not in df.columns:
            raise MissingColumnError(f"missing required column {c!r}", Location.of(path, row=1),
                                     expected="columns value, code", found=", ".join(df.columns))
    rows = df["_row"].to_numpy() if "_row" in df.columns else np.arange(len(df)) + 2
    text = df["value"].astype(str).str.strip()
    ok = text.str.fullmatch(r"-?\d+").fillna(False).to_numpy(dtype=bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError("not an integer pixel value", Location.of(path, row=int(rows[i]), column="value"),
                         expected="an integer", found=df["value"].iloc[i])
    values = text.astype(np.int64).to_numpy()
    dup = pd.Series(values).duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(f"pixel value {values[i]} occurs twice", Location.of(path, row=int(rows[i]), column="value"))
    codes = df["code"].astype(str).str.strip().str.upper()
    if classification is not None:
        bad = ~codes.isin(list(_allowed_codes(classification)))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _unknown_code(codes.iloc[i], int(bad.sum()), classification,
                                Location.of(path, row=int(rows[i]), column="code"), "legend rows")
    order = np.argsort(values)
    return values[order], codes.to_numpy(dtype=object)[order]


def _pixel_index(block: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each pixel's value in the sorted legend ``values`` (int32), ``-1`` when not in it."""
    pos = np.searchsorted(values, block).astype(np.int32)
    np.minimum(pos, len(values) - 1, out=pos)
    pos[values[pos] != block] = -1
    return pos


def _lookup_table(dtype: np.dtype, values: np.ndarray) -> tuple[np.ndarray, int] | None:
    """For 8- and 16-bit rasters a table pixel value → legend index (``-1`` = not in legend) and its offset."""
    if dtype.kind not in "iu" or dtype.itemsize > 2:
        return None
    info = np.iinfo(dtype)
    lut = np.full(int(info.max) - int(info.min) + 1, -1, dtype=np.int32)
    inside = (values >= info.min) & (values <= info.max)
    lut[values[inside] - int(info.min)] = np.flatnonzero(inside)
    return lut, int(info.min)


def _row_areas(src, factor: float | None, crs) -> np.ndarray | float:
    """Area of one pixel (ha): a constant for a projected CRS; for a geographic CRS (``factor is None``) the
    geodesic area of a pixel of each row (one :class:`pyproj.Geod` call per row)."""
    t = src.transform
    if factor is not None:
        return abs(t.a * t.e - t.b * t.d) * factor * factor / M2_PER_HA
    geod = crs.get_geod()
    out = np.empty(src.height)
    for r in range(src.height):
        xs = [t.c, t.c + t.a, t.c + t.a, t.c]
        ys = [t.f + r * t.e, t.f + r * t.e, t.f + (r + 1) * t.e, t.f + (r + 1) * t.e]
        out[r] = abs(geod.polygon_area_perimeter(xs, ys)[0]) / M2_PER_HA
    return out


def _open_raster(path: Path):
    import rasterio

    if not path.exists():
        raise InputError("file not found", Location.of(path))
    try:
        src = rasterio.open(path)
    except Exception as e:  # noqa: BLE001 - GDAL cannot open it: bad input
        raise InputError(f"cannot read the raster ({str(e).splitlines()[0]})", Location.of(path),
                         expected="a raster GDAL reads (GeoTIFF)") from None
    if np.dtype(src.dtypes[0]).kind not in "iu":
        src.close()
        raise InputError("pixel values are not integers", Location(str(path), sheet="band 1"),
                         expected="an integer band (legend values)", found=src.dtypes[0])
    return src


def _same_grid(a, b, pa: Path, pb: Path) -> None:
    if a.shape != b.shape or not a.transform.almost_equals(b.transform):
        raise InputError(f"the rasters are not on the same grid: {pa.name} has {a.width}×{a.height} pixels, "
                         f"extent {_fmt_bounds(tuple(a.bounds))}; {pb.name} has {b.width}×{b.height}, extent "
                         f"{_fmt_bounds(tuple(b.bounds))}", Location.of(pb),
                         expected=f"the grid of {pa.name} (resample one map first, e.g. gdalwarp -tr -te)")


def _count_block(src, win, values, lut) -> tuple[np.ndarray, np.ndarray]:
    """Legend index of each pixel of window ``win`` (``-1`` not in legend) and the nodata mask."""
    block = src.read(1, window=win)
    nodata = src.nodata
    mask = block == nodata if nodata is not None else np.zeros(block.shape, dtype=bool)
    if lut is None:
        idx = _pixel_index(block, values)
    else:
        idx = lut[0][block] if lut[1] == 0 else lut[0][block.astype(np.int32) - lut[1]]
    return idx, mask


def _unknown_pixel(idx: np.ndarray, mask: np.ndarray, src, path: Path, legend: Path, row0: int, win) -> None:
    bad = (idx < 0) & ~mask
    if bad.any():
        r, c = (int(x[0]) for x in np.nonzero(bad))
        value = src.read(1, window=win)[r, c]
        raise InputError(f"pixel value {value} is not in the legend {Path(legend).name} (first at pixel row "
                         f"{row0 + r + 1}, column {c + 1}; {int(bad.sum())} such pixels in that strip)",
                         Location(str(path), sheet="band 1"), expected="a value of the legend")


def overlay_raster(path_from: Path | str, path_to: Path | str, legend: Path | str, classification=None,
                   geodesic: bool = False, block_pixels: int = BLOCK_PIXELS) -> MapOverlay:
    """Count the pixels of each from→to pair of two rasters on the same grid, reading ``block_pixels`` pixels
    (whole rows) of each at a time; areas in ha. One plot record per pair with pixels."""
    from rasterio.windows import Window

    pa, pb = Path(path_from), Path(path_to)
    values, codes = read_legend(legend, classification)
    with _open_raster(pa) as a, _open_raster(pb) as b:
        crs_a, factor = _crs(a.crs.to_wkt() if a.crs else None, pa, geodesic)
        crs_b, _ = _crs(b.crs.to_wkt() if b.crs else None, pb, geodesic)
        _same_crs(crs_a, crs_b, pa, pb)
        _same_grid(a, b, pa, pb)
        px = _row_areas(a, factor, crs_a)
        k = len(values) + 1  # the last index: nodata
        lut_a, lut_b = _lookup_table(np.dtype(a.dtypes[0]), values), _lookup_table(np.dtype(b.dtypes[0]), values)
        step = max(1, block_pixels // a.width)
        if not np.ndim(px) and a.dtypes[0] == b.dtypes[0] == "uint8":
            cells = _cells_8bit(a, b, step, values, lut_a, (pa, pb), legend)
            return _raster_overlay(cells.reshape(k, k), px, codes, crs_a.to_string(), (pa, pb, Path(legend)))
        cells = np.zeros(k * k, dtype=np.float64 if np.ndim(px) else np.int64)
        for r0 in range(0, a.height, step):
            win = Window(0, r0, a.width, min(step, a.height - r0))
            ia, ma = _count_block(a, win, values, lut_a)
            ib, mb = _count_block(b, win, values, lut_b)
            _unknown_pixel(ia, ma, a, pa, Path(legend), r0, win)
            _unknown_pixel(ib, mb, b, pb, Path(legend), r0, win)
            ia[ma] = k - 1
            ib[mb] = k - 1
            key = ia.astype(np.int64) * k + ib
            w = None if not np.ndim(px) else np.repeat(px[r0:r0 + win.height], a.width)
            cells += np.bincount(key.ravel(), weights=w, minlength=k * k).astype(cells.dtype)
    return _raster_overlay(cells.reshape(k, k), px, codes, crs_a.to_string(), (pa, pb, Path(legend)))


def _strips(src, step: int):
    from rasterio.windows import Window

    for r0 in range(0, src.height, step):
        yield r0, Window(0, r0, src.width, min(step, src.height - r0))


def _cells_8bit(a, b, step: int, values, lut, paths, legend) -> np.ndarray:
    """Pixel counts per (legend index | nodata) pair of two 8-bit rasters: the 256 × 256 table of value pairs
    counted strip by strip (``(va << 8) | vb``, one :func:`numpy.bincount` per strip, as fast as counting the
    arrays in memory), then mapped through the legend once. A value outside the legend is located by a second
    pass (only then)."""
    counts = np.zeros(1 << 16, dtype=np.int64)
    buf_a = np.empty((step, a.width), dtype=np.uint8)
    buf_b = np.empty((step, b.width), dtype=np.uint8)
    key = np.empty((step, a.width), dtype=np.uint16)
    for _, win in _strips(a, step):
        h = win.height
        va = a.read(1, window=win, out=buf_a[:h])
        vb = b.read(1, window=win, out=buf_b[:h])
        k16 = key[:h]
        np.left_shift(va, 8, out=k16, dtype=np.uint16)
        np.bitwise_or(k16, vb, out=k16)
        counts += np.bincount(k16.ravel(), minlength=1 << 16)
    table = counts.reshape(256, 256)
    n = len(values) + 1
    index = []
    for src, used, path in ((a, table.sum(axis=1) > 0, paths[0]), (b, table.sum(axis=0) > 0, paths[1])):
        idx = lut[0].copy()
        if src.nodata is not None and 0 <= src.nodata <= 255:
            idx[int(src.nodata)] = n - 1
        bad = np.flatnonzero(used & (idx < 0))
        if len(bad):
            for r0, win in _strips(src, step):
                block = src.read(1, window=win)
                if (block == bad[0]).any():
                    _unknown_pixel(np.where(block == bad[0], -1, 0), np.zeros(block.shape, bool), src, path,
                                   Path(legend), r0, win)
        index.append(idx)
    pair_a, pair_b = np.divmod(np.arange(1 << 16), 256)
    keep = counts > 0
    return np.bincount(index[0][pair_a[keep]] * n + index[1][pair_b[keep]], weights=counts[keep],
                       minlength=n * n).round().astype(np.int64)


def _raster_overlay(cells: np.ndarray, px, codes: np.ndarray, crs: str,
                    rasters: tuple[Path, Path, Path]) -> MapOverlay:
    """Plot records and findings from the (legend + nodata)² table of pixel counts (or areas, ha, when the
    pixel area varies by row)."""
    src_a, src_b = rasters[0].name, rasters[1].name
    area = cells * px if not np.ndim(px) else cells
    n = len(codes)
    core = area[:n, :n]
    f, t = np.nonzero(cells[:n, :n])
    # legend values sharing a code are separate rows here; the matrix sums them
    plots = pd.DataFrame({"plot_id": np.arange(1, len(f) + 1), "code_from": pd.Categorical(codes[f]),
                          "code_to": pd.Categorical(codes[t]), VALUE: core[f, t],
                          "pixels": cells[:n, :n][f, t] if not np.ndim(px) else np.nan})
    area_a, area_b = float(area[:n, :].sum()), float(area[:, :n].sum())
    found = [coverage_findings(area_a, area_b, float(core.sum()), src_a, src_b)]
    only = [(src_a, src_b, float(area[:n, n].sum())), (src_b, src_a, float(area[n, :n].sum()))]
    found += [_findings(severity=_severity(x).item(), check="map-nodata", source=s, row="", column="band 1",
                        expected=0.0, found=x, difference=x,
                        message=f"{x:,.4f} ha of {s} fall on nodata pixels of {o}") for s, o, x in only if x > 0]
    return MapOverlay(plots, pd.concat(found, ignore_index=True), crs, "raster", area_a, area_b, rasters=rasters)


# ---- both ------------------------------------------------------------------------------------------------
def read_map_pair(spec_from: MapSpec, spec_to: MapSpec, *, legend: Path | str | None = None,
                  classification=None, geodesic: bool = False, by_unit: bool = False,
                  check_topology: bool = True, keep_geometry: bool = False) -> MapOverlay:
    """Overlay two maps, both vector or both raster (chosen by the file suffix: .tif/.tiff/.vrt/.img/.asc are
    rasters), into plot records with the map checks. See the module docstring for what a map must contain."""
    require_maps()
    if spec_from.is_raster != spec_to.is_raster:
        raise InputError("one map is a raster and the other a vector layer", Location.of(spec_to.path),
                         expected="two vector maps or two rasters")
    if spec_from.is_raster:
        import importlib.util

        if importlib.util.find_spec("rasterio") is None:
            raise InputError("reading rasters needs rasterio: pip install 'landuse[maps]'")
        if legend is None:
            raise InputError("raster maps need --legend FILE (columns value, code)", Location.of(spec_from.path))
        if by_unit or spec_from.unit_field:
            raise InputError("raster maps have no units: drop --by-unit / --unit-field", Location.of(spec_from.path))
        return overlay_raster(spec_from.path, spec_to.path, legend, classification, geodesic)
    return overlay_vector(spec_from, spec_to, classification, geodesic, by_unit, check_topology, keep_geometry)


def write_change_map(overlay: MapOverlay, path: Path | str, force: bool = False) -> Path:
    """Write where land changed, atomically, refusing to replace a file without ``force``. Vector maps: the pieces
    whose code changed (fields ``code_from, code_to, area_ha, fid_from, fid_to``) as a GeoPackage layer
    ``change`` in the maps' CRS. Raster maps: a GeoTIFF, see :func:`write_raster_change_map`."""
    import pyogrio.raw
    import shapely

    from landuse.output import atomic_path

    path = Path(path)
    if overlay.rasters is not None:
        return write_raster_change_map(*overlay.rasters, path, force=force)
    if overlay.geometry is None:
        raise InputError("the overlay was made without its pieces' polygons", Location.of(path),
                         expected="read_map_pair(..., keep_geometry=True)")
    if path.suffix.lower() != ".gpkg":
        raise InputError("unsupported change-map format", Location.of(path), expected="a .gpkg file",
                         found=path.suffix)
    p = overlay.plots
    changed = (p["code_from"].astype(str) != p["code_to"].astype(str)).to_numpy()
    geoms = shapely.force_2d(overlay.geometry[changed])
    fields = ["code_from", "code_to", VALUE, "fid_from", "fid_to"]
    data = [p["code_from"].astype(str).to_numpy()[changed], p["code_to"].astype(str).to_numpy()[changed],
            p[VALUE].to_numpy()[changed], p["fid_from"].to_numpy()[changed], p["fid_to"].to_numpy()[changed]]
    with atomic_path(path, force) as tmp:
        Path(tmp).unlink()  # GDAL creates the GeoPackage itself
        pyogrio.raw.write(tmp, shapely.to_wkb(geoms), data, fields, layer="change", driver="GPKG",
                          geometry_type="MultiPolygon", promote_to_multi=True, crs=overlay.crs)
    return path


CHANGE_NODATA = 65535  # change map (raster): pixels that are nodata in either map


def change_pair_codes(codes) -> tuple[np.ndarray, dict[int, tuple[str, str]]]:
    """The land codes of a legend, distinct and sorted, and the value of each from→to pair in a raster change
    map: ``i · n + j + 1`` for the i-th and j-th of the ``n`` codes (i ≠ j; 0 = unchanged)."""
    distinct = np.unique(np.asarray(codes, dtype=str))
    n = len(distinct)
    return distinct, {i * n + j + 1: (distinct[i], distinct[j]) for i in range(n) for j in range(n) if i != j}


def write_raster_change_map(path_from: Path | str, path_to: Path | str, legend: Path | str, path: Path | str,
                            force: bool = False, block_pixels: int = BLOCK_PIXELS) -> Path:
    """A GeoTIFF of where land changed between two rasters on the same grid (their CRS and grid), written strip
    by strip (memory bounded by the strip): ``0`` where the land code is the same at both dates, the pair's value
    of :func:`change_pair_codes` (uint16, hence at most 255 distinct codes) where it changed, :data:`CHANGE_NODATA`
    where either map has nodata. Band 1's tags name each pair present (``PAIR_<value> = FROM>TO``)."""
    import rasterio

    from landuse.output import atomic_path

    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        raise InputError("unsupported change-map format for raster maps", Location.of(path),
                         expected="a .tif file", found=path.suffix)
    pa, pb = Path(path_from), Path(path_to)
    values, codes = read_legend(legend)
    distinct, pairs = change_pair_codes(codes)
    if len(distinct) > 255:
        raise InputError(f"the legend has {len(distinct)} land codes", Location.of(Path(legend)),
                         expected="at most 255 codes for a uint16 change map")
    code_of = np.r_[np.searchsorted(distinct, codes.astype(str)), 0].astype(np.int64)  # legend index → code index
    n = len(distinct)
    with _open_raster(pa) as a, _open_raster(pb) as b:
        _same_grid(a, b, pa, pb)
        step = max(1, block_pixels // a.width)
        lut_a, lut_b = _lookup_table(np.dtype(a.dtypes[0]), values), _lookup_table(np.dtype(b.dtypes[0]), values)
        profile = dict(driver="GTiff", width=a.width, height=a.height, count=1, dtype="uint16", crs=a.crs,
                       transform=a.transform, nodata=CHANGE_NODATA, compress="deflate")
        seen = np.zeros(n * n + 1, dtype=bool)
        with atomic_path(path, force) as tmp:
            Path(tmp).unlink()  # GDAL creates the file itself
            with rasterio.open(tmp, "w", **profile) as dst:
                for r0, win in _strips(a, step):
                    ia, ma = _count_block(a, win, values, lut_a)
                    ib, mb = _count_block(b, win, values, lut_b)
                    _unknown_pixel(ia, ma, a, pa, Path(legend), r0, win)
                    _unknown_pixel(ib, mb, b, pb, Path(legend), r0, win)
                    ca, cb = code_of[ia], code_of[ib]
                    out = np.where(ca == cb, 0, ca * n + cb + 1)
                    out[ma | mb] = CHANGE_NODATA
                    seen[np.unique(out[out != CHANGE_NODATA])] = True
                    dst.write(out.astype(np.uint16), 1, window=win)
                dst.update_tags(1, **{f"PAIR_{v}": f"{f}>{t}" for v, (f, t) in pairs.items() if seen[v]})
    return path
