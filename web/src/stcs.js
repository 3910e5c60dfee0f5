// ObsCore's s_region as STC-S text ("Polygon ICRS 34.1 -5.2 34.3 -5.2 ...", also Circle and
// Box, and "Union" of polygons): shapes to draw, in degrees. Anything else is not drawn.

function numbers(tokens) {
  const values = tokens.map(Number);
  return values.every(Number.isFinite) ? values : null;
}

export function parseStcs(text) {
  if (typeof text !== "string") return [];
  const tokens = text.trim().split(/[\s()]+/).filter(Boolean);
  const shapes = [];
  let i = 0;
  const frames = /^(ICRS|FK5|J2000|UNKNOWNFRAME|GEOCENTER|BARYCENTER|TOPOCENTER|SPHERICAL2)$/i;
  while (i < tokens.length) {
    const word = tokens[i].toUpperCase();
    i += 1;
    if (word === "UNION" || word === "INTERSECTION" || frames.test(word)) continue;
    while (i < tokens.length && Number.isNaN(Number(tokens[i])) && frames.test(tokens[i])) i += 1; // frame, reference position
    let end = i;
    while (end < tokens.length && !Number.isNaN(Number(tokens[end]))) end += 1;
    const values = numbers(tokens.slice(i, end));
    i = end;
    if (!values) continue;
    if (word === "POLYGON" && values.length >= 6 && values.length % 2 === 0) {
      const vertices = [];
      for (let k = 0; k < values.length; k += 2) vertices.push([values[k], values[k + 1]]);
      shapes.push({ kind: "polygon", vertices });
    } else if (word === "CIRCLE" && values.length === 3) {
      shapes.push({ kind: "circle", ra: values[0], dec: values[1], radius: values[2] });
    } else if (word === "BOX" && values.length === 4) {
      const [ra, dec, w, h] = values;
      const dra = w / 2 / Math.max(Math.cos((dec * Math.PI) / 180), 1e-6);
      shapes.push({
        kind: "polygon",
        vertices: [
          [ra - dra, dec - h / 2],
          [ra + dra, dec - h / 2],
          [ra + dra, dec + h / 2],
          [ra - dra, dec + h / 2],
        ],
      });
    }
  }
  return shapes;
}

/** A DALI polygon value (a flat list of numbers, or their text) as one polygon shape. */
export function daliPolygon(value) {
  const values = Array.isArray(value) ? value.map(Number) : typeof value === "string" ? value.trim().split(/\s+/).map(Number) : [];
  if (values.length < 6 || values.length % 2 || !values.every(Number.isFinite)) return [];
  const vertices = [];
  for (let k = 0; k < values.length; k += 2) vertices.push([values[k], values[k + 1]]);
  return [{ kind: "polygon", vertices }];
}
