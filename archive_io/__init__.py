"""What the server shares with the offline work (the ingest, the HiPS build): table files (CSV,
Parquet, FITS, VOTable), the image HDU of a FITS file, TAP_SCHEMA, the archive's access URLs and
identifiers, the registry state the ingest writes and the records read, MOCs from footprints,
and where HiPS surveys live with their properties. Knows nothing of HTTP or of ``dalserver``.
"""
