"""Coverage maps (MOC 2.0) of the collections and catalogues, as FITS, ASCII and JSON."""
