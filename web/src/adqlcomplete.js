// ADQL completion for the editor: the columns of the tables in FROM (by their bare names, and
// after a table's name or alias and a dot), table names after FROM and JOIN, then ADQL's functions
// (the server's own list, user-defined ones included), then the keywords a query is written with:
// never the SQL-92 reserved words that ADQL reserves but does not use (ABSOLUTE, CASCADE, ...).

// The words of ADQL's grammar that a person types; each is offered only if the server reserves it.
const KEYWORDS = [
  "SELECT", "TOP", "DISTINCT", "FROM", "AS", "WHERE", "AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "ILIKE",
  "IS", "NULL", "EXISTS", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "NATURAL", "ON", "USING",
  "GROUP BY", "HAVING", "ORDER BY", "ASC", "DESC", "OFFSET", "UNION", "EXCEPT", "INTERSECT", "ALL", "WITH",
  "CASE", "WHEN", "THEN", "ELSE", "END", "CAST",
];
// Words after which a FROM list's item ends.
const CLAUSES = new Set([
  "WHERE", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "NATURAL", "CROSS", "ON", "USING", "GROUP", "ORDER",
  "HAVING", "UNION", "EXCEPT", "INTERSECT", "OFFSET", "SELECT", "FROM", "AS", "BY", "LIMIT",
]);

/** The tokens of ADQL text: identifiers (dotted, possibly delimited), words, punctuation; strings
 * and comments left out. [{text, upper, from, to, kind}] */
export function tokenize(text) {
  const tokens = [];
  const pattern = /(--[^\n]*)|('(?:[^']|'')*'?)|((?:"(?:[^"]|"")*"?|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")*"?|[A-Za-z_][\w$]*)?)*)|(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)|([(),;*=<>+\-/|.])/g;
  for (const match of text.matchAll(pattern)) {
    if (match[1] || match[2]) continue;
    const kind = match[3] ? "name" : match[4] ? "number" : "punct";
    tokens.push({ text: match[0], upper: match[0].toUpperCase(), from: match.index, to: match.index + match[0].length, kind });
  }
  return tokens;
}

function bare(name) {
  return name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name;
}

/** The tables named in FROM and JOIN anywhere in ``text``: [{name, alias}] (names as written). */
export function tablesInFrom(text, reserved = new Set()) {
  const tokens = tokenize(text);
  const found = [];
  const isWord = (t, word) => t && t.kind === "name" && t.upper === word;
  const keyword = (t) => t && t.kind === "name" && (CLAUSES.has(t.upper) || reserved.has(t.upper));
  for (let i = 0; i < tokens.length; i += 1) {
    const start = tokens[i];
    if (!isWord(start, "FROM") && !isWord(start, "JOIN")) continue;
    let k = i + 1;
    for (;;) {
      const name = tokens[k];
      if (!name || name.kind !== "name" || keyword(name)) break; // a subquery, or nothing yet
      let alias = null;
      k += 1;
      if (isWord(tokens[k], "AS")) k += 1;
      if (tokens[k] && tokens[k].kind === "name" && !keyword(tokens[k]) && !tokens[k].text.includes(".")) {
        alias = tokens[k].text;
        k += 1;
      }
      found.push({ name: name.text, alias });
      if (!isWord(start, "FROM") || !tokens[k] || tokens[k].text !== ",") break;
      k += 1;
    }
  }
  return found;
}

/** ``tables``' entry for a name as written in a query (schema-qualified or not, any case). */
export function findTable(tables, written) {
  const wanted = written.split(".").map(bare).join(".").toLowerCase();
  return (
    tables.find((t) => t.name.toLowerCase() === wanted) ||
    tables.find((t) => t.name.toLowerCase().split(".").pop() === wanted.split(".").pop() && !wanted.includes("."))
  );
}

function columnOption(column, table, boost) {
  return {
    label: column.name,
    type: "property",
    detail: [table.name, column.datatype, column.unit && `[${column.unit}]`].filter(Boolean).join(" "),
    info: column.description || undefined,
    boost,
  };
}

/** The completion source: ``model()`` -> {tables: [{name, columns}], functions: [NAME], keywords: [NAME]}. */
export function adqlCompletionSource(model) {
  return (context) => {
    const word = context.matchBefore(/(?:"[^"]*"?|[\w$]+|\.)(?:\.(?:"[^"]*"?|[\w$]*))*$/);
    if (!context.explicit && (!word || word.from === word.to)) return null;
    const before = context.state.sliceDoc(0, context.pos);
    const quotes = (before.match(/'/g) || []).length;
    if (quotes % 2 === 1 || /--[^\n]*$/.test(before)) return null; // in a string or a comment
    const { tables, functions, keywords } = model();
    const reserved = new Set(keywords);
    const text = context.state.doc.toString();
    const typed = word ? word.text : "";
    const from = word ? word.from : context.pos;
    const dot = typed.lastIndexOf(".");
    if (dot >= 0) {
      // schema.<table>, table.<column>, alias.<column>
      const prefix = typed.slice(0, dot);
      const options = [];
      const used = tablesInFrom(text, reserved);
      const aliased = used.find((u) => u.alias && u.alias.toLowerCase() === bare(prefix).toLowerCase());
      const table = findTable(tables, aliased ? aliased.name : prefix);
      if (table) options.push(...table.columns.map((c) => columnOption(c, table, 30)));
      for (const t of tables) {
        const [schema, name] = t.name.includes(".") ? t.name.split(".", 2) : ["", t.name];
        if (schema && schema.toLowerCase() === bare(prefix).toLowerCase()) options.push({ label: name, type: "type", detail: t.description ? undefined : "table", info: t.description || undefined, boost: 20 });
      }
      return options.length ? { from: from + dot + 1, options, validFor: /^[\w$]*$/ } : null;
    }
    const tokens = tokenize(before.slice(0, from));
    const previous = tokens[tokens.length - 1];
    let clause = null;
    for (let k = tokens.length - 1; k >= 0; k -= 1) {
      if (tokens[k].kind === "name" && ["SELECT", "FROM", "JOIN", "WHERE", "ON", "BY", "HAVING", "USING"].includes(tokens[k].upper)) {
        clause = tokens[k].upper;
        break;
      }
    }
    const wantsTable = previous && ((previous.kind === "name" && ["FROM", "JOIN"].includes(previous.upper)) || (previous.text === "," && clause === "FROM"));
    const options = [];
    if (wantsTable) {
      const schemaNames = new Set();
      for (const t of tables) {
        options.push({ label: t.name, type: "type", info: t.description || undefined, boost: 40 });
        if (t.name.includes(".")) schemaNames.add(t.name.split(".")[0]);
      }
      for (const schema of schemaNames) options.push({ label: schema, type: "namespace", boost: 35 });
    } else {
      // elsewhere, the tables of the FROM clause (to qualify a column), their columns, the functions
      const seen = new Set();
      for (const used of tablesInFrom(text, reserved)) {
        const table = findTable(tables, used.name);
        if (!table) continue;
        if (!used.alias) options.push({ label: used.name, type: "type", info: table.description || undefined, boost: 5 });
        for (const column of table.columns) {
          if (seen.has(column.name.toLowerCase())) continue;
          seen.add(column.name.toLowerCase());
          options.push(columnOption(column, table, 30));
        }
        if (used.alias) options.push({ label: used.alias, type: "variable", detail: `${table.name}`, boost: 10 });
      }
      for (const name of functions) options.push({ label: name, type: "function", apply: `${name}(`, boost: 20 });
    }
    for (const keyword of KEYWORDS) {
      if (keyword.split(" ").every((w) => reserved.has(w))) options.push({ label: keyword, type: "keyword", boost: -10 });
    }
    return { from, options, validFor: /^[\w$]*$/ };
  };
}
