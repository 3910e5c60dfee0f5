// The page's state in its URL (query string), so that a link reproduces the search or query and
// the view: replaceState as things change, read once at load.
const KEYS = ["tab", "search", "pos", "radius", "band", "instrument", "collection", "from", "to", "maxrec", "query", "mode", "table", "sky", "hips", "catalogue", "columns", "others"];

export function readState() {
  const params = new URLSearchParams(window.location.search);
  const state = {};
  for (const key of KEYS) if (params.has(key)) state[key] = params.get(key);
  if (state.sky) {
    const [ra, dec, fov] = state.sky.split(",").map(Number);
    state.view = [ra, dec, fov].every(Number.isFinite) ? { ra, dec, fov } : null;
  }
  return state;
}

export function writeState(changes) {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") params.delete(key);
    else params.set(key, String(value));
  }
  const query = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
}

export function skyParam(view) {
  return `${view.ra.toFixed(5)},${view.dec.toFixed(5)},${view.fov.toPrecision(4)}`;
}
