"""landuse.lp, the one solver layer: hand-solved LPs with both solvers, honest statuses, the solution check, warm
re-solves, and binding constraints against a brute-force re-solve of fresh models."""

from __future__ import annotations

import ast
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from allocation import diagnostics as dg
from allocation.model import Problem, build
from landuse.errors import ConfigError
from landuse.lp import (
    Solution,
    SolveStatus,
    SparseLP,
    _cbc_status,
    _checked,
    check,
    check_time_limit,
    resolve_rows,
    solve,
)

SOLVERS = ["highs", "cbc"]
INF = np.inf
ROOT = Path(__file__).resolve().parent.parent


def two_vars() -> SparseLP:
    """min x + 2y  s.t.  x + y ≥ 3,  0 ≤ x ≤ 2,  y ≥ 0.  By hand: x = 2, y = 1, objective 4; one more unit of
    the row's lower bound is met by y: d objective / d bound = 2."""
    return SparseLP([1.0, 2.0], [0, 0], [0, 1], [1.0, 1.0], [3.0], [INF], [0.0, 0.0], [2.0, INF], ["demand"])


@pytest.mark.parametrize("solver", SOLVERS)
def test_hand_solved(solver):
    sol = solve(two_vars(), solver)
    assert sol.status is SolveStatus.OPTIMAL and sol.solver == solver
    np.testing.assert_allclose(sol.x, [2.0, 1.0], atol=1e-9)
    assert sol.objective == pytest.approx(4.0, abs=1e-9)
    assert sol.row_dual[0] == pytest.approx(2.0, abs=1e-9)
    assert sol.max_violation <= 1e-9


@pytest.mark.parametrize("solver", SOLVERS)
def test_ranged_row_dual(solver):
    """max x + y (min −x − y) with 1 ≤ x + y ≤ 3, x, y ≤ 5: objective −3 at the row's upper bound; raising that
    bound by 1 lowers the objective by 1: dual −1 (CBC gets a range as two rows; their duals add up)."""
    lp = SparseLP([-1.0, -1.0], [0, 0], [0, 1], [1.0, 1.0], [1.0], [3.0], [0.0, 0.0], [5.0, 5.0])
    sol = solve(lp, solver)
    assert sol.status is SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(-3.0) and sol.x.sum() == pytest.approx(3.0)
    assert sol.row_dual[0] == pytest.approx(-1.0, abs=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_infeasible(solver):
    """x + y ≥ 3 and x + y ≤ 2 cannot hold together."""
    lp = SparseLP([1.0, 1.0], [0, 0, 1, 1], [0, 1, 0, 1], [1.0] * 4, [3.0, -INF], [INF, 2.0], [0, 0], [INF, INF])
    sol = solve(lp, solver)
    assert sol.status is SolveStatus.INFEASIBLE and not sol.ok and sol.x is None
    assert sol.status.exit_code == 1


@pytest.mark.parametrize("solver", SOLVERS)
def test_unbounded(solver):
    """min −x with x ≤ y and y free above: no optimum."""
    lp = SparseLP([-1.0, 0.0], [0, 0], [0, 1], [1.0, -1.0], [-INF], [0.0], [0.0, 0.0], [INF, INF])
    sol = solve(lp, solver)
    assert sol.status is SolveStatus.UNBOUNDED and sol.x is None and sol.status.exit_code == 4


def test_from_csr_is_the_same_model():
    """Rows [1 1 0; 0 1 1] in CSR; both forms give the same optimum."""
    coo = SparseLP([1.0, 1.0, 1.0], [0, 0, 1, 1], [0, 1, 1, 2], [1.0] * 4, [2.0, 3.0], [INF, INF], [0] * 3, [INF] * 3)
    csr = SparseLP.from_csr([1.0, 1.0, 1.0], [0, 2, 4], [0, 1, 1, 2], [1.0] * 4, [2.0, 3.0], [INF, INF], [0] * 3,
                            [INF] * 3)
    np.testing.assert_array_equal(coo.row, csr.row)
    assert solve(coo).objective == pytest.approx(solve(csr).objective) == pytest.approx(3.0)  # y = 3


def test_model_validation():
    with pytest.raises(ValueError, match="NaN"):
        SparseLP([1.0], [0], [0], [1.0], [np.nan], [1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="outside"):
        SparseLP([1.0], [0], [1], [1.0], [0.0], [1.0], [0.0], [1.0])


# ---- the check ----------------------------------------------------------------------------------------------
def test_check_names_the_worst_violation():
    """x = (3, 0): the row x + y = 3 ≥ 3 holds; x's upper bound 2 is exceeded by 1, relative to max(1, 2) = 0.5."""
    worst, bad = check(two_vars(), np.array([3.0, 0.0]))
    assert worst == pytest.approx(0.5) and bad.what == "column 0" and bad.amount == pytest.approx(1.0)
    worst, bad = check(two_vars(), np.array([1.0, 1.0]))  # the row: 2 < 3 by 1, relative to max(1, 3, 2) = 3
    assert bad.what == "row 0 (demand)" and bad.amount == pytest.approx(1.0) and worst == pytest.approx(1 / 3)
    assert check(two_vars(), np.array([np.nan, 3.0]))[1] is not None
    assert check(two_vars(), None)[0] == math.inf


def test_check_tolerance_scales_with_the_row():
    """A row of 1,000,000 ha: 0.5 ha off is 5e-7 of it (solver rounding, accepted), 2 ha off is not."""
    lp = SparseLP([0.0], [0], [0], [1.0], [1e6], [1e6], [0.0], [INF])
    assert check(lp, np.array([1e6 + 0.5]))[1] is None
    assert check(lp, np.array([1e6 + 2.0]))[1] is not None


def test_a_point_that_violates_the_model_is_never_reported():
    """Whatever a solver says (PuLP calls CBC's "Stopped on time" optimal), a point off the model is refused."""
    for claimed in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        sol = _checked(two_vars(), Solution(claimed, "cbc", x=np.array([0.0, 0.0]), row_dual=np.array([0.0])))
        assert sol.status is SolveStatus.NO_SOLUTION and sol.x is None and sol.row_dual is None
        assert "row 0 (demand)" in sol.message and math.isnan(sol.objective)
    ok = _checked(two_vars(), Solution(SolveStatus.FEASIBLE, "highs", x=np.array([0.0, 3.0])))
    assert ok.status is SolveStatus.FEASIBLE and ok.objective == pytest.approx(6.0)  # feasible, not the optimum 4
    assert ok.status.exit_code == 3 and "not proven optimal" in ok.status.text


@pytest.mark.parametrize("line, status", [
    ("Optimal - objective value 4.00000000", SolveStatus.OPTIMAL),
    ("Stopped on time - objective value 0", SolveStatus.FEASIBLE),   # PuLP calls this optimal; the check decides
    ("Infeasible - objective value 0", SolveStatus.INFEASIBLE),
    ("Unbounded - objective value -1e+50", SolveStatus.UNBOUNDED),
    ("Stopped on iterations", SolveStatus.NO_SOLUTION),
    ("", SolveStatus.NO_SOLUTION),
])
def test_cbc_statuses(line, status):
    """The first line of CBC's solution file."""
    assert _cbc_status(line, 0.5)[0] is status


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_kind_of_bound(solver):
    """Free, fixed, negative-lower, upper-only columns and free / ranged / equal rows (the MPS writer's cases):
    min x0 + x1 − x2 + 0·x3 with x0 ∈ [−2, 4], x1 free, x2 = 1 (fixed), x3 ∈ (−inf, 5] in no row;
    rows: x0 + x1 ∈ [−3, 1] (range), x1 ≥ −1, x0 − x1 = 0, x0 + x2 free. By hand: x0 = x1 = −1 (the
    equality and x1 ≥ −1; the range allows −2), x2 = 1: objective −3; x3 anything ≤ 5 (cost 0)."""
    lp = SparseLP([1.0, 1.0, -1.0, 0.0], [0, 0, 1, 2, 2, 3, 3], [0, 1, 1, 0, 1, 0, 2],
                  [1.0, 1.0, 1.0, 1.0, -1.0, 1.0, 1.0], [-3.0, -1.0, 0.0, -INF], [1.0, INF, 0.0, INF],
                  [-2.0, -INF, 1.0, -INF], [4.0, INF, 1.0, 5.0])
    sol = solve(lp, solver)
    assert sol.status is SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(-3.0, abs=1e-9)
    np.testing.assert_allclose(sol.x[:3], [-1.0, -1.0, 1.0], atol=1e-9)
    assert sol.x[3] <= 5 + 1e-9


@pytest.mark.parametrize("bad", [0, -5, float("nan"), float("inf"), "abc"])
def test_time_limit_must_be_finite_and_positive(bad):
    with pytest.raises(ConfigError, match="time limit"):
        solve(two_vars(), time_limit=bad)


def test_time_limit_ok():
    assert check_time_limit(None) is None and check_time_limit(0.5) == 0.5
    assert solve(two_vars(), "highs", time_limit=10).status is SolveStatus.OPTIMAL


def test_only_lp_imports_a_solver():
    """landuse/lp.py is the only module of the library that imports highspy or pulp."""
    found = set()
    for path in [*ROOT.glob("landuse/**/*.py"), *ROOT.glob("allocation/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] in ("highspy", "pulp") for n in names):
                found.add(path.relative_to(ROOT).as_posix())
    assert found == {"landuse/lp.py"}


# ---- warm re-solves -----------------------------------------------------------------------------------------
def transport() -> SparseLP:
    """Two sources (supply 5, 7) to three sinks (demand ≥ 3, 4, 4), cost per unit by pair."""
    cost = np.array([4.0, 6.0, 9.0, 5.0, 3.0, 7.0])
    rows = np.array([0, 0, 0, 1, 1, 1, 2, 3, 4, 2, 3, 4])
    cols = np.array([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5])
    return SparseLP(cost, rows, cols, np.ones(12), [-INF, -INF, 3, 4, 4], [5, 7, INF, INF, INF],
                    np.zeros(6), np.full(6, INF))


@pytest.mark.parametrize("solver", SOLVERS)
def test_resolve_rows_equals_fresh_solves(solver):
    """Each row moved on the solved model (HiGHS: warm, same object) = a fresh model with that row moved; the
    last move (supplies 5 + 5 < demand 11) is infeasible."""
    lp = transport()
    sol = solve(lp, solver, keep=True)
    rows = np.array([2, 3, 4, 0, 1])
    lower = np.array([4.0, 5.0, 4.0, -INF, -INF])
    upper = np.array([INF, INF, 6.0, 4.0, 5.0])
    got = resolve_rows(lp, sol, rows, lower, upper)
    want = []
    for i, lo, up in zip(rows, lower, upper, strict=True):
        rl, ru = lp.row_lower.copy(), lp.row_upper.copy()
        rl[i], ru[i] = lo, up
        fresh = solve(SparseLP(lp.cost, lp.row, lp.col, lp.val, rl, ru, lp.col_lower, lp.col_upper), "highs")
        want.append(fresh.objective if fresh.status is SolveStatus.OPTIMAL else np.nan)
    np.testing.assert_allclose(got, want, atol=1e-9)
    assert np.isnan(got[-1]) and not np.isnan(got[:-1]).any()
    if solver == "highs":  # the bounds are put back: the same object solves the original model again
        sol.engine.run()
        assert sol.engine.getInfo().objective_function_value == pytest.approx(sol.objective)


# ---- binding constraints: warm re-solves against fresh models ----------------------------------------------
def units_problem(extra_bounds: bool) -> Problem:
    """Two units, leaves A B C. u0: A 10, C 5; u1: B 8, C 2 (ha). Province goal: B = 12 (weight 1). Unit rule:
    C ≥ 7 in u0. Converting costs 0.001/ha, C→B 0.002/ha (tests/test_units.py, solved by hand there: u0 turns
    2 ha of A into C and 4 ha of A into B; objective 0.006). ``extra_bounds``: province A ≤ 4 (at its limit),
    C ≥ 9 (at its limit) and B ≤ 100 (slack)."""
    cost = np.full((3, 3), 1e-3)
    cost[2, 1] = 2e-3
    b = {"g": [2], "u": [0], "lo": [7.0], "hi": [np.nan], "label": ["min C in u0"]}
    if extra_bounds:
        b = {"g": [2, 0, 2, 1], "u": [0, -1, -1, -1], "lo": [7.0, np.nan, 9.0, np.nan],
             "hi": [np.nan, 4.0, np.nan, 100.0], "label": ["min C in u0", "max A", "min C", "max B"]}
    return Problem(["u0", "u1"], ["A", "B", "C"], np.array([[10.0, 0, 5], [0, 8, 2]]), np.ones((3, 3), bool),
                   cost, ["A", "B", "C"], np.eye(3),
                   pd.DataFrame({"g": [1], "u": [-1], "target": [12.0], "weight": [1.0], "label": ["B"]}),
                   pd.DataFrame(b))


CONFIG = SimpleNamespace(classification=frozenset())  # codes are named by themselves in the texts


def brute_force_binding(p: Problem) -> dict[str, float]:
    """Independently of diagnostics.binding: solve, read each bound's area from the end areas, and for each bound at
    its limit build and solve a FRESH model with that bound 1 ha tighter; binding = the objective moves by
    > 1e-7 (or the model turns infeasible: NaN)."""
    lp = build(p)
    base = solve(lp.sparse(), "highs")
    end = lp.end_areas(base.x)                         # (units, leaves)
    out = {}
    for k, r in p.bounds.iterrows():
        area = float((end.sum(axis=0) if r["u"] < 0 else end[int(r["u"])]) @ p.member[int(r["g"])])
        is_min = not np.isnan(r["lo"])
        limit = r["lo"] if is_min else r["hi"]
        if abs(area - limit) > 1e-6 * max(1.0, abs(limit)):
            continue
        moved = p.bounds.copy()
        moved.loc[k, "lo" if is_min else "hi"] = limit + (1.0 if is_min else -1.0)
        q = Problem(p.units, p.leaves, p.start, p.allowed, p.cost, p.codes, p.member, p.targets, moved)
        fresh = solve(build(q).sparse(), "highs")
        delta = fresh.objective - base.objective if fresh.status is SolveStatus.OPTIMAL else np.nan
        if np.isnan(delta) or abs(delta) > 1e-7:
            out[r["label"]] = delta
    return out


def _binding(p: Problem, solver: str) -> tuple[pd.DataFrame, list[str]]:
    lp = build(p)
    slp = lp.sparse()
    sol = solve(slp, solver, keep=True)
    notes: list[str] = []
    return dg.binding(lp, slp, sol, CONFIG, notes).set_index("constraint"), notes


def test_binding_by_hand():
    """One more ha of C in u0 (7 → 8): u0 turns 3 ha of A into C, B still gets its 4 ha from A: one more ha
    converted at 0.001."""
    b, _ = _binding(units_problem(False), "highs")
    assert list(b.index) == ["min C in u0"]
    assert b.at["min C in u0", "per_ha_tighter"] == pytest.approx(0.001, abs=1e-9)
    assert b.at["min C in u0", "method"] == "ranging"  # the dual holds over the 1 ha step: no re-solve
    assert "costs 0.001" in b.at["min C in u0", "text"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_binding_equals_brute_force(solver):
    p = units_problem(True)
    want = brute_force_binding(p)
    assert "max B" not in want and "min C in u0" in want  # the slack ceiling does not bind
    b, notes = _binding(p, solver)
    assert set(b.index) == set(want) and not notes
    for label, delta in want.items():
        if np.isnan(delta):
            assert np.isnan(b.at[label, "per_ha_tighter"])
        else:
            assert b.at[label, "per_ha_tighter"] == pytest.approx(delta, abs=1e-9)


@pytest.mark.parametrize("extra", [False, True])
def test_binding_ranging_equals_resolving(monkeypatch, extra):
    """The table is the same whether a dual is taken over its range or every row is re-solved (as before). With
    the extra bounds the optimum is degenerate (three bounds at their limit) and the rows are re-solved."""
    p = units_problem(extra)
    ranged, _ = _binding(p, "highs")
    assert set(ranged["method"]) == ({"re-solve"} if extra else {"ranging"})
    monkeypatch.setattr(dg, "row_ranges", lambda sol: None)
    resolved, _ = _binding(p, "highs")
    assert set(resolved["method"]) == {"re-solve"}
    pd.testing.assert_frame_equal(ranged.drop(columns=["method", "text"]).sort_index(),
                                  resolved.drop(columns=["method", "text"]).sort_index(), atol=1e-9)


def test_binding_cbc_above_the_cap_uses_duals(monkeypatch):
    """Above CBC_RESOLVE_MAX_COLUMNS CBC does not re-solve: rows with a non-zero dual are listed with the dual as
    the per-ha figure (method dual); on the hand model that is the same 0.001."""
    monkeypatch.setattr(dg, "CBC_RESOLVE_MAX_COLUMNS", 0)
    b, _ = _binding(units_problem(False), "cbc")
    assert b.at["min C in u0", "method"] == "dual"
    assert b.at["min C in u0", "per_ha_tighter"] == pytest.approx(0.001, abs=1e-9)
    assert b.at["min C in u0", "text"].endswith("(LP dual; not re-solved)")


def test_no_binding_table_without_a_proven_optimum():
    p = units_problem(False)
    lp = build(p)
    slp = lp.sparse()
    sol = solve(slp, "highs")
    sol.status = SolveStatus.FEASIBLE
    notes: list[str] = []
    assert dg.binding(lp, slp, sol, CONFIG, notes).empty
    assert notes and "not proven optimal" in notes[0]


# ---- statuses on the command line --------------------------------------------------------------------------
@pytest.fixture
def stopped_early(monkeypatch):
    """Every solve returns the solver's checked optimum but labelled as a time-limit stop (feasible, not proven
    optimal) — what HiGHS or CBC report when the limit strikes after a feasible point was found."""
    import landuse.lp as lp_mod

    real = lp_mod.solve

    def feasible(*a, **k):
        sol = real(*a, **k)
        sol.status = SolveStatus.FEASIBLE
        return sol
    monkeypatch.setattr(lp_mod, "solve", feasible)


def test_cli_feasible_is_not_optimal(stopped_early, tmp_path):
    from click.testing import CliRunner

    from landuse.cli import main

    out = tmp_path / "a.csv"
    r = CliRunner().invoke(main, ["allocate", "--format", "csv", "--out", str(out)])
    assert r.exit_code == 3, r.output
    assert set(pd.read_csv(out)["status"]) == {"feasible"}
    assert "feasible, not proven optimal (exit code 3)" in r.output  # the warning (stderr)
    r = CliRunner().invoke(main, ["allocate"])
    assert r.exit_code == 3
    assert "feasible, not proven optimal (highs)" in r.output and "optimal (highs)" not in r.output.replace(
        "not proven optimal (highs)", "")
    assert "binding constraints: not computed" in r.output


def test_batch_exit_code_is_the_most_serious():
    from allocation.batch import exit_code
    from landuse.batch import BatchResult

    def ran(code):
        return BatchResult(None, {"exit_code": code})

    def failed(code):
        return BatchResult(None, None, "x", code)
    assert exit_code([ran(0), ran(0)]) == 0
    assert exit_code([ran(0), ran(3)]) == 3
    assert exit_code([ran(3), failed(1)]) == 1
    assert exit_code([failed(1), failed(4), ran(3)]) == 4
    assert exit_code([failed(4), failed(2)]) == 2
