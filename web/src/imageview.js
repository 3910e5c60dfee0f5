// What an image search shows first: the columns a person reads (ID, band, date, exposure,
// distance from the search centre, field size, a preview thumbnail), nearest first; the other
// ObsCore columns are one click away under "Columns". Nothing is dropped from the answer itself.
import { angularDistance } from "./skygeometry.js";

// [column, label]: the order of the table; a column the answer lacks is left out.
const CURATED = [
  ["obs_id", "ID"],
  ["em_band_name", "Band"],
  ["t_min", "Observed"],
  ["t_exptime", "Exposure"],
  ["distance", "Distance"],
  ["s_fov", "Field"],
];
// Without a band name, the wavelength range says which band it is.
const WITHOUT_BAND_NAME = [
  ["em_min", "λ from"],
  ["em_max", "λ to"],
];

/** The distance of every row's centre (s_ra, s_dec) from ``centre``, in degrees (null without one). */
export function distances(rows, columns, centre) {
  const ra = columns.findIndex((c) => c.name.toLowerCase() === "s_ra");
  const dec = columns.findIndex((c) => c.name.toLowerCase() === "s_dec");
  if (ra < 0 || dec < 0 || !centre) return null;
  return rows.map((row) =>
    typeof row[ra] === "number" && typeof row[dec] === "number" ? angularDistance(centre.ra, centre.dec, row[ra], row[dec]) : null,
  );
}

/** The view of an image answer: {derived: [extra columns], shown: [keys in order], labels,
 * sort: {key, direction}}; ``centre`` is the search position. */
export function imageView(rows, columns, centre) {
  const names = new Set(columns.map((c) => c.name.toLowerCase()));
  const derived = [];
  const values = distances(rows, columns, centre);
  if (values) {
    derived.push({
      name: "distance",
      datatype: "double",
      unit: "deg",
      ucd: "pos.angDistance",
      description: `Distance of the image centre (s_ra, s_dec) from the search position; computed in the page, not part of the answer or its downloads`,
      values,
    });
    names.add("distance");
  }
  const curated = [...CURATED];
  if (!names.has("em_band_name")) curated.splice(2, 0, ...WITHOUT_BAND_NAME);
  const chosen = curated.filter(([name]) => names.has(name));
  return {
    derived,
    thumbnails: names.has("obs_publisher_did"),
    shown: chosen.map(([name]) => name),
    labels: Object.fromEntries(chosen.map(([name, label]) => [name, label])),
    sort: values ? { key: "distance", direction: 1 } : null,
  };
}
