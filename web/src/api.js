// Talking to the archive's own services, same origin, relative to the portal's page (so a site
// served under a path prefix works too). Every failure becomes a ServiceError whose message is
// the service's own, read from its error document; never a stack trace or a page of HTML.

export class ServiceError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

export function serviceUrl(path, params) {
  const url = new URL(path, document.baseURI);
  if (params) {
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, String(value));
    }
  }
  return url.href;
}

function textOf(node) {
  return node ? node.textContent.trim() : "";
}

/** The message of a DALI error VOTable (QUERY_STATUS=ERROR), a UWS job's errorSummary, or a
 * plain-text answer (SODA). */
export function errorMessage(text, contentType) {
  const type = (contentType || "").toLowerCase();
  if (type.includes("xml") || text.trimStart().startsWith("<?xml") || text.trimStart().startsWith("<VOTABLE")) {
    const doc = new DOMParser().parseFromString(text, "application/xml");
    for (const info of doc.getElementsByTagNameNS("*", "INFO")) {
      if (info.getAttribute("name") === "QUERY_STATUS" && info.getAttribute("value") === "ERROR") {
        return textOf(info) || "the service reported an error without a message";
      }
    }
    const summary = doc.getElementsByTagNameNS("*", "message")[0];
    if (summary) return textOf(summary);
  }
  if (type.includes("html")) {
    const doc = new DOMParser().parseFromString(text, "text/html");
    return textOf(doc.querySelector("h1, title")) || "the service answered with a page instead of a result";
  }
  const firstLines = text.trim().split("\n").slice(0, 3).join(" ");
  return firstLines.slice(0, 500) || "the service sent an empty answer";
}

async function failure(response) {
  const text = await response.text().catch(() => "");
  const message = errorMessage(text, response.headers.get("content-type"));
  const prefix = response.status >= 500 ? `The service failed (${response.status}): ` : "";
  return new ServiceError(prefix + message, response.status);
}

export async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ServiceError(`The archive could not be reached (${error.message}); is the server running?`);
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getText(url, options) {
  return (await request(url, options)).text();
}

export async function getXml(url, options) {
  const text = await getText(url, options);
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) throw new ServiceError(`${url} is not an XML document`);
  return doc;
}

/** Numbers past 2**53 are kept exact (as BigInt) where the browser gives the reviver the number's
 * text (Chromium 114, Firefox 135); sorting and display then work on the exact value. */
function exactNumbers(key, value, context) {
  if (typeof value === "number" && context && typeof context.source === "string" && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return /^-?\d+$/.test(context.source) ? BigInt(context.source) : value;
  }
  return value;
}

/** A JSON table answer ({metadata, data, overflow, error}) of /tap/sync, /sia/query or a job. */
export async function readTable(response) {
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text, exactNumbers);
  } catch {
    throw new ServiceError(errorMessage(text, response.headers.get("content-type")));
  }
  if (body.error) throw new ServiceError(`The query failed after its first rows: ${body.error}`);
  return { columns: body.metadata, rows: body.data, overflow: Boolean(body.overflow) };
}

export function form(params) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") body.set(key, String(value));
  }
  return body;
}
