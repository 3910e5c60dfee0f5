"""Catalogue publishing: files (CSV, FITS, VOTable, Parquet) into published, indexed tables."""
