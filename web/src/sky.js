// The sky view: Aladin Lite 3 (served from this server, unmodified, beside this code) on the
// archive's own HiPS surveys, the archive's MOC, the footprints of image results and markers
// of catalogue results. Nothing is asked of CDS: no start-up log, no default survey, no survey
// list; where the archive publishes no HiPS the overlays are drawn on a plain background.
import { ServiceError, getText, request, serviceUrl } from "./api.js";
import { parseStcs } from "./stcs.js";

const FOOTPRINT = "#ffcc33";
const SELECTED = "#ff3366";
const MARKERS = "#33ddff";
const MAX_MARKERS = 20000;

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

function pointInPolygon(ra, dec, vertices) {
  // On the tangent plane at the point: good for footprints of less than a few degrees.
  const cosDec = Math.cos((dec * Math.PI) / 180);
  const xy = vertices.map(([r, d]) => [(((r - ra + 540) % 360) - 180) * cosDec, d - dec]);
  let inside = false;
  for (let i = 0, j = xy.length - 1; i < xy.length; j = i, i += 1) {
    const [xi, yi] = xy[i];
    const [xj, yj] = xy[j];
    if (yi > 0 !== yj > 0 && 0 < ((xj - xi) * (0 - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function planeArea(vertices) {
  const cosDec = Math.cos((vertices[0][1] * Math.PI) / 180);
  let twice = 0;
  for (let i = 0, j = vertices.length - 1; i < vertices.length; j = i, i += 1) {
    twice += (vertices[j][0] - vertices[i][0]) * cosDec * (vertices[j][1] + vertices[i][1]);
  }
  return Math.abs(twice) / 2;
}

function angularDistance(ra1, dec1, ra2, dec2) {
  const r = Math.PI / 180;
  const s = Math.sin(((dec2 - dec1) * r) / 2) ** 2 + Math.cos(dec1 * r) * Math.cos(dec2 * r) * Math.sin(((ra2 - ra1) * r) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(s)))) / r;
}

export class SkyView {
  constructor({ container, note, legend, layerSelect, config, onSelect, onViewChange }) {
    Object.assign(this, { container, note, legend, layerSelect, config, onSelect, onViewChange });
    this.shapes = []; // [{row, shapes: [aladin shape], polygons: [[ra, dec]...]}]
    this.markers = new Map(); // row -> aladin source
    this.surveys = [];
    this.selected = null;
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
    this.overlay = A.graphicOverlay({ name: "Footprints", color: FOOTPRINT, lineWidth: 2 });
    this.searchOverlay = A.graphicOverlay({ name: "Search", color: "#88ff88", lineWidth: 1 });
    this.aladin.addOverlay(this.searchOverlay);
    this.aladin.addOverlay(this.overlay);
    this.catalog = A.catalog({ name: "Results", sourceSize: 12, color: MARKERS, shape: "circle" });
    this.aladin.addCatalog(this.catalog);
    this.aladin.on("click", (event) => {
      if (!event.isDragging) this.clickedAt(event.ra, event.dec);
    });
    this.aladin.on("objectClicked", (object) => {
      if (object && object.data && Number.isInteger(object.data.__row)) this.onSelect(object.data.__row);
    });
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
      this.aladin.removeImageLayer("base");
      return;
    }
    const formats = (survey.hips_tile_format || "").split(/\s+/);
    const options = { name: survey.obs_title || id, imgFormat: formats.includes("png") ? "png" : formats.includes("jpeg") ? "jpeg" : formats[0] };
    this.aladin.setBaseImageLayer(this.A.HiPS(survey.hips_service_url, options));
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
  }

  showSearch(circle) {
    this.searchOverlay.removeAll();
    if (circle) this.searchOverlay.add(this.A.circle(circle.ra, circle.dec, circle.radius, { color: "#88ff88", lineWidth: 1 }));
  }

  /** Draw ``rows``: footprints from ``regionColumn`` (STC-S), or markers at ``ra``/``dec`` columns. */
  showRows(rows, { region = null, ra = null, dec = null } = {}) {
    this.overlay.removeAll();
    this.catalog.removeAll();
    this.shapes = [];
    this.markers = new Map();
    this.selected = null;
    let footprints = 0;
    if (region !== null) {
      rows.forEach((row, i) => {
        const parsed = parseStcs(row[region]);
        if (!parsed.length) return;
        const shapes = parsed.map((shape) =>
          shape.kind === "polygon"
            ? this.A.polygon(shape.vertices, { color: FOOTPRINT, lineWidth: 2 })
            : this.A.circle(shape.ra, shape.dec, shape.radius, { color: FOOTPRINT, lineWidth: 2 }),
        );
        for (const shape of shapes) this.overlay.add(shape);
        this.shapes.push({ row: i, shapes, parsed });
        footprints += 1;
      });
    }
    let markers = 0;
    if (region === null && ra !== null && dec !== null) {
      const sources = [];
      for (let i = 0; i < rows.length && sources.length < MAX_MARKERS; i += 1) {
        const [r, d] = [Number(rows[i][ra]), Number(rows[i][dec])];
        if (!Number.isFinite(r) || !Number.isFinite(d)) continue;
        const source = this.A.source(r, d, { __row: i });
        this.markers.set(i, source);
        sources.push(source);
      }
      this.catalog.addSources(sources);
      markers = sources.length;
    }
    const parts = [];
    if (footprints) parts.push(`${footprints.toLocaleString("en")} image footprint${footprints === 1 ? "" : "s"}`);
    if (markers) parts.push(`${markers.toLocaleString("en")} marker${markers === 1 ? "" : "s"}${markers === MAX_MARKERS ? ` (the first ${MAX_MARKERS.toLocaleString("en")} rows)` : ""}`);
    this.legend.textContent = parts.length ? `Drawn: ${parts.join(", ")}` : rows.length ? "Nothing to draw: the results have no positions" : "";
    this.container.dataset.footprints = String(footprints);
    this.container.dataset.markers = String(markers);
    this.aladin.view.requestRedraw();
  }

  clickedAt(ra, dec) {
    // The smallest footprint holding the point (the most specific image), then the nearest marker.
    let best = null;
    for (const entry of this.shapes) {
      for (const shape of entry.parsed) {
        const inside =
          shape.kind === "polygon" ? pointInPolygon(ra, dec, shape.vertices) : angularDistance(ra, dec, shape.ra, shape.dec) <= shape.radius;
        if (!inside) continue;
        const size = shape.kind === "polygon" ? planeArea(shape.vertices) : Math.PI * shape.radius ** 2;
        if (!best || size < best.size) best = { row: entry.row, size };
      }
    }
    if (best) this.onSelect(best.row);
  }

  select(row) {
    for (const entry of this.shapes) {
      const on = entry.row === row;
      for (const shape of entry.shapes) {
        if (on) shape.select();
        else if (entry.row === this.selected) shape.deselect();
      }
      if (on) {
        const [r, d] = entry.parsed[0].kind === "polygon" ? entry.parsed[0].vertices[0] : [entry.parsed[0].ra, entry.parsed[0].dec];
        const [vr, vd] = this.aladin.getRaDec();
        const [fov] = this.aladin.getFov();
        if (angularDistance(r, d, vr, vd) > fov / 2) this.aladin.gotoRaDec(r, d);
      }
    }
    const marker = this.markers.get(row);
    if (marker) {
      this.catalog.deselectAll?.();
      marker.select();
    }
    this.selected = row;
    this.container.dataset.selected = String(row);
    this.aladin.view.requestRedraw();
  }
}
