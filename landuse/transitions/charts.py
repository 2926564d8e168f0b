"""Pictures of a transition matrix, with Vietnamese labels: gains and losses per category (bars) and the
largest flows (a Sankey-like diagram: start types on the left, end types on the right, band width ∝ ha).

``.png`` needs matplotlib (``pip install 'landuse[plot]'``); ``.html`` is one self-contained file with inline
SVG (no script, no network).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
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


# ---- intensity analysis over N intervals ---------------------------------------------------------------------
TOP_STEP_FLOWS = 12  # largest flows per interval in the multi-step Sankey
TEXT = {
    "vi": {"interval": "Cường độ biến động hằng năm theo khoảng thời gian", "uniform_u": "Cường độ đồng đều U",
           "gain": "Cường độ tăng theo loại đất", "loss": "Cường độ giảm theo loại đất",
           "s_line": "Cường độ biến động S", "into": "Cường độ chuyển sang {n} từ các loại đất",
           "w_line": "Đồng đều W", "outof": "Cường độ chuyển từ {m} sang các loại đất", "v_line": "Đồng đều V",
           "sankey": "Các luồng chu chuyển lớn nhất", "axis": "% diện tích mỗi năm", "estimated": " (ước tính)",
           "title": "Phân tích cường độ biến động sử dụng đất"},
    "en": {"interval": "Annual change intensity by time interval", "uniform_u": "Uniform intensity U",
           "gain": "Annual gain intensity by category", "loss": "Annual loss intensity by category",
           "s_line": "Interval intensity S", "into": "Intensity of transitions to {n}", "w_line": "Uniform W",
           "outof": "Intensity of transitions from {m}", "v_line": "Uniform V",
           "sankey": "Largest flows", "axis": "% of area per year", "estimated": " (estimated)",
           "title": "Intensity analysis of land change"},
}


@dataclass
class Panel:
    """One bar chart: ``labels`` and ``values`` (% per year), a dashed ``uniform`` line named ``line``."""

    title: str
    labels: list[str]
    values: np.ndarray
    uniform: float
    line: str
    horizontal: bool = True


def _pick(res, direction: str, chosen: str | None) -> str | None:
    """The category of the transition charts: ``chosen``, else the largest total gain / loss over all intervals."""
    if chosen is not None:
        return chosen
    t = res.level("category", direction)
    total = t.groupby("category", sort=False)["change"].sum()
    return str(total.idxmax()) if len(total) and total.max() > 0 else None


def intensity_panels(res, gain: str | None = None, loss: str | None = None, lang: str = "vi") -> list[Panel]:
    """The standard charts of an :class:`~landuse.transitions.intensity.IntensityResult`: the interval chart,
    then per interval the category gain and loss charts (categories that change in some interval) and the
    transition charts into ``gain`` (n) and out of ``loss`` (m) (default: the largest gain / loss)."""
    tx = TEXT[lang]
    iv = res.level("interval")
    per = iv[iv["interval"] != "all"]
    u = float(iv.loc[iv["interval"] == "all", "uniform_pct_per_year"].iloc[0])
    panels = [Panel(tx["interval"], list(per["interval"]), per["intensity_pct_per_year"].to_numpy(), u,
                    f"{tx['uniform_u']} = {u:.3g}", horizontal=False)]
    cat = res.level("category")[["interval", "direction", "category", "change", "intensity_pct_per_year"]]
    cat = cat[cat["category"].isin(set(cat.loc[cat["change"] > 0, "category"]))]  # those that change somewhere
    by_key = {k: g for k, g in cat.groupby(["direction", "interval"], sort=False)}
    rate = dict(zip(per["interval"], per["intensity_pct_per_year"], strict=True))
    for direction in ("gain", "loss"):
        for label in res.labels:
            t = by_key.get((direction, label), cat.iloc[:0])
            s = float(rate[label])
            panels.append(Panel(f"{tx[direction]}, {label}", list(t["category"]),
                                t["intensity_pct_per_year"].fillna(0).to_numpy(), s, f"{tx['s_line']} = {s:.3g}"))
    tr = res.level("transition")[["interval", "direction", "category", "from", "to", "change",
                                  "intensity_pct_per_year", "uniform_pct_per_year"]]
    for direction, code, key, line in (("gain", _pick(res, "gain", gain), "into", "w_line"),
                                       ("loss", _pick(res, "loss", loss), "outof", "v_line")):
        if code is None:
            continue
        other = "from" if direction == "gain" else "to"
        mine = tr[(tr["direction"] == direction) & (tr["category"] == code)]
        mine = mine[mine[other].isin(set(mine.loc[mine["change"] > 0, other]))]  # partners it has in some interval
        for label in res.labels:
            t = mine[mine["interval"] == label]
            if t.empty:
                continue
            w = float(t["uniform_pct_per_year"].iloc[0])
            panels.append(Panel(f"{tx[key].format(n=code, m=code)}, {label}", list(t[other]),
                                t["intensity_pct_per_year"].to_numpy(), w, f"{tx[line]} = {w:.3g}"))
    return panels


def step_flows(res, n: int = TOP_STEP_FLOWS) -> pd.DataFrame:
    """The ``n`` largest off-diagonal flows of each interval: ``step`` (0-based interval), ``from``, ``to``,
    ``area`` (the matrices' unit)."""
    c = res.cube
    t, i, j = np.nonzero(c * (1 - np.eye(c.shape[1]))[None] > 0)
    cats = np.asarray(res.categories, dtype=object)
    long = pd.DataFrame({"step": t, "from": cats[i], "to": cats[j], "area": c[t, i, j]})
    return long.sort_values(["step", "area"], ascending=[True, False]).groupby("step").head(n).reset_index(drop=True)


def _step_layout(flows: pd.DataFrame, steps: int):
    """Node boxes ``{(column, category): (y0, y1)}`` in [0, 1] (column k = year k) and each flow's band
    ``(step, from, to, area, (a0, a1), (b0, b1))``; one scale for all columns, 0.02 gaps."""
    gap = 0.02
    sizes = []
    for k in range(steps + 1):
        out = flows[flows["step"] == k].groupby("from", sort=False)["area"].sum()
        inn = flows[flows["step"] == k - 1].groupby("to", sort=False)["area"].sum()
        sizes.append(pd.concat([inn, out], axis=1).fillna(0).max(axis=1))
    scale = min((1 - gap * max(len(s) - 1, 0)) / (s.sum() or 1.0) for s in sizes)
    nodes = {}
    for k, s in enumerate(sizes):
        y = 0.0
        for cat, a in s.items():
            nodes[(k, cat)] = (y, y + a * scale)
            y += a * scale + gap
    used_out = {key: v[0] for key, v in nodes.items()}
    used_in = dict(used_out)
    bands = []
    for st, f, to, a in flows[["step", "from", "to", "area"]].itertuples(index=False):
        a0 = used_out[(st, f)]
        b0 = used_in[(st + 1, to)]
        used_out[(st, f)], used_in[(st + 1, to)] = a0 + a * scale, b0 + a * scale
        bands.append((st, f, to, a, (a0, a0 + a * scale), (b0, b0 + a * scale)))
    return nodes, bands


def write_intensity_plot(res, path: Path | str, gain: str | None = None, loss: str | None = None,
                         lang: str = "vi", force: bool = False) -> Path:
    """Write the standard intensity-analysis pictures of ``res`` to ``path``: one PNG with every chart
    (matplotlib) or one self-contained HTML file (inline SVG). Labels in ``lang`` (Vietnamese by default)."""
    path = Path(path)
    check_plot_path(path)
    tx = TEXT[lang]
    title = tx["title"] + (tx["estimated"] if res.estimated else "")
    panels = intensity_panels(res, gain, loss, lang)
    flows = step_flows(res)
    years = [str(y) for y in res.years] or ["0"] + res.labels
    sankey_title = f"{tx['sankey']} ({' → '.join(years)}, {res.unit})"
    if path.suffix.lower() == ".png":
        _intensity_png(panels, flows, len(res.labels), years, title, sankey_title, tx["axis"], path, force)
    else:
        with atomic_open(path, force=force) as fh:
            fh.write(_intensity_html(panels, flows, len(res.labels), years, title, sankey_title, tx["axis"]))
    return path


def _intensity_png(panels: list[Panel], flows, steps, years, title, sankey_title, axis, path, force) -> None:
    plt = _pyplot(path)
    from matplotlib.patches import Polygon

    ncol = 2
    nrow = 1 + (len(panels) - 1 + ncol - 1) // ncol
    heights = [4] + [max(3, 0.22 * max((len(p.labels) for p in panels[1 + r * ncol: 1 + (r + 1) * ncol]),
                                       default=1) + 1.2) for r in range(nrow - 1)]
    fig = plt.figure(figsize=(15, sum(heights) + 1))
    grid = fig.add_gridspec(nrow, ncol, height_ratios=heights)
    axes = [fig.add_subplot(grid[0, 0])] + [fig.add_subplot(grid[1 + k // ncol, k % ncol])
                                            for k in range(len(panels) - 1)]
    for ax, p in zip(axes, panels, strict=True):
        pos = np.arange(len(p.labels))
        colors = np.where(p.values > p.uniform, "#c62828", "#607d8b")
        if p.horizontal:
            ax.barh(pos, p.values, color=colors)
            ax.set_yticks(pos, p.labels, fontsize=7)
            ax.invert_yaxis()
            ax.axvline(p.uniform, color="black", ls="--", lw=1, label=p.line)
            ax.set_xlabel(axis)
        else:
            ax.bar(pos, p.values, color=colors)
            ax.set_xticks(pos, p.labels)
            ax.axhline(p.uniform, color="black", ls="--", lw=1, label=p.line)
            ax.set_ylabel(axis)
        ax.set_title(p.title, fontsize=10)
        ax.legend(fontsize=8, loc="best")
    ax = fig.add_subplot(grid[0, 1])
    nodes, bands = _step_layout(flows, steps)
    xs = np.linspace(0, 1, steps + 1)
    for st, _f, _t, _a, (a0, a1), (b0, b1) in bands:
        x0, x1 = xs[st] + 0.01, xs[st + 1] - 0.01
        ax.add_patch(Polygon([(x0, 1 - a0), (x1, 1 - b0), (x1, 1 - b1), (x0, 1 - a1)], closed=True,
                             facecolor="#1565c0", alpha=0.35, lw=0))
    for (k, cat), (y0, y1) in nodes.items():
        ax.add_patch(plt.Rectangle((xs[k] - 0.01, 1 - y1), 0.02, y1 - y0, color="#37474f"))
        ax.text(xs[k] + (0.015 if k < steps else -0.015), 1 - (y0 + y1) / 2, cat, fontsize=7, va="center",
                ha="left" if k < steps else "right")
    for k, y in enumerate(years):
        ax.text(xs[k], 1.07, y, ha="center", fontsize=9, weight="bold")
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.02, 1.12)
    ax.axis("off")
    ax.set_title(sankey_title, fontsize=10)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / (sum(heights) + 1)))
    with atomic_path(path, force=force) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def _pyplot(path: Path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("a PNG picture needs matplotlib (pip install 'landuse[plot]'); or use .html",
                         Location.of(path)) from None
    return plt


def _svg_panel(p: Panel, axis: str) -> str:
    e = html.escape
    vmax = float(max(np.nanmax(p.values) if len(p.values) else 0.0, p.uniform if np.isfinite(p.uniform) else 0, 1e-9))
    if p.horizontal:
        row, left, width = 16, 60, 360
        h = 40 + row * len(p.labels) + 30
        ux = left + width * p.uniform / vmax
        parts = [f'<text x="{left}" y="{h - 8}" font-size="10">{e(axis)}</text>']
        for k, (lab, v) in enumerate(zip(p.labels, p.values, strict=True)):
            y = 30 + k * row
            fill = "#c62828" if v > p.uniform else "#607d8b"
            parts.append(f'<text x="{left - 4}" y="{y + 11}" font-size="10" text-anchor="end">{e(str(lab))}</text>'
                         f'<rect x="{left}" y="{y}" width="{width * v / vmax:.1f}" height="{row - 3}" fill="{fill}">'
                         f'<title>{e(str(lab))}: {v:.4g} %</title></rect>')
        parts.append(f'<line x1="{ux:.1f}" y1="24" x2="{ux:.1f}" y2="{h - 24}" stroke="black" stroke-dasharray="4 3"/>'
                     f'<text x="{ux + 3:.1f}" y="22" font-size="10">{e(p.line)}</text>')
        w = left + width + 80
    else:
        bw, base, height = 60, 200, 160
        h, w = base + 30, 40 + bw * 1.5 * len(p.labels) + 120
        uy = base - height * p.uniform / vmax
        parts = []
        for k, (lab, v) in enumerate(zip(p.labels, p.values, strict=True)):
            x = 40 + k * bw * 1.5
            bh = height * v / vmax
            fill = "#c62828" if v > p.uniform else "#607d8b"
            parts.append(f'<rect x="{x}" y="{base - bh:.1f}" width="{bw}" height="{bh:.1f}" fill="{fill}">'
                         f'<title>{e(str(lab))}: {v:.4g} %</title></rect>'
                         f'<text x="{x + bw / 2}" y="{base + 14}" font-size="10" '
                         f'text-anchor="middle">{e(str(lab))}</text>')
        parts.append(f'<line x1="30" y1="{uy:.1f}" x2="{w - 110}" y2="{uy:.1f}" stroke="black" stroke-dasharray="4 3"/>'
                     f'<text x="{w - 106}" y="{uy + 4:.1f}" font-size="10">{e(p.line)}</text>')
    return (f'<figure style="margin:0"><figcaption style="font-size:13px;font-weight:bold">{e(p.title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}">{"".join(parts)}</svg></figure>')


def _svg_sankey(flows: pd.DataFrame, steps: int, years: list[str], title: str) -> str:
    e = html.escape
    w, h, pad = 720, 480, 60
    nodes, bands = _step_layout(flows, steps)
    xs = np.linspace(pad, w - pad, steps + 1)
    sy = lambda v: 30 + v * (h - 50)  # noqa: E731 - a local scale
    parts = [f'<text x="{x:.0f}" y="18" font-size="12" font-weight="bold" text-anchor="middle">{e(y)}</text>'
             for x, y in zip(xs, years, strict=True)]
    for st, f, t, a, (a0, a1), (b0, b1) in bands:
        x0, x1 = xs[st] + 5, xs[st + 1] - 5
        xm = (x0 + x1) / 2
        parts.append(f'<path d="M{x0:.1f},{sy(a0):.1f} C{xm:.1f},{sy(a0):.1f} {xm:.1f},{sy(b0):.1f} '
                     f'{x1:.1f},{sy(b0):.1f} '
                     f'L{x1:.1f},{sy(b1):.1f} C{xm:.1f},{sy(b1):.1f} {xm:.1f},{sy(a1):.1f} {x0:.1f},{sy(a1):.1f} Z" '
                     f'fill="#1565c0" fill-opacity="0.35"><title>{e(str(f))} → {e(str(t))} ({years[st]}–'
                     f'{years[st + 1]}): {a:,.0f}</title></path>')
    for (k, cat), (y0, y1) in nodes.items():
        anchor, dx = ("start", 8) if k < steps else ("end", -8)
        parts.append(f'<rect x="{xs[k] - 5:.1f}" y="{sy(y0):.1f}" width="10" height="{max(sy(y1) - sy(y0), 1):.1f}" '
                     f'fill="#37474f"/><text x="{xs[k] + dx:.1f}" y="{(sy(y0) + sy(y1)) / 2 + 4:.1f}" font-size="10" '
                     f'text-anchor="{anchor}">{e(str(cat))}</text>')
    return (f'<figure style="margin:0"><figcaption style="font-size:13px;font-weight:bold">{e(title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">{"".join(parts)}</svg></figure>')


def _intensity_html(panels: list[Panel], flows, steps, years, title, sankey_title, axis) -> str:
    e = html.escape
    body = "".join(f"<div>{_svg_panel(p, axis)}</div>" for p in panels[:1])
    body += f"<div>{_svg_sankey(flows, steps, years, sankey_title)}</div>"
    body += "".join(f"<div>{_svg_panel(p, axis)}</div>" for p in panels[1:])
    return (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>{e(title)}</title></head>'
            f'<body style="font-family:sans-serif"><h1 style="font-size:18px">{e(title)}</h1>'
            f'<div style="display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start">{body}</div></body></html>\n')
