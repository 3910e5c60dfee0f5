// Preview thumbnails for the results table: the DataLink #preview of every image in sight, asked
// for in one {links} request per batch of rows (not one per row), remembered for the page's life.
import { request, serviceUrl } from "./api.js";

const BATCH = 100;

/** {ID: #preview URL or null} from a DataLink {links} VOTable. */
export function previewsFromLinks(doc) {
  const names = [...doc.getElementsByTagNameNS("*", "FIELD")].map((f) => f.getAttribute("name"));
  const at = (name) => names.indexOf(name);
  const [id, url, semantics] = [at("ID"), at("access_url"), at("semantics")];
  const found = {};
  for (const tr of doc.getElementsByTagNameNS("*", "TR")) {
    const cells = [...tr.children].filter((c) => c.localName === "TD").map((td) => td.textContent);
    if (!(cells[id] in found)) found[cells[id]] = null;
    if (cells[semantics] === "#preview" && cells[url]) found[cells[id]] = cells[url];
  }
  return found;
}

export class Thumbnails {
  constructor(datalink, onLoaded) {
    this.datalink = datalink;
    this.onLoaded = onLoaded;
    this.known = new Map(); // ID -> URL, or null where there is no preview
    this.wanted = new Set();
    this.timer = null;
  }

  /** The preview URL of ``id``: a string, null (none), undefined (not known yet). */
  url(id) {
    return this.known.get(id);
  }

  /** Ask for these IDs' previews soon (together with the others asked for meanwhile). */
  want(ids) {
    for (const id of ids) if (id && !this.known.has(id)) this.wanted.add(id);
    if (!this.wanted.size || this.timer) return;
    this.timer = setTimeout(() => this.fetch(), 30);
  }

  async fetch() {
    this.timer = null;
    const ids = [...this.wanted].slice(0, BATCH);
    for (const id of ids) {
      this.wanted.delete(id);
      this.known.set(id, null); // asked: not again, whatever the answer
    }
    const body = new URLSearchParams();
    for (const id of ids) body.append("ID", id);
    try {
      const response = await request(serviceUrl(this.datalink), { method: "POST", body });
      const doc = new DOMParser().parseFromString(await response.text(), "application/xml");
      for (const [id, url] of Object.entries(previewsFromLinks(doc))) if (this.known.has(id)) this.known.set(id, url);
    } catch {
      // thumbnails are a convenience: the Preview button says what went wrong
    }
    this.onLoaded();
    if (this.wanted.size) this.timer = setTimeout(() => this.fetch(), 0);
  }
}
