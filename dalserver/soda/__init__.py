"""SODA 1.0 synchronous cutouts of the archive's FITS images."""
