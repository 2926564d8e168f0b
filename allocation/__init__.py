"""Land allocation to the plan's target year: a linear program over start→end conversions.

``allocate(ds, scenario=None, solver=None, time_limit=None, by_unit=False, unit_rows=None, projects=True)
-> AllocationResult`` (the province as one unit, or every unit of the inventory);
``compare(ds, scenario_a, scenario_b) -> Comparison`` (``table``, ``status_a``, ``status_b``);
``load_scenario(path, ds) -> Config``.
"""

from allocation.api import AllocationResult, allocate, compare
from allocation.config import Config, load_scenario
from allocation.solve import SolveStatus

__all__ = ["AllocationResult", "Config", "SolveStatus", "allocate", "compare", "load_scenario"]
