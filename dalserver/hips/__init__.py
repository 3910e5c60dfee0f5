"""HiPS: the surveys ``dalserver hips build`` wrote, served as the static files HiPS 1.0 defines
(``/hips/<survey>/properties``, ``Norder*/Dir*/Npix*.{fits,png,jpg}``, ``Allsky``, ``Moc.fits``)
and the HiPS list of them all (``/hips/hipslist``)."""
