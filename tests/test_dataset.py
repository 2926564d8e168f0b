"""The bundled Lạng Sơn transcription against cells read by hand from the seed report (003).

Each expected value below was read off the flattened text of the report by a person (line numbers given),
not produced by the code. A blank printed cell is ``""``, a printed dash is ``"-"``.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from landuse.readers.tables import parse_numbers

# (table, code, column, printed text) – read by hand from 003_a7acc78f8d6efc67.txt
HAND_READ = [
    # Bảng 2, l.3968-3983 (p.85): "TS 830.732 100", "NNP 737.373 88,76", "LUA 43.749 5,27" …
    ("bang2", "TS", "c4", "830.732"), ("bang2", "TS", "c5", "100"),
    ("bang2", "NNP", "c4", "737.373"), ("bang2", "NNP", "c5", "88,76"),
    ("bang2", "LUA", "c5", "5,27"), ("bang2", "LUC", "c4", "20.895"),
    ("bang2", "RPH", "c5", "10,27"), ("bang2", "RSX", "c4", "520.773"),
    ("bang2", "RSN", "c4", "141.624"), ("bang2", "RSN", "c5", "17,05"),
    ("bang2", "DNG", "c4", "-"), ("bang2", "CCC", "c5", "2,14"),
    # Bảng 3, l.4473-4745
    ("bang3", "TS", "c3", "831.009"), ("bang3", "TS", "c4", "831.018"), ("bang3", "TS", "c6", "9"),
    ("bang3", "TS", "c8", "-277"),
    ("bang3", "NNP", "c3", "688.355"), ("bang3", "NNP", "c6", "31.366"),
    ("bang3", "RSN", "c3", ""), ("bang3", "RSN", "c4", "186.694"), ("bang3", "RSN", "c6", "186.694"),
    ("bang3", "RSN", "c7", "-45.070"),
    ("bang3", "CNT", "c3", ""), ("bang3", "CNT", "c4", ""), ("bang3", "CNT", "c5", "79"), ("bang3", "CNT", "c6", "0"),
    ("bang3", "SCT", "c5", ""), ("bang3", "TMD", "c6", "134"),
    ("bang3", "NCS", "c4", "44.590"), ("bang3", "MCS", "c5", "0"), ("bang3", "CSD", "c7", "-20.469"),
    # Bảng 4, l.5268-5391
    ("bang4", "TS", "c8", ""), ("bang4", "NNP", "c8", "-1.644,92"), ("bang4", "LUC", "c8", "21,52"),
    ("bang4", "CLN", "c8", "94,63"), ("bang4", "RPH", "c8", "-3.095,18"), ("bang4", "RPH", "c7", "-13.841"),
    ("bang4", "TSC", "c3", "173"), ("bang4", "TSC", "c4", ""), ("bang4", "TSC", "c6", "-173"),
    ("bang4", "TSC", "c8", "20,65"), ("bang4", "PNN", "c4", "65.620"),
    # Bảng 26, l.23386-23848
    ("bang26", "TS", "c4", "831.018"), ("bang26", "TS", "c9", ""), ("bang26", "TS", "c10", "-286"),
    ("bang26", "NNP", "c7", "724.215"), ("bang26", "NNP", "c10", "8.543"), ("bang26", "LUC", "c6", "19.655"),
    ("bang26", "RDD", "c10", ""), ("bang26", "RPH", "c9", "9.843"), ("bang26", "DKT", "c4", ""),
    ("bang26", "DKT", "c7", "2"), ("bang26", "DNG", "c5", "0"), ("bang26", "DNG", "c7", ""),
    ("bang26", "DSK", "c9", "13"), ("bang26", "SCT", "c8", "0"),
]


@pytest.mark.parametrize("table,code,column,printed", HAND_READ)
def test_transcription_matches_hand_reading(langson, table, code, column, printed):
    cells = langson.tables[table].cells
    cell = cells[(cells["code"] == code) & (cells["column"] == column)]
    assert len(cell) == 1
    assert cell["printed"].iloc[0] == printed
    value = cell["value"].iloc[0]
    if printed in ("", "-"):
        assert math.isnan(value)  # a blank stays missing, never 0
    else:
        expected = float(printed.replace(".", "").replace(",", "."))
        assert value == pytest.approx(expected)


def test_hand_sample_is_large_enough():
    assert len(HAND_READ) >= 30
    assert sum(p == "" for *_, p in HAND_READ) >= 8


def test_inventory_totals_as_printed(langson):
    # Bảng 3 l.4473 (TS), l.4475 (NNP), l.4507 (PNN), l.4730 (CSD); Bảng 2 for 2024
    expected = {
        2014: {"TS": 831009, "NNP": 688355, "PNN": 48001, "CSD": 94653},
        2019: {"TS": 831018, "NNP": 719722, "PNN": 51312, "CSD": 59985},
        2024: {"TS": 830732, "NNP": 737373, "PNN": 53842, "CSD": 39516},
    }
    for year, codes in expected.items():
        stock = langson.stock(year)
        for code, area in codes.items():
            assert stock[code] == area


def test_inventory_2024_equals_bang2_and_bang3_column5(langson):
    inv = langson.stock(2024)
    b2 = langson.tables["bang2"].values("c4")
    assert (inv.fillna(-1) == b2.reindex(inv.index).fillna(-1)).all()
    b3 = langson.tables["bang3"].values("c5")
    both = inv.index.intersection(b3.index)
    diff = (inv[both].fillna(-1) != b3[both].fillna(-1))
    # Bảng 2 prints "-" for DNG and SCT where Bảng 3 prints 0 / blank: those are the only differences
    assert sorted(both[diff]) == ["DNG"]


def test_both_plan_versions_are_kept(langson):
    b4 = langson.tables["bang4"].values("c4")
    b26 = langson.tables["bang26"].values("c6")
    assert b4["NNP"] == 718672 and b26["NNP"] == 715672  # l.5272 vs l.23391: two prints of one plan
    plans = langson.plans
    assert {"qd236-bang4", "qd236-bang26", "adjusted-2030"} <= set(plans)


def test_misprinted_code_is_kept_as_printed(langson):
    raw = langson.tables["bang26"].raw
    row = raw[raw["code"] == "NTS"].iloc[0]
    assert row["code_printed"] == "TSN"  # l.23480 prints "TSN" for aquaculture land


def test_extras_present(langson):
    communes = langson.extras["communes"]
    assert len(communes) == 65
    assert (communes["kind"] == "phường").sum() == 4
    flows = langson.extras["flows"]
    assert {"from_code", "to_code", "area_ha", "page", "line"} <= set(flows.columns)
    # l.4779: "chuyển sang đất trồng cây hàng năm khác 60 ha" in the rice paragraph
    row = flows[(flows["from_code"] == "LUA") & (flows["to_code"] == "HNK")].iloc[0]
    assert parse_numbers(row[["area_ha"]], "vi")[0].iloc[0] == 60


def test_every_table_row_has_page_and_line(langson):
    for t in langson.tables.values():
        assert t.raw["page"].str.match(r"^\d+$").all()
        assert t.raw["line"].str.match(r"^\d+$").all()


@pytest.mark.parametrize("storage", ["python", "pyarrow"])
def test_cells_of_a_wide_table_are_what_pandas_melt_gives(langson, storage):
    """dataset.cells_of (hand-written for speed) against DataFrame.melt on each bundled published table, with
    Python and pyarrow string storage, and with no value column: values, order, index and dtypes."""
    from landuse.dataset import TABLE_BASE_COLUMNS, cells_of
    from landuse.readers.tables import ROW

    keys = TABLE_BASE_COLUMNS + [ROW]
    with pd.option_context("mode.string_storage", storage):
        for t in langson.tables.values():
            raw = t.raw.astype({c: "str" for c in t.raw.columns if c != ROW})
            for ids in ([c.id for c in t.columns], [t.columns[-1].id], []):
                want = raw.melt(id_vars=keys, value_vars=ids, var_name="column", value_name="printed")
                pd.testing.assert_frame_equal(cells_of(raw, keys, ids), want, check_exact=True)
