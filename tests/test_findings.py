"""The findings schema: a table already in it is left as it is by concat, and is exactly what conform makes of it
(issue 16: concat no longer conforms such tables again)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from landuse.findings import COLUMNS, concat, conform, findings, in_schema

_TEXT = st.one_of(st.none(), st.just(np.nan), st.text(max_size=4), st.integers(0, 9))
_NUM = st.one_of(st.none(), st.just(np.nan), st.floats(allow_nan=False, allow_infinity=False, width=32),
                 st.integers(-5, 5), st.sampled_from(["1,5", "x", ""]))


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 4), data=st.data())
def test_a_table_in_the_schema_is_what_conform_makes_of_it(n, data):
    cols = {"severity": "error", "check": "hierarchy",
            "expected": data.draw(st.lists(_NUM, min_size=n, max_size=n)),
            "year": data.draw(st.lists(st.one_of(st.none(), st.integers(2000, 2030), st.just("2024")),
                                       min_size=n, max_size=n)),
            "code": data.draw(st.lists(_TEXT, min_size=n, max_size=n)),
            "unit": data.draw(_TEXT), "_helper": list(range(n))}
    f = findings(**cols)
    edited = data.draw(st.booleans())
    if edited:  # a check that edits its table after building it
        f["code"] = pd.Series([np.nan] * n, dtype=object)
    assert in_schema(f) is not edited  # findings() builds in the schema; the edit takes it out
    if not edited:
        pd.testing.assert_frame_equal(conform(f, keep_helpers=True), f, check_exact=True)
    both = concat([f, findings(severity="info", check="x", code="NNP")])
    want = pd.concat([conform(f, keep_helpers=True), conform(findings(severity="info", check="x", code="NNP"),
                                                             keep_helpers=True)], ignore_index=True)
    pd.testing.assert_frame_equal(both, want, check_exact=True)


def test_edited_or_reordered_tables_are_not_in_the_schema():
    f = findings(severity="error", check="x", code=["A", "B"])
    assert in_schema(f)
    g = f.copy()
    g["code"] = [np.nan, "B"]
    h = f[list(reversed(COLUMNS))]
    k = f.assign(year=[2024.0, 2019.0])  # float, not the schema's nullable integer
    assert not in_schema(g) and not in_schema(h) and not in_schema(k)
    assert list(concat([g])["code"]) == ["", "B"]


_CELL = st.one_of(st.none(), st.just(np.nan), st.just(pd.NA), st.text(max_size=3), st.integers(-3, 3000),
                  st.floats(allow_infinity=False, width=32), st.booleans(), st.just(np.str_("RSX")))


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(_CELL, max_size=6), storage=st.sampled_from(["python", "pyarrow"]))
def test_text_array_is_what_a_series_gives(cells, storage):
    from landuse.findings import text_array

    with pd.option_context("mode.string_storage", storage):
        want = pd.Series(np.array(cells, dtype=object)).fillna("").astype(str).array
        got = text_array(np.array(cells, dtype=object))
        assert got.dtype == want.dtype and list(got) == list(want)
        assert list(text_array(cells)) == list(want)


@settings(max_examples=300, deadline=None)
@given(years=st.one_of(st.lists(st.floats(1900, 2100) | st.just(np.nan), max_size=6),
                       st.lists(st.integers(1900, 2100), max_size=6),
                       st.lists(st.one_of(st.none(), st.just("2024"), st.just("x"), st.integers(1990, 2030),
                                          st.floats(1990, 2030)), max_size=6)))
def test_year_array_is_what_to_numeric_gives(years):
    from landuse.findings import year_array

    for v in (np.array(years), np.array(years, dtype=object), years):
        want = pd.to_numeric(pd.Series(v), errors="coerce").round().astype("Int64").array
        got = year_array(v)
        assert got.dtype == want.dtype and got.equals(want)
