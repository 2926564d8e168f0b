"""Writing results: terminal tables, CSV and JSON, always atomically and never over a user's file.

Every file is written to a temporary file in the target folder and renamed into place, so a failure
leaves nothing half-written. An existing file is replaced only with ``force=True`` (CLI ``--force``) or
when it lies in an output folder this tool created (marked by :data:`MARKER`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd

from landuse.errors import InputError, Location, OutputExistsError
from landuse.formats import OUTPUT_FORMATS as FORMATS

MARKER = ".landuse-outputs"


def check_writable(path: Path, force: bool = False) -> None:
    """Refuse to replace an existing file unless ``force`` or the folder is one of ours."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise OutputExistsError(f"{path}: is a folder; give a file name")
    if path.exists() and not force and not (path.parent / MARKER).exists():
        raise OutputExistsError(f"{path}: file exists; refusing to overwrite it (use --force to replace it)")


def _temp_beside(path: Path, force: bool) -> Path:
    """Check ``path`` may be written and return a new empty temporary file in its folder."""
    check_writable(path, force)
    if not path.parent.is_dir():
        raise InputError("output folder does not exist", Location.of(path.parent),
                         expected="an existing folder for " + path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # like a normally created file, not mkstemp's owner-only mode
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(path: Path | str, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``, on error delete it.

    For libraries that write files themselves (xlsxwriter, matplotlib). Refuses a missing folder or an
    existing file (unless ``force`` or the folder is one of ours) before anything is computed into it.
    """
    path = Path(path)
    tmp = _temp_beside(path, force)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path: Path | str, mode: str = "w", force: bool = False, encoding: str | None = "utf-8",
                newline: str | None = "") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success rename it to ``path``, on error delete it."""
    kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
    with atomic_path(path, force) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def prepare_output_dir(path: Path | str, force: bool = False) -> Path:
    """Create (or adopt) an output folder for ``landuse run``.

    A folder that exists, is not empty and was not made by this tool is refused unless ``force``.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path}: exists and is not a folder")
    if path.exists() and not (path / MARKER).exists():
        others = [p for p in path.iterdir() if p.name not in (".gitkeep",)]
        if others and not force:
            raise OutputExistsError(f"{path}: folder has files this tool did not write; "
                                    "choose an empty folder or use --force")
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("written by landuse; files here may be replaced by `landuse run`\n",
                               encoding="utf-8")
    return path


def _json_default(v: object) -> object:
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)


def frame_to_records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN → None (JSON null), numpy scalars → Python."""
    recs = df.to_dict(orient="records")
    for r in recs:
        for k, v in r.items():
            if isinstance(v, float) and math.isnan(v):
                r[k] = None
    return recs


def format_number(v: float, spec: str = "{:,.2f}", lang: str = "en") -> str:
    """``v`` formatted with ``spec`` in the language's convention: en 1,234.5; vi 1.234,5 (separators swapped)."""
    text = spec.format(v)
    return text.translate(str.maketrans(",.", ".,")) if lang == "vi" else text


def render(df: pd.DataFrame, fmt: str, float_format: str = "{:,.2f}", lang: str = "en") -> str:
    """``df`` as text in ``fmt``: ``table`` (aligned, for people; numbers in ``lang``'s format), ``csv`` or
    ``json`` (list of records; machine numbers whatever the language)."""
    if fmt == "csv":
        return df.to_csv(index=False, lineterminator="\n")
    if fmt == "json":
        return json.dumps(frame_to_records(df), ensure_ascii=False, indent=1, default=_json_default) + "\n"
    if fmt == "table":
        if df.empty:
            return "(no rows)\n"
        shown = df.copy()
        for c in shown.columns:
            if pd.api.types.is_float_dtype(shown[c]):
                shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else format_number(v, float_format, lang))
        return shown.to_string(index=False) + "\n"
    raise InputError("unknown output format", expected=" | ".join(FORMATS), found=fmt)


def emit(text: str, out: Path | str | None = None, force: bool = False) -> None:
    """Print ``text`` or write it atomically to ``out``."""
    if out is None or str(out) == "-":
        import click

        click.echo(text, nl=False)
        return
    with atomic_open(out, force=force) as fh:
        fh.write(text)


def write_csv(df: pd.DataFrame, path: Path | str, force: bool = False) -> Path:
    with atomic_open(path, force=force) as fh:
        df.to_csv(fh, index=False, lineterminator="\n")
    return Path(path)
