"""The lean path for a plot file: pyarrow and numpy only, plots kept as small integer arrays, no DataFrame of
plots.

:func:`parquet_chunks` reads a Parquet file's needed columns :data:`READ_ROWS` plots at a time; :func:`csv_chunks`
reads a UTF-8 CSV file :data:`CSV_BLOCK` bytes at a time. Both hand the plots on as integer arrays: codes and
units as indices into the file's distinct texts (:class:`CodedChunk`), areas in ha. They check what needs no
classification — areas present, finite and ≥ 0 (CSV: each distinct area text read by the batch path's own
number rules), plot ids present and unique within a unit — and *decline* (raise :class:`Declined`) at the first
thing that is not plainly right, or when the file is not one they take (text ids that are not canonical
integers, ``unit_from``/``unit_to``, ids without min/max statistics or too far apart for a dense check, a CSV
that is not plain UTF-8). The caller then reads the file again with :func:`landuse.readers.plots.scan_plots`,
which applies the same rules and names the file row: the wording of every error lives in one place, and this
path only has to be right about *whether* something is wrong.

Both read with :func:`landuse.readers.ahead.read_ahead`: a thread decodes (Parquet) or parses (CSV) the next
batches — pyarrow releases the GIL meanwhile — while the batches before are coded and summed; the batches are the
same, in the same order, and a reading error reaches this module as it would without the thread.

Chunks end where :func:`~landuse.readers.plots.scan_plots`'s batches (Parquet: row groups, or every
:data:`~landuse.readers.plots.BATCH_ROWS` plots; CSV: the whole file) and their :data:`CHUNK`-plot bincount
chunks end, so that a matrix summed chunk by chunk adds the same areas in the same order as the batch path (the
same floating-point sums, to the last bit).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landuse.readers import plots as _plots
from landuse.readers.ahead import read_ahead
from landuse.readers.tables import VALUE

READ_ROWS = 1 << 16  # plots per read: pyarrow's buffers stay a few MB
AHEAD = 8  # read batches decoded ahead of the one being coded (Parquet ≈ 1.5 MB each, CSV ≈ 5 MB)
CHUNK = 1 << 20  # plots per bincount chunk (as :data:`landuse.transitions.change.CHUNK`)


class Declined(Exception):  # noqa: N818 - a signal to take the batch path, not an error
    """The lean path does not take this file (or found something wrong in it): read it with ``scan_plots``."""


@dataclass
class CodedChunk:
    """Consecutive plots as arrays (views into reused buffers: valid until the next chunk is read).

    ``code_from``/``code_to``: indices into ``from_texts``/``to_texts`` (each distinct code text of the file,
    as written, in order of first appearance); ``unit``: indices into ``unit_texts`` (units in order of first
    appearance in the file) or ``None`` when units were not asked for; ``area``: ha, float64, finite, ≥ 0;
    ``batch_end``: the chunk ends one of ``scan_plots``'s batches (whose chunks' sums it adds up before adding
    them to the matrix).
    """

    code_from: np.ndarray
    code_to: np.ndarray
    unit: np.ndarray | None
    area: np.ndarray
    from_texts: list[str]
    to_texts: list[str]
    unit_texts: list[str]
    batch_end: bool = True


class _Texts:
    """A file's distinct texts of one dictionary column, numbered in order of first appearance."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.texts: list[str] = []

    def lut(self, column) -> np.ndarray | None:
        """File index of each entry of a batch's dictionary column (entries not used by the batch: -1), or
        ``None`` when that is the entry's own index (no remapping needed)."""
        idx = column.indices.to_numpy()
        values = column.dictionary.to_pylist()
        if values == self.texts[:len(values)]:
            return None
        if None in values:  # a null behind a valid index: the batch path decides what it means
            raise Declined
        lut = np.array([self.index.get(v, -1) for v in values], dtype=np.int32)
        new = (np.bincount(idx, minlength=len(values)) > 0) & (lut < 0) if (lut < 0).any() else lut < 0
        if new.any():
            sel = idx[new[idx]]
            starts = np.flatnonzero(sel[1:] != sel[:-1]) + 1  # first use of a text is the start of a run
            runs = sel[np.concatenate(([0], starts))]
            uniq, first = np.unique(runs, return_index=True)
            for v in uniq[np.argsort(first)]:
                k = self.index.setdefault(values[v], len(self.texts))
                if k == len(self.texts):
                    self.texts.append(values[v])
                lut[v] = k
        return lut


def _types(schema, names: dict[str, str]) -> None:
    """Decline unless the columns are integer ids, text codes and units, and numeric areas."""
    import pyarrow as pa

    def text(t) -> bool:
        t = t.value_type if pa.types.is_dictionary(t) else t
        return pa.types.is_string(t) or pa.types.is_large_string(t)

    t_id, t_area = schema.field(names["plot_id"]).type, schema.field(names[VALUE]).type
    ok = (pa.types.is_integer(t_id) and not pa.types.is_uint64(t_id)
          and (pa.types.is_floating(t_area) or pa.types.is_integer(t_area))
          and all(text(schema.field(names[c]).type) for c in ("code_from", "code_to", "unit") if c in names))
    if not ok:
        raise Declined


def _columns(path: Path):
    """(ParquetFile, stripped name → file column name, number of plots), or decline."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise Declined from None
    try:
        schema = pq.read_schema(path)
    except Exception:  # noqa: BLE001 - the batch path words the problem
        raise Declined from None
    names: dict[str, str] = {}
    for c in schema.names:
        s = c.strip()
        if s in names or s in ("unit_from", "unit_to"):
            raise Declined
        if s in _plots.REQUIRED + ["unit"]:
            names[s] = c
    if any(c not in names for c in _plots.REQUIRED):
        raise Declined
    _types(schema, names)
    text = [names[c] for c in ("unit", "code_from", "code_to") if c in names]
    # the reader takes the default memory pool when it is made: jemalloc (else the system allocator) here,
    # because pyarrow's default, mimalloc, keeps the freed batches' pages (60 MB more at the peak at 10 M plots)
    before = pa.default_memory_pool()
    pa.set_memory_pool(_pool())
    try:
        pf = pq.ParquetFile(path, read_dictionary=text, pre_buffer=False)
    finally:
        pa.set_memory_pool(before)
    if pf.metadata.num_rows == 0:
        raise Declined
    return pf, names, pf.metadata.num_rows


def _id_range(pf, column: str) -> tuple[int, int]:
    """(lowest, highest) plot id from the row groups' statistics, or decline."""
    j = pf.schema_arrow.get_field_index(column)
    low, high = None, None
    for i in range(pf.num_row_groups):
        meta = pf.metadata.row_group(i).column(j)
        st = meta.statistics
        if meta.path_in_schema != column or st is None or not st.has_min_max:
            raise Declined
        low = st.min if low is None else min(low, st.min)
        high = st.max if high is None else max(high, st.max)
    return int(low), int(high)


def _boundaries(pf, n: int) -> tuple[list[int], set[int]]:
    """(where the chunks end, where ``scan_plots``'s batches end): batches are row groups, split into
    :data:`~landuse.readers.plots.BATCH_ROWS` plots when one is over twice that, and :data:`CHUNK`-plot
    bincount chunks within each batch; both increasing, the last = ``n``."""
    groups = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
    split = max(groups, default=0) > 2 * _plots.BATCH_ROWS
    ends, batch_ends, start = [], set(), 0
    for size in groups:
        step = _plots.BATCH_ROWS if split else max(size, 1)
        for b in range(0, size, step):
            stop = start + min(size, b + step)
            ends += list(range(start + b + CHUNK, stop, CHUNK)) + [stop]
            batch_ends.add(stop)
        start += size
    return ends, batch_ends


def _batches(pf, columns: list[str]) -> Iterator:
    """The columns :data:`READ_ROWS` plots at a time, decoded :data:`AHEAD` batches ahead."""
    try:
        yield from read_ahead(pf.iter_batches(batch_size=READ_ROWS, columns=columns), AHEAD)
    except (OSError, ValueError):  # a corrupt page: the batch path words it
        raise Declined from None


def _ids(a, low: int, high: int) -> np.ndarray:
    """A batch's plot ids minus ``low`` (int64), or decline (a blank id, or an id outside [low, high])."""
    if a.null_count:
        raise Declined
    ids = a.to_numpy().astype(np.int64, copy=False)
    if len(ids) and (int(ids.min()) < low or int(ids.max()) > high):
        raise Declined
    return ids - low


def _area(a) -> np.ndarray:
    """A batch's areas (ha, float64), or decline (missing, not finite or negative)."""
    if a.null_count:
        raise Declined
    area = a.to_numpy().astype(np.float64, copy=False)
    if len(area) and not (area.min() >= 0 and area.max() < np.inf):  # NaN fails both comparisons
        raise Declined
    return area


def _dictionary(col):
    """A text column as a dictionary array (as read, or encoded here), or decline when it has a null."""
    import pyarrow as pa

    if col.null_count:
        raise Declined
    return col if pa.types.is_dictionary(col.type) else col.dictionary_encode()


class _Chunks:
    """Read batches cut and joined into chunks that end at ``chunk_ends`` (reused buffers)."""

    def __init__(self, chunk_ends: list[int], batch_ends: set[int], by_unit: bool,
                 texts: dict[str, _Texts] | None = None) -> None:
        self.n = chunk_ends[-1]
        size = int(min(CHUNK, self.n))
        self.by_unit = by_unit
        self.texts = texts or {c: _Texts() for c in ("code_from", "code_to", "unit")}
        self.buf = {"code_from": np.empty(size, np.int32), "code_to": np.empty(size, np.int32),
                    "unit": np.empty(size if by_unit else 0, np.int32), VALUE: np.empty(size, np.float64)}
        self.batch_ends = batch_ends
        self.ends = iter(chunk_ends)
        self.start, self.end, self.fill = 0, next(self.ends), 0  # chunk [start, end); ``fill`` plots buffered

    def _chunk(self) -> CodedChunk:
        buf, texts, fill = self.buf, self.texts, self.fill
        return CodedChunk(buf["code_from"][:fill], buf["code_to"][:fill], buf["unit"][:fill] if self.by_unit else None,
                          buf[VALUE][:fill], texts["code_from"].texts, texts["code_to"].texts,
                          texts["unit"].texts if "unit" in texts else [],
                          self.start + fill in self.batch_ends)

    def coded(self, batch, at: dict[str, int]) -> dict[str, tuple[np.ndarray | None, np.ndarray]]:
        """The batch's code (and unit) columns as (file index of each dictionary entry or ``None``, indices)."""
        parts = {}
        for c in ("code_from", "code_to") + (("unit",) if self.by_unit else ()):
            col = _dictionary(batch.column(at[c]))
            parts[c] = (self.texts[c].lut(col), col.indices.to_numpy())
        return parts

    def add(self, parts: dict[str, tuple[np.ndarray | None, np.ndarray]]) -> Iterator[CodedChunk]:
        """Buffer a batch (each column as (look-up table or ``None``, values)); yield each chunk it completes."""
        pos, m = 0, len(parts[VALUE][1])
        while pos < m:
            take = min(m - pos, self.end - self.start - self.fill)
            if take <= 0:  # more plots than the metadata says
                raise Declined
            for c, (lut, values) in parts.items():
                dest = self.buf[c][self.fill:self.fill + take]
                if lut is None:
                    dest[:] = values[pos:pos + take]
                else:
                    np.take(lut, values[pos:pos + take], out=dest)
            pos, self.fill = pos + take, self.fill + take
            if self.start + self.fill == self.end:
                yield self._chunk()
                self.start, self.fill = self.end, 0
                self.end = next(self.ends, self.n)

    def done(self) -> bool:
        return self.start + self.fill == self.n


def parquet_chunks(path: Path | str, by_unit: bool = False) -> Iterator[CodedChunk]:
    """The plots of a Parquet file as :class:`CodedChunk` s (see the module docstring), or :class:`Declined`.

    The duplicate-plot check spans the file and declines, if it must, after the last chunk: a consumer that
    sums every chunk must treat its result as void when this raises. Units are read when ``by_unit`` (and,
    for the duplicate check, in a second pass over ids and units only when the ids alone repeat).
    """
    pf, names, n = _columns(Path(path))
    if by_unit and "unit" not in names:
        raise Declined
    low, high = _id_range(pf, names["plot_id"])
    span = high - low + 1
    if span > 4 * n + 4096:
        raise Declined
    wanted = ["plot_id", "code_from", "code_to", VALUE] + (["unit"] if by_unit else [])
    at = {c: i for i, c in enumerate(wanted)}
    chunks = _Chunks(*_boundaries(pf, n), by_unit)
    seen = _plots.SeenKeys(span)  # plot ids (id - low)
    for batch in _batches(pf, [names[c] for c in wanted]):
        seen.add(_ids(batch.column(at["plot_id"]), low, high))
        yield from chunks.add(chunks.coded(batch, at) | {VALUE: (None, _area(batch.column(at[VALUE])))})
    if not chunks.done():
        raise Declined  # the file held fewer plots than its metadata says
    if not seen.all_different():  # some plot ids repeat: fine when each repeat is in another unit
        del seen
        if "unit" not in names:
            raise Declined
        _unit_ids_distinct(_parquet_unit_ids(pf, names, low, span), n, span)


def _parquet_unit_ids(pf, names: dict[str, str], low: int, span: int) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """(plot id − low, unit file index, units so far) of each read batch: a second pass over two columns."""
    units = _Texts()
    for batch in _batches(pf, [names["plot_id"], names["unit"]]):
        col = _dictionary(batch.column(1))
        lut, unit = units.lut(col), col.indices.to_numpy()
        unit = unit if lut is None else np.take(lut, unit)
        yield _ids(batch.column(0), low, low + span - 1), unit, len(units.texts)


def _unit_ids_distinct(pairs: Iterator[tuple[np.ndarray, np.ndarray, int]], n: int, span: int) -> None:
    """Decline unless every (unit, plot_id) of ``pairs`` ((id − low, unit index, number of units so far) per
    batch) is different: one pass marking each seen, densely over units × ids (rows added as units appear;
    declines when that would pass 4 bytes a plot)."""
    limit = 4 * n + 4096
    seen = np.zeros((0, span), dtype=bool)
    for ids, unit, n_units in pairs:
        if n_units > len(seen):
            if n_units * span > limit:
                raise Declined
            grown = np.zeros((min(max(2 * len(seen), n_units), limit // span), span), dtype=bool)
            grown[:len(seen)] = seen
            seen = grown
        seen[unit, ids] = True
    if int(np.count_nonzero(seen)) != n:
        raise Declined


# ---- CSV ------------------------------------------------------------------------------------------------
CSV_BLOCK = 4 << 20  # bytes of CSV text parsed at a time


def _canonical_ids(a) -> np.ndarray:
    """Plot ids written as canonical integers ("7", not "007", "+7" or " 7": then equal texts are equal
    numbers) as int64, or decline (the batch path compares other ids as text)."""
    ints = _plots.canonical_ints(a)
    if ints is None:
        raise Declined
    return ints


def _narrow(a: np.ndarray, top: int) -> np.ndarray:
    """``a`` (values in [0, top) or, for ids, any int64) in the narrowest of int16 / int32 / int64 that holds it."""
    for t in (np.int16, np.int32):
        if len(a) == 0 or (int(a.min()) >= np.iinfo(t).min and max(int(a.max()), top - 1) <= np.iinfo(t).max):
            return a.astype(t)
    return a


def _csv_blocks(path: Path, by_unit: bool):
    """(blocks of (plot ids, {column: file indices}), the columns' file texts, whether there is a unit column)
    of a UTF-8 CSV read :data:`CSV_BLOCK` bytes at a time (parsed :data:`AHEAD` blocks ahead), or decline."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:
        raise Declined from None
    from landuse.errors import LanduseError

    try:
        head = _plots._header(path)
    except (LanduseError, OSError):
        raise Declined from None
    if head is None:
        raise Declined
    names, delim = head
    use = [c for c in names if c in _plots.REQUIRED + ["unit"]]
    if ({"unit_from", "unit_to"} & set(names) or len(set(use)) != len(use)
            or any(c not in use for c in _plots.REQUIRED) or (by_unit and "unit" not in use)):
        raise Declined
    cat = pa.dictionary(pa.int32(), pa.string())
    coded = ["code_from", "code_to", VALUE] + (["unit"] if "unit" in use else [])
    types = {c: cat if c in coded else pa.string() for c in use}
    texts = {c: _Texts() for c in coded}
    blocks = []
    try:
        reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=CSV_BLOCK),
                               parse_options=pcsv.ParseOptions(delimiter=delim),
                               convert_options=pcsv.ConvertOptions(
                                   include_columns=use, column_types=types, strings_can_be_null=False,
                                   null_values=[]),
                               memory_pool=_pool())
        for batch in read_ahead(iter(reader), AHEAD):  # parsed by a thread while the blocks before are coded
            at = {c: i for i, c in enumerate(batch.schema.names)}
            cols = {}
            for c in coded:
                col = batch.column(at[c])
                lut, idx = texts[c].lut(col), col.indices.to_numpy()
                cols[c] = _narrow(idx if lut is None else np.take(lut, idx), len(texts[c].texts))
            blocks.append((_narrow(_canonical_ids(batch.column(at["plot_id"])), 0), cols))
    except (pa.ArrowException, KeyError, UnicodeDecodeError, ValueError, OSError):
        raise Declined from None
    return blocks, texts, "unit" in use


def _pool():
    """jemalloc (else the system allocator): pyarrow's default, mimalloc, keeps freed batches' pages."""
    import pyarrow as pa

    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc (e.g. on Windows)
        return pa.system_memory_pool()


def _csv_ids_distinct(blocks: list, n: int, n_units: int) -> None:
    """Decline unless every (unit, plot_id) of the CSV's blocks is different (``n_units`` = 0: no unit column).

    The ids alone first — one pass marking each seen when they are dense, else a sort — then, if they repeat,
    (unit, id) the same way (a key ``unit · span + id``)."""
    low = min(int(ids.min()) for ids, _ in blocks)
    span = max(int(ids.max()) for ids, _ in blocks) - low + 1
    if span <= 4 * n + 4096:
        seen = _plots.SeenKeys(span, low)
        for ids, _ in blocks:
            seen.add(ids)
        if seen.all_different():
            return
        del seen
        if not n_units:
            raise Declined
        _unit_ids_distinct(((ids.astype(np.int64) - low, cols["unit"], n_units) for ids, cols in blocks), n, span)
        return
    if n_units and span >= 2 ** 62 // n_units:
        raise Declined
    keys = np.sort(np.concatenate([ids.astype(np.int64) - low for ids, _ in blocks]))
    if not (keys[1:] == keys[:-1]).any():
        return
    if not n_units:
        raise Declined
    keys = np.concatenate([cols["unit"].astype(np.int64) * span + (ids.astype(np.int64) - low) for ids, cols in blocks])
    keys.sort()
    if (keys[1:] == keys[:-1]).any():
        raise Declined


def csv_chunks(path: Path | str, by_unit: bool = False, number_format: str = "auto") -> Iterator[CodedChunk]:
    """The plots of a UTF-8 CSV file as :class:`CodedChunk` s (see the module docstring), or :class:`Declined`.

    The file is read whole first — its area texts decide the number format — but kept small: each plot as its
    id (int32 when the ids fit) and indices into the file's distinct codes, units and area texts (int16 / int32),
    about 14 bytes a plot. Each distinct area text is parsed once by the batch path's own rules
    (:func:`landuse.readers.plots.parse_areas`). Then the plots are summed in :data:`CHUNK`-plot chunks, as
    the batch path sums its one batch.
    """
    import pandas as pd

    from landuse.errors import LanduseError

    path = Path(path)
    blocks, texts, with_unit = _csv_blocks(path, by_unit)
    n = sum(len(ids) for ids, _ in blocks)
    if n == 0:
        raise Declined
    try:
        values, _ = _plots.parse_areas(pd.Series(texts[VALUE].texts, dtype=object), number_format, path)
    except LanduseError:
        raise Declined from None
    if not (values >= 0).all():
        raise Declined
    _csv_ids_distinct(blocks, n, len(texts["unit"].texts) if with_unit else 0)
    chunks = _Chunks(list(range(CHUNK, n, CHUNK)) + [n], {n}, by_unit, texts)
    while blocks:
        _, cols = blocks.pop(0)
        parts = {c: (None, cols[c]) for c in ("code_from", "code_to") + (("unit",) if by_unit else ())}
        yield from chunks.add(parts | {VALUE: (values, cols[VALUE])})
