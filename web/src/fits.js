// Reading a FITS image in the browser: the primary header's cards and its data array as
// Float32Array (BSCALE/BZERO applied, BLANK as NaN), for the quick-look viewer.

const BLOCK = 2880;

function cardValue(text) {
  const value = text.split("/")[0].trim();
  if (text.trimStart().startsWith("'")) {
    const match = /^\s*'((?:[^']|'')*)'/.exec(text);
    return match ? match[1].replace(/''/g, "'").trimEnd() : "";
  }
  if (value === "T") return true;
  if (value === "F") return false;
  const number = Number(value.replace(/D/i, "E"));
  return value !== "" && Number.isFinite(number) ? number : value;
}

/** {header: Map of keyword -> value, dataStart} of the primary HDU in ``bytes``. */
export function readHeader(bytes) {
  const header = new Map();
  const decoder = new TextDecoder("latin1");
  for (let at = 0; at + 80 <= bytes.length; at += 80) {
    const card = decoder.decode(bytes.subarray(at, at + 80));
    const key = card.slice(0, 8).trim();
    if (key === "END") return { header, dataStart: Math.ceil((at + 80) / BLOCK) * BLOCK };
    if (card.slice(8, 10) === "= ") header.set(key, cardValue(card.slice(10)));
  }
  throw new Error("the FITS header has no END card");
}

/** The primary image of a FITS file: {header, width, height, data (Float32Array, row 0 at the bottom)}. */
export function readImage(buffer) {
  const bytes = new Uint8Array(buffer);
  const { header, dataStart } = readHeader(bytes);
  const bitpix = header.get("BITPIX");
  const width = header.get("NAXIS1");
  const height = header.get("NAXIS2");
  if (header.get("NAXIS") < 2 || !width || !height) throw new Error("the FITS file holds no 2-d image");
  const count = width * height;
  const view = new DataView(buffer, dataStart, (count * Math.abs(bitpix)) / 8);
  const scale = header.get("BSCALE") ?? 1;
  const zero = header.get("BZERO") ?? 0;
  const blank = header.get("BLANK");
  const data = new Float32Array(count);
  const read = {
    8: (i) => view.getUint8(i),
    16: (i) => view.getInt16(i * 2),
    32: (i) => view.getInt32(i * 4),
    [-32]: (i) => view.getFloat32(i * 4),
    [-64]: (i) => view.getFloat64(i * 8),
  }[bitpix];
  if (!read) throw new Error(`BITPIX ${bitpix} is not a FITS image type`);
  if (bitpix === -32 && scale === 1 && zero === 0) {
    for (let i = 0; i < count; i += 1) data[i] = view.getFloat32(i * 4);
  } else {
    for (let i = 0; i < count; i += 1) {
      const raw = read(i);
      data[i] = bitpix > 0 && blank !== undefined && raw === blank ? NaN : raw * scale + zero;
    }
  }
  return { header, width, height, data };
}
