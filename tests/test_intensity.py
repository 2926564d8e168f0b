"""Intensity analysis over N intervals (Aldwaik & Pontius 2012): hand-worked example, identities, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from landuse.errors import InputError
from landuse.transitions.intensity import intensity_analysis, parse_years

CATS = ["A", "B", "C"]
# Interval 1, 2000-2005 (d = 5):          Interval 2, 2005-2015 (d = 10):
#        A   B   C | R                          A   B   C | R
#   A   50  10   0 | 60                    A   40  10   5 | 55
#   B    5  20   5 | 30                    B    0  30   0 | 30
#   C    0   0  10 | 10                    C    0   0  15 | 15
#   K   55  30  15 | 100                   K   40  40  20 | 100
M1 = pd.DataFrame([[50, 10, 0], [5, 20, 5], [0, 0, 10]], index=CATS, columns=CATS, dtype=float)
M2 = pd.DataFrame([[40, 10, 5], [0, 30, 0], [0, 0, 15]], index=CATS, columns=CATS, dtype=float)
X, U = "intensity_pct_per_year", "uniform_pct_per_year"


@pytest.fixture(scope="module")
def res():
    return intensity_analysis([M1, M2], [2000, 2005, 2015])


def rows(res, level, interval=None, direction=None, category=None):
    t = res.table[res.table["level"] == level]
    for col, v in (("interval", interval), ("direction", direction), ("category", category)):
        if v is not None:
            t = t[t[col] == v]
    return t


def test_interval_level_by_hand(res):
    t = rows(res, "interval").set_index("interval")
    # gains: interval 1 A 5 + B 10 + C 5 = 20 of 100 in 5 years; interval 2 B 10 + C 5 = 15 in 10 years
    assert t.loc["2000-2005", X] == pytest.approx(100 * 20 / (100 * 5))       # S1 = 4 %/year
    assert t.loc["2005-2015", X] == pytest.approx(100 * 15 / (100 * 10))      # S2 = 1.5 %/year
    u = 100 * (20 + 15) / (100 * 15)                                          # U = 2.333 %/year
    assert t[U].tolist() == pytest.approx([u, u, u])
    assert t.loc["all", X] == pytest.approx(u)
    assert t["behaviour"].tolist() == ["fast", "slow", "uniform"]
    assert t.loc["all", "duration_years"] == 15 and t.loc["2000-2005", "change"] == 20


def test_category_level_by_hand(res):
    g1 = rows(res, "category", "2000-2005", "gain").set_index("category")
    assert g1[X].tolist() == pytest.approx([100 * 5 / (5 * 55), 100 * 10 / (5 * 30), 100 * 5 / (5 * 15)])
    assert g1[U].tolist() == pytest.approx([4, 4, 4])
    assert g1["behaviour"].tolist() == ["dormant", "active", "active"]       # 1.82 < 4 < 6.67
    l1 = rows(res, "category", "2000-2005", "loss").set_index("category")
    assert l1[X].tolist() == pytest.approx([100 * 10 / (5 * 60), 100 * 10 / (5 * 30), 0])
    assert l1["behaviour"].tolist() == ["dormant", "active", "dormant"]
    g2 = rows(res, "category", "2005-2015", "gain").set_index("category")
    assert g2[X].tolist() == pytest.approx([0, 100 * 10 / (10 * 40), 100 * 5 / (10 * 20)])   # 0, 2.5, 2.5
    assert g2["behaviour"].tolist() == ["dormant", "active", "active"]       # against S2 = 1.5
    l2 = rows(res, "category", "2005-2015", "loss").set_index("category")
    assert l2.loc["A", X] == pytest.approx(100 * 15 / (10 * 55)) and l2.loc["A", "behaviour"] == "active"


def test_transition_level_by_hand(res):
    # interval 1, gains of B (10 ha, all from A): W = 100·10/(5·(60 + 10)); from A 100·10/(5·60); from C 0
    b = rows(res, "transition", "2000-2005", "gain", "B").set_index("from")
    assert b[U].tolist() == pytest.approx([100 * 10 / (5 * 70)] * 2)
    assert b.loc["A", X] == pytest.approx(100 * 10 / (5 * 60)) and b.loc["A", "behaviour"] == "targeted"
    assert b.loc["C", X] == 0 and b.loc["C", "behaviour"] == "avoided"
    assert set(b["to"]) == {"B"}
    # interval 1, gains of C (5 ha from B): W = 100·5/(5·(60 + 30)) = 1.11; from B 100·5/(5·30) = 3.33
    c = rows(res, "transition", "2000-2005", "gain", "C").set_index("from")
    assert c.loc["B", U] == pytest.approx(100 * 5 / (5 * 90)) and c.loc["B", X] == pytest.approx(100 * 5 / (5 * 30))
    # interval 1, losses of B (5 to A, 5 to C): V = 100·10/(5·(55 + 15)); to A 100·5/(5·55), to C 100·5/(5·15)
    lb = rows(res, "transition", "2000-2005", "loss", "B").set_index("to")
    assert lb[U].tolist() == pytest.approx([100 * 10 / (5 * 70)] * 2)
    assert lb.loc["A", X] == pytest.approx(100 * 5 / (5 * 55)) and lb.loc["A", "behaviour"] == "avoided"
    assert lb.loc["C", X] == pytest.approx(100 * 5 / (5 * 15)) and lb.loc["C", "behaviour"] == "targeted"
    # interval 2, losses of A (10 to B, 5 to C): V = 100·15/(10·(40 + 20)) = 2.5 and both Q are 2.5: uniform
    la = rows(res, "transition", "2005-2015", "loss", "A").set_index("to")
    assert la[X].tolist() == pytest.approx([100 * 10 / (10 * 40), 100 * 5 / (10 * 20)])
    assert la[U].tolist() == pytest.approx([2.5, 2.5]) and la["behaviour"].tolist() == ["uniform", "uniform"]
    # A gains nothing in interval 2: no transition rows for it there
    assert rows(res, "transition", "2005-2015", "gain", "A").empty


def test_stationarity_by_hand(res):
    s = res.stationarity
    cat = s[s["level"] == "category"].set_index(["category", "direction"])
    assert cat.loc[("A", "gain"), ["above", "below", "stationary", "behaviour"]].tolist() == [0, 2, "yes", "dormant"]
    assert cat.loc[("B", "gain"), ["above", "below", "stationary", "behaviour"]].tolist() == [2, 0, "yes", "active"]
    assert cat.loc[("A", "loss"), ["above", "below", "stationary", "behaviour"]].tolist() == [1, 1, "no", "mixed"]
    assert cat.loc[("C", "loss"), "behaviour"] == "dormant"
    tr = s[s["level"] == "transition"].set_index(["direction", "from", "to"])
    assert tr.loc[("gain", "A", "B"), ["above", "stationary", "behaviour"]].tolist() == [2, "yes", "targeted"]
    # B gains from C in neither interval: avoided both times
    assert tr.loc[("gain", "C", "B"), ["below", "behaviour"]].tolist() == [2, "avoided"]
    # A loses to B: targeted in interval 1, uniform in interval 2 -> not stationary
    assert tr.loc[("loss", "A", "B"), ["above", "below", "stationary"]].tolist() == [1, 0, "no"]
    assert (s["intervals"] == 2).all()


def test_contract_columns(res):
    assert list(res.table.columns[:9]) == ["level", "interval", "category", "from", "to", "direction",
                                           "intensity_pct_per_year", "uniform_pct_per_year", "behaviour"]
    assert set(res.table["level"]) == {"interval", "category", "transition"}
    assert set(res.table["behaviour"]) <= {"fast", "slow", "active", "dormant", "targeted", "avoided", "uniform", ""}


def test_unit_free(res):
    # the same matrices in km² (÷ 100) or pixels (× 900) give the same intensities
    km2 = intensity_analysis([M1 / 100, M2 / 100], [2000, 2005, 2015], unit="km²")
    assert np.allclose(km2.table[X], res.table[X], equal_nan=True)
    assert set(km2.table["unit"]) == {"km²"}


def test_zero_size_is_nan():
    m = pd.DataFrame([[5, 5], [0, 0]], index=["A", "B"], columns=["A", "B"], dtype=float)
    t = intensity_analysis([m], [2000, 2010]).table
    loss_b = t[(t["level"] == "category") & (t["direction"] == "loss") & (t["category"] == "B")].iloc[0]
    assert np.isnan(loss_b[X]) and loss_b["behaviour"] == ""     # B has no area at the start


# ---- identities on random matrices ---------------------------------------------------------------------------
cubes = st.integers(2, 4).flatmap(lambda j: st.integers(1, 3).flatmap(
    lambda t: arrays(np.float64, (t, j, j), elements=st.floats(0, 1000, allow_nan=False))))


@settings(max_examples=60, deadline=None)
@given(cubes, st.lists(st.integers(1, 12), min_size=3, max_size=3))
def test_identities(cube, steps):
    cube = cube + np.eye(cube.shape[1])[None] * 1.0          # every category has some area
    t_n = cube.shape[0]
    years = np.cumsum([2000] + steps[:t_n]).tolist()
    cats = [f"c{k}" for k in range(cube.shape[1])]
    res = intensity_analysis([pd.DataFrame(c, index=cats, columns=cats) for c in cube], years)
    tab = res.table
    iv = tab[(tab["level"] == "interval") & (tab["interval"] != "all")]
    d = np.diff(years)
    # U is the duration-weighted mean of S_t (same extent weighting)
    ext = cube.sum(axis=(1, 2))
    u = tab.loc[tab["interval"] == "all", X].iloc[0]
    assert u == pytest.approx((iv[X].to_numpy() * ext * d).sum() / (ext * d).sum())
    for k, label in enumerate(res.labels):
        s = iv[X].iloc[k]
        for direction, size in (("gain", cube[k].sum(axis=0)), ("loss", cube[k].sum(axis=1))):
            g = tab[(tab["level"] == "category") & (tab["interval"] == label) & (tab["direction"] == direction)]
            # S_t is the size-weighted mean of the category intensities (end sizes for gains, start for losses)
            assert (g[X].to_numpy() * size).sum() / size.sum() == pytest.approx(s, abs=1e-9)
        tr = tab[(tab["level"] == "transition") & (tab["interval"] == label)]
        for (direction, cat), grp in tr.groupby(["direction", "category"]):
            n = cats.index(cat)
            other = [cats.index(x) for x in (grp["from"] if direction == "gain" else grp["to"])]
            size = cube[k].sum(axis=1)[other] if direction == "gain" else cube[k].sum(axis=0)[other]
            # the uniform line W_tn / V_tm is the size-weighted mean of its transition intensities
            assert (grp[X].to_numpy() * size).sum() / size.sum() == pytest.approx(grp[U].iloc[0], rel=1e-9)
            # and the transition areas add up to the category's gross gain / loss
            gross = cube[k][:, n].sum() - cube[k][n, n] if direction == "gain" else cube[k][n].sum() - cube[k][n, n]
            assert grp["change"].sum() == pytest.approx(gross)


# ---- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("years", "n", "message"), [
    ("2014,2019", 2, r"--years: 2 years for 2 matrices: expected 3 years"),
    ("2014,2019,2024,2029", 2, r"4 years for 2 matrices"),
    ("2014,2019,2019", 2, r"b\.csv: --years: zero-length interval 2019-2019 \(interval 2\)"),
    ("2019,2014,2024", 2, r"a\.csv: --years: years not increasing 2019-2014 \(interval 1\)"),
    ("2014,20x9,2024", 2, r"--years: not a year.*'20x9'"),
])
def test_bad_years(years, n, message):
    with pytest.raises(InputError, match=message):
        parse_years(years, n, ["a.csv", "b.csv"])


def test_matrices_must_share_categories():
    other = M2.rename(index={"C": "D"}, columns={"C": "D"})
    with pytest.raises(InputError, match="matrix 2 has other categories"):
        intensity_analysis([M1, other], [2000, 2005, 2015])


# ---- against a published result: the intensity.analysis R package (Pontius & Khallaghi), vignette example ------
# Three 9-pixel maps (2005, 2010, 2012) of Water, Trees, Impervious; the vignette prints the crosstabulations and
# TIA's output (fractions per year, not %): Annual.Transition.Intensity and Uniform.Transition per interval, and
# the behaviour of each transition for the gain of each category.
R_CATS = ["Water", "Trees", "Impervious"]
R_TABS = [[[2, 2, 1], [0, 0, 2], [1, 1, 0]], [[1, 1, 1], [2, 1, 0], [1, 2, 0]]]
R_INTENSITY = [  # row = losing category i, column = gaining category n (diagonal NA)
    [[None, "0.08", "0.04"], ["0.0", None, "0.20"], ["0.1", "0.10", None]],
    [[None, "0.1666667", "0.1666667"], ["0.3333333", None, "0.0000000"], ["0.1666667", "0.3333333", None]],
]
R_UNIFORM = [["0.05000000", "0.08571429", "0.08571429"], ["0.25000000", "0.25000000", "0.08333333"]]
R_BEHAVIOUR = [
    [[None, "Avoid", "Avoid"], ["Avoid", None, "Target"], ["Target", "Target", None]],
    [[None, "Avoid", "Target"], ["Target", None, "Avoid"], ["Avoid", "Target", None]],
]


def _half_digit(printed: str) -> float:
    return 0.5 * 10 ** -len(printed.split(".")[1])


def test_matches_intensity_analysis_r_package():
    res = intensity_analysis([pd.DataFrame(t, index=R_CATS, columns=R_CATS, dtype=float) for t in R_TABS],
                             [2005, 2010, 2012])
    tr = res.level("transition", "gain").set_index(["interval", "from", "to"])
    for k, label in enumerate(["2005-2010", "2010-2012"]):
        for i, frm in enumerate(R_CATS):
            for n, to in enumerate(R_CATS):
                printed = R_INTENSITY[k][i][n]
                if printed is None:
                    continue
                row = tr.loc[(label, frm, to)]
                assert row[X] / 100 == pytest.approx(float(printed), abs=_half_digit(printed))
                uniform = R_UNIFORM[k][n]
                assert row[U] / 100 == pytest.approx(float(uniform), abs=_half_digit(uniform))
                assert row["behaviour"] == {"Target": "targeted", "Avoid": "avoided"}[R_BEHAVIOUR[k][i][n]]
