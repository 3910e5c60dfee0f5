// Geometry on the sky for the sky view: distances, whether a point is in a footprint, a shape's
// centre and size, and the circle that holds a set of shapes (to fit the view on them). Degrees in,
// degrees out; footprints are assumed smaller than a few degrees (tangent-plane tests).

const RAD = Math.PI / 180;

export function angularDistance(ra1, dec1, ra2, dec2) {
  const s = Math.sin(((dec2 - dec1) * RAD) / 2) ** 2 + Math.cos(dec1 * RAD) * Math.cos(dec2 * RAD) * Math.sin(((ra2 - ra1) * RAD) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(s)))) / RAD;
}

export function pointInPolygon(ra, dec, vertices) {
  // On the tangent plane at the point: good for footprints of less than a few degrees.
  const cosDec = Math.cos(dec * RAD);
  const xy = vertices.map(([r, d]) => [(((r - ra + 540) % 360) - 180) * cosDec, d - dec]);
  let inside = false;
  for (let i = 0, j = xy.length - 1; i < xy.length; j = i, i += 1) {
    const [xi, yi] = xy[i];
    const [xj, yj] = xy[j];
    if (yi > 0 !== yj > 0 && 0 < ((xj - xi) * (0 - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function planeArea(vertices) {
  const cosDec = Math.cos(vertices[0][1] * RAD);
  let twice = 0;
  for (let i = 0, j = vertices.length - 1; i < vertices.length; j = i, i += 1) {
    const dra = ((((vertices[j][0] - vertices[i][0]) % 360) + 540) % 360) - 180;
    twice += dra * cosDec * (vertices[j][1] + vertices[i][1]);
  }
  return Math.abs(twice) / 2;
}

/** The mean direction of points [[ra, dec], ...]: the centre of a footprint or of a set of them. */
export function meanDirection(points) {
  let x = 0;
  let y = 0;
  let z = 0;
  for (const [ra, dec] of points) {
    const c = Math.cos(dec * RAD);
    x += c * Math.cos(ra * RAD);
    y += c * Math.sin(ra * RAD);
    z += Math.sin(dec * RAD);
  }
  const norm = Math.hypot(x, y, z);
  if (!norm) return null;
  return [((Math.atan2(y, x) / RAD) % 360 + 360) % 360, Math.asin(Math.max(-1, Math.min(1, z / norm))) / RAD];
}

/** The points that outline a parsed STC-S shape ({kind: polygon, vertices} or {kind: circle}). */
export function outlinePoints(shape) {
  if (shape.kind === "polygon") return shape.vertices;
  const cosDec = Math.max(Math.cos(shape.dec * RAD), 1e-6);
  return [0, 90, 180, 270].map((angle) => [shape.ra + (shape.radius * Math.cos(angle * RAD)) / cosDec, shape.dec + shape.radius * Math.sin(angle * RAD)]);
}

/** The circle {ra, dec, radius} holding every point (around their mean direction). */
export function enclosingCircle(points) {
  const centre = meanDirection(points);
  if (!centre) return null;
  let radius = 0;
  for (const [ra, dec] of points) radius = Math.max(radius, angularDistance(centre[0], centre[1], ra, dec));
  return { ra: centre[0], dec: centre[1], radius };
}

/** Whether the point is inside the shape; its area (square degrees on the tangent plane) if so. */
export function areaIfInside(ra, dec, shape) {
  if (shape.kind === "polygon") return pointInPolygon(ra, dec, shape.vertices) ? planeArea(shape.vertices) : null;
  return angularDistance(ra, dec, shape.ra, shape.dec) <= shape.radius ? Math.PI * shape.radius ** 2 : null;
}

/** The field of view (degrees) that shows a circle of ``radius`` with a margin, within Aladin's limits. */
export function fovFor(radius, { margin = 1.25, min = 1 / 60, max = 180 } = {}) {
  return Math.min(Math.max(2 * radius * margin, min), max);
}
