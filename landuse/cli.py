"""The ``landuse`` command line: a thin Click layer over the library.

Each command parses options, calls one library function and prints or writes the result. Every
:class:`~landuse.errors.LanduseError` becomes one line on stderr with exit code 2 (``--debug`` shows the
traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from landuse import __version__
from landuse.errors import LanduseError
from landuse.io import NUMBER_FORMATS
from landuse.output import FORMATS, emit, render


class LanduseGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LanduseError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"landuse: error: {e}", err=True)
            ctx.exit(getattr(e, "exit_code", 2))


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


def emit_frame(df, fmt: str, out: Path | None, force: bool) -> None:
    emit(render(df, fmt), out, force)


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


@main.command()
@data_option
@output_options
def info(data: Path | None, number_format: str | None, fmt: str, out: Path | None, force: bool) -> None:
    """Print the dataset: years, units, total and group areas per year (ha)."""
    from landuse.summary import dataset_overview

    ds = open_dataset(data, number_format)
    table = dataset_overview(ds)
    if fmt == "table" and out is None:
        click.echo(f"Dataset: {ds.name} ({ds.root})")
        click.echo(f"Classification: {ds.classification.id}; years: {', '.join(map(str, ds.years))}; "
                   f"units: {len(ds.units)}; published tables: {', '.join(ds.tables) or 'none'}")
        for s in ds.skipped:
            click.echo(f"Skipped: {s}")
        shown = table.drop(columns=["computed"])
        for c in shown.columns:
            if c.endswith("_pct"):
                shown[c] = shown[c].map("{:.2f}".format)
        shown = shown.rename(columns={c: c.replace("_pct", " %") for c in shown.columns})
        click.echo(render(shown, "table", "{:,.0f}"), nl=False)
        return
    emit_frame(table, fmt, out, force)


@main.command()
@data_option
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("outputs"), show_default=True,
              help="Output folder.")
@click.option("--force", is_flag=True, help="Write into a folder that has files this tool did not write.")
def run(data: Path | None, number_format: str | None, out: Path, force: bool) -> None:
    """Run the main job on a dataset: every table into the output folder, then a summary."""
    from landuse.summary import run as run_job

    report = run_job(data, out, force, number_format=number_format)
    click.echo(f"Wrote {len(report.files)} file(s) to {report.out_dir}:")
    for p in report.files:
        click.echo(f"  {p.name}")
    for n in report.notes:
        click.echo(f"- {n}")


@main.command()
@click.option("--from", "from_year", type=int, required=True, help="Start year (an inventory year).")
@click.option("--to", "to_year", type=int, required=True, help="End year (an inventory year).")
@click.option("--level", type=int, default=None, help="Depth of the tree (0-3): the categories that partition "
              "the total at that depth (default: every row of the tree).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Language of names.")
@data_option
@output_options
def change(from_year: int, to_year: int, level: int | None, lang: str, data: Path | None,
           number_format: str | None, fmt: str, out: Path | None, force: bool) -> None:
    """Net change per category between two inventories (ha; change = to − from), as in Bảng 3.

    Categories absent from a year's classification get status not-in-classification and no change.
    """
    from landuse.change import net_change

    emit_frame(net_change(open_dataset(data, number_format), from_year, to_year, level, lang), fmt, out, force)


@main.command()
@click.argument("plots", type=click.Path(path_type=Path), required=False)
@click.option("--report", type=click.Choice(["matrix", "components", "intensity", "account"]), default="matrix",
              show_default=True, help="What to print.")
@click.option("--interval-years", type=float, default=None,
              help="Years between the two dates (intensities per year; default: per interval).")
@click.option("--level", type=int, default=None, help="Aggregate codes to this depth of the tree.")
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
@data_option
@output_options
def transitions(plots: Path | None, report: str, interval_years: float | None, level: int | None, by_unit: bool,
                gain: str | None, loss: str | None, estimate: bool, from_year: int | None, to_year: int | None,
                flows: Path | None, plot: Path | None, lang: str, data: Path | None, number_format: str | None,
                fmt: str, out: Path | None, force: bool) -> None:
    """From→to transition matrix (05/TKKK) of a plot file, or --estimate one from stocks and known flows.

    PLOTS has columns plot_id, unit, code_from, code_to, area_ha. Reports: matrix, components
    (gain, loss, swap, quantity/exchange/shift), intensity (Pontius) and account (SEEA asset account).
    """
    from landuse.change import transitions_run

    table, _ = transitions_run(open_dataset(data, number_format) if (estimate or data) else None, plots,
                               report=report, interval_years=interval_years, level=level, by_unit=by_unit,
                               gain=gain, loss=loss, estimate=estimate, from_year=from_year, to_year=to_year,
                               flows=flows, plot=plot, lang=lang, number_format=number_format, force=force)
    emit_frame(table, fmt, out, force)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
