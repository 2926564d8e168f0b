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
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

PHI = 0.3819660112501051  # where the reference point sits on side 0 (a fraction unlikely to be a vertex)
TIE = 1e-9  # boundary events closer than this fraction of a side are at the same point
CHUNK_ROWS = 1 << 21  # (pair, triangle, edge) rows evaluated at a time: bounds the temporaries


@dataclass
class Rings:
    """The edges of every polygon's rings, each ring counter-clockwise; grouped by polygon, then ring."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    ring: np.ndarray  # ring id of each edge
    sign: np.ndarray  # per ring: +1 exterior, -1 hole
    start: np.ndarray  # per polygon: first edge
    count: np.ndarray  # per polygon: number of edges

    @property
    def xmin(self) -> np.ndarray:
        return self._box[0]

    @property
    def xmax(self) -> np.ndarray:
        return self._box[1]

    @property
    def ymin(self) -> np.ndarray:
        return self._box[2]

    @property
    def ymax(self) -> np.ndarray:
        return self._box[3]

    @cached_property
    def _box(self) -> tuple[np.ndarray, ...]:
        """Bounding box of each edge: (xmin, xmax, ymin, ymax)."""
        return (np.minimum(self.x0, self.x1), np.maximum(self.x0, self.x1), np.minimum(self.y0, self.y1),
                np.maximum(self.y0, self.y1))


@dataclass(frozen=True)
class Triangles:
    """Signed fan triangles of every polygon, each counter-clockwise; grouped by polygon."""

    v: np.ndarray  # (n, 3, 2)
    sign: np.ndarray  # +1 / -1
    start: np.ndarray  # per polygon: first triangle
    count: np.ndarray  # per polygon: number of triangles


def _ring_coordinates(geoms: np.ndarray):
    """(coordinates, ring index of each, polygon index of each ring, is-exterior of each ring)."""
    import shapely

    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    exterior = np.r_[True, ring_of[1:] != ring_of[:-1]] if len(ring_of) else np.zeros(0, bool)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    return coords, coord_ring, part_of[ring_of], exterior, rings


def _starts(owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    count = np.bincount(owner, minlength=n).astype(np.int64)
    return np.cumsum(count) - count, count


def ring_edges(geoms: np.ndarray) -> Rings:
    """The edges of ``geoms``' rings (polygons or multipolygons), every ring turned counter-clockwise."""
    import shapely

    coords, cring, rpoly, exterior, rings = _ring_coordinates(geoms)
    rstart, rcount = _starts(cring, len(rings))
    flip = ~shapely.is_ccw(rings)
    pos = np.arange(len(cring)) - rstart[cring]
    pos = np.where(flip[cring], rcount[cring] - 1 - pos, pos)
    coords = coords[rstart[cring] + pos]
    same = cring[1:] == cring[:-1]
    k = np.flatnonzero(same)
    ering = cring[k]
    start, count = _starts(rpoly[ering], len(geoms))
    return Rings(coords[k, 0], coords[k, 1], coords[k + 1, 0], coords[k + 1, 1], ering,
                 np.where(exterior, 1.0, -1.0), start, count)


def fan_triangles(geoms: np.ndarray) -> Triangles:
    """Signed fan triangles ``(v0, vk, vk+1)`` of every ring of ``geoms`` (exteriors counter-clockwise, holes
    clockwise), each returned counter-clockwise with the sign of its orientation; degenerate ones dropped."""
    import shapely

    coords, cring, rpoly, _, rings = _ring_coordinates(shapely.orient_polygons(geoms))
    rstart, rcount = _starts(cring, len(rings))
    pos = np.arange(len(cring)) - rstart[cring]
    k = np.flatnonzero((pos >= 1) & (pos <= rcount[cring] - 3))  # the closing vertex repeats v0
    v0 = coords[rstart[cring[k]]]
    v1, v2 = coords[k], coords[k + 1]
    area2 = (v1[:, 0] - v0[:, 0]) * (v2[:, 1] - v0[:, 1]) - (v1[:, 1] - v0[:, 1]) * (v2[:, 0] - v0[:, 0])
    keep = area2 != 0
    neg = area2[keep] < 0
    v0, v1, v2 = v0[keep], v1[keep], v2[keep]
    v = np.stack([v0, np.where(neg[:, None], v2, v1), np.where(neg[:, None], v1, v2)], axis=1)
    start, count = _starts(rpoly[cring[k[keep]]], len(geoms))
    return Triangles(v, np.where(neg, -1.0, 1.0), start, count)


def _expand(start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows with ``count`` children each: (parent row of each child, child index ``start + k``)."""
    parent = np.repeat(np.arange(len(count)), count)
    offset = np.arange(len(parent)) - np.repeat(np.cumsum(count) - count, count)
    return parent, start[parent] + offset


def intersection_areas(a: np.ndarray, b: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``area(a[i[k]] ∩ b[j[k]])`` for every k (coordinate units²), see the module docstring."""
    import shapely

    out = np.zeros(len(i), dtype=np.float64)
    if not len(i):
        return out
    rings, tris = ring_edges(a), fan_triangles(b)
    abox = shapely.bounds(a)
    tlo, thi = tris.v.min(axis=1), tris.v.max(axis=1)
    pair, tri = _expand(tris.start[j], tris.count[j])
    ai = i[pair]
    hit = ((tlo[tri, 0] <= abox[ai, 2]) & (thi[tri, 0] >= abox[ai, 0]) &
           (tlo[tri, 1] <= abox[ai, 3]) & (thi[tri, 1] >= abox[ai, 1]))
    pair, tri = pair[hit], tri[hit]
    cum = np.cumsum(rings.count[i[pair]])
    cuts = np.searchsorted(cum, np.arange(CHUNK_ROWS, cum[-1] if len(cum) else 0, CHUNK_ROWS), side="right")
    ends = np.unique(np.r_[0, cuts, len(pair)])
    for lo, hi in zip(ends[:-1], ends[1:], strict=True):
        sl = slice(lo, hi)
        area = _pair_triangle_areas(rings, tris, i[pair[sl]], tri[sl])
        out += np.bincount(pair[sl], weights=area, minlength=len(i))
    return out


def _cross(ax, ay, bx, by):
    return ax * by - ay * bx


def _pair_triangle_areas(rings: Rings, tris: Triangles, poly: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Signed ``sign(t) · area(poly ∩ t)`` for each (polygon of ``a``, triangle of ``b``) row."""
    v = tris.v[tri]  # per (polygon, triangle) row
    o = v[:, 0, :]
    tb, tc = v[:, 1, :] - o, v[:, 2, :] - o
    lo, hi = v.min(axis=1), v.max(axis=1)
    g = o + (tb + tc) / 3.0  # centroid
    pt, edge = _expand(rings.start[poly], rings.count[poly])
    # keep the edges that can meet the triangle or cross the ray from its centroid towards +x (bounding boxes)
    exlo, exhi, eylo, eyhi = rings.xmin[edge], rings.xmax[edge], rings.ymin[edge], rings.ymax[edge]
    gy = g[pt, 1]
    keep = (((exlo <= hi[pt, 0]) & (exhi >= lo[pt, 0]) & (eylo <= hi[pt, 1]) & (eyhi >= lo[pt, 1]))
            | ((eylo <= gy) & (eyhi > gy) & (exhi > g[pt, 0])))
    idx = np.flatnonzero(keep)
    pt, edge = pt[idx], edge[idx]
    ox, oy = o[pt, 0], o[pt, 1]
    px, py = rings.x0[edge] - ox, rings.y0[edge] - oy
    qx, qy = rings.x1[edge] - ox, rings.y1[edge] - oy
    gx, gy = g[pt, 0] - ox, g[pt, 1] - oy
    straddle = (py > gy) != (qy > gy)
    bx, by, cx, cy = tb[pt, 0], tb[pt, 1], tc[pt, 0], tc[pt, 1]
    te, tx, he, hx, empty, p_out, q_out = _clip(px, py, qx, qy, bx, by, cx, cy)
    inside = ~empty & ((te < tx) | ~p_out | ~q_out)  # an end inside: not empty, even if te rounds to tx
    area_t = 0.5 * _cross(tb[:, 0], tb[:, 1], tc[:, 0], tc[:, 1])  # per (polygon, triangle) row
    # groups: one (pair-triangle row, ring) each, contiguous
    ring = rings.ring[edge]
    new = np.r_[True, (pt[1:] != pt[:-1]) | (ring[1:] != ring[:-1])]
    group = np.cumsum(new) - 1
    ng = int(group[-1]) + 1 if len(group) else 0
    first = np.flatnonzero(new)
    k = np.flatnonzero(inside)  # rows with a piece inside the triangle
    ti, ui = te[k], tx[k]
    kx, ky, dx, dy = px[k], py[k], qx[k] - px[k], qy[k] - py[k]
    sx_ = np.where(ti == 0.0, kx, kx + ti * dx)
    sy_ = np.where(ti == 0.0, ky, ky + ti * dy)
    ex_ = np.where(ui == 1.0, qx[k], kx + ui * dx)
    ey_ = np.where(ui == 1.0, qy[k], ky + ui * dy)
    total = np.bincount(group[k], weights=0.5 * _cross(sx_, sy_, ex_, ey_), minlength=ng).astype(np.float64)
    en, ex = p_out[k], q_out[k]  # entries and exits among them
    kt = pt[k]
    psi_e, par_e = _boundary_position(he[k][en], sx_[en], sy_[en], tb[kt[en]], tc[kt[en]], area_t[kt[en]])
    psi_x, par_x = _boundary_position(hx[k][ex], ex_[ex], ey_[ex], tb[kt[ex]], tc[kt[ex]], area_t[kt[ex]])
    ge, gx_ = group[k][en], group[k][ex]
    total += np.bincount(ge, weights=psi_e, minlength=ng) - np.bincount(gx_, weights=psi_x, minlength=ng)
    vertex_in = np.bincount(group, weights=~p_out, minlength=ng) > 0
    s = np.flatnonzero(straddle)
    with np.errstate(divide="ignore", invalid="ignore"):
        xint = px[s] + (gy[s] - py[s]) * (qx[s] - px[s]) / (qy[s] - py[s])
    odd = (np.bincount(group[s], weights=xint > gx[s], minlength=ng) % 2) == 1
    events, wrap = _first_is_entry(ge, gx_, par_e, par_x, ng)
    total += area_t[pt[first]] * np.where(events, wrap, odd & ~vertex_in)
    signed = total * rings.sign[ring[first]] * tris.sign[tri[pt[first]]]
    return np.bincount(pt[first], weights=signed, minlength=len(poly))


def _clip(px, py, qx, qy, bx, by, cx, cy):
    """Clip each edge p→q to the open triangle (0, b, c) (counter-clockwise): (te, tx) the parameters where it
    enters and leaves (0 and 1 when an end is inside), the sides it crosses there, whether it misses the triangle
    for sure (both ends outside one side), and whether each end is outside (on a side counts as outside)."""
    n = len(px)
    te, tx = np.full(n, -1.0), np.full(n, 2.0)
    he, hx = np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int8)
    empty, p_out, q_out = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for h, (sx, sy, ex, ey) in enumerate(((0.0, 0.0, bx, by), (bx, by, cx - bx, cy - by), (cx, cy, -cx, -cy))):
        dp = _cross(ex, ey, px - sx, py - sy)
        dq = _cross(ex, ey, qx - sx, qy - sy)
        out_p, out_q = dp <= 0, dq <= 0
        empty |= out_p & out_q
        p_out |= out_p
        q_out |= out_q
        with np.errstate(divide="ignore", invalid="ignore"):
            th = dp / (dp - dq)
        enter = out_p & ~out_q & (th > te)
        te = np.where(enter, th, te)
        he = np.where(enter, h, he)
        leave = ~out_p & out_q & (th < tx)
        tx = np.where(leave, th, tx)
        hx = np.where(leave, h, hx)
    return np.maximum(te, 0.0), np.minimum(tx, 1.0), he, hx, empty, p_out, q_out


def _boundary_position(h, x, y, tb, tc, area_t):
    """(Ψ, position) of points on side ``h`` of the triangle (0, b, c) (``tb``, ``tc``: b and c as (n, 2)).
    Position: counter-clockwise along the boundary from the reference point ``Q`` (fraction :data:`PHI` of side
    0), in sides (0 … 3). Ψ: ½∫ x dy − y dx along the boundary from vertex 0, plus ``area_t`` between vertex 0
    and ``Q`` — i.e. the integral from ``Q`` up to a constant, so that arcs not passing ``Q`` integrate to
    Ψ(end) − Ψ(start)."""
    bx, by, cx, cy = tb[:, 0], tb[:, 1], tc[:, 0], tc[:, 1]
    phi = np.where(h == 0, 0.0, np.where(h == 1, 0.5 * _cross(bx, by, x, y), area_t + 0.5 * _cross(cx, cy, x, y)))
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
    """
    g = np.r_[ge, gx]
    has = np.zeros(ng, dtype=bool)
    first = np.zeros(ng, dtype=bool)
    if not len(g):
        return has, first
    par = np.r_[par_e, par_x]
    kind = np.r_[np.ones(len(ge)), -np.ones(len(gx))]
    order = np.lexsort((par, g))
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
