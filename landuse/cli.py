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


def _solver_option(f):
    f = click.option("--time-limit", "time_limit", type=float, default=None, metavar="S",
                     help="Stop the solver after S seconds.")(f)
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
@_solver_option
@output_options
def allocate(data, number_format, scenario, conversions, permissions, solver, time_limit, fmt, out, force) -> None:
    """Allocate the land to the plan's target year (LP): areas, deviations, conversions, shadow prices.

    Exit code 1 with a minimal set of conflicting constraints when the scenario is infeasible; nothing is
    written then.
    """
    from allocation.api import allocate as run_allocation
    from allocation.api import summary_text
    from landuse.output import check_writable, write_csv

    for path in (conversions, permissions, out):
        if path is not None:
            check_writable(path, force)
    res = run_allocation(open_dataset(data, number_format), scenario, solver, time_limit)
    if conversions:
        write_csv(res.conversions, conversions, force)
    if permissions:
        write_csv(res.permissions, permissions, force)
    if fmt == "table" and out is None:
        click.echo(summary_text(res), nl=False)
        return
    emit_frame(res.table, fmt, out, force)


@main.command()
@click.argument("scenario_a")
@click.argument("scenario_b")
@data_option
@_solver_option
@output_options
def compare(scenario_a, scenario_b, data, number_format, solver, time_limit, fmt, out, force) -> None:
    """Compare the allocations of two scenario files (or `default`): areas and changed conversions (b − a)."""
    from allocation.api import compare as run_compare

    emit_frame(run_compare(open_dataset(data, number_format), scenario_a, scenario_b, solver, time_limit),
               fmt, out, force)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
