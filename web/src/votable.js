// Reading a VOTable a SAMP client sends us (TOPCAT, Aladin): the first TABLE, TABLEDATA or
// BINARY2/BINARY encoding of scalar columns, as {columns, rows} for the results grid.

const NUMERIC = new Set(["short", "int", "long", "float", "double", "unsignedByte"]);
const SIZES = { boolean: 1, bit: 1, unsignedByte: 1, short: 2, int: 4, long: 8, char: 1, unicodeChar: 2, float: 4, double: 8 };

function fieldsOf(table) {
  return [...table.getElementsByTagNameNS("*", "FIELD")].map((f) => ({
    name: f.getAttribute("name") || f.getAttribute("ID") || "column",
    datatype: f.getAttribute("datatype") || "char",
    arraysize: f.getAttribute("arraysize"),
    unit: f.getAttribute("unit") || "",
    ucd: f.getAttribute("ucd") || "",
    xtype: f.getAttribute("xtype") || "",
    description: f.getElementsByTagNameNS("*", "DESCRIPTION")[0]?.textContent.trim() || "",
  }));
}

function cell(text, column) {
  if (text === "" && column.datatype !== "char" && column.datatype !== "unicodeChar") return null;
  if (NUMERIC.has(column.datatype) && !column.arraysize) {
    const value = Number(text);
    return Number.isNaN(value) ? null : value;
  }
  if (column.datatype === "boolean" && !column.arraysize) return /^(t|true|1)$/i.test(text.trim()) ? true : /^(f|false|0)$/i.test(text.trim()) ? false : null;
  return text;
}

function base64Bytes(text) {
  const binary = atob(text.replace(/\s+/g, ""));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function readScalar(view, at, datatype) {
  switch (datatype) {
    case "double": return view.getFloat64(at);
    case "float": return view.getFloat32(at);
    case "long": return Number(view.getBigInt64(at));
    case "int": return view.getInt32(at);
    case "short": return view.getInt16(at);
    case "unsignedByte": return view.getUint8(at);
    case "boolean": { const c = String.fromCharCode(view.getUint8(at)); return /[tT1]/.test(c) ? true : /[fF0]/.test(c) ? false : null; }
    default: return String.fromCharCode(view.getUint8(at));
  }
}

function binaryRows(bytes, columns, nullFlags) {
  const view = new DataView(bytes.buffer);
  const rows = [];
  let at = 0;
  const flagBytes = Math.ceil(columns.length / 8);
  while (at < bytes.length) {
    let flags = null;
    if (nullFlags) {
      flags = bytes.subarray(at, at + flagBytes);
      at += flagBytes;
    }
    const row = [];
    columns.forEach((column, i) => {
      const size = SIZES[column.datatype] || 1;
      let count = 1;
      if (column.arraysize) {
        if (column.arraysize.endsWith("*")) {
          count = view.getInt32(at);
          at += 4;
        } else {
          count = column.arraysize.split("x").reduce((a, b) => a * Number.parseInt(b, 10), 1);
        }
      }
      let value;
      if (column.datatype === "char" || column.datatype === "unicodeChar") {
        const chars = [];
        for (let k = 0; k < count; k += 1) chars.push(column.datatype === "char" ? view.getUint8(at + k) : view.getUint16(at + 2 * k));
        value = String.fromCharCode(...chars).replace(/\0.*$/, "");
      } else if (count === 1 && !column.arraysize) {
        value = readScalar(view, at, column.datatype);
        if (typeof value === "number" && Number.isNaN(value)) value = null;
      } else {
        value = Array.from({ length: count }, (_, k) => readScalar(view, at + k * size, column.datatype));
      }
      at += count * size;
      row.push(flags && flags[i >> 3] & (0x80 >> (i & 7)) ? null : value);
    });
    rows.push(row);
  }
  return rows;
}

/** {columns, rows, name} of the first table of a VOTable document's text. */
export function parseVotable(text) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) throw new Error("the table is not a VOTable (XML) document");
  const table = doc.getElementsByTagNameNS("*", "TABLE")[0];
  if (!table) throw new Error("the VOTable holds no TABLE");
  const columns = fieldsOf(table);
  const data = table.getElementsByTagNameNS("*", "DATA")[0];
  let rows = [];
  const tabledata = data?.getElementsByTagNameNS("*", "TABLEDATA")[0];
  const binary2 = data?.getElementsByTagNameNS("*", "BINARY2")[0];
  const binary = data?.getElementsByTagNameNS("*", "BINARY")[0];
  if (tabledata) {
    rows = [...tabledata.children].filter((tr) => tr.localName === "TR").map((tr) =>
      [...tr.children].filter((td) => td.localName === "TD").map((td, i) => cell(td.textContent, columns[i] || {})),
    );
  } else if (binary2 || binary) {
    const stream = (binary2 || binary).getElementsByTagNameNS("*", "STREAM")[0];
    if (stream?.getAttribute("href")) throw new Error("the VOTable's data are in another file, which the portal does not read");
    rows = binaryRows(base64Bytes(stream?.textContent || ""), columns, Boolean(binary2));
  } else if (data) {
    throw new Error("the VOTable's data are FITS-encoded, which the portal does not read");
  }
  return { columns, rows, overflow: false, name: table.getAttribute("name") || "" };
}
