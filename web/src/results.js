// The results table: every row of an answer kept in memory, only the rows in sight in the DOM
// (virtual scrolling: 100,000 rows scroll as smoothly as 10), sortable columns with units in
// the header and descriptions on hover, columns hidden and shown, downloads in every output
// format, and, on image rows, Preview, Cutout and the file.
//
// Values are shown for people (format.js: no float noise, nm, arcmin, UTC dates) and kept as the
// service sent them: sorting reads them, a cell's tooltip and Copy (Ctrl-C on rows) give them
// exactly, and the downloads are the service's own answer in another format.
import { columnDisplay, exactText } from "./format.js";

export const FORMATS = [
  ["votable", "VOTable (TABLEDATA)", "vot"],
  ["votable/b2", "VOTable (BINARY2)", "vot"],
  ["csv", "CSV", "csv"],
  ["tsv", "TSV", "tsv"],
  ["json", "JSON", "json"],
  ["fits", "FITS", "fits"],
  ["parquet", "Parquet", "parquet"],
];

const ROW_HEIGHT = 28; // px, as in portal.css (tbody tr)
const THUMBNAIL_ROW_HEIGHT = 46; // px, as in portal.css (table.thumbnails tbody tr)
const OVERSCAN = 10;
const THUMBNAIL = "__thumbnail";
const HOVER_DWELL = 300; // ms the pointer rests on a footprint before its row is scrolled into sight

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1; // nulls last, either way
  if (b === null || b === undefined) return -1;
  if (Array.isArray(a) || Array.isArray(b)) return compare(Array.isArray(a) ? a[0] : a, Array.isArray(b) ? b[0] : b);
  const numeric = (v) => typeof v === "number" || typeof v === "bigint";
  if (numeric(a) && numeric(b)) return a < b ? -1 : a > b ? 1 : 0;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  if (text !== null) node.textContent = text;
  return node;
}

const FOCUSABLE = "a[href], button, input";

export class ResultsView {
  constructor({ table, scroller, status, overflow, error, toggles, format, download, thumbnails, onSelect, onHover, onPreview, onChange, decorate, decorateHead }) {
    Object.assign(this, { table, scroller, status, overflow, error, toggles, format, download, thumbnails, onSelect, onHover, onPreview, onChange, decorate, decorateHead });
    this.columns = [];
    this.rows = [];
    this.fields = [];
    this.order = [];
    this.filter = null; // (row index) -> whether the row passes the result filters
    this.userShown = new Set(); // keys the person asked to see or hide, kept from answer to answer
    this.userHidden = new Set();
    this.sort = null; // {key, direction: 1 | -1}
    this.selected = null; // row index in this.rows
    this.hovered = null;
    this.source = null;
    this.rowHeight = ROW_HEIGHT;
    this.thead = table.createTHead();
    this.tbody = table.createTBody();
    for (const [value, label] of FORMATS) format.append(element("option", { value }, label));
    format.addEventListener("change", () => this.updateDownload());
    scroller.addEventListener("scroll", () => this.scheduleRender(), { passive: true });
    this.tbody.addEventListener("click", (event) => this.clicked(event));
    this.tbody.addEventListener("keydown", (event) => this.key(event));
    this.tbody.addEventListener("mouseover", (event) => this.pointed(event));
    this.tbody.addEventListener("mouseleave", () => this.onHover?.(null));
    table.addEventListener("copy", (event) => this.copy(event));
    new ResizeObserver(() => this.scheduleRender()).observe(scroller);
  }

  clear(message = "") {
    this.show({ columns: [], rows: [], overflow: false }, null);
    this.status.textContent = message;
  }

  busy(message) {
    this.error.hidden = true;
    this.status.textContent = message;
  }

  fail(message) {
    this.show({ columns: [], rows: [], overflow: false }, null);
    this.error.textContent = message;
    this.error.hidden = false;
    this.status.textContent = "";
  }

  /** ``source``: {maxrec, label, download(format) -> URL, images: whether rows are datasets with
   * previews and cutouts, cutout(row) -> URL, view: the columns shown first (imageview.js),
   * actions(value) -> the row's action cell, replacing this archive's (value(name) reads the row)}. */
  show(result, source) {
    this.columns = result.columns;
    this.rows = result.rows;
    this.overflowed = Boolean(result.overflow);
    this.source = source;
    this.selected = null;
    this.hovered = null;
    this.filter = null;
    this.index = Object.fromEntries(this.columns.map((c, i) => [c.name.toLowerCase(), i]));
    this.fields = this.makeFields(source?.view || null);
    this.sort = source?.view?.sort && this.fields.some((f) => f.key === source.view.sort.key) ? { ...source.view.sort } : null;
    this.rowHeight = this.showsThumbnails() ? THUMBNAIL_ROW_HEIGHT : ROW_HEIGHT;
    this.table.classList.toggle("thumbnails", this.showsThumbnails());
    this.error.hidden = true;
    if (result.overflow) {
      const n = this.rows.length;
      this.overflow.textContent =
        `OVERFLOW: only the first ${n.toLocaleString("en")} rows are shown (MAXREC ${source.maxrec}); ` +
        "the query has more. Raise Max rows or narrow the query to see them all.";
      this.overflow.hidden = false;
    } else {
      this.overflow.hidden = true;
    }
    this.reorder();
    this.renderToggles();
    this.renderHead();
    this.scroller.scrollTop = 0;
    this.render();
    this.updateDownload();
  }

  makeFields(view) {
    const labels = view?.labels || {};
    const data = this.columns.map((column, i) => ({
      key: column.name.toLowerCase(),
      name: column.name,
      column,
      get: (r) => this.rows[r][i],
      values: () => this.rows.map((row) => row[i]),
    }));
    const derived = (view?.derived || []).map((column) => ({
      key: column.name.toLowerCase(),
      name: column.name,
      column,
      derived: true,
      get: (r) => column.values[r],
      values: () => column.values,
    }));
    const all = [...data, ...derived];
    for (const field of all) {
      field.label = labels[field.key] || field.name;
      field.display = columnDisplay(field.column, field.values);
    }
    let ordered = all;
    if (view) {
      const first = view.shown.map((key) => all.find((f) => f.key === key)).filter(Boolean);
      ordered = [...first, ...all.filter((f) => !first.includes(f))];
      for (const field of ordered) field.defaultHidden = !first.includes(field);
    }
    if (view?.thumbnails && this.thumbnails) {
      ordered.unshift({ key: THUMBNAIL, name: "thumbnail", label: "Preview", thumbnail: true, column: { description: "The image's DataLink #preview" } });
    }
    return ordered;
  }

  showsThumbnails() {
    return this.fields.some((f) => f.thumbnail && !this.isHidden(f));
  }

  isHidden(field) {
    if (this.userHidden.has(field.key)) return true;
    if (this.userShown.has(field.key)) return false;
    return Boolean(field.defaultHidden);
  }

  value(row, name) {
    const i = this.index[name];
    return i === undefined ? undefined : row[i];
  }

  hasActions() {
    return Boolean(this.source && this.source.images && this.index.obs_publisher_did !== undefined);
  }

  visibleFields() {
    return this.fields.filter((f) => !this.isHidden(f));
  }

  /** Only the rows for which ``filter(row index)`` holds are listed (null: all). */
  setFilter(filter) {
    this.filter = filter;
    this.reorder();
    this.scroller.scrollTop = 0;
    this.render();
  }

  reorder() {
    const all = this.rows.map((_, i) => i);
    this.order = this.filter ? all.filter(this.filter) : all;
    if (this.sort) this.sortOrder();
    const n = this.rows.length;
    const shown = this.order.length;
    const source = this.source;
    this.status.textContent = source
      ? `${n.toLocaleString("en")} row${n === 1 ? "" : "s"}${source.label ? ` from ${source.label}` : ""}` +
        (shown !== n ? ` (${shown.toLocaleString("en")} shown by the filters)` : "")
      : "";
    this.table.setAttribute("aria-rowcount", String(shown + 1));
    this.table.setAttribute("aria-colcount", String(this.visibleFields().length + (this.hasActions() ? 1 : 0)));
    this.onChange?.();
  }

  renderToggles() {
    this.toggles.replaceChildren(element("legend", {}, "Show columns"));
    for (const field of this.fields) {
      const label = element("label");
      const box = element("input", { type: "checkbox", checked: !this.isHidden(field), "data-column": field.key });
      box.addEventListener("change", () => {
        this.userShown.delete(field.key);
        this.userHidden.delete(field.key);
        if (box.checked === Boolean(field.defaultHidden)) (box.checked ? this.userShown : this.userHidden).add(field.key);
        this.rowHeight = this.showsThumbnails() ? THUMBNAIL_ROW_HEIGHT : ROW_HEIGHT;
        this.table.classList.toggle("thumbnails", this.showsThumbnails());
        this.table.setAttribute("aria-colcount", String(this.visibleFields().length + (this.hasActions() ? 1 : 0)));
        this.renderHead();
        this.render();
      });
      label.append(box, ` ${field.label}${field.label !== field.name ? ` (${field.name})` : ""}`);
      this.toggles.append(label);
    }
  }

  headerTitle(field) {
    const column = field.column;
    const lines = [field.label !== field.name ? field.name : null, column.description];
    if (column.ucd) lines.push(`UCD: ${column.ucd}`);
    if (column.datatype) lines.push(`type: ${column.datatype}`);
    if (field.display?.converted) {
      lines.push(`shown in ${field.display.unit}; stored${column.unit ? ` in ${column.unit}` : ""}: the cell's tooltip, Copy and the downloads give the stored values`);
    }
    return lines.filter(Boolean).join("\n");
  }

  renderHead() {
    const tr = element("tr", { "aria-rowindex": "1" });
    if (this.hasActions()) {
      const th = element("th", { scope: "col", class: "actions" }, "Actions");
      if (!this.source.actions) this.decorateHead?.(th); // the cart's "tick all", for this archive's rows
      tr.append(th);
    }
    for (const field of this.visibleFields()) {
      const sorted = this.sort && this.sort.key === field.key;
      const th = element("th", {
        scope: "col",
        "data-column": field.key,
        "aria-sort": sorted ? (this.sort.direction > 0 ? "ascending" : "descending") : "none",
      });
      if (field.thumbnail) {
        th.append(element("span", { class: "name" }, field.label));
        th.className = "thumbnail";
        tr.append(th);
        continue;
      }
      const button = element("button", { type: "button", title: this.headerTitle(field) || null });
      button.append(element("span", { class: "name" }, field.label));
      if (field.display.unit) button.append(" ", element("span", { class: "unit" }, `[${field.display.unit}]`));
      if (sorted) button.append(element("span", { class: "sort", "aria-hidden": "true" }, this.sort.direction > 0 ? " ▲" : " ▼"));
      button.addEventListener("click", () => this.sortBy(field.key));
      th.append(button);
      tr.append(th);
    }
    this.thead.replaceChildren(tr);
  }

  sortOrder() {
    const field = this.fields.find((f) => f.key === this.sort.key);
    if (!field || field.thumbnail) return;
    const direction = this.sort.direction;
    const values = field.values();
    this.order.sort((a, b) => {
      const x = values[a];
      const y = values[b];
      const xNull = x === null || x === undefined;
      const yNull = y === null || y === undefined;
      if (xNull || yNull) return xNull === yNull ? a - b : xNull ? 1 : -1; // nulls last, either way
      return direction * compare(x, y) || a - b;
    });
  }

  /** Sort as ``sort`` ({key, direction}) says, e.g. as the person had it before (focus stays). */
  setSort(sort) {
    if (!this.fields.some((f) => f.key === sort.key)) return;
    this.sort = { ...sort };
    this.sortOrder();
    this.renderHead();
    this.render();
  }

  sortBy(key) {
    const direction = this.sort && this.sort.key === key ? -this.sort.direction : 1;
    this.sort = { key, direction };
    this.sortOrder();
    this.renderHead();
    this.render();
    this.thead.querySelector(`th[data-column="${CSS.escape(key)}"] button`)?.focus();
  }

  /** A render after a scroll or a resize: only if the rows in sight changed. Rows are not
   * rebuilt under a user for nothing: a key pressed on a cart tick while its row was replaced
   * (keydown on the old box, keyup on the new) ticked nothing. */
  scheduleRender() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = null;
      this.render({ onlyIfMoved: true });
    });
  }

  /** The previews that arrived, put into the rows in sight in place (nothing else rebuilt). */
  showThumbnails() {
    if (!this.showsThumbnails()) return;
    const missing = [];
    for (const td of this.tbody.querySelectorAll("tr[data-index] > td.thumbnail:empty")) {
      td.replaceWith(this.thumbnailCell(this.rows[Number(td.parentElement.dataset.index)], missing));
    }
    if (missing.length) this.thumbnails.want(missing);
  }

  render({ onlyIfMoved = false } = {}) {
    const fields = this.visibleFields();
    const actions = this.hasActions();
    const rowHeight = this.rowHeight;
    const headHeight = this.thead.offsetHeight || ROW_HEIGHT;
    const top = Math.max(0, this.scroller.scrollTop - headHeight);
    const height = this.scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(this.order.length, Math.ceil((top + height) / rowHeight) + OVERSCAN);
    const sight = `${first}:${last}`;
    if (onlyIfMoved && sight === this.renderedSight) return;
    this.renderedSight = sight;
    const span = fields.length + (actions ? 1 : 0);
    const spacer = (rows) => {
      const tr = element("tr", { class: "spacer", "aria-hidden": "true" });
      tr.style.height = `${rows * rowHeight}px`;
      tr.append(element("td", { colspan: String(Math.max(span, 1)) }));
      return tr;
    };
    const parts = [];
    const missing = [];
    if (first > 0) parts.push(spacer(first));
    for (let k = first; k < last; k += 1) {
      const i = this.order[k];
      const row = this.rows[i];
      const selected = i === this.selected;
      const tr = element("tr", {
        "aria-rowindex": String(k + 2),
        "aria-selected": selected ? "true" : "false",
        "data-index": String(i),
        tabindex: selected || (this.selected === null && k === 0) ? "0" : "-1",
      });
      if (i === this.hovered) tr.className = "hovered";
      if (actions) tr.append(this.actionCell(row));
      for (const field of fields) {
        if (field.thumbnail) {
          tr.append(this.thumbnailCell(row, missing));
          continue;
        }
        const value = field.get(i);
        const text = field.display.text(value) ?? "";
        const exact = exactText(value);
        const td = element("td", { title: exact !== text || text.length > 30 ? exact : null }, text);
        if (value === null) td.className = "null";
        else if (typeof value === "number" || typeof value === "bigint") td.className = "number";
        tr.append(td);
      }
      parts.push(tr);
    }
    if (last < this.order.length) parts.push(spacer(this.order.length - last));
    // Focus stays where it was across a render: on the row, or on the same control inside it (the
    // cart's tick, a link), so a render that a thumbnail's arrival starts does not steal it.
    const active = this.tbody.contains(document.activeElement) ? document.activeElement : null;
    const focusedRow = active?.closest("tr")?.dataset.index;
    const controls = (tr) => [...tr.querySelectorAll(FOCUSABLE)];
    const control = active && active.tagName !== "TR" ? controls(active.closest("tr")).indexOf(active) : -1;
    this.tbody.replaceChildren(...parts);
    if (focusedRow !== undefined) {
      const tr = this.tbody.querySelector(`tr[data-index="${focusedRow}"]`);
      (tr && control >= 0 ? controls(tr)[control] : tr)?.focus({ preventScroll: true });
    }
    if (missing.length) this.thumbnails.want(missing);
  }

  thumbnailCell(row, missing) {
    const td = element("td", { class: "thumbnail" });
    const id = this.value(row, "obs_publisher_did");
    const url = id ? this.thumbnails.url(id) : null;
    if (url === undefined) missing.push(id);
    if (url) td.append(element("img", { src: url, alt: `Preview of ${this.value(row, "obs_id") || id}`, loading: "lazy", decoding: "async" }));
    return td;
  }

  actionCell(row) {
    // Rows of another archive bring their own links (facilities.js): no cart, preview or cutout here.
    if (this.source.actions) return this.source.actions((name) => this.value(row, name));
    const td = element("td", { class: "actions" });
    const type = this.value(row, "dataproduct_type");
    const id = this.value(row, "obs_publisher_did");
    if (!id || (type && !["image", "cube"].includes(type))) return td;
    const preview = element("button", { type: "button", class: "preview" }, "Preview");
    preview.addEventListener("click", (event) => {
      event.stopPropagation();
      this.onPreview(row, preview);
    });
    td.append(preview);
    const cutout = this.source.cutout ? this.source.cutout(row) : null;
    if (cutout) td.append(" ", element("a", { href: cutout, download: "", title: cutout }, "Cutout"));
    const file = this.value(row, "access_url");
    if (file) td.append(" ", element("a", { href: file, download: "" }, "File"));
    this.decorate?.(row, td); // the cart's tick and the quick look
    return td;
  }

  clicked(event) {
    if (event.target.closest("a, button, input")) return;
    const tr = event.target.closest("tr[data-index]");
    if (tr) this.select(Number(tr.dataset.index), { notify: true });
  }

  pointed(event) {
    const tr = event.target.closest("tr[data-index]");
    if (tr) this.onHover?.(Number(tr.dataset.index));
  }

  key(event) {
    const tr = event.target.closest("tr[data-index]");
    if (!tr || event.target !== tr) return;
    const k = this.order.indexOf(Number(tr.dataset.index));
    const moves = { ArrowDown: k + 1, ArrowUp: k - 1, Home: 0, End: this.order.length - 1, PageDown: k + 10, PageUp: k - 10 };
    if (event.key in moves) {
      event.preventDefault();
      const target = Math.min(Math.max(moves[event.key], 0), this.order.length - 1);
      this.select(this.order[target], { notify: true, focus: true });
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.select(Number(tr.dataset.index), { notify: true });
    }
  }

  /** Select row ``index`` (of the answer), scroll it into sight; ``notify``: tell the sky view. */
  select(index, { notify = false, focus = false } = {}) {
    if (index === null || index < 0 || index >= this.rows.length) return;
    this.selected = index;
    const k = this.order.indexOf(index);
    if (k >= 0) {
      const headHeight = this.thead.offsetHeight || ROW_HEIGHT;
      const rowTop = headHeight + k * this.rowHeight;
      if (rowTop < this.scroller.scrollTop + headHeight || rowTop + this.rowHeight > this.scroller.scrollTop + this.scroller.clientHeight) {
        this.scroller.scrollTop = Math.max(0, rowTop - this.scroller.clientHeight / 2);
      }
    }
    this.render();
    if (focus) this.tbody.querySelector(`tr[data-index="${index}"]`)?.focus();
    if (notify) this.onSelect(index, this.rows[index]);
  }

  /** Mark row ``index`` as the one under the pointer on the sky (null: none); if the pointer
   * rests there, scroll it into sight (sweeping over the sky does not scroll the table). */
  highlight(index) {
    if (index === this.hovered) return;
    this.tbody.querySelector("tr.hovered")?.classList.remove("hovered");
    this.hovered = index;
    clearTimeout(this.revealTimer);
    if (index === null) return;
    this.tbody.querySelector(`tr[data-index="${index}"]`)?.classList.add("hovered");
    this.revealTimer = setTimeout(() => {
      if (this.hovered === index) this.reveal(index);
    }, HOVER_DWELL);
  }

  /** Scroll the least that brings row ``index`` into sight (drawn at once). */
  reveal(index) {
    const k = this.order.indexOf(index);
    if (k < 0) return;
    const headHeight = this.thead.offsetHeight || ROW_HEIGHT;
    const rowTop = k * this.rowHeight;
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight - headHeight;
    if (rowTop < top) this.scroller.scrollTop = rowTop;
    else if (rowTop + this.rowHeight > top + height) this.scroller.scrollTop = rowTop + this.rowHeight - height;
    else return;
    this.render();
  }

  /** Ctrl-C on the table copies the rows selected (by the pointer's text selection, else the
   * chosen row) with their stored values, tab-separated, with a header line. */
  copy(event) {
    const selection = document.getSelection();
    let indices = [];
    if (selection && !selection.isCollapsed) {
      indices = [...this.tbody.querySelectorAll("tr[data-index]")].filter((tr) => selection.containsNode(tr, true)).map((tr) => Number(tr.dataset.index));
    }
    if (!indices.length && this.selected !== null) indices = [this.selected];
    if (!indices.length) return;
    const fields = this.visibleFields().filter((f) => !f.thumbnail);
    const header = fields.map((f) => (f.column.unit ? `${f.name} [${f.column.unit}]` : f.name)).join("\t");
    const lines = indices.map((i) => fields.map((f) => exactText(f.get(i)).replace(/[\t\n]/g, " ")).join("\t"));
    event.clipboardData.setData("text/plain", [header, ...lines].join("\n") + "\n");
    event.preventDefault();
  }

  updateDownload() {
    const format = FORMATS.find(([value]) => value === this.format.value) || FORMATS[0];
    if (this.source && this.source.download) {
      this.download.href = this.source.download(format[0]);
      this.download.setAttribute("download", `result.${format[2]}`);
      this.download.removeAttribute("aria-disabled");
    } else {
      this.download.removeAttribute("href");
      this.download.setAttribute("aria-disabled", "true");
    }
  }
}
