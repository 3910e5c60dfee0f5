"""Getting data into the archive: FITS images into ObsCore (catalogues follow).

Knows nothing of HTTP or of the dalserver package: callers hand it a database connection and
the table metadata.
"""
