// The portal: image search (SIA 2.0), ADQL (TAP 1.1, sync and async), the tables browser, the
// results table and the sky view, wired together; the URL keeps the state.
import { ServiceError, getText, getXml, readTable, request, serviceUrl } from "./api.js";
import { dateToMjd, formatDegrees, parseBand, parsePosition, parseRadius } from "./coords.js";
import { previewUrl } from "./datalink.js";
import { AdqlEditor, errorPosition } from "./editor.js";
import { ResultsView } from "./results.js";
import { SkyView } from "./sky.js";
import { readState, skyParam, writeState } from "./state.js";
import { TablesBrowser, parseTableset } from "./tables.js";
import { AsyncJob, runSync, syncUrl } from "./tap.js";

const $ = (id) => document.getElementById(id);

const config = await (await request(serviceUrl("portal/config.json"))).json();
const initial = readState();

// ------------------------------------------------------------------ tabs (WAI-ARIA tabs pattern)
const tabs = [...document.querySelectorAll('[role="tab"]')];
function showTab(name, { focus = false, record = true } = {}) {
  for (const tab of tabs) {
    const on = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
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
  layerSelect: $("sky-survey"),
  config: { ...config, initialView: initial.view ? { ...initial.view, survey: initial.hips } : null },
  onSelect: (row) => {
    results.select(row);
    sky.select(row);
  },
  onViewChange: (view) => writeState({ sky: skyParam(view), hips: view.survey }),
});
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
  onSelect: (index) => sky.ready.then(() => sky.select(index)).catch(() => {}),
  onPreview: (row, button) => preview(row, button),
});

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

function showAnswer(result, source) {
  current = result;
  results.show(result, source);
  const where = positionColumns(result.columns);
  sky.ready
    .then(() => {
      sky.showRows(result.rows, where);
      sky.showSearch(source.circle || null);
      if (source.circle) {
        sky.goTo(source.circle.ra, source.circle.dec, Math.min(Math.max(source.circle.radius * 4, 0.3), 180));
      } else if (result.rows.length && where.ra !== null) {
        const [ra, dec] = [Number(result.rows[0][where.ra]), Number(result.rows[0][where.dec])];
        if (Number.isFinite(ra) && Number.isFinite(dec)) sky.goTo(ra, dec);
      }
    })
    .catch(() => {});
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

let running = null; // {cancel()}
function setRunning(job) {
  running = job;
  $("cancel").disabled = !job;
  $("run").disabled = Boolean(job);
  $("search-images").disabled = Boolean(job);
}

async function searchImages() {
  const pos = checked(fields.pos, parsePosition);
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
  });
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
      circle,
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
for (const [input, parse] of [
  [fields.pos, parsePosition],
  [fields.radius, parseRadius],
  [fields.band, (t) => parseBand(t, bandNames)],
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
  writeState({ search: "adql", query, maxrec: maxrec.value, mode, pos: null, radius: null, band: null, instrument: null, collection: null, from: null, to: null });
  const source = { label: "the ADQL query", maxrec: maxrec.value, images: true, download: (format) => syncUrl(query, maxrec.value, format), cutout: cutoutFor(null) };
  results.busy(mode === "async" ? "Submitting the job…" : "Running the query…");
  phase.textContent = "";
  try {
    let answer;
    if (mode === "async") {
      const job = new AsyncJob(query, maxrec.value, (p, url) => {
        phase.textContent = `Job phase: ${p}`;
        phase.dataset.phase = p;
        phase.title = url || "";
      });
      setRunning({ cancel: () => job.abort() });
      await job.start();
      answer = await job.wait();
    } else {
      const controller = new AbortController();
      setRunning({ cancel: () => controller.abort() });
      answer = await runSync(query, maxrec.value, controller.signal);
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

async function loadTables() {
  try {
    const schemas = parseTableset(await getXml(serviceUrl(config.tables)));
    browser.show(schemas);
    editor.setTables(browser.tables);
    if (initial.table) browser.choose(initial.table);
    loadBandNames(browser.tables);
  } catch (error) {
    $("schema-list").replaceChildren(`The tables could not be read: ${error.message}`);
  }
}

// ------------------------------------------------------------------ start: the state in the URL
for (const [key, input] of Object.entries(fields)) if (initial[key] !== undefined) input.value = initial[key];
if (initial.maxrec) ($("image-maxrec").value = initial.maxrec), ($("adql-maxrec").value = initial.maxrec);
if (initial.mode === "async") $("mode-async").checked = true;
$("image-maxrec").placeholder = $("adql-maxrec").placeholder = String(config.maxrec_default);
showTab(initial.tab || (initial.search === "adql" ? "adql" : "images"), { record: false });
await Promise.all([loadSiaChoices(), loadTables(), loadExamples()]);
for (const key of ["instrument", "collection"]) if (initial[key]) fields[key].value = initial[key];
results.clear("Search images or run a query: the rows appear here.");
if (initial.search === "images" && initial.pos) searchImages();
else if (initial.search === "adql" && initial.query) runQuery();
document.body.dataset.ready = "true";
window.addEventListener("unhandledrejection", (event) => {
  const error = event.reason;
  results.fail(error instanceof ServiceError ? error.message : `Something went wrong in the page: ${error?.message || error}`);
});
