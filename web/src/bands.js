// One colour per band for the footprints on the sky, in the order of wavelength (blue bands blue,
// red bands red, the rest between), and the legend that names them: a button per band that shows
// or hides its footprints.

// Ten colours told apart on a dark sky and by most colour-blind eyes, from short to long wavelength.
const PALETTE = ["#7aa2ff", "#4cc9f0", "#2ec4b6", "#80ed99", "#d4e157", "#ffd166", "#ff9f43", "#ff6b6b", "#f472b6", "#c084fc"];
export const NO_BAND = "#cfd8dc";

/** [{key, label, colour, lo, count}] for the bands of ``rows``: a band is ``em_band_name`` where
 * there is one, else the wavelength range; ordered by wavelength. ``keyOf(row)`` -> key or null. */
export function bandsOf(rows, columns) {
  const index = (name) => columns.findIndex((c) => c.name.toLowerCase() === name);
  const name = index("em_band_name");
  const lo = index("em_min");
  const hi = index("em_max");
  const keyOf = (row) => {
    if (name >= 0 && row[name] !== null && row[name] !== undefined && row[name] !== "") return String(row[name]);
    if (lo >= 0 && hi >= 0 && typeof row[lo] === "number" && typeof row[hi] === "number") {
      return `${Number((row[lo] * 1e9).toPrecision(4))}–${Number((row[hi] * 1e9).toPrecision(4))} nm`;
    }
    return null;
  };
  const found = new Map();
  for (const row of rows) {
    const key = keyOf(row);
    if (key === null) continue;
    const entry = found.get(key) || { key, label: key, lo: Infinity, count: 0 };
    entry.count += 1;
    if (lo >= 0 && typeof row[lo] === "number") entry.lo = Math.min(entry.lo, row[lo]);
    found.set(key, entry);
  }
  const bands = [...found.values()].sort((a, b) => a.lo - b.lo || a.key.localeCompare(b.key));
  bands.forEach((band, k) => {
    // spread over the palette by rank, so that few bands get well-separated colours
    const at = bands.length === 1 ? 0 : Math.round((k * (PALETTE.length - 1)) / (bands.length - 1));
    band.colour = bands.length > PALETTE.length ? PALETTE[k % PALETTE.length] : PALETTE[at];
  });
  return { bands, keyOf };
}

/** The legend: a swatch and a toggle button per band. ``onToggle(key, shown)``. */
export function renderLegend(container, bands, hidden, onToggle) {
  container.replaceChildren();
  if (!bands.length) return;
  const list = document.createElement("ul");
  list.className = "band-legend";
  list.setAttribute("aria-label", "Bands on the sky");
  for (const band of bands) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.band = band.key;
    button.setAttribute("aria-pressed", String(!hidden.has(band.key)));
    button.title = `${hidden.has(band.key) ? "Show" : "Hide"} the ${band.count} footprint${band.count === 1 ? "" : "s"} in ${band.label}`;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.borderColor = band.colour;
    button.append(swatch, ` ${band.label} `);
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = String(band.count);
    button.append(count);
    button.addEventListener("click", () => onToggle(band.key, hidden.has(band.key)));
    item.append(button);
    list.append(item);
  }
  container.append(list);
}
