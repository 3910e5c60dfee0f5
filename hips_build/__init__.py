"""HiPS 1.0 surveys built from the archive's own images (IVOA HiPS 1.0, 2017).

Offline work like the ingest: it lists the images in ObsCore through a database connection,
reads their files, and writes surveys under a directory; it knows nothing of HTTP. The server's
``dalserver.hips`` package serves what it wrote.

The modules, each with one job: ``geometry`` (HEALPix tiles and cells, the tile layout),
``images`` (source images and their pixels), ``obscore_images`` (which images ObsCore lists),
``plan`` (which surveys those images make), ``tiler`` (pixels of one tile), ``tile_files``
(FITS, PNG, JPEG tiles and Allsky files), ``initial_view`` (where a survey opens), ``preview``
(``preview.jpg``), ``index_page`` (``index.html``, the survey in Aladin Lite), ``manifest``
(what a build was made from, for incremental rebuilds), ``survey_steps`` (what every survey's
build shares), ``build`` (a band survey), ``colour`` (a colour survey), ``run`` (every survey of
an archive) and ``builder`` (the name written as ``hips_builder``). What the server reads of a
survey lives in ``archive_io``, shared with it: ``hips_store`` (staging, the atomic switch, the
published surveys) and ``hips_properties`` (the properties file and the HiPS list). Only the
``dalserver`` command imports this package.
"""
