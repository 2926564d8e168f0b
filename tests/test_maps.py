"""Transition matrices from two maps (issue 15): vector and raster pairs built here, areas known by construction.

The landscape: a grid of 3 × 4 cells of 100 m × 100 m (1 ha each) in VN-2000 (EPSG:9210, TM-3 105°45'), its codes
at the start (``START``) and the end (``END``). The expected matrix is counted by hand from the two grids.
"""

from __future__ import annotations

import subprocess
import sys
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

shapely = pytest.importorskip("shapely")
pyogrio = pytest.importorskip("pyogrio")
rasterio = pytest.importorskip("rasterio")

from landuse.cli import main  # noqa: E402
from landuse.errors import InputError, UnknownCodeError  # noqa: E402
from landuse.readers.maps import MapSpec, read_map_pair  # noqa: E402
from landuse.transitions.change import default_classification, transition_matrix  # noqa: E402

START = [["LUC", "LUC", "ONT", "ONT"],
         ["LUC", "HNK", "HNK", "ONT"],
         ["RSX", "RSX", "HNK", "LUC"]]
END = [["LUC", "ONT", "ONT", "ONT"],
       ["LUC", "HNK", "ONT", "ONT"],
       ["RSX", "CLN", "CLN", "LUC"]]
# counted cell by cell from START and END (1 ha each)
EXPECTED = {("LUC", "LUC"): 3, ("LUC", "ONT"): 1, ("ONT", "ONT"): 3, ("HNK", "HNK"): 1, ("HNK", "ONT"): 1,
            ("RSX", "RSX"): 1, ("RSX", "CLN"): 1, ("HNK", "CLN"): 1}
UNITS = [["Xã A", "Xã A", "Xã B", "Xã B"]] * 3  # the left half is commune A, the right half commune B
X0, Y0, CELL = 500_000.0, 2_300_000.0, 100.0
VN2000 = "EPSG:9210"


def cell_box(r: int, c: int, c2: int | None = None, x_from: float = 0.0, x_to: float = 1.0):
    """The ground of row ``r`` (from the top), columns ``c`` … ``c2`` (inclusive), or a vertical slice of it."""
    c2 = c if c2 is None else c2
    top = Y0 - r * CELL
    return shapely.box(X0 + (c + x_from) * CELL, top - CELL, X0 + (c2 + x_to) * CELL, top)


def write_layer(path, geoms, fields: dict, crs=VN2000, layer=None, append=False):
    names = list(fields)
    pyogrio.raw.write(path, shapely.to_wkb(np.asarray(geoms, dtype=object)),
                      [np.asarray(fields[n], dtype=object) for n in names], names, layer=layer, driver="GPKG",
                      geometry_type="Polygon", crs=crs, append=append)
    return path


def start_map(tmp_path, name="a.gpkg", **kw):
    """START with runs of equal codes in a row merged into one polygon (8 polygons)."""
    geoms, codes, units = [], [], []
    for r, row in enumerate(START):
        c = 0
        while c < 4:
            e = c
            while e + 1 < 4 and row[e + 1] == row[c] and UNITS[r][e + 1] == UNITS[r][c]:
                e += 1
            geoms.append(cell_box(r, c, e))
            codes.append(row[c])
            units.append(UNITS[r][c])
            c = e + 1
    return write_layer(tmp_path / name, geoms, {"LOAI_DAT": codes, "XA": units}, **kw)


def end_map(tmp_path, name="b.gpkg", skip=(), **kw):
    """END with every cell cut into a left and a right half (24 polygons; ``skip``: cells left out)."""
    geoms, codes, units = [], [], []
    for r, row in enumerate(END):
        for c, code in enumerate(row):
            if (r, c) in skip:
                continue
            for lo, hi in ((0.0, 0.5), (0.5, 1.0)):
                geoms.append(cell_box(r, c, x_from=lo, x_to=hi))
                codes.append(code)
                units.append(UNITS[r][c])
    return write_layer(tmp_path / name, geoms, {"MA_LOAI": codes, "XA": units}, **kw)


LEGEND = {"LUC": 11, "ONT": 21, "HNK": 13, "RSX": 35, "CLN": 14}


def write_raster(path, grid, crs="EPSG:3405", pixel=10.0, nodata=None, legend=LEGEND, dtype="uint8"):
    """A raster of ``grid`` with ``CELL / pixel`` pixels per cell side (values from ``legend``)."""
    from rasterio.transform import from_origin

    k = int(CELL / pixel)
    values = np.array([[legend[c] for c in row] for row in grid], dtype=dtype)
    data = np.kron(values, np.ones((k, k), dtype=dtype))
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=dtype, crs=crs, transform=from_origin(X0, Y0, pixel, pixel), nodata=nodata) as dst:
        dst.write(data, 1)
    return path


def write_legend(path, legend=LEGEND):
    path.write_text("value,code,ten\n" + "".join(f"{v},{c},x\n" for c, v in legend.items()), encoding="utf-8")
    return path


def pairs_of(matrix: pd.DataFrame) -> dict:
    core = matrix.drop(index="total", columns="total")
    return {(f, t): round(float(v), 9) for (f, t), v in core.stack().items() if v != 0}


def vector_overlay(tmp_path, **kw):
    return read_map_pair(MapSpec(start_map(tmp_path), "LOAI_DAT", unit_field="XA"),
                         MapSpec(end_map(tmp_path), "MA_LOAI", unit_field="XA"), **kw)


# ---- the same land three ways ------------------------------------------------------------------------------
def test_vector_raster_and_plot_file_give_the_same_matrix(tmp_path):
    cls = default_classification()
    vec = vector_overlay(tmp_path, classification=cls)
    ras = read_map_pair(MapSpec(write_raster(tmp_path / "a.tif", START)),
                        MapSpec(write_raster(tmp_path / "b.tif", END)), legend=write_legend(tmp_path / "legend.csv"),
                        classification=cls)
    rows = [f"{r * 4 + c},{START[r][c]},{END[r][c]},1" for r in range(3) for c in range(4)]
    plots_csv = tmp_path / "plots.csv"
    plots_csv.write_text("plot_id,code_from,code_to,area_ha\n" + "\n".join(rows) + "\n", encoding="utf-8")
    from landuse.transitions.reports import plot_transitions

    _, from_file = plot_transitions(plots_csv, classification=cls)
    expected = {k: float(v) for k, v in EXPECTED.items()}
    assert pairs_of(transition_matrix(vec.plots, classification=cls)) == expected
    assert pairs_of(transition_matrix(ras.plots, classification=cls)) == expected
    assert pairs_of(from_file) == expected
    assert vec.area_from == pytest.approx(12) and vec.area_to == pytest.approx(12)
    assert vec.area_overlay == pytest.approx(12) and ras.area_overlay == pytest.approx(12)
    assert len(vec.findings) == 2 and set(vec.findings["check"]) == {"map-coverage"}
    assert (vec.findings["severity"] == "info").all() and (vec.findings["difference"].abs() < 1e-9).all()
    assert "9210" in vec.crs and "3405" in ras.crs


def test_by_unit_from_the_unit_field(tmp_path):
    o = vector_overlay(tmp_path)
    m = transition_matrix(o.plots, by_unit=True, classification=default_classification())
    a = m.loc["Xã A"]
    assert a.loc["LUC", "ONT"] == pytest.approx(1) and a.loc["RSX", "CLN"] == pytest.approx(1)
    assert a.loc["total", "total"] == pytest.approx(6)
    assert m.loc["Xã B"].loc["HNK", "ONT"] == pytest.approx(1)  # cell (1, 2)


def test_raster_read_in_one_row_strips_gives_the_same_counts(tmp_path):
    from landuse.readers.maps import overlay_raster

    args = (write_raster(tmp_path / "a.tif", START), write_raster(tmp_path / "b.tif", END),
            write_legend(tmp_path / "legend.csv"))
    small = overlay_raster(*args, block_pixels=1)
    whole = overlay_raster(*args, block_pixels=10**9)
    pd.testing.assert_frame_equal(small.plots, whole.plots)
    assert small.plots["pixels"].sum() == 12 * 100  # 10 m pixels: 100 per 1-ha cell


@pytest.mark.parametrize("dtype", ["int16", "uint16", "int32"])
def test_wider_pixel_types_give_the_same_counts(tmp_path, dtype):
    """8-bit maps count value pairs; wider ones map pixels through the legend strip by strip: same result."""
    legend = dict(LEGEND, HNK=1300)  # a value an 8-bit map cannot hold
    lf = write_legend(tmp_path / "legend.csv", legend)
    o = read_map_pair(MapSpec(write_raster(tmp_path / "a.tif", START, legend=legend, dtype=dtype)),
                      MapSpec(write_raster(tmp_path / "b.tif", END, legend=legend, dtype=dtype)), legend=lf)
    assert pairs_of(transition_matrix(o.plots, classification=default_classification())) == \
        {k: float(v) for k, v in EXPECTED.items()}
    assert o.plots["pixels"].sum() == 1200


# ---- CRS ------------------------------------------------------------------------------------------------
def test_geographic_crs_refused_unless_geodesic(tmp_path):
    from pyproj import Transformer

    to_geo = Transformer.from_crs(VN2000, "EPSG:4326", always_xy=True)
    a = shapely.transform(np.array([cell_box(0, 0, 3)]), lambda xy: np.column_stack(to_geo.transform(*xy.T)))
    write_layer(tmp_path / "a.gpkg", a, {"LOAI_DAT": ["LUC"]}, crs="EPSG:4326")
    write_layer(tmp_path / "b.gpkg", a, {"LOAI_DAT": ["ONT"]}, crs="EPSG:4326")
    specs = MapSpec(tmp_path / "a.gpkg", "LOAI_DAT"), MapSpec(tmp_path / "b.gpkg", "LOAI_DAT")
    with pytest.raises(InputError, match="geographic.*--geodesic"):
        read_map_pair(*specs)
    o = read_map_pair(*specs, geodesic=True)
    # 4 ha in the projected CRS; TM-3 scale factor 0.9999 and the curved edges stay within 0.1 %
    assert o.area_overlay == pytest.approx(4.0, rel=1e-3)
    assert pairs_of(transition_matrix(o.plots, classification=default_classification())) == \
        {("LUC", "ONT"): pytest.approx(o.area_overlay)}


def test_different_crs_is_an_error(tmp_path):
    start_map(tmp_path)
    end_map(tmp_path, crs="EPSG:3405")
    with pytest.raises(InputError, match="different coordinate systems"):
        read_map_pair(MapSpec(tmp_path / "a.gpkg", "LOAI_DAT"), MapSpec(tmp_path / "b.gpkg", "MA_LOAI"))


def test_rasters_on_different_grids_are_an_error(tmp_path):
    with pytest.raises(InputError, match="same grid"):
        read_map_pair(MapSpec(write_raster(tmp_path / "a.tif", START)),
                      MapSpec(write_raster(tmp_path / "b.tif", END, pixel=20.0)),
                      legend=write_legend(tmp_path / "l.csv"))


# ---- map checks -----------------------------------------------------------------------------------------
def test_different_extent_and_coverage(tmp_path):
    """The end map lacks the last column (3 cells): 3 ha of the start map are outside the overlay."""
    a = start_map(tmp_path)
    b = end_map(tmp_path, skip={(0, 3), (1, 3), (2, 3)})
    o = read_map_pair(MapSpec(a, "LOAI_DAT"), MapSpec(b, "MA_LOAI"))
    f = o.findings.set_index(["check", "source"])
    assert set(o.findings["check"]) == {"map-extent", "map-coverage"}
    cov = f.loc[("map-coverage", "a.gpkg:a")]
    assert cov["expected"] == pytest.approx(12) and cov["difference"] == pytest.approx(-3)
    assert cov["severity"] == "error"
    assert f.loc[("map-coverage", "b.gpkg:b"), "difference"] == pytest.approx(0)
    assert o.area_overlay == pytest.approx(9)


def test_invalid_geometry_repaired_with_the_area_change(tmp_path):
    """A bow-tie over cells (0, 0)–(1, 1): its signed area is 0 as drawn, 2 ha (two triangles) once repaired."""
    bow = shapely.Polygon([(X0, Y0), (X0 + 200, Y0 - 200), (X0 + 200, Y0), (X0, Y0 - 200)])
    assert not shapely.is_valid(bow)
    write_layer(tmp_path / "a.gpkg", [bow], {"LOAI_DAT": ["LUC"]})
    write_layer(tmp_path / "b.gpkg", [cell_box(0, 0, 1), cell_box(1, 0, 1)], {"LOAI_DAT": ["LUC", "ONT"]})
    o = read_map_pair(MapSpec(tmp_path / "a.gpkg", "LOAI_DAT"), MapSpec(tmp_path / "b.gpkg", "LOAI_DAT"))
    bad = o.findings[o.findings["check"] == "map-invalid-geometry"].iloc[0]
    assert bad["found"] == pytest.approx(0) and bad["expected"] == pytest.approx(2)
    assert bad["row"] == "feature id 1" and "Self-intersection" in bad["message"]
    # the top triangle is on the LUC row, the bottom one on the ONT row
    assert pairs_of(transition_matrix(o.plots, classification=default_classification())) == \
        {("LUC", "LUC"): pytest.approx(1), ("LUC", "ONT"): pytest.approx(1)}


def test_gap_inside_a_map(tmp_path):
    b = end_map(tmp_path, skip={(1, 1)})  # the middle cell of the second row: a 1-ha hole
    o = read_map_pair(MapSpec(start_map(tmp_path), "LOAI_DAT"), MapSpec(b, "MA_LOAI"))
    gap = o.findings[o.findings["check"] == "map-gap"]
    assert len(gap) == 1 and gap["source"].iloc[0] == "b.gpkg:b"
    assert gap["found"].iloc[0] == pytest.approx(1)
    assert o.area_to == pytest.approx(11)


def test_overlap_inside_a_map(tmp_path):
    """A second polygon over the right half of cell (0, 0) and the left half of (0, 1): 0.5 ha each."""
    geoms = [cell_box(r, c) for r in range(3) for c in range(4)] + [cell_box(0, 0, 1, x_from=0.5, x_to=0.5)]
    write_layer(tmp_path / "a.gpkg", geoms, {"LOAI_DAT": [START[r][c] for r in range(3) for c in range(4)] + ["NTS"]})
    o = read_map_pair(MapSpec(tmp_path / "a.gpkg", "LOAI_DAT"), MapSpec(end_map(tmp_path), "MA_LOAI"))
    ov = o.findings[o.findings["check"] == "map-overlap"]
    assert sorted(ov["found"].round(9)) == [0.5, 0.5]
    assert set(ov["row"]) == {"feature ids 1 and 13", "feature ids 2 and 13"}
    assert o.area_from == pytest.approx(12)  # the overlap counted once
    cov = o.findings[(o.findings["check"] == "map-coverage") & (o.findings["source"] == "a.gpkg:a")]
    assert cov["difference"].iloc[0] == pytest.approx(1)  # the overlay counts the doubled hectare twice


def test_unknown_code_names_layer_feature_and_field(tmp_path):
    geoms = [cell_box(0, c) for c in range(4)]
    write_layer(tmp_path / "a.gpkg", geoms, {"LOAI_DAT": ["LUC", "XYZ", "ONT", "XYZ"]})
    with pytest.raises(UnknownCodeError) as e:
        read_map_pair(MapSpec(tmp_path / "a.gpkg", "LOAI_DAT"), MapSpec(end_map(tmp_path), "MA_LOAI"),
                      classification=default_classification())
    assert str(e.value) == (f"{tmp_path / 'a.gpkg'}:a feature id 2:column LOAI_DAT: unknown land code 'XYZ' "
                            "(classification vn2024) (2 features with this code in all)")


def test_pixel_value_not_in_legend(tmp_path):
    grid = [row[:] for row in END]
    legend = dict(LEGEND, BHK=99)
    write_raster(tmp_path / "b.tif", grid, legend=legend)
    grid[2][1] = "BHK"
    write_raster(tmp_path / "b.tif", grid, legend=legend)
    with pytest.raises(InputError, match=r"pixel value 99 is not in the legend.*pixel row 21, column 11"):
        read_map_pair(MapSpec(write_raster(tmp_path / "a.tif", START)), MapSpec(tmp_path / "b.tif"),
                      legend=write_legend(tmp_path / "legend.csv"))


def test_legend_code_not_in_classification(tmp_path):
    legend = write_legend(tmp_path / "legend.csv", dict(LEGEND, QQQ=7))
    with pytest.raises(UnknownCodeError, match=r"legend.csv:row 7:column code.*'QQQ'"):
        read_map_pair(MapSpec(write_raster(tmp_path / "a.tif", START)),
                      MapSpec(write_raster(tmp_path / "b.tif", END)), legend=legend,
                      classification=default_classification())


def test_nodata_pixels_are_outside_the_map(tmp_path):
    """Cell (0, 0) of the end raster is nodata: 1 ha of the start map is not in the overlay."""
    legend = dict(LEGEND, NONE=0)
    grid = [row[:] for row in END]
    grid[0][0] = "NONE"
    b = write_raster(tmp_path / "b.tif", grid, nodata=0, legend=legend)
    o = read_map_pair(MapSpec(write_raster(tmp_path / "a.tif", START)), MapSpec(b),
                      legend=write_legend(tmp_path / "legend.csv"))
    nod = o.findings[o.findings["check"] == "map-nodata"]
    assert len(nod) == 1 and nod["found"].iloc[0] == pytest.approx(1)
    assert o.area_overlay == pytest.approx(11) and o.area_to == pytest.approx(11)


def test_layer_must_be_named_when_the_file_has_several(tmp_path):
    a = start_map(tmp_path, layer="hien_trang_2019")
    start_map(tmp_path, layer="ranh_gioi", append=True)
    b = end_map(tmp_path)
    with pytest.raises(InputError, match="2 layers.*--layer-from one of hien_trang_2019, ranh_gioi"):
        read_map_pair(MapSpec(a, "LOAI_DAT"), MapSpec(b, "MA_LOAI"))
    o = read_map_pair(MapSpec(a, "LOAI_DAT", layer="hien_trang_2019"), MapSpec(b, "MA_LOAI"))
    assert o.area_overlay == pytest.approx(12)


def test_missing_code_field(tmp_path):
    with pytest.raises(InputError, match="no field 'LOAI'.*LOAI_DAT"):
        read_map_pair(MapSpec(start_map(tmp_path), "LOAI"), MapSpec(end_map(tmp_path), "MA_LOAI"))


# ---- command line -----------------------------------------------------------------------------------------
def cli_args(tmp_path):
    return ["transitions", "--map-from", str(start_map(tmp_path)), "--map-to", str(end_map(tmp_path)),
            "--code-field", "LOAI_DAT", "--code-field-to", "MA_LOAI", "--format", "csv"]


def test_cli_matrix_from_maps(tmp_path):
    r = CliRunner().invoke(main, cli_args(tmp_path))
    assert r.exit_code == 0, r.output
    m = pd.read_csv(StringIO(r.stdout)).set_index("from")
    assert m.loc["LUC", "ONT"] == pytest.approx(1) and m.loc["total", "total"] == pytest.approx(12)
    assert "map-coverage" in r.stderr


def test_cli_subprocess_stdout_is_the_matrix(tmp_path):
    r = subprocess.run([sys.executable, "-m", "landuse"] + cli_args(tmp_path) + ["--report", "components"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    comp = pd.read_csv(StringIO(r.stdout))
    assert "code" in comp.columns and not comp.empty
    assert "map-coverage" in r.stderr and "map-coverage" not in r.stdout


def test_cli_unknown_code_exit_2(tmp_path):
    write_layer(tmp_path / "a.gpkg", [cell_box(0, 0)], {"LOAI_DAT": ["XYZ"]})
    r = CliRunner().invoke(main, ["transitions", "--map-from", str(tmp_path / "a.gpkg"), "--map-to",
                                  str(end_map(tmp_path)), "--code-field", "LOAI_DAT", "--code-field-to", "MA_LOAI"])
    assert r.exit_code == 2
    assert "feature id 1" in r.stderr and "column LOAI_DAT" in r.stderr and "Traceback" not in r.output


def test_cli_change_map_and_findings(tmp_path):
    out = tmp_path / "change.gpkg"
    found = tmp_path / "findings.csv"
    r = CliRunner().invoke(main, cli_args(tmp_path) + ["--change-map", str(out), "--map-findings", str(found)])
    assert r.exit_code == 0, r.output
    _, _, geom, fields = pyogrio.raw.read(out)
    area = shapely.area(shapely.from_wkb(geom)).sum() / 10_000
    changed = sum(v for (f, t), v in EXPECTED.items() if f != t)
    assert area == pytest.approx(changed)  # 4 ha changed code
    assert set(zip(fields[0], fields[1], strict=True)) == {k for k in EXPECTED if k[0] != k[1]}
    assert list(pd.read_csv(found)["check"]) == ["map-coverage", "map-coverage"]
    again = CliRunner().invoke(main, cli_args(tmp_path) + ["--change-map", str(out)])
    assert again.exit_code == 2 and "exists" in again.stderr


def test_cli_by_unit_and_needs_both_maps(tmp_path):
    r = CliRunner().invoke(main, cli_args(tmp_path) + ["--unit-field", "XA", "--by-unit"])
    assert r.exit_code == 0, r.output
    m = pd.read_csv(StringIO(r.stdout)).set_index(["unit", "from"])
    assert m.loc[("Xã B", "total"), "total"] == pytest.approx(6)
    r = CliRunner().invoke(main, ["transitions", "--map-from", str(tmp_path / "a.gpkg")])
    assert r.exit_code == 2 and "--map-to" in r.output


def test_cli_raster_pair(tmp_path):
    r = CliRunner().invoke(main, ["transitions", "--map-from", str(write_raster(tmp_path / "a.tif", START)),
                                  "--map-to", str(write_raster(tmp_path / "b.tif", END)),
                                  "--legend", str(write_legend(tmp_path / "legend.csv")), "--format", "csv"])
    assert r.exit_code == 0, r.output
    m = pd.read_csv(StringIO(r.stdout)).set_index("from")
    assert m.loc["HNK", "CLN"] == pytest.approx(1) and m.loc["total", "total"] == pytest.approx(12)


def test_cli_raster_change_map(tmp_path):
    """Raster change map: per pixel 0 (same code), the pair's value i·n + j + 1 (i, j: places of the codes in the
    legend's sorted codes), 65535 where a map has nodata — worked out here cell by cell from START and END."""
    grid = [row[:] for row in END]
    grid[0][0] = "NONE"  # nodata in the end map
    b = write_raster(tmp_path / "b.tif", grid, nodata=0, legend=dict(LEGEND, NONE=0))
    out = tmp_path / "change.tif"
    args = ["transitions", "--map-from", str(write_raster(tmp_path / "a.tif", START)), "--map-to", str(b),
            "--legend", str(write_legend(tmp_path / "legend.csv")), "--change-map", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    codes = sorted(LEGEND)  # CLN, HNK, LUC, ONT, RSX
    n = len(codes)
    cells = np.array([[65535 if (r_, c) == (0, 0) else 0 if f == t else codes.index(f) * n + codes.index(t) + 1
                       for c, (f, t) in enumerate(zip(START[r_], END[r_], strict=True))] for r_ in range(3)])
    with rasterio.open(out) as src:
        data, tags = src.read(1), src.tags(1)
        assert src.crs.to_epsg() == 3405 and src.nodata == 65535 and src.dtypes[0] == "uint16"
    assert (data == np.kron(cells, np.ones((10, 10), dtype=int))).all()
    assert {v: tags[f"PAIR_{v}"] for v in np.unique(cells) if v not in (0, 65535)} == {
        codes.index(f) * n + codes.index(t) + 1: f"{f}>{t}" for (f, t) in EXPECTED if f != t}
    assert len([k for k in tags if k.startswith("PAIR_")]) == 4
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "exists" in again.stderr
    wrong = CliRunner().invoke(main, args[:-1] + [str(tmp_path / "change.gpkg")])
    assert wrong.exit_code == 2 and "expected a .tif file" in wrong.stderr
