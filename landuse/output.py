"""Writing results: terminal tables, CSV and JSON, always atomically and never over a user's file.

Every file is written to a temporary file in the target folder and renamed into place, so a failure
leaves nothing half-written. An existing file is replaced only with ``force=True`` (CLI ``--force``) or
when this tool wrote it and nobody changed it since: a folder the tool writes into is marked by
:data:`MARKER`, a JSON file recording the SHA-256 of every file the tool wrote there.

``landuse run`` writes a whole folder: :class:`StagedFolder` collects the files in a staging folder beside the
target and puts it in place only when every step succeeded (an error or Ctrl-C leaves the previous folder
as it was), under a lock that refuses a second run into the same folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import pandas as pd

from landuse.errors import InputError, Location, OutputExistsError
from landuse.formats import OUTPUT_FORMATS as FORMATS

MARKER = ".landuse-outputs"
IGNORED = (MARKER, ".gitkeep")  # files of an output folder that are neither ours nor the user's work


# ---- the marker: what the tool wrote ----------------------------------------------------------------------
def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_marker(folder: Path) -> dict[str, str] | None:
    """{file name: SHA-256} the tool recorded in ``folder``; ``None`` when the folder has no marker (an old
    marker without hashes records nothing)."""
    m = Path(folder) / MARKER
    if not m.exists():
        return None
    try:
        data = json.loads(m.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    files = data.get("files", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def write_marker(folder: Path, files: dict[str, str]) -> None:
    text = json.dumps({"written_by": "landuse", "files": dict(sorted(files.items()))}, indent=1) + "\n"
    tmp = Path(folder) / f".{MARKER}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, Path(folder) / MARKER)


def record(path: Path) -> None:
    """Record ``path`` (just written by the tool) in its folder's marker, when the folder has one."""
    path = Path(path)
    files = read_marker(path.parent)
    if files is not None:
        files[path.name] = file_hash(path)
        write_marker(path.parent, files)


def unchanged_since_written(path: Path) -> bool:
    """True when the tool wrote ``path`` (recorded in the folder's marker) and its bytes are the same since."""
    files = read_marker(Path(path).parent) or {}
    return files.get(Path(path).name) == file_hash(path)


def foreign_files(folder: Path) -> list[str]:
    """Names in ``folder`` the tool did not write or that changed since it wrote them (sorted)."""
    files = read_marker(folder) or {}
    out = []
    for p in sorted(Path(folder).iterdir()):
        if p.name in IGNORED:
            continue
        if p.is_dir() or files.get(p.name) != file_hash(p):
            out.append(p.name)
    return out


# ---- single files --------------------------------------------------------------------------------------
def check_writable(path: Path | str, force: bool = False) -> None:
    """Refuse to replace an existing file unless ``force`` or the tool wrote it and it is unchanged since."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise OutputExistsError(f"{path}: is a folder; give a file name")
    if path.exists() and not force:
        if read_marker(path.parent) is not None and not unchanged_since_written(path):
            raise OutputExistsError(f"{path}: file exists and was not written by landuse or changed since; refusing "
                                    "to replace it (use --force to replace it)")
        if read_marker(path.parent) is None:
            raise OutputExistsError(f"{path}: file exists; refusing to overwrite it (use --force to replace it)")


def check_outputs(paths: Iterable[Path | str | None], force: bool = False) -> list[Path]:
    """Check every output path of a command before anything is computed or written: each may be written
    (:func:`check_writable`), its folder exists, and no two are the same file. ``None`` and ``-`` (the
    terminal) are skipped. Returns the paths checked."""
    seen: dict[Path, str] = {}
    out = []
    for p in paths:
        if p is None or str(p) == "-":
            continue
        p = Path(p)
        check_writable(p, force)
        if not p.parent.is_dir():
            raise InputError("output folder does not exist", Location.of(p.parent),
                             expected="an existing folder for " + p.name)
        key = p.resolve()
        if key in seen:
            raise InputError("two outputs name the same file", Location.of(p),
                             expected="a different file for each output")
        seen[key] = str(p)
        out.append(p)
    return out


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
    existing file (unless ``force`` or the tool wrote it, unchanged) before anything is computed into it.
    The file is recorded in the folder's marker when the folder has one.
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
    record(path)


@contextlib.contextmanager
def atomic_open(path: Path | str, mode: str = "w", force: bool = False, encoding: str | None = "utf-8",
                newline: str | None = "") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success rename it to ``path``, on error delete it."""
    kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
    with atomic_path(path, force) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_all(texts: dict[Path | str, str], force: bool = False) -> list[Path]:
    """Write several files all or nothing: every path is checked (:func:`check_outputs`) before any is
    written, each text goes to a temporary file beside its target, and only when all are written are they
    renamed into place (an error deletes the temporary files and leaves every target as it was)."""
    paths = check_outputs(list(texts), force)
    by_path = {Path(k): v for k, v in texts.items() if k is not None and str(k) != "-"}
    temps: list[tuple[Path, Path]] = []
    try:
        for p in paths:
            tmp = _temp_beside(p, force)
            temps.append((tmp, p))
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write(by_path[p])
        for tmp, p in temps:
            os.replace(tmp, p)
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for p in paths:
        record(p)
    return paths


# ---- whole folders -------------------------------------------------------------------------------------
def check_output_dir(path: Path | str, force: bool = False) -> Path:
    """Refuse an output folder the tool may not rewrite: a file in its place, or (unless ``force``) a folder
    holding files the tool did not write or that changed since (a user's file, a hand-edited workbook)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path}: exists and is not a folder")
    if path.is_dir() and not force:
        foreign = foreign_files(path)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise OutputExistsError(f"{path}: holds files landuse did not write or that changed since ({shown}); "
                                    "choose another folder or use --force")
    return path


def prepare_output_dir(path: Path | str, force: bool = False) -> Path:
    """Create (or adopt) an output folder that several files are written into one by one (``allocate
    --batch --out-dir``): checked by :func:`check_output_dir`, then marked so that the files written into
    it are recorded."""
    path = check_output_dir(path, force)
    path.mkdir(parents=True, exist_ok=True)
    if read_marker(path) is None or not (path / MARKER).exists():
        write_marker(path, {})
    return path


class RunLockedError(OutputExistsError):
    """Another ``landuse run`` writes into the same folder."""


class StagedFolder:
    """Write a whole output folder or nothing: ``with StagedFolder(out, force) as staging: …`` writes into
    ``staging`` (a new folder beside ``out``); leaving the block normally puts it in place of ``out``,
    an exception (or Ctrl-C) deletes it and leaves ``out`` untouched.

    Entering takes a lock (a file ``.<name>.landuse-lock`` beside ``out``, holding the process id; a lock
    whose process is gone is taken over) and checks ``out`` (:func:`check_output_dir`). With ``force``, files
    of ``out`` the tool did not write and the run does not write again are kept. The new folder's marker
    records the hash of every file written.
    """

    def __init__(self, path: Path | str, force: bool = False) -> None:
        self.path = Path(path)
        self.force = force
        self.lock = self.path.parent / f".{self.path.name}.landuse-lock"
        self.staging: Path | None = None

    def __enter__(self) -> Path:
        if not self.path.parent.is_dir():
            raise InputError("output folder's parent does not exist", Location.of(self.path.parent),
                             expected="an existing folder to create " + self.path.name + " in")
        check_output_dir(self.path, self.force)
        self._take_lock()
        try:
            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.staging-", dir=self.path.parent))
            os.chmod(self.staging, 0o777 & ~_umask())  # its marker is written once, on commit
        except BaseException:
            self._release()
            raise
        return self.staging

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            if self.staging is not None and self.staging.exists():
                shutil.rmtree(self.staging, ignore_errors=True)
            self._release()

    def _take_lock(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if _lock_alive(self.lock):
                    raise RunLockedError(f"{self.path}: another landuse run is writing into this folder "
                                         f"(lock {self.lock.name}); wait for it to finish") from None
                with contextlib.suppress(OSError):
                    os.unlink(self.lock)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            return
        raise RunLockedError(f"{self.path}: cannot take the lock {self.lock.name}")

    def _release(self) -> None:
        with contextlib.suppress(OSError):
            if self.lock.read_text().strip() == str(os.getpid()):
                os.unlink(self.lock)

    def _commit(self) -> None:
        staging = self.staging
        assert staging is not None
        written = {p.name: file_hash(p) for p in staging.iterdir() if p.is_file() and p.name != MARKER}
        write_marker(staging, written)
        if self.path.is_dir():
            check_output_dir(self.path, self.force)  # changed while we ran?
            for p in self.path.iterdir():  # carried over: .gitkeep, and with --force the user's own files
                if p.name != MARKER and not (staging / p.name).exists() and (
                        p.name in IGNORED or p.name in foreign_files(self.path)):
                    shutil.move(str(p), staging / p.name)
            old = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.old-", dir=self.path.parent))
            os.replace(self.path, old / self.path.name)
            os.replace(staging, self.path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, self.path)


def _umask() -> int:
    u = os.umask(0)
    os.umask(u)
    return u


def _lock_alive(lock: Path) -> bool:
    """Whether the process named in ``lock`` still runs (an unreadable lock counts as alive)."""
    try:
        pid = int(lock.read_text().strip() or "0")
    except (OSError, ValueError):
        return True
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
