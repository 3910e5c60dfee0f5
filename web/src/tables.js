// The tables browser: the schemas and tables of the archive's TAP_SCHEMA, as /tap/tables
// (VODataService) describes them, and each table's columns with datatype, unit, UCD and
// description. The same model feeds the editor's completion. The archive's data come first (its
// own catalogues, then ObsCore); TAP_SCHEMA and the registry tables are folded away under
// "Service metadata".

// Schemas that describe the services rather than hold data.
const METADATA_SCHEMAS = new Set(["tap_schema", "rr"]);

/** Data schemas first (the archive's own, then ivoa), the service metadata last. */
export function schemaOrder(schemas) {
  const rank = (s) => (METADATA_SCHEMAS.has(s.name.toLowerCase()) ? 2 : s.name.toLowerCase() === "ivoa" ? 1 : 0);
  return [...schemas].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

function child(node, name) {
  for (const c of node.children) if (c.localName === name) return c;
  return null;
}

function children(node, name) {
  return [...node.children].filter((c) => c.localName === name);
}

function text(node, name) {
  const c = child(node, name);
  return c ? c.textContent.trim() : "";
}

/** [{name, description, tables: [{name, description, columns: [{name, datatype, unit, ucd, description}]}]}] */
export function parseTableset(doc) {
  const root = doc.documentElement;
  return children(root, "schema").map((schema) => ({
    name: text(schema, "name"),
    description: text(schema, "description"),
    tables: children(schema, "table").map((table) => ({
      name: text(table, "name"),
      description: text(table, "description"),
      columns: children(table, "column").map((column) => {
        const type = child(column, "dataType");
        const size = type && type.getAttribute("arraysize");
        return {
          name: text(column, "name"),
          datatype: type ? type.textContent.trim() + (size && size !== "1" ? `[${size}]` : "") : "",
          xtype: type ? type.getAttribute("extendedType") || "" : "",
          unit: text(column, "unit"),
          ucd: text(column, "ucd"),
          description: text(column, "description"),
          flags: children(column, "flag").map((f) => f.textContent.trim()),
        };
      }),
    })),
  }));
}

function element(tag, attributes = {}, content = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) if (value !== null && value !== undefined) node.setAttribute(key, value);
  if (content !== null) node.textContent = content;
  return node;
}

export class TablesBrowser {
  constructor({ list, detail, onChoose, onQuery }) {
    Object.assign(this, { list, detail, onChoose, onQuery });
    this.schemas = [];
    this.current = null;
  }

  get tables() {
    return this.schemas.flatMap((s) => s.tables);
  }

  show(schemas) {
    this.schemas = schemaOrder(schemas);
    const item = (schema) => {
      const li = element("li");
      li.append(element("span", { class: "schema", title: schema.description || null }, schema.name));
      const ul = element("ul");
      for (const table of schema.tables) {
        // shown without its schema, which heads the list; named in full for screen readers and tests
        const short = table.name.toLowerCase().startsWith(`${schema.name.toLowerCase()}.`) ? table.name.slice(schema.name.length + 1) : table.name;
        const button = element("button", { type: "button", "data-table": table.name, "aria-pressed": "false", "aria-label": table.name, title: table.description || null }, short);
        button.addEventListener("click", () => this.choose(table.name));
        ul.append(element("li"));
        ul.lastChild.append(button);
      }
      li.append(ul);
      return li;
    };
    const data = this.schemas.filter((s) => !METADATA_SCHEMAS.has(s.name.toLowerCase()));
    const metadata = this.schemas.filter((s) => METADATA_SCHEMAS.has(s.name.toLowerCase()));
    const items = data.map(item);
    if (metadata.length) {
      const li = element("li", { class: "metadata" });
      const details = element("details");
      details.append(element("summary", {}, "Service metadata"), element("p", { class: "hint" }, "The tables that describe the services (TAP_SCHEMA, the registry)"));
      const ul = element("ul", { class: "schemas" });
      ul.append(...metadata.map(item));
      details.append(ul);
      li.append(details);
      items.push(li);
    }
    this.list.replaceChildren(...items);
  }

  choose(name) {
    const table = this.tables.find((t) => t.name.toLowerCase() === String(name).toLowerCase());
    if (!table) return false;
    this.current = table.name;
    for (const button of this.list.querySelectorAll("button[data-table]")) {
      const on = button.dataset.table === table.name;
      button.setAttribute("aria-pressed", String(on));
      if (on) {
        const folded = button.closest("details");
        if (folded) folded.open = true;
        button.scrollIntoView({ block: "nearest" });
      }
    }
    const heading = element("h3", { id: "table-detail-heading" }, table.name);
    const description = element("p", {}, table.description || "");
    const query = element("button", { type: "button" }, `Query ${table.name}`);
    query.addEventListener("click", () => this.onQuery(table));
    const grid = element("table", { "aria-label": `Columns of ${table.name}`, class: "columns" });
    const head = grid.createTHead().insertRow();
    for (const label of ["Column", "Datatype", "Unit", "UCD", "Description"]) head.append(element("th", { scope: "col" }, label));
    const body = grid.createTBody();
    for (const column of table.columns) {
      const tr = body.insertRow();
      for (const value of [column.name, column.datatype + (column.xtype ? ` (${column.xtype})` : ""), column.unit, column.ucd, column.description]) {
        tr.append(element("td", {}, value));
      }
    }
    this.detail.replaceChildren(heading, description, query, grid);
    this.onChoose(table);
    return true;
  }
}
