// The results table: every row of an answer kept in memory, only the rows in sight in the DOM
// (virtual scrolling: 100,000 rows scroll as smoothly as 10), sortable columns with units in
// the header and descriptions on hover, columns hidden and shown, downloads in every output
// format, and, on image rows, Preview, Cutout and the file.

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
const OVERSCAN = 10;

function cellText(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(cellText).join(" ");
  return String(value);
}

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

export class ResultsView {
  constructor({ table, scroller, status, overflow, error, toggles, format, download, onSelect, onPreview, decorate, decorateHead }) {
    Object.assign(this, { table, scroller, status, overflow, error, toggles, format, download, onSelect, onPreview, decorate, decorateHead });
    this.columns = [];
    this.rows = [];
    this.order = [];
    this.hidden = new Set();
    this.sort = null; // {index, direction: 1 | -1}
    this.selected = null; // row index in this.rows
    this.source = null;
    this.thead = table.createTHead();
    this.tbody = table.createTBody();
    for (const [value, label] of FORMATS) format.append(element("option", { value }, label));
    format.addEventListener("change", () => this.updateDownload());
    scroller.addEventListener("scroll", () => this.scheduleRender(), { passive: true });
    this.tbody.addEventListener("click", (event) => this.clicked(event));
    this.tbody.addEventListener("keydown", (event) => this.key(event));
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

  /** ``source``: {maxrec, download(format) -> URL, images: whether rows are datasets with
   * previews and cutouts, cutout(row) -> URL}. */
  show(result, source) {
    this.columns = result.columns;
    this.rows = result.rows;
    this.order = this.rows.map((_, i) => i);
    this.sort = null;
    this.selected = null;
    this.source = source;
    this.hidden = new Set([...this.hidden].filter((name) => this.columns.some((c) => c.name === name)));
    this.index = Object.fromEntries(this.columns.map((c, i) => [c.name.toLowerCase(), i]));
    this.error.hidden = true;
    const n = this.rows.length;
    this.status.textContent = source ? `${n.toLocaleString("en")} row${n === 1 ? "" : "s"}${source.label ? ` from ${source.label}` : ""}` : "";
    if (result.overflow) {
      this.overflow.textContent =
        `OVERFLOW: only the first ${n.toLocaleString("en")} rows are shown (MAXREC ${source.maxrec}); ` +
        "the query has more. Raise Max rows or narrow the query to see them all.";
      this.overflow.hidden = false;
    } else {
      this.overflow.hidden = true;
    }
    this.table.setAttribute("aria-rowcount", String(n + 1));
    this.table.setAttribute("aria-colcount", String(this.visibleColumns().length + (this.hasActions() ? 1 : 0)));
    this.renderToggles();
    this.renderHead();
    this.scroller.scrollTop = 0;
    this.render();
    this.updateDownload();
  }

  value(row, name) {
    const i = this.index[name];
    return i === undefined ? undefined : row[i];
  }

  hasActions() {
    return Boolean(this.source && this.source.images && this.index.obs_publisher_did !== undefined);
  }

  visibleColumns() {
    return this.columns.map((c, i) => ({ ...c, i })).filter((c) => !this.hidden.has(c.name));
  }

  renderToggles() {
    this.toggles.replaceChildren(element("legend", {}, "Show columns"));
    for (const column of this.columns) {
      const label = element("label");
      const box = element("input", { type: "checkbox", checked: !this.hidden.has(column.name) });
      box.addEventListener("change", () => {
        if (box.checked) this.hidden.delete(column.name);
        else this.hidden.add(column.name);
        this.renderHead();
        this.render();
      });
      label.append(box, ` ${column.name}`);
      this.toggles.append(label);
    }
  }

  renderHead() {
    const tr = element("tr", { "aria-rowindex": "1" });
    if (this.hasActions()) {
      const th = element("th", { scope: "col", class: "actions" }, "Actions");
      this.decorateHead?.(th); // the cart's "tick all"
      tr.append(th);
    }
    for (const column of this.visibleColumns()) {
      const sorted = this.sort && this.sort.index === column.i;
      const th = element("th", { scope: "col", "aria-sort": sorted ? (this.sort.direction > 0 ? "ascending" : "descending") : "none" });
      const details = [column.description, column.ucd && `UCD: ${column.ucd}`, column.datatype && `type: ${column.datatype}`].filter(Boolean);
      const button = element("button", { type: "button", title: details.join("\n") || null });
      button.append(element("span", { class: "name" }, column.name));
      if (column.unit) button.append(" ", element("span", { class: "unit" }, `[${column.unit}]`));
      if (sorted) button.append(element("span", { class: "sort", "aria-hidden": "true" }, this.sort.direction > 0 ? " ▲" : " ▼"));
      button.addEventListener("click", () => this.sortBy(column.i));
      th.append(button);
      tr.append(th);
    }
    this.thead.replaceChildren(tr);
  }

  sortBy(index) {
    const direction = this.sort && this.sort.index === index ? -this.sort.direction : 1;
    this.sort = { index, direction };
    const rows = this.rows;
    this.order.sort((a, b) => {
      const x = rows[a][index];
      const y = rows[b][index];
      const xNull = x === null || x === undefined;
      const yNull = y === null || y === undefined;
      if (xNull || yNull) return xNull === yNull ? a - b : xNull ? 1 : -1; // nulls last, either way
      return direction * compare(x, y) || a - b;
    });
    this.renderHead();
    this.render();
    this.thead.querySelectorAll("button")[this.visibleColumns().findIndex((c) => c.i === index)]?.focus();
  }

  scheduleRender() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = null;
      this.render();
    });
  }

  render() {
    const columns = this.visibleColumns();
    const actions = this.hasActions();
    const headHeight = this.thead.offsetHeight || ROW_HEIGHT;
    const top = Math.max(0, this.scroller.scrollTop - headHeight);
    const height = this.scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.order.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const span = columns.length + (actions ? 1 : 0);
    const spacer = (rows) => {
      const tr = element("tr", { class: "spacer", "aria-hidden": "true" });
      tr.style.height = `${rows * ROW_HEIGHT}px`;
      tr.append(element("td", { colspan: String(Math.max(span, 1)) }));
      return tr;
    };
    const parts = [];
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
      if (actions) tr.append(this.actionCell(row));
      for (const column of columns) {
        const text = cellText(row[column.i]);
        const td = element("td", { title: text.length > 30 ? text : null }, text);
        if (row[column.i] === null) td.className = "null";
        tr.append(td);
      }
      parts.push(tr);
    }
    if (last < this.order.length) parts.push(spacer(this.order.length - last));
    const focused = this.tbody.contains(document.activeElement) ? document.activeElement.closest("tr")?.dataset.index : undefined;
    this.tbody.replaceChildren(...parts);
    if (focused !== undefined) this.tbody.querySelector(`tr[data-index="${focused}"]`)?.focus({ preventScroll: true });
  }

  actionCell(row) {
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
    const headHeight = this.thead.offsetHeight || ROW_HEIGHT;
    const rowTop = headHeight + k * ROW_HEIGHT;
    if (rowTop < this.scroller.scrollTop + headHeight || rowTop + ROW_HEIGHT > this.scroller.scrollTop + this.scroller.clientHeight) {
      this.scroller.scrollTop = Math.max(0, rowTop - this.scroller.clientHeight / 2);
    }
    this.render();
    if (focus) this.tbody.querySelector(`tr[data-index="${index}"]`)?.focus();
    if (notify) this.onSelect(index, this.rows[index]);
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
