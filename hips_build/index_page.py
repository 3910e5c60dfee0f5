"""``index.html`` (HiPS 1.0 sec. 4.4.5): the page a browser shows at a survey's base URL, with
the survey itself in Aladin Lite at its initial view and what a user needs to take it elsewhere
(its base URL for Aladin, properties, MOC, preview, the node's HiPS list).

Aladin Lite is the copy the server already has (``Site.viewer``, a URL relative to the page), and
it is started as the portal starts it: no start-up log, no default survey and no survey list from
CDS, so the page asks nothing of another host. Every link is relative, so the page follows the
server's public URL and any proxy prefix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from pathlib import Path

from archive_io.hips_properties import parse
from hips_build.tile_files import write_atomically

# (keyword, label) of the properties listed on the page, in this order.
_SHOWN = (
    ("creator_did", "Identifier"),
    ("obs_collection", "Collection"),
    ("obs_regime", "Regime"),
    ("hips_order", "Deepest order"),
    ("hips_tile_width", "Tile width"),
    ("hips_tile_format", "Tile formats"),
    ("hips_pixel_scale", "Cell size (deg)"),
    ("s_pixel_scale", "Finest image pixel (deg)"),
    ("hips_pixel_bitpix", "FITS tile BITPIX"),
    ("moc_sky_fraction", "Sky fraction"),
    ("hips_frame", "Frame"),
    ("hips_release_date", "Released"),
    ("hips_builder", "Built by"),
)

_STYLE = """
body { margin: 0; font-family: system-ui, sans-serif; color: #1b1f27; background: #f6f7f9; }
header { padding: 10px 18px; background: #14213d; color: #fff; }
header h1 { font-size: 1.25rem; margin: 0 0 4px; }
header p { margin: 0; color: #cfe0ff; }
main { display: grid; grid-template-columns: minmax(320px, 2fr) minmax(260px, 1fr); gap: 14px; padding: 14px 18px; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
section { background: #fff; border: 1px solid #d5d9e0; border-radius: 6px; padding: 12px; min-width: 0; }
#aladin { width: 100%; height: 70vh; min-height: 360px; position: relative; }
#note { color: #b3261e; font-weight: 600; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 0 0 12px; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }
"""


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _script(properties: Mapping[str, str], viewer: str) -> str:
    formats = properties.get("hips_tile_format", "").split()
    view = {
        "ra": _number(properties.get("hips_initial_ra", "")),
        "dec": _number(properties.get("hips_initial_dec", "")),
        "fov": _number(properties.get("hips_initial_fov", "")),
        "name": properties.get("obs_title", ""),
        # PNG where there is one: transparent outside the data.
        "format": "png" if "png" in formats else "jpeg" if "jpeg" in formats else (formats or ["png"])[0],
        "viewer": viewer,
    }
    data = json.dumps(view).replace("<", "\\u003c")  # nothing in it can close the script element
    return f"""<script type="module">
const view = {data};
const base = new URL(".", location.href).href.replace(/\\/$/, ""); // Aladin adds "/Norder..."
const note = document.getElementById("note");
try {{
  const {{ default: A }} = await import(new URL(view.viewer, location.href).href);
  await A.init;
  const aladin = A.aladin("#aladin", {{
    survey: [], // no default survey (DSS from CDS): this survey is the base layer
    hipsList: [], // no survey list from CDS
    log: false, // no start-up log sent to CDS
    target: view.ra === null ? "0 0" : `${{view.ra}} ${{view.dec}}`,
    fov: view.fov ?? 180,
    cooFrame: "ICRS",
    showReticle: false,
    showLayersControl: false, // its survey browser queries CDS's MocServer
    showSimbadPointerControl: false,
    showShareControl: false,
    showSettingsControl: false,
    showContextMenu: false,
    showCooGridControl: true,
    showFullscreenControl: true,
    backgroundColor: "rgb(16, 20, 32)",
  }});
  aladin.setBaseImageLayer(A.HiPS(base, {{ name: view.name, imgFormat: view.format }}));
  window.aladin = aladin; // for the browser's console
  document.body.dataset.ready = "true";
}} catch (error) {{
  note.textContent = `The sky view could not start (${{error.message || error}}); preview.jpg shows the survey.`;
  note.hidden = false;
  document.body.dataset.ready = "failed";
}}
</script>"""


def render_index(properties: Mapping[str, str], viewer: str | None) -> str:
    """The page of a survey with these properties (values as in the properties file)."""
    title = escape(properties.get("obs_title", "HiPS survey"))
    description = escape(properties.get("obs_description", ""))
    rows = "\n".join(
        f"<dt>{escape(label)}</dt><dd>{escape(properties[key])}</dd>" for key, label in _SHOWN if properties.get(key)
    )
    if viewer is not None:
        sky = '<div id="aladin"></div>\n<p id="note" hidden></p>'
        script = _script(properties, viewer)
    else:
        sky = f'<img src="preview.jpg" width="256" height="256" alt="{title}: preview">'
        script = '<script>document.body.dataset.ready = "true";</script>'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>{_STYLE}</style>
</head>
<body>
<header><h1>{title}</h1><p>{description}</p></header>
<main>
<section aria-label="Sky view">
{sky}
</section>
<section aria-label="About this HiPS">
<dl>
{rows}
</dl>
<p>A HiPS (IVOA HiPS 1.0). To open it in Aladin Desktop (<em>File &gt; Open HiPS from a URL</em>),
Aladin Lite or any HiPS client, give it the base URL <code id="base-url">this page's folder</code>.</p>
<ul>
<li><a href="properties">properties</a> (its metadata)</li>
<li><a href="Moc.fits">Moc.fits</a> (its coverage)</li>
<li><a href="preview.jpg">preview.jpg</a></li>
<li><a href="../hipslist">the HiPS list</a> of this server (Aladin's <em>HiPS server</em>)</li>
<li><a href="../../hips">every survey</a> of this server</li>
</ul>
</section>
</main>
<script>document.getElementById("base-url").textContent = new URL(".", location.href).href.replace(/\\/$/, "");</script>
{script}
</body>
</html>
"""


def write_index(root: Path, viewer: str | None) -> None:
    """The page of the survey built in ``root``, from its properties file."""
    properties = parse((root / "properties").read_text(encoding="utf-8"))
    text = render_index(properties, viewer)
    write_atomically(root / "index.html", lambda tmp: tmp.write_text(text, encoding="utf-8"))
