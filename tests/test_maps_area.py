"""Intersection areas of polygon pairs without building the intersection (landuse.readers.polygon_area).

Checked against areas worked out by hand, and against GEOS (shapely.intersection, a second method) on random
tessellations: independent ones, ones that share most boundaries exactly (the usual case of two inventory maps,
where vertices and edges coincide), and ones with holes and several parts.
"""

from __future__ import annotations

import numpy as np
import pytest

shapely = pytest.importorskip("shapely")

from landuse.readers import polygon_area  # noqa: E402
from landuse.readers.polygon_area import fan_triangles, intersection_areas  # noqa: E402

T = shapely.Polygon([(0, 0), (4, 0), (0, 4)])  # area 8


def one(a, b) -> float:
    return float(intersection_areas(np.array([a]), np.array([b]), np.array([0]), np.array([0]))[0])


@pytest.mark.parametrize(("a", "b", "area"), [
    (shapely.box(5, 5, 6, 6), T, 0.0),  # not even the bounding boxes meet
    (shapely.box(-2, -2, 0, 0), T, 0.0),  # touches a corner from outside
    (shapely.box(4, -2, 6, 0), T, 0.0),
    (shapely.box(-2, 0, 0, 2), T, 0.0),  # shares part of a side, outside
    (shapely.box(0, 0, 1, 1), T, 1.0),  # inside, sharing the corner and two sides
    (shapely.box(-1, -1, 1, 1), T, 1.0),
    (T, shapely.box(-1, -1, 1, 1), 1.0),
    (T, T, 8.0),  # identical
    (shapely.Polygon([(4, 0), (0, 4), (4, 4)]), T, 0.0),  # the other half of the square
    (shapely.box(0, 0, 4, 4), T, 8.0),  # the square holds the triangle, corners on its boundary
    (T, shapely.box(0, 0, 4, 4), 8.0),
    (shapely.box(1, 1, 2, 2), shapely.box(0, 0, 10, 10).difference(shapely.box(1.5, 0, 10, 10)), 0.5),
    # a square with a 2 × 2 hole, against a box over the hole and the ring: 3 × 3 − 2 × 2 = 5
    (shapely.Polygon(shapely.box(0, 0, 10, 10).exterior, [shapely.box(4, 4, 6, 6).exterior.coords]),
     shapely.box(3.5, 3.5, 6.5, 6.5), 5.0),
    (shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)]), shapely.box(0.5, 0, 2.5, 1), 1.0),
    # a U-shaped (non-convex) second polygon, 3 × 3 less a 1 × 2 notch: its fan has a negative triangle
    (shapely.box(0, 0, 3, 2), shapely.Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]), 5.0),
])
def test_areas_by_hand(a, b, area):
    assert one(a, b) == pytest.approx(area, abs=1e-12)
    # rings the other way round (clockwise exteriors, counter-clockwise holes) give the same area
    assert one(shapely.reverse(a), shapely.reverse(b)) == pytest.approx(area, abs=1e-12)


def test_fan_of_a_non_convex_polygon_adds_up_to_its_area():
    u = shapely.Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])  # 9 − 2 = 7
    tri = fan_triangles(np.array([u]))
    e1, e2 = tri.v[:, 1] - tri.v[:, 0], tri.v[:, 2] - tri.v[:, 0]
    areas = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    assert (tri.sign * areas).sum() == pytest.approx(7.0)
    assert (tri.sign < 0).any()


def voronoi(points: np.ndarray, box) -> np.ndarray:
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=box))
    return shapely.intersection(cells, box)


@pytest.mark.parametrize("kind", ["independent", "shared", "holes", "small chunks"])
def test_same_areas_as_geos(kind, monkeypatch):
    if kind == "small chunks":  # many chunks, evaluated in threads; pairs straddle chunk ends
        monkeypatch.setattr(polygon_area, "CHUNK_ROWS", 97)
        monkeypatch.setattr(polygon_area, "THREADS", 3)
    rng = np.random.default_rng(7)
    n, side = 600, 2_000.0
    x0, y0 = 500_000.0, 2_300_000.0  # VN-2000-sized coordinates
    box = shapely.box(x0, y0, x0 + side, y0 + side)
    pts = rng.uniform(0, side, (n, 2)) + [x0, y0]
    a = voronoi(pts, box)
    if kind == "shared":  # a fifth of the seeds moved: most cells and edges stay exactly the same
        moved = pts.copy()
        k = rng.choice(n, n // 5, replace=False)
        moved[k] += rng.normal(0, 20, (len(k), 2))
        b = voronoi(moved, box)
    else:
        b = voronoi(rng.uniform(0, side, (n, 2)) + [x0, y0], box)
    if kind == "holes":
        a = shapely.difference(a, shapely.buffer(shapely.centroid(a), 8, quad_segs=2))
        strips = shapely.union_all([shapely.box(x0, y0 + y, x0 + side, y0 + y + 3) for y in range(50, 2000, 250)])
        b = shapely.difference(b, strips)  # cells cut in two parts
        assert shapely.get_num_interior_rings(a).sum() > 0 and (shapely.get_num_geometries(b) > 1).any()
    i, j = shapely.STRtree(b).query(a)
    geos = shapely.area(shapely.intersection(a[i], b[j]))
    mine = intersection_areas(a, b, i, j)
    assert np.abs(mine - geos).max() < 1e-6  # m², on cells of ~6,700 m²
    assert mine.sum() == pytest.approx(shapely.area(a).sum() if kind != "holes" else geos.sum())
