// DataLink {links} documents (a VOTable): the rows of one dataset, by semantics.
import { getXml, serviceUrl } from "./api.js";

export async function links(id) {
  const doc = await getXml(serviceUrl("datalink/links", { ID: id }));
  const names = [...doc.getElementsByTagNameNS("*", "FIELD")].map((f) => f.getAttribute("name"));
  const rows = [...doc.getElementsByTagNameNS("*", "TR")].map((tr) => {
    const cells = [...tr.children].filter((c) => c.localName === "TD").map((td) => td.textContent);
    return Object.fromEntries(names.map((name, i) => [name, cells[i] ?? ""]));
  });
  return rows;
}

/** The #preview link of ``id``, or an Error saying why there is none. */
export async function previewUrl(id) {
  const rows = await links(id);
  const failed = rows.find((r) => r.error_message);
  const preview = rows.find((r) => r.semantics === "#preview" && r.access_url);
  if (preview) return preview.access_url;
  throw new Error(failed ? failed.error_message : `the archive offers no preview of ${id}`);
}
