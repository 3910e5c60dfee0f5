// The portal: image search (SIA 2.0), cone search of catalogues, ADQL (TAP 1.1, sync and async),
// the tables browser, the results table with its facets and the sky view, wired together; the URL
// keeps the state.
import { ServiceError, getText, getXml, readTable, request, serviceUrl } from "./api.js";
import { ConeForm } from "./cone.js";
import { dateToMjd, formatDegrees, parseBand, parseRadius } from "./coords.js";
import { previewUrl } from "./datalink.js";
import { AdqlEditor, errorPosition } from "./editor.js";
import { FacetPanel } from "./facets.js";
import { mjdToIso } from "./format.js";
import { imageView } from "./imageview.js";
import { resolvePosition, resolvedNote } from "./resolver.js";
import { ResultsView } from "./results.js";
import { SkyView } from "./sky.js";
import { readState, skyParam, writeState } from "./state.js";
import { TablesBrowser, parseTableset } from "./tables.js";
import { AsyncJob, runSync, syncUrl } from "./tap.js";
import { Cart } from "./cart.js";
import { Account } from "./account.js";
import { showSnippets } from "./interop.js";
import { JobList, syncOrSwitch } from "./jobs.js";
import { SampLink } from "./samp.js";
import { QuickLook } from "./viewer.js";
import { parseVotable } from "./votable.js";
import { Thumbnails } from "./thumbnails.js";
import { OtherArchives, REMOTE, COVERAGE } from "./facilities.js";

const $ = (id) => document.getElementById(id);

const config = await (await request(serviceUrl("portal/config.json"))).json();
const initial = readState();
new Account(document.getElementById("account"));

// ------------------------------------------------------------------ tabs (WAI-ARIA tabs pattern)
const tabs = [...document.querySelectorAll('.search [role="tab"]')];
function showTab(name, { focus = false, record = true } = {}) {
  for (const tab of tabs) {
    const on = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (name === "jobs") jobs?.update();
  if (name === "cart") cart?.refresh();
  if (record) writeState({ tab: name });
}
for (const tab of tabs) {
  tab.addEventListener("click", () => showTab(tab.dataset.tab));
  tab.addEventListener("keydown", (event) => {
    const i = tabs.indexOf(tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    showTab(tabs[(next + tabs.length) % tabs.length].dataset.tab, { focus: true });
  });
}

// ------------------------------------------------------------------ results and sky
let current = null; // {kind, rows, columns}
const sky = new SkyView({
  container: $("aladin"),
  note: $("sky-note"),
  legend: $("sky-legend"),
  tooltip: $("sky-tooltip"),
  layerSelect: $("sky-survey"),
  config: { ...config, initialView: initial.view ? { ...initial.view, survey: initial.hips } : null },
  describe: (row) => describeRow(row),
  onSelect: (row) => {
    results.select(row);
    sky.select(row);
    updateInterop();
  },
  onHover: (row) => results.highlight(row),
  onViewChange: (view) => writeState({ sky: skyParam(view), hips: view.survey }),
});
$("sky-fit").addEventListener("click", () => sky.fitToResults());

/** Run ``use`` once the sky view has started; nothing where it could not (the note says why).
 * A failure inside ``use`` is the page's bug and is reported as one. */
function withSky(use) {
  sky.ready.then(use, () => {});
}
sky.ready.catch((error) => {
  if (error.message !== "no WebGL 2") sky.say(`The sky view could not start: ${error.message}`);
});

const results = new ResultsView({
  table: $("results-table"),
  scroller: $("results-scroll"),
  status: $("results-status"),
  overflow: $("results-overflow"),
  error: $("results-error"),
  toggles: $("column-toggles"),
  format: $("download-format"),
  download: $("download"),
  thumbnails: config.datalink ? new Thumbnails(config.datalink, () => results.showThumbnails()) : null,
  onSelect: (index) => {
    updateInterop();
    withSky(() => sky.select(index, { fit: true }));
  },
  onHover: (index) => withSky(() => sky.hover(index)),
  onPreview: (row, button) => preview(row, button),
  decorate: (row, td) => decorateRow(row, td),
  decorateHead: (th) => decorateHead(th),
});

const facets = new FacetPanel({
  container: $("facets"),
  onChange: (filter) => {
    results.setFilter(filter);
    const shown = filter ? new Set(results.order) : null;
    withSky(() => sky.setVisibleRows(shown));
  },
});

/** A row in a line, for the sky view's tooltip: ID, band and date of an image; ID and position otherwise. */
function describeRow(index) {
  const row = current?.rows[index];
  if (!row) return "";
  const value = (name) => results.value(row, name);
  if (value("obs_id") !== undefined) {
    const band = value("em_band_name") ?? (typeof value("em_min") === "number" ? `${Math.round(value("em_min") * 1e9)}–${Math.round(value("em_max") * 1e9)} nm` : null);
    const date = typeof value("t_min") === "number" ? mjdToIso(value("t_min")) : null;
    return [value("obs_id"), band, date && `${date} UTC`].filter(Boolean).join(" · ");
  }
  const where = positionColumns(current.columns);
  const identifier = current.columns.findIndex((c) => /(^|;)meta\.id(;|$)/.test(c.ucd || ""));
  const name = row[identifier >= 0 ? identifier : 0];
  const position = where.ra !== null ? `${Number(row[where.ra]).toFixed(5)} ${Number(row[where.dec]).toFixed(5)}` : "";
  return [name, position].filter((v) => v !== null && v !== "").join(" · ");
}

function positionColumns(columns) {
  const find = (test) => columns.findIndex(test);
  const byUcd = (ucd) => find((c) => (c.ucd || "").toLowerCase().split(";").includes(ucd) && (c.ucd || "").toLowerCase().includes("meta.main"));
  let ra = byUcd("pos.eq.ra");
  let dec = byUcd("pos.eq.dec");
  if (ra < 0 || dec < 0) {
    ra = find((c) => ["ra", "s_ra", "raj2000", "ra_icrs"].includes(c.name.toLowerCase()));
    dec = find((c) => ["dec", "s_dec", "dej2000", "dec_icrs"].includes(c.name.toLowerCase()));
  }
  const region = find((c) => c.name.toLowerCase() === "s_region" || (c.xtype || "").toLowerCase() === "adql:region");
  return { ra: ra < 0 ? null : ra, dec: dec < 0 ? null : dec, region: region < 0 ? null : region };
}

let own = null; // this archive's answer {result, source, sort}, while other archives' are shown
function showAnswer(result, source) {
  if (!source?.other) {
    own = { result, source };
    if (others.mode === "other") others.close({ show: false });
  }
  current = result;
  results.show(result, source);
  updateInterop();
  facets.show(result.rows, result.columns, { images: Boolean(source.view), overflow: result.overflow });
  const where = positionColumns(result.columns);
  $("sky-fit").disabled = true;
  withSky(() => {
    sky.showRows(result.rows, where, result.columns, source?.sky || null);
    sky.showSearch(source.circle || null);
    const fitted = sky.fitToResults(); // the results and the search circle in view
    $("sky-fit").disabled = !fitted;
    sky.container.dataset.answer = String((sky.container.dataset.answer | 0) + 1);
    performance.mark("answer-on-the-sky");
  });
}

function cutoutFor(circle) {
  return (row) => {
    const id = results.value(row, "obs_publisher_did");
    if (!id || !config.soda) return null;
    const ra = Number(results.value(row, "s_ra"));
    const dec = Number(results.value(row, "s_dec"));
    const fov = Number(results.value(row, "s_fov"));
    const c = circle || (Number.isFinite(ra) && Number.isFinite(dec) ? { ra, dec, radius: Number.isFinite(fov) ? fov / 4 : 0.01 } : null);
    if (!c) return null;
    return serviceUrl(config.soda, { ID: id, CIRCLE: `${formatDegrees(c.ra, 7)} ${formatDegrees(c.dec, 7)} ${formatDegrees(c.radius, 7)}` });
  };
}

// ------------------------------------------------------------------ other archives (facilities.js)
const others = new OtherArchives({
  thisTab: $("tab-this-archive"),
  otherTab: $("tab-other-archives"),
  body: $("results-body"),
  container: $("facilities"),
  hasCache: async () => {
    await tablesLoaded;
    return [REMOTE, COVERAGE].every((name) => browser.tables.some((t) => t.name.toLowerCase() === name));
  },
  region: () => own?.source?.circle || null,
  viewRegion: () => sky.ready.then(() => sky.viewCircle(), () => null),
  maxrec: () => checked($("image-maxrec"), parseMaxrec).value ?? config.maxrec_default,
  display: (result, source) => {
    if (others.mode !== "other") return;
    if (own) own.sort = results.source === own.source ? results.sort : own.sort;
    showAnswer(result, source);
  },
  restore: () => {
    if (own) {
      showAnswer(own.result, own.source);
      if (own.sort) results.setSort(own.sort);
      return;
    }
    showAnswer({ columns: [], rows: [], overflow: false }, { label: "", other: true }); // the sky emptied too
    results.clear("Search images or run a query: the rows appear here.");
  },
  busy: (message) => results.busy(message),
  fail: (message) => results.fail(message),
  record: (changes) => writeState(changes),
});

// ------------------------------------------------------------------ preview (the DataLink #preview)
const dialog = $("preview-dialog");
$("preview-close").addEventListener("click", () => dialog.close());
async function preview(row, button) {
  const id = results.value(row, "obs_publisher_did");
  const image = $("preview-image");
  const status = $("preview-status");
  $("preview-title").textContent = `Preview of ${results.value(row, "obs_id") || id}`;
  image.hidden = true;
  image.removeAttribute("src");
  status.textContent = "Loading the preview…";
  dialog.returnFocus = button;
  dialog.showModal();
  try {
    const url = await previewUrl(id);
    await new Promise((resolve, reject) => {
      image.onload = resolve;
      image.onerror = () => reject(new Error("the preview image could not be loaded"));
      image.src = url;
      image.alt = `Preview of ${id}`;
    });
    image.hidden = false;
    status.textContent = `${image.naturalWidth} × ${image.naturalHeight} pixels`;
  } catch (error) {
    status.textContent = `No preview: ${error.message}`;
  }
}
dialog.addEventListener("close", () => dialog.returnFocus?.focus());

// ------------------------------------------------------------------ image search (SIA 2.0)
const searchForm = $("panel-images");
const fields = { pos: $("pos"), radius: $("radius"), band: $("band"), instrument: $("instrument"), collection: $("collection"), from: $("time-from"), to: $("time-to") };
const bandNames = new Map();

function fieldError(input, message) {
  const note = $(`${input.id}-error`);
  note.textContent = message || "";
  note.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function checked(input, parse) {
  try {
    const value = parse(input.value);
    fieldError(input, "");
    return { ok: true, value };
  } catch (error) {
    fieldError(input, error.message);
    return { ok: false };
  }
}

/** The position in ``input``: coordinates, or a name resolved by the server (said under the field). */
async function positionOf(input) {
  const note = $(`${input.id}-resolved`);
  try {
    const found = await resolvePosition(input.value, config.resolver?.url);
    fieldError(input, "");
    note.textContent = resolvedNote(found);
    note.hidden = !note.textContent;
    return { ok: true, value: found };
  } catch (error) {
    note.hidden = true;
    fieldError(input, error.message);
    return { ok: false };
  }
}

let running = null; // {cancel()}
function setRunning(job) {
  running = job;
  $("cancel").disabled = !job;
  $("run").disabled = Boolean(job);
  $("search-images").disabled = Boolean(job);
  $("search-cone").disabled = Boolean(job);
}

async function searchImages() {
  const before = results.status.textContent;
  results.busy(/\p{L}/u.test(fields.pos.value) ? `Resolving "${fields.pos.value.trim()}"…` : "Searching images…");
  const pos = await positionOf(fields.pos);
  const radius = checked(fields.radius, parseRadius);
  const band = checked(fields.band, (t) => parseBand(t, bandNames));
  const from = checked(fields.from, (t) => dateToMjd(t, "From"));
  const to = checked(fields.to, (t) => {
    const mjd = dateToMjd(t, "To");
    return mjd === null ? null : mjd + (t.includes("T") ? 0 : 1); // a date's whole day
  });
  const maxrec = checked($("image-maxrec"), parseMaxrec);
  const bad = [pos, radius, band, from, to, maxrec].find((f) => !f.ok);
  if (bad) {
    searchForm.querySelector('[aria-invalid="true"]')?.focus();
    results.busy(before);
    return;
  }
  const circle = { ra: pos.value.ra, dec: pos.value.dec, radius: radius.value };
  const params = {
    POS: `CIRCLE ${formatDegrees(circle.ra, 7)} ${formatDegrees(circle.dec, 7)} ${formatDegrees(circle.radius, 7)}`,
    BAND: band.value ? (bandNames.has(fields.band.value.trim()) ? String((band.value[0] + band.value[1]) / 2) : `${band.value[0]} ${band.value[1]}`) : null,
    INSTRUMENT: fields.instrument.value || null,
    COLLECTION: fields.collection.value || null,
    TIME: from.value !== null || to.value !== null ? `${from.value ?? "-Inf"} ${to.value ?? "+Inf"}` : null,
    MAXREC: maxrec.value,
  };
  writeState({
    search: "images",
    pos: fields.pos.value.trim(),
    radius: fields.radius.value.trim(),
    band: fields.band.value.trim(),
    instrument: fields.instrument.value,
    collection: fields.collection.value,
    from: fields.from.value,
    to: fields.to.value,
    maxrec: maxrec.value,
    query: null,
    mode: null,
    catalogue: null,
    columns: null,
  });
  cart.setRegion(circle);
  const controller = new AbortController();
  setRunning({ cancel: () => controller.abort() });
  results.busy("Searching images…");
  try {
    const response = await request(serviceUrl(config.sia, { ...params, RESPONSEFORMAT: "json" }), { signal: controller.signal });
    const answer = await readTable(response);
    showAnswer(answer, {
      label: "the image search",
      maxrec: maxrec.value,
      images: true,
      view: imageView(answer.rows, answer.columns, circle),
      circle,
      interop: { kind: "sia", params },
      download: (format) => serviceUrl(config.sia, { ...params, RESPONSEFORMAT: format }),
      cutout: cutoutFor(circle),
    });
  } catch (error) {
    results.fail(error.name === "AbortError" ? "The search was cancelled." : error.message);
  } finally {
    setRunning(null);
  }
}

function parseMaxrec(text) {
  const value = Number((text || "").trim() || config.maxrec_default);
  if (!Number.isInteger(value) || value < 0) throw new Error(`"${text}" is not a row count: give a whole number, e.g. 1000`);
  if (value > config.maxrec_hard) throw new Error(`At most ${config.maxrec_hard.toLocaleString("en")} rows can be asked for`);
  return value;
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  searchImages();
});
// An error shows on submit; it goes as soon as the field is mended (checking on blur instead
// would move the button away under a click that is in progress).
for (const input of [fields.pos, $("cone-pos")]) {
  // a name can only be checked by asking the server: the error goes when the field changes
  input.addEventListener("input", () => {
    if (input.getAttribute("aria-invalid") === "true") fieldError(input, "");
    $(`${input.id}-resolved`).hidden = true;
  });
}
for (const [input, parse] of [
  [fields.radius, parseRadius],
  [fields.band, (t) => parseBand(t, bandNames)],
  [$("cone-radius"), parseRadius],
]) {
  input.addEventListener("input", () => {
    if (input.getAttribute("aria-invalid") === "true") checked(input, parse);
  });
}

async function loadSiaChoices() {
  if (!config.sia) return;
  try {
    const doc = await getXml(serviceUrl(config.sia, { MAXREC: 0 }));
    for (const param of doc.getElementsByTagNameNS("*", "PARAM")) {
      const select = { INSTRUMENT: fields.instrument, COLLECTION: fields.collection }[param.getAttribute("name")];
      if (!select) continue;
      for (const option of param.getElementsByTagNameNS("*", "OPTION")) {
        const value = option.getAttribute("value");
        if (value && ![...select.options].some((o) => o.value === value)) select.append(new Option(value, value));
      }
    }
  } catch {
    // the choices are a convenience: the search works without them
  }
}

async function loadTargetNames() {
  if (!config.targets) return;
  try {
    const names = await (await request(serviceUrl(config.targets))).json();
    $("target-names").replaceChildren(...names.map((name) => new Option(name, name)));
  } catch {
    // a convenience: names are resolved all the same
  }
}

async function loadBandNames(tables) {
  const obscore = tables.find((t) => t.name.toLowerCase() === "ivoa.obscore");
  if (!obscore || !obscore.columns.some((c) => c.name === "em_band_name")) return;
  try {
    const answer = await runSync(
      "SELECT em_band_name, MIN(em_min) AS lo, MAX(em_max) AS hi FROM ivoa.obscore WHERE em_band_name IS NOT NULL GROUP BY em_band_name ORDER BY lo",
      1000,
    );
    const list = $("band-names");
    for (const [name, lo, hi] of answer.rows) {
      bandNames.set(name, [lo, hi]);
      list.append(new Option(`${(lo * 1e9).toFixed(0)}–${(hi * 1e9).toFixed(0)} nm`, name));
    }
  } catch {
    // wavelengths still work
  }
}

// ------------------------------------------------------------------ ADQL (TAP 1.1)
const editor = new AdqlEditor($("editor"), { onRun: () => runQuery(), vocabulary: config.adql, doc: initial.query || "" });
$("editor").querySelector(".cm-content").setAttribute("aria-describedby", "adql-help");
$("run").addEventListener("click", () => runQuery());
$("cancel").addEventListener("click", () => running?.cancel());
const phase = $("job-phase");

async function runQuery() {
  if (running) return;
  const query = editor.text.trim();
  const maxrec = checked($("adql-maxrec"), parseMaxrec);
  if (!query) {
    results.fail("Write an ADQL query first, or choose one of the examples.");
    editor.focus();
    return;
  }
  if (!maxrec.ok) return;
  const mode = document.querySelector('input[name="mode"]:checked').value;
  editor.closeCompletion();
  writeState({ search: "adql", query, maxrec: maxrec.value, mode, pos: null, radius: null, band: null, instrument: null, collection: null, from: null, to: null, catalogue: null, columns: null });
  await execute(query, maxrec.value, mode);
}

function adqlSource(query, maxrec) {
  return { label: "the ADQL query", maxrec, images: true, interop: { kind: "adql", query, maxrec }, download: (format) => syncUrl(query, maxrec, format), cutout: cutoutFor(null) };
}

function jobPhase(p, url) {
  phase.textContent = `Job phase: ${p}`;
  phase.dataset.phase = p;
  phase.title = url || "";
  if (url) jobs.phase(url, p);
}

/** Run ``query`` as an async job, or follow the job at ``url`` (one started before a reload). */
async function runAsJob(query, maxrec, url = null) {
  const job = new AsyncJob(query, maxrec, jobPhase);
  setRunning({ cancel: () => job.abort() });
  if (url) {
    job.url = url;
    job.phase = "UNKNOWN";
  } else {
    await job.start();
    jobs.remember(job.url, query, maxrec);
    jobs.phase(job.url, job.phase);
  }
  try {
    return await job.wait();
  } finally {
    jobs.settled(job.url); // shown (or failed): a reload need not follow it again
  }
}

async function execute(query, maxrec, mode, resumeUrl = null) {
  const source = adqlSource(query, maxrec);
  results.busy(resumeUrl ? "Following the job started before the page was reloaded…" : mode === "async" ? "Submitting the job…" : "Running the query…");
  phase.textContent = "";
  try {
    let answer;
    if (resumeUrl) {
      answer = await runAsJob(query, maxrec, resumeUrl);
    } else if (mode === "async") {
      answer = await runAsJob(query, maxrec);
    } else {
      const controller = new AbortController();
      setRunning({ cancel: () => controller.abort() });
      const sync = await syncOrSwitch(query, maxrec, controller.signal, (config.async_after_seconds ?? 5) * 1000);
      if (sync.switched) {
        results.busy("The query takes long: it goes on as an async job (listed under Jobs; a reload does not lose it)…");
        answer = await runAsJob(query, maxrec);
      } else {
        answer = sync.answer;
      }
    }
    showAnswer(answer, source);
  } catch (error) {
    const cancelled = error.name === "AbortError" || /cancelled/.test(error.message);
    results.fail(cancelled ? "The query was cancelled." : error.message);
    const at = cancelled ? null : errorPosition(error.message);
    if (at) editor.showError(at.line, at.column, error.message);
  } finally {
    setRunning(null);
  }
}

async function loadExamples() {
  try {
    const text = await getText(serviceUrl(config.examples));
    let doc = new DOMParser().parseFromString(text, "application/xhtml+xml");
    if (doc.getElementsByTagName("parsererror").length) doc = new DOMParser().parseFromString(text, "text/html");
    const list = $("examples");
    for (const example of doc.querySelectorAll('[typeof="example"]')) {
      const query = example.querySelector('[property="query"]');
      const name = example.querySelector('[property="name"]');
      if (!query) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = name ? name.textContent.trim() : query.textContent.trim().slice(0, 60);
      button.title = query.textContent.trim();
      button.addEventListener("click", () => {
        editor.text = query.textContent.trim();
        runQuery();
      });
      const li = document.createElement("li");
      li.append(button);
      list.append(li);
    }
  } catch (error) {
    $("examples").replaceChildren(`The examples could not be read: ${error.message}`);
  }
}

// ------------------------------------------------------------------ cone search of a catalogue
const coneForm = $("panel-cone");
const cone = new ConeForm({ table: $("cone-table"), columns: $("cone-columns"), all: $("cone-all"), none: $("cone-none") });
const reserved = new Set(config.adql.keywords.map((k) => k.toUpperCase()));

/** The form's ADQL and what it searches, or null (the fields say what is wrong). */
async function coneRequest() {
  const pos = await positionOf($("cone-pos"));
  const radius = checked($("cone-radius"), parseRadius);
  const maxrec = checked($("cone-maxrec"), parseMaxrec);
  if (![pos, radius, maxrec].every((f) => f.ok)) {
    coneForm.querySelector('[aria-invalid="true"]')?.focus();
    return null;
  }
  const circle = { ra: pos.value.ra, dec: pos.value.dec, radius: radius.value };
  return { ...cone.query(circle, circle.radius, reserved), circle, maxrec: maxrec.value };
}

async function searchCone() {
  if (running) return;
  const before = results.status.textContent;
  results.busy("Searching the catalogue…");
  let asked;
  try {
    asked = await coneRequest();
  } catch (error) {
    results.fail(error.message);
    return;
  }
  if (!asked) {
    results.busy(before);
    return;
  }
  writeState({
    search: "cone",
    catalogue: asked.table,
    pos: $("cone-pos").value.trim(),
    radius: $("cone-radius").value.trim(),
    columns: cone.chosenColumns().join(","),
    maxrec: asked.maxrec,
    query: null,
    mode: null,
    band: null,
    instrument: null,
    collection: null,
    from: null,
    to: null,
  });
  const controller = new AbortController();
  setRunning({ cancel: () => controller.abort() });
  try {
    const answer = await runSync(asked.query, asked.maxrec, controller.signal);
    for (const column of answer.columns) {
      // DISTANCE's column: an angle between two positions, shown in arcmin or arcsec when small
      if (column.name === "dist" && !column.ucd) Object.assign(column, { ucd: "pos.angDistance", unit: column.unit || "deg" });
    }
    showAnswer(answer, {
      label: `the cone search of ${asked.table}`,
      maxrec: asked.maxrec,
      circle: asked.circle,
      download: (format) => syncUrl(asked.query, asked.maxrec, format),
    });
  } catch (error) {
    results.fail(error.name === "AbortError" ? "The search was cancelled." : error.message);
  } finally {
    setRunning(null);
  }
}

coneForm.addEventListener("submit", (event) => {
  event.preventDefault();
  searchCone();
});
$("cone-to-adql").addEventListener("click", async () => {
  const asked = await coneRequest().catch((error) => results.fail(error.message));
  if (!asked) return;
  editor.text = asked.query;
  $("adql-maxrec").value = String(asked.maxrec);
  showTab("adql");
  editor.focus();
});

async function loadCatalogues(tables) {
  try {
    const catalogues = config.catalogues ? await (await request(serviceUrl(config.catalogues))).json() : [];
    cone.show(catalogues, tables, initial.catalogue);
    if (initial.columns && initial.search === "cone") cone.showColumns(initial.columns.split(","));
  } catch (error) {
    $("cone-table").replaceChildren(new Option(`The catalogues could not be listed: ${error.message}`, ""));
  }
}

// ------------------------------------------------------------------ tables browser
const browser = new TablesBrowser({
  list: $("schema-list"),
  detail: $("table-detail"),
  onChoose: (table) => writeState({ table: table.name }),
  onQuery: (table) => {
    editor.text = `SELECT TOP 100 * FROM ${table.name}`;
    showTab("adql");
    editor.focus();
  },
});

let tablesLoaded = null; // loadTables(), once started
async function loadTables() {
  try {
    const schemas = parseTableset(await getXml(serviceUrl(config.tables)));
    browser.show(schemas);
    editor.setTables(browser.tables);
    if (initial.table) browser.choose(initial.table);
    loadBandNames(browser.tables);
    await loadCatalogues(browser.tables);
  } catch (error) {
    $("schema-list").replaceChildren(`The tables could not be read: ${error.message}`);
  }
}

// ------------------------------------------------------------------ the cart, jobs, SAMP, the quick look
function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

const cart = new Cart({
  tab: $("tab-cart"),
  status: $("cart-status"),
  table: $("cart-table"),
  zip: $("cart-zip"),
  script: $("cart-script"),
  urls: $("cart-urls"),
  sums: $("cart-sums"),
  clear: $("cart-clear"),
  drop: $("cart-drop"),
  cutoutPos: $("cutout-pos"),
  cutoutRadius: $("cutout-radius"),
  cutoutCheck: $("cutout-check"),
  cutoutGo: $("cutout-go"),
  cutoutNote: $("cutout-note"),
  limit: config.bulk_max_ids || 10000,
  onChange: () => {
    results.renderHead();
    results.render();
  },
});

function cartItem(row) {
  const id = results.value(row, "obs_publisher_did");
  const ra = Number(results.value(row, "s_ra"));
  const dec = Number(results.value(row, "s_dec"));
  return { id, obs_id: String(results.value(row, "obs_id") ?? id), band: String(results.value(row, "em_band_name") ?? ""), ra, dec };
}

function imageRows() {
  return results.rows.filter((row) => {
    const type = results.value(row, "dataproduct_type");
    return results.value(row, "obs_publisher_did") && (!type || ["image", "cube"].includes(type));
  });
}

function decorateRow(row, td) {
  const item = cartItem(row);
  const tick = element("input", { type: "checkbox", class: "cart-tick", "aria-label": `In the cart: ${item.obs_id}` });
  tick.checked = cart.has(item.id);
  tick.addEventListener("change", () => cart.toggle(item, tick.checked));
  td.prepend(tick);
  if (config.quicklook) {
    const look = element("button", { type: "button", class: "quicklook" }, "Quick look");
    look.addEventListener("click", (event) => {
      event.stopPropagation();
      viewer.open(item.id, item.obs_id, look);
    });
    td.append(" ", look);
  }
}

function decorateHead(th) {
  const rows = imageRows();
  const all = element("input", { type: "checkbox", class: "cart-tick", "aria-label": "Tick every image row for the cart" });
  all.checked = rows.length > 0 && rows.every((row) => cart.has(results.value(row, "obs_publisher_did")));
  all.disabled = !rows.length;
  all.addEventListener("change", () => {
    if (all.checked) cart.addAll(rows.map(cartItem));
    else for (const row of rows) cart.toggle(cartItem(row), false);
  });
  th.prepend(all, " ");
}

const jobs = new JobList({
  table: $("jobs-table"),
  status: $("jobs-status"),
  refresh: $("jobs-refresh"),
  panel: $("panel-jobs"),
  onShow: (answer, job) => {
    editor.text = job.query;
    showAnswer(answer, adqlSource(job.query, job.maxrec));
    $("results-heading").focus();
  },
});

async function resumeJob(saved) {
  editor.text = saved.query;
  showTab("adql", { record: false });
  try {
    await execute(saved.query, saved.maxrec, "async", saved.url);
  } finally {
    setRunning(null);
  }
}

const samp = new SampLink({
  connect: $("samp-connect"),
  status: $("samp-status"),
  target: $("samp-target"),
  sendTable: $("samp-table"),
  sendImage: $("samp-image"),
  sendHips: $("samp-hips"),
  title: config.title,
  onTable: async (text, { from, name, url }) => {
    const table = parseVotable(text);
    showAnswer(table, { label: `${from} (${table.name || name})`, maxrec: table.rows.length, images: true, download: () => url, cutout: cutoutFor(null) });
  },
});

function selectedImage() {
  const row = results.selected === null ? null : results.rows[results.selected];
  if (!row) return null;
  const url = results.value(row, "access_url");
  return url ? { url, id: results.value(row, "obs_publisher_did") || url, name: String(results.value(row, "obs_id") ?? url) } : null;
}

function currentSurvey() {
  const survey = sky.surveys.find((s) => (s.creator_did || s.hips_service_url) === sky.layerSelect.value);
  return survey ? survey.hips_service_url : null;
}

function updateInterop() {
  const source = results.source;
  samp.ready({ table: source?.download, image: selectedImage(), hips: currentSurvey() });
  $("open-in").disabled = !source?.interop;
}
$("samp-table").addEventListener("click", () => {
  const source = results.source;
  if (source?.download) samp.table(new URL(source.download("votable"), document.baseURI).href, source.label || "result");
});
$("samp-image").addEventListener("click", () => {
  const image = selectedImage();
  if (image) samp.image(image.url, image.id, image.name);
});
$("samp-hips").addEventListener("click", () => {
  const url = currentSurvey();
  if (url) samp.hips(url, sky.aladin ? sky.view() : null);
});
sky.ready.then(() => updateInterop()).catch(() => {});
$("sky-survey").addEventListener("change", () => updateInterop());

const openIn = $("open-in-dialog");
$("open-in").addEventListener("click", (event) => {
  showSnippets($("open-in-body"), results.source);
  openIn.returnFocus = event.currentTarget;
  openIn.showModal();
});
openIn.addEventListener("close", () => openIn.returnFocus?.focus());

function catalogues() {
  const position = (columns, ucd, names) =>
    columns.find((c) => c.ucd.toLowerCase().split(";").includes(ucd) && c.ucd.toLowerCase().includes("meta.main")) ||
    columns.find((c) => names.includes(c.name.toLowerCase()));
  return browser.tables
    .filter((t) => !/^(tap_schema|rr|ivoa)\./i.test(t.name))
    .map((t) => ({ name: t.name, ra: position(t.columns, "pos.eq.ra", ["ra", "raj2000", "ra_icrs"])?.name, dec: position(t.columns, "pos.eq.dec", ["dec", "dej2000", "dec_icrs"])?.name }))
    .filter((t) => t.ra && t.dec);
}

const viewer = new QuickLook({
  dialog: $("viewer-dialog"),
  title: $("viewer-title"),
  canvas: $("viewer-canvas"),
  overlay: $("viewer-overlay"),
  status: $("viewer-status"),
  coords: $("viewer-coords"),
  stretch: $("viewer-stretch"),
  cuts: $("viewer-cuts"),
  low: $("viewer-low"),
  high: $("viewer-high"),
  zoomIn: $("viewer-zoom-in"),
  zoomOut: $("viewer-zoom-out"),
  fit: $("viewer-fit"),
  catalogue: $("viewer-catalogue"),
  overlayButton: $("viewer-overlay-sources"),
  catalogues,
});

// ------------------------------------------------------------------ start: the state in the URL
if (initial.search === "cone") {
  for (const [key, id] of [["pos", "cone-pos"], ["radius", "cone-radius"], ["maxrec", "cone-maxrec"]]) if (initial[key] !== undefined) $(id).value = initial[key];
} else {
  for (const [key, input] of Object.entries(fields)) if (initial[key] !== undefined) input.value = initial[key];
}
if (initial.maxrec) ($("image-maxrec").value = initial.maxrec), ($("adql-maxrec").value = initial.maxrec);
if (initial.mode === "async") $("mode-async").checked = true;
$("image-maxrec").placeholder = $("adql-maxrec").placeholder = $("cone-maxrec").placeholder = String(config.maxrec_default);
showTab(initial.tab || { adql: "adql", cone: "cone" }[initial.search] || "images", { record: false });
tablesLoaded = loadTables();
await Promise.all([loadSiaChoices(), tablesLoaded, loadExamples(), loadTargetNames()]);
for (const key of ["instrument", "collection"]) if (initial[key]) fields[key].value = initial[key];
results.clear("Search images or run a query: the rows appear here.");
let first = null; // the search the link names, if any
if (initial.search === "images" && initial.pos) first = searchImages();
else if (initial.search === "cone" && initial.pos) first = searchCone();
else if (jobs.resumable()) resumeJob(jobs.resumable());
else if (initial.search === "adql" && initial.query) runQuery();
if (initial.others) Promise.resolve(first).then(() => others.open(initial.others === "view" ? "view" : "search"));
document.body.dataset.ready = "true";
performance.mark("portal-ready"); // bench/portal.py reads the marks
window.addEventListener("unhandledrejection", (event) => {
  const error = event.reason;
  results.fail(error instanceof ServiceError ? error.message : `Something went wrong in the page: ${error?.message || error}`);
});
