"""Areas of the intersections of many polygon pairs, vectorised with numpy: no intersection polygon is built.

For polygons ``a[i]`` and ``b[j]`` (holes and several parts allowed; valid polygons), in the units² of their
coordinates:

* ``b[j]`` is cut into **signed fan triangles**: for each ring (exterior counter-clockwise, holes clockwise) the
  triangles ``(v0, vk, vk+1)``. Weighted by the sign of their orientation, their indicator functions add up to
  the ring's winding number, so ``area(a ∩ b) = Σ sign(t) · area(a ∩ t)`` over the triangles ``t`` (made
  counter-clockwise) — no triangulation needed.
* ``area(region(r) ∩ t)`` for each ring ``r`` of ``a`` (made counter-clockwise; holes subtract) by Green's
  theorem, ``½ ∮ x dy − y dx`` over the boundary of ``r ∩ t``: the pieces of ``r``'s edges inside ``t`` (each edge
  clipped to the three half-planes of ``t``) plus the arcs of ``t``'s boundary inside ``r``. Each arc runs
  counter-clockwise from a point where ``r`` leaves ``t`` to the next point where it enters. With ``Ψ(x)`` the
  integral along ``t``'s boundary from a reference point ``Q`` on its first side to ``x``, the arcs add up to
  ``Σ Ψ(entries) − Σ Ψ(exits)``, plus ``area(t)`` when ``Q`` lies on an arc, i.e. when the first event
  counter-clockwise after ``Q`` is an entry. ``Q`` sits at an irrational fraction of the side, where no vertex
  is expected; the sum itself does not depend on how exits and entries pair up. When ``r`` neither enters nor
  leaves ``t``, either ``r`` lies inside ``t`` (a vertex inside; its edges give its area) or ``t`` lies inside
  ``r`` (``area(t)``: parity of the crossings of a ray from ``t``'s centroid) or outside.

Each vertex is classified once against each side of ``t`` (the same signed distance for both edges that share
it), so entries and exits always pair up. Points exactly on a side count as outside (the open triangle): a
ring that only touches the triangle from outside, or runs along its side, neither enters nor leaves it. All
arithmetic is in coordinates relative to the triangle's first vertex. Candidate pairs may include pairs that do
not intersect (their area is 0), so an STRtree query on bounding boxes alone is enough.

Speed: the (pair, triangle, edge) rows are evaluated in chunks of :data:`CHUNK_ROWS` (the temporaries stay in
the processor's cache). Which rows are evaluated at all is decided on bounding boxes held as float32 copies,
rounded outwards and widened by :data:`MARGIN`: such a test may keep a row that is not needed (it then adds
nothing), never drop one that is. Only the rows whose edge is not wholly outside one side of the triangle are
clipped. Measured against GEOS (``shapely.intersection`` + ``area`` on the same candidate pairs): several times
faster on tessellations of 50,000 polygons, which is why this is written by hand (see benchmarks/bench_maps.py).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

PHI = 0.3819660112501051  # where the reference point sits on side 0 (a fraction unlikely to be a vertex)
TIE = 1e-9  # boundary events closer than this fraction of a side are at the same point
CHUNK_ROWS = 1 << 18  # (pair, triangle, edge) rows evaluated at a time: bounds the temporaries
THREADS = min(4, os.cpu_count() or 1)  # chunks evaluated in parallel
MARGIN = 1e-9  # bounding-box tests are widened by this fraction of the largest coordinate (a superset is safe)


def _f32(x: np.ndarray, origin: float, up: bool) -> np.ndarray:
    """``x − origin`` as float32, moved one step outwards (up or down) from the nearest float32: a cheap,
    conservative copy for box tests."""
    return np.nextafter((x - origin).astype(np.float32), np.float32(np.inf if up else -np.inf))


@dataclass(frozen=True)
class Rings:
    """The edges of every polygon's rings, each ring counter-clockwise; grouped by polygon, then ring."""

    xy: np.ndarray  # (4, n): x0, y0, x1, y1 of each edge
    box: np.ndarray  # (4, n) float32 relative to ``origin`` (x, y), rounded outwards: xmin, xmax, ymin, ymax
    origin: tuple[float, float]
    ring: np.ndarray  # ring id of each edge
    sign: np.ndarray  # per ring: +1 exterior, -1 hole
    start: np.ndarray  # per polygon: first edge
    count: np.ndarray  # per polygon: number of edges


@dataclass(frozen=True)
class Triangles:
    """Signed fan triangles of every polygon, each counter-clockwise; grouped by polygon.

    ``local`` (7 rows, a column per triangle): ``ox, oy`` (its first vertex), then ``bx, by, cx, cy`` (the other
    two) relative to it, and its area. ``box`` (7 rows,
    float32): ``xmin, xmax, ymin, ymax`` and the centroid's ``y − m, y + m, x − m`` (``m`` = the margin of
    :data:`MARGIN`), relative to ``origin`` (x, y) and rounded outwards."""

    v: np.ndarray  # (n, 3, 2)
    sign: np.ndarray  # +1 / -1
    start: np.ndarray  # per polygon: first triangle
    count: np.ndarray  # per polygon: number of triangles
    local: np.ndarray  # (7, n)
    box: np.ndarray  # (7, n) float32
    origin: tuple[float, float]


def _starts(owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    count = np.bincount(owner, minlength=n).astype(np.int64)
    return np.cumsum(count) - count, count


@dataclass(frozen=True)
class _RingCoords:
    coords: np.ndarray  # (n, 2), each ring closed (last vertex = first)
    ring: np.ndarray  # ring of each coordinate
    start: np.ndarray  # per ring: first coordinate
    count: np.ndarray  # per ring: number of coordinates
    polygon: np.ndarray  # per ring: index of its geometry
    exterior: np.ndarray  # per ring
    ccw: np.ndarray  # per ring: counter-clockwise (positive signed area)


def _ring_coordinates(geoms: np.ndarray) -> _RingCoords:
    """The rings of ``geoms`` (polygons or multipolygons) as one coordinate array, with their orientation."""
    import shapely

    multi = (shapely.get_type_id(geoms) == 6).any()
    if not multi and not (shapely.get_num_interior_rings(geoms) > 0).any():  # one ring per polygon: no copies
        coords, cring = shapely.get_coordinates(geoms, return_index=True)
        ring_polygon, exterior, nrings = np.arange(len(geoms)), np.ones(len(geoms), dtype=bool), len(geoms)
    else:
        parts, part_of = shapely.get_parts(geoms, return_index=True) if multi else (geoms, np.arange(len(geoms)))
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        exterior = np.r_[True, ring_of[1:] != ring_of[:-1]] if len(ring_of) else np.zeros(0, bool)
        coords, cring = shapely.get_coordinates(rings, return_index=True)
        ring_polygon, nrings = part_of[ring_of], len(rings)
    start, count = _starts(cring, nrings)
    # twice the signed area of each ring (trapezoids, y relative to the first vertex: small products)
    same = cring[1:] == cring[:-1]
    y = coords[:, 1] - (coords[0, 1] if len(coords) else 0.0)
    twice = (coords[:-1, 0] - coords[1:, 0]) * (y[:-1] + y[1:])
    area2 = np.bincount(cring[:-1][same], weights=twice[same], minlength=nrings)
    return _RingCoords(coords, cring, start, count, ring_polygon, exterior, area2 > 0)


def ring_edges(geoms: np.ndarray, origin: tuple[float, float] = (0.0, 0.0)) -> Rings:
    """The edges of ``geoms``' rings (polygons or multipolygons), every ring turned counter-clockwise; their
    boxes relative to ``origin``."""
    r = _ring_coordinates(geoms)
    cring, rstart, rcount = r.ring, r.start, r.count
    pos = np.arange(len(cring)) - rstart[cring]
    pos = np.where(r.ccw[cring], pos, rcount[cring] - 1 - pos)
    coords = r.coords[rstart[cring] + pos]
    k = np.flatnonzero(cring[1:] == cring[:-1])
    ering = cring[k]
    start, count = _starts(r.polygon[ering], len(geoms))
    x0, y0, x1, y1 = coords[k, 0], coords[k, 1], coords[k + 1, 0], coords[k + 1, 1]
    box = np.stack([_f32(np.minimum(x0, x1), origin[0], False), _f32(np.maximum(x0, x1), origin[0], True),
                    _f32(np.minimum(y0, y1), origin[1], False), _f32(np.maximum(y0, y1), origin[1], True)])
    return Rings(np.stack([x0, y0, x1, y1]), box, origin, ering, np.where(r.exterior, 1.0, -1.0), start, count)


def fan_triangles(geoms: np.ndarray, origin: tuple[float, float] = (0.0, 0.0)) -> Triangles:
    """Signed fan triangles ``(v0, vk, vk+1)`` of every ring of ``geoms``, each returned counter-clockwise with a
    sign: its orientation times the ring's (so that the signs of a ring's triangles give winding number +1 inside
    an exterior, −1 inside a hole, whatever way the ring runs); degenerate ones dropped."""
    r = _ring_coordinates(geoms)
    cring, coords = r.ring, r.coords
    rstart, rcount = r.start, r.count
    pos = np.arange(len(cring)) - rstart[cring]
    k = np.flatnonzero((pos >= 1) & (pos <= rcount[cring] - 3))  # the closing vertex repeats v0
    v0 = coords[rstart[cring[k]]]
    v1, v2 = coords[k], coords[k + 1]
    area2 = (v1[:, 0] - v0[:, 0]) * (v2[:, 1] - v0[:, 1]) - (v1[:, 1] - v0[:, 1]) * (v2[:, 0] - v0[:, 0])
    keep = area2 != 0
    neg = area2[keep] < 0
    ring = cring[k[keep]]
    v0, v1, v2 = v0[keep], v1[keep], v2[keep]
    v = np.stack([v0, np.where(neg[:, None], v2, v1), np.where(neg[:, None], v1, v2)], axis=1)
    ring_sign = np.where(r.exterior == r.ccw, 1.0, -1.0)[ring]
    start, count = _starts(r.polygon[ring], len(geoms))
    return Triangles(v, np.where(neg, -1.0, 1.0) * ring_sign, start, count, *_triangle_tables(v, origin), origin)


def _triangle_tables(v: np.ndarray, origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """``local`` and ``box`` of :class:`Triangles`."""
    o = v[:, 0]
    b, c = v[:, 1] - o, v[:, 2] - o
    g = (b + c) / 3.0
    area = 0.5 * (b[:, 0] * c[:, 1] - b[:, 1] * c[:, 0])
    local = np.vstack([o.T, b.T, c.T, area])
    lo = np.minimum(np.minimum(v[:, 0], v[:, 1]), v[:, 2])
    hi = np.maximum(np.maximum(v[:, 0], v[:, 1]), v[:, 2])
    m = MARGIN * max(1.0, float(np.abs(lo).max()), float(np.abs(hi).max())) if len(v) else 0.0
    gy, gx = o[:, 1] + g[:, 1], o[:, 0] + g[:, 0]
    x0, y0 = origin
    box = np.stack([_f32(x, x0 if axis == 0 else y0, up) for x, axis, up in (
        (lo[:, 0] - m, 0, False), (hi[:, 0] + m, 0, True), (lo[:, 1] - m, 1, False), (hi[:, 1] + m, 1, True),
        (gy - m, 1, False), (gy + m, 1, True), (gx - m, 0, False))])
    return local, box


def _expand(start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows with ``count`` children each: (parent row of each child, child index ``start + k``)."""
    parent = np.repeat(np.arange(len(count)), count)
    child = np.arange(len(parent)) + np.repeat(start - (np.cumsum(count) - count), count)
    return parent, child


def intersection_areas(a: np.ndarray, b: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``area(a[i[k]] ∩ b[j[k]])`` for every k (coordinate units²), see the module docstring."""
    import shapely

    if not len(i):
        return np.zeros(0, dtype=np.float64)
    box_a, box_b = shapely.bounds(a), shapely.bounds(b)
    origin = tuple(float(x) for x in np.nan_to_num(np.fmin(np.nanmin(box_a[:, :2], axis=0),
                                                           np.nanmin(box_b[:, :2], axis=0))))
    rings, tris = ring_edges(a, origin), fan_triangles(b, origin)
    return _areas(rings, tris, box_a - np.array(origin * 2), i, j)


def _areas(rings: Rings, tris: Triangles, abox: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """:func:`intersection_areas` from the tables (``abox``: bounds of ``a``'s polygons relative to the origin)."""
    out = np.zeros(len(i), dtype=np.float64)
    pair, tri = _expand(tris.start[j], tris.count[j])
    ai = i[pair]
    t = _rows(tris.box[:4], tri)
    hit = (t[0] <= abox[ai, 2]) & (t[1] >= abox[ai, 0]) & (t[2] <= abox[ai, 3]) & (t[3] >= abox[ai, 1])
    pair, tri = pair[hit], tri[hit]
    cum = np.cumsum(rings.count[i[pair]])
    cuts = np.searchsorted(cum, np.arange(CHUNK_ROWS, cum[-1] if len(cum) else 0, CHUNK_ROWS), side="right")
    ends = np.unique(np.r_[0, cuts, len(pair)])

    def chunk(lo: int, hi: int) -> np.ndarray:
        return np.bincount(pair[lo:hi] - pair[lo], weights=_pair_triangle_areas(rings, tris, i[pair[lo:hi]],
                                                                                  tri[lo:hi]))

    with ThreadPoolExecutor(max(1, min(THREADS, len(ends) - 1))) as pool:  # numpy releases the GIL in its loops
        for lo, area in zip(ends[:-1], pool.map(chunk, ends[:-1], ends[1:]), strict=True):
            p0 = pair[lo]  # ``pair`` is sorted; a pair may straddle two chunks
            out[p0:p0 + len(area)] += area
    return out


def _rows(table: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """Columns ``idx`` of each row of ``table`` (one fancy index per row: much faster than :func:`numpy.take`)."""
    return tuple(row[idx] for row in table)


def _candidate_rows(rings: Rings, tris: Triangles, poly: np.ndarray, tri: np.ndarray):
    """(row, edge) of the edges of ``poly[row]`` that can meet triangle ``tri[row]`` or cross the ray from its
    centroid towards +x (bounding boxes, widened by the margin)."""
    cnt = rings.count[poly]
    pt, edge = _expand(rings.start[poly], cnt)
    e = _rows(rings.box, edge)
    t = _rows(tris.box, tri)
    keep = e[0] <= t[1][pt]
    keep &= e[1] >= t[0][pt]
    keep &= e[2] <= t[3][pt]
    keep &= e[3] >= t[2][pt]
    ray = e[2] <= t[5][pt]
    ray &= e[3] >= t[4][pt]
    ray &= e[1] >= t[6][pt]
    keep |= ray
    idx = np.flatnonzero(keep)
    return pt[idx], edge[idx]


def _pair_triangle_areas(rings: Rings, tris: Triangles, poly: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Signed ``sign(t) · area(poly ∩ t)`` for each (polygon of ``a``, triangle of ``b``) row."""
    pt, edge = _candidate_rows(rings, tris, poly, tri)
    loc = np.stack(_rows(tris.local[:6], tri[pt]))  # per (row, edge): o, b, c
    xy = _rows(rings.xy, edge)
    ox, oy = loc[0], loc[1]
    px, py, qx, qy = xy[0] - ox, xy[1] - oy, xy[2] - ox, xy[3] - oy
    gx, gy = (loc[2] + loc[4]) / 3.0, (loc[3] + loc[5]) / 3.0  # the centroid
    # groups: one (pair-triangle row, ring) each, contiguous
    ring = rings.ring[edge]
    new = np.r_[True, (pt[1:] != pt[:-1]) | (ring[1:] != ring[:-1])]
    group = np.cumsum(new) - 1
    ng = int(group[-1]) + 1 if len(group) else 0
    first = np.flatnonzero(new)
    area_t = tris.local[6, tri]  # per (polygon, triangle) row
    # parity of the crossings of the ray from the centroid towards +x (for a triangle inside the ring)
    s = np.flatnonzero((py > gy) != (qy > gy))
    with np.errstate(divide="ignore", invalid="ignore"):
        xint = px[s] + (gy[s] - py[s]) * (qx[s] - px[s]) / (qy[s] - py[s])
    odd = (np.bincount(group[s], weights=xint > gx[s], minlength=ng) % 2) == 1
    # the edges' pieces inside the triangle and where they enter / leave it
    d, out = _side_distances(px, py, qx, qy, loc)
    nz = np.flatnonzero(~((out[0] & out[3]) | (out[1] & out[4]) | (out[2] & out[5])))  # not outside one side
    p_out, q_out = out[0][nz] | out[1][nz] | out[2][nz], out[3][nz] | out[4][nz] | out[5][nz]
    te, tx, he, hx = _clip(d[:, nz], out[:, nz])
    px, py, qx, qy, loc, gnz, ptn = px[nz], py[nz], qx[nz], qy[nz], loc[:, nz], group[nz], pt[nz]
    vertex_in = np.bincount(gnz[~p_out], minlength=ng) > 0
    k = np.flatnonzero((te < tx) | ~p_out | ~q_out)  # a piece inside: an end inside, even if te rounds to tx
    ti, ui = te[k], tx[k]
    kx, ky, dx, dy = px[k], py[k], qx[k] - px[k], qy[k] - py[k]
    sx_ = np.where(ti == 0.0, kx, kx + ti * dx)
    sy_ = np.where(ti == 0.0, ky, ky + ti * dy)
    ex_ = np.where(ui == 1.0, qx[k], kx + ui * dx)
    ey_ = np.where(ui == 1.0, qy[k], ky + ui * dy)
    gk = gnz[k]
    total = np.bincount(gk, weights=0.5 * (sx_ * ey_ - sy_ * ex_), minlength=ng).astype(np.float64)
    en, ex = p_out[k], q_out[k]  # entries and exits among them
    lk = loc[:, k]
    psi_e, par_e = _boundary_position(he[k][en], sx_[en], sy_[en], lk[:, en], area_t[ptn[k][en]])
    psi_x, par_x = _boundary_position(hx[k][ex], ex_[ex], ey_[ex], lk[:, ex], area_t[ptn[k][ex]])
    ge, gx_ = gk[en], gk[ex]
    total += np.bincount(ge, weights=psi_e, minlength=ng) - np.bincount(gx_, weights=psi_x, minlength=ng)
    events, wrap = _first_is_entry(ge, gx_, par_e, par_x, ng)
    total += area_t[pt[first]] * np.where(events, wrap, odd & ~vertex_in)
    signed = total * rings.sign[ring[first]] * tris.sign[tri[pt[first]]]
    return np.bincount(pt[first], weights=signed, minlength=len(poly))


def _side_distances(px, py, qx, qy, loc) -> tuple[np.ndarray, np.ndarray]:
    """Signed distances (× side length) of p and q from the three sides of the triangle (0, b, c), positive
    inside: rows p0, p1, p2, q0, q1, q2; and whether each is outside (≤ 0: on a side counts as outside). Each
    vertex gets the same value whichever edge it ends."""
    bx, by, cx, cy = loc[2], loc[3], loc[4], loc[5]
    ex, ey = cx - bx, cy - by
    d = np.empty((6, len(px)))
    for r, (x, y) in enumerate(((px, py), (qx, qy))):
        d[3 * r] = bx * y - by * x  # side 0: from 0 along b
        d[3 * r + 1] = ex * (y - by) - ey * (x - bx)  # side 1: from b along c − b
        d[3 * r + 2] = cy * (x - cx) - cx * (y - cy)  # side 2: from c along −c
    return d, d <= 0


def _clip(d: np.ndarray, out: np.ndarray):
    """Clip each edge p→q to the open triangle from the signed distances ``d`` of its ends (see
    :func:`_side_distances`): (te, tx) the parameters where it enters and leaves (0 and 1 when an end is
    inside) and the sides it crosses there."""
    n = d.shape[1]
    te, tx = np.full(n, -1.0), np.full(n, 2.0)
    he, hx = np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int8)
    for h in range(3):
        dp, dq = d[h], d[h + 3]
        out_p, out_q = out[h], out[h + 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            th = dp / (dp - dq)
        enter = out_p & ~out_q & (th > te)
        te = np.where(enter, th, te)
        he[enter] = h
        leave = ~out_p & out_q & (th < tx)
        tx = np.where(leave, th, tx)
        hx[leave] = h
    return np.maximum(te, 0.0), np.minimum(tx, 1.0), he, hx


def _boundary_position(h, x, y, loc, area_t):
    """(Ψ, position) of points on side ``h`` of the triangle (0, b, c) (``loc``: rows of ``Triangles.local``).
    Position: counter-clockwise along the boundary from the reference point ``Q`` (fraction :data:`PHI` of side
    0), in sides (0 … 3). Ψ: ½∫ x dy − y dx along the boundary from vertex 0, plus ``area_t`` between vertex 0
    and ``Q`` — i.e. the integral from ``Q`` up to a constant, so that arcs not passing ``Q`` integrate to
    Ψ(end) − Ψ(start)."""
    bx, by, cx, cy = loc[2], loc[3], loc[4], loc[5]
    phi = np.where(h == 0, 0.0, np.where(h == 1, 0.5 * (bx * y - by * x), area_t + 0.5 * (cx * y - cy * x)))
    sx = np.where(h == 0, 0.0, np.where(h == 1, bx, cx))
    sy = np.where(h == 0, 0.0, np.where(h == 1, by, cy))
    ex = np.where(h == 0, bx, np.where(h == 1, cx, 0.0)) - sx
    ey = np.where(h == 0, by, np.where(h == 1, cy, 0.0)) - sy
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.clip(((x - sx) * ex + (y - sy) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    before_q = (h == 0) & (s < PHI)
    return np.where(before_q, phi + area_t, phi), np.mod(h + s - PHI, 3.0)


def _first_is_entry(ge, gx, par_e, par_x, ng) -> tuple[np.ndarray, np.ndarray]:
    """Per group (``ge``/``gx``: the group of each entry/exit): (whether it has boundary events, whether its first
    event counter-clockwise from ``Q`` is an entry: ``Q`` then lies on an arc from an exit to that entry, inside
    the ring).

    Events at the same point (within :data:`TIE`) that are as many entries as exits — a ring touching the
    boundary from inside (exit, entry) or an edge through a corner (entry, exit) — are dropped: removing two
    adjacent events of opposite kinds leaves the alternation of the others, hence the answer, unchanged.
    A group with one entry and one exit (most of them) is decided by comparing the two positions; the others
    by sorting their events (on one integer key: the group, then the position to 2⁻⁴⁰ of a side or finer, far
    below :data:`TIE`).
    """
    has = np.zeros(ng, dtype=bool)
    first = np.zeros(ng, dtype=bool)
    if not len(ge) + len(gx):
        return has, first
    ne, nx = np.bincount(ge, minlength=ng), np.bincount(gx, minlength=ng)
    two = (ne == 1) & (nx == 1)
    pe, px = np.zeros(ng), np.zeros(ng)
    pe[ge], px[gx] = par_e, par_x
    has[:] = two & (np.abs(pe - px) > TIE)
    first[:] = has & (pe < px)
    se, sx = ~two[ge], ~two[gx]
    g = np.r_[ge[se], gx[sx]]
    if not len(g):
        return has, first
    par = np.r_[par_e[se], par_x[sx]]
    kind = np.r_[np.ones(int(se.sum())), -np.ones(int(sx.sum()))]
    bits = 62 - max(ng, 1).bit_length()  # the group in the high bits, the position (< 4) quantised below
    order = np.argsort((g.astype(np.int64) << bits) + (par * (2.0 ** (bits - 2))).astype(np.int64))
    g, par, kind = g[order], par[order], kind[order]
    new = np.r_[True, (g[1:] != g[:-1]) | (np.diff(par) > TIE)]
    cluster = np.cumsum(new) - 1
    net = np.bincount(cluster, weights=kind)
    cg = g[new]
    keep = net != 0
    cg, net = cg[keep], net[keep]
    head = np.r_[True, cg[1:] != cg[:-1]] if len(cg) else np.zeros(0, dtype=bool)
    has[cg] = True
    first[cg[head]] = net[head] > 0
    return has, first
