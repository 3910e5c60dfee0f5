// "Open in TOPCAT / Aladin / pyvo": the current query as its URL (a VOTable any client reads)
// and as what each tool takes (TAP service and ADQL, a STILTS command, a pyvo snippet), to copy.
import { serviceUrl } from "./api.js";

const python = (text) => `"""${text.replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"')}"""`;
const shell = (text) => `'${text.replace(/'/g, "'\\''")}'`;

/** [{tool, how, text}] for ``source.interop``: {kind: "adql", query, maxrec} or {kind: "sia", params}. */
export function snippets(source) {
  const spec = source?.interop;
  if (!spec) return [];
  const votable = source.download ? source.download("votable") : null;
  const tap = serviceUrl("tap");
  const items = [];
  if (votable) {
    items.push({ tool: "TOPCAT", how: "File → Load Table, Location (or send it with SAMP)", text: votable });
    items.push({ tool: "Aladin", how: "File → Open URL (or send it with SAMP)", text: votable });
  }
  if (spec.kind === "adql") {
    items.push({ tool: "TOPCAT (TAP)", how: "VO → Table Access Protocol (TAP) Query: this TAP URL, then the ADQL", text: `${tap}\n\n${spec.query}` });
    items.push({ tool: "STILTS", how: "the same query from a shell", text: `stilts tapquery tapurl=${shell(tap)} maxrec=${spec.maxrec} \\\n  adql=${shell(spec.query)} out=result.vot` });
    items.push({
      tool: "pyvo",
      how: "Python",
      text: `import pyvo\n\ntap = pyvo.dal.TAPService("${tap}")\nresult = tap.search(${python(spec.query)}, maxrec=${spec.maxrec})\ntable = result.to_table()`,
    });
  } else if (spec.kind === "sia") {
    const p = spec.params;
    const [, ra, dec, radius] = p.POS.split(" ");
    const args = [`pos=(${ra} * u.deg, ${dec} * u.deg, ${radius} * u.deg)`];
    if (p.BAND) args.push(`band=(${p.BAND.split(" ").map((v) => `${v} * u.m`).join(", ")})`);
    if (p.TIME) args.push(`time=Time([${p.TIME.split(" ").map((v) => (/inf/i.test(v) ? "None" : v)).join(", ")}], format="mjd")`);
    if (p.INSTRUMENT) args.push(`instrument="${p.INSTRUMENT}"`);
    if (p.COLLECTION) args.push(`collection="${p.COLLECTION}"`);
    args.push(`maxrec=${p.MAXREC}`);
    items.push({
      tool: "pyvo",
      how: "Python (SIA 2.0)",
      text: `import astropy.units as u\nimport pyvo${p.TIME ? "\nfrom astropy.time import Time" : ""}\n\nsia = pyvo.dal.SIA2Service("${serviceUrl("sia")}")\nresult = sia.search(${args.join(", ")})\ntable = result.to_table()`,
    });
  }
  return items;
}

/** Fill ``body`` with one labelled, selectable snippet per tool. */
export function showSnippets(body, source) {
  const items = snippets(source);
  body.replaceChildren();
  if (!items.length) {
    body.textContent = "Run a search or a query first: its URL and snippets appear here.";
    return;
  }
  items.forEach((item, i) => {
    const id = `open-in-${i}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.innerHTML = "<strong></strong> <span class='hint'></span>";
    label.querySelector("strong").textContent = item.tool;
    label.querySelector("span").textContent = item.how;
    const text = document.createElement("textarea");
    text.id = id;
    text.readOnly = true;
    text.rows = Math.min(8, item.text.split("\n").length + 1);
    text.value = item.text;
    text.spellcheck = false;
    text.addEventListener("focus", () => text.select());
    body.append(label, text);
  });
}
