"""What the server and the ingest both read and write: table files (CSV, Parquet, FITS, VOTable),
the image HDU of a FITS file, and TAP_SCHEMA. Knows nothing of HTTP or of ``dalserver``.
"""
