// How values are shown, never what they are: numbers without float noise (2.200000000000003 is
// shown 2.2), wavelengths in nm or µm, MJD as UTC dates, small angles in arcmin or arcsec, each
// with the unit shown in the header. The values themselves stay as the service sent them: sorting,
// copying, downloads and the sky view read those.

const MJD_UNIX_EPOCH = 40587; // MJD of 1970-01-01

/** A value as text exactly as it came (the copy and export paths). */
export function exactText(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(exactText).join(" ");
  return String(value);
}

/** A number with ``digits`` significant digits at most and no trailing zeros: float noise gone. */
export function plainNumber(value, digits = 15) {
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "number") return exactText(value);
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(digits)));
}

/** MJD (UTC) as "2004-01-20 10:00:00"; null outside the years 1858-9999. */
export function mjdToIso(mjd) {
  if (typeof mjd !== "number" || !Number.isFinite(mjd) || mjd < 0 || mjd > 2973483) return null;
  const iso = new Date(Math.round((mjd - MJD_UNIX_EPOCH) * 86400000)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function ucdWords(column) {
  return (column.ucd || "").toLowerCase().split(";");
}

function isDouble(column) {
  return !/^(float|real)$/i.test(column.datatype || "");
}

/** The middle of the magnitudes of a column's finite numbers (a sample of at most 2,000). */
export function typicalMagnitude(values) {
  const step = Math.max(1, Math.floor(values.length / 2000));
  const sample = [];
  for (let k = 0; k < values.length; k += step) {
    const v = values[k];
    if (typeof v === "number" && Number.isFinite(v) && v !== 0) sample.push(Math.abs(v));
  }
  if (!sample.length) return null;
  sample.sort((a, b) => a - b);
  return sample[Math.floor(sample.length / 2)];
}

const ANGLES = [
  ["deg", 1],
  ["arcmin", 60],
  ["arcsec", 3600],
  ["mas", 3.6e6],
];
const WAVELENGTHS = [
  ["m", 1],
  ["mm", 1e3],
  ["µm", 1e6],
  ["nm", 1e9],
];

function angleUnit(degrees) {
  if (degrees === null || degrees >= 1) return ANGLES[0];
  if (degrees >= 1 / 60) return ANGLES[1];
  return ANGLES[2];
}

function wavelengthUnit(metres) {
  if (metres === null) return null;
  if (metres < 1e-6) return WAVELENGTHS[3];
  if (metres < 1e-3) return WAVELENGTHS[2];
  return null;
}

/** An angle in degrees is a size or a separation (shown in arcmin or arcsec when small), not a
 * position (which stays in degrees). */
function isAngularSize(column) {
  const words = ucdWords(column);
  return words.some((w) => w.startsWith("phys.angsize") || w.startsWith("pos.angdistance") || w.startsWith("pos.angresolution"));
}

function isMjd(column) {
  const unit = (column.unit || "").toLowerCase();
  if ((column.xtype || "").toLowerCase() === "mjd") return true;
  if (unit !== "d" && unit !== "day") return false;
  return ucdWords(column).some((w) => /^time\.(start|end|epoch)$/.test(w) || w === "time");
}

/** How a column is shown: {unit: the unit in the header, text(value) -> the cell's text,
 * converted: whether the shown numbers are not the stored ones}. ``values()`` gives the column's
 * values in this answer (for the scale of angles and wavelengths). */
export function columnDisplay(column, values = () => []) {
  const digits = isDouble(column) ? 15 : 7;
  const unit = column.unit || "";
  const plain = { unit, converted: false, text: (v) => (typeof v === "number" || typeof v === "bigint" ? plainNumber(v, digits) : exactText(v)) };
  if (column.arraysize && column.arraysize !== "1" && !/^(char|unicodeChar)$/i.test(column.datatype || "")) return plain;
  if (isMjd(column)) {
    return { unit: "UTC", converted: true, text: (v) => (typeof v === "number" ? mjdToIso(v) ?? plainNumber(v, digits) : exactText(v)) };
  }
  const lowered = unit.toLowerCase();
  let scaled = null;
  if (lowered === "m" && ucdWords(column).some((w) => w.startsWith("em.wl"))) scaled = wavelengthUnit(typicalMagnitude(values()));
  else if ((lowered === "deg" || lowered === "degree" || lowered === "degrees") && isAngularSize(column)) scaled = angleUnit(typicalMagnitude(values()));
  if (!scaled || scaled[1] === 1) return plain;
  const [name, factor] = scaled;
  // six significant digits: what a person compares (the stored value is one hover away)
  return { unit: name, converted: true, text: (v) => (typeof v === "number" ? plainNumber(v * factor, 6) : exactText(v)) };
}
