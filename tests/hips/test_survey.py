"""A survey built from the sample reads back true with readers that are not the writer:
reproject's HiPS reader (HPX projection of the tiles) and HEALPix (cdshealpix) for the layout."""

from __future__ import annotations

import warnings

import astropy.units as u
import cdshealpix.nested as healpix
import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from mocpy import MOC
from PIL import Image
from reproject import reproject_interp
from reproject.hips._dask_array import HiPSArray  # the reader behind hips_as_dask_array

from archive_io import hips_properties as props
from hips_build.geometry import tile_path
from hips_build.images import SourceImage
from hips_build.tile_files import allsky_geometry
from tests.hips.conftest import AUTHORITY, BANDS, TILE_WIDTH, BuiltSurveys

BAND = "N-B-L497"
NAME = "subaru-suprime-cam-n-b-l497"
COLOUR = "subaru-suprime-cam-color"


def _properties(built: BuiltSurveys, name: str) -> dict[str, str]:
    return props.parse((built.survey(name) / "properties").read_text(encoding="utf-8"))


def _images_of(built: BuiltSurveys, band: str) -> list[SourceImage]:
    return [i for i in built.images if i.band == band]


def test_each_band_and_the_colour_survey_are_built(built: BuiltSurveys) -> None:
    statuses = {r.name: r.status for r in built.report.results}
    assert statuses == {**{f"subaru-suprime-cam-{b.lower()}": "built" for b in BANDS}, COLOUR: "built"}
    assert built.survey(NAME).is_symlink() and built.survey(NAME).resolve().parent.name == ".builds"


def test_the_properties_have_every_keyword_hips_requires_or_recommends(built: BuiltSurveys) -> None:
    p = _properties(built, NAME)
    for key in (
        *props.REQUIRED,
        "obs_collection",
        "hips_order_min",
        "hips_tile_width",
        "em_min",
        "em_max",
        "t_min",
        "t_max",
        "hips_initial_ra",
        "hips_initial_dec",
        "hips_initial_fov",
        "hips_pixel_cut",
        "hips_pixel_scale",
        "s_pixel_scale",
        "hips_creation_date",
        "hips_builder",
        "moc_sky_fraction",
        "hips_pixel_bitpix",
    ):
        assert key in p, key
    assert p["creator_did"] == f"ivo://{AUTHORITY}/P/Subaru/Suprime-Cam/N-B-L497"
    assert (p["dataproduct_type"], p["hips_version"], p["hips_frame"], p["hips_order_min"]) == (
        "image",
        "1.4",
        "equatorial",
        "0",
    )
    assert (p["hips_order"], p["hips_tile_width"], p["hips_tile_format"], p["hips_pixel_bitpix"]) == (
        "9",
        str(TILE_WIDTH),
        "png fits",
        "-32",
    )
    assert p["obs_collection"] == "Subaru/Suprime-Cam"
    images = _images_of(built, BAND)
    assert float(p["em_min"]) == pytest.approx(min(i.em_min for i in images))
    assert float(p["t_min"]) == pytest.approx(min(i.t_min for i in images))
    assert float(p["s_pixel_scale"]) == pytest.approx(6 / 3600)
    assert float(p["hips_pixel_scale"]) * 3600 == pytest.approx(6.442, abs=1e-3)
    low, high = map(float, p["hips_pixel_cut"].split())
    assert 80 < low < 100 < high
    ra, dec = float(p["hips_initial_ra"]), float(p["hips_initial_dec"])
    assert 34.3 < ra < 34.7 and -5.2 < dec < -4.8  # the centre of the four central stacks
    for stamp in ("hips_release_date", "hips_creation_date"):
        assert len(p[stamp]) == 17 and p[stamp].endswith("Z")


def _survey_around(built: BuiltSurveys, name: str, header: fits.Header) -> tuple[np.ndarray, WCS]:
    """The survey's deepest cells around an image, read by reproject's HiPS reader (which places
    tiles by the HPX projection, not by our tile layout), with their WCS. The reader is used a
    tile at a time, as ``hips_as_dask_array`` would, without dask: its graph of the whole sky
    (2560 x 2560 tiles at order 9) takes seconds to build for every read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = HiPSArray(built.survey(name))
        wcs = reader.wcs
        ny, nx = header["NAXIS2"], header["NAXIS1"]
        corners = WCS(header).pixel_to_world_values([-5, nx + 5, nx + 5, -5], [-5, -5, ny + 5, ny + 5])
        x, y = wcs.world_to_pixel_values(*corners)
        w = TILE_WIDTH
        x0, y0 = int(x.min()) // w * w, int(y.min()) // w * w
        x1, y1 = -(-int(x.max() + 1) // w) * w, -(-int(y.max() + 1) // w) * w
        cells = np.full((y1 - y0, x1 - x0), np.nan)
        for top in range(y0, y1, w):
            for left in range(x0, x1, w):
                cells[top - y0 : top - y0 + w, left - x0 : left - x0 + w] = reader[
                    slice(top, top + w), slice(left, left + w)
                ]
    return cells, wcs[y0:y1, x0:x1]


def test_the_survey_agrees_with_the_original_image(built: BuiltSurveys) -> None:
    for image in _images_of(built, BAND)[:2]:
        header = fits.getheader(image.path)
        original = fits.getdata(image.path).astype(float)
        cells, cells_wcs = _survey_around(built, NAME, header)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the original onto the survey's cells: the same sky, sampled the same way
            resampled, _ = reproject_interp((original, header), cells_wcs, shape_out=cells.shape)
            # and the survey back onto the image's pixels: two resamplings of undersampled stars
            back, _ = reproject_interp((cells, cells_wcs), header, shape_out=original.shape)
        inner, _ = reproject_interp(
            (np.pad(np.ones((original.shape[0] - 16, original.shape[1] - 16)), 8), header),
            cells_wcs,
            shape_out=cells.shape,
        )
        alone = (inner > 0.999) & np.isfinite(resampled) & np.isfinite(cells)  # cells no other stack overlaps
        assert alone.sum() > 5000
        assert np.corrcoef(resampled[alone], cells[alone])[0, 1] > 0.99
        assert np.median(cells[alone]) == pytest.approx(np.median(resampled[alone]), abs=0.1)
        good = np.isfinite(back)
        assert good.mean() > 0.95
        assert np.corrcoef(original[good], back[good])[0, 1] > 0.7
        assert np.median(back[good]) == pytest.approx(np.median(original[good]), abs=0.3)  # sky 100 +- 5


def test_every_order_has_the_tile_over_a_position_and_the_allsky(built: BuiltSurveys) -> None:
    image = _images_of(built, BAND)[0]
    ra, dec = np.mean(image.footprint, axis=0)
    root = built.survey(NAME)
    for order in range(10):
        tile = int(healpix.lonlat_to_healpix(ra * u.deg, dec * u.deg, order)[0])
        for extension in ("fits", "png"):
            assert tile_path(root, order, tile, extension).is_file(), (order, extension)
    assert not (root / "Norder10").exists()
    assert (root / "Norder3" / "Allsky.fits").is_file() and (root / "Norder3" / "Allsky.png").is_file()


def test_no_tile_lies_outside_the_moc_and_the_moc_is_the_footprints(built: BuiltSurveys) -> None:
    root = built.survey(NAME)
    moc = MOC.from_fits(root / "Moc.fits")
    for image in _images_of(built, BAND):
        ra, dec = np.mean(image.footprint, axis=0)
        assert moc.contains_lonlat([ra] * u.deg, [dec] * u.deg)[0]
    assert not moc.contains_lonlat([34.5] * u.deg, [-4.55] * u.deg)[0]  # a corner stack, not of this band
    counted = 0
    for order in range(10):
        covered = set(moc.degrade_to_order(order).flatten().tolist())
        for path in (root / f"Norder{order}").glob("Dir*/Npix*.fits"):
            assert int(path.stem.removeprefix("Npix")) in covered, path
            counted += 1
    assert counted > 10


def test_fits_tiles_hold_the_science_values_and_nan_outside(built: BuiltSurveys) -> None:
    root = built.survey(NAME)
    path = next((root / "Norder9").glob("Dir*/Npix*.fits"))
    with fits.open(path) as hdul:
        header, data = hdul[0].header, hdul[0].data
    assert (header["BITPIX"], header["NAXIS1"], header["NAXIS2"], header["ORDER"]) == (-32, TILE_WIDTH, TILE_WIDTH, 9)
    assert header["NPIX"] == int(path.stem.removeprefix("Npix"))
    finite = np.isfinite(data)
    assert finite.any() and np.nanmedian(data) == pytest.approx(100, abs=2)
    png = np.asarray(Image.open(path.with_suffix(".png")))
    assert png.shape == (TILE_WIDTH, TILE_WIDTH, 2)  # grey and alpha
    flipped = data[::-1]  # PNG rows run top to bottom
    assert np.array_equal(png[..., 1] == 255, np.isfinite(flipped))
    low, high = map(float, _properties(built, NAME)["hips_pixel_cut"].split())
    expected = np.rint(np.clip((flipped - low) / (high - low), 0, 1) * 255)
    assert np.array_equal(png[..., 0][np.isfinite(flipped)], expected[np.isfinite(flipped)])


def test_a_lower_order_is_the_mean_of_the_order_above(built: BuiltSurveys) -> None:
    root = built.survey(NAME)
    parent_path = next((root / "Norder8").glob("Dir*/Npix*.fits"))
    parent = fits.getdata(parent_path).astype(float)
    tile = int(parent_path.stem.removeprefix("Npix"))
    half = TILE_WIDTH // 2
    for k, (row, col) in {0: (1, 0), 1: (0, 0), 2: (1, 1), 3: (0, 1)}.items():
        child_path = tile_path(root, 9, 4 * tile + k, "fits")
        quadrant = parent[row * half : (row + 1) * half, col * half : (col + 1) * half]
        if not child_path.exists():
            assert np.isnan(quadrant).all()
            continue
        child = fits.getdata(child_path).astype(float).reshape(half, 2, half, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = np.nanmean(child, axis=(1, 3))
        assert np.allclose(quadrant, expected, equal_nan=True, rtol=1e-6)


def test_the_allsky_holds_each_order_3_tile_where_aladin_reads_it(built: BuiltSurveys) -> None:
    # The layout Hipsgen writes (checked on its output): tile N at row N // 27, column N % 27,
    # from the top left, each tile as seen; the FITS file stores the rows bottom up.
    root = built.survey(NAME)
    allsky = fits.getdata(root / "Norder3" / "Allsky.fits").astype(float)
    per_row, rows, pixels = allsky_geometry(3, TILE_WIDTH)
    assert allsky.shape == (rows * pixels, per_row * pixels) == (29 * 64, 27 * 64)
    mosaic = allsky[::-1]
    for path in (root / "Norder3").glob("Dir*/Npix*.fits"):
        tile = int(path.stem.removeprefix("Npix"))
        block = mosaic[
            (tile // per_row) * pixels : (tile // per_row + 1) * pixels,
            (tile % per_row) * pixels : (tile % per_row + 1) * pixels,
        ]
        assert np.allclose(block, fits.getdata(path).astype(float)[::-1], equal_nan=True)


def test_the_colour_survey_is_its_three_bands_scaled(built: BuiltSurveys) -> None:
    p = _properties(built, COLOUR)
    assert (p["dataproduct_subtype"], p["hips_tile_format"], p["hips_order"]) == ("color", "png jpeg", "9")
    # reddest band as red: I-A-L598 (586-616 nm), N-A-L503, N-B-L497
    assert p["hips_rgb_red"].startswith("subaru-suprime-cam-i-a-l598 [")
    assert p["hips_rgb_blue"].startswith("subaru-suprime-cam-n-b-l497 [")
    root = built.survey(COLOUR)
    path = next((root / "Norder9").glob("Dir*/Npix*.png"))
    rgba = np.asarray(Image.open(path))
    assert rgba.shape == (TILE_WIDTH, TILE_WIDTH, 4)
    assert Image.open(path.with_suffix(".jpg")).mode == "RGB"
    red = fits.getdata(tile_path(built.survey("subaru-suprime-cam-i-a-l598"), 9, int(path.stem[4:]), "fits")).astype(
        float
    )[::-1]
    low, high = map(float, p["hips_rgb_red"].split("[")[1].rstrip("]").split())
    finite = np.isfinite(red)
    expected = np.rint(np.clip((red - low) / (high - low), 0, 1) * 255)
    assert np.array_equal(rgba[..., 0][finite], expected[finite])
    assert (root / "Norder3" / "Allsky.png").is_file() and (root / "Norder3" / "Allsky.jpg").is_file()
    assert MOC.from_fits(root / "Moc.fits").sky_fraction >= MOC.from_fits(built.survey(NAME) / "Moc.fits").sky_fraction


def test_a_hipslist_record_is_a_survey_properties_with_its_url(built: BuiltSurveys) -> None:
    from archive_io.hips_store import published_surveys

    surveys = published_surveys(built.hips)
    assert {s.name for s in surveys} == {r.name for r in built.report.results}
    text = props.hipslist([s.hipslist_record("http://example.org") for s in surveys], "http://example.org/hips")
    blocks = [props.parse(b) for b in text.split("\n\n") if props.parse(b)]
    assert len(blocks) == len(surveys)
    for block in blocks:
        assert block["hips_service_url"].startswith("http://example.org/hips/subaru-suprime-cam-")
        assert all(block.get(k) for k in props.HIPSLIST_REQUIRED)


def _preview_wcs(p: dict[str, str]) -> WCS:
    """The view a preview shows: Aladin's at the initial position and field (SIN, north up, east
    left), 256 pixels across."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    wcs.wcs.crval = [float(p["hips_initial_ra"]), float(p["hips_initial_dec"])]
    wcs.wcs.crpix = [128.5, 128.5]
    scale = float(p["hips_initial_fov"]) / 256
    wcs.wcs.cdelt = [-scale, scale]
    return wcs


def test_the_preview_is_the_survey_at_its_initial_view(built: BuiltSurveys) -> None:
    p = _properties(built, NAME)
    with Image.open(built.survey(NAME) / "preview.jpg") as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (256, 256), "RGB")  # HiPS 1.0 sec. 4.4.4
        grey = np.asarray(image.convert("L"), dtype=float)[::-1]  # rows bottom up, as the WCS counts them
    # The images, put by reproject where the view shows them, and scaled by the survey's display cut.
    low, high = map(float, p["hips_pixel_cut"].split())
    expected = np.full(grey.shape, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for source in _images_of(built, BAND):
            values, _ = reproject_interp(source.path, _preview_wcs(p), shape_out=grey.shape)
            expected = np.where(np.isfinite(values), values, expected)
    expected = np.clip((expected - low) / (high - low), 0, 1) * 255
    data = np.isfinite(expected)
    assert 0.2 < data.mean() < 0.9  # the data, with sky around them
    assert np.corrcoef(grey[data], expected[data])[0, 1] > 0.6
    assert np.corrcoef(grey[::-1][data], expected[data])[0, 1] < 0.2  # upside down, it would not match
    assert np.corrcoef(grey[:, ::-1][data], expected[data])[0, 1] < 0.2  # nor mirrored
    assert grey[~data].mean() < 8  # black where there are no data
    with Image.open(built.survey(COLOUR) / "preview.jpg") as colour:
        assert colour.size == (256, 256) and max(np.asarray(colour).std(axis=(0, 1))) > 5


def test_every_survey_has_an_index_page_asking_nothing_of_another_host(built: BuiltSurveys) -> None:
    from lxml import html

    for name in (NAME, COLOUR):
        p = _properties(built, name)
        page = html.fromstring((built.survey(name) / "index.html").read_bytes())
        assert page.findtext(".//title") == p["obs_title"]
        assert p["creator_did"] in page.text_content()
        links = [e.get(a) for e in page.iter() for a in ("href", "src") if e.get(a)]
        assert {"properties", "Moc.fits", "preview.jpg", "../hipslist"} <= set(links)
        # Relative links only: the page follows the server's public URL, and reaches no one else.
        assert all("//" not in link and not link.startswith("/") for link in links), links
