// Facets of an image answer: band, instrument, collection and date, each value with its count;
// ticking values narrows the rows (values of one facet are alternatives, facets combine).
//
// Counted in the page, over the rows the answer brought: a count is then instant (100,000 rows
// take a few milliseconds), a tick needs no new query, and it counts exactly the rows listed.
// When the answer was cut at MAXREC the facets say that they count the rows shown, not the archive.
import { bandsOf } from "./bands.js";
import { mjdToIso } from "./format.js";

const NONE = "(none)";

function columnIndex(columns, name) {
  return columns.findIndex((c) => c.name.toLowerCase() === name);
}

/** The date facet's bucket for MJDs spanning ``span`` days: years, months or nights. */
export function dateBucket(span) {
  if (span > 2 * 366) return (iso) => iso.slice(0, 4);
  if (span > 62) return (iso) => iso.slice(0, 7);
  return (iso) => iso.slice(0, 10);
}

/** [{name, label, keys: [key per row], order: [keys in display order]}] for the columns present. */
export function facetDefinitions(rows, columns) {
  const facets = [];
  const { bands, keyOf } = bandsOf(rows, columns);
  if (bands.length) {
    facets.push({ name: "band", label: "Band", keys: rows.map((row) => keyOf(row) ?? NONE), order: bands.map((b) => b.key) });
  }
  for (const [name, column, label] of [
    ["instrument", "instrument_name", "Instrument"],
    ["collection", "obs_collection", "Collection"],
  ]) {
    const i = columnIndex(columns, column);
    if (i < 0) continue;
    const keys = rows.map((row) => (row[i] === null || row[i] === undefined || row[i] === "" ? NONE : String(row[i])));
    facets.push({ name, label, keys, order: [...new Set(keys)].sort() });
  }
  const t = columnIndex(columns, "t_min");
  if (t >= 0) {
    const mjds = rows.map((row) => row[t]).filter((v) => typeof v === "number" && Number.isFinite(v));
    if (mjds.length) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of mjds) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const bucket = dateBucket(hi - lo);
      const keys = rows.map((row) => {
        const iso = typeof row[t] === "number" ? mjdToIso(row[t]) : null;
        return iso ? bucket(iso) : NONE;
      });
      facets.push({ name: "date", label: "Date (UTC)", keys, order: [...new Set(keys)].sort() });
    }
  }
  return facets.filter((f) => f.order.length);
}

/** For each facet, the count of each value among the rows that pass the other facets' ticks. */
export function facetCounts(facets, chosen) {
  const n = facets.length ? facets[0].keys.length : 0;
  const counts = facets.map(() => new Map());
  for (let i = 0; i < n; i += 1) {
    let failed = -1; // the one facet that rejects the row, or -2 for more than one
    for (let f = 0; f < facets.length && failed !== -2; f += 1) {
      const ticked = chosen[f];
      if (ticked.size && !ticked.has(facets[f].keys[i])) failed = failed === -1 ? f : -2;
    }
    if (failed === -2) continue;
    for (let f = 0; f < facets.length; f += 1) {
      if (failed !== -1 && failed !== f) continue;
      const key = facets[f].keys[i];
      counts[f].set(key, (counts[f].get(key) || 0) + 1);
    }
  }
  return counts;
}

export class FacetPanel {
  constructor({ container, onChange }) {
    Object.assign(this, { container, onChange });
    this.facets = [];
    this.chosen = [];
    container.hidden = true;
  }

  /** Facets of this answer (none for rows that are not images). */
  show(rows, columns, { images = false, overflow = false } = {}) {
    this.facets = images ? facetDefinitions(rows, columns) : [];
    this.chosen = this.facets.map(() => new Set());
    this.boxes = [];
    this.container.hidden = !this.facets.length;
    this.container.replaceChildren();
    if (!this.facets.length) return;
    const heading = document.createElement("h3");
    heading.textContent = "Refine";
    const note = document.createElement("p");
    note.className = "hint";
    note.textContent = overflow ? `Counts of the ${rows.length.toLocaleString("en")} rows shown (the answer was cut at MAXREC).` : "";
    note.hidden = !overflow;
    const clear = document.createElement("button");
    clear.type = "button";
    clear.className = "clear-facets";
    clear.textContent = "Clear filters";
    clear.addEventListener("click", () => {
      for (const set of this.chosen) set.clear();
      for (const box of this.boxes.flat()) box.checked = false;
      this.changed();
    });
    this.clearButton = clear;
    this.container.append(heading, note);
    this.facets.forEach((facet, f) => {
      const group = document.createElement("fieldset");
      group.dataset.facet = facet.name;
      const legend = document.createElement("legend");
      legend.textContent = facet.label;
      group.append(legend);
      this.boxes.push(
        facet.order.map((key) => {
          const label = document.createElement("label");
          const box = document.createElement("input");
          box.type = "checkbox";
          box.value = key;
          box.addEventListener("change", () => {
            if (box.checked) this.chosen[f].add(key);
            else this.chosen[f].delete(key);
            this.changed();
          });
          const count = document.createElement("span");
          count.className = "count";
          label.append(box, ` ${key} `, count);
          group.append(label);
          return box;
        }),
      );
      this.container.append(group);
    });
    this.container.append(clear);
    this.updateCounts();
  }

  updateCounts() {
    const counts = facetCounts(this.facets, this.chosen);
    this.facets.forEach((facet, f) => {
      facet.order.forEach((key, k) => {
        const box = this.boxes[f][k];
        const count = counts[f].get(key) || 0;
        box.nextSibling.nextSibling.textContent = count.toLocaleString("en");
        box.closest("label").classList.toggle("empty", count === 0 && !box.checked);
      });
    });
    this.clearButton.disabled = !this.chosen.some((set) => set.size);
  }

  changed() {
    this.updateCounts();
    this.onChange(this.predicate());
  }

  /** (row index) -> whether the row passes every facet; null when nothing is ticked. */
  predicate() {
    const active = this.facets.map((facet, f) => [facet, this.chosen[f]]).filter(([, set]) => set.size);
    if (!active.length) return null;
    return (i) => active.every(([facet, set]) => set.has(facet.keys[i]));
  }
}
