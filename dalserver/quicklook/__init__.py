"""The portal's quick-look viewer ("WebQL") on the real pixels: any box of an archive image,
averaged over BIN x BIN blocks, as a small FITS file with a WCS for its own grid."""
