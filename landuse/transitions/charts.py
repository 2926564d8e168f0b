"""Pictures of a transition matrix, with Vietnamese labels: gains and losses per category (bars) and the
largest flows (a Sankey-like diagram: start types on the left, end types on the right, band width ∝ ha).

``.png`` needs matplotlib (``pip install 'landuse[plot]'``); ``.html`` is one self-contained file with inline
SVG (no script, no network).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from landuse.errors import InputError, Location
from landuse.output import atomic_open, atomic_path
from landuse.transitions.change import split_matrix

TOP_FLOWS = 15
T_GAIN, T_LOSS = "Tăng (ha)", "Giảm (ha)"
T_BARS = "Tăng, giảm theo loại đất"
T_FLOWS = "Các luồng chu chuyển lớn nhất"
T_START, T_END = "Đầu kỳ", "Cuối kỳ"
T_ESTIMATED = " (ước tính)"


def gains_losses(matrix: pd.DataFrame) -> pd.DataFrame:
    """Per code: gross gain (conversions in + tăng khác) and gross loss (conversions out + giảm khác), ha;
    codes with neither are dropped."""
    core, dec, inc = split_matrix(matrix)
    c = core.to_numpy()
    p = np.diag(c)
    out = pd.DataFrame({"code": core.index, "gain": c.sum(axis=0) - p + inc.to_numpy(),
                        "loss": c.sum(axis=1) - p + dec.to_numpy()})
    return out[(out["gain"] > 0) | (out["loss"] > 0)].reset_index(drop=True)


def top_flows(matrix: pd.DataFrame, n: int = TOP_FLOWS) -> pd.DataFrame:
    """The ``n`` largest off-diagonal cells: ``from, to, area_ha``."""
    core, _, _ = split_matrix(matrix)
    long = core.stack().rename("area_ha").reset_index()
    long.columns = ["from", "to", "area_ha"]
    long = long[(long["from"] != long["to"]) & (long["area_ha"] > 0)]
    return long.nlargest(n, "area_ha").reset_index(drop=True)


PICTURE_TYPES = (".png", ".html", ".htm")


def check_plot_path(path: Path | str, by_unit: bool = False) -> None:
    """Refuse a picture that cannot be drawn, before anything is computed: an unknown file type, or
    per-unit matrices (``by_unit``)."""
    path = Path(path)
    if path.suffix.lower() not in PICTURE_TYPES:
        raise InputError("unknown picture type", Location.of(path), expected=".png or .html", found=path.suffix)
    if by_unit:
        raise InputError("a picture draws one matrix, not one matrix per unit", Location.of(path))


def write_plot(matrix: pd.DataFrame, path: Path | str, title: str = "", estimated: bool = False,
               force: bool = False) -> Path:
    """Write the two pictures of ``matrix`` to ``path`` (.png or .html), atomically."""
    path = Path(path)
    title = (title or "Chu chuyển diện tích các loại đất") + (T_ESTIMATED if estimated else "")
    check_plot_path(path, matrix.index.nlevels > 1)
    gl, flows = gains_losses(matrix), top_flows(matrix)
    if path.suffix.lower() == ".png":
        _png(gl, flows, path, title, force)
    else:
        with atomic_open(path, force=force) as fh:
            fh.write(_html(gl, flows, title))
    return path


def _columns(flows: pd.DataFrame) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """Stacked positions (y0, y1) in [0, 1] of the left (from) and right (to) nodes, with gaps."""
    out = []
    for col in ("from", "to"):
        sizes = flows.groupby(col, sort=False)["area_ha"].sum()
        gap = 0.02
        total = sizes.sum() or 1.0
        scale = (1 - gap * max(len(sizes) - 1, 0)) / total
        pos, y = {}, 0.0
        for code, s in sizes.items():
            pos[code] = (y, y + s * scale)
            y += s * scale + gap
        out.append(pos)
    return out[0], out[1]


def _bands(flows: pd.DataFrame):
    """(from, to, area, (l0, l1), (r0, r1)) of each flow, stacked inside its nodes."""
    left, right = _columns(flows)
    total = flows["area_ha"].sum() or 1.0
    gap = 0.02
    scale_l = (1 - gap * max(len(left) - 1, 0)) / total
    scale_r = (1 - gap * max(len(right) - 1, 0)) / total
    used_l = {k: v[0] for k, v in left.items()}
    used_r = {k: v[0] for k, v in right.items()}
    for f, t, a in flows[["from", "to", "area_ha"]].itertuples(index=False):
        l0, r0 = used_l[f], used_r[t]
        used_l[f], used_r[t] = l0 + a * scale_l, r0 + a * scale_r
        yield f, t, a, (l0, used_l[f]), (r0, used_r[t])


def _png(gl: pd.DataFrame, flows: pd.DataFrame, path: Path, title: str, force: bool) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import PathPatch
        from matplotlib.path import Path as MPath
    except ImportError:
        raise InputError("a PNG picture needs matplotlib (pip install 'landuse[plot]'); or use .html",
                         Location.of(path)) from None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, max(6, 0.28 * len(gl) + 2)))
    y = np.arange(len(gl))
    ax1.barh(y, gl["gain"], color="#2e7d32", label=T_GAIN)
    ax1.barh(y, -gl["loss"], color="#c62828", label=T_LOSS)
    ax1.set_yticks(y, gl["code"])
    ax1.invert_yaxis()
    ax1.axvline(0, color="black", lw=0.5)
    ax1.set_title(T_BARS)
    ax1.set_xlabel("ha")
    ax1.legend()
    left, right = _columns(flows)
    for _f, _t, _a, (l0, l1), (r0, r1) in _bands(flows):
        verts = [(0, 1 - l0), (0.5, 1 - l0), (0.5, 1 - r0), (1, 1 - r0), (1, 1 - r1), (0.5, 1 - r1),
                 (0.5, 1 - l1), (0, 1 - l1), (0, 1 - l0)]
        codes = [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4, MPath.LINETO, MPath.CURVE4,
                 MPath.CURVE4, MPath.CURVE4, MPath.CLOSEPOLY]
        ax2.add_patch(PathPatch(MPath(verts, codes), facecolor="#1565c0", alpha=0.35, lw=0))
    for pos, x, ha in ((left, -0.02, "right"), (right, 1.02, "left")):
        for code, (a0, a1) in pos.items():
            ax2.add_patch(plt.Rectangle((x - 0.01 if ha == "right" else x - 0.03, 1 - a1), 0.02, a1 - a0,
                                        color="#37474f"))
            ax2.text(x - 0.03 if ha == "right" else x + 0.01, 1 - (a0 + a1) / 2, code, ha=ha, va="center",
                     fontsize=8)
    ax2.set_xlim(-0.15, 1.15)
    ax2.set_ylim(-0.02, 1.02)
    ax2.axis("off")
    ax2.set_title(f"{T_FLOWS} ({T_START} → {T_END})")
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path, force=force) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def _html(gl: pd.DataFrame, flows: pd.DataFrame, title: str) -> str:
    e = html.escape
    w, row_h = 520, 18
    h1 = row_h * len(gl) + 40
    vmax = float(max(gl["gain"].max() if len(gl) else 0, gl["loss"].max() if len(gl) else 0, 1))
    mid, half = 60 + (w - 60) / 2, (w - 80) / 2
    bars = []
    for i, r in enumerate(gl.itertuples()):
        y = 30 + i * row_h
        gw, lw = half * r.gain / vmax, half * r.loss / vmax
        bars.append(f'<text x="4" y="{y + 12}" font-size="11">{e(r.code)}</text>'
                    f'<rect x="{mid:.1f}" y="{y}" width="{gw:.1f}" height="{row_h - 4}" fill="#2e7d32">'
                    f'<title>{e(r.code)} {T_GAIN}: {r.gain:,.0f}</title></rect>'
                    f'<rect x="{mid - lw:.1f}" y="{y}" width="{lw:.1f}" height="{row_h - 4}" fill="#c62828">'
                    f'<title>{e(r.code)} {T_LOSS}: {r.loss:,.0f}</title></rect>')
    bar_svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h1}">'
               f'<text x="{mid - 60:.0f}" y="16" font-size="12" fill="#c62828">{T_LOSS}</text>'
               f'<text x="{mid + 10:.0f}" y="16" font-size="12" fill="#2e7d32">{T_GAIN}</text>'
               f'<line x1="{mid:.1f}" y1="24" x2="{mid:.1f}" y2="{h1}" stroke="black"/>' + "".join(bars) + "</svg>")
    sw, sh, x0, x1 = 560, 480, 80, 480
    left, right = _columns(flows)
    parts = []
    for f, t, a, (l0, l1), (r0, r1) in _bands(flows):
        ya0, ya1, yb0, yb1 = (20 + v * (sh - 40) for v in (l0, l1, r0, r1))
        xm = (x0 + x1) / 2
        parts.append(f'<path d="M{x0},{ya0:.1f} C{xm},{ya0:.1f} {xm},{yb0:.1f} {x1},{yb0:.1f} L{x1},{yb1:.1f} '
                     f'C{xm},{yb1:.1f} {xm},{ya1:.1f} {x0},{ya1:.1f} Z" fill="#1565c0" fill-opacity="0.35">'
                     f'<title>{e(f)} → {e(t)}: {a:,.0f} ha</title></path>')
    for pos, x, anchor, dx in ((left, x0 - 8, "end", -4), (right, x1, "start", 12)):
        for code, (a0, a1) in pos.items():
            y0, y1 = 20 + a0 * (sh - 40), 20 + a1 * (sh - 40)
            parts.append(f'<rect x="{x}" y="{y0:.1f}" width="8" height="{max(y1 - y0, 1):.1f}" fill="#37474f"/>'
                         f'<text x="{x + dx}" y="{(y0 + y1) / 2 + 4:.1f}" font-size="11" '
                         f'text-anchor="{anchor}">{e(code)}</text>')
    sankey = f'<svg xmlns="http://www.w3.org/2000/svg" width="{sw}" height="{sh}">' + "".join(parts) + "</svg>"
    return (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>{e(title)}</title></head>'
            f'<body style="font-family:sans-serif"><h1 style="font-size:18px">{e(title)}</h1>'
            f'<div style="display:flex;gap:24px;flex-wrap:wrap"><div><h2 style="font-size:14px">{T_BARS}</h2>'
            f'{bar_svg}</div><div><h2 style="font-size:14px">{T_FLOWS} ({T_START} → {T_END})</h2>{sankey}</div>'
            f"</div></body></html>\n")
