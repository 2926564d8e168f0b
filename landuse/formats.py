"""Names of the formats the library and the command line share (output formats, number formats).

A module without heavy imports: ``landuse.cli`` reads these when it builds its options, before any command
runs, and must not pay for pandas there (``landuse --help`` imports neither pandas nor numpy).
"""

OUTPUT_FORMATS = ("table", "csv", "json")
NUMBER_FORMATS = ("vi", "en", "auto")
