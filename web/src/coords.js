// Reading what people type into the search form: positions, radii, wavelengths and dates.
// Every parser returns a value or throws an Error whose message says what is wrong, shown next
// to the field.

const SEPARATORS = /[\s,]+/;

function sexagesimal(text, hours) {
  // "02:18:00", "02 18 00", "02h18m00s", "-05d00m00s", "-05°00'00\""
  const sign = text.trim().startsWith("-") ? -1 : 1;
  const parts = text
    .trim()
    .replace(/^[+-]/, "")
    .split(/[:hdms°'"\s]+/i)
    .filter((p) => p !== "");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^\d+(\.\d*)?$/.test(p))) return null;
  const [a, b, c = "0"] = parts.map(Number);
  if (b >= 60 || c >= 60) return null;
  const value = sign * (a + b / 60 + c / 3600);
  return hours ? value * 15 : value;
}

function splitPair(text) {
  // "34.5 -5.0", "34.5, -5.0", "02:18:00 -05:00:00", "02h18m00s -05d00m00s", "02 18 00 -05 00 00"
  const tokens = text.trim().split(SEPARATORS);
  if (tokens.length === 2) return tokens;
  if (tokens.length === 4 || tokens.length === 6) {
    const half = tokens.length / 2;
    return [tokens.slice(0, half).join(" "), tokens.slice(half).join(" ")];
  }
  return null;
}

/** "34.5 -5.0" or "02:18:00 -05:00:00" (ICRS) as {ra, dec} in degrees. */
export function parsePosition(text) {
  if (!text || !text.trim()) throw new Error("Enter a position: RA and Dec, e.g. 34.5 -5.0 or 02:18:00 -05:00:00");
  const pair = splitPair(text);
  if (!pair) throw new Error(`"${text.trim()}" is not a position: give RA and Dec, e.g. 34.5 -5.0 or 02:18:00 -05:00:00`);
  const [raText, decText] = pair;
  const decimal = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
  let ra;
  let dec;
  if (decimal.test(raText) && decimal.test(decText)) {
    ra = Number(raText);
    dec = Number(decText);
  } else {
    ra = sexagesimal(raText, true);
    dec = sexagesimal(decText, false);
    if (ra === null) throw new Error(`RA "${raText}" is neither degrees nor hours:minutes:seconds`);
    if (dec === null) throw new Error(`Dec "${decText}" is neither degrees nor degrees:minutes:seconds`);
  }
  if (!(ra >= 0 && ra < 360)) throw new Error(`RA ${raText} is outside 0 to 360 degrees (0h to 24h)`);
  if (!(dec >= -90 && dec <= 90)) throw new Error(`Dec ${decText} is outside -90 to +90 degrees`);
  return { ra, dec };
}

const ANGLE_UNITS = { "": 1, deg: 1, d: 1, "°": 1, arcmin: 1 / 60, "'": 1 / 60, arcsec: 1 / 3600, '"': 1 / 3600 };

/** A radius in degrees ("0.1", "6'", "30 arcsec"), more than 0 and at most 90. */
export function parseRadius(text) {
  const match = /^\s*((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(deg|d|°|arcmin|'|arcsec|")?\s*$/.exec(text || "");
  if (!match) throw new Error(`"${(text || "").trim()}" is not a radius: give degrees, e.g. 0.1 (or 6' or 30")`);
  const degrees = Number(match[1]) * ANGLE_UNITS[match[2] || ""];
  if (!(degrees > 0)) throw new Error("The radius must be more than 0");
  if (degrees > 90) throw new Error(`A radius of ${degrees} degrees is more than the 90 degrees a search can cover`);
  return degrees;
}

const LENGTH_UNITS = { m: 1, mm: 1e-3, um: 1e-6, "µm": 1e-6, micron: 1e-6, nm: 1e-9, a: 1e-10, "å": 1e-10, angstrom: 1e-10 };

/** A wavelength or wavelength range ("650 nm", "600 700 nm", "6.5e-7") as [min, max] metres;
 * null for an empty field. ``named`` maps band names to [min, max]. */
export function parseBand(text, named = new Map()) {
  const trimmed = (text || "").trim();
  if (!trimmed) return null;
  if (named.has(trimmed)) return named.get(trimmed);
  const match = /^((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?:\s*(?:-|\s|to)\s*((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?))?\s*([a-zµå]*)$/i.exec(trimmed);
  const unit = match ? match[3].toLowerCase() : "";
  if (!match || !(unit in LENGTH_UNITS || unit === "")) {
    const names = [...named.keys()].slice(0, 6).join(", ");
    throw new Error(
      `"${trimmed}" is not a band: give a wavelength such as 650 nm or 600 700 nm` + (names ? `, or a band name (${names}, ...)` : ""),
    );
  }
  const scale = LENGTH_UNITS[unit] ?? 1;
  const low = Number(match[1]) * scale;
  const high = (match[2] === undefined ? Number(match[1]) : Number(match[2])) * scale;
  if (unit === "" && low > 1e-2) throw new Error(`${match[1]} metres is not a wavelength of light; did you mean ${match[1]} nm?`);
  if (high < low) throw new Error(`The band's end ${match[2]} is below its start ${match[1]}`);
  return [low, high];
}

/** A date or date-time ("2004-01-20", "2004-01-20T10:00") as MJD (UTC); null for an empty field. */
export function dateToMjd(text, label) {
  const trimmed = (text || "").trim();
  if (!trimmed) return null;
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(trimmed) ? trimmed : null;
  const ms = iso ? Date.parse(iso.includes("T") ? `${iso}Z` : `${iso}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${label} "${trimmed}" is not a date: write it as YYYY-MM-DD`);
  return ms / 86400000 + 40587;
}

export function formatDegrees(value, digits = 5) {
  return Number(value.toFixed(digits)).toString();
}
