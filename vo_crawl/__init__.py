"""The VO crawler: other archives' ObsCore (and SIA) data, fetched politely sky cell by sky cell
into this archive's cache tables (vo.remote_obscore, vo.remote_coverage).

Offline work like data_ingest and hips_build: the ``dalserver crawl`` commands hand it a database
URL and a ``CrawlConfig``; the server never imports it.
"""
