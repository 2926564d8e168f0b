"""Every file reader: tables (CSV/XLSX/Parquet, numbers, encodings), 03/TKKK forms, plot files."""
