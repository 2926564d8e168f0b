"""The lean path for a Parquet plot file: pyarrow and numpy only, small read batches, no DataFrame per batch.

:func:`coded_chunks` reads the needed columns :data:`READ_ROWS` plots at a time and hands them on as
integer arrays: codes and units as indices into the file's distinct texts (:class:`CodedChunk`), areas in ha.
It checks what needs no classification — areas present, finite and ≥ 0, plot ids present and unique within
a unit — and *declines* (raises :class:`Declined`) at the first thing that is not plainly right, or when the
file is not one it takes (text areas or ids, ``unit_from``/``unit_to``, ids without min/max statistics or
too far apart for a dense check). The caller then reads the file again with
:func:`landuse.readers.plots.scan_plots`, which applies the same rules and names the file row: the wording of
every error lives in one place, and this path only has to be right about *whether* something is wrong.

Chunks end where :func:`~landuse.readers.plots.scan_plots`'s batches (row groups, or every
:data:`~landuse.readers.plots.BATCH_ROWS` plots) and their :data:`CHUNK`-plot bincount chunks end, so that a
matrix summed chunk by chunk adds the same areas in the same order as the batch path (the same floating-point
sums, to the last bit).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landuse.readers import plots as _plots
from landuse.readers.tables import VALUE

READ_ROWS = 1 << 16  # plots per read: pyarrow's buffers stay a few MB
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
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc (e.g. on Windows)
        pa.set_memory_pool(pa.system_memory_pool())
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
    """The columns :data:`READ_ROWS` plots at a time."""
    try:
        yield from pf.iter_batches(batch_size=READ_ROWS, columns=columns)
    except (OSError, ValueError):  # a corrupt page: the batch path words it
        raise Declined from None


def _ids(batch, col: int, low: int, high: int) -> np.ndarray:
    """The batch's plot ids minus ``low`` (int64), or decline (a blank id, or an id outside the statistics)."""
    a = batch.column(col)
    if a.null_count:
        raise Declined
    ids = a.to_numpy().astype(np.int64, copy=False)
    if len(ids) and (int(ids.min()) < low or int(ids.max()) > high):
        raise Declined
    return ids - low


def _area(batch, col: int) -> np.ndarray:
    a = batch.column(col)
    if a.null_count:
        raise Declined
    area = a.to_numpy().astype(np.float64, copy=False)
    if len(area) and not (area.min() >= 0 and area.max() < np.inf):  # NaN fails both comparisons
        raise Declined
    return area


class _Chunks:
    """Read batches cut and joined into the chunks that end at :func:`_boundaries` (reused buffers)."""

    def __init__(self, pf, n: int, by_unit: bool) -> None:
        size = int(min(CHUNK, n))
        self.by_unit, self.n = by_unit, n
        self.texts = {c: _Texts() for c in ("code_from", "code_to", "unit")}
        self.buf = {"code_from": np.empty(size, np.int32), "code_to": np.empty(size, np.int32),
                    "unit": np.empty(size if by_unit else 0, np.int32), VALUE: np.empty(size, np.float64)}
        chunk_ends, self.batch_ends = _boundaries(pf, n)
        self.ends = iter(chunk_ends)
        self.start, self.end, self.fill = 0, next(self.ends), 0  # chunk [start, end); ``fill`` plots buffered

    def _chunk(self) -> CodedChunk:
        buf, texts, fill = self.buf, self.texts, self.fill
        return CodedChunk(buf["code_from"][:fill], buf["code_to"][:fill], buf["unit"][:fill] if self.by_unit else None,
                          buf[VALUE][:fill], texts["code_from"].texts, texts["code_to"].texts, texts["unit"].texts,
                          self.start + fill in self.batch_ends)

    def add(self, batch, at: dict[str, int], area: np.ndarray) -> Iterator[CodedChunk]:
        """Buffer a read batch (``at``: column positions; areas checked already); yield each chunk it completes."""
        parts = {VALUE: (None, area)}
        for c in ("code_from", "code_to") + (("unit",) if self.by_unit else ()):
            col = batch.column(at[c])
            if col.null_count:
                raise Declined
            parts[c] = (self.texts[c].lut(col), col.indices.to_numpy())
        pos, m = 0, len(batch)
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


def coded_chunks(path: Path | str, by_unit: bool = False) -> Iterator[CodedChunk]:
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
    chunks = _Chunks(pf, n, by_unit)
    seen = np.zeros(span, dtype=bool)  # plot ids seen (id - low): all different when n are marked
    for batch in _batches(pf, [names[c] for c in wanted]):
        seen[_ids(batch, at["plot_id"], low, high)] = True
        yield from chunks.add(batch, at, _area(batch, at[VALUE]))
    if not chunks.done():
        raise Declined  # the file held fewer plots than its metadata says
    if int(np.count_nonzero(seen)) != n:  # some plot ids repeat: fine when each repeat is in another unit
        del seen
        _unit_ids_distinct(pf, names, n, low, span)


def _unit_ids_distinct(pf, names: dict[str, str], n: int, low: int, span: int) -> None:
    """Decline unless every (unit, plot_id) is different: one pass marking each (unit, id) seen, densely over
    units × ids (rows added as units appear; declines when that would pass 4 bytes a plot)."""
    if "unit" not in names:
        raise Declined
    limit = 4 * n + 4096
    units = _Texts()
    seen = np.zeros((0, span), dtype=bool)
    for batch in _batches(pf, [names["plot_id"], names["unit"]]):
        col = batch.column(1)
        if col.null_count:
            raise Declined
        lut, unit = units.lut(col), col.indices.to_numpy()
        unit = unit if lut is None else np.take(lut, unit)
        if len(units.texts) > len(seen):
            if len(units.texts) * span > limit:
                raise Declined
            grown = np.zeros((min(max(2 * len(seen), len(units.texts)), limit // span), span), dtype=bool)
            grown[:len(seen)] = seen
            seen = grown
        seen[unit, _ids(batch, 0, low, low + span - 1)] = True
    if int(np.count_nonzero(seen)) != n:
        raise Declined
