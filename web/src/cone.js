// The cone search form for catalogues: any published catalogue with a position (the list comes
// from /portal/catalogues.json, the columns from /tap/tables), a position or a name, a radius and
// the columns to return. It runs as ADQL through TAP, nearest first, with the distance as a
// column, so the same query can be opened in the ADQL editor, downloaded or run again by a link.

const PLAIN = /^[A-Za-z][A-Za-z0-9_]*$/;

/** A column or table name as ADQL must write it: delimited when it is not a plain identifier or
 * is a reserved word (``reserved``: a Set of upper-case words); names given delimited stay so. */
export function adqlName(name, reserved) {
  if (name.startsWith('"')) return name;
  return PLAIN.test(name) && !reserved.has(name.toUpperCase()) ? name : `"${name.replaceAll('"', '""')}"`;
}

function number(value) {
  return Number(value.toFixed(8)).toString();
}

/** The ADQL of a cone search: ``columns`` of ``table`` within ``radius`` degrees of (ra, dec),
 * with DISTANCE as ``dist`` (DISTANCE is a reserved word), nearest first. */
export function coneQuery({ table, ra, dec, columns, centre, radius }, reserved = new Set()) {
  const q = (name) => adqlName(name, reserved);
  const point = `POINT('ICRS', ${q(ra)}, ${q(dec)})`;
  const here = `POINT('ICRS', ${number(centre.ra)}, ${number(centre.dec)})`;
  const list = [...columns.map(q), `DISTANCE(${point}, ${here}) AS dist`].join(", ");
  return (
    `SELECT ${list}\nFROM ${table}\n` +
    `WHERE 1 = CONTAINS(${point}, CIRCLE('ICRS', ${number(centre.ra)}, ${number(centre.dec)}, ${number(radius)}))\n` +
    "ORDER BY dist"
  );
}

export class ConeForm {
  /** ``elements``: {table, columns, all, none}; ``tables``: the tables browser's model. */
  constructor(elements) {
    Object.assign(this, elements);
    this.catalogues = [];
    this.tables = [];
    this.table.addEventListener("change", () => this.showColumns());
    this.all.addEventListener("click", () => this.tick(true));
    this.none.addEventListener("click", () => this.tick(false));
  }

  /** ``catalogues``: [{name, ra, dec}] (positions); ``tables``: [{name, columns}]. */
  show(catalogues, tables, wanted = null) {
    this.tables = tables;
    this.catalogues = catalogues.filter((c) => tables.some((t) => t.name.toLowerCase() === c.name.toLowerCase()));
    this.table.replaceChildren(...this.catalogues.map((c) => new Option(c.name, c.name)));
    this.table.disabled = !this.catalogues.length;
    if (!this.catalogues.length) this.table.append(new Option("no catalogue with positions is published", ""));
    const chosen = this.catalogues.find((c) => c.name.toLowerCase() === (wanted || "").toLowerCase());
    if (chosen) this.table.value = chosen.name;
    this.showColumns();
  }

  current() {
    const catalogue = this.catalogues.find((c) => c.name === this.table.value);
    if (!catalogue) return null;
    const table = this.tables.find((t) => t.name.toLowerCase() === catalogue.name.toLowerCase());
    return { catalogue, table };
  }

  showColumns(wanted = null) {
    const found = this.current();
    this.columns.replaceChildren();
    if (!found) return;
    const { catalogue, table } = found;
    const position = new Set([catalogue.ra, catalogue.dec].map((n) => n.toLowerCase().replaceAll('"', "")));
    // By default the principal columns and the identifier; where the table names no principal
    // column besides the position, its first twelve.
    const chosen = table.columns.filter((c) => c.flags?.includes("principal") || /(^|;)meta\.id(;|$)/.test(c.ucd || ""));
    const others = chosen.filter((c) => !position.has(c.name.toLowerCase().replaceAll('"', "")));
    const defaults = new Set((wanted || (others.length ? chosen : table.columns.slice(0, 12)).map((c) => c.name)).map((n) => n.toLowerCase()));
    for (const column of table.columns) {
      const bare = column.name.toLowerCase().replaceAll('"', "");
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = column.name;
      box.checked = position.has(bare) || defaults.has(column.name.toLowerCase());
      if (position.has(bare)) {
        box.disabled = true; // the sky view needs the position
        label.title = "The position is always returned";
      } else if (column.description) {
        label.title = column.description;
      }
      label.append(box, ` ${column.name}`);
      if (column.unit) label.append(Object.assign(document.createElement("span"), { className: "unit", textContent: ` [${column.unit}]` }));
      this.columns.append(label);
    }
  }

  tick(on) {
    for (const box of this.columns.querySelectorAll("input:not(:disabled)")) box.checked = on;
  }

  chosenColumns() {
    return [...this.columns.querySelectorAll("input:checked")].map((box) => box.value);
  }

  /** {query, table} for the form as it is, centred on ``centre`` within ``radius`` degrees. */
  query(centre, radius, reserved) {
    const found = this.current();
    if (!found) throw new Error("Choose a catalogue: this archive publishes none with positions yet");
    const { catalogue } = found;
    return {
      table: catalogue.name,
      query: coneQuery({ table: catalogue.name, ra: catalogue.ra, dec: catalogue.dec, columns: this.chosenColumns(), centre, radius }, reserved),
    };
  }
}
