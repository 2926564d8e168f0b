"""Benchmark: transition matrices from two maps (issue 15), side by side with what a user would run otherwise.

Vector: two polygon maps of N polygons each (GeoPackage, VN-2000 / TM-3 EPSG:9210, Voronoi parcels of ~1 ha
with a land code; the second map either *edited* from the first — a fifth of the parcels redrawn, the rest
unchanged, as between two inventories — or *independent*). Timed in one run, from the files to the areas per
from→to pair:

* ``landuse``: :func:`landuse.readers.maps.read_map_pair` (pyogrio read, validity, gaps/overlaps, STRtree bounding
  box query, vectorised intersection areas) + the matrix; also without the gap/overlap check;
* ``geopandas``: ``read_file`` (pyogrio engine) × 2 + ``geopandas.overlay(how="intersection")`` + ``groupby`` of the
  pieces' areas — the usual route;
* ``shapely 2``: pyogrio read, STRtree ``intersects`` query, vectorised ``shapely.intersection`` + ``area`` of the
  pairs, ``groupby`` — the library route to the same areas, without checks;

and the two sets of areas are compared pair by pair (must agree within 0.01 ha). All routes first run once, untimed, on
a pair of 1,000 polygons (imports, PROJ database).

Raster: two R × R uint8 GeoTIFFs (100 × 100-pixel patches of random codes; the second with a tenth of the patches
changed), 10 m pixels. ``landuse``: :func:`landuse.readers.maps.overlay_raster` reading strips of
``BLOCK_PIXELS`` pixels; baselines: ``numpy.bincount`` of ``a * 256 + b`` (int32) and of uint16 keys
``a << 8 | b`` over both rasters already held in memory (reading them is not timed). Peak Python memory of
each (tracemalloc) next to the size of one raster. Also the raster change map (``--change-map change.tif``).

    python benchmarks/bench_maps.py [--polygons 200000] [--kind edited|independent|both] [--raster 10000]
                                    [--skip-vector] [--skip-raster]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from landuse.readers.maps import (  # noqa: E402
    BLOCK_PIXELS,
    MapSpec,
    overlay_raster,
    read_map_pair,
    write_raster_change_map,
)
from landuse.transitions.change import default_classification, transition_matrix  # noqa: E402

X0, Y0 = 500_000.0, 2_300_000.0
CRS = "EPSG:9210"


def _codes(n: int, rng) -> np.ndarray:
    leaves = default_classification().leaves[:20]
    w = 1.0 / np.arange(1, len(leaves) + 1) ** 1.1
    return np.array(leaves, dtype=object)[rng.choice(len(leaves), n, p=w / w.sum())]


def make_vector_pair(n: int, kind: str, folder: Path) -> tuple[Path, Path]:
    """Two GeoPackages of ~``n`` Voronoi parcels (~1 ha each) over the same square."""
    import pyogrio.raw
    import shapely

    rng = np.random.default_rng(0)
    side = np.sqrt(n) * 100.0
    box = shapely.box(X0, Y0, X0 + side, Y0 + side)

    def voronoi(pts):
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box))
        return shapely.intersection(cells, box)

    pts = rng.uniform(0, side, (n, 2)) + [X0, Y0]
    a = voronoi(pts)
    ca = _codes(len(a), rng)
    if kind == "edited":
        moved = pts.copy()
        k = rng.choice(n, n // 5, replace=False)
        moved[k] += rng.normal(0, 40, (len(k), 2))
        b = voronoi(moved)
        # codes follow the land: the code of the start parcel holding each end parcel's centre, 10 % changed
        owner = shapely.STRtree(a).query(shapely.point_on_surface(b), predicate="within")
        cb = np.empty(len(b), dtype=object)
        cb[owner[0]] = ca[owner[1]]
        change = rng.random(len(b)) < 0.10
        cb[change] = _codes(int(change.sum()), rng)
        cb[pd.isna(cb)] = "LUC"
    else:
        b = voronoi(rng.uniform(0, side, (n, 2)) + [X0, Y0])
        cb = _codes(len(b), rng)
    paths = folder / f"a_{kind}.gpkg", folder / f"b_{kind}.gpkg"
    for path, geoms, codes, field in ((paths[0], a, ca, "LOAI_DAT"), (paths[1], b, cb, "MA_LOAI")):
        pyogrio.raw.write(path, shapely.to_wkb(geoms), [codes], [field], layer="hien_trang", driver="GPKG",
                          geometry_type="Polygon", crs=CRS)
    return paths


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run_landuse(a: Path, b: Path, check_topology: bool = True) -> pd.Series:
    cls = default_classification()
    o = read_map_pair(MapSpec(a, "LOAI_DAT"), MapSpec(b, "MA_LOAI"), classification=cls,
                      check_topology=check_topology)
    m = transition_matrix(o.plots, classification=cls).drop(index="total", columns="total")
    s = m.stack()
    return s[s != 0]


def run_shapely(a: Path, b: Path) -> pd.Series:
    """The library route without geopandas: shapely 2's vectorised GEOS intersection + area on the pairs of an
    STRtree ``intersects`` query (what landuse would do if it did not compute the areas itself)."""
    import pyogrio.raw
    import shapely

    (_, _, wa, (ca,)), (_, _, wb, (cb,)) = (pyogrio.raw.read(p, columns=[f]) for p, f in ((a, "LOAI_DAT"),
                                                                                         (b, "MA_LOAI")))
    ga, gb = shapely.from_wkb(wa), shapely.from_wkb(wb)
    i, j = shapely.STRtree(gb).query(ga, predicate="intersects")
    area = shapely.area(shapely.intersection(ga[i], gb[j])) / 10_000
    return pd.Series(area).groupby([ca[i], cb[j]]).sum()


def run_geopandas(a: Path, b: Path) -> pd.Series:
    import geopandas as gpd

    ga = gpd.read_file(a, engine="pyogrio")
    gb = gpd.read_file(b, engine="pyogrio")
    o = gpd.overlay(ga, gb, how="intersection")
    return (o.assign(area_ha=o.area / 10_000).groupby(["LOAI_DAT", "MA_LOAI"])["area_ha"].sum())


def bench_vector(n: int, kind: str) -> None:
    import geopandas  # noqa: F401 - imported before timing, as landuse's libraries are

    with tempfile.TemporaryDirectory() as tmp:
        t, (a, b) = timed(lambda: make_vector_pair(n, kind, Path(tmp)))
        print(f"\nvector, {kind}: {n:,} polygons per map (generated and written in {t:.1f} s)")
        t_lu, ours = timed(lambda: run_landuse(a, b))
        t_fast, _ = timed(lambda: run_landuse(a, b, check_topology=False))
        t_gp, theirs = timed(lambda: run_geopandas(a, b))
        t_sh, geos = timed(lambda: run_shapely(a, b))
    theirs.index.names = ours.index.names
    both = pd.concat({"landuse": ours, "geopandas": theirs}, axis=1).fillna(0.0)
    diff = float((both["landuse"] - both["geopandas"]).abs().max())
    geos.index.names = ours.index.names
    diff_geos = float((pd.concat([ours, geos], axis=1).fillna(0.0).diff(axis=1).iloc[:, 1]).abs().max())
    print(f"  landuse read_map_pair + matrix (all checks)     {t_lu:8.2f} s")
    print(f"  landuse without the gap/overlap check           {t_fast:8.2f} s")
    print(f"  geopandas read_file + overlay + groupby         {t_gp:8.2f} s")
    print(f"  shapely 2 read + STRtree + intersection + area  {t_sh:8.2f} s (no checks; largest difference "
          f"{diff_geos:.2e} ha)")
    print(f"  speed-up over geopandas: {t_gp / t_lu:.1f}× (all checks), {t_gp / t_fast:.1f}× (without gap/overlap "
          f"check); over shapely 2: {t_sh / t_lu:.1f}× (all checks), {t_sh / t_fast:.1f}×")
    print(f"  from→to pairs: {len(both)}; largest difference {diff:.2e} ha "
          f"({'OK' if diff <= 0.01 else 'FAIL'}: ≤ 0.01 ha); total {both['landuse'].sum():,.2f} ha")


def warm_up() -> None:
    """Both vector routes once on a pair of 1,000 polygons, untimed: imports, PROJ's database, first allocations
    are then paid by neither timed run."""
    with tempfile.TemporaryDirectory() as tmp:
        a, b = make_vector_pair(1_000, "independent", Path(tmp))
        run_landuse(a, b)
        run_geopandas(a, b)
        run_shapely(a, b)


def make_raster_pair(size: int, folder: Path) -> tuple[Path, Path, Path]:
    """Two ``size`` × ``size`` uint8 GeoTIFFs of 100-pixel patches, written in strips; legend 1…20."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    rng = np.random.default_rng(1)
    patch = 100
    npatch = -(-size // patch)
    codes = np.array(default_classification().leaves[:20], dtype=object)
    ga = rng.integers(1, 21, (npatch, npatch), dtype=np.uint8)
    gb = np.where(rng.random(ga.shape) < 0.1, rng.integers(1, 21, ga.shape, dtype=np.uint8), ga)
    paths = folder / "a.tif", folder / "b.tif"
    for path, grid in zip(paths, (ga, gb), strict=True):
        profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="uint8", crs=CRS,
                       transform=from_origin(X0, Y0 + size * 10.0, 10.0, 10.0))
        with rasterio.open(path, "w", **profile) as dst:
            for r0 in range(0, size, patch):
                h = min(patch, size - r0)
                row = np.repeat(grid[r0 // patch], patch)[:size]
                dst.write(np.broadcast_to(row, (h, size)), 1, window=Window(0, r0, size, h))
    legend = folder / "legend.csv"
    legend.write_text("value,code\n" + "".join(f"{v},{codes[v - 1]}\n" for v in range(1, 21)), encoding="utf-8")
    return paths[0], paths[1], legend


def bench_raster(size: int) -> None:
    import rasterio

    with tempfile.TemporaryDirectory() as tmp:
        t, (a, b, legend) = timed(lambda: make_raster_pair(size, Path(tmp)))
        print(f"\nraster: two {size:,} × {size:,} uint8 maps ({size * size / 1e6:,.0f} M pixels each; "
              f"written in {t:.1f} s)")
        overlay_raster(a, b, legend, block_pixels=BLOCK_PIXELS)  # warm the page cache
        tracemalloc.start()
        t_lu, ours = timed(lambda: overlay_raster(a, b, legend))
        peak_lu = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        tracemalloc.start()
        t_cm, _ = timed(lambda: write_raster_change_map(a, b, legend, Path(tmp) / "change.tif"))
        peak_cm = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        with rasterio.open(a) as sa, rasterio.open(b) as sb:
            xa, xb = sa.read(1), sb.read(1)
        tracemalloc.start()
        t_np, counts = timed(lambda: np.bincount((xa.astype(np.int32) * 256 + xb).ravel(), minlength=65536))
        peak_np = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        def packed():  # the fastest in-memory form: one uint16 key per pixel
            key = np.left_shift(xa, 8, dtype=np.uint16)
            np.bitwise_or(key, xb, out=key)
            return np.bincount(key.ravel(), minlength=65536)

        tracemalloc.start()
        t_best, counts_best = timed(packed)
        peak_best = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    pixels_lu = int(ours.plots["pixels"].sum())
    same = pixels_lu == int(counts.sum()) and len(ours.plots) == int((counts > 0).sum())
    print(f"  landuse overlay_raster (reads both files in strips of {BLOCK_PIXELS:,} pixels) {t_lu:7.2f} s, "
          f"peak {peak_lu / 2**20:,.0f} MiB")
    print(f"  numpy.bincount over both arrays in memory (read not timed)        {t_np:7.2f} s, "
          f"peak {peak_np / 2**20:,.0f} MiB (+ {2 * xa.nbytes / 2**20:,.0f} MiB holding the maps)")
    print(f"  numpy.bincount of uint16 keys (va << 8 | vb) in memory            {t_best:7.2f} s, "
          f"peak {peak_best / 2**20:,.0f} MiB")
    print(f"  landuse --change-map change.tif (GeoTIFF of from→to pairs, written in strips)            {t_cm:7.2f} s, "
          f"peak {peak_cm / 2**20:,.0f} MiB")
    same = same and bool((counts == counts_best).all())
    print(f"  ratio {t_lu / t_np:.2f}× the first, {t_lu / t_best:.2f}× the fastest "
          f"({'OK' if t_lu <= 2 * min(t_np, t_best) else 'FAIL'}: ≤ 2×); same counts: {same}; "
          f"one raster is {xa.nbytes / 2**20:,.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--polygons", type=int, default=200_000)
    ap.add_argument("--kind", choices=["edited", "independent", "both"], default="both")
    ap.add_argument("--raster", type=int, default=10_000)
    ap.add_argument("--skip-vector", action="store_true")
    ap.add_argument("--skip-raster", action="store_true")
    args = ap.parse_args()
    if not args.skip_vector:
        warm_up()
        for kind in (["edited", "independent"] if args.kind == "both" else [args.kind]):
            bench_vector(args.polygons, kind)
    if not args.skip_raster:
        bench_raster(args.raster)


if __name__ == "__main__":
    main()
