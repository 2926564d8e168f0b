"""The keys a dataset manifest (``manifest.toml``) may hold: a key outside this schema is a typo until proven
otherwise (``[fulfilment] pln`` would otherwise silently mean "no plan"), refused with the nearest valid key.

Sections and their keys (``description``, ``note`` and ``source`` are allowed in every table):

* ``[dataset]``: name, level, units_level, unit, number_format, classification, years, classification_by_year,
  communes, units, synthetic, seed, synthetic_from
* ``[files.<id>]``: path, number_format, layout, sheet, year, from_year, to_year
* ``[tables.<id>]``: path, title, pages, lines, code_printed, number_format, columns (each: id, number,
  label, kind, quantity, year, plan, operands)
* ``[plans.<id>]``: label, table, column, base_year, base_column, start_year, target_year, same_as
* ``[fulfilment]``: plan, report_year;  ``[allocation]``: config, approved_plan
"""

from __future__ import annotations

from pathlib import Path

from landuse.errors import ConfigError, Location, did_you_mean

DOC_KEYS = {"description", "note", "source"}
SECTION_KEYS: dict[str, set[str]] = {
    "dataset": {"name", "level", "units_level", "unit", "number_format", "classification", "years",
                "classification_by_year", "communes", "units", "synthetic", "seed", "synthetic_from"},
    "fulfilment": {"plan", "report_year"},
    "allocation": {"config", "approved_plan"},
}
ENTRY_KEYS: dict[str, set[str]] = {  # sections of named entries [section.<id>]
    "files": {"path", "number_format", "layout", "sheet", "year", "from_year", "to_year"},
    "tables": {"path", "title", "pages", "lines", "code_printed", "number_format", "columns"},
    "plans": {"label", "table", "column", "base_year", "base_column", "start_year", "target_year", "same_as"},
}
COLUMN_KEYS = {"id", "number", "label", "kind", "quantity", "year", "plan", "operands", "note"}


def _unknown(keys, allowed: set[str], mpath: Path, where: str) -> None:
    for key in keys:
        if key not in allowed and key not in DOC_KEYS:
            name = f"{where}.{key}" if where else key
            raise ConfigError(f"unknown key {key}" + (f" in [{where}]" if where else "")
                              + did_you_mean(key, allowed), Location.of(mpath, column=name),
                              expected="one of " + ", ".join(sorted(allowed)))


def check_manifest_keys(manifest: dict, mpath: Path) -> None:
    """Raise :class:`ConfigError` at the first key the manifest schema does not know, naming the section and
    the nearest valid key. Types are checked elsewhere (:func:`landuse.dataset.validate_manifest`)."""
    _unknown(manifest, set(SECTION_KEYS) | set(ENTRY_KEYS), mpath, "")
    for section, allowed in SECTION_KEYS.items():
        if isinstance(manifest.get(section), dict):
            _unknown(manifest[section], allowed, mpath, section)
    for section, allowed in ENTRY_KEYS.items():
        entries = manifest.get(section)
        if not isinstance(entries, dict):
            continue
        for eid, spec in entries.items():
            if not isinstance(spec, dict):
                continue
            _unknown(spec, allowed, mpath, f"{section}.{eid}")
            if section == "tables" and isinstance(spec.get("columns"), list):
                for i, c in enumerate(spec["columns"]):
                    if isinstance(c, dict):
                        _unknown(c, COLUMN_KEYS, mpath, f"{section}.{eid}.columns[{i}]")
