// The cart: image rows ticked across searches (kept in this browser's localStorage), then
// downloaded together from /bulk: one zip, a shell script or lists with SHA-256 checksums, and
// cutouts of one region from every ticked image. The server's summary says first what the
// cart holds (sizes, datasets no longer published, which images a region touches), so a
// download is only offered when it can succeed.
import { ServiceError, request, serviceUrl } from "./api.js";
import { formatDegrees, parsePosition, parseRadius } from "./coords.js";

const KEY = "dalserver.cart";

function element(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  if (text !== null) node.textContent = text;
  return node;
}

export function humanBytes(size) {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) (value /= 1000), (unit += 1);
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

export class Cart {
  /** ``elements``: the Cart tab and its panel's parts (index.html); ``limit``: IDs per download. */
  constructor({ tab, status, table, zip, script, urls, sums, clear, drop, cutoutPos, cutoutRadius, cutoutCheck, cutoutGo, cutoutNote, limit, onChange }) {
    Object.assign(this, { tab, status, table, zip, script, urls, sums, clear, drop, cutoutPos, cutoutRadius, cutoutCheck, cutoutGo, cutoutNote, limit, onChange });
    this.items = this.load();
    this.summary = null;
    this.pending = null;
    zip.addEventListener("click", () => this.download("bulk/zip"));
    script.addEventListener("click", () => this.download("bulk/script"));
    urls.addEventListener("click", () => this.download("bulk/urls"));
    sums.addEventListener("click", () => this.download("bulk/sha256"));
    clear.addEventListener("click", () => this.empty());
    drop.addEventListener("click", () => this.dropUnknown());
    cutoutCheck.addEventListener("click", () => this.checkRegion());
    cutoutGo.addEventListener("click", () => this.downloadCutouts());
    for (const input of [cutoutPos, cutoutRadius]) input.addEventListener("input", () => this.regionChanged());
    window.addEventListener("storage", (event) => {
      if (event.key === KEY) (this.items = this.load()), this.changed();
    });
    this.render();
  }

  load() {
    try {
      const items = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(items) ? items.filter((i) => i && typeof i.id === "string") : [];
    } catch {
      return [];
    }
  }

  save() {
    localStorage.setItem(KEY, JSON.stringify(this.items));
  }

  has(id) {
    return this.items.some((i) => i.id === id);
  }

  /** ``item``: {id, obs_id, band, ra, dec}; false when the cart is full. */
  add(item) {
    if (this.has(item.id)) return true;
    if (this.items.length >= this.limit) {
      this.say(`The cart holds at most ${this.limit.toLocaleString("en")} datasets: download these first, then empty it.`);
      return false;
    }
    this.items.push({ ...item, added: new Date().toISOString() });
    return true;
  }

  addAll(items) {
    for (const item of items) if (!this.add(item)) break;
    this.changed();
  }

  remove(id) {
    this.items = this.items.filter((i) => i.id !== id);
    this.changed();
  }

  toggle(item, on) {
    if (on) this.add(item);
    else this.items = this.items.filter((i) => i.id !== item.id);
    this.changed();
  }

  empty() {
    this.items = [];
    this.changed();
  }

  dropUnknown() {
    const gone = new Set(this.summary?.unknown || []);
    this.items = this.items.filter((i) => !gone.has(i.id));
    this.changed();
  }

  changed() {
    this.save();
    this.summary = null;
    this.render();
    this.onChange?.();
    this.refresh();
  }

  say(text) {
    this.status.textContent = text;
  }

  /** Put the search's circle into the cutout fields, unless the person has typed there. */
  setRegion(circle) {
    if (!circle || this.cutoutPos.dataset.typed) return;
    this.cutoutPos.value = `${formatDegrees(circle.ra, 6)} ${formatDegrees(circle.dec, 6)}`;
    this.cutoutRadius.value = String(Number(Math.min(circle.radius, 0.05).toPrecision(3)));
    this.regionChanged(false);
  }

  regionChanged(typed = true) {
    if (typed) this.cutoutPos.dataset.typed = "true";
    this.cutoutGo.disabled = true;
    this.cutoutNote.textContent = this.items.length ? "Check the region to see which images it touches." : "";
  }

  ids() {
    return this.items.map((i) => ["ID", i.id]);
  }

  async fetchSummary(extra = []) {
    const body = new URLSearchParams([...this.ids(), ...extra]);
    const response = await request(serviceUrl("bulk/summary"), { method: "POST", body });
    return response.json();
  }

  /** Ask the server what the cart holds now (debounced: ticking many rows asks once). */
  refresh() {
    clearTimeout(this.pending);
    if (!this.items.length) return;
    this.pending = setTimeout(async () => {
      try {
        this.summary = await this.fetchSummary();
      } catch (error) {
        this.summary = null;
        this.say(`The cart could not be checked: ${error.message}`);
        return;
      }
      this.render();
    }, 150);
  }

  render() {
    const n = this.items.length;
    this.tab.textContent = n ? `Cart (${n})` : "Cart";
    this.tab.dataset.count = String(n);
    const s = this.summary;
    const unknown = s ? s.unknown.length : 0;
    const over = s && s.bytes > s.max_zip_bytes;
    for (const button of [this.zip, this.script, this.urls, this.sums, this.clear]) button.disabled = !n || (button !== this.clear && (!s || unknown > 0));
    if (over) this.zip.disabled = true;
    this.drop.hidden = !unknown;
    this.drop.textContent = `Remove the ${unknown} no longer published`;
    this.cutoutCheck.disabled = !n;
    if (!n) {
      this.say("The cart is empty: tick image rows in the results (across searches), then download them here.");
    } else if (!s) {
      this.say(`${n} dataset${n === 1 ? "" : "s"} in the cart; checking them…`);
    } else {
      const parts = [`${s.files.length} file${s.files.length === 1 ? "" : "s"}, ${humanBytes(s.bytes)} (a zip of ${humanBytes(s.zip_bytes)})`];
      if (unknown) parts.push(`${unknown} no longer published: remove them to download`);
      if (s.elsewhere.length) parts.push(`${s.elsewhere.length} stored elsewhere (their URLs are in the script)`);
      if (over) parts.push(`too large for one zip (at most ${humanBytes(s.max_zip_bytes)}): use the script`);
      this.say(parts.join("; "));
    }
    const sizes = new Map((s?.files || []).map((f) => [f.id, f]));
    const gone = new Set(s?.unknown || []);
    const head = element("tr");
    for (const name of ["Dataset", "Band", "Size", ""]) head.append(element("th", { scope: "col" }, name));
    const rows = this.items.map((item) => {
      const tr = element("tr", { "data-id": item.id });
      const file = sizes.get(item.id);
      tr.append(
        element("td", { title: item.id }, item.obs_id || item.id),
        element("td", {}, item.band || ""),
        element("td", {}, gone.has(item.id) ? "no longer published" : file ? humanBytes(file.bytes) : ""),
      );
      const remove = element("button", { type: "button", "aria-label": `Remove ${item.obs_id || item.id} from the cart` }, "Remove");
      remove.addEventListener("click", () => this.remove(item.id));
      const td = element("td");
      td.append(remove);
      tr.append(td);
      return tr;
    });
    this.table.replaceChildren(element("thead"), element("tbody"));
    this.table.tHead.append(head);
    this.table.tBodies[0].append(...rows);
    this.table.hidden = !n;
  }

  region() {
    const { ra, dec } = parsePosition(this.cutoutPos.value);
    const radius = parseRadius(this.cutoutRadius.value);
    return ["CIRCLE", `${formatDegrees(ra, 7)} ${formatDegrees(dec, 7)} ${formatDegrees(radius, 7)}`];
  }

  async checkRegion() {
    let region;
    try {
      region = this.region();
    } catch (error) {
      this.cutoutNote.textContent = error.message;
      return;
    }
    this.cutoutNote.textContent = "Checking which images the region touches…";
    try {
      const { cutouts } = await this.fetchSummary([region]);
      const made = cutouts.made.length;
      const missed = cutouts.missed.map((m) => `${this.items.find((i) => i.id === m.id)?.obs_id || m.id} (${m.reason})`);
      let text = `The region touches ${made} of ${made + missed.length} images: about ${humanBytes(cutouts.bytes)} of cutouts.`;
      if (missed.length) text += ` Not cut: ${missed.join(", ")}.`;
      if (cutouts.bytes > cutouts.max_bytes) text += ` That is more than one request makes (${humanBytes(cutouts.max_bytes)}): choose a smaller region.`;
      this.cutoutNote.textContent = text;
      this.cutoutGo.disabled = !made || cutouts.bytes > cutouts.max_bytes;
      this.checkedRegion = region;
    } catch (error) {
      this.cutoutNote.textContent = error instanceof ServiceError ? error.message : `The region could not be checked: ${error.message}`;
    }
  }

  downloadCutouts() {
    if (this.checkedRegion) this.download("bulk/cutouts", [this.checkedRegion]);
  }

  /** A form POST (the IDs do not fit a URL), answered as an attachment: the page stays. */
  download(path, extra = []) {
    const target = element("form", { method: "post", action: serviceUrl(path), hidden: true });
    for (const [name, value] of [...this.ids(), ...extra]) target.append(element("input", { type: "hidden", name, value }));
    document.body.append(target);
    target.submit();
    target.remove();
  }
}
