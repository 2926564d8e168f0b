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
