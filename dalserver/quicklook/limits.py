"""The quick look's limits, apart from the pixel code (which loads astropy) so that the routes can
name them without loading it."""

OVERVIEW_SIDE = 1024  # the first picture's longest side, in binned pixels
MAX_PIXELS = 2048 * 2048  # one answer's binned pixels at most (16 MB of float32)
