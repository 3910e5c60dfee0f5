// The sky view: Aladin Lite 3 (served from this server, unmodified, beside this code) on the
// archive's own HiPS surveys, the archive's MOC, the footprints of image results and markers
// of catalogue results. Nothing is asked of CDS: no start-up log, no default survey, no survey
// list; where the archive publishes no HiPS the overlays are drawn on a plain background.
//
// Footprints are thin, semi-transparent outlines, one colour per band (bands.js). What is under
// the pointer, what a click picks and what is selected are decided here, not by Aladin: Aladin Lite
// 3.8.2's graphic overlay leaves out of its drawing every shape it marks selected or hovered, so
// the selected and the hovered footprints are drawn again, brighter and thicker, in overlays of
// their own above the others, and Aladin is told that no footprint is under the pointer.
import { ServiceError, getText, request, serviceUrl } from "./api.js";
import { NO_BAND, bandsOf, renderLegend } from "./bands.js";
import { angularDistance, areaIfInside, enclosingCircle, fovFor, meanDirection, outlinePoints } from "./skygeometry.js";
import { parseStcs } from "./stcs.js";

const SELECTED = "#ffffff";
const MARKERS = "#33ddff";
const MARKER_SELECTED = "#ff3366";
const MAX_MARKERS = 20000;
const LINE = { lineWidth: 1.5, opacity: 0.7 };
const HOVER_LINE = { lineWidth: 2.5, opacity: 1 };
const SELECTED_LINE = { lineWidth: 3.5, opacity: 1, fill: true, fillColor: "rgba(255, 255, 255, 0.14)" };
const PICK_PIXELS = 8; // a marker this close to the pointer is under it

/** Aladin should not hover or select our footprints itself (see above). */
function inert(shape) {
  shape.isInStroke = () => false;
  return shape;
}

/** Marker size by how many there are: few are easy to see, many must not merge into a blob. */
function markerSize(count) {
  if (count <= 100) return 11;
  if (count <= 1000) return 8;
  if (count <= 5000) return 6;
  return 4;
}

/** A HiPS list (HiPS 1.0 sec. 5.2): properties blocks separated by blank lines. */
export function parseHipsList(text) {
  const surveys = [];
  for (const block of text.split(/\n\s*\n/)) {
    const props = {};
    for (const line of block.split("\n")) {
      const stripped = line.trim();
      if (!stripped || stripped.startsWith("#") || !stripped.includes("=")) continue;
      const at = stripped.indexOf("=");
      props[stripped.slice(0, at).trim()] = stripped.slice(at + 1).trim();
    }
    if (props.hips_service_url) {
      const frame = (props.hips_frame || "equatorial").toLowerCase();
      if (frame === "equatorial" || frame === "icrs") surveys.push(props);
    }
  }
  return surveys;
}

/** One "band" for all the footprints of ``rows`` (those with a region): one colour, one legend button. */
function singleBand(rows, region, { colour, label }) {
  const count = rows.filter((row) => row[region] !== null && row[region] !== undefined && row[region] !== "").length;
  return { bands: count ? [{ key: label, label, colour, lo: 0, count }] : [], keyOf: () => label };
}

export class SkyView {
  /** ``legend``: where the bands are listed; ``tooltip``: the element shown over the view for
   * what is under the pointer; ``describe(row)`` -> lines naming a row (ID, band, date);
   * ``onSelect(row)`` when a footprint or marker is clicked; ``onHover(row | null)``. */
  constructor({ container, note, legend, tooltip, layerSelect, config, describe, onSelect, onHover, onViewChange }) {
    Object.assign(this, { container, note, legend, tooltip, layerSelect, config, describe, onSelect, onHover, onViewChange });
    this.entries = []; // footprints: [{row, band, colour, parsed: [shape], shapes: [aladin shape], bbox}]
    this.markers = new Map(); // row -> {ra, dec}
    this.surveys = [];
    this.selected = null;
    this.hovered = null;
    this.visible = null; // rows the result filters let through (null: all)
    this.hiddenBands = new Set();
    this.bands = [];
    this.search = null;
    this.ready = this.start();
  }

  async start() {
    const probe = document.createElement("canvas").getContext("webgl2");
    if (!probe) {
      this.say("The sky view needs WebGL 2, which this browser does not offer (or has turned off).");
      throw new Error("no WebGL 2");
    }
    const { default: A } = await import(/* webpackIgnore: true */ new URL("vendor/aladin-lite/aladin.js", import.meta.url).href);
    await A.init;
    this.A = A;
    const view = this.config.initialView || { ra: 34.5, dec: -5.0, fov: 1.5 };
    this.aladin = A.aladin(this.container, {
      survey: [], // no default survey (DSS from CDS); the base layer is set below
      hipsList: [], // no survey list from CDS
      log: false, // no start-up log sent to CDS
      target: `${view.ra} ${view.dec}`,
      fov: view.fov,
      cooFrame: "ICRS",
      showReticle: false,
      showLayersControl: false, // its survey browser lists CDS surveys; ours lists the archive's
      showSimbadPointerControl: false,
      showShareControl: false,
      showSettingsControl: false,
      showContextMenu: false,
      showCooGridControl: true,
      showProjectionControl: false,
      showFullscreenControl: true,
      backgroundColor: "rgb(16, 20, 32)",
    });
    this.searchOverlay = A.graphicOverlay({ name: "Search", color: "#88ff88", lineWidth: 1 });
    this.overlay = A.graphicOverlay({ name: "Footprints", color: NO_BAND, lineWidth: LINE.lineWidth });
    this.hoverOverlay = A.graphicOverlay({ name: "Under the pointer", color: SELECTED, lineWidth: HOVER_LINE.lineWidth });
    this.selectedOverlay = A.graphicOverlay({ name: "Selected", color: SELECTED, lineWidth: SELECTED_LINE.lineWidth });
    for (const overlay of [this.searchOverlay, this.overlay, this.hoverOverlay, this.selectedOverlay]) this.aladin.addOverlay(overlay);
    // Aladin's own selection of a marker looks like the marker itself: ours is drawn on top.
    this.catalog = A.catalog({ name: "Results", sourceSize: 8, color: MARKERS, hoverColor: MARKERS, selectionColor: MARKERS, shape: "circle" });
    this.selectedCatalog = A.catalog({ name: "Selected row", sourceSize: 16, color: MARKER_SELECTED, hoverColor: MARKER_SELECTED, selectionColor: MARKER_SELECTED, shape: "circle" });
    this.aladin.addCatalog(this.catalog);
    this.aladin.addCatalog(this.selectedCatalog);
    this.aladin.on("click", (event) => {
      if (!event.isDragging) this.clickedAt(event.ra, event.dec, event.x, event.y);
    });
    let pending = null;
    this.aladin.on("mouseMove", (event) => {
      pending = event;
      if (this.hoverFrame) return;
      this.hoverFrame = requestAnimationFrame(() => {
        this.hoverFrame = null;
        this.pointerAt(pending);
      });
    });
    this.container.addEventListener("mouseleave", () => this.pointerAt(null));
    let timer = null;
    const changed = () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.onViewChange(this.view()), 300);
    };
    this.aladin.on("positionChanged", changed);
    this.aladin.on("zoomChanged", changed);
    await this.loadSurveys(view.survey);
    await this.loadMoc();
    this.container.dataset.ready = "true";
  }

  view() {
    const [ra, dec] = this.aladin.getRaDec();
    const [fov] = this.aladin.getFov();
    return { ra, dec, fov, survey: this.layerSelect.value || null };
  }

  /** The circle around what is in view: centred on it, through its corners (at most 90°). */
  viewCircle() {
    const [ra, dec] = this.aladin.getRaDec();
    const [width, height] = this.aladin.getFov();
    return { ra, dec, radius: Math.min(90, Math.hypot(width, height) / 2) };
  }

  say(text) {
    this.note.textContent = text;
    this.note.hidden = !text;
  }

  async loadSurveys(wanted) {
    if (!this.config.hipslist) {
      this.noSurveys();
      return;
    }
    try {
      this.surveys = parseHipsList(await getText(serviceUrl(this.config.hipslist)));
    } catch (error) {
      if (!(error instanceof ServiceError) || error.status !== 404) this.say(`The HiPS list could not be read: ${error.message}`);
      this.surveys = [];
    }
    if (!this.surveys.length) {
      this.noSurveys();
      return;
    }
    this.layerSelect.replaceChildren(
      ...this.surveys.map((s) => new Option(s.obs_title || s.creator_did || s.hips_service_url, s.creator_did || s.hips_service_url)),
      new Option("none (plain background)", ""),
    );
    this.layerSelect.disabled = false;
    const colour = this.surveys.find((s) => (s.dataproduct_subtype || "").includes("color") || s.hips_tile_format?.includes("png") && !s.hips_tile_format.includes("fits"));
    const chosen = this.surveys.find((s) => (s.creator_did || s.hips_service_url) === wanted) || colour || this.surveys[0];
    this.layerSelect.value = chosen.creator_did || chosen.hips_service_url;
    this.layerSelect.addEventListener("change", () => {
      this.setSurvey(this.layerSelect.value);
      this.onViewChange(this.view());
    });
    this.setSurvey(this.layerSelect.value);
  }

  noSurveys() {
    this.layerSelect.replaceChildren(new Option("none published", ""));
    this.layerSelect.disabled = true;
    this.say("This archive publishes no HiPS survey: footprints and markers are drawn on a plain background.");
  }

  setSurvey(id) {
    const survey = this.surveys.find((s) => (s.creator_did || s.hips_service_url) === id);
    if (!survey) {
      // Made transparent, not removed: Aladin Lite 3.8.2 names the base layer itself (so
      // removeImageLayer("base") removed nothing), and with no base layer it would fetch its
      // default survey from CDS.
      this.aladin.getBaseImageLayer()?.setOpacity(0);
      this.container.dataset.survey = "";
      return;
    }
    const formats = (survey.hips_tile_format || "").split(/\s+/);
    const options = { name: survey.obs_title || id, imgFormat: formats.includes("png") ? "png" : formats.includes("jpeg") ? "jpeg" : formats[0] };
    const layer = this.A.HiPS(survey.hips_service_url, options);
    this.aladin.setBaseImageLayer(layer);
    layer.setOpacity(1); // Aladin keeps a survey's options: it may come back from "none" at 0
    this.container.dataset.survey = id;
  }

  async loadMoc() {
    // Aladin Lite draws a MOC over a base survey, and with none it fetches its default (DSS, from
    // CDS): the coverage is shown only over the archive's own surveys.
    if (!this.config.moc || !this.surveys.length) return;
    try {
      const json = await (await request(serviceUrl(this.config.moc))).json();
      this.aladin.addMOC(this.A.MOCFromJSON(json, { name: "Coverage", color: "#6699ff", opacity: 0.15, lineWidth: 1, fill: true }));
    } catch (error) {
      if (!(error instanceof ServiceError) || error.status !== 404) this.say(`The archive's coverage could not be read: ${error.message}`);
    }
  }

  goTo(ra, dec, fov) {
    this.aladin.gotoRaDec(ra, dec);
    if (fov) this.aladin.setFoV(fov);
    const [r, d] = this.aladin.getRaDec();
    this.container.dataset.view = `${r.toFixed(6)},${d.toFixed(6)},${this.aladin.getFov()[0].toPrecision(6)}`;
  }

  /** Centre on a circle {ra, dec, radius} and zoom so that it fills the view with a margin
   * (the narrower side of the view decides). */
  fit(circle, margin = 1.25) {
    const [width, height] = [this.container.clientWidth || 1, this.container.clientHeight || 1];
    const aspect = Math.max(1, width / height);
    this.goTo(circle.ra, circle.dec, fovFor(circle.radius * aspect, { margin }));
  }

  showSearch(circle) {
    this.search = circle;
    this.searchOverlay.removeAll();
    if (circle) this.searchOverlay.add(inert(this.A.circle(circle.ra, circle.dec, circle.radius, { color: "#88ff88", lineWidth: 1 })));
  }

  /** Draw ``rows``: footprints from ``region`` (STC-S), coloured by band, or markers at ``ra``/``dec``.
   * ``single``: {colour, label}, one colour for every footprint, named so in the legend (other
   * archives' datasets, apart from this archive's bands). */
  showRows(rows, { region = null, ra = null, dec = null } = {}, columns = [], single = null) {
    this.overlay.removeAll();
    this.catalog.removeAll();
    this.entries = [];
    this.markers = new Map();
    this.selected = null;
    this.hovered = null;
    this.visible = null;
    this.rows = rows;
    const { bands, keyOf } = region === null ? { bands: [], keyOf: () => null } : single ? singleBand(rows, region, single) : bandsOf(rows, columns);
    this.bands = bands;
    this.hiddenBands = new Set();
    const colours = new Map(bands.map((b) => [b.key, b.colour]));
    if (region !== null) {
      rows.forEach((row, i) => {
        const parsed = parseStcs(row[region]);
        if (!parsed.length) return;
        const band = keyOf(row);
        const colour = colours.get(band) || NO_BAND;
        const points = parsed.flatMap(outlinePoints);
        const entry = { row: i, band, colour, parsed, points, shapes: this.drawn(parsed, { color: colour, ...LINE }) };
        entry.centre = meanDirection(points);
        for (const shape of entry.shapes) this.overlay.add(shape, false);
        this.entries.push(entry);
      });
    }
    if (region === null && ra !== null && dec !== null) {
      for (let i = 0; i < rows.length && this.markers.size < MAX_MARKERS; i += 1) {
        const [r, d] = [Number(rows[i][ra]), Number(rows[i][dec])];
        if (Number.isFinite(r) && Number.isFinite(d)) this.markers.set(i, { ra: r, dec: d });
      }
      this.drawMarkers();
    }
    this.hoverOverlay.removeAll();
    this.selectedOverlay.removeAll();
    this.selectedCatalog.removeAll();
    this.renderLegend(rows.length);
    this.container.dataset.footprints = String(this.entries.length);
    // the colours the footprint overlay holds, as Aladin has them (the tests read them, not pixels)
    this.container.dataset.colours = [...new Set(this.overlay.overlayItems.map((shape) => shape.color))].sort().join(" ");
    this.container.dataset.markers = String(this.markers.size);
    delete this.container.dataset.selected;
    this.aladin.view.requestRedraw();
  }

  drawn(parsed, options) {
    return parsed.map((shape) =>
      inert(shape.kind === "polygon" ? this.A.polygon(shape.vertices.map((v) => [...v]), options) : this.A.circle(shape.ra, shape.dec, shape.radius, options)),
    );
  }

  drawMarkers() {
    this.catalog.removeAll();
    const sources = [];
    for (const [row, { ra, dec }] of this.markers) {
      if (this.isShown(row)) sources.push(this.A.source(ra, dec, { __row: row }));
    }
    this.catalog.setSourceSize?.(markerSize(sources.length));
    this.catalog.addSources(sources);
  }

  renderLegend(rowCount) {
    const parts = [];
    const footprints = this.entries.length;
    const markers = this.markers.size;
    if (footprints) parts.push(`${footprints.toLocaleString("en")} image footprint${footprints === 1 ? "" : "s"}`);
    if (markers) parts.push(`${markers.toLocaleString("en")} marker${markers === 1 ? "" : "s"}${markers === MAX_MARKERS ? ` (the first ${MAX_MARKERS.toLocaleString("en")} rows)` : ""}`);
    const summary = document.createElement("span");
    summary.className = "drawn";
    summary.textContent = parts.length ? `Drawn: ${parts.join(", ")}` : rowCount ? "Nothing to draw: the results have no positions" : "";
    this.legend.replaceChildren(summary);
    const bands = document.createElement("span");
    renderLegend(bands, this.bands, this.hiddenBands, (key, show) => {
      if (show) this.hiddenBands.delete(key);
      else this.hiddenBands.add(key);
      this.applyVisibility();
      this.renderLegend(rowCount);
      this.legend.querySelector(`button[data-band="${CSS.escape(key)}"]`)?.focus();
    });
    this.legend.append(bands);
  }

  isShown(row) {
    if (this.visible && !this.visible.has(row)) return false;
    if (!this.hiddenBands.size) return true;
    const entry = this.entryOf(row);
    return !entry || !this.hiddenBands.has(entry.band);
  }

  entryOf(row) {
    if (!this.entryIndex || this.entryIndex.size !== this.entries.length) this.entryIndex = new Map(this.entries.map((e) => [e.row, e]));
    return this.entryIndex.get(row);
  }

  /** Only ``rows`` (a Set of row indices, or null for all) are drawn: the result filters. */
  setVisibleRows(rows) {
    this.visible = rows;
    this.applyVisibility();
  }

  applyVisibility() {
    let shown = 0;
    for (const entry of this.entries) {
      const on = this.isShown(entry.row);
      for (const shape of entry.shapes) (on ? shape.show() : shape.hide());
      if (on) shown += 1;
    }
    if (this.markers.size) {
      this.drawMarkers();
      shown = this.catalog.getSources().length;
    }
    if (this.hovered !== null && !this.isShown(this.hovered)) this.hover(null);
    const total = this.entries.length || this.markers.size;
    const summary = this.legend.querySelector(".drawn");
    if (summary && total) {
      const what = this.entries.length ? `image footprint${total === 1 ? "" : "s"}` : `marker${total === 1 ? "" : "s"}`;
      summary.textContent = shown === total ? `Drawn: ${total.toLocaleString("en")} ${what}` : `Drawn: ${shown.toLocaleString("en")} of ${total.toLocaleString("en")} ${what}`;
    }
    this.container.dataset.shown = String(shown);
    this.aladin.view.requestRedraw();
  }

  /** The rows whose footprint holds the point, the smallest footprint first; or the markers
   * within a few pixels of (x, y), the nearest first. */
  rowsAt(ra, dec, x, y) {
    const found = [];
    for (const entry of this.entries) {
      if (!this.isShown(entry.row)) continue;
      let area = null;
      for (const shape of entry.parsed) {
        const inside = areaIfInside(ra, dec, shape);
        if (inside !== null) area = area === null ? inside : Math.min(area, inside);
      }
      if (area !== null) found.push({ row: entry.row, size: area });
    }
    if (found.length) return found.sort((a, b) => a.size - b.size || a.row - b.row).map((f) => f.row);
    if (!this.markers.size || x === undefined) return [];
    const [fov] = this.aladin.getFov();
    const reach = (PICK_PIXELS * fov) / (this.container.clientWidth || 400);
    const near = [];
    for (const [row, marker] of this.markers) {
      if (!this.isShown(row) || Math.abs(marker.dec - dec) > reach) continue;
      const distance = angularDistance(ra, dec, marker.ra, marker.dec);
      if (distance <= reach) near.push({ row, distance });
    }
    return near.sort((a, b) => a.distance - b.distance).map((n) => n.row);
  }

  clickedAt(ra, dec, x, y) {
    const rows = this.rowsAt(ra, dec, x, y);
    // Footprints on top of each other (one field in several bands): a second click at the same
    // place picks the next one.
    const at = rows.indexOf(this.selected);
    if (rows.length) this.onSelect(rows[(at + 1) % rows.length]);
    this.container.dataset.picks = String((Number(this.container.dataset.picks) || 0) + 1); // clicks handled
  }

  pointerAt(event) {
    if (!event || event.ra === null || event.ra === undefined) {
      this.hover(null);
      this.showTooltip(null);
      return;
    }
    const rows = this.rowsAt(event.ra, event.dec, event.x, event.y);
    // the chosen footprint, when it is under the pointer, is the one pointed at
    this.hover(rows.length ? (rows.includes(this.selected) ? this.selected : rows[0]) : null);
    this.showTooltip(rows.length ? { rows, x: event.x, y: event.y } : null);
  }

  hover(row) {
    if (row === this.hovered) return;
    this.hovered = row;
    this.hoverOverlay.removeAll();
    const entry = row === null ? null : this.entryOf(row);
    if (entry) {
      for (const shape of this.drawn(entry.parsed, { color: entry.colour, ...HOVER_LINE })) this.hoverOverlay.add(shape, false);
    }
    if (row === null) delete this.container.dataset.hovered;
    else this.container.dataset.hovered = String(row);
    this.onHover(row);
    this.aladin.view.requestRedraw();
  }

  showTooltip(at) {
    if (!this.tooltip) return;
    if (!at) {
      this.tooltip.hidden = true;
      return;
    }
    const lines = at.rows.slice(0, 4).map((row) => this.describe(row));
    if (at.rows.length > 4) lines.push(`and ${at.rows.length - 4} more here (click again for the next)`);
    else if (at.rows.length > 1) lines.push(`${at.rows.length} here: click again for the next`);
    this.tooltip.replaceChildren(...lines.map((line) => Object.assign(document.createElement("div"), { textContent: line })));
    this.tooltip.hidden = false;
    const box = this.container.getBoundingClientRect();
    const parent = this.tooltip.offsetParent?.getBoundingClientRect() || box;
    const left = box.left - parent.left + Math.min(at.x + 14, box.width - this.tooltip.offsetWidth - 4);
    const top = box.top - parent.top + (at.y + 18 + this.tooltip.offsetHeight > box.height ? at.y - this.tooltip.offsetHeight - 8 : at.y + 18);
    this.tooltip.style.left = `${Math.max(0, left)}px`;
    this.tooltip.style.top = `${Math.max(0, top)}px`;
  }

  /** The circle holding every row drawn (footprints, markers) and the search circle. */
  resultsCircle() {
    const points = [];
    for (const entry of this.entries) if (this.isShown(entry.row)) points.push(...entry.points);
    for (const [row, marker] of this.markers) if (this.isShown(row)) points.push([marker.ra, marker.dec]);
    if (this.search) points.push(...outlinePoints({ kind: "circle", ...this.search }));
    const circle = enclosingCircle(points);
    if (!circle) return null;
    return { ...circle, radius: Math.max(circle.radius, 1 / 3600) };
  }

  /** Zoom to show every row drawn; false when there is nothing to show. */
  fitToResults() {
    const circle = this.resultsCircle();
    if (!circle) return false;
    this.fit(circle, 1.15);
    return true;
  }

  /** Highlight ``row``'s footprint or marker; ``fit``: centre on it and zoom to it. */
  select(row, { fit = false } = {}) {
    this.selected = row;
    this.selectedOverlay.removeAll();
    this.selectedCatalog.removeAll();
    const entry = row === null ? null : this.entryOf(row);
    if (entry) {
      for (const shape of this.drawn(entry.parsed, { color: SELECTED, ...SELECTED_LINE })) this.selectedOverlay.add(shape, false);
      if (fit && entry.centre) {
        let radius = 0;
        for (const [r, d] of entry.points) radius = Math.max(radius, angularDistance(entry.centre[0], entry.centre[1], r, d));
        this.fit({ ra: entry.centre[0], dec: entry.centre[1], radius: Math.max(radius, 1 / 3600) }, 1.6);
      }
    }
    const marker = row === null ? null : this.markers.get(row);
    if (marker) {
      this.selectedCatalog.addSources([this.A.source(marker.ra, marker.dec, { __row: row })]);
      if (fit) {
        const [vr, vd] = this.aladin.getRaDec();
        const [fov] = this.aladin.getFov();
        if (angularDistance(marker.ra, marker.dec, vr, vd) > fov / 2.5) this.aladin.gotoRaDec(marker.ra, marker.dec);
      }
    }
    if (row === null) delete this.container.dataset.selected;
    else this.container.dataset.selected = String(row);
    this.aladin.view.requestRedraw();
  }
}
