"""landuse: land accounting and land-use allocation for Vietnamese provinces.

Library entry points (a notebook can call these directly):

* :func:`landuse.dataset.load_dataset` – a dataset folder into one long model;
* :mod:`landuse.classification` – the land-code tree, aggregates and the 2013 → 2024 crosswalk;
* :mod:`landuse.readers.tables` – reading CSV/XLSX with Vietnamese or English numbers.
"""

__version__ = "0.1.0"
