"""Public entry points: :func:`allocate`, :func:`compare` and the ``landuse run`` step."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from allocation import diagnostics as dg
from allocation.config import Config, load_scenario
from allocation.model import build, problem, start_areas
from allocation.units import UNIT_METHODS, read_unit_costs, read_unit_rows, unit_problem
from landuse import lp as solver_layer
from landuse.dataset import Dataset
from landuse.errors import ConfigError, InfeasibleError, NoSolutionError
from landuse.lp import SolveStatus


@dataclass
class AllocationResult:
    """An allocation (areas in ha).

    * ``table``: every tree code then every aggregate — code, name, level, relation, area_start, area_<target
      year> (:attr:`end_column`, e.g. area_2030), target, deviation (= end area − target), weight,
      target_source (by unit: the sums of the units)
    * ``conversions``: from × to leaf matrix with totals;  ``flows``: long unit, code_from, code_to, area_ha
      (by unit: per unit; otherwise one unit, the dataset)
    * ``permissions``: permission, code_from, code_to, area_ha, reason
    * ``binding``: constraint, kind, code, bound, shadow_price (objective per ha of bound), per_ha_tighter,
      method (re-solve | dual), text — empty unless the status is optimal
    * ``status``: optimal, or feasible (a checked allocation, optimality not proven: time limit); ``notes``:
      what was not computed and why
    * by unit only: ``unit_areas`` (long unit, code, area_start, area_<target year> of leaves) and ``unit_rows`` (the
      unit-level constraints used: located projects and ``--unit-rows``)
    """

    table: pd.DataFrame
    conversions: pd.DataFrame
    flows: pd.DataFrame
    permissions: pd.DataFrame
    binding: pd.DataFrame
    status: SolveStatus
    solver: str
    objective: float
    config: Config
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unit_areas: pd.DataFrame | None = None
    unit_rows: pd.DataFrame | None = None
    spread: object | None = None  # by unit, spread model: allocation.spread.SpreadDetail (drivers and reasons)

    @property
    def end_column(self) -> str:
        """The end-area column of ``table`` / ``unit_areas``: ``area_<target year>``."""
        return dg.end_column(self.config.target_year)

    @property
    def exit_code(self) -> int:
        """0 when optimal, 3 when feasible but not proven optimal (README, Exit codes)."""
        return self.status.exit_code

    def output_table(self) -> pd.DataFrame:
        """``table`` with the solve's ``status`` and ``solver`` on every row (what ``--format csv|json`` prints)."""
        return self.table.assign(status=self.status.value, solver=self.solver)

    @property
    def unit_flows(self) -> pd.DataFrame:
        """Per-unit conversions ``unit, code_from, code_to, area_ha`` (= ``flows``)."""
        return self.flows

    def deviations(self, tol: float = 0.5) -> pd.DataFrame:
        """Codes whose 2030 area misses their target by more than ``tol`` ha."""
        t = self.table
        return t[t["deviation"].abs() > tol].reset_index(drop=True)


def _config(ds: Dataset, scenario) -> Config:
    if isinstance(scenario, Config):
        return scenario
    if scenario is None or str(scenario) == "default":
        return load_scenario(None, ds)
    return load_scenario(Path(scenario), ds)


def allocate(ds: Dataset, scenario: Path | str | Config | None = None, solver: str | None = None,
             time_limit: float | None = None, by_unit: bool = False, unit_rows: Path | str | None = None,
             projects: bool = True, unit_costs: Path | str | None = None, unit_method: str = "spread",
             qp_solver: str = "clarabel") -> AllocationResult:
    """Allocate the start-year land of ``ds`` to the target year under the default config + ``scenario``.

    ``by_unit``: per unit (:func:`allocate_by_unit`: the dataset's located projects unless
    ``projects`` is false, the unit-level rows of the file ``unit_rows`` and the per-unit cost factors of the
    file ``unit_costs``; ``unit_method`` spread | lp and ``qp_solver``: see
    ``spread``: the provincial conversions split by stated drivers, :func:`allocation.spread.allocate_spread`;
    ``lp``: one joint LP, :func:`allocate_by_unit`). Raises :class:`InfeasibleError`
    (exit code 1) naming a minimal conflicting set when the hard constraints cannot hold together; input
    errors in the scenario raise before any solve.
    """
    config = _config(ds, scenario)
    if by_unit or unit_rows is not None or unit_costs is not None:
        if unit_method not in UNIT_METHODS:
            raise ConfigError("unknown by-unit method", expected=" | ".join(UNIT_METHODS), found=unit_method)
        rows = read_unit_rows(unit_rows, ds) if unit_rows is not None else None
        costs = read_unit_costs(unit_costs, ds) if unit_costs is not None else None
        if unit_method == "spread":
            from allocation.spread import allocate_spread

            return allocate_spread(ds, config, rows, costs, solver, time_limit, projects, None, qp_solver)
        return allocate_by_unit(ds, config, rows, costs, solver, time_limit, projects)
    return run_problem(ds, config, start_areas(ds, config.start_year), solver=solver, time_limit=time_limit)


def allocate_by_unit(ds: Dataset, config: Config, unit_rows: pd.DataFrame | None = None,
                     unit_cost: pd.DataFrame | None = None, solver: str | None = None,
                     time_limit: float | None = None, projects: bool = True,
                     number_format: str | None = None) -> AllocationResult:
    """Allocate every unit of ``ds`` under ``config`` (inputs: :func:`allocation.units.unit_problem`). Raises
    :class:`InfeasibleError` (with a minimal conflicting set) when infeasible. The result's ``table`` is the
    provincial sum of the units."""
    up = unit_problem(ds, config, unit_rows, unit_cost, projects, number_format)
    res = run_problem(ds, config, up.start, up.rows, up.costs, solver, time_limit, check=up.check)
    res.unit_rows = up.rows
    return res


def run_problem(ds: Dataset, config: Config, start: pd.DataFrame, unit_rows: pd.DataFrame | None = None,
                unit_cost: pd.DataFrame | None = None, solver: str | None = None, time_limit: float | None = None,
                check=None) -> AllocationResult:
    """Build, solve and read the allocation of ``start`` (long unit, code, area_ha; one unit = the province).
    ``check(problem)`` may raise before the solve (e.g. unit-level minimums over a provincial ceiling)."""
    t0 = time.perf_counter()
    p = problem(config, start, unit_rows, unit_cost)
    if check is not None:
        check(p)
    lp = build(p)
    slp = lp.sparse()
    t1 = time.perf_counter()
    sol = solver_layer.solve(slp, solver, time_limit, keep=True)
    if sol.status == SolveStatus.INFEASIBLE:
        conf = dg.conflicts(p, config, solver)
        items = "; ".join(conf["detail"]) if len(conf) else "(no minimal set found: numerical trouble)"
        raise InfeasibleError(f"infeasible: no allocation meets these constraints together: {items}", conf)
    if not sol.ok:
        raise NoSolutionError(f"no allocation: the solver ({sol.solver}) stopped with status '{sol.status.value}'"
                              + (f": {sol.message}" if sol.message else ""))
    t2 = time.perf_counter()
    flows = dg.flows_long(lp, sol)
    cls = config.classification
    notes = [f"{sol.status.text}: {sol.message}"] if sol.status is not SolveStatus.OPTIMAL else []
    t_bind = time.perf_counter()
    bind = dg.binding(lp, slp, sol, config, notes)
    t_bind = time.perf_counter() - t_bind
    sol.engine = None  # free the solver's model
    result = AllocationResult(
        table=dg.allocation_table(config, start, flows, ds.stock(config.start_year)),
        conversions=dg.conversion_matrix(flows, cls), flows=flows,
        permissions=dg.permissions(flows, cls, _permissions_path(ds)), binding=bind,
        status=sol.status, solver=sol.solver, objective=sol.objective, config=config, notes=notes)
    if len(p.units) > 1 or unit_rows is not None:
        end = lp.end_areas(sol.x)
        n = len(p.leaves)
        result.unit_areas = pd.DataFrame({"unit": np.repeat(p.units, n), "code": np.tile(p.leaves, len(p.units)),
                                          "area_start": p.start.ravel(),
                                          dg.end_column(config.target_year): end.ravel()})
        result.unit_rows = unit_rows
    result.seconds = {"build": t1 - t0, "solve": t2 - t1, **{f"solver_{k}": v for k, v in sol.seconds.items()},
                      "report": time.perf_counter() - t2, "binding": t_bind, "variables": lp.shape[1],
                      "rows": lp.shape[0], "nnz": lp.nnz}
    return result


def _permissions_path(ds: Dataset) -> Path | None:
    local = ds.root / "classification" / "permissions.csv"
    return local if local.exists() else None


@dataclass
class Comparison:
    """Two allocations side by side: ``table`` (see :func:`compare`) and the status of each solve."""

    table: pd.DataFrame
    status_a: SolveStatus
    status_b: SolveStatus

    @property
    def exit_code(self) -> int:
        """3 when either allocation is feasible but not proven optimal, else 0."""
        return max(self.status_a.exit_code, self.status_b.exit_code)


def compare(ds: Dataset, scenario_a, scenario_b, solver: str | None = None,
            time_limit: float | None = None) -> Comparison:
    """Two allocations side by side (``default`` = the dataset's default config), one long table:

    ``section`` (area | conversion), ``code`` (area: the code; conversion: from), ``code_to``, ``name``,
    ``a``, ``b``, ``difference`` (= b − a, ha), ``status_a``, ``status_b`` (each solve's status). Conversion
    rows only where the two differ by more than 0.5 ha.
    """
    ra, rb = allocate(ds, scenario_a, solver, time_limit), allocate(ds, scenario_b, solver, time_limit)
    areas = ra.table[["code", "name"]].assign(section="area", code_to="", a=ra.table[ra.end_column],
                                              b=rb.table[rb.end_column].to_numpy())
    fa = ra.flows.groupby(["code_from", "code_to"])["area_ha"].sum()
    fb = rb.flows.groupby(["code_from", "code_to"])["area_ha"].sum()
    both = pd.concat([fa.rename("a"), fb.rename("b")], axis=1).fillna(0.0).reset_index()
    both = both[(both["b"] - both["a"]).abs() > 0.5]
    conv = pd.DataFrame({"section": "conversion", "code": both["code_from"], "code_to": both["code_to"],
                         "name": [f"{ra.config.classification.name(f)} → {ra.config.classification.name(t)}"
                                  if f in ra.config.classification and t in ra.config.classification else ""
                                  for f, t in zip(both["code_from"], both["code_to"], strict=True)],
                         "a": both["a"], "b": both["b"]})
    out = pd.concat([areas, conv], ignore_index=True)
    out["difference"] = out["b"] - out["a"]
    out["status_a"], out["status_b"] = ra.status.value, rb.status.value
    return Comparison(out[["section", "code", "code_to", "name", "a", "b", "difference", "status_a", "status_b"]],
                      ra.status, rb.status)


def summary_text(res: AllocationResult, lang: str = "en") -> str:
    """The allocation for people: status, the table, deviations, permissions and binding constraints (figures in
    ``lang``'s number format: en 1,234; vi 1.234)."""
    from landuse.output import format_number, render

    c = res.config
    lines = [f"Allocation {c.start_year} → {c.target_year}: {c.name} — {res.status.text} ({res.solver}), "
             f"objective {res.objective:.6g}", ""]
    shown = res.table[["code", "name", "area_start", res.end_column, "target", "deviation"]].copy()
    shown["name"] = shown["name"].str.slice(0, 40)
    lines.append(render(shown, "table", "{:,.0f}", lang))
    dev = res.deviations()
    off = ", ".join(f"{k} {format_number(v, '{:+,.0f}', lang)}" for k, v in zip(dev["code"], dev["deviation"],
                                                                               strict=True))
    lines.append(f"Off target by more than 0.5 ha: {off or 'none'}")
    perm = res.permissions.groupby("permission", sort=False)["area_ha"].sum()
    lines.append("Conversions needing permission: "
                 + ("; ".join(f"{k} {format_number(v, '{:,.0f}', lang)} ha" for k, v in perm.items()) or "none"))
    lines.append("Binding constraints:" if len(res.binding) else "Binding constraints: none with a shadow price")
    lines += [f"  - {t}" for t in res.binding["text"]]
    lines += [f"Note: {n}" for n in res.notes]
    return "\n".join(lines) + "\n"


__all__ = ["AllocationResult", "Comparison", "allocate", "allocate_by_unit", "compare", "run_problem", "summary_text"]
