"""Change between inventories: net change, from-to matrices, their measures, the LP estimate, charts."""
