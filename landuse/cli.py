"""The ``landuse`` command line: a thin Click layer over the library.

Each command parses options, calls one library function and prints or writes the result. Every
:class:`~landuse.errors.LanduseError` becomes one line on stderr with exit code 2 (``--debug`` shows the
traceback).
"""

from __future__ import annotations

import atexit
import gc
import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from landuse import __version__
from landuse.errors import LanduseError
from landuse.formats import NUMBER_FORMATS
from landuse.formats import OUTPUT_FORMATS as FORMATS

# Every library module is imported inside the command that uses it: `landuse --help` and each command pay only
# for what they run (pandas, the solvers, xlsxwriter are not imported at startup; see tests/test_cli_imports.py).


class FiniteFloat(click.FloatRange):
    """A float option that refuses ``nan`` and ``inf`` (click's FLOAT takes both, and ``nan`` passes every
    range check), with optional bounds as :class:`click.FloatRange`. Every float option uses it."""

    name = "number"

    def convert(self, value, param, ctx):
        v = super().convert(value, param, ctx)
        if not math.isfinite(v):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return v


def skip_collection_at_exit() -> None:
    """Let the process end without Python's last walk over every object still alive.

    At exit Python looks for reference cycles among all the objects left (pandas alone leaves about 70,000):
    0.1 s of a one-second command, spent finding garbage the operating system reclaims anyway. By then every
    file a command writes is closed (each is written in a ``with`` block, then renamed into place), so an
    ``atexit`` hook freezes the objects (:func:`gc.freeze`) and the last collection skips them. Measured on
    ``landuse run``: 0.13 s from the end of the command to the end of the process, 0.035 s with the hook.
    """
    atexit.unregister(gc.freeze)  # once, however many commands this process runs (tests)
    atexit.register(gc.freeze)


class LanduseGroup(click.Group):
    def invoke(self, ctx: click.Context):
        skip_collection_at_exit()
        try:
            return super().invoke(ctx)
        except LanduseError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"landuse: error: {e}", err=True)
            ctx.exit(getattr(e, "exit_code", 2))
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # `landuse … | head`: the reader left; click exits quietly (code 1)
            raise
        except OSError as e:  # a file the OS refused (permissions, disk full, …)
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"landuse: error: {e.filename or ''}: {e.strerror or e}", err=True)
            ctx.exit(2)
        except Exception as e:  # noqa: BLE001 - a case the input checks missed: one line, not a traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"landuse: error: unexpected {type(e).__name__}: {e} "
                       "(the input may be malformed; rerun with --debug for details)", err=True)
            ctx.exit(2)


def data_option(f):
    """--data DIR and --number-format vi|en|auto: every command that reads a dataset takes both."""
    f = click.option("--number-format", "number_format", type=click.Choice(NUMBER_FORMATS), default=None,
                     help="Number format of the dataset's files (default: the manifest's, else auto).")(f)
    return click.option("--data", "data", type=click.Path(path_type=Path), default=None,
                        help="Dataset folder (default: the bundled data/langson).")(f)


def open_dataset(data: Path | None, number_format: str | None = None):
    """Load the dataset named by --data/--number-format (library call; errors go to the group handler)."""
    from landuse.dataset import load_dataset

    return load_dataset(data, number_format=number_format)


def output_options(f):
    """--format table|csv|json, --out FILE and --force, shared by every command that prints a table."""
    f = click.option("--force", is_flag=True, help="Replace --out if it exists.")(f)
    f = click.option("--out", "out", type=click.Path(path_type=Path), default=None,
                     help="Write to FILE instead of the terminal (written atomically).")(f)
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                     help="Output format.")(f)
    return f


def emit_frame(df, fmt: str, out: Path | None, force: bool, lang: str = "en") -> None:
    from landuse.output import emit, render

    emit(render(df, fmt, lang=lang), out, force)


def lang_option(f):
    """--lang en|vi for commands whose default output is English: numbers in the language's format in ``table``
    output (csv/json stay machine numbers)."""
    return click.option("--lang", "lang", type=click.Choice(["en", "vi"]), default="en", show_default=True,
                        help="Language of the table output: vi writes 1.234,5 (and Vietnamese messages where "
                             "the command has them).")(f)


@click.group(cls=LanduseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="landuse")
@click.option("--debug", is_flag=True, help="Show the Python traceback on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Land accounting and land-use allocation for Vietnamese provinces.

    Reads a dataset folder (inventories, published tables, plans) and reconciles, analyses, allocates
    and writes the official tables.
    """
    ctx.ensure_object(dict)["debug"] = debug


@contextmanager
def imports_set_aside() -> Iterator[None]:
    """For a command's imports: the garbage collector paused while they run, and the objects they made frozen
    (:func:`gc.freeze`) until the command ends. Imports make several hundred thousand long-lived objects (pandas)
    and no garbage, and the collections they trigger, during and after, walk them all. Measured: `transitions` on
    10 M Parquet plots 0.02 s faster. Nothing is done when objects are frozen already or the collector is off."""
    if gc.get_freeze_count() or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
        click.get_current_context().call_on_close(gc.unfreeze)


@main.command()
@data_option
@click.option("--by-unit", is_flag=True, help="One row per unit and year (default: sums over units).")
@lang_option
@output_options
def info(data: Path | None, number_format: str | None, by_unit: bool, lang: str, fmt: str, out: Path | None,
         force: bool) -> None:
    """Print the dataset: years, units, total and group areas per year (ha)."""
    from landuse.output import format_number, render
    from landuse.pipeline import dataset_overview

    ds = open_dataset(data, number_format)
    table = dataset_overview(ds, by_unit)
    if fmt == "table" and out is None:
        click.echo(f"Dataset: {ds.name} ({ds.root})")
        click.echo(f"Classification: {ds.classification.id}; years: {', '.join(map(str, ds.years))}; "
                   f"units: {len(ds.units)}; published tables: {', '.join(ds.tables) or 'none'}")
        for s in ds.skipped:
            click.echo(f"Skipped: {s}")
        shown = table.drop(columns=["computed"])
        for c in shown.columns:
            if c.endswith("_pct"):
                shown[c] = shown[c].map(lambda v: format_number(v, "{:.2f}", lang))
        shown = shown.rename(columns={c: c.replace("_pct", " %") for c in shown.columns})
        click.echo(render(shown, "table", "{:,.0f}", lang), nl=False)
        return
    emit_frame(table, fmt, out, force)


@main.command()
@data_option
@click.option("--plan", "plans", multiple=True, metavar="ID",
              help="Plan version (an id of the manifest's [plans]; default: [fulfilment] plan). "
                   "Repeat with --compare-plans.")
@click.option("--base-year", type=int, default=None, help="Baseline year (default: the plan's base year).")
@click.option("--year", type=int, default=None, help="Report year (default: [fulfilment] report_year).")
@click.option("--level", type=click.IntRange(min=0), default=None,
              help="Show rows down to this depth of the tree (0 = total, 1 = groups, ...; default: all).")
@click.option("--compare-plans", "compare", is_flag=True,
              help="Show the ratio under each plan version side by side and where they differ.")
@click.option("--low-base", default="1%,10ha", show_default=True,
              help="Flag ratios whose planned change is below this share of the baseline and/or area.")
@click.option("--over-tolerance", type=FiniteFloat(min=0), default=5.0, show_default=True,
              help="Percentage points above 100 % still counted as 'achieved' rather than 'over'.")
@click.option("--plan-file", type=click.Path(path_type=Path), default=None,
              help="Plan figures from FILE (long: code, year, area_ha) instead of the manifest's plan column.")
@click.option("--status-file", type=click.Path(path_type=Path), default=None,
              help="Statuses from FILE (long: code, year, area_ha), used before the tables and the inventory.")
@lang_option
@output_options
def fulfilment(data, number_format, plans, base_year, year, level, compare, low_base, over_tolerance, plan_file,
               status_file, lang, fmt, out, force) -> None:
    """Plan fulfilment: ratio of achieved to planned change per category, status, and ha still to change."""
    from landuse.errors import InputError
    from landuse.fulfilment import assess, compare_versions, describe
    from landuse.output import check_outputs

    check_outputs([out], force)
    if len(plans) > 1 and not compare:
        raise InputError(f"--plan given {len(plans)} times",
                         expected="one plan, or --compare-plans to compare versions")
    kw = dict(base_year=base_year, year=year, level=level, low_base=low_base, plan_file=plan_file,
              status_file=status_file, over_tolerance=over_tolerance, number_format=number_format or "auto")
    ds = open_dataset(data, number_format)
    res = compare_versions(ds, plans or None, **kw) if compare else assess(ds, plans[0] if plans else None, **kw)
    if fmt == "table" and out is None:
        click.echo(describe(res))
    emit_frame(res.table, fmt, out, force, lang)


@main.command()
@data_option
@click.option("--tolerance", type=FiniteFloat(min=0), default=2.0, show_default=True,
              help="Gaps up to this many ha are rounding, larger ones errors.")
@click.option("--strict", is_flag=True, help="Exit with code 1 when any error finding exists.")
@click.option("--reconciled", "reconciled", type=click.Path(path_type=Path), default=None,
              help="Also write the reconciled long table (one value per year and code, with its source) as CSV.")
@lang_option
@output_options
def reconcile(data: Path | None, number_format: str | None, tolerance: float, strict: bool,
              reconciled: Path | None, lang: str, fmt: str, out: Path | None, force: bool) -> None:
    """Find every place where the inventories and published tables do not add up.

    Checks sums, totals and boundary changes, derived columns, the same figure in several tables,
    classification continuity and stated flows; each finding is error, rounding or info.
    """
    from landuse.output import check_outputs, emit, render, write_all
    from landuse.reconcile import reconcile as run_checks
    from landuse.reconcile import reconciled_table
    from landuse.wording import findings_report

    check_outputs([reconciled, out], force)  # every path first: all written or none
    ds = open_dataset(data, number_format)
    found = run_checks(ds, tolerance=tolerance)
    texts = {reconciled: render(reconciled_table(ds, found), "csv")} if reconciled is not None else {}
    if out is not None and str(out) != "-":
        texts[out] = findings_report(ds, found, fmt, lang)
    write_all(texts, force)
    if out is None or str(out) == "-":
        emit(findings_report(ds, found, fmt, lang))
    if strict and (found["severity"] == "error").any():
        sys.exit(1)


@main.command()
@data_option
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True,
              help="Output folder.")
@click.option("--force", is_flag=True, help="Write into a folder that has files this tool did not write.")
@click.option("--png", is_flag=True, help="Also draw the intensity charts as PNG (needs matplotlib; the self-contained "
              "HTML charts are always written).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes to use: 1 runs every step in this one; 2 or more reconciles in a second process while "
              "the other steps run, and writes the workbook there while the CSV files are written. The files are the "
              "same either way.  [default: 2 on Linux with two CPUs or more, else 1]")
def run(data: Path | None, number_format: str | None, out: Path, force: bool, png: bool, jobs: int | None) -> None:
    """Run the main job on a dataset: every table into the output folder, then a summary."""
    with imports_set_aside():
        from landuse.pipeline import STEP_NAMES, run_summary
        from landuse.pipeline import run as run_job

    start = time.perf_counter()

    def progress(step) -> None:
        click.echo(f"[{step.number}/{len(STEP_NAMES)}] {step.name} ({step.seconds:.1f} s)", err=True)

    report = run_job(data, out, force, progress=progress, number_format=number_format, png=png, jobs=jobs)
    click.echo(run_summary(report) + f"\nDone in {time.perf_counter() - start:.1f} s.")


@main.command()
@data_option
@click.option("--scenario", "scenario", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Allocation scenario (TOML) for the 2030 sheets (default: the dataset's configuration).")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Workbook to write (.xlsx; written to a temporary file and renamed).")
@click.option("--lang", "lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of labels and headers.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--by-unit", "by_unit", is_flag=True,
              help="Allocate per administrative unit and add a sheet of the per-unit areas (units × codes).")
@click.option("--no-projects", "no_projects", is_flag=True,
              help="With --by-unit: ignore the located projects of the dataset (industrial_zones).")
def tables(data: Path | None, number_format: str | None, scenario: Path | None, out: Path, lang: str,
           force: bool, by_unit: bool, no_projects: bool) -> None:
    """Write the official tables (Bảng 2, 3, 4, 26, 05/TKKK, checks) to one Excel workbook."""
    from landuse.excel.workbook import check_workbook_path
    from landuse.output import check_outputs
    from landuse.pipeline import build_tables, python_strings

    check_workbook_path(out)
    check_outputs([out], force)
    with python_strings():  # the dataset too, as `landuse run` reads it
        res = build_tables(open_dataset(data, number_format), out, scenario=scenario, lang=lang, force=force,
                           by_unit=by_unit, projects=not no_projects)
    click.echo(f"Wrote {res.path} ({len(res.sheets)} sheets: {', '.join(res.sheets)})")
    for n in res.notes:
        click.echo(f"- {n}")


@main.command()
@click.option("--from", "from_year", type=int, required=True, help="Start year (an inventory year).")
@click.option("--to", "to_year", type=int, required=True, help="End year (an inventory year).")
@click.option("--level", type=click.IntRange(min=0), default=None,
              help="Depth N of the tree (0 = the total, 1 = groups, … up to the deepest level): show the categories "
                   "that partition the total at depth N, i.e. the codes of depth N and the leaves above it "
                   "(default: every row of the tree). A level deeper than the tree is an error.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Language of names.")
@data_option
@output_options
def change(from_year: int, to_year: int, level: int | None, lang: str, data: Path | None,
           number_format: str | None, fmt: str, out: Path | None, force: bool) -> None:
    """Net change per category between two inventories (ha; change = to − from), as in Bảng 3.

    Categories absent from a year's classification get status not-in-classification and no change; a blank
    figure (nothing printed for a year) gets status blank and no change, never a change from 0.
    """
    from landuse.output import check_outputs
    from landuse.transitions.change import net_change

    check_outputs([out], force)
    emit_frame(net_change(open_dataset(data, number_format), from_year, to_year, level, lang), fmt, out, force)


def map_options(f):
    """The map inputs of ``transitions`` (issue 15): two vector layers or two rasters instead of a plot file."""
    opts = [
        ("--map-from", dict(type=click.Path(path_type=Path), default=None,
                            help="Land-use map at the start: a polygon layer (GeoPackage, Shapefile, GeoJSON, "
                                 "FlatGeobuf) with a land-code field, or a raster (.tif) of legend values. Needs a "
                                 "projected CRS (e.g. VN-2000); pip install 'landuse[maps]'.")),
        ("--map-to", dict(type=click.Path(path_type=Path), default=None,
                          help="Land-use map at the end (same CRS; rasters on the same grid).")),
        ("--code-field", dict(default=None, help="Vector maps: field holding the land code (e.g. LOAI_DAT).")),
        ("--code-field-to", dict(default=None, help="Code field of --map-to when it differs from --code-field.")),
        ("--unit-field", dict(default=None, help="Vector maps: field holding the unit (commune), for --by-unit.")),
        ("--layer-from", dict(default=None, help="Layer of --map-from when the file has several.")),
        ("--layer-to", dict(default=None, help="Layer of --map-to when the file has several.")),
        ("--legend", dict(type=click.Path(path_type=Path), default=None,
                          help="Raster maps: CSV with columns value, code (pixel value -> land code).")),
        ("--geodesic", dict(is_flag=True, help="Accept a geographic CRS (degrees): geodesic areas on its ellipsoid.")),
        ("--change-map", dict(type=click.Path(path_type=Path), default=None,
                              help="Write where land changed: vector maps, the pieces whose code changed to "
                                   "FILE.gpkg; raster maps, a GeoTIFF FILE.tif of from→to pairs per pixel "
                                   "(0 = unchanged; pairs named in its tags).")),
        ("--map-findings", dict(type=click.Path(path_type=Path), default=None,
                                help="Write the map checks (gaps, overlaps, repairs, coverage, …) as CSV to FILE.")),
    ]
    for name, kw in reversed(opts):
        f = click.option(name, name.lstrip("-").replace("-", "_"), **kw)(f)
    return f


def _map_plots(plots, ds_cls, by_unit: bool, force: bool, map_from, map_to, code_field, code_field_to, unit_field,
               layer_from, layer_to, legend, geodesic, change_map, map_findings):
    """The plot records of the overlay of --map-from and --map-to; findings one line each on stderr."""
    from landuse.output import check_outputs
    from landuse.readers.maps import MapSpec, read_map_pair, write_change_map

    if plots is not None or map_from is None or map_to is None:
        raise click.UsageError("give --map-from and --map-to (and no PLOTS file)")
    check_outputs([change_map, map_findings], force)
    overlay = read_map_pair(MapSpec(map_from, code_field, layer_from, unit_field),
                            MapSpec(map_to, code_field_to or code_field, layer_to, unit_field), legend=legend,
                            classification=ds_cls, geodesic=geodesic, by_unit=by_unit,
                            keep_geometry=change_map is not None)
    for f in overlay.findings.itertuples():
        click.echo(f"landuse: {f.severity}: {f.check}: {f.source}{' ' + f.row if f.row else ''}: {f.message}",
                   err=True)
    if map_findings is not None:
        from landuse.output import write_csv

        write_csv(overlay.findings, map_findings, force)
    if change_map is not None:
        write_change_map(overlay, change_map, force)
    return overlay.plots


@main.command()
@click.argument("plots", type=click.Path(path_type=Path), required=False)
@click.option("--report", type=click.Choice(["matrix", "components", "intensity", "stationarity", "account"]),
              default="matrix", show_default=True, help="What to print (stationarity: with --years).")
@click.option("--interval-years", type=FiniteFloat(min=0, min_open=True), default=None,
              help="Years between the two dates, > 0 (intensities per year; default: per interval).")
@click.option("--level", type=click.IntRange(min=0), default=None,
              help="Aggregate every plot's codes to their ancestor at depth N of the tree (0 = the total, 1 = "
                   "groups, …; codes shallower than N stay as they are; default: the codes as given). A level "
                   "deeper than the tree is an error.")
@click.option("--by-unit", is_flag=True, help="One matrix per unit (--report matrix).")
@click.option("--gain", default=None, help="Gaining category for the transition-level intensities.")
@click.option("--loss", default=None, help="Losing category for the transition-level intensities.")
@click.option("--estimate", is_flag=True, help="Estimate the matrix from the stocks and known flows (an LP).")
@click.option("--from", "from_year", type=int, default=None, help="Start year (--estimate).")
@click.option("--to", "to_year", type=int, default=None, help="End year (--estimate).")
@click.option("--flows", type=click.Path(path_type=Path), default=None,
              help="Known flows file (--estimate; default: the dataset's flows).")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="Also draw the matrix: FILE.png (matplotlib) or FILE.html.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Language of names.")
@click.option("--matrix", "matrices", type=click.Path(path_type=Path), multiple=True,
              help="A from-to matrix per interval (CSV/XLSX: wide, long from,to,area or 05/TKKK); repeat; "
                   "with --years.")
@click.option("--years", default=None, metavar="Y0,Y1[,Y2…]",
              help="The dates of the --matrix files (one more than the matrices), or with --estimate the inventory "
                   "years whose intervals to estimate; intensities are then per year over N intervals.")
@click.option("--matrix-layout", type=click.Choice(["auto", "wide", "long", "05/TKKK"]), default="auto",
              show_default=True, help="Layout of the --matrix files.")
@click.option("--unit", "area_unit", default="ha", show_default=True,
              help="Area unit of wide/05/TKKK --matrix files (ha, km², pixels; a long file's area column "
                   "names its own).")
@data_option
@output_options
@map_options
def transitions(plots: Path | None, report: str, interval_years: float | None, level: int | None, by_unit: bool,
                gain: str | None, loss: str | None, estimate: bool, from_year: int | None, to_year: int | None,
                flows: Path | None, plot: Path | None, lang: str, matrices: tuple[Path, ...], years: str | None,
                matrix_layout: str, area_unit: str, data: Path | None, number_format: str | None,
                fmt: str, out: Path | None, force: bool, **maps) -> None:
    """From→to transition matrix (05/TKKK) of a plot file or of two maps, or --estimate one from stocks and
    known flows, or analyse --matrix files (one per interval) over --years.

    PLOTS has columns plot_id, unit, code_from, code_to, area_ha. Maps instead: --map-from A --map-to B,
    either two polygon layers in the same projected CRS, each with a land-code field (--code-field; a unit field
    for --by-unit), or two rasters on the same grid with a --legend CSV (value, code); areas in ha. Map checks
    (invalid geometries repaired, gaps, overlaps, extents, overlay vs map areas) are printed on stderr.
    Reports: matrix, components (gain, loss, swap, quantity/exchange/shift), intensity (Aldwaik & Pontius),
    stationarity (with --years) and account (SEEA asset account).
    """
    with imports_set_aside():
        from landuse.errors import InputError
        from landuse.output import check_outputs
        from landuse.transitions import charts
        from landuse.transitions.change import default_classification
        from landuse.transitions.reports import estimated_report, plot_transitions

    if matrices or years:
        if plots is not None or from_year or to_year or flows or level is not None or by_unit or interval_years:
            raise click.UsageError("--matrix/--years do not combine with PLOTS, --from/--to, --flows, --level, "
                                   "--by-unit or --interval-years")
        if bool(matrices) == estimate or not years:
            raise click.UsageError("give --matrix FILE (one per interval) or --estimate, with --years Y0,Y1[,…]")
        from landuse.transitions.intensity import intervals_run

        table = intervals_run(open_dataset(data, number_format) if estimate else None, list(matrices), years,
                              report=report, gain=gain, loss=loss, plot=plot, layout=matrix_layout, unit=area_unit,
                              number_format=number_format or "auto", lang=lang, force=force, out=out)
        emit_frame(table, fmt, out, force)
        return
    if report == "stationarity":
        raise click.UsageError("--report stationarity needs --years (with --matrix or --estimate)")
    check_outputs([out, plot], force)
    if plot is not None:
        charts.check_plot_path(plot, by_unit)
    ds = open_dataset(data, number_format) if (estimate or data) else None
    if maps["map_from"] is not None or maps["map_to"] is not None:
        plots = _map_plots(plots, ds.classification if ds else default_classification(), by_unit, force, **maps)
    if estimate:
        if plots is not None:
            raise InputError("give a PLOTS file or --estimate, not both")
        if from_year is None or to_year is None or by_unit or level is not None:
            raise InputError("--estimate needs --from YEAR --to YEAR (and no --by-unit or --level)")
        table, matrix = estimated_report(ds, from_year, to_year, flows, report, interval_years, gain, loss, lang)
    else:
        if plots is None:
            raise InputError("give a PLOTS file, or --estimate --from YEAR --to YEAR")
        table, matrix = plot_transitions(plots, level=level, by_unit=by_unit, report=report,
                                         interval_years=interval_years, gain=gain, loss=loss,
                                         classification=ds.classification if ds else default_classification(),
                                         number_format=number_format, lang=lang)
    if plot is not None:
        charts.write_plot(matrix, plot, estimated=estimate, force=force)
    emit_frame(table, fmt, out, force)


def _solver_option(f):
    f = click.option("--time-limit", "time_limit", type=FiniteFloat(min=0, min_open=True), default=None, metavar="S",
                     help="Stop the solver after S seconds (> 0). A solution found by then that is not proven "
                          "optimal is printed with status feasible and exit code 3.")(f)
    return click.option("--solver", type=click.Choice(["highs", "cbc"]), default=None,
                        help="LP solver (default: highs when highspy is installed, else cbc).")(f)


@main.command()
@data_option
@click.option("--scenario", type=click.Path(path_type=Path), default=None,
              help="Scenario TOML overriding the dataset's default allocation config.")
@click.option("--conversions", type=click.Path(path_type=Path), default=None,
              help="Write the conversion matrix (from × to, ha, with totals) as CSV to FILE.")
@click.option("--permissions", type=click.Path(path_type=Path), default=None,
              help="Write the conversions that need permission as CSV to FILE.")
@click.option("--by-unit", "by_unit", is_flag=True,
              help="Allocate per administrative unit (commune): the table is then the sum of the units.")
@click.option("--unit-flows", "unit_flows", type=click.Path(path_type=Path), default=None,
              help="With --by-unit: write the per-unit conversions (unit, code_from, code_to, area_ha) to FILE.")
@click.option("--unit-rows", "unit_rows", type=click.Path(path_type=Path), default=None,
              help="Unit-level targets/bounds (CSV/XLSX: unit, code, kind min|max|target, area_ha); "
                   "implies --by-unit.")
@click.option("--no-projects", "no_projects", is_flag=True,
              help="Ignore the located projects of the dataset (industrial_zones) in --by-unit runs.")
@click.option("--unit-costs", "unit_costs", type=click.Path(path_type=Path), default=None,
              help="Per-unit cost factors (CSV/XLSX: unit, code, factor): converting land of CODE away in UNIT "
                   "costs FACTOR × the default; implies --by-unit.")
@click.option("--unit-areas", "unit_areas", type=click.Path(path_type=Path), default=None,
              help="With --by-unit: write unit, code, area_start, area_<target year>, change (ha) to FILE.")
@click.option("--unit", "unit", default=None, metavar="NAME",
              help="With --by-unit: print one commune's stock, target-year areas and conversions with the driver "
                   "or located project behind each; implies --by-unit.")
@click.option("--unit-method", "unit_method", type=click.Choice(["spread", "lp"]), default="spread",
              show_default=True,
              help="By unit: spread the provincial conversions by the drivers of [spread] (a unique answer), or "
                   "lp (one joint LP: a cheapest corner).")
@click.option("--qp-solver", "qp_solver", type=click.Choice(["clarabel", "osqp"]), default="clarabel",
              show_default=True, help="By unit, spread: the solver of the spread model.")
@click.option("--batch", "batch", type=click.Path(path_type=Path), multiple=True,
              help="Run many allocations: a dataset folder or a scenario file (of --data); repeatable.")
@click.option("--jobs", type=click.IntRange(min=0), default=1, show_default=True,
              help="With --batch: parallel processes (0 = one per CPU).")
@click.option("--out-dir", "out_dir", type=click.Path(path_type=Path), default=None,
              help="With --batch: write <job>.csv (and <job>_unit_flows.csv by unit) into DIR.")
@_solver_option
@lang_option
@output_options
def allocate(data, number_format, scenario, conversions, permissions, by_unit, unit_flows, unit_rows, no_projects,
             unit_costs, unit_areas, unit, unit_method, qp_solver, batch, jobs, out_dir, solver, time_limit, lang,
             fmt, out, force) -> None:
    """Allocate the land to the plan's target year (LP): areas, deviations, conversions, shadow prices.

    Exit code 1 with a minimal set of conflicting constraints when the scenario is infeasible; nothing is
    written then. Exit code 3: an allocation was found but not proven optimal (--time-limit; status feasible);
    4: the solver stopped without an allocation. With --batch, prints one summary row per job and exits with
    the most serious job's exit code (2, 4, 1, 3, then 0).
    """
    from allocation.api import allocate as run_allocation
    from allocation.api import summary_text
    from landuse.output import check_outputs, render, write_all

    by_unit = by_unit or any(x is not None for x in (unit_rows, unit_flows, unit_costs, unit_areas, unit))
    if batch:
        _allocate_batch(list(batch), data, number_format, scenario, by_unit, unit_rows, unit_costs, not no_projects,
                        jobs, out_dir, solver, time_limit, fmt, out, force, lang, unit_method, qp_solver,
                        {"--conversions": conversions, "--permissions": permissions, "--unit-flows": unit_flows,
                         "--unit-areas": unit_areas, "--unit": unit})
        return
    check_outputs([conversions, permissions, unit_flows, unit_areas, out], force)  # every path first: all or none
    ds = open_dataset(data, number_format)
    if unit is not None:
        from allocation.units import find_unit

        unit = find_unit(ds, unit)
    res = run_allocation(ds, scenario, solver, time_limit, by_unit=by_unit, unit_rows=unit_rows,
                         projects=not no_projects, unit_costs=unit_costs, unit_method=unit_method, qp_solver=qp_solver)
    files = {path: render(table, "csv") for path, table in
             ((conversions, res.conversions), (permissions, res.permissions), (unit_flows, res.unit_flows))
             if path is not None}
    if unit_areas:
        from allocation.units import unit_areas_table

        files[unit_areas] = render(unit_areas_table(res), "csv")
    if unit is not None:
        from allocation.units import unit_view

        write_all(files, force)
        click.echo(unit_view(res, unit), nl=False)
        return
    if fmt == "table" and out is None:
        write_all(files, force)
        click.echo(summary_text(res, lang), nl=False)
    else:
        if out is not None and str(out) != "-":
            files[out] = render(res.output_table(), fmt, lang=lang)
        write_all(files, force)
        if out is None or str(out) == "-":
            emit_frame(res.output_table(), fmt, None, force, lang)
    _exit_status(res.status, res.exit_code)


def _exit_status(status, code: int) -> None:
    """Exit with ``code`` (3: feasible, not proven optimal) after saying so on stderr."""
    if code:
        click.echo(f"landuse: warning: the allocation is {status.text} (exit code {code})", err=True)
        sys.exit(code)


def _allocate_batch(paths, data, number_format, scenario, by_unit, unit_rows, unit_costs, projects, jobs, out_dir,
                    solver, time_limit, fmt, out, force, lang, unit_method, qp_solver, single_outputs) -> None:
    """``allocate --batch``: the jobs in parallel with a progress bar on stderr, then the summary. The options
    that name one output file or unit (--conversions, --permissions, --unit-flows, --unit-areas, --unit) cannot
    serve many jobs: refused."""
    from allocation.batch import BatchOptions, allocate_many, exit_code, jobs_from_paths, write_outputs
    from landuse.batch import default_jobs
    from landuse.errors import InputError
    from landuse.output import check_outputs, prepare_output_dir

    for flag, value in single_outputs.items():
        if value is not None:
            raise InputError(f"{flag} names one file or unit and cannot take the results of many --batch jobs",
                             expected="--out-dir DIR (writes <job>.csv and, by unit, <job>_unit_flows.csv per job)")
    check_outputs([out], force)
    job_list = jobs_from_paths(paths, data, scenario)
    if out_dir is not None:
        out_dir = prepare_output_dir(out_dir, force)
    options = BatchOptions(by_unit, solver, time_limit, projects, unit_rows, unit_costs, number_format, unit_method,
                           qp_solver)
    with click.progressbar(length=len(job_list), label="allocating", file=sys.stderr) as bar:
        summary, results = allocate_many(job_list, jobs or default_jobs(), options, lambda _r: bar.update(1))
    if out_dir is not None:
        write_outputs(results, job_list, out_dir, force=True)
    emit_frame(summary, fmt, out, force, lang)
    worst = exit_code(results)
    if worst:
        sys.exit(worst)


@main.command()
@click.argument("scenario_a")
@click.argument("scenario_b")
@data_option
@_solver_option
@lang_option
@output_options
def compare(scenario_a, scenario_b, data, number_format, solver, time_limit, lang, fmt, out, force) -> None:
    """Compare the allocations of two scenario files (or `default`): areas and changed conversions (b − a)."""
    from allocation.api import compare as run_compare

    cmp = run_compare(open_dataset(data, number_format), scenario_a, scenario_b, solver, time_limit)
    emit_frame(cmp.table, fmt, out, force, lang)
    worst = cmp.status_b if cmp.status_b.exit_code > cmp.status_a.exit_code else cmp.status_a
    _exit_status(worst, cmp.exit_code)


@main.command()
@click.option("--units", "n", type=int, default=None,
              help="Number of units (default: the dataset's communes, with their real names).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same data).")
@click.option("--year", type=int, default=None, help="Inventory year to split (default: the latest).")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Dataset folder to write.")
@click.option("--force", is_flag=True, help="Write into a non-empty folder (replacing files of the same name).")
@data_option
def synth(n: int | None, seed: int, year: int | None, out: Path, force: bool, data: Path | None,
          number_format: str | None) -> None:
    """Write a SYNTHETIC commune-level dataset whose unit stocks add up exactly to the provincial inventory."""
    from landuse.synth import write_synthetic

    path = write_synthetic(open_dataset(data, number_format), out, n, seed, year, force)
    click.echo(f"Wrote synthetic dataset to {path} (marked synthetic = true in its manifest)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
