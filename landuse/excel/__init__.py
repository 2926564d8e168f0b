"""The official workbook: a sheet model, the report's layouts, and the writer (the only xlsxwriter import)."""
