"""Getting data into the archive: FITS images into ObsCore (``images``, ``fits_images``, with the
instrument profiles), catalogue files into tables of their own (``catalogs``), retraction
(``retract``) and the demo's sample data (``sample``).

Offline work: knows nothing of HTTP or of the dalserver package, and only the ``dalserver``
command imports it (an import-linter contract says so). Callers hand it a database connection
and the table metadata; what it shares with the server (the registry state, the archive's
identifiers) lives in ``archive_io``.
"""
