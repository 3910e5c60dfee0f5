// Other archives: what this archive's VO crawler (dalserver crawl) keeps of other services, for
// the region searched or in view. The counts come from vo.remote_coverage (per sky cell of order 6
// and per facility and instrument: the talk's "data collected by other facilities" table), the
// datasets from vo.remote_obscore; both through this archive's own TAP, like everything else the
// page asks. Their access and preview URLs lead to the other archives as plain links: the page
// itself never fetches anything from another host.
import { formatDegrees } from "./coords.js";
import { plainNumber } from "./format.js";
import { imageView } from "./imageview.js";
import { runSync, syncUrl } from "./tap.js";

export const COVERAGE = "vo.remote_coverage";
export const REMOTE = "vo.remote_obscore";
// The footprints of other archives' datasets on the sky: one colour, apart from the bands' palette
// (blue to violet, bands.js) and from the white of a chosen footprint.
export const REMOTE_COLOUR = "#ff8a00";
// An order-6 cell's centre lies within 0.954 degrees of every point of the cell (the farthest
// boundary point over the whole sphere, by cdshealpix); a circle this much wider than the region
// holds the centre of every cell the region touches.
const CELL_REACH = 1.0;
const MAX_RADIUS = 90; // pgsphere's circles

function circleAdql({ ra, dec, radius }) {
  return `CIRCLE('ICRS', ${formatDegrees(ra, 7)}, ${formatDegrees(dec, 7)}, ${formatDegrees(Math.min(radius, MAX_RADIUS), 7)})`;
}

/** The facilities and instruments in the cells of order 6 that ``circle`` touches, with their
 * numbers of datasets. The cells are those of the region's MOC (as vo.remote_coverage's description
 * says); the wider circle around the cell centres lets the index on them find the candidates. */
export function countsQuery(circle) {
  const cells = `1 = CONTAINS(POINT('ICRS', cell_ra, cell_dec), MOC(6, ${circleAdql(circle)}))`;
  const reach = circle.radius + CELL_REACH;
  const near = reach < MAX_RADIUS ? `1 = CONTAINS(POINT('ICRS', cell_ra, cell_dec), ${circleAdql({ ...circle, radius: reach })}) AND ` : "";
  return (
    "SELECT facility_name, instrument_name, SUM(dataset_count) AS datasets " +
    `FROM ${COVERAGE} WHERE ${near}${cells} ` +
    "GROUP BY facility_name, instrument_name ORDER BY datasets DESC, facility_name, instrument_name"
  );
}

/** Other archives' datasets whose footprint meets ``circle`` (or, without a footprint, whose
 * centre lies in it), nearest first. */
export function rowsQuery(circle) {
  const region = circleAdql(circle);
  const centre = `POINT('ICRS', ${formatDegrees(circle.ra, 7)}, ${formatDegrees(circle.dec, 7)})`;
  return (
    `SELECT * FROM ${REMOTE} WHERE 1 = INTERSECTS(s_region, ${region}) ` +
    `OR (s_region IS NULL AND 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), ${region})) ` +
    `ORDER BY DISTANCE(POINT('ICRS', s_ra, s_dec), ${centre}), source_ivoid, obs_publisher_did`
  );
}

/** Whether anything has been crawled at all (one row is enough to say). */
export const ANY_QUERY = `SELECT TOP 1 healpix_index FROM ${COVERAGE}`;

/** The region in words: "1.5° around 34.50000 -5.00000". */
export function describeRegion(circle) {
  const r = circle.radius >= 1 ? `${plainNumber(circle.radius, 3)}°` : `${plainNumber(circle.radius * 60, 3)}′`;
  return `${r} around ${circle.ra.toFixed(5)} ${circle.dec >= 0 ? "+" : ""}${circle.dec.toFixed(5)}`;
}

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

/** The links of a remote row, out to its archive: the file (or its DataLink document, where the
 * access format says the access URL is one) and the preview, where the source offers one. */
export function remoteActions(value) {
  const td = element("td", { class: "actions" });
  const name = value("obs_id") || value("obs_publisher_did");
  const url = value("access_url");
  const datalink = /content=datalink/i.test(value("access_format") || "");
  const links = [];
  if (url) links.push([url, datalink ? "DataLink" : "File", datalink ? `The DataLink links of ${name}, at its archive` : `${name} at its archive`]);
  const preview = value("preview");
  if (preview) links.push([preview, "Preview", `A preview of ${name}, at its archive`]);
  links.forEach(([href, text, label], k) => {
    if (k) td.append(" ");
    // A new tab, and no referrer or opener handed to the other archive.
    td.append(element("a", { href, class: "remote", target: "_blank", rel: "noopener noreferrer external", "aria-label": `${text}: ${label} (opens another site)` }, text));
  });
  return td;
}

/** The counts table, the region it is for, and what to do when there is nothing to show. */
export class FacilitiesPanel {
  constructor({ container, onUseView }) {
    Object.assign(this, { container, onUseView });
    container.hidden = true;
  }

  frame(regionText, { searchable = true } = {}) {
    const heading = element("h3", { id: "facilities-heading" }, "Other facilities");
    const where = element("p", { class: "hint", id: "facilities-region" }, regionText ? `Datasets in the sky cells (0.9° wide) touched by ${regionText}` : "");
    this.container.replaceChildren(heading, where);
    if (searchable) {
      const button = element("button", { type: "button", id: "facilities-use-view" }, "Search the sky in view");
      button.addEventListener("click", () => this.onUseView());
      this.container.append(button);
    }
    this.container.hidden = false;
  }

  busy(regionText) {
    this.frame(regionText);
    this.container.append(element("p", { role: "status" }, "Counting…"));
  }

  /** ``rows``: [facility, instrument, datasets] from countsQuery. */
  showCounts(rows, regionText) {
    this.frame(regionText);
    if (!rows.length) {
      this.container.append(element("p", { class: "facilities-none", role: "status" }, "No other archive's datasets are known here."));
      return;
    }
    const table = element("table", { class: "facilities list", id: "facilities-table", "aria-labelledby": "facilities-heading" });
    const head = table.createTHead().insertRow();
    for (const [label, numeric] of [["Facility", false], ["Instrument", false], ["Number", true]]) {
      const th = element("th", { scope: "col" }, label);
      if (numeric) th.className = "number";
      head.append(th);
    }
    const body = table.createTBody();
    let total = 0;
    for (const [facility, instrument, datasets] of rows) {
      const tr = body.insertRow();
      tr.append(element("td", {}, facility ?? "(none)"), element("td", {}, instrument ?? "(none)"), element("td", { class: "number" }, Number(datasets).toLocaleString("en")));
      total += Number(datasets);
    }
    const foot = table.createTFoot().insertRow();
    foot.append(element("th", { scope: "row", colspan: "2" }, "All"), element("td", { class: "number" }, total.toLocaleString("en")));
    this.container.append(table);
  }

  /** Nothing crawled yet: not an error, and the operator's way to change it. */
  showEmpty() {
    this.frame("", { searchable: false });
    const note = element("div", { class: "facilities-empty", role: "status" });
    const how = element("p", {}, "An operator fills this cache by harvesting a registry (");
    how.append(
      element("code", {}, "dalserver registry harvest URL"),
      ") or adding services (",
      element("code", {}, "dalserver crawl add URL"),
      "), then running ",
      element("code", { class: "crawl-run" }, "dalserver crawl run"),
      ".",
    );
    note.append(element("p", {}, "No other archive has been crawled yet, so there is nothing to show here."), how);
    this.container.append(note);
  }

  /** This archive keeps no cache of other archives (no vo.remote_obscore published). */
  showUnavailable() {
    this.frame("", { searchable: false });
    this.container.append(element("p", { role: "status" }, "This archive does not publish a cache of other archives (vo.remote_obscore and vo.remote_coverage are not in its tables)."));
  }

  fail(message) {
    this.frame("");
    this.container.append(element("p", { class: "error", role: "alert" }, `The other archives could not be counted: ${message}`));
  }
}

/** What a remote answer shows first: the image view (imageview.js) with the facility and the
 * instrument after the ID, and no thumbnails (their previews are at the other archives). */
export function remoteView(rows, columns, circle) {
  const view = imageView(rows, columns, circle);
  const names = new Set(columns.map((c) => c.name.toLowerCase()));
  const extra = [
    ["facility_name", "Facility"],
    ["instrument_name", "Instrument"],
  ].filter(([name]) => names.has(name));
  const at = view.shown.includes("obs_id") ? 1 : 0;
  view.shown.splice(at, 0, ...extra.map(([name]) => name));
  Object.assign(view.labels, Object.fromEntries(extra));
  view.thumbnails = false;
  return view;
}

/** The switch between this archive's answer and other archives' datasets (two tabs above the
 * results), and the queries behind the second. ``display(answer, source)`` shows an answer in the
 * results and on the sky; ``restore()`` shows this archive's again; ``region()`` is the circle
 * searched last (null when none), ``viewRegion()`` resolves to the circle in view (null without a
 * sky view); ``hasCache()`` resolves to whether the cache's tables are published. */
export class OtherArchives {
  constructor({ thisTab, otherTab, body, container, hasCache, region, viewRegion, maxrec, display, restore, busy, fail, record }) {
    Object.assign(this, { thisTab, otherTab, body, hasCache, region, viewRegion, maxrec, display, restore, busy, fail, record });
    this.panel = new FacilitiesPanel({ container, onUseView: () => this.open("view") });
    this.mode = "this";
    this.runs = 0;
    const tabs = [thisTab, otherTab];
    for (const tab of tabs) {
      tab.addEventListener("click", () => (tab === otherTab ? this.open() : this.close()));
      tab.addEventListener("keydown", (event) => {
        if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
        event.preventDefault();
        const next = { Home: thisTab, End: otherTab }[event.key] || (tab === thisTab ? otherTab : thisTab);
        next.focus();
        next.click();
      });
    }
  }

  select(other) {
    for (const [tab, on] of [
      [this.thisTab, !other],
      [this.otherTab, other],
    ]) {
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    this.body.setAttribute("aria-labelledby", (other ? this.otherTab : this.thisTab).id);
  }

  /** This archive's rows again (a new answer of this archive also comes back here). */
  close({ show = true } = {}) {
    this.runs += 1; // an answer still on its way is not shown
    this.mode = "this";
    this.select(false);
    this.panel.container.hidden = true;
    this.record({ others: null });
    if (show) this.restore();
  }

  /** Other archives' datasets in the region searched (``from`` "search", the view when nothing
   * was searched) or in view ("view"), with the counts by facility and instrument. */
  async open(from = "search") {
    const run = ++this.runs;
    this.mode = "other";
    this.select(true);
    this.record({ others: from });
    this.busy("Searching other archives…");
    this.panel.busy("");
    const stale = () => run !== this.runs;
    if (!(await this.hasCache())) {
      if (stale()) return;
      this.panel.showUnavailable();
      this.display({ columns: [], rows: [], overflow: false }, { label: "", other: true });
      return;
    }
    const circle = (from === "search" && this.region()) || (await this.viewRegion());
    if (stale()) return;
    if (!circle) {
      this.panel.fail("there is no region: search images or a catalogue first");
      this.busy("");
      return;
    }
    const where = describeRegion(circle);
    this.panel.busy(where);
    const maxrec = this.maxrec();
    const query = rowsQuery(circle);
    try {
      const [any, counts, rows] = await Promise.all([runSync(ANY_QUERY, 1), runSync(countsQuery(circle), 100000), runSync(query, maxrec)]);
      if (stale()) return;
      if (!any.rows.length) {
        this.panel.showEmpty();
        this.display({ columns: [], rows: [], overflow: false }, { label: "", other: true });
        this.busy("No other archive has been crawled yet.");
        return;
      }
      this.panel.showCounts(counts.rows, where);
      this.display(rows, {
        label: `other archives, ${where}`,
        maxrec,
        images: true,
        other: true,
        circle,
        view: remoteView(rows.rows, rows.columns, circle),
        actions: remoteActions,
        sky: { colour: REMOTE_COLOUR, label: "Other archives" },
        interop: { kind: "adql", query, maxrec },
        download: (format) => syncUrl(query, maxrec, format),
      });
    } catch (error) {
      if (stale()) return;
      this.panel.fail(error.message);
      this.fail(error.message);
    }
  }
}
